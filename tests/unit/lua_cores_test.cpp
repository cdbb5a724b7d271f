// Lua on every core: Lua mapping functions map the parts of a split input each on a Lua
// state of its own, and Lua rules are evaluated ahead on several states; what comes out
// (records, rejects with file:line, verdicts, the sealed audit log) is what one thread gives.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <set>

#include "bindings/stack_loader.hpp"
#include "engine/audit/db.hpp"
#include "engine/mapping/mapper.hpp"
#include "engine/run/runner.hpp"
#include "engine/script/script_pool.hpp"
#include "engine/util/result.hpp"
#include "tests/support.hpp"

using namespace seam;
using seam::test::TempDir;
using seam::test::write_file;

namespace {

// Line 10 raises on every 13th row, line 11 loops for ever on row 77, line 33 raises.
const char* kStack = R"(stack "cores"

system "shop" {
  source = ndjson { path = "shop.ndjson" },
  id = "id",
  fields = {
    id = "id",
    ref = function(row)
      local n = tonumber(row["n"])
      if n % 13 == 0 then error("no ref for row " .. n) end
      if n == 77 then while true do end end
      return "R" .. row["n"]
    end,
    amount = money { column = "amount", currency = "USD" },
  },
}

system "erp" {
  source = ndjson { path = "erp.ndjson" },
  id = "id",
  fields = { id = "id", ref = "ref", amount = money { column = "amount", currency = "USD" } },
}

reconcile "r" {
  left = "shop", right = "erp",
  match = { left = "ref", right = "ref" },
  rules = {
    exists_in { "right" },
    amount_equal { field = "amount" },
    rule("sevens", function(g)
      if not g.l or not g.r then return skip("one side only") end
      if g.l.amount.minor % 7 == 0 then return fail("divisible by seven: " .. g.key, { actual = tostring(g.l.amount.minor) }) end
      if g.l.amount.minor % 11 == 0 then error("cannot judge " .. g.key) end
      return pass()
    end),
  },
}
)";

constexpr int kRows = 200;

void write_stack(const TempDir& dir) {
  write_file(dir / "stack.lua", kStack);
  std::string shop, erp;
  for (int n = 1; n <= kRows; ++n) {
    std::string amount = std::to_string(n) + "." + (n % 10 == 3 ? "05" : "00");
    shop += "{\"id\":\"S" + std::to_string(n) + "\",\"n\":\"" + std::to_string(n) + "\",\"amount\":\"" + amount + "\"}\n";
    if (n % 17 != 0)
      erp += "{\"id\":\"E" + std::to_string(n) + "\",\"ref\":\"R" + std::to_string(n) + "\",\"amount\":\"" +
             std::to_string(n) + ".00\"}\n";
  }
  write_file(dir / "shop.ndjson", shop);
  write_file(dir / "erp.ndjson", erp);
}

std::vector<std::string> describe(const SystemSpec& sys, const MappedInput& in) {
  std::vector<std::string> out;
  for (size_t r = 0; r < in.records.size(); ++r) {
    std::string line = std::to_string(in.records.line(r)) + " " + std::string(in.records.id(r));
    for (size_t f = 0; f < sys.fields.size(); ++f) line += " " + display(in.records.get(r, f));
    out.push_back(line);
  }
  for (const auto& rej : in.rejects) out.push_back(std::to_string(rej.line) + ": " + rej.reason + " | " + rej.raw);
  out.push_back(std::to_string(in.stats.read) + "/" + std::to_string(in.stats.accepted) + "/" +
                std::to_string(in.stats.rejected) + "/" + std::to_string(in.stats.skipped));
  return out;
}

std::vector<std::string> query(const std::string& db_path, const std::string& sql) {
  Db db(db_path, false);
  Statement s(db, sql);
  std::vector<std::string> out;
  while (s.step()) {
    std::string row;
    for (int c = 0; c < s.columns(); ++c) row += (c ? "|" : "") + s.text_at(c);
    out.push_back(row);
  }
  return out;
}

}  // namespace

