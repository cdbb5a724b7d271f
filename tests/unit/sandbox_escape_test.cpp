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

TEST_CASE("sandbox escape: each pattern function stops at PCRE2's limits, and many cheap calls at the budget") {
  const std::string limit =
      "pattern matching exceeded its limit (a pattern with many optional or repeated items backtracks exponentially; "
      "simplify it or check the text's length first)";
  auto run = [](const std::string& script) {
    LuaState lua;
    open_sandbox(lua);
    lua.load(script, "bomb.lua");
    try {
      lua.pcall(0, 0);
    } catch (const ScriptError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  // 'cb' at the end: PCRE2 skips a search for a 'b' the text lacks, but not this one.
  const std::string text = "local s = string.rep('a', 40) .. 'cb'\n";
  const std::string greedy = "string.rep('a?', 40) .. string.rep('a', 40)";
  const std::string lazy = "string.rep('a-', 30) .. 'b'";
  const std::string star = "string.rep('a*', 30) .. 'b'";
  for (const std::string& bomb : {greedy, lazy, star}) {
    CAPTURE(bomb);
    auto started = std::chrono::steady_clock::now();
    // The script's pcall catches the stop, and the next instruction raises it again.
    CHECK(run(text + "pcall(string.find, s, " + bomb + ")\nreturn 1") == "bomb.lua:2: rule stopped: string.find: " + limit);
    CHECK(run(text + "local ok = pcall(string.match, s, " + bomb + ")\nreturn ok") ==
          "bomb.lua:2: rule stopped: string.match: " + limit);
    CHECK(run(text + "for m in s:gmatch(" + bomb + ") do end") == "bomb.lua:2: rule stopped: string.gmatch: " + limit);
    CHECK(run(text + "s:gsub(" + bomb + ", function() end)") == "bomb.lua:2: rule stopped: string.gsub: " + limit);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(20));
  }
  // One call is cheap; a loop of them over a long text runs out of instruction budget.
  CHECK(run("local s = ('x'):rep(1 << 20)\nwhile true do s:find('y+') end") == "bomb.lua:2: " + kBudgetStop);
  CHECK(run("local s = ('x'):rep(1 << 20)\nwhile true do s:gsub('x', '') end") == "bomb.lua:2: " + kBudgetStop);
  CHECK(run("while true do ('abc'):match('(%a)(%a)') end") == "bomb.lua:1: " + kBudgetStop);
}

TEST_CASE("sandbox escape: budgeted patterns match as Lua's own do") {
  // The same script through Lua's string library and through seam's: every result and
  // every error message must be the same.
  const char* script = R"lua(
    local function ser(...)
      local t, parts = table.pack(...), {}
      for i = 1, t.n do
        local v = t[i]
        parts[#parts + 1] = type(v) .. ":" .. (type(v) == "string" and ("%q"):format(v) or tostring(v))
      end
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
      -- sets: ranges, classes, ']' first, '^' inside, '-' at either end, escapes
      { "a]b^c-d", "[%]^]" }, { "a]b^c-d", "[]^-]+" }, { "a^b", "[a^]+" }, { "x^y", "[%^]" }, { "a-b", "[-a]+" },
      { "abc]", "[^]a]+" }, { "a_b9", "[%a_][%w_]*" }, { "az%]", "[a-%]]+" }, { "q-z5", "[%d-z]+" }, { "x", "[]" },
      { "x", "[^]" }, { "]]", "[]]+" }, { "a%b", "[%%]" }, { "x", "[%" }, { "x", "[a-" }, { "A1b2", "[%u%d]+" },
      { "A1b2", "[^%u%d]+" }, { "hello", "[h-e]" }, { "a.b", "[.]" }, { "tab\tnl\n", "[%s]+" }, { "zzz", "[%z]+" },
      { "a-", "[a-]$" }, { "5", "[0-9a-fA-F]" }, { "ABCxyz", "[A-Cx-y]+" },
      -- '^' and '$' where they are not anchors; quantifiers with nothing to repeat
      { "a^b$c", "a^b" }, { "a^b$c", "b$c" }, { "x$", "$$" }, { "$", "^$" }, { "", "^$" }, { "", "$" }, { "", "^" },
      { "^^a", "^^a" }, { "*a", "*a" }, { "+", "+" }, { "-", "-" }, { "?", "?" }, { "a**", "a**" }, { "(*)", "(*)" },
      { "aa-b", "a-%-" }, { "ab", "a?-" }, { "aaa", "^a-$" }, { "aaa", "a-" }, { "aaa", "a+?" },
      -- greedy against lazy, with captures
      { "<a><b>", "<(.*)>" }, { "<a><b>", "<(.-)>" }, { "k=v; k2=v2", "(%w+)=(%w+)" }, { "aaab", "(a*)(a)b" },
      { "aaab", "(a-)(a+)b" }, { "  x  ", "^%s*(.-)%s*$" }, { "path/to/file.txt", "^(.*)/([^/]*)$" },
      { "path/to/file.txt", "%.(%w+)$" }, { "1,22,333", "(%d+),?" }, { "abc", "((a)(b)(c))" }, { "abc", "(a(b(c)))" },
      { "abc", "(()a())" }, { "abc", "()" }, { "abc", "()()()" }, { "hello", "()(l+)()" },
      -- back-references, including to position captures and unfinished ones
      { "abab", "(ab)%1" }, { "abba", "(a)(b)%2%1" }, { "xyzxyz", "(%a+)%1" }, { "aa", "()a%1" }, { "aa", "(a%1)" },
      { "x", "y%1" }, { "y", "y%1" }, { "abc", "(a)%2" }, { "abc", "%0" }, { "\"q\" 'r'", "([\"'])(.-)%1" },
      -- %b
      { "x(a(b)c)y(z)", "%b()" }, { "<<>><>", "%b<>" }, { "(()", "%b()" }, { "a\"b\"c\"d\"", "%b\"\"" },
      { "))((", "%b)(" }, { "[[x]]", "%b[]" }, { "f(a)(b)", "f%b()%b()" }, { "x", "%b" }, { "x", "%b(" },
      { "aXbXc", "%bXX" }, { "%a%%b%", "%b%%" }, { "(a(b)", "(%b())" },
      -- %f at the start and the end of the text (both count as NUL)
      { "THE (quick) fox", "%f[%a]%a+%f[%A]" }, { "hello world", "%f[%w]%w+" }, { "abc", "%f[%z]" }, { "abc", "%f[\0]" },
      { "abc", "%f[^\0]" }, { "abc", "%f[%a]" }, { "abc", "%f[%A]" }, { "a b", "%f[ ]" }, { "x", "%f[]" },
      { "x", "%f[^]" }, { "x", "%f" }, { "x", "%fa" }, { "aXbX", "%f[X]" }, { "\0a", "%f[a]" },
      -- NUL and bytes >= 0x80, in texts and patterns
      { "a\0b", "\0" }, { "a\0b", "%z" }, { "a\0b\0", "[%z\0]" }, { "a\0b", "a.b" }, { "a\0b", "%c" },
      { "\0\1\2x", "[\0-\31]+" }, { "a\255b\128", "[\128-\255]" }, { "\200\201", "\201" }, { "\233t\233", "%W" },
      { "caf\xc3\xa9", "%a+" }, { "\xff\xfe", "%A+" }, { "\xff", "%p" }, { "\x80\x81x", "[^\x80]+" }, { "\0", "%\0" },
      { "a\0", "a%z*" }, { "\0\0", "(\0)%1" },
      -- malformed patterns, raised only when the matcher gets there
      { "x", "y%" }, { "y", "y%" }, { "x", "y[a" }, { "y", "y[a" }, { "a", "a)" }, { "b", "a)" }, { "a", "(a" },
      { "ab", "(a)(b" }, { "ab", "((a)b" }, { "x", "%fx" }, { "x", "y%fx" }, { "x", "%b" }, { "ab", "a%bx" },
      { "x", string.rep("(x)", 33) }, { "x", string.rep("()", 32) }, { "x", string.rep("()", 33) },
      { "", "(" }, { "", ")" }, { "", "%" }, { "a", "a(" },
      -- Lua's nesting limit of 200 matcher calls
      { "aaa", string.rep("a-", 199) }, { "aaa", string.rep("a-", 200) }, { "aaa", string.rep("a-", 201) },
      { string.rep("a", 199), string.rep("a?", 199) }, { string.rep("a", 200), string.rep("a?", 200) },
      { string.rep("a", 169), string.rep("(a)", 30) .. string.rep("a?", 139) }, { "b", string.rep("a*", 250) },
      { string.rep("a", 170), string.rep("(a)", 30) .. string.rep("a?", 140) }, { "ab", string.rep("a*", 250) .. "b" },
      { string.rep("a", 5), string.rep("a?", 210) }, { string.rep("a", 250), string.rep("a?", 210) },
      { string.rep("a", 10), string.rep("a-", 220) .. "$" }, { "x", string.rep("(x)", 20) .. string.rep("y*", 190) },
    }
    -- every class and its complement, alone, repeated and inside sets
    local all = {}
    for i = 0, 255 do all[#all + 1] = string.char(i) end
    all = table.concat(all)
    for letter in ("acdglpsuwxz"):gmatch(".") do
      for _, cl in ipairs({ letter, letter:upper() }) do
        cases[#cases + 1] = { all, "%" .. cl .. "+" }
        cases[#cases + 1] = { "Az9 _\t!~\127\128\255", "[%" .. cl .. "]" }
        cases[#cases + 1] = { "Az9 _\t!~\127\128\255", "[^%" .. cl .. "]+" }
      end
    end
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
      for _, init in ipairs({ 3, -2, 100 }) do
        local r = {}
        local ok2, e = pcall(function() for a, b in string.gmatch(s, p, init) do r[#r + 1] = ser(a, b) end end)
        out[#out + 1] = "gmatch " .. init .. ": " .. table.concat(r, ";") .. " " .. tostring(ok2) .. " " .. tostring(e)
      end
    end
    -- find's init and plain arguments, gsub's replacements and counts, gmatch's empty matches
    local extras = {
      function() return string.find("hello", "l", 0) end, function() return string.find("hello", "l", -100) end,
      function() return string.find("hello", "l", 100) end, function() return string.find("hello", "", 6) end,
      function() return string.find("hello", "", 7) end, function() return string.find("hello", "()", 6) end,
      function() return string.find("hello", "", -1) end, function() return string.find("a.b", ".", 1, true) end,
      function() return string.find("a+b", "+b", 1, true) end, function() return string.find("a(b", "(", 1, true) end,
      function() return string.find("abc", "", 10, true) end, function() return string.find("abc", "c", -1, true) end,
      function() return string.find("a\0b", "\0b", 1, true) end, function() return string.find("aaa", "a", 2, 1) end,
      function() return string.find("x", "x", math.mininteger) end, function() return string.find("x", "x", math.maxinteger) end,
      function() return string.match("hello", "l+", -2) end, function() return string.match("hello", ".", 0) end,
      function() return string.match("key=val", "(%w+)=(%w+)", 2) end, function() return string.match("abc", "^b", 2) end,
      function() return string.gsub("hello world", "o", "0", 0) end, function() return string.gsub("hello world", "o", "0", -1) end,
      function() return string.gsub("hello world", "o", "0", 1) end, function() return string.gsub("abc", "", "-") end,
      function() return string.gsub("abc", "", "-", 2) end, function() return string.gsub("abc", "x*", "-") end,
      function() return string.gsub("hello world", "o*", "0") end, function() return string.gsub("abc", "b*", "X") end,
      function() return string.gsub("abc", ".", { a = 1, b = true }) end, function() return string.gsub("abc", "%w", "%%%0%%") end,
      function() return string.gsub("abc", "(a)", "%2") end, function() return string.gsub("abc", "a", "%1") end,
      function() return string.gsub("abc", "a", "x%") end, function() return string.gsub("abc", "a", "%a") end,
      function() return string.gsub("abc", "()b", "%1") end, function() return string.gsub("abc", "(a)", 5) end,
      function() return string.gsub("abc", "a", true) end, function() return string.gsub("abc", "a") end,
      function() return string.gsub("abc", "(a", "%0") end, function() return string.gsub("abc", "(a", "%1") end,
      function() return string.gsub("abc", "(a", {}) end, function() return string.gsub("abc", "(a", print) end,
      function() return string.gsub("abc", "%w", function(c) return c == "b" and {} end) end,
      function() return string.gsub("abc", "%w", function(c) return c == "b" and 42 end) end,
      function() return string.gsub("abc", "%w", function() return false end) end,
      function() return string.gsub("a b c", "(%w)", function(c) return c:upper() end, 2) end,
      function() return string.gsub("abc", "^a", "X") end, function() return string.gsub("abc", "^b", "X") end,
      function() return string.gsub("abc", "^", ">") end, function() return string.gsub("abc", "$", "<") end,
      function() return string.gsub("abc", "%f[%w]", "|") end, function() return string.gsub("a,b,,c", ",*", ";") end,
      function() return string.gsub("hello", "l", { l = "L" }, 1.0) end, function() return string.gsub("hello", "l", "L", 1.5) end,
      function() return string.gsub("hello", "(l)(l)", "%2%1") end, function() return string.gsub("x y", "%s", "%%") end,
      function()
        local t = setmetatable({}, { __index = function(_, k) return k == "b" and "B" or nil end })
        return string.gsub("abc", "%w", t)
      end,
      function()  -- a replacement function that matches the same pattern again
        return string.gsub("a1b2", "%d", function(d) return (string.gsub("x" .. d, "%d", "<%0>")) end)
      end,
      function()
        local r = {}
        for a in string.gmatch("abc", "x*") do r[#r + 1] = "[" .. a .. "]" end
        for a, b in string.gmatch("k1=v1, k2=v2", "(%w+)=(%w+)") do r[#r + 1] = a .. ":" .. b end
        for a in string.gmatch("a,b,,c", "[^,]*") do r[#r + 1] = "<" .. a .. ">" end
        for p1, p2 in string.gmatch("hello", "()l()") do r[#r + 1] = p1 .. "-" .. p2 end
        for a in string.gmatch("^a^b", "^.") do r[#r + 1] = a end
        for a in string.gmatch("abc", ".", -1) do r[#r + 1] = a end
        for a in string.gmatch("abc", "", 4) do r[#r + 1] = "end" .. a end
        for a in string.gmatch("abc", "", 5) do r[#r + 1] = "past" .. a end
        for a in string.gmatch("one two", "%a*") do r[#r + 1] = "(" .. a .. ")" end
        return table.concat(r, " ")
      end,
      function()  -- two iterators over the same pattern, interleaved
        local i1, i2 = string.gmatch("abc", "."), string.gmatch("xyz", ".")
        return i1() .. i2() .. i1() .. i2() .. tostring(i1()) .. tostring(i1()) .. tostring(i1())
      end,
      function()  -- a replacement function that pushes its own pattern out of the cache
        return string.gsub("a1b2c3", "(%a)(%d)", function(a, d)
          for i = 1, 100 do string.find("x", "x" .. i .. "?") end
          return d .. a
        end)
      end,
      function()  -- an iterator whose pattern left the cache
        local it, r = string.gmatch("a1b2", "%a%d"), {}
        r[1] = it()
        for i = 1, 100 do string.find("x", "y" .. i .. "?") end
        r[2] = it()
        return table.concat(r, ","), it()
      end,
      function()  -- more patterns than the cache holds, then the first again
        local r = 0
        for i = 1, 100 do r = r + (string.find("x" .. i .. "y", "x" .. i .. "y?") or 0) end
        return r, string.find("abc", "b")
      end,
    }
    for i, f in ipairs(extras) do out[#out + 1] = "extra " .. i .. ": " .. ser(pcall(f)) end
    return table.concat(out, "\n"), #cases, #extras
  )lua";
  lua_State* native = luaL_newstate();
  luaL_openlibs(native);
  REQUIRE(luaL_loadbuffer(native, script, std::strlen(script), "@patterns.lua") == LUA_OK);
  REQUIRE(lua_pcall(native, 0, 3, 0) == LUA_OK);
  size_t len = 0;
  const char* text = lua_tolstring(native, -3, &len);
  std::string expected(text, len);
  CHECK(lua_tointeger(native, -2) >= 200);  // patterns, each through find, match, gsub and gmatch in several ways
  CHECK(lua_tointeger(native, -1) >= 60);   // calls with particular arguments
  lua_close(native);
  // The cases reach every error Lua's matcher raises.
  for (const char* error : {"malformed pattern (ends with '%')", "malformed pattern (missing ']')",
                            "missing '[' after '%f' in pattern", "malformed pattern (missing arguments to '%b')",
                            "invalid pattern capture", "too many captures", "pattern too complex", "unfinished capture",
                            "invalid capture index %1", "invalid capture index %0", "invalid capture index %2",
                            "invalid use of '%' in replacement string", "invalid replacement value (a table)"}) {
    CAPTURE(error);
    CHECK(expected.find(error) != std::string::npos);
  }

  LuaState lua;
  open_sandbox(lua);
  lua.load(script, "patterns.lua");
  lua.pcall(0, 3);
  text = lua_tolstring(lua.L(), -3, &len);
  std::string actual(text, len);
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

TEST_CASE("sandbox: a group kept past its rule's call cannot be read in a later call") {
  TwoRules kept("local k = rawget(_ENV, 'kept') if k then return fail(k.key) end kept = g return pass()", "return pass()");
  CHECK(kept.verdict("first", "A1").outcome == Outcome::Pass);
  Verdict later = kept.verdict("first", "A2");
  CHECK(later.outcome == Outcome::Error);
  CHECK(later.message ==
        "rule raised an error: DIR/stack.lua:8: a group can only be read during the rule call that received it");
}
