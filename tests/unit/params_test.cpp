#include <doctest/doctest.h>

#include "bindings/params_file.hpp"
#include "bindings/stack_loader.hpp"
#include "engine/run/runner.hpp"
#include "engine/util/result.hpp"
#include "tests/support.hpp"

using namespace seam;
using seam::test::TempDir;
using seam::test::write_file;

namespace {

const char* kStack = R"(stack "p"
param("lag_minutes", { type = "integer", default = 30, min = 0, max = 600 })
param("tolerance", { type = "money", default = "0.00" })
param("strict", { type = "boolean", default = false })
)";

std::string error_of(const std::string& thresholds, std::vector<std::pair<std::string, std::string>> sets = {}) {
  TempDir dir;
  write_file(dir / "stack.lua", kStack);
  write_file(dir / "thresholds.lua", thresholds);
  LoadedStack s = load_stack(dir.path());
  try {
    resolve_params(s.spec, sets, "");
  } catch (const UserError& e) {
    return seam::test::with_dir_as_DIR(e.what(), dir.path());
  }
  return "(ok)";
}

}  // namespace

TEST_CASE("params: precedence is --set over the thresholds file over the default, and each source is kept") {
  TempDir dir;
  write_file(dir / "stack.lua", kStack);
  write_file(dir / "thresholds.lua", "-- ops, 2026-03\nlag_minutes = 45\ntolerance = \"0.05\"\n");
  LoadedStack s = load_stack(dir.path());
  ParamValues v = resolve_params(s.spec, {{"tolerance", "0.10"}}, "");
  CHECK(v.all().at("lag_minutes").text == "45");
  CHECK(v.all().at("lag_minutes").source == dir / "thresholds.lua:2");
  CHECK(v.all().at("tolerance").text == "0.10");
  CHECK(v.all().at("tolerance").source == "--set");
  CHECK(v.all().at("strict").text == "false");
  CHECK(v.all().at("strict").source == "default");

  // --params names another file; the folder's thresholds.lua is then not read
  write_file(dir / "night.lua", "strict = true\n");
  ParamValues night = resolve_params(s.spec, {}, dir / "night.lua");
  CHECK(night.all().at("strict").text == "true");
  CHECK(night.all().at("lag_minutes").source == "default");
}

TEST_CASE("params: every mistake in a thresholds file is reported at its line") {
  CHECK(error_of("lag_minutes = 45\nlag_minuts = 3\n") ==
        "DIR/thresholds.lua:2: the stack declares no param 'lag_minuts' (did you mean 'lag_minutes'?)");
  CHECK(error_of("\nlag_minutes = -4\n") ==
        "DIR/thresholds.lua:2: param 'lag_minutes' must be at least 0, found -4 (declared at DIR/stack.lua:2)");
  CHECK(error_of("lag_minutes = 700") ==
        "DIR/thresholds.lua:1: param 'lag_minutes' must be at most 600, found 700 (declared at DIR/stack.lua:2)");
  CHECK(error_of("lag_minutes = 4.5") ==
        "DIR/thresholds.lua:1: param 'lag_minutes' expects a whole number, found '4.5' (declared at DIR/stack.lua:2)");
  CHECK(error_of("strict = 'yes'") ==
        "DIR/thresholds.lua:1: param 'strict' expects true or false, found 'yes' (declared at DIR/stack.lua:4)");
  CHECK(error_of("tolerance = {}") == "DIR/thresholds.lua:1: param 'tolerance' must be a number, text or boolean, found table");
  CHECK(error_of("lag_minutes = 4\nlag_minutes = 5") == "DIR/thresholds.lua:2: param 'lag_minutes' is set twice");
  CHECK(error_of("lag_minutes = os.time()") == "DIR/thresholds.lua:1: a thresholds file holds values only; 'os' is not one");
  CHECK(error_of("return { lag_minutes = 4 }") ==
        "DIR/thresholds.lua: a thresholds file sets values with assignments (lag_minutes = 45), it returns nothing");
  CHECK(error_of("lag_minutes = = 4") == "DIR/thresholds.lua:1: unexpected symbol near '='");
  CHECK(error_of("lag_minutes = 45", {{"lag_minutes", "x"}}) ==
        "--set lag_minutes=x: param 'lag_minutes' expects a whole number, found 'x' (declared at DIR/stack.lua:2)");
}
