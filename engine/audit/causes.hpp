#pragma once
// Which open exceptions explain a failure, and how much of it: the audit side of a rule's
// declared caused_by (engine/run/causes.hpp names the keys to look at).
//
// An exception's stake is a signed amount: its delta (right minus left, as every rule
// reports it: money, or a count in base units), else its right amount minus its left one.
// A candidate cause is linked only when it can explain the effect: both stakes known, in
// the same currency (or both counts), not zero, and signed as the rule expects (same_sign,
// opposite_sign); with "any" every candidate is linked and nothing is measured. Linked
// causes explain the effect's magnitude oldest first (by id), each at most its own
// magnitude and at most what is still unexplained.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/audit/db.hpp"
#include "engine/value/money.hpp"

namespace seam {

struct ReconcileReport;

struct Stake {
  int64_t amount = 0;         // minor units of `currency`, or base units when currency is 0
  CurrencyCode currency = 0;
  std::string unit{};         // a count's unit ("each", "min"; empty for a bare count): counts
                              // explain only counts in the same unit
};

// nullopt when neither the delta ("-50.00 USD", "-28") nor both amounts say it.
std::optional<Stake> exception_stake(std::string_view delta, bool has_amounts, int64_t left_amount,
                                     int64_t right_amount, CurrencyCode currency);

struct CauseCandidate {
  int64_t id = 0;
  std::optional<Stake> stake;
  std::string expects{};  // its cause's expectation; empty: explain_effect's `expects`
};

struct Explanation {
  struct Link {
    int64_t cause_id = 0;
    std::optional<int64_t> explains;  // magnitude explained; nullopt when not measured ("any")
  };
  std::vector<Link> links;  // in cause id order
  bool measured = false;    // the effect's stake is known and the expectation is a sign
  int64_t of = 0, explained = 0;  // the effect's magnitude and the part its causes explain
  CurrencyCode currency = 0;
};

// `expects`: "same_sign", "opposite_sign" or "any", for the candidates that bring none (a
// rule with several causes expects per cause). "any" candidates are linked, measuring nothing.
Explanation explain_effect(const std::optional<Stake>& effect, std::vector<CauseCandidate> candidates,
                           const std::string& expects);

// "50.00 USD", or "28" for a count.
std::string format_stake(int64_t amount, CurrencyCode currency);

// For every failing finding with a declared cause, inside the run's sealing transaction
// and after its exceptions are written: replaces the effect's rows in exception_causes
// with the unresolved exceptions that explain it now, and sets exceptions.caused_by to the
// first of them (NULL when none).
void link_causes(Db& db, const std::string& stack, const std::vector<ReconcileReport>& reports);

}  // namespace seam
