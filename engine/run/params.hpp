#pragma once
// Parameter values for one run: each declared param's value and where it came from
// (the stack's default or --set). Ops change thresholds here, never in rule code.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/spec/stack_spec.hpp"

namespace seam {

struct ParamValue {
  ParamType type = ParamType::Number;
  std::string text;  // canonical
  Decimal number;    // integer, number, money
  std::string source;  // "default" or "--set"
};

class ParamValues {
 public:
  // Throws UserError for an unknown name, a wrong type or a value out of range.
  static ParamValues resolve(const StackSpec& stack, const std::vector<std::pair<std::string, std::string>>& overrides);

  const std::map<std::string, ParamValue>& all() const { return values_; }
  // Literal or param value of a threshold; throws UserError for an undeclared param.
  Decimal number(const NumberRef& ref, const SourceLoc& where) const;

 private:
  std::map<std::string, ParamValue> values_;
};

// Validates `text` as a value of `spec` (type and range); the canonical text on success.
Result<ParamValue> parse_param_value(const ParamSpec& spec, const std::string& text);

}  // namespace seam
