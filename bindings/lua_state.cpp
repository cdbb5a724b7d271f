#include "bindings/lua_state.hpp"

#include <lua.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace seam {
namespace {

constexpr int kHookEvery = 1000;  // instructions between budget checks
constexpr size_t kBytesPerStep = 64;  // bytes allocated that cost one instruction of budget

void* counting_alloc(void* ud, void* ptr, size_t osize, size_t nsize) {
  return static_cast<LuaState*>(ud)->allocate(ptr, osize, nsize);
}

void budget_hook(lua_State* L, lua_Debug* ar) {
  LuaState* self = LuaState::from(L);
  if (!self->over_budget(kHookEvery) && !self->stopped() && !self->past_deadline()) return;
  // From here the hook fires on every instruction and raises each time, so a script's
  // own pcall cannot swallow the stop and carry on (the Redis habit).
  lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1);
  lua_getinfo(L, "Sl", ar);
  const char* src = ar->source && ar->source[0] == '@' ? ar->source + 1 : ar->short_src;
  char why[160];
  {  // no C++ object may outlive this block: lua_error longjmps
    std::snprintf(why, sizeof why, "%s", self->stop_message().c_str());
  }
  // lua_error, not luaL_error: the message already names the running line. Near the
  // memory cap the push itself may fail; that raises a memory error, which stops too.
  lua_pushfstring(L, "%s:%d: %s", src, ar->currentline, why);
  LuaState::raise_recorded_stop(L);
}

// Message handler: keeps the error's own chunk:line and appends a traceback for logs.
int message_handler(lua_State* L) {
  // Once stopped, run no Lua (a __tostring metamethod would raise again, and again).
  if (LuaState::from(L)->stopped()) return 1;
  const char* msg = lua_tostring(L, 1);
  if (msg == nullptr) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
    msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

// Reached only by a bug: a raising Lua API call outside pcall(). Say so before Lua aborts.
int panic(lua_State* L) {
  const char* msg = lua_tostring(L, -1);
  std::fprintf(stderr, "seam: internal error: Lua raised outside a protected call: %s\n", msg ? msg : "?");
  return 0;
}

}  // namespace

LuaState::LuaState(LuaLimits limits) : limits_(limits) {
  L_ = lua_newstate(counting_alloc, this);
  if (!L_) throw ScriptError("cannot create a Lua state");
  lua_atpanic(L_, panic);
  *static_cast<LuaState**>(lua_getextraspace(L_)) = this;
}

LuaState::~LuaState() {
  if (L_) lua_close(L_);
}

LuaState* LuaState::from(lua_State* L) { return *static_cast<LuaState**>(lua_getextraspace(L)); }

void* LuaState::allocate(void* ptr, size_t old_size, size_t new_size) {
  if (ptr == nullptr) old_size = 0;  // old_size is then a type tag, not a size
  if (new_size == 0) {
    std::free(ptr);
    used_ -= old_size;
    return nullptr;
  }
  if (new_size > old_size && used_ + (new_size - old_size) > limits_.memory_bytes) {
    // A refusal stops the call for good, like the budget: a script that catches its
    // memory error would otherwise carry on at the cap, and the host's next allocation
    // fail. (Lua may retry after an emergency collection, and not always: while the
    // collector runs it raises at once. An honest rule never gets near the cap, so any
    // refusal counts.)
    memory_tripped_ = true;
    arm_stop();
    return nullptr;
  }
  void* p = std::realloc(ptr, new_size);
  if (p) used_ = used_ - old_size + new_size;
  // Bytes allocated count against the budget too (one instruction per kBytesPerStep):
  // one instruction can copy 200 MB (`s .. s`, string.rep), so a loop of them would
  // otherwise run for hours inside a small instruction count.
  if (p && new_size > old_size && over_budget((new_size - old_size) / kBytesPerStep)) arm_stop();
  return p;
}

// Makes the hook raise at the next instruction. lua_sethook only sets fields, and may be
// called at any moment (lua.c calls it from a signal handler), so also from the allocator.
void LuaState::arm_stop() {
  if (in_call_) lua_sethook(L_, budget_hook, LUA_MASKCOUNT, 1);
}

bool LuaState::over_budget(uint64_t step) {
  spent_ += step;
  if (spent_ > limits_.instructions_per_call) budget_tripped_ = true;
  return budget_tripped_;
}

// The clock starts at a call's first budget check, kHookEvery instructions in: most calls
// (a mapping function, a simple rule) end before it, and reading the clock at every call
// was an eighth of a Lua mapping function's cost on this machine's clock source.
bool LuaState::past_deadline() {
  const auto now = std::chrono::steady_clock::now();
  if (!clock_started_) {
    deadline_ = now + std::chrono::seconds(limits_.seconds_per_call);
    clock_started_ = true;
  } else if (!time_tripped_ && now > deadline_) {
    time_tripped_ = budget_tripped_ = true;
  }
  return time_tripped_;
}

