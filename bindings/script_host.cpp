#include "bindings/script_host.hpp"

#include <stdexcept>

#include <lua.hpp>

#include "bindings/lua_values.hpp"
#include "bindings/sandbox.hpp"

namespace seam {
namespace {

// Clears the current-row slot however the call ends.
struct RowScope {
  RowAccess*& slot;
  RowScope(RowAccess*& s, RowAccess* row) : slot(s) { slot = row; }
  ~RowScope() { slot = nullptr; }
};

// Copies the string at `idx` (nil or anything else gives ""). Called after the protected
// call returned, on values it left: reading a string neither allocates nor raises.
std::string text_at(lua_State* L, int idx) {
  if (lua_type(L, idx) != LUA_TSTRING) return {};
  size_t len = 0;
  const char* s = lua_tolstring(L, idx, &len);
  return std::string(s, len);
}

// Ends a group's readability however the call ends.
struct GroupScope {
  uint64_t& live;
  explicit GroupScope(uint64_t& l) : live(l) {}
  ~GroupScope() { ++live; }
};

// What the protected helpers below receive as their light userdata.
struct RuleCall {
  int ref;
  const GroupView* g;
  const uint64_t* live;
};
static_assert(LUA_NOREF == -2, "LuaScriptHost::row_ref_ starts as LUA_NOREF");

struct MapCall {
  int ref;
  RowAccess** slot;
  int* row_ref;  // the host's one row object, made at its first mapping call
};
struct ParamsCall {
  const ParamValues* values;
  const void* key;  // registry slot that keeps the proxy reachable
};

constexpr const char* kVerdictFields[] = {"outcome", "message", "expected", "actual", "delta"};

// Pushes the group's view, calls the rule and leaves 6 values: its result, then the
// result's verdict fields (raw reads, so no metamethod of a returned table runs) or nils.
// Everything that can raise (allocation, the rule itself) happens in here, under pcall.
int call_rule(lua_State* L) {
  const auto* c = static_cast<const RuleCall*>(lua_touserdata(L, 1));
  lua_settop(L, 0);
  lua_rawgeti(L, LUA_REGISTRYINDEX, c->ref);
  push_group(L, c->g, c->live);
  lua_call(L, 1, 1);
  bool table = lua_istable(L, 1);
  for (const char* key : kVerdictFields) {
    if (table) {
      lua_pushstring(L, key);
      lua_rawget(L, 1);
    } else {
      lua_pushnil(L);
    }
  }
  return 6;
}

int call_mapping(lua_State* L) {
  const auto* c = static_cast<const MapCall*>(lua_touserdata(L, 1));
  lua_settop(L, 0);
  lua_rawgeti(L, LUA_REGISTRYINDEX, c->ref);
  // One row object per host, not one per row: it reads whichever row the host's slot
  // holds, and only during a mapping call (outside one it raises), so a function that kept
  // it could never read another call's row through it anyway.
  if (*c->row_ref == LUA_NOREF) {
    push_row(L, c->slot);
    lua_pushvalue(L, -1);
    *c->row_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  } else {
    lua_rawgeti(L, LUA_REGISTRYINDEX, *c->row_ref);
  }
  lua_call(L, 1, 1);
  return 1;
}

int publish_params(lua_State* L) {
  const auto* c = static_cast<const ParamsCall*>(lua_touserdata(L, 1));
  lua_settop(L, 0);
  lua_createtable(L, 0, static_cast<int>(c->values->all().size()));
  for (const auto& [name, v] : c->values->all()) {  // references and iterators only: nothing to destroy
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
  push_read_only_proxy(L, -1, "params");
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, c->key);  // keep the proxy reachable
  push_shared_globals(L);  // where rules read `params` from, past their own environment
  lua_pushliteral(L, "params");
  lua_pushvalue(L, -3);
  lua_rawset(L, -3);
  return 0;
}

// The function (argument 1) gets an environment of its own, then a registry reference,
// returned; both allocate, so both run protected.
int own_env_and_ref(lua_State* L) {
  lua_settop(L, 1);
  give_private_env(L, 1);
  lua_pushinteger(L, luaL_ref(L, LUA_REGISTRYINDEX));
  return 1;
}

}  // namespace

LuaScriptHost::LuaScriptHost(LuaLimits limits) : lua_(limits) {}

int LuaScriptHost::keep_function() {
  lua_State* L = lua_.L();
  lua_pushcfunction(L, own_env_and_ref);
  lua_insert(L, -2);
  lua_.pcall(1, 1);
  refs_.push_back(static_cast<int>(lua_tointeger(L, -1)));
  lua_pop(L, 1);
  return static_cast<int>(refs_.size() - 1);
}

void LuaScriptHost::set_params(const ParamValues& values) {
  params_ = values;
  ParamsCall call{&values, this};
  lua_.protected_call(publish_params, &call, 0);
}

std::unique_ptr<ScriptHost> LuaScriptHost::replicate() const {
  if (!load_again_) return nullptr;
  std::unique_ptr<LuaScriptHost> h = load_again_();
  // A load that kept other functions would run the wrong one under a handle.
  if (!h || h->refs_.size() != refs_.size())
    throw ScriptError("another Lua state for a worker thread kept " + std::to_string(h ? h->refs_.size() : 0) +
                      " functions where the stack's first load kept " + std::to_string(refs_.size()));
  if (params_) h->set_params(*params_);
  return h;
}

// A handle the stack loader did not hand out is a bug in seam, not in the stack: say so
// rather than call whatever the registry holds there.
int LuaScriptHost::ref_of(int fn) const {
  if (fn < 0 || static_cast<size_t>(fn) >= refs_.size())
    throw std::logic_error("Lua function handle " + std::to_string(fn) + " is not one of the stack's " +
                           std::to_string(refs_.size()) + " functions");
  return refs_[static_cast<size_t>(fn)];
}

Value LuaScriptHost::map_field(int fn, RowAccess& row, StringArena& arena) {
  lua_State* L = lua_.L();
  RowScope scope(current_row_, &row);
  MapCall call{ref_of(fn), &current_row_, &row_ref_};
  lua_.protected_call(call_mapping, &call, 1);  // throws ScriptError: the caller rejects the row
  Value v;
  std::string why;
  bool ok = to_value(L, -1, arena, v, why);
  lua_pop(L, 1);
  if (!ok) throw ScriptError(why);
  return v;
}

Verdict LuaScriptHost::run_rule(int fn, const GroupView& g) {
  lua_State* L = lua_.L();
  GroupScope scope(group_serial_);
  RuleCall call{ref_of(fn), &g, &group_serial_};
  try {
    lua_.protected_call(call_rule, &call, 6);
  } catch (const ScriptError& e) {
    return Verdict::make(Outcome::Error, std::string("rule raised an error: ") + e.what());
  }
  const int result = lua_gettop(L) - 5;
  Verdict v;
  if (lua_isboolean(L, result)) {
    v = lua_toboolean(L, result) ? Verdict::pass() : Verdict::make(Outcome::Fail, "rule returned false");
  } else if (lua_istable(L, result)) {
    std::string outcome = text_at(L, result + 1);
    if (outcome == "pass") v.outcome = Outcome::Pass;
    else if (outcome == "fail") v.outcome = Outcome::Fail;
    else if (outcome == "warn") v.outcome = Outcome::Warn;
    else if (outcome == "skip") v.outcome = Outcome::Skip;
    else v = Verdict::make(Outcome::Error, "rule returned a table that is not a verdict; return pass(), fail(...), warn(...) or skip(...)");
    if (v.outcome != Outcome::Error) {
      v.message = text_at(L, result + 2);
      v.expected = text_at(L, result + 3);
      v.actual = text_at(L, result + 4);
      v.delta = text_at(L, result + 5);
      if (v.outcome != Outcome::Pass && v.message.empty()) v.message = std::string("rule returned ") + outcome_name(v.outcome);
    }
  } else {
    v = Verdict::make(Outcome::Error, std::string("rule returned ") + luaL_typename(L, result) +
                                          "; return pass(), fail(...), warn(...) or skip(...)");
  }
  lua_settop(L, result - 1);
  return v;
}

}  // namespace seam
