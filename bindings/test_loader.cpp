#include "bindings/test_loader.hpp"

#include <lua.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "bindings/sandbox.hpp"
#include "engine/util/result.hpp"
#include "engine/util/text.hpp"

namespace fs = std::filesystem;

namespace seam {
namespace {

// test "name" { body }: only Lua API calls here (no C++ objects), because a Lua error
// longjmps; the bodies are read into C++ after the protected call returns.
int test_body(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_createtable(L, 0, 4);
  lua_pushvalue(L, lua_upvalueindex(2));
  lua_setfield(L, -2, "name");
  lua_pushvalue(L, lua_upvalueindex(3));
  lua_setfield(L, -2, "file");
  lua_pushvalue(L, lua_upvalueindex(4));
  lua_setfield(L, -2, "line");
  lua_pushvalue(L, 1);
  lua_setfield(L, -2, "body");
  lua_rawseti(L, lua_upvalueindex(1), static_cast<lua_Integer>(lua_rawlen(L, lua_upvalueindex(1)) + 1));
  return 0;
}

int test_decl(lua_State* L) {
  luaL_checkstring(L, 1);
  lua_Debug ar;
  if (!lua_getstack(L, 1, &ar) || !lua_getinfo(L, "Sl", &ar)) return luaL_error(L, "test: no caller");
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushvalue(L, 1);
  lua_pushstring(L, ar.source[0] == '@' ? ar.source + 1 : ar.short_src);
  lua_pushinteger(L, ar.currentline);
  lua_pushcclosure(L, test_body, 4);
  return 1;
}

// (chunk, list): sets the chunk's _ENV to a private environment with test(...) in it.
int test_file_env(lua_State* L) {
  push_private_env(L);
  lua_pushvalue(L, 2);
  lua_pushcclosure(L, test_decl, 1);
  lua_setfield(L, -2, "test");
  lua_setupvalue(L, 1, 1);  // a main chunk's only upvalue is its _ENV
  return 0;
}

std::string scalar_text(lua_State* L, int idx, bool& ok) {
  ok = true;
  switch (lua_type(L, idx)) {
    case LUA_TSTRING:
    case LUA_TNUMBER: return lua_tostring(L, idx);  // converts a number in place: only on copies
    case LUA_TBOOLEAN: return lua_toboolean(L, idx) ? "true" : "false";
    default: ok = false; return "";
  }
}

// Nested tables become paths, as NDJSON columns are named: currency.refName, lines[0].amount.
void flatten(lua_State* L, const std::string& prefix, FixtureRow& row, const std::string& where) {
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    std::string path;
    if (lua_type(L, -2) == LUA_TNUMBER && lua_isinteger(L, -2))
      path = prefix + "[" + std::to_string(lua_tointeger(L, -2) - 1) + "]";
    else if (lua_type(L, -2) == LUA_TSTRING)
      path = prefix.empty() ? lua_tostring(L, -2) : prefix + "." + lua_tostring(L, -2);
    if (lua_istable(L, -1)) {
      flatten(L, path, row, where);
    } else {
      lua_pushvalue(L, -1);  // tostring on a copy, so lua_next keeps its key
      bool ok = false;
      std::string text = scalar_text(L, -1, ok);
      lua_pop(L, 1);
      if (!ok) {
        lua_pop(L, 2);
        throw UserError(where + ": fixture value of '" + path + "' must be text, a number or a boolean");
      }
      row[path] = text;
    }
    lua_pop(L, 1);
  }
}

std::optional<std::string> opt_field(lua_State* L, int table, const char* key, const std::string& where) {
  lua_getfield(L, table, key);
  std::optional<std::string> out;
  if (!lua_isnil(L, -1)) {
    lua_pushvalue(L, -1);
    bool ok = false;
    std::string text = scalar_text(L, -1, ok);
    lua_pop(L, 2);
    if (!ok) throw UserError(where + ": '" + key + "' must be text");
    return text;
  }
  lua_pop(L, 1);
  return out;
}

TestCase read_test(lua_State* L, const StackSpec& spec) {
  TestCase t;
  lua_getfield(L, -1, "name");
  t.name = lua_tostring(L, -1);
  lua_getfield(L, -2, "file");
  t.loc.file = lua_tostring(L, -1);
  lua_getfield(L, -3, "line");
  t.loc.line = static_cast<int>(lua_tointeger(L, -1));
  lua_pop(L, 3);
  const std::string where = t.loc.str() + ": test '" + t.name + "'";
  lua_getfield(L, -1, "body");
  int body = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, body)) {
    std::string key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
    if (key != "set" && key != "as_of" && key != "records" && key != "expect") {
      lua_pop(L, 3);
      throw UserError(where + " has no option '" + key + "' (options: set, as_of, records, expect)");
    }
    lua_pop(L, 1);
  }
  t.as_of = opt_field(L, body, "as_of", where);
  lua_getfield(L, body, "set");
  if (lua_istable(L, -1)) {
    FixtureRow values;
    flatten(L, "", values, where);
    for (auto& [k, v] : values) t.sets.emplace_back(k, v);
  }
  lua_pop(L, 1);
  lua_getfield(L, body, "records");
  if (lua_istable(L, -1)) {
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      std::string system = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
      if (!spec.find_system(system)) {
        std::vector<std::string> names;
        for (const auto& s : spec.systems) names.push_back(s.name);
        std::string hint = did_you_mean(system, names);
        lua_pop(L, 4);
        throw UserError(where + ": records for system '" + system + "', which the stack does not declare" +
                        (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
      }
      auto& rows = t.records[system];
      for (lua_Integer i = 1; lua_rawgeti(L, -1, i) == LUA_TTABLE; ++i) {
        FixtureRow row;
        flatten(L, "", row, where);
        rows.push_back(std::move(row));
        lua_pop(L, 1);
      }
      lua_pop(L, 2);
    }
  }
  lua_pop(L, 1);
  lua_getfield(L, body, "expect");
  if (lua_istable(L, -1)) {
    for (lua_Integer i = 1; lua_rawgeti(L, -1, i) == LUA_TTABLE; ++i) {
      int e = lua_gettop(L);
      Expectation x;
      x.loc = t.loc;
      auto positional = [&](int n, const char* name) {
        lua_rawgeti(L, e, n);
        bool ok = false;
        std::string v = scalar_text(L, -1, ok);
        lua_pop(L, 1);
        if (!ok) v = opt_field(L, e, name, where).value_or("");
        return v;
      };
      x.key = positional(1, "key");
      x.rule = positional(2, "rule");
      x.outcome = positional(3, "outcome");
      x.reconcile = opt_field(L, e, "reconcile", where).value_or("");
      x.expected = opt_field(L, e, "expected", where);
      x.actual = opt_field(L, e, "actual", where);
      x.delta = opt_field(L, e, "delta", where);
      x.message = opt_field(L, e, "message", where);
      static const char* outcomes[] = {"pass", "fail", "warn", "skip", "error", "pending"};
      bool known = false;
      for (const char* o : outcomes) known = known || x.outcome == o;
      if (x.key.empty() || x.rule.empty() || !known) {
        lua_pop(L, 3);
        throw UserError(where + ": expectation " + std::to_string(i) +
                        " needs { key, rule, outcome } with outcome pass, fail, warn, skip, error or pending");
      }
      t.expect.push_back(std::move(x));
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 2);  // expect (or nil), body
  return t;
}

}  // namespace

