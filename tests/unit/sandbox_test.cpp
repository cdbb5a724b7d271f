#include <doctest/doctest.h>

#include "bindings/stack_loader.hpp"
#include "engine/run/runner.hpp"
#include "engine/util/result.hpp"
#include "tests/support.hpp"

using namespace seam;
using seam::test::TempDir;
using seam::test::write_file;

namespace {

// The message load_stack fails with for a stack whose line 2 is `line2`.
std::string load_error(const std::string& line2, const std::string& extra_file = "", const std::string& extra = "") {
  TempDir dir;
  write_file(dir / "stack.lua", "stack \"t\"\n" + line2 + "\n");
  if (!extra_file.empty()) write_file(dir / extra_file, extra);
  try {
    load_stack(dir.path());
  } catch (const UserError& e) {
    return seam::test::with_dir_as_DIR(e.what(), dir.path());
  }
  return "(loaded without error)";
}

// A one-reconcile stack over tiny inputs with the custom rule `body`; returns the
// verdict of that rule for the single group.
Verdict run_rule_body(const std::string& body) {
  TempDir dir;
  write_file(dir / "a.csv", "id,amount\nA1,10.00\n");
  write_file(dir / "b.csv", "id,amount\nA1,10.00\n");
  write_file(dir / "stack.lua", R"(stack "t"
system "a" { source = csv { path = "a.csv" }, id = "id", fields = { id = "id" } }
system "b" { source = csv { path = "b.csv" }, id = "id", fields = { id = "id" } }
reconcile "r" {
  left = "a", right = "b", match = { left = "id", right = "id" },
  rules = {
    rule("custom", function(g)
)" + body + R"(
    end),
  },
}
)");
  RunOptions o;
  o.stack_path = dir.path();
  o.db_path = dir / "seam.db";
  RunReport r = run_stack(o);
  REQUIRE(r.reconciles.size() == 1);
  if (r.reconciles[0].findings.empty()) return Verdict::pass();
  Verdict v = r.reconciles[0].findings[0].verdict;
  v.message = seam::test::with_dir_as_DIR(v.message, dir.path());
  return v;
}

}  // namespace

TEST_CASE("sandbox: no file system, processes or loading outside the stack") {
  CHECK(load_error("io.open('/etc/passwd')") == "DIR/stack.lua:2: unknown name 'io'");
  CHECK(load_error("os.execute('id')") == "DIR/stack.lua:2: unknown name 'os'");
  CHECK(load_error("require 'socket'") == "DIR/stack.lua:2: unknown name 'require'");
  CHECK(load_error("dofile('/etc/passwd')") == "DIR/stack.lua:2: unknown name 'dofile'");
  CHECK(load_error("loadfile('/etc/passwd')") == "DIR/stack.lua:2: unknown name 'loadfile'");
  CHECK(load_error("load('return 1')") == "DIR/stack.lua:2: unknown name 'load'");
  CHECK(load_error("collectgarbage()") == "DIR/stack.lua:2: unknown name 'collectgarbage'");
  CHECK(load_error("package.path = '/'") == "DIR/stack.lua:2: unknown name 'package'");
  CHECK(load_error("debug.sethook()") == "DIR/stack.lua:2: unknown name 'debug'");
  CHECK(load_error("string.dump(print)") == "DIR/stack.lua:2: attempt to call a nil value (field 'dump')");
  CHECK(load_error("setmetatable(_G, nil)") == "DIR/stack.lua:2: cannot change a protected metatable");
  CHECK(load_error("getmetatable('').__index = {}").find("DIR/stack.lua:2: attempt to index a string value") == 0);
}

TEST_CASE("sandbox: include stays inside the stack folder and refuses bytecode") {
  CHECK(load_error("include '../secret.lua'") ==
        "DIR/stack.lua:2: include \"../secret.lua\": only files inside the stack folder can be included");
  CHECK(load_error("include '/etc/passwd'") ==
        "DIR/stack.lua:2: include \"/etc/passwd\": only files inside the stack folder can be included");
  CHECK(load_error("include 'evil.lua'", "evil.lua", "\x1bLua\x54") ==
        "DIR/stack.lua:2: attempt to load a binary chunk (mode is 't')");
  CHECK(load_error("include 'nosuch'").find("include \"nosuch\": no rule library of that name (seam ships: periods)") !=
        std::string::npos);
  CHECK(load_error("include 'lib/helpers.lua'\nx = helper_value + nothing", "lib/helpers.lua", "helper_value = 1\n") ==
        "DIR/stack.lua:3: unknown name 'nothing'");
}

