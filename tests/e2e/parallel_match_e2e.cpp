// The real binary on inputs large enough for the hash join to run in partitions on every
// core (65,536 records or more): SEAM_THREADS=1 and SEAM_THREADS=2 form the same groups, in
// the same order, and write the same verdicts, exceptions and seal. The ERP's rows come in
// an order of their own, some refunds never reach it, some reach it twice, and some of its
// refunds have no storefront refund.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <numeric>

#include "tests/e2e/e2e_support.hpp"

using namespace seam;
using namespace seam::test;

namespace {

constexpr int kRefunds = 40'000;

const char* kStack = R"(stack "parallel-match"

system "storefront" {
  source = csv { path = "storefront.csv" },
  id = "refund_id",
  fields = { refund_id = "refund_id", amount = money { column = "amount", currency = "USD" } },
}

system "erp" {
  source = ndjson { path = "erp.ndjson" },
  id = "internal_id",
  fields = { internal_id = "internalId", external_ref = "ref", amount = money { column = "total", currency = "USD" } },
}

reconcile "refunds" {
  left = "storefront", right = "erp",
  match = { left = "refund_id", right = "external_ref", cardinality = "one_to_one" },
  rules = {
    exists_in { "right" },
    exists_in { "left" },
    amount_equal { field = "amount" },
    unique { "right", name = "posted once" },
  },
}
)";

struct Seeded {
  int missing = 0, twice = 0, erp_only = 0, amount_off = 0;
  std::vector<std::string> erp_only_in_file_order;  // the keys only the ERP has, as its file lists them
};

Seeded write_stack(const std::string& dir) {
  std::filesystem::create_directories(dir);
  write_file(dir + "/stack.lua", kStack);
  Seeded s;
  std::string shop = "refund_id,amount\n";
  std::vector<std::string> erp;
  for (int i = 0; i < kRefunds; ++i) {
    const std::string key = "R" + std::to_string(1'000'000 + i), amount = std::to_string(i % 900 + 1) + ".25";
    shop += key + "," + amount + "\n";
    auto row = [&](const std::string& total) {
      return "{\"internalId\":\"CR-" + std::to_string(erp.size() + 1) + "\",\"ref\":\"" + key + "\",\"total\":\"" +
             total + "\"}\n";
    };
    if (i % 53 == 0) {
      ++s.missing;
      continue;
    }
    if (i % 101 == 0) {
      erp.push_back(row(amount));
      ++s.twice;
    }
    if (i % 211 == 0 && i % 101 != 0) {  // a refund posted twice keeps its amount
      erp.push_back(row(std::to_string(i % 900 + 2) + ".25"));
      ++s.amount_off;
    } else {
      erp.push_back(row(amount));
    }
  }
  for (int k = 0; k < kRefunds / 200; ++k, ++s.erp_only)
    erp.push_back("{\"internalId\":\"CX-" + std::to_string(k) + "\",\"ref\":\"R0" + std::to_string(k) +
                  "\",\"total\":\"9.99\"}\n");
  // An order of the ERP's own: a fixed permutation, so the run is the same each time.
  std::string ndjson;
  for (size_t k = 0, n = erp.size(); k < n; ++k) {
    const std::string& row = erp[(k * 7919) % n];
    ndjson += row;
    if (row.find("CX-") != std::string::npos)
      s.erp_only_in_file_order.push_back(row.substr(row.find("\"R0") + 1, row.find("\",\"total") - row.find("\"R0") - 1));
  }
  REQUIRE(std::gcd(size_t{7919}, erp.size()) == 1);
  write_file(dir + "/storefront.csv", shop);
  write_file(dir + "/erp.ndjson", ndjson);
  return s;
}

}  // namespace

TEST_CASE("e2e parallel match: a join on two threads writes the groups, verdicts, exceptions and seal of one") {
  TempDir dir;
  const Seeded seeded = write_stack(dir / "s");
  const std::string now = "SEAM_NOW=2026-04-01T00:00:00Z";
  auto one = run_seam(dir.path(), "run s --db one.db", now + " SEAM_THREADS=1");
  auto two = run_seam(dir.path(), "run s --db two.db", now + " SEAM_THREADS=2");
  CHECK(one.exit == 1);
  CHECK(two.exit == 1);
  std::string out2 = two.out;
  for (size_t at; (at = out2.find("two.db")) != std::string::npos;) out2.replace(at, 6, "one.db");
  CHECK(out2 == one.out);

  Db db1(dir / "one.db", false), db2(dir / "two.db", false);
  // What was seeded is what fails, on one thread and on two.
  const std::string failures = "SELECT rule, count(*) FROM verdicts WHERE outcome = 'fail' GROUP BY rule ORDER BY rule";
  const std::vector<std::string> expected = {
      "amount equal|" + std::to_string(seeded.amount_off),
      "exists in left|" + std::to_string(seeded.erp_only),
      "exists in right|" + std::to_string(seeded.missing),
      "posted once|" + std::to_string(seeded.twice),
  };
  CHECK(rows(db1, failures) == expected);
  CHECK(rows(db2, failures) == expected);
  CHECK(rows(db1, "SELECT count(*) FROM groups") ==
        std::vector<std::string>{std::to_string(kRefunds + seeded.erp_only)});

  const std::string groups = "SELECT group_no, group_key, left_ids, right_ids FROM groups ORDER BY group_no";
  std::vector<std::string> g1 = rows(db1, groups);
  REQUIRE(g1.size() == size_t(kRefunds + seeded.erp_only));
  CHECK(g1.front() == "0|R1000000|[\"R1000000\"]|[]");  // refund 0 never reached the ERP
  // Then the groups only the ERP has, in the order of its file.
  REQUIRE(seeded.erp_only_in_file_order.size() == size_t(seeded.erp_only));
  for (int k = 0; k < seeded.erp_only; ++k) {
    const std::string& key = seeded.erp_only_in_file_order[size_t(k)];
    CHECK(g1[size_t(kRefunds + k)] == std::to_string(kRefunds + k) + "|" + key + "|[]|[\"CX-" + key.substr(2) + "\"]");
  }
  CHECK(rows(db2, groups) == g1);
  const std::string verdicts =
      "SELECT group_no, group_key, rule, outcome, coalesce(message, '') FROM verdicts ORDER BY group_no, position";
  CHECK(rows(db2, verdicts) == rows(db1, verdicts));
  const std::string exceptions = "SELECT id, group_key, rule, left_ids, right_ids, message FROM exceptions ORDER BY id";
  CHECK(rows(db2, exceptions) == rows(db1, exceptions));
  CHECK(rows(db2, "SELECT seal FROM runs") == rows(db1, "SELECT seal FROM runs"));
}
