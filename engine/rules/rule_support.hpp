#pragma once
// What every built-in rule family needs to read a group: its two sides, and how records
// are named in verdict messages.
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "engine/rules/builtin.hpp"

namespace seam {

using Rows = std::span<const uint32_t>;

struct SideRef {
  const RecordSet* rs;
  Rows rows;
  const char* system;
};

inline SideRef side_of(Side s, const MatchGroup& g, const RuleContext& c) {
  return s == Side::Left ? SideRef{c.left, c.match->left_of(g), c.reconcile->left.c_str()}
                         : SideRef{c.right, c.match->right_of(g), c.reconcile->right.c_str()};
}

inline Verdict skip_no(const SideRef& s) { return Verdict::make(Outcome::Skip, std::string("no ") + s.system + " record"); }

// "CR-9005, CR-9006" (the first five, then how many in all).
std::string ids_of(const SideRef& s);

// "CR-9006 (erp.ndjson:6)": a record as a person finds it in its file.
std::string record_where(const RecordSet& rs, uint32_t rec);

// An error verdict for a sum or difference of money or quantities that does not fit int64:
// wrapped, it would compare as some unrelated number and could pass. Names the records so
// a person can find the absurd value; `what` is e.g. "the sum of amount".
Verdict overflow_error(const std::string& what, const SideRef& s, const char* units = "minor units");
Verdict overflow_error(const std::string& what, const SideRef& l, const SideRef& r, const char* units = "minor units");

// "12 min 30 s".
std::string minutes_text(int64_t us);

// The unit a count field is in: the stack's base unit ("each") for a quantity field of a
// stack that declares units, else empty (a plain integer count).
std::string count_unit(const SystemSpec& sys, int field);
// "29 each", or "29" with no unit.
inline std::string count_text(int64_t n, const std::string& unit) {
  return unit.empty() ? std::to_string(n) : std::to_string(n) + " " + unit;
}

// The index of `field` in `sys`, checked to be of one of `kinds` (any kind when empty);
// throws UserError at the rule's file:line otherwise. `role` says which field ("left").
int field_of(const SystemSpec& sys, const std::string& field, const RuleSpec& rule, const char* role,
             std::initializer_list<FieldKind> kinds = {});

// A threshold's value, nullopt when the rule does not set it.
std::optional<Decimal> maybe(const NumberRef& ref, const ParamValues& params, const SourceLoc& loc);
int64_t minutes_us(const Decimal& d);

// The record pairs a pairwise rule compares (equal, within, amount_equal per record): every
// left record with every right one, or in a paired group (engine/match/pairing.hpp) the
// best-fit pairs only, so a key held twice does not make a rule judge the wrong partners.
// `f(left_row, right_row)` returns true to go on, false to stop.
template <typename F>
void each_pair(const SideRef& l, const SideRef& r, const MatchGroup& g, const RuleContext& c, F f) {
  if (c.match->is_paired(g)) {
    for (size_t i = 0; i < l.rows.size() && i < r.rows.size(); ++i)
      if (!f(l.rows[i], r.rows[i])) return;
    return;
  }
  for (uint32_t lr : l.rows)
    for (uint32_t rr : r.rows)
      if (!f(lr, rr)) return;
}

}  // namespace seam
