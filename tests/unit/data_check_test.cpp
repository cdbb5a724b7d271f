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
