#pragma once
// Keyless matching: pairs records that share no key, by amount within a tolerance, time
// within a window, and a reference compared after normalisation (equal, containing the
// other, or similar above a threshold), the way bank lines, payouts and manual ERP
// entries are reconciled. Native and indexed: the right side is sorted by (currency,
// amount, time) once, and a left record looks only at the amounts its tolerance allows
// and, inside each, the times its window allows, never at the whole side.
//
// Pairing is one to one and deterministic whatever the input order: every admissible
// pair is scored, pairs are taken best first (closest amount, then closest time, then
// most similar reference, then the records' ids, then their lines), and a record taken
// by a better pair is not offered again.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/mapping/records.hpp"
#include "engine/value/money.hpp"

namespace seam {

class Regex;

struct AmountCriterion {
  int left = -1, right = -1;  // money fields
  Decimal absolute;           // major units: "0.05"
  Decimal percent;            // "1.5" is 1.5 %; within when |delta| <= max(absolute, percent of base)
  ToleranceBase base = ToleranceBase::Left;
};

struct TimeCriterion {
  int left = -1, right = -1;  // time fields
  TimeDirection direction = TimeDirection::Either;
  // Bounds of |right - left| (Either) or of the signed lag in the declared direction: µs, or
  // whole calendar days in `zone` when calendar_days (a posting "the next business day").
  int64_t min = 0, max = 0;
  bool calendar_days = false;
  std::string zone = "UTC";
};

struct ReferenceCriterion {
  int left = -1, right = -1;  // text fields
  ReferenceNormalize normalize;
  ReferenceMode mode = ReferenceMode::Equal;
  SimilarityMethod method = SimilarityMethod::JaroWinkler;
  int threshold_permille = 900;  // Similar: similarity >= threshold
};

// A sum strategy (sums.hpp): one record of one side against several records of the other
// whose amounts add up to it within the tolerance (a payout and the charges it settles, one
// ERP entry for several partial refunds), each within the time window of it.
struct SumCriterion {
  Side many = Side::Right;         // the side whose records are summed
  size_t max_records = 5;          // records in one sum at most
  size_t max_subsets = 100'000;    // subsets one record's search may try
};

struct CandidateStrategy {
  std::string name;
  std::optional<AmountCriterion> amount;
  std::optional<TimeCriterion> time;
  std::optional<ReferenceCriterion> reference;
  std::optional<SumCriterion> sum;
  // Candidates one left record may look at before the search is cut short (many records
  // of one amount and no time window): bounded work, and the cut is reported.
  size_t max_candidates = 10'000;
};

// Why a strategy cannot be run (no criterion that bounds the search, a bad regex, an
// unknown zone); empty when it can.
std::string strategy_problem(const CandidateStrategy& s);

struct CandidatePair {
  uint32_t left = 0, right = 0;  // record indices
  int64_t amount_delta = 0;      // right - left, minor units (0 without an amount criterion)
  int64_t time_delta = 0;        // right - left: µs, or calendar days
  int similarity = -1;           // permille; -1 when references were not compared
};

struct CandidateResult {
  std::vector<CandidatePair> pairs;  // in left-record order
  size_t cut_short = 0;              // left records whose search hit max_candidates
};

// Pairs `left_rows` with `right_rows` (records not consumed by earlier strategies).
// Throws UserError when strategy_problem() is not empty.
CandidateResult pair_candidates(const RecordSet& left, std::span<const uint32_t> left_rows, const RecordSet& right,
                                std::span<const uint32_t> right_rows, const CandidateStrategy& strategy);

// A reference or key as a strategy compares it: the regex compiled once. nullopt when the
// regex does not match (no reference at all).
class ReferenceNormalizer {
 public:
  explicit ReferenceNormalizer(const ReferenceNormalize& n, const std::string& where = "reference");
  ~ReferenceNormalizer();
  std::optional<std::string> apply(std::string_view text) const;

 private:
  ReferenceNormalize n_;
  std::unique_ptr<Regex> regex_;
};
std::optional<std::string> normalize_reference(std::string_view text, const ReferenceNormalize& n);
// Similarity of two strings in permille (1000: identical).
int similarity_permille(std::string_view a, std::string_view b, SimilarityMethod method);
// Never below similarity_permille, from what is cheap to count (the characters the two could
// share in any order; for Levenshtein, their lengths): most candidates of a similarity
// strategy are strangers, turned away without the quadratic comparison.
int similarity_upper_bound(std::string_view a, std::string_view b, SimilarityMethod method);

}  // namespace seam
