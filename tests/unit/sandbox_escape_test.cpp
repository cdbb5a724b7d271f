// Regressions for the adversarial pass over the sandbox (issue 11): each case is one way a
// rule or mapping function got out of its budget, crashed seam, or changed what another
// rule sees, and asserts the exact outcome now, and that the rule after it still runs.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <future>
#include <lua.hpp>
#include <regex>
#include <sstream>
#include <vector>

#include "bindings/lua_state.hpp"
#include "bindings/sandbox.hpp"
#include "bindings/stack_loader.hpp"
#include "engine/run/runner.hpp"
#include "engine/util/result.hpp"
#include "tests/support.hpp"

using namespace seam;
using seam::test::TempDir;
using seam::test::with_dir_as_DIR;
using seam::test::write_file;

namespace {

// Two systems whose records A1 and A2 match one to one; `first` and `second` are the
// bodies of two custom rules, on lines 8 and 9 of the stack file; `fields_a` the fields
// of system a (line 3).
struct TwoRules {
  TempDir dir;
  RunReport report;

  TwoRules(const std::string& first, const std::string& second, const std::string& fields_a = "id = \"id\"") {
    write_file(dir / "a.csv", "id,amount\nA1,10.00\nA2,20.00\n");
    write_file(dir / "b.csv", "id,amount\nA1,10.00\nA2,20.00\n");
    write_file(dir / "stack.lua", "stack \"t\"\n"
                                  "param(\"lag\", { default = 30 })\n"
                                  "system \"a\" { source = csv { path = \"a.csv\" }, id = \"id\", fields = { " +
                                      fields_a + " } }\n"
                                  "system \"b\" { source = csv { path = \"b.csv\" }, id = \"id\", fields = { id = \"id\" } }\n"
                                  "reconcile \"r\" {\n"
                                  "  left = \"a\", right = \"b\", match = { left = \"id\", right = \"id\" },\n"
                                  "  rules = {\n"
                                  "    rule(\"first\", function(g) " + first + " end),\n"
                                  "    rule(\"second\", function(g) " + second + " end),\n"
                                  "  },\n"
                                  "}\n");
    RunOptions o;
    o.stack_path = dir.path();
    o.db_path = dir / "seam.db";
    report = run_stack(o);
  }

  // The verdict of `rule` for group `key` (pass when the run recorded no finding).
  Verdict verdict(const std::string& rule, const std::string& key) const {
    REQUIRE(report.reconciles.size() == 1);
    for (const auto& f : report.reconciles[0].findings) {
      if (f.rule != rule || f.key != key) continue;
      Verdict v = f.verdict;
      v.message = with_dir_as_DIR(v.message, dir.path());
      return v;
    }
    return Verdict::pass();
  }
};

// The message load_stack fails with for the stack text `stack`, plus extra files.
std::string load_error(const TempDir& dir, const std::string& stack) {
  write_file(dir / "stack.lua", stack);
  try {
    load_stack(dir.path());
  } catch (const UserError& e) {
    return with_dir_as_DIR(e.what(), dir.path());
  }
  return "(loaded without error)";
}

const std::string kBudgetStop = "rule stopped: instruction budget of 20000000 exceeded (endless loop?)";
const std::string kMemoryStop = "rule raised an error: rule stopped: Lua memory limit of 256 MiB exceeded";
const std::string kFillHeap = "local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 4096) .. i end";

}  // namespace

