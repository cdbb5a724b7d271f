#include "bindings/sandbox.hpp"

#include <lua.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "bindings/patterns.hpp"
#include "engine/util/text.hpp"

namespace seam {
namespace {

int sandbox_print(lua_State* L) {
  int n = lua_gettop(L);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int i = 1; i <= n; ++i) {
    if (i > 1) luaL_addchar(&b, '\t');
    luaL_tolstring(L, i, nullptr);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  const char* text = lua_tostring(L, -1);
  lua_Debug ar;
  int line = 0;
  const char* src = "?";
  if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar)) {
    line = ar.currentline;
    src = ar.source[0] == '@' ? ar.source + 1 : ar.short_src;
  }
  spdlog::info("{}:{}: {}", src, line, text);
  return 0;
}

// Strict globals: reading an unknown name is almost always a typo in a stack file.
int unknown_global(lua_State* L) {
  const char* name = lua_tostring(L, 2);
  char hint[128] = "";
  {  // C++ objects live only inside this block: luaL_error below longjmps.
    std::vector<std::string> known;
    lua_pushnil(L);
    while (lua_next(L, 1) != 0) {
      if (lua_type(L, -2) == LUA_TSTRING) known.emplace_back(lua_tostring(L, -2));
      lua_pop(L, 1);
    }
    std::string best = name ? did_you_mean(name, known) : "";
    if (!best.empty()) std::snprintf(hint, sizeof hint, " (did you mean '%s'?)", best.c_str());
  }
  return luaL_error(L, "unknown name '%s'%s", name ? name : "?", hint);
}

// ---- keys of seam's own registry entries (their addresses are the keys) ----
char kFrozenKey;   // weak-keyed: read-only proxy -> what it stands for ("params", "string", ...)
char kBaseKey;     // the shared, frozen globals every environment reads through
char kEnvMetaKey;  // metatable of a function's private environment

// A proxy's __newindex: the shared tables stay as seam and the stack's load left them.
int refuse_write(lua_State* L) {
  const char* what = lua_tostring(L, lua_upvalueindex(1));
  int kt = lua_type(L, 2);
  const char* key = kt == LUA_TSTRING || kt == LUA_TNUMBER ? lua_tostring(L, 2) : luaL_typename(L, 2);
  if (std::strcmp(what, "_G") == 0)
    return luaL_error(L,
                      "cannot assign global '%s' here: globals outside a rule's own function are shared by every "
                      "rule and mapping function; use a local variable",
                      key);
  if (std::strcmp(what, "params") == 0)
    return luaL_error(L, "params.%s is read-only: params are the run's thresholds (set them with --set or thresholds.lua)",
                      key);
  return luaL_error(L, "%s.%s is read-only: seam's libraries are shared by every rule and mapping function; use a "
                       "local function instead", what, key);
}

// pairs(proxy) walks the table behind it without handing that table out.
int proxy_next(lua_State* L) {
  lua_settop(L, 2);
  if (lua_next(L, lua_upvalueindex(1))) return 2;
  lua_pushnil(L);
  return 1;
}
int proxy_pairs(lua_State* L) {
  lua_pushvalue(L, lua_upvalueindex(1));  // proxy_next over the target
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}
int proxy_len(lua_State* L) {
  lua_pushinteger(L, static_cast<lua_Integer>(lua_rawlen(L, lua_upvalueindex(1))));
  return 1;
}

bool is_frozen(lua_State* L, int idx) {
  if (lua_type(L, idx) != LUA_TTABLE) return false;
  idx = lua_absindex(L, idx);
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &kFrozenKey) != LUA_TTABLE) {
    lua_pop(L, 1);
    return false;
  }
  lua_pushvalue(L, idx);
  bool frozen = lua_rawget(L, -2) != LUA_TNIL;
  lua_pop(L, 2);
  return frozen;
}

