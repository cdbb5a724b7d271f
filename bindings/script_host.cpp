#include "bindings/script_host.hpp"

#include <lua.hpp>

#include "bindings/lua_values.hpp"

namespace seam {
namespace {

// Clears the current-row slot however the call ends.
struct RowScope {
  RowAccess*& slot;
  RowScope(RowAccess*& s, RowAccess* row) : slot(s) { slot = row; }
  ~RowScope() { slot = nullptr; }
};

std::string field_text(lua_State* L, int table, const char* key) {
  int t = lua_absindex(L, table);
  lua_pushstring(L, key);
  lua_rawget(L, t);  // raw: a returned table's metamethods must not run outside pcall
  std::string out;
  // Only strings are read: the prelude's verdict helpers already ran tostring inside the
  // rule's protected call, so no metamethod can raise out here.
  if (lua_type(L, -1) == LUA_TSTRING) {
    size_t len = 0;
    const char* s = lua_tolstring(L, -1, &len);
    out.assign(s, len);
  }
  lua_pop(L, 1);
  return out;
}

void push_side(lua_State* L, const RecordSet* rs, std::span<const uint32_t> rows) {
  lua_createtable(L, static_cast<int>(rows.size()), 0);
  for (size_t i = 0; i < rows.size(); ++i) {
    push_record(L, rs, rows[i]);
    lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
  }
}

}  // namespace

LuaScriptHost::LuaScriptHost(LuaLimits limits) : lua_(limits) {}

int LuaScriptHost::keep_function() {
  refs_.push_back(luaL_ref(lua_.L(), LUA_REGISTRYINDEX));
  return static_cast<int>(refs_.size() - 1);
}

void LuaScriptHost::set_params(const ParamValues& values) {
  lua_State* L = lua_.L();
  lua_createtable(L, 0, static_cast<int>(values.all().size()));
  for (const auto& [name, v] : values.all()) {
    switch (v.type) {
      case ParamType::Integer: lua_pushinteger(L, v.number.units); break;
      case ParamType::Number: {
        double d = static_cast<double>(v.number.units);
        for (int s = 0; s < v.number.scale; ++s) d /= 10;
        lua_pushnumber(L, d);
        break;
      }
      case ParamType::Boolean: lua_pushboolean(L, v.number.units != 0); break;
      case ParamType::Money:  // exact text: money never becomes a float
      case ParamType::Text: lua_pushlstring(L, v.text.data(), v.text.size()); break;
    }
    lua_setfield(L, -2, name.c_str());
  }
  // Read-only proxy: rules read thresholds, they do not set them.
  lua_newtable(L);
  lua_newtable(L);
  lua_pushvalue(L, -3);
  lua_setfield(L, -2, "__index");
  lua_pushliteral(L, "locked");
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
  lua_pushglobaltable(L);
  lua_pushvalue(L, -2);
  lua_rawsetp(L, LUA_REGISTRYINDEX, this);  // keep the proxy reachable
  lua_pushliteral(L, "params");
  lua_pushvalue(L, -3);
  lua_rawset(L, -3);
  lua_pop(L, 3);
}

Value LuaScriptHost::map_field(int fn, RowAccess& row, StringArena& arena) {
  lua_State* L = lua_.L();
  RowScope scope(current_row_, &row);
  lua_rawgeti(L, LUA_REGISTRYINDEX, refs_[static_cast<size_t>(fn)]);
  push_row(L, &current_row_);
  lua_.pcall(1, 1);
  Value v;
  std::string why;
  bool ok = to_value(L, -1, arena, v, why);
  lua_pop(L, 1);
  if (!ok) throw ScriptError(why);
  return v;
}

Verdict LuaScriptHost::run_rule(int fn, const GroupView& g) {
  lua_State* L = lua_.L();
  lua_rawgeti(L, LUA_REGISTRYINDEX, refs_[static_cast<size_t>(fn)]);
  lua_createtable(L, 0, 6);
  lua_pushlstring(L, g.key.data(), g.key.size());
  lua_setfield(L, -2, "key");
  lua_pushstring(L, g.reconcile->name.c_str());
  lua_setfield(L, -2, "reconcile");
  push_side(L, g.left, g.left_rows);
  lua_setfield(L, -2, "left");
  push_side(L, g.right, g.right_rows);
  lua_setfield(L, -2, "right");
  if (!g.left_rows.empty()) {
    push_record(L, g.left, g.left_rows[0]);
    lua_setfield(L, -2, "l");
  }
  if (!g.right_rows.empty()) {
    push_record(L, g.right, g.right_rows[0]);
    lua_setfield(L, -2, "r");
  }
  try {
    lua_.pcall(1, 1);
  } catch (const ScriptError& e) {
    return Verdict::make(Outcome::Error, std::string("rule raised an error: ") + e.what());
  }
  Verdict v;
  if (lua_isboolean(L, -1)) {
    v = lua_toboolean(L, -1) ? Verdict::pass() : Verdict::make(Outcome::Fail, "rule returned false");
  } else if (lua_istable(L, -1)) {
    std::string outcome = field_text(L, -1, "outcome");
    if (outcome == "pass") v.outcome = Outcome::Pass;
    else if (outcome == "fail") v.outcome = Outcome::Fail;
    else if (outcome == "warn") v.outcome = Outcome::Warn;
    else if (outcome == "skip") v.outcome = Outcome::Skip;
    else v = Verdict::make(Outcome::Error, "rule returned a table that is not a verdict; return pass(), fail(...), warn(...) or skip(...)");
    if (v.outcome != Outcome::Error) {
      v.message = field_text(L, -1, "message");
      v.expected = field_text(L, -1, "expected");
      v.actual = field_text(L, -1, "actual");
      v.delta = field_text(L, -1, "delta");
      if (v.outcome != Outcome::Pass && v.message.empty()) v.message = std::string("rule returned ") + outcome_name(v.outcome);
    }
  } else {
    v = Verdict::make(Outcome::Error, std::string("rule returned ") + luaL_typename(L, -1) +
                                          "; return pass(), fail(...), warn(...) or skip(...)");
  }
  lua_pop(L, 1);
  return v;
}

}  // namespace seam
