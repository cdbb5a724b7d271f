#pragma once
// The one owner of a lua_State. Every host→Lua call goes through pcall(), which arms
// the instruction budget, installs a message handler and turns any Lua error into a
// ScriptError carrying chunk:line. Nothing outside bindings/ includes lua.h.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/script/script_host.hpp"

struct lua_State;

namespace seam {

struct LuaLimits {
  size_t memory_bytes = 256u << 20;          // whole state; a rule past it gets an error verdict
  uint64_t instructions_per_call = 20'000'000;  // ~0.1-0.3 s of Lua: far above any honest rule
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
};

}  // namespace seam