std::string LuaState::stop_message() const {
  if (memory_tripped_)
    return "rule stopped: Lua memory limit of " + std::to_string(limits_.memory_bytes >> 20) + " MiB exceeded";
  if (time_tripped_)
    return "rule stopped: time limit of " + std::to_string(limits_.seconds_per_call) + " s per call exceeded";
  return "rule stopped: instruction budget of " + std::to_string(limits_.instructions_per_call) +
         " exceeded (endless loop?)";
}

void LuaState::load(std::string_view source, const std::string& name) {
  std::string chunk = "@" + name;
  int rc = luaL_loadbufferx(L_, source.data(), source.size(), chunk.c_str(), "t");
  if (rc != LUA_OK) {
    std::string msg = lua_tostring(L_, -1) ? lua_tostring(L_, -1) : "cannot load chunk";
    lua_pop(L_, 1);
    throw ScriptError(msg);
  }
}

void LuaState::pcall(int nargs, int nresults) {
  // A call that filled the heap (and was stopped) leaves its garbage behind; since any
  // refused allocation stops a call, the next one must not start near the cap because of
  // it. A full collection here cannot raise: finalizers are refused by the sandbox.
  if (used_ > limits_.memory_bytes / 2) lua_gc(L_, LUA_GCCOLLECT);
  int base = lua_gettop(L_) - nargs;  // the function's slot
  lua_pushcfunction(L_, message_handler);
  lua_insert(L_, base);
  spent_ = 0;
  budget_tripped_ = memory_tripped_ = time_tripped_ = false;
  clock_started_ = false;
  first_stop_[0] = '\0';
  lua_sethook(L_, budget_hook, LUA_MASKCOUNT, kHookEvery);
  in_call_ = true;
  int rc = lua_pcall(L_, nargs, nresults, base);
  in_call_ = false;
  lua_sethook(L_, nullptr, 0, 0);
  if (rc == LUA_OK && !memory_tripped_ && !budget_tripped_) {
    lua_remove(L_, base);
    return;
  }
  // A stopped call fails even when the script caught the stop and returned (a tail
  // call such as `return xpcall(...)` runs no instruction after it for the hook to raise).
  std::string msg;
  if (rc == LUA_ERRMEM || memory_tripped_) {
    memory_tripped_ = true;
    msg = stop_message();
    memory_tripped_ = false;
  } else if (budget_tripped_) {
    msg = first_stop_[0] ? first_stop_ : stop_message();
  } else {
    size_t len = 0;
    const char* s = lua_tolstring(L_, -1, &len);
    msg = s ? std::string(s, len) : "unknown Lua error";
    // The handler appended a traceback; the message a person reads is the first part.
    if (auto tb = msg.find("\nstack traceback:"); tb != std::string::npos) msg.resize(tb);
  }
  lua_settop(L_, base - 1);
  throw ScriptError(msg);
}

void LuaState::raise_stop(lua_State* L) {
  char why[160];
  {  // no C++ object may outlive this block: luaL_error longjmps
    std::snprintf(why, sizeof why, "%s", from(L)->stop_message().c_str());
  }
  lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1);
  push_where(L);  // the Lua line that called the C function
  lua_pushstring(L, why);
  lua_concat(L, 2);
  raise_recorded_stop(L);
}

void LuaState::push_where(lua_State* L) {
  lua_Debug ar;
  for (int level = 1; lua_getstack(L, level, &ar); ++level) {
    if (!lua_getinfo(L, "Sl", &ar) || ar.currentline <= 0) continue;
    lua_pushfstring(L, "%s:%d: ", ar.source[0] == '@' ? ar.source + 1 : ar.short_src, ar.currentline);
    return;
  }
  lua_pushliteral(L, "");
}

void LuaState::raise_recorded_stop(lua_State* L) {
  LuaState* self = from(L);
  if (!self->memory_tripped_ && self->first_stop_[0] == '\0')
    std::snprintf(self->first_stop_, sizeof self->first_stop_, "%s", lua_tostring(L, -1));
  lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1);
  lua_error(L);
  std::abort();  // lua_error does not return
}

void LuaState::protected_call(int (*fn)(lua_State*), void* ud, int nresults) {
  lua_pushcfunction(L_, fn);  // neither push allocates, so neither can raise out here
  lua_pushlightuserdata(L_, ud);
  pcall(1, nresults);
}

}  // namespace seam
