#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace seam {

// pending: the counterpart may still arrive (inside its lag window); not an exception yet.
enum class Outcome : uint8_t { Pass, Fail, Warn, Skip, Error, Pending };
constexpr int kOutcomeCount = 6;

const char* outcome_name(Outcome o);
char outcome_code(Outcome o);  // one letter, as stored in the audit log's groups.outcomes
std::optional<Outcome> outcome_from_code(char c);
// fail and error are exceptions a person must look at; warn is reported but does not fail a run.
inline bool is_exception(Outcome o) { return o == Outcome::Fail || o == Outcome::Error; }

struct Verdict {
  Outcome outcome = Outcome::Pass;
  std::string message, expected, actual, delta;

  static Verdict pass() { return {}; }
  static Verdict make(Outcome o, std::string message, std::string expected = {}, std::string actual = {},
                      std::string delta = {}) {
    return {o, std::move(message), std::move(expected), std::move(actual), std::move(delta)};
  }
};

}  // namespace seam