TEST_CASE("lua cores: a pool lends a Lua state of its own to each thread, running the same functions") {
  TempDir dir;
  write_stack(dir);
  LoadedStack stack = load_stack(dir.path());
  ScriptPool pool(stack.host.get(), 3);
  REQUIRE(pool.capacity() == 3);
  std::vector<ScriptPool::Lease> leases;
  for (int i = 0; i < 3; ++i) leases.push_back(pool.acquire());
  std::set<ScriptHost*> hosts;
  for (auto& l : leases) hosts.insert(l.get());
  CHECK(hosts.size() == 3);
  CHECK(hosts.count(stack.host.get()) == 1);  // the stack's own host is one of them
  const SystemSpec& shop = stack.spec.systems.at(0);
  const int fn = shop.fields.at(static_cast<size_t>(shop.field_index("ref"))).lua_fn;
  class OneRow final : public RowAccess {
   public:
    std::optional<std::string_view> column(const std::string& name) override {
      return name == "n" ? std::optional<std::string_view>("42") : std::nullopt;
    }
  };
  std::vector<std::future<std::string>> results;
  for (auto& l : leases)
    results.push_back(std::async(std::launch::async, [h = l.get(), fn] {
      OneRow row;
      StringArena arena;
      return display(h->map_field(fn, row, arena));
    }));
  for (auto& r : results) CHECK(r.get() == "R42");
}

TEST_CASE("lua cores: a split input mapped by Lua on several states gives the records and rejects of one thread") {
  TempDir dir;
  write_stack(dir);
  LoadedStack stack = load_stack(dir.path());
  const SystemSpec& sys = stack.spec.systems.at(0);
  const std::vector<std::string> expected = describe(sys, map_system(sys, stack.host.get(), MapOptions{1}));
  // 200 read: 15 raise (every 13th row), row 77 runs away, the other 184 are kept.
  REQUIRE(expected.back() == "200/184/16/0");
  CHECK(expected[0] == "1 S1 1.00 USD S1 R1");  // fields in name order: amount, id, ref
  const std::string at = dir.path() + "/stack.lua:";
  CHECK(expected[184] == "13: mapping function for field 'ref' failed: " + at + "10: no ref for row 13 | "
                         "{\"id\":\"S13\",\"n\":\"13\",\"amount\":\"13.05\"}");
  CHECK(expected[189] == "77: mapping function for field 'ref' failed: " + at + "11: rule stopped: instruction budget "
                         "of 20000000 exceeded (endless loop?) | {\"id\":\"S77\",\"n\":\"77\",\"amount\":\"77.00\"}");
  for (size_t threads : {2, 4}) {
    CAPTURE(threads);
    ScriptPool pool(stack.host.get(), threads);
    REQUIRE(pool.capacity() == threads);
    CHECK(describe(sys, map_system(sys, stack.host.get(), MapOptions{threads, 1, &pool})) == expected);
  }
}

TEST_CASE("lua cores: a run on four threads writes the verdicts and the seal of a run on one") {
  TempDir dir;
  write_stack(dir);
  ::setenv("SEAM_NOW", "2026-03-01T00:00:00Z", 1);
  auto run = [&](size_t threads, const std::string& db) {
    RunOptions o;
    o.stack_path = dir.path();
    o.db_path = dir / db;
    o.parallel = Parallelism{threads, 1, 5};  // parts of one byte and five groups: every part path taken
    return run_stack(o);
  };
  RunReport one = run(1, "one.db");
  RunReport four = run(4, "four.db");
  ::unsetenv("SEAM_NOW");
  const std::string verdicts =
      "SELECT group_no, group_key, rule, outcome, coalesce(message, ''), coalesce(actual, '') FROM verdicts "
      "ORDER BY group_no, position";
  std::vector<std::string> v1 = query(dir / "one.db", verdicts);
  CHECK(v1.size() == 4 * 200);  // 184 shop groups and 16 ERP-only ones, four rules (with cardinality)
  CHECK(std::find(v1.begin(), v1.end(), "6|R7|sevens|fail|divisible by seven: R7|700") != v1.end());
  CHECK(std::find(v1.begin(), v1.end(),
                  "10|R11|sevens|error|rule raised an error: " + dir.path() + "/stack.lua:33: cannot judge R11|") !=
        v1.end());
  CHECK(query(dir / "four.db", verdicts) == v1);
  const std::string rejects = "SELECT system, line, reason FROM rejects ORDER BY system, line";
  CHECK(query(dir / "four.db", rejects) == query(dir / "one.db", rejects));
  CHECK(query(dir / "one.db", rejects).size() == 16);
  CHECK(!one.seal.empty());
  CHECK(four.seal == one.seal);
  CHECK(four.counts.of(Outcome::Error) == one.counts.of(Outcome::Error));
}

