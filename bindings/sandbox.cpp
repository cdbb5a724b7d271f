#include "bindings/sandbox.hpp"

#include <lua.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <string>
#include <vector>

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
