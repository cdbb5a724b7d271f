#pragma once
// Declarations that load and resolve but cannot work at run time: each would reject every
// row or fail every group for a reason visible without data. Run by validate_stack after
// fields and rules are resolved, so `seam check` refuses them with file:line.
#include "engine/spec/params.hpp"
#include "engine/spec/stack_spec.hpp"

namespace seam {

// Throws UserError naming the declaration, what makes it unworkable and what to write.
void refuse_unworkable(const StackSpec& spec, const ParamValues& params);

}  // namespace seam