std::vector<TestCase> load_stack_tests(LoadedStack& stack) {
  fs::path dir = fs::path(stack.spec.dir) / "tests";
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.path().extension() == ".lua") files.push_back(entry.path().lexically_normal().string());
  std::sort(files.begin(), files.end());
  if (files.empty()) throw UserError("no tests: " + (dir / "*.lua").string() + " (see docs/stack.md: Testing a stack before go-live)");

  LuaState& lua = stack.host->lua();
  lua_State* L = lua.L();
  lua_newtable(L);
  int list = lua_gettop(L);
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    try {
      lua.load(ss.str(), file);
      // The stack is sealed: each test file gets an environment of its own, holding `test`.
      lua_pushcfunction(L, test_file_env);
      lua_pushvalue(L, -2);
      lua_pushvalue(L, list);
      lua.pcall(2, 0);
      lua.pcall(0, 0);
    } catch (const ScriptError& e) {
      lua_settop(L, list - 1);
      throw UserError(e.what());
    }
  }
  std::vector<TestCase> tests;
  for (lua_Integer i = 1; lua_rawgeti(L, list, i) == LUA_TTABLE; ++i) {
    try {
      tests.push_back(read_test(L, stack.spec));
    } catch (...) {
      lua_settop(L, list - 1);
      throw;
    }
  }
  lua_settop(L, list - 1);
  return tests;
}

}  // namespace seam
