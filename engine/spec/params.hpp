#pragma once
// Parameter values for one run: each declared param's value and where it came from
// (the stack's default or --set). Ops change thresholds here, never in rule code.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/spec/stack_spec.hpp"

namespace seam {

// One value set outside the stack: by a thresholds file line, or by --set.
struct ParamSetting {
  std::string name, value;
  std::string source;  // "thresholds.lua:3" or "--set"
};

struct ParamValue {
  ParamType type = ParamType::Number;
  std::string text;  // canonical
  Decimal number;    // integer, number, money
  std::string source;  // "default", "--set", or the file:line that set it
};

class ParamValues {
 public:
  // Defaults, then `file` settings, then `--set` overrides (each later one wins). Throws
  // UserError for an unknown name, a wrong type or a value out of range, naming where
  // the value came from (the file's line, or --set).
  static ParamValues resolve(const StackSpec& stack, const std::vector<std::pair<std::string, std::string>>& overrides,
                             const std::vector<ParamSetting>& file = {});

  const std::map<std::string, ParamValue>& all() const { return values_; }
  // Literal or param value of a threshold; throws UserError for an undeclared param.
  Decimal number(const NumberRef& ref, const SourceLoc& where) const;

 private:
  std::map<std::string, ParamValue> values_;
};

// Validates `text` as a value of `spec` (type and range); the canonical text on success.
Result<ParamValue> parse_param_value(const ParamSpec& spec, const std::string& text);

}  // namespace seam
