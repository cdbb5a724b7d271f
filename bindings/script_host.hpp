#pragma once
#include <memory>
#include <vector>

#include "bindings/lua_state.hpp"
#include "engine/run/params.hpp"
#include "engine/script/script_host.hpp"

namespace seam {

// Runs the Lua functions a stack declared (mapping functions and custom rules). Each
// function is held as a registry reference found once at load time, never looked up
// per record. Owns the LuaState, so references die with it.
class LuaScriptHost final : public ScriptHost {
 public:
  explicit LuaScriptHost(LuaLimits limits);
  LuaState& lua() { return lua_; }

  // Takes the function on top of the stack (popping it); returns its handle.
  int keep_function();
  // Publishes the run's param values to Lua rules as the read-only table `params`.
  void set_params(const ParamValues& values);

  Value map_field(int fn, RowAccess& row, StringArena& arena) override;
  Verdict run_rule(int fn, const GroupView& group) override;

 private:
  LuaState lua_;
  std::vector<int> refs_;
  RowAccess* current_row_ = nullptr;
};

}  // namespace seam
