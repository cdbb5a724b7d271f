#include "engine/rules/verdict.hpp"

namespace seam {

const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::Pass: return "pass";
    case Outcome::Fail: return "fail";
    case Outcome::Warn: return "warn";
    case Outcome::Skip: return "skip";
    case Outcome::Error: return "error";
    case Outcome::Pending: return "pending";
  }
  return "?";
}

char outcome_code(Outcome o) {
  static const char codes[] = {'P', 'F', 'W', 'S', 'E', 'N'};
  return codes[static_cast<size_t>(o)];
}

std::optional<Outcome> outcome_from_code(char c) {
  for (int i = 0; i < kOutcomeCount; ++i)
    if (outcome_code(static_cast<Outcome>(i)) == c) return static_cast<Outcome>(i);
  return std::nullopt;
}

}  // namespace seam