TEST_CASE("sandbox escape: an xpcall message handler that loops is stopped") {
  // The budget's stop is raised inside the hook, where Lua runs the handler with hooks
  // off: the handler would loop forever. Now it is skipped once the call is stopped.
  TwoRules looping("return xpcall(function() while true do end end, function(m) while true do end end)",
                   "return fail('second rule ran')");
  CHECK(looping.verdict("first", "A1").outcome == Outcome::Error);
  CHECK(looping.verdict("first", "A1").message == "rule raised an error: DIR/stack.lua:8: " + kBudgetStop);
  CHECK(looping.verdict("second", "A1").message == "second rule ran");
  CHECK(looping.verdict("first", "A2").outcome == Outcome::Error);
  CHECK(looping.verdict("second", "A2").message == "second rule ran");

  // A handler that loops on an ordinary error is budgeted like any code, and the
  // script's xpcall returning false does not let it carry on.
  TwoRules after_error("local ok, m = xpcall(function() error('x') end, function(m) while true do end end) return pass()",
                       "return fail('second rule ran')");
  CHECK(after_error.verdict("first", "A1").outcome == Outcome::Error);
  CHECK(after_error.verdict("first", "A1").message == "rule raised an error: DIR/stack.lua:8: " + kBudgetStop);
  CHECK(after_error.verdict("second", "A1").message == "second rule ran");

  // xpcall still works for honest use.
  TwoRules honest("local ok, m = xpcall(function() error('boom', 0) end, function(m) return 'handled ' .. m end) "
                  "return fail(tostring(ok) .. ' ' .. m)",
                  "local ok, a, b = xpcall(function(x, y) return x + y, x * y end, print, 3, 4) "
                  "return fail(tostring(ok) .. ' ' .. a .. ' ' .. b)");
  CHECK(honest.verdict("first", "A1").message == "false handled boom");
  CHECK(honest.verdict("second", "A1").message == "true 7 12");
}

TEST_CASE("sandbox escape: a pattern that backtracks exponentially is stopped with an error verdict") {
  const std::string bomb = "string.rep('a', 40), string.rep('a?', 40) .. string.rep('a', 40)";
  const std::string stopped =
      "pattern matching exceeded its limit (a pattern with many optional or repeated items "
      "backtracks exponentially; simplify it or check the text's length first)";
  TwoRules find("return string.find(" + bomb + ")", "return (('x'):rep(3)):match('^(x+)$') == 'xxx' and fail('second rule ran')");
  CHECK(find.verdict("first", "A1").outcome == Outcome::Error);
  CHECK(find.verdict("first", "A1").message == "rule raised an error: DIR/stack.lua:8: rule stopped: string.find: " + stopped);
  CHECK(find.verdict("second", "A1").message == "second rule ran");
  CHECK(find.verdict("first", "A2").message == find.verdict("first", "A1").message);

  // The script's own pcall cannot swallow the stop: the next instruction raises again,
  // and the verdict names the first stop.
  TwoRules swallowed("pcall(string.gsub, " + bomb + ", 'b') return pass()", "return fail('second rule ran')");
  CHECK(swallowed.verdict("first", "A1").message == "rule raised an error: DIR/stack.lua:8: rule stopped: string.gsub: " + stopped);
  CHECK(swallowed.verdict("second", "A1").message == "second rule ran");

  TwoRules methods("for m in (string.rep('a', 40)):gmatch(string.rep('a?', 40) .. string.rep('a', 40)) do end return pass()",
                   "return (string.rep('a', 40)):match(string.rep('a?', 40) .. string.rep('a', 40))");
  CHECK(methods.verdict("first", "A1").message ==
        "rule raised an error: DIR/stack.lua:8: rule stopped: string.gmatch: " + stopped);
  CHECK(methods.verdict("second", "A1").message ==
        "rule raised an error: DIR/stack.lua:9: rule stopped: string.match: " + stopped);
}

