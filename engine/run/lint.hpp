#pragma once
// Warnings for `seam check`: legal stacks that are probably not what their author meant.
#include <vector>

#include "engine/spec/stack_spec.hpp"

namespace seam {

// Params no rule reads, systems never reconciled, Lua rules that read g.l.X / g.r.X where
// the system declares no X (a textual check: fields reached through variables are not
// seen), causes that can never be linked (lint_causes), seam functions the stack redefines.
std::vector<Warning> lint_stack(const StackSpec& spec);

}  // namespace seam