// rawset would write into a proxy past its __newindex and so change what every rule reads.
int sandbox_rawset(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checkany(L, 2);
  luaL_checkany(L, 3);
  if (is_frozen(L, 1)) {
    lua_rawgetp(L, LUA_REGISTRYINDEX, &kFrozenKey);
    lua_pushvalue(L, 1);
    lua_rawget(L, -2);
    const char* what = lua_tostring(L, -1);
    return luaL_error(L, "rawset: %s is read-only (shared by every rule and mapping function)",
                      std::strcmp(what, "_G") == 0 ? "the global table" : what);
  }
  lua_settop(L, 3);
  lua_rawset(L, 1);
  return 1;
}

// A __gc finalizer runs inside the collector with hooks off: an endless one would hang the
// run past any budget (also at exit). Lua only honours __gc present at setmetatable time.
int sandbox_setmetatable(lua_State* L) {
  int t = lua_type(L, 2);
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
  if (t == LUA_TTABLE) {
    lua_pushliteral(L, "__gc");
    if (lua_rawget(L, 2) != LUA_TNIL) return luaL_error(L, "setmetatable: __gc finalizers are not allowed in seam scripts");
    lua_pop(L, 1);
  }
  if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL) return luaL_error(L, "cannot change a protected metatable");
  lua_settop(L, 2);
  lua_setmetatable(L, 1);
  return 1;
}

// xpcall's message handler runs with hooks off when the error is the budget's own stop
// (raised inside the hook), so a looping handler would never be stopped. Once the call is
// stopped the script's handler is skipped and the stop passes through unchanged.
int guarded_handler(lua_State* L) {
  if (LuaState::from(L)->stopped()) return 1;
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

int sandbox_xpcall(lua_State* L) {
  int n = lua_gettop(L);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_pushvalue(L, 2);
  lua_pushcclosure(L, guarded_handler, 1);
  lua_replace(L, 2);  // f, guarded handler, args...
  lua_pushboolean(L, 1);
  lua_pushvalue(L, 1);
  lua_rotate(L, 3, 2);  // f, handler, true, f, args...
  int status = lua_pcall(L, n - 2, LUA_MULTRET, 2);
  if (status != LUA_OK) {
    lua_pushboolean(L, 0);
    lua_pushvalue(L, -2);
    return 2;  // false, message
  }
  return lua_gettop(L) - 2;  // true, results...
}

// table.move, insert and remove loop in C over ranges the script chooses (or over a
// __len it defines), outside the instruction hook: charge the budget for them first.
int charged_table_call(lua_State* L) {
  int mode = static_cast<int>(lua_tointeger(L, lua_upvalueindex(2)));
  lua_Integer count = 0;
  if (mode == 0) {  // move(a1, f, e, t [, a2]): e - f + 1 elements
    lua_Integer f = luaL_checkinteger(L, 2), e = luaL_checkinteger(L, 3);
    count = e >= f ? (e - f < LUA_MAXINTEGER ? e - f + 1 : LUA_MAXINTEGER) : 0;
  } else if ((mode == 1 && lua_gettop(L) >= 3) || (mode == 2 && lua_gettop(L) >= 2)) {
    // insert(t, pos, v) / remove(t, pos) shift the elements from pos to #t (appending
    // and removing the last one shift nothing, so they cost nothing extra)
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer len = luaL_len(L, 1), pos = luaL_optinteger(L, 2, len);
    count = len > pos && pos > 0 ? len - pos : 0;
  }
  if (count > 0 && LuaState::from(L)->charge(static_cast<uint64_t>(count))) LuaState::raise_stop(L);
  int n = lua_gettop(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, n, LUA_MULTRET);
  return lua_gettop(L);
}

// string.rep("", n) loops n times in C copying nothing: math.maxinteger copies, never
// stopped, and nothing allocated for the budget to see. Empty in, empty out.
int sandbox_rep(lua_State* L) {
  size_t l = 0, lsep = 0;
  luaL_checklstring(L, 1, &l);
  luaL_checkinteger(L, 2);
  luaL_optlstring(L, 3, "", &lsep);
  if (l + lsep == 0) {
    lua_pushliteral(L, "");
    return 1;
  }
  lua_settop(L, 3);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, 3, 1);
  return 1;
}