TEST_CASE("lua cores: SEAM_THREADS sets the thread count, and a value that is not a count is refused") {
  ::setenv("SEAM_THREADS", "3", 1);
  CHECK(thread_count(Parallelism{}) == 3);
  CHECK(thread_count(Parallelism{1}) == 1);  // an explicit count wins
  ::setenv("SEAM_THREADS", "0", 1);
  CHECK_THROWS_WITH_AS(thread_count(Parallelism{}),
                       "SEAM_THREADS is '0': expected a whole number of threads, 1 or more (unset it to use every core)",
                       UserError);
  ::setenv("SEAM_THREADS", "2x", 1);
  CHECK_THROWS_AS(thread_count(Parallelism{}), UserError);
  ::unsetenv("SEAM_THREADS");
  CHECK(thread_count(Parallelism{}) >= 2);
}

TEST_CASE("lua cores: a windowed run evaluates Lua rules on the same groups on four threads as on one") {
  TempDir dir;
  write_file(dir / "stack.lua", R"(stack "window"
system "a" {
  source = csv { path = "a.csv" }, id = "id", record_time = "at",
  fields = { id = "id", at = time { column = "at", format = "iso8601" } },
}
system "b" { source = csv { path = "b.csv" }, id = "id", fields = { id = "id" } }
reconcile "r" {
  left = "a", right = "b", match = { left = "id", right = "id" },
  rules = { rule("seen", function(g) return fail("judged " .. g.key) end) },
}
)");
  std::string a = "id,at\n", b = "id\n";
  for (int d = 1; d <= 28; ++d) {
    std::string day = (d < 10 ? "0" : "") + std::to_string(d);
    a += "A" + day + ",2026-02-" + day + "T12:00:00Z\n";
    b += "A" + day + "\n";
  }
  write_file(dir / "a.csv", a);
  write_file(dir / "b.csv", b);
  auto format = *make_time_format("iso8601", "UTC");
  auto run = [&](size_t threads) {
    RunOptions o;
    o.stack_path = dir.path();
    o.db_path = dir / ("w" + std::to_string(threads) + ".db");
    o.window.since = *parse_time("2026-02-10T00:00:00Z", format);
    o.window.until = *parse_time("2026-02-20T00:00:00Z", format);
    o.parallel = Parallelism{threads, 1, 3};
    RunReport r = run_stack(o);
    std::vector<std::string> judged;
    for (const auto& f : r.reconciles.at(0).findings) judged.push_back(f.rule + " " + f.verdict.message);
    judged.push_back(std::to_string(r.reconciles.at(0).groups) + " in, " +
                     std::to_string(r.reconciles.at(0).outside_window) + " outside");
    return judged;
  };
  std::vector<std::string> one = run(1);
  REQUIRE(one.size() == 11);
  CHECK(one.front() == "seen judged A10");
  CHECK(one[9] == "seen judged A19");
  CHECK(one.back() == "10 in, 18 outside");
  CHECK(run(4) == one);
}

TEST_CASE("lua cores: the states of other threads run the stack's texts as loaded, not files changed since") {
  TempDir dir;
  write_file(dir / "lib/tag.lua", "function tag(n) return 'v1-' .. n end\n");
  write_file(dir / "stack.lua", R"(stack "pinned"
include "lib/tag.lua"
system "s" { source = csv { path = "s.csv" }, id = "id", fields = { id = "id", t = function(row) return tag(row["n"]) end } }
)");
  LoadedStack stack = load_stack(dir.path());
  write_file(dir / "lib/tag.lua", "function tag(n) return 'v2-' .. n end\n");  // edited while the run goes on
  ScriptPool pool(stack.host.get(), 2);
  REQUIRE(pool.capacity() == 2);
  auto first = pool.acquire();
  auto second = pool.acquire();
  REQUIRE(first.get() != second.get());
  const SystemSpec& sys = stack.spec.systems.at(0);
  const int fn = sys.fields.at(static_cast<size_t>(sys.field_index("t"))).lua_fn;
  class Row final : public RowAccess {
   public:
    std::optional<std::string_view> column(const std::string& name) override {
      return name == "n" ? std::optional<std::string_view>("7") : std::nullopt;
    }
  };
  for (auto* h : {first.get(), second.get()}) {
    Row row;
    StringArena arena;
    CHECK(display(h->map_field(fn, row, arena)) == "v1-7");
  }
}

TEST_CASE("lua cores: when another state cannot be loaded, the pool lends the first alone") {
  TempDir dir;
  write_file(dir / "lib/tag.lua", "function tag(n) return n end\n");
  write_file(dir / "stack.lua", "stack \"gone\"\ninclude \"lib/tag.lua\"\n");
  LoadedStack stack = load_stack(dir.path());
  std::filesystem::remove(dir / "lib/tag.lua");  // the include cannot be resolved again
  ScriptPool pool(stack.host.get(), 4);
  CHECK(pool.capacity() == 1);
  auto only = pool.acquire();
  CHECK(only.get() == stack.host.get());
}
