#pragma once
// The one owner of a lua_State. Every host→Lua call goes through pcall(), which arms
// the instruction budget, installs a message handler and turns any Lua error into a
// ScriptError carrying chunk:line. Nothing outside bindings/ includes lua.h.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/script/script_host.hpp"

struct lua_State;

namespace seam {

struct LuaLimits {
  size_t memory_bytes = 256u << 20;          // whole state; a rule past it gets an error verdict
  // ~0.1-0.3 s of Lua: far above any honest rule. Also spent by work done in C for the
  // script: per pattern match a step, one per 8 bytes it examined and one per 50 ns it
  // took; per table element shifted by table.move/insert/remove; per 64 bytes allocated
  // or scanned by plain find.
  uint64_t instructions_per_call = 20'000'000;
  // Backstop in wall-clock time, checked by the hook every 1000 instructions: a few
  // instructions can each compare or scan hundreds of MB in C (s == t on two long
  // strings), which the instruction count does not see. Far above any honest call.
  int seconds_per_call = 10;
};

class LuaState {
 public:
  explicit LuaState(LuaLimits limits = {});
  ~LuaState();
  LuaState(const LuaState&) = delete;
  LuaState& operator=(const LuaState&) = delete;

  lua_State* L() const { return L_; }
  const LuaLimits& limits() const { return limits_; }
  size_t memory_used() const { return used_; }

  // Compiles text only (bytecode is refused) and pushes the chunk; `name` appears in
  // messages as name:line. Throws ScriptError on a syntax error.
  void load(std::string_view source, const std::string& name);
  // Calls the function below its `nargs` arguments, leaving `nresults` results.
  // Throws ScriptError (chunk:line: message) when it raises, exceeds its instruction
  // budget or the memory cap. The stack is balanced either way.
  void pcall(int nargs, int nresults);
  // The one way host code does Lua work that may raise (allocate, call a function):
  // runs fn(ud) under pcall(). fn is a lua_CFunction that finds `ud` as its only
  // argument (a light userdata); it must keep no C++ object with a destructor alive
  // across a Lua call, since an error longjmps out of it.
  void protected_call(int (*fn)(lua_State*), void* ud, int nresults);

  // True once the running call exceeded its instruction budget or the memory cap. From
  // then on the hook raises at every instruction, so the script's own pcall or xpcall
  // cannot swallow the stop, and the call fails whatever the script returns.
  bool stopped() const { return budget_tripped_ || memory_tripped_; }
  // True (and stopped from then on) once the call has run past its time limit.
  bool past_deadline();
  std::string stop_message() const;
  // Adds work done in C on the script's behalf (pattern matching steps); true when that
  // exceeds the budget.
  bool charge(uint64_t steps) { return over_budget(steps); }
  // Raises the stop (chunk:line of the calling Lua function: the message) and makes the
  // hook raise at every instruction from now on. For C functions that charge(); never returns.
  [[noreturn]] static void raise_stop(lua_State* L);
  // Raises the string on top of the stack as the stop, remembering it: whatever the
  // script does after (catch it, return, raise something else), the call fails with the
  // first stop's message and line.
  [[noreturn]] static void raise_recorded_stop(lua_State* L);
  // Pushes "chunk:line: " of the nearest Lua function on the call stack (past C
  // functions such as pcall), or "" when there is none.
  static void push_where(lua_State* L);

  // For the hook and the allocator (C callbacks).
  static LuaState* from(lua_State* L);
  bool over_budget(uint64_t step);
  void* allocate(void* ptr, size_t old_size, size_t new_size);

 private:
  lua_State* L_ = nullptr;
  LuaLimits limits_;
  size_t used_ = 0;
  uint64_t spent_ = 0;
  bool budget_tripped_ = false;
  bool memory_tripped_ = false;
  bool time_tripped_ = false;
  std::chrono::steady_clock::time_point deadline_{};
  bool clock_started_ = false;  // deadline_ is set (see past_deadline)
  bool in_call_ = false;  // inside pcall(): the hook is armed
  void arm_stop();
  char first_stop_[512] = "";  // chunk:line: message of the budget's first stop in this call
};

}  // namespace seam