void wrap_table_function(lua_State* L, int lib, const char* name, int mode) {
  lua_getfield(L, lib, name);
  lua_pushinteger(L, mode);
  lua_pushcclosure(L, charged_table_call, 2);
  lua_setfield(L, lib, name);
}

// Empties the table at `idx` into a new one, returned on top: the table keeps its
// identity (every closure's _ENV still points at it) but becomes a read-only proxy.
void move_contents(lua_State* L, int idx) {
  idx = lua_absindex(L, idx);
  lua_newtable(L);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, -4);
  }
  lua_pushnil(L);
  while (lua_next(L, -2)) {  // clear the original (assigning nil to present keys is allowed mid-traversal)
    lua_pop(L, 1);
    lua_pushvalue(L, -1);
    lua_pushnil(L);
    lua_rawset(L, idx);
  }
}

// Gives the (empty) table at `proxy` the metatable of a read-only view onto `target`.
void make_proxy(lua_State* L, int proxy, int target, const char* what) {
  proxy = lua_absindex(L, proxy);
  target = lua_absindex(L, target);
  lua_createtable(L, 0, 5);
  lua_pushvalue(L, target);
  lua_setfield(L, -2, "__index");
  lua_pushstring(L, what);
  lua_pushcclosure(L, refuse_write, 1);
  lua_setfield(L, -2, "__newindex");
  lua_pushvalue(L, target);
  lua_pushcclosure(L, proxy_next, 1);
  lua_pushcclosure(L, proxy_pairs, 1);
  lua_setfield(L, -2, "__pairs");
  lua_pushvalue(L, target);
  lua_pushcclosure(L, proxy_len, 1);
  lua_setfield(L, -2, "__len");
  lua_pushliteral(L, "locked");
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, proxy);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kFrozenKey);
  lua_pushvalue(L, proxy);
  lua_pushstring(L, what);
  lua_rawset(L, -3);
  lua_pop(L, 1);
}

}  // namespace

void open_sandbox(LuaState& lua) {
  lua_State* L = lua.L();
  static const luaL_Reg libs[] = {{LUA_GNAME, luaopen_base},     {LUA_STRLIBNAME, luaopen_string},
                                  {LUA_TABLIBNAME, luaopen_table}, {LUA_MATHLIBNAME, luaopen_math},
                                  {LUA_UTF8LIBNAME, luaopen_utf8}, {LUA_DBLIBNAME, luaopen_debug}};
  for (const auto& lib : libs) {
    luaL_requiref(L, lib.name, lib.func, 1);
    lua_pop(L, 1);
  }
  lua_pushglobaltable(L);
  for (const char* name : {"dofile", "loadfile", "load", "require", "collectgarbage"}) {
    lua_pushnil(L);
    lua_setfield(L, -2, name);
  }
  lua_pushcfunction(L, sandbox_print);
  lua_setfield(L, -2, "print");
  lua_pushcfunction(L, sandbox_rawset);
  lua_setfield(L, -2, "rawset");
  lua_pushcfunction(L, sandbox_setmetatable);
  lua_setfield(L, -2, "setmetatable");
  lua_pushcfunction(L, sandbox_xpcall);
  lua_setfield(L, -2, "xpcall");
  lua_getfield(L, -1, "table");
  int table = lua_gettop(L);
  wrap_table_function(L, table, "move", 0);
  wrap_table_function(L, table, "insert", 1);
  wrap_table_function(L, table, "remove", 2);
  lua_pop(L, 1);
  install_budgeted_patterns(L);
  lua_getfield(L, -1, "string");
  lua_getfield(L, -1, "rep");
  lua_pushcclosure(L, sandbox_rep, 1);
  lua_setfield(L, -2, "rep");
  lua_pop(L, 1);
  lua_newtable(L);  // the frozen set, weak in its keys
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "k");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kFrozenKey);
  lua_getfield(L, -1, "string");
  lua_pushnil(L);
  lua_setfield(L, -2, "dump");
  lua_pop(L, 2);
  // Shared string metatable: protect it so a stack cannot rewire string methods for others.
  lua_pushliteral(L, "");
  lua_getmetatable(L, -1);
  lua_pushliteral(L, "string");
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 2);
}

