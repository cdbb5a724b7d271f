// The pieces of `seam check --data` that need no files: JSON paths seen in a row, and the
// nearest of them to a declared path.
#include <doctest/doctest.h>

#include "engine/run/data_check.hpp"

using namespace seam;

TEST_CASE("json_value_paths names each value's path as the JSON connectors do, leaving out nulls") {
  std::set<std::string> paths;
  json_value_paths(R"( {"id": "A", "amount": 12.5, "customer": {"id": 7, "tag": null},
                        "lines": [{"sku": "S1"}, {"sku": "S2", "qty": 2}], "ok": true, "empty": {}, "list": [],
                        "we\"ird": "x", "esc\u0041": 1} )",
                   paths);
  CHECK(std::vector<std::string>(paths.begin(), paths.end()) ==
        std::vector<std::string>{"amount", "customer.id", "escA", "id", "lines[0].sku", "lines[1].qty",
                                 "lines[1].sku", "ok", "we\"ird"});
}

TEST_CASE("json_value_paths keeps what it read before a fault, and stops at the cap") {
  std::set<std::string> paths;
  json_value_paths(R"({"a": 1, "b": {"c": 2, "d": )", paths);
  CHECK(std::vector<std::string>(paths.begin(), paths.end()) == std::vector<std::string>{"a", "b.c"});
  paths.clear();
  json_value_paths(R"({"a": 1, "b": 2, "c": 3})", paths, 2);
  CHECK(paths.size() == 2);
  paths.clear();
  json_value_paths("[1, 2]", paths);  // not an object: no row paths
  CHECK(paths.empty());
}

TEST_CASE("nearest_name is the candidate fewest edits away, the first of equals") {
  CHECK(nearest_name("amount_cents", {"id", "amount_cent", "currency"}) == "amount_cent");
  CHECK(nearest_name("charge.state", {"charge.status", "id"}) == "charge.status");
  CHECK(nearest_name("zzz", {"ab", "cd"}) == "ab");
  CHECK(nearest_name("x", {}) == "");
}

#include "engine/run/profile.hpp"

TEST_CASE("profile: rule tallies of several threads add up, and each rule gets one line") {
  RuleTally a(2), b(2);
  a.add(0, 1'500'000);
  a.add(1, 10'000);
  b.add(0, 500'000);
  b.add(0, 1'000'000);
  a.merge(b);
  CHECK(a.ns == std::vector<int64_t>{3'000'000, 10'000});
  CHECK(a.calls == std::vector<uint64_t>{3, 1});
  RunProfile p;
  p.mappings.push_back({"shop", 2'000'000'000, 1000});
  p.matches.push_back({"r", 250'000});
  p.add_rules("r", {"amount equal", "posted once"}, a);
  p.write_ns = 4'000'000;
  p.seal_ns = 12'345'678;
  CHECK(p.render() ==
        "profile: map shop: 2000.000 ms wall, 1000 rows, 500 rows/s\n"
        "profile: match r: 0.250 ms\n"
        "profile: rule r / amount equal: 3.000 ms, 3 calls, 1000.00 \xC2\xB5s/call\n"
        "profile: rule r / posted once: 0.010 ms, 1 call, 10.00 \xC2\xB5s/call\n"
        "profile: write: 4.000 ms\n"
        "profile: seal: 12.346 ms\n");
}