TEST_CASE("sandbox escape: budgeted patterns match as Lua's own do") {
  // The same script through Lua's string library and through seam's: every result and
  // every error message must be the same.
  const char* script = R"lua(
    local function ser(...)
      local t, parts = table.pack(...), {}
      for i = 1, t.n do parts[#parts + 1] = type(t[i]) .. ":" .. tostring(t[i]) end
      return table.concat(parts, ",")
    end
    local cases = {
      { "hello world", "o w" }, { "hello world", "l+" }, { "hello world", "^h" }, { "hello", "^l" },
      { "hello world", "(o)(r?)" }, { "  trim me  ", "^%s*(.-)%s*$" }, { "key = value", "(%w+)%s*=%s*(%w+)" },
      { "abc", "()b()" }, { "THE (quick) fox", "%((%a+)%)" }, { "f(a(b)c)d", "%b()" }, { "f(a(b", "%b()" },
      { "THE (quick) fox", "%f[%a]%a+" }, { "hello", "[aeiou]" }, { "hello", "[^aeiou]+" }, { "a-b-c", "[%-]" },
      { "a]b", "[]]" }, { "a]b", "[^]]+" }, { "2024-01-31", "^(%d+)-(%d+)-(%d+)$" }, { "abcabc", "(abc)%1" },
      { "x", "%" }, { "x", "[a" }, { "x", "(x" }, { "x", "x)" }, { "x", "%1" }, { "x", "%bx" }, { "x", "%fx" },
      { "", "" }, { "abc", "" }, { "abc", ".-" }, { "abc", "a*" }, { "aaa", "a-b" }, { "aaab", "a-b" },
      { "a.b", "%." }, { "a.b", "." }, { "$x$", "%$" }, { "x$", "x$" }, { "a$b", "$b" }, { "hello", "l*" },
      { "one two  three", "%S+" }, { "AbC", "%u" }, { "AbC", "%L+" }, { "x^y", "^x^y" }, { "a+b", "a+b" },
      { "a+b", "a%+b" }, { "caf\xc3\xa9 ok", "[\x80-\xff]+" }, { "a,b,,c", "([^,]*)" }, { "x1y22z333", "%d+" },
      { "((()))", "(%b())" }, { "hello", "(h)(e)(l)(l)(o)" }, { "hello", "()ll()" }, { "aXb", "%w%u%w" },
      { "tab\there", "%c" }, { "a b", "%g+" }, { "p.q!", "%p" }, { "0x1F", "%x+" }, { "abc", "[a-b]+" },
      { "a-z", "[z-]" }, { "abc", "b?c" }, { "ac", "ab?c" }, { "CR-12", "^(%a+)%-(%d+)$" },
    }
    local out = {}
    for _, c in ipairs(cases) do
      local s, p = c[1], c[2]
      out[#out + 1] = ser(pcall(string.find, s, p))
      out[#out + 1] = ser(pcall(string.find, s, p, 2))
      out[#out + 1] = ser(pcall(string.find, s, p, -3))
      out[#out + 1] = ser(pcall(string.find, s, p, 1, true))
      out[#out + 1] = ser(pcall(string.match, s, p))
      out[#out + 1] = ser(pcall(string.match, s, p, 10))
      out[#out + 1] = ser(pcall(string.gsub, s, p, "<%0>"))
      out[#out + 1] = ser(pcall(string.gsub, s, p, "[%1]", 2))
      out[#out + 1] = ser(pcall(string.gsub, s, p, "%x"))
      out[#out + 1] = ser(pcall(string.gsub, s, p, { hello = "HI", o = false, l = 1 }))
      out[#out + 1] = ser(pcall(string.gsub, s, p, function(a, b) return b and (a .. "/" .. tostring(b)) end))
      local ok, it = pcall(string.gmatch, s, p)
      if ok then
        local r = {}
        local ok2, e = pcall(function() for a, b in it do r[#r + 1] = tostring(a) .. "|" .. tostring(b) end end)
        out[#out + 1] = table.concat(r, ";") .. " " .. tostring(ok2) .. " " .. tostring(e)
      end
      out[#out + 1] = ser(pcall(string.gmatch, s, p, 3))
    end
    return table.concat(out, "\n")
  )lua";
  lua_State* native = luaL_newstate();
  luaL_openlibs(native);
  REQUIRE(luaL_loadbuffer(native, script, std::strlen(script), "@patterns.lua") == LUA_OK);
  REQUIRE(lua_pcall(native, 0, 1, 0) == LUA_OK);
  std::string expected = lua_tostring(native, -1);
  lua_close(native);

  LuaState lua;
  open_sandbox(lua);
  lua.load(script, "patterns.lua");
  lua.pcall(0, 1);
  std::string actual = lua_tostring(lua.L(), -1);
  // gmatch's iterator is a fresh closure: its address differs between the two states.
  auto without_addresses = [](const std::string& s) { return std::regex_replace(s, std::regex("0x[0-9a-f]+"), "0x"); };
  auto lines = [](const std::string& s) {
    std::vector<std::string> out;
    std::istringstream in(s);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  };
  std::vector<std::string> want = lines(without_addresses(expected)), got = lines(without_addresses(actual));
  REQUIRE(got.size() == want.size());
  int differing = 0;
  for (size_t i = 0; i < want.size() && differing < 10; ++i) {
    CAPTURE(i);
    CHECK(got[i] == want[i]);
    differing += got[i] != want[i];
  }
}

TEST_CASE("sandbox escape: a rule that fills the heap and catches its memory error gets an error verdict") {
  // It used to return pass() at the cap, and the next unprotected lua_createtable aborted seam.
  TwoRules caught("pcall(function() " + kFillHeap + " end) return pass()", "return fail('second rule ran')");
  CHECK(caught.verdict("first", "A1").outcome == Outcome::Error);
  CHECK(caught.verdict("first", "A1").message == kMemoryStop);
  CHECK(caught.verdict("second", "A1").message == "second rule ran");
  CHECK(caught.verdict("first", "A2").message == kMemoryStop);
  CHECK(caught.verdict("second", "A2").message == "second rule ran");
}

TEST_CASE("sandbox escape: a mapping function that fills the heap and catches its memory error rejects its row") {
  TwoRules mapped("return pass()", "return fail('second rule ran for ' .. tostring(g.l and g.l.v))",
                  "id = \"id\", v = function(row) if row.id == 'A1' then pcall(function() " + kFillHeap +
                      " end) end return row.id end");
  REQUIRE(mapped.report.rejects.size() == 1);
  CHECK(mapped.report.rejects[0].line == 2);
  CHECK(mapped.report.rejects[0].reason ==
        "mapping function for field 'v' failed: rule stopped: Lua memory limit of 256 MiB exceeded");
  // The run went on: A2 was mapped and both rules ran on it.
  CHECK(mapped.verdict("second", "A2").message == "second rule ran for A2");
  CHECK(mapped.verdict("second", "A1").message == "second rule ran for nil");
}

TEST_CASE("sandbox escape: a redefined fail does not leak into the next rule") {
  TwoRules redefined("fail = function() return pass() end return pass()", "return fail('second rule ran')");
  CHECK(redefined.verdict("second", "A1").outcome == Outcome::Fail);
  CHECK(redefined.verdict("second", "A1").message == "second rule ran");
  CHECK(redefined.verdict("second", "A2").message == "second rule ran");

  // Through _G, rawset or a helper whose environment is the shared one: refused.
  TwoRules via_g("_G.fail = function() return pass() end", "return fail('second rule ran')");
  CHECK(via_g.verdict("first", "A1").message ==
        "rule raised an error: DIR/stack.lua:8: cannot assign global 'fail' here: globals outside a rule's own function "
        "are shared by every rule and mapping function; use a local variable");
  CHECK(via_g.verdict("second", "A1").message == "second rule ran");
  TwoRules via_rawset("rawset(_G, 'fail', function() return pass() end)", "return fail('second rule ran')");
  CHECK(via_rawset.verdict("first", "A1").message ==
        "rule raised an error: DIR/stack.lua:8: rawset: the global table is read-only (shared by every rule and "
        "mapping function)");
  CHECK(via_rawset.verdict("second", "A1").message == "second rule ran");

  // A rule keeps its own globals between its calls; another rule does not see them.
  TwoRules own("seen = (rawget(_ENV, 'seen') or 0) + 1 return fail('seen ' .. seen)",
               "return fail(tostring(rawget(_ENV, 'seen')))");
  CHECK(own.verdict("first", "A1").message == "seen 1");
  CHECK(own.verdict("first", "A2").message == "seen 2");
  CHECK(own.verdict("second", "A2").message == "nil");
}

TEST_CASE("sandbox escape: params are read-only, rawset included") {
  TwoRules raw("rawset(params, 'lag', 99) return pass()", "return fail('lag ' .. params.lag)");
  CHECK(raw.verdict("first", "A1").message ==
        "rule raised an error: DIR/stack.lua:8: rawset: params is read-only (shared by every rule and mapping function)");
  CHECK(raw.verdict("second", "A1").message == "lag 30");
  CHECK(raw.report.params.at("lag").text == "30");

  TwoRules assigned("params.lag = 99 return pass()", "return fail('lag ' .. params.lag)");
  CHECK(assigned.verdict("first", "A1").message ==
        "rule raised an error: DIR/stack.lua:8: params.lag is read-only: params are the run's thresholds (set them "
        "with --set or thresholds.lua)");
  CHECK(assigned.verdict("second", "A1").message == "lag 30");

  TwoRules unlocked("setmetatable(params, nil)", "local n = 0 for k, v in pairs(params) do n = n + 1 end return fail(n .. ' param')");
  CHECK(unlocked.verdict("first", "A1").message == "rule raised an error: DIR/stack.lua:8: cannot change a protected metatable");
  CHECK(unlocked.verdict("second", "A1").message == "1 param");
}

TEST_CASE("sandbox escape: seam's libraries are read-only, string.format included") {
  TwoRules reassigned("string.format = function() return 'hacked' end return pass()",
                      "return fail(string.format('%d', 7) .. ('%d'):format(8))");
  CHECK(reassigned.verdict("first", "A1").message ==
        "rule raised an error: DIR/stack.lua:8: string.format is read-only: seam's libraries are shared by every rule "
        "and mapping function; use a local function instead");
  CHECK(reassigned.verdict("second", "A1").message == "78");

  TwoRules raw("rawset(string, 'format', function() return 'hacked' end)", "return fail(string.format('%d', 7))");
  CHECK(raw.verdict("first", "A1").message ==
        "rule raised an error: DIR/stack.lua:8: rawset: string is read-only (shared by every rule and mapping function)");
  CHECK(raw.verdict("second", "A1").message == "7");

  // The string metatable hands out nothing to write to; math and table are proxies too.
  TwoRules meta("local mt = getmetatable('') return fail(type(mt) .. ' ' .. tostring(mt))",
                "math.floor = nil return pass()");
  CHECK(meta.verdict("first", "A1").message == "string string");
  CHECK(meta.verdict("second", "A1").message ==
        "rule raised an error: DIR/stack.lua:9: math.floor is read-only: seam's libraries are shared by every rule and "
        "mapping function; use a local function instead");
  TwoRules insert("table.insert(table, 1) return pass()", "return fail(tostring(#table) .. ' ' .. tostring(table.concat({ 'a', 'b' })))");
  CHECK(insert.verdict("first", "A1").message.find("table.1 is read-only") != std::string::npos);
  CHECK(insert.verdict("second", "A1").message == "0 ab");
}

TEST_CASE("sandbox escape: includes resolve real paths inside the stack folder") {
  TempDir outside;
  write_file(outside / "secret.lua", "leaked = true\n");
  TempDir dir;
  std::filesystem::create_symlink(outside / "secret.lua", dir / "link.lua");
  std::string real_dir = std::filesystem::canonical(dir.path()).string();
  std::string real_outside = std::filesystem::canonical(outside.path()).string();
  std::string msg = load_error(dir, "stack \"t\"\ninclude 'link.lua'\n");
  CHECK(with_dir_as_DIR(msg, real_outside) ==
        "DIR/stack.lua:2: include \"link.lua\": DIR/link.lua resolves to DIR/secret.lua, outside the stack folder DIR; "
        "only files inside the stack folder can be included");
  (void)real_dir;

  // A linked folder on the way counts the same.
  std::filesystem::create_directory_symlink(outside.path(), dir / "lib");
  CHECK(load_error(dir, "stack \"t\"\n\ninclude 'lib/secret.lua'\n").find("DIR/stack.lua:3: include \"lib/secret.lua\": "
                                                                         "DIR/lib/secret.lua resolves to ") == 0);
  // A link that stays inside is fine.
  write_file(dir / "helpers/real.lua", "helper_value = 1\n");
  std::filesystem::create_symlink(dir / "helpers/real.lua", dir / "alias.lua");
  CHECK(load_error(dir, "stack \"t\"\ninclude 'alias.lua'\nx = helper_value\n") == "(loaded without error)");

  std::filesystem::create_directory(dir / "folder.lua");
  CHECK(load_error(dir, "stack \"t\"\ninclude 'folder.lua'\n") ==
        "DIR/stack.lua:2: include \"folder.lua\": DIR/folder.lua is a directory, not a Lua file");

  REQUIRE(mkfifo((dir / "pipe.lua").c_str(), 0600) == 0);
  auto loading = std::async(std::launch::async, [&] { return load_error(dir, "stack \"t\"\ninclude 'pipe.lua'\n"); });
  bool finished = loading.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  if (!finished) {  // unblock a reader stuck in open() or read(), so the test ends either way
    int fd = ::open((dir / "pipe.lua").c_str(), O_RDWR);
    if (fd >= 0) ::close(fd);
  }
  CHECK(finished);
  CHECK(loading.get() ==
        "DIR/stack.lua:2: include \"pipe.lua\": DIR/pipe.lua is not a regular file (a FIFO, socket or device); only "
        "Lua files can be included");
}

TEST_CASE("sandbox escape: instructions that each compare hundreds of MB stop at the time limit") {
  // Two equal 48 MB strings: each == is one instruction and a 48 MB memcmp. The budget
  // is set out of reach here, so the wall-clock backstop is what stops the loop.
  LuaLimits limits;
  limits.instructions_per_call = uint64_t{1} << 50;
  limits.seconds_per_call = 1;
  LuaState lua(limits);
  open_sandbox(lua);
  lua.load("local s, t = ('x'):rep(48 << 20), ('x'):rep(48 << 20)\nwhile true do local same = s == t end\n", "cmp.lua");
  auto started = std::chrono::steady_clock::now();
  std::string message = "(no error)";
  try {
    lua.pcall(0, 0);
  } catch (const ScriptError& e) {
    message = e.what();
  }
  CHECK(message == "cmp.lua:2: rule stopped: time limit of 1 s per call exceeded");
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(30));
}

TEST_CASE("sandbox escape: include inside a rule is refused, not run against a finished load") {
  // include() used to reach the loader's context through a pointer to a stack frame that
  // had returned long before rules run.
  TwoRules late("include 'periods' return pass()", "include 'lib/x.lua'");
  CHECK(late.verdict("first", "A1").message ==
        "rule raised an error: DIR/stack.lua:8: include \"periods\": include works only while the stack loads; call it "
        "at the top level of the stack file or a library, not inside a rule or mapping function");
  CHECK(late.verdict("second", "A1").message.find("DIR/stack.lua:9: include \"lib/x.lua\": include works only") !=
        std::string::npos);
}

TEST_CASE("sandbox escape: money overflow in Lua is an error verdict") {
  TwoRules add("return money_of(math.maxinteger, 'USD') + money_of(1, 'USD') == money_of(0, 'USD')",
               "return fail('second rule ran')");
  CHECK(add.verdict("first", "A1").outcome == Outcome::Error);
  CHECK(add.verdict("first", "A1").message ==
        "rule raised an error: DIR/stack.lua:8: money overflow: a + b exceeds the int64 range of minor units");
  CHECK(add.verdict("second", "A1").message == "second rule ran");
  TwoRules sub("return money_of(math.mininteger, 'USD') - money_of(1, 'USD')", "return -money_of(math.mininteger, 'EUR')");
  CHECK(sub.verdict("first", "A1").message ==
        "rule raised an error: DIR/stack.lua:8: money overflow: a - b exceeds the int64 range of minor units");
  CHECK(sub.verdict("second", "A1").message ==
        "rule raised an error: DIR/stack.lua:9: money overflow: -a exceeds the int64 range of minor units");
  TwoRules edge("return money_of(math.maxinteger - 1, 'USD') + money_of(1, 'USD') == money_of(math.maxinteger, 'USD')",
                "return fail(tostring(money_of(1, 'USD') - money_of(250, 'USD')))");
  CHECK(edge.verdict("first", "A1").outcome == Outcome::Pass);
  CHECK(edge.verdict("second", "A1").message == "-2.49 USD");
}

TEST_CASE("sandbox escape: alert settings out of bounds are refused at file:line") {
  TempDir dir;
  auto alert = [&](const std::string& settings) {
    return load_error(dir, "stack \"t\"\n\nalert \"ops\" { to = webhook { url = \"http://h\" }, " + settings + " }\n");
  };
  CHECK(alert("timeout_seconds = 4294967296") ==
        "DIR/stack.lua:3: alert \"ops\" timeout_seconds must be a whole number of seconds from 1 to 300, found 4294967296");
  CHECK(alert("timeout_seconds = 0") ==
        "DIR/stack.lua:3: alert \"ops\" timeout_seconds must be a whole number of seconds from 1 to 300, found 0");
  CHECK(alert("backoff_ms = 2147483647") ==
        "DIR/stack.lua:3: alert \"ops\" backoff_ms must be a whole number of milliseconds from 0 to 600000, found "
        "2147483647");
  CHECK(alert("backoff_ms = -1") ==
        "DIR/stack.lua:3: alert \"ops\" backoff_ms must be a whole number of milliseconds from 0 to 600000, found -1");
  CHECK(alert("attempts = 2.5") ==
        "DIR/stack.lua:3: alert \"ops\" attempts must be a whole number of tries from 1 to 20, found 2.5");
  CHECK(alert("attempts = 21") ==
        "DIR/stack.lua:3: alert \"ops\" attempts must be a whole number of tries from 1 to 20, found 21");
  CHECK(alert("timeout_seconds = \"10\"") ==
        "DIR/stack.lua:3: alert \"ops\" timeout_seconds must be a whole number of seconds from 1 to 300, found \"10\"");
  CHECK(alert("attempts = 20, backoff_ms = 0, timeout_seconds = 300") == "(loaded without error)");
}

TEST_CASE("sandbox escape: C loops over script-chosen ranges are budgeted and finalizers refused") {
  TwoRules move("table.move({}, 1, 1e15, 2) return pass()", "return fail('second rule ran')");
  CHECK(move.verdict("first", "A1").message == "rule raised an error: DIR/stack.lua:8: " + kBudgetStop);
  CHECK(move.verdict("second", "A1").message == "second rule ran");
  TwoRules shift("table.insert(setmetatable({}, { __len = function() return math.maxinteger // 2 end }), 1, 'x')",
                 "local t = { 1, 2, 3 } table.insert(t, 1, 0) table.remove(t, 2) table.insert(t, 9) "
                 "return fail(table.concat(table.move(t, 1, 4, 1, {}), ','))");
  CHECK(shift.verdict("first", "A1").message == "rule raised an error: DIR/stack.lua:8: " + kBudgetStop);
  CHECK(shift.verdict("second", "A1").message == "0,2,3,9");
  // string.rep of nothing looped math.maxinteger times in C; copying big strings in a
  // loop ran for hours within a few million instructions: bytes allocated count too.
  TwoRules rep("return fail('[' .. string.rep('', math.maxinteger) .. ('x'):rep(0) .. ('ab'):rep(2, ',') .. ']')",
               "local s = ('x'):rep(2^25) while true do local t = s .. 'x' end");
  CHECK(rep.verdict("first", "A1").message == "[ab,ab]");
  CHECK(rep.verdict("second", "A1").message == "rule raised an error: DIR/stack.lua:9: " + kBudgetStop);
  TwoRules scan("local s = ('x'):rep(2^25) while true do s:find('y', 1, true) end", "return fail('second rule ran')");
  CHECK(scan.verdict("first", "A1").message == "rule raised an error: DIR/stack.lua:8: " + kBudgetStop);
  CHECK(scan.verdict("second", "A1").message == "second rule ran");
  // A __gc finalizer would run in the collector with hooks off, past any budget.
  TwoRules gc("setmetatable({}, { __gc = function() while true do end end }) return pass()",
              "return fail('second rule ran')");
  CHECK(gc.verdict("first", "A1").message ==
        "rule raised an error: DIR/stack.lua:8: setmetatable: __gc finalizers are not allowed in seam scripts");
  CHECK(gc.verdict("second", "A1").message == "second rule ran");
}