void lock_sandbox(LuaState& lua) {
  lua_State* L = lua.L();
  lua_pushglobaltable(L);
  lua_pushnil(L);
  lua_setfield(L, -2, "debug");
  lua_pop(L, 1);
  // The loaded-modules table still references debug: drop it too.
  lua_pushnil(L);
  lua_setfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_pushglobaltable(L);
  lua_newtable(L);
  lua_pushcfunction(L, unknown_global);
  lua_setfield(L, -2, "__index");
  lua_pushliteral(L, "locked");
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
  lua_pop(L, 1);
}

}  // namespace seam

namespace seam {

namespace {

int seal_globals(lua_State* L) {
  lua_settop(L, 0);
  // The libraries first: each becomes a proxy onto its own contents. String methods
  // ("x"):format() read the library through the string metatable, pointed at the
  // contents, which no script can reach.
  lua_pushglobaltable(L);
  int globals = lua_gettop(L);
  for (const char* lib : {LUA_STRLIBNAME, LUA_TABLIBNAME, LUA_MATHLIBNAME, LUA_UTF8LIBNAME}) {
    if (lua_getfield(L, globals, lib) != LUA_TTABLE) {
      lua_pop(L, 1);
      continue;
    }
    move_contents(L, -1);
    make_proxy(L, -2, -1, lib);
    if (std::strcmp(lib, LUA_STRLIBNAME) == 0) {
      lua_pushliteral(L, "");
      lua_getmetatable(L, -1);
      lua_pushvalue(L, -3);
      lua_setfield(L, -2, "__index");
      lua_pop(L, 2);
    }
    lua_pop(L, 2);
  }
  // Then the globals: their contents move to a base table every environment reads
  // through; the global table itself (the _ENV of the stack file, its includes and the
  // prelude) keeps its identity but refuses writes.
  move_contents(L, globals);
  int base = lua_gettop(L);
  lua_getmetatable(L, globals);  // strict reads: an unknown name raises, naming it
  lua_setmetatable(L, base);
  make_proxy(L, globals, base, "_G");
  lua_pushvalue(L, base);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kBaseKey);
  lua_createtable(L, 0, 2);  // a private environment: reads fall through to base, writes stay
  lua_pushvalue(L, base);
  lua_setfield(L, -2, "__index");
  lua_pushliteral(L, "locked");
  lua_setfield(L, -2, "__metatable");
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kEnvMetaKey);
  lua_settop(L, 0);
  return 0;
}

}  // namespace

void seal_sandbox(LuaState& lua) { lua.protected_call(seal_globals, nullptr, 0); }

void push_shared_globals(lua_State* L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &kBaseKey) == LUA_TTABLE) return;
  lua_pop(L, 1);
  lua_pushglobaltable(L);  // not sealed yet
}

void push_private_env(lua_State* L) {
  lua_newtable(L);
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &kEnvMetaKey) == LUA_TTABLE) lua_setmetatable(L, -2);
  else lua_pop(L, 1);
}

void give_private_env(lua_State* L, int fn) {
  fn = lua_absindex(L, fn);
  if (lua_iscfunction(L, fn) || !lua_isfunction(L, fn)) return;
  for (int n = 1;; ++n) {
    const char* name = lua_getupvalue(L, fn, n);
    if (name == nullptr) return;  // the function reads no globals
    lua_pop(L, 1);
    if (std::strcmp(name, "_ENV") != 0) continue;
    // The _ENV upvalue is shared with every closure of the same chunk: setting it would
    // change theirs too. Join it to a fresh upvalue instead: that of an empty chunk.
    luaL_loadbufferx(L, "", 0, "=(environment)", "t");
    push_private_env(L);
    lua_setupvalue(L, -2, 1);
    lua_upvaluejoin(L, fn, n, -1, 1);
    lua_pop(L, 1);
    return;
  }
}

void push_read_only_proxy(lua_State* L, int target, const char* what) {
  target = lua_absindex(L, target);
  lua_newtable(L);
  make_proxy(L, -1, target, what);
}

}  // namespace seam