TEST_CASE("sandbox: a runaway rule is stopped and becomes an error verdict") {
  Verdict loop = run_rule_body("while true do end");
  CHECK(loop.outcome == Outcome::Error);
  CHECK(loop.message ==
        "rule raised an error: DIR/stack.lua:8: rule stopped: instruction budget of 20000000 exceeded (endless loop?)");

  // The rule's own pcall cannot swallow the stop.
  Verdict sneaky = run_rule_body("while true do pcall(function() while true do end end) end");
  CHECK(sneaky.outcome == Outcome::Error);
  CHECK(sneaky.message.find("instruction budget") != std::string::npos);

  Verdict hog = run_rule_body("local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 4096) .. i end");
  CHECK(hog.outcome == Outcome::Error);
  CHECK(hog.message == "rule raised an error: rule stopped: Lua memory limit of 256 MiB exceeded");
}

TEST_CASE("lua rules: errors carry the rule's file and line") {
  Verdict raised = run_rule_body("error('reason codes table is stale')");
  CHECK(raised.outcome == Outcome::Error);
  CHECK(raised.message == "rule raised an error: DIR/stack.lua:8: reason codes table is stale");

  Verdict nil_index = run_rule_body("local missing\nreturn missing.amount");
  CHECK(nil_index.message == "rule raised an error: DIR/stack.lua:9: attempt to index a nil value (local 'missing')");

  Verdict typo = run_rule_body("return g.l.amout");
  CHECK(typo.message == "rule raised an error: DIR/stack.lua:8: a a record has no field 'amout'");

  Verdict readonly = run_rule_body("g.l.id = 'x'");
  CHECK(readonly.message == "rule raised an error: DIR/stack.lua:8: records are read-only");

  Verdict nothing = run_rule_body("local x = 1");
  CHECK(nothing.outcome == Outcome::Error);
  CHECK(nothing.message == "rule returned nil; return pass(), fail(...), warn(...) or skip(...)");
}

TEST_CASE("lua rules: verdicts with values, money and time values") {
  Verdict f = run_rule_body(
      "return fail('off by ' .. tostring(g.r.id), { expected = money_of('10.00', 'USD'), actual = money_of(999, 'USD') })");
  CHECK(f.outcome == Outcome::Fail);
  CHECK(f.message == "off by A1");
  CHECK(f.expected == "10.00 USD");
  CHECK(f.actual == "9.99 USD");
  CHECK(run_rule_body("return money_of('1.00', 'USD') + money_of(50, 'USD') == money_of('1.50', 'USD')").outcome ==
        Outcome::Pass);
  Verdict mixed = run_rule_body("return money_of('1.00', 'USD') < money_of('1.00', 'EUR')");
  CHECK(mixed.message == "rule raised an error: DIR/stack.lua:8: cannot compare money in USD and EUR");
  CHECK(run_rule_body("return warn('look')").outcome == Outcome::Warn);
  CHECK(run_rule_body("return false").message == "rule returned false");
}

TEST_CASE("lua rules: a group is a read-only view whose parts are built once, on first read") {
  Verdict write = run_rule_body("g.note = 'x'");
  CHECK(write.message == "rule raised an error: DIR/stack.lua:8: groups are read-only");
  Verdict parts = run_rule_body(
      "if g.nothing == nil and g.left == g.left and g.l == g.l and #g.left == 1 and #g.right == 1 and "
      "g.left[1].id == 'A1' and g.key == 'A1' and g.reconcile == 'r' then return pass() end return fail('parts')");
  CHECK(parts.outcome == Outcome::Pass);
  CHECK(parts.message.empty());
}

TEST_CASE("sandbox: a Lua function handle the loader never handed out is refused, not called") {
  TempDir dir;
  write_file(dir / "stack.lua", "stack \"t\"\n");
  LoadedStack s = load_stack(dir.path());
  GroupView g;
  std::string what;
  try {
    s.host->run_rule(7, g);
  } catch (const std::logic_error& e) {
    what = e.what();
  }
  CHECK(what == "Lua function handle 7 is not one of the stack's 0 functions");
}
