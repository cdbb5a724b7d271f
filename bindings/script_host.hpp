#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "bindings/lua_state.hpp"
#include "engine/spec/params.hpp"
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
  // A fresh state loaded from the same stack texts (not re-read from disk), with the same
  // params; nullptr when no way to load it was given.
  std::unique_ptr<ScriptHost> replicate() const override;
  // How replicate() loads a new host: set once by the stack loader. It must keep the
  // functions in the same order, so the handles mean the same functions.
  void set_loader(std::function<std::unique_ptr<LuaScriptHost>()> load) { load_again_ = std::move(load); }
  size_t function_count() const { return refs_.size(); }

 private:
  LuaState lua_;
  std::vector<int> refs_;
  int ref_of(int fn) const;  // the registry ref of a handle; throws std::logic_error for a bad one
  std::function<std::unique_ptr<LuaScriptHost>()> load_again_;
  std::optional<ParamValues> params_;  // what set_params published, for replicas
  RowAccess* current_row_ = nullptr;
  int row_ref_ = -2;  // LUA_NOREF until the first mapping call makes the row object
  uint64_t group_serial_ = 0;  // moves on after each rule call: a group kept past its call raises
};

}  // namespace seam
