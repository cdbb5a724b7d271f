#pragma once
// Threshold files for ops: values only, as Lua assignments, one per line:
//
//     lag_minutes = 45
//     amount_tolerance = "0.05"
//
// Run in a sandbox that allows nothing but assigning constants, so each value keeps the
// line it was set on for error messages and for the audit log.
#include <string>
#include <vector>

#include "engine/spec/params.hpp"

namespace seam {

// Throws UserError with file:line for a syntax error, a value that is not a number, text
// or boolean, a name set twice, or anything but assignments.
std::vector<ParamSetting> load_params_file(const std::string& path);

}  // namespace seam
