#include "bindings/params_file.hpp"

#include <lua.hpp>

#include <fstream>
#include <sstream>

#include "bindings/lua_state.hpp"
#include "engine/util/result.hpp"

namespace seam {
namespace {

struct Collected {
  std::string file;
  std::vector<ParamSetting> settings;
};

// __newindex of the file's environment: records name, value and line.
int record_assignment(lua_State* L) {
  auto* c = static_cast<Collected*>(lua_touserdata(L, lua_upvalueindex(1)));
  if (lua_type(L, 2) != LUA_TSTRING) return luaL_error(L, "expected assignments such as lag_minutes = 45");
  const char* name = lua_tostring(L, 2);
  int type = lua_type(L, 3);
  if (type != LUA_TNUMBER && type != LUA_TSTRING && type != LUA_TBOOLEAN)
    return luaL_error(L, "param '%s' must be a number, text or boolean, found %s", name, luaL_typename(L, 3));
  lua_Debug ar;
  int line = lua_getstack(L, 1, &ar) && lua_getinfo(L, "l", &ar) ? ar.currentline : 0;
  bool twice = false;
  for (const auto& s : c->settings) twice = twice || s.name == name;
  if (twice) return luaL_error(L, "param '%s' is set twice", name);
  const char* value = type == LUA_TBOOLEAN ? (lua_toboolean(L, 3) ? "true" : "false") : lua_tostring(L, 3);
  c->settings.push_back({name, value, c->file + ":" + std::to_string(line)});
  return 0;
}

int refuse_read(lua_State* L) {
  return luaL_error(L, "a thresholds file holds values only; '%s' is not one", lua_tostring(L, 2));
}

}  // namespace

std::vector<ParamSetting> load_params_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError("params file not found: " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();

  Collected collected{path, {}};
  LuaState lua(LuaLimits{16u << 20, 1'000'000});
  lua_State* L = lua.L();
  try {
    lua.load(text, path);
    lua_newtable(L);  // the chunk's whole environment: no libraries, no globals
    lua_newtable(L);
    lua_pushlightuserdata(L, &collected);
    lua_pushcclosure(L, record_assignment, 1);
    lua_setfield(L, -2, "__newindex");
    lua_pushcfunction(L, refuse_read);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    lua_setupvalue(L, -2, 1);  // _ENV of the main chunk
    lua.pcall(0, 1);
    bool returned = !lua_isnil(L, -1);
    lua_pop(L, 1);
    if (returned)
      throw UserError(path + ": a thresholds file sets values with assignments (lag_minutes = 45), it returns nothing");
  } catch (const ScriptError& e) {
    throw UserError(e.what());
  }
  return collected.settings;
}

}  // namespace seam
