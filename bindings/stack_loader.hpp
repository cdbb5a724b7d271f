#pragma once
#include <memory>
#include <string>

#include "bindings/script_host.hpp"
#include "engine/spec/stack_spec.hpp"

namespace seam {

struct LoadedStack {
  StackSpec spec;
  std::unique_ptr<LuaScriptHost> host;  // runs the stack's Lua functions; owns the Lua state
};

// Loads `path` (a stack folder holding stack.lua, or a .lua file) in the sandbox and
// returns its declarations. Throws UserError with file:line and a hint for a syntax
// error, a misuse of the DSL or a reference to something undeclared.
LoadedStack load_stack(const std::string& path, LuaLimits limits = {});

// Names of the rule libraries shipped in rules/ ("periods", ...).
std::vector<std::string> rule_library_names();

}  // namespace seam
