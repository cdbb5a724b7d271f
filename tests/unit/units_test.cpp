#include <doctest/doctest.h>

#include "engine/run/runner.hpp"
#include "engine/value/units.hpp"
#include "tests/support.hpp"

using namespace seam;
using seam::test::TempDir;
using seam::test::write_file;

namespace {
UnitTable table() {
  UnitTable u;
  u.base = "each";
  u.per_unit = {{"case", 12}, {"pallet", 480}};
  u.per_sku = {{"SKU-9", {{"case", 6}}}};
  return u;
}
}  // namespace

TEST_CASE("units: quantities become whole base units, per SKU where declared") {
  UnitTable u = table();
  CHECK(*to_base_units("47", "each", "SKU-1", u) == 47);
  CHECK(*to_base_units("4", "case", "SKU-1", u) == 48);
  CHECK(*to_base_units("4", "case", "SKU-9", u) == 24);  // this SKU ships in cases of 6
  CHECK(*to_base_units(" 2.5 ", "case", "", u) == 30);
  CHECK(*to_base_units("-1", "pallet", "SKU-1", u) == -480);
  CHECK(to_base_units("0.5", "each", "", u).error() == "0.5 each is not a whole number of each");
  CHECK(to_base_units("3", "box", "SKU-1", u).error() ==
        "no conversion from unit 'box' to each for SKU-1 (declared: each, case, pallet)");
  CHECK(to_base_units("3", "box", "", u).error() == "no conversion from unit 'box' to each (declared: each, case, pallet)");
  CHECK(to_base_units("three", "case", "", u).error().rfind("cannot read 'three' as a quantity: ", 0) == 0);
}

namespace {
const char* kStack = R"(stack "stock"
units { base = "each", case = 12, per_sku = { ["SKU-9"] = { case = 6 } } }
system "wms" {
  source = csv { path = "wms.csv" },
  id = "sku",
  fields = { sku = "SKU", on_hand = quantity { column = "Qty", unit_column = "UoM", sku_column = "SKU" } },
}
system "erp" {
  source = csv { path = "erp.csv" },
  id = "sku",
  fields = { sku = "Item", on_hand = quantity { column = "Cases", unit = "case", sku_column = "Item" } },
}
reconcile "stock" {
  left = "erp", right = "wms",
  match = { left = "sku", right = "sku" },
  rules = { exists_in "right" },
}
)";
}  // namespace

TEST_CASE("units: a quantity field maps to base units, a unit with no conversion rejects the row with its line") {
  TempDir dir;
  write_file(dir / "stack.lua", kStack);
  write_file(dir / "wms.csv", "SKU,Qty,UoM\nSKU-1,47,each\nSKU-9,2,case\nSKU-2,3,pallet\nSKU-3,1,\n");
  write_file(dir / "erp.csv", "Item,Cases\nSKU-1,4\nSKU-9,2\n");
  PreparedStack p = prepare_stack(dir.path(), {}, "");
  auto inputs = map_all(p.loaded.spec, p.loaded.host.get());
  const auto& wms = inputs[0];  // in declaration order
  CHECK(wms.stats.read == 4);
  CHECK(wms.stats.accepted == 2);
  CHECK(wms.stats.rejected == 2);
  CHECK(wms.records.get(0, 0).i == 47);  // fields sorted: on_hand, sku
  CHECK(wms.records.get(1, 0).i == 12);  // 2 cases of 6
  REQUIRE(wms.rejects.size() == 2);
  CHECK(wms.rejects[0].line == 4);
  CHECK(wms.rejects[0].reason ==
        "no conversion from unit 'pallet' to each for SKU-2 (declared: each, case) (field 'on_hand', column 'Qty')");
  CHECK(wms.rejects[1].line == 5);
  CHECK(wms.rejects[1].reason == "no unit of measure in column 'UoM' (field 'on_hand', column 'Qty')");
  CHECK(inputs[1].records.get(0, 0).i == 48);  // 4 cases of 12
  CHECK(inputs[1].records.get(1, 0).i == 12);
}

TEST_CASE("units: a quantity without declared units, or in a unit never declared, fails check at file:line") {
  TempDir dir;
  std::string stack = kStack;
  write_file(dir / "stack.lua", stack.replace(stack.find("units {"), 0, "-- "));
  CHECK_THROWS_WITH_AS(check_stack(dir.path(), {}),
                       (dir / "stack.lua:6: field 'on_hand' of system 'wms' is a quantity, but the stack declares no "
                              "units { base = ..., ... }").c_str(),
                       UserError);
  stack = kStack;
  stack.replace(stack.find("unit = \"case\", sku_column = \"Item\""), 34, "unit = \"crate\"");
  write_file(dir / "stack.lua", stack);
  CHECK_THROWS_WITH_AS(check_stack(dir.path(), {}),
                       (dir / "stack.lua:11: field 'on_hand': no conversion from unit 'crate' to each (declared: each, "
                              "case)").c_str(),
                       UserError);
}
