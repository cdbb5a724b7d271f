// Keyless matching: amount tolerances of every base at and around the boundary, negative
// amounts, time windows with direction, fractional seconds at the edge and calendar days
// across a DST change, references normalised, containing and similar at the threshold,
// best-first pairing that does not depend on input order, and the bounded search.
#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>

#include "engine/match/candidates.hpp"
#include "engine/match/strategies.hpp"
#include "engine/util/result.hpp"
#include "tests/unit/match_fixture.hpp"

using namespace seam;
using namespace seam::test;

namespace {

struct Sides {
  SystemSpec lsys = match_system("bank"), rsys = match_system("erp");
  RecordSet left{lsys}, right{rsys};
  static void add(RecordSet& rs, const Line& l) { add_line(rs, l); }
  Sides(std::initializer_list<Line> l, std::initializer_list<Line> r) {
    for (const auto& x : l) add(left, x);
    for (const auto& x : r) add(right, x);
  }
  // "L1=R2" for each pair, in left order.
  std::vector<std::string> pairs(const CandidateStrategy& s) const {
    std::vector<uint32_t> lrows(left.size()), rrows(right.size());
    std::iota(lrows.begin(), lrows.end(), 0);
    std::iota(rrows.begin(), rrows.end(), 0);
    std::vector<std::string> out;
    for (const auto& p : pair_candidates(left, lrows, right, rrows, s).pairs)
      out.push_back(std::string(left.id(p.left)) + "=" + std::string(right.id(p.right)));
    return out;
  }
};

CandidateStrategy by_amount(const char* absolute, const char* percent = "0", ToleranceBase base = ToleranceBase::Left) {
  CandidateStrategy s;
  s.name = "amount";
  s.amount = AmountCriterion{kAmount, kAmount, *parse_decimal(absolute), *parse_decimal(percent), base};
  return s;
}

TimeCriterion window(int64_t min_us, int64_t max_us, TimeDirection d = TimeDirection::Either) {
  TimeCriterion t;
  t.left = t.right = kAt;
  t.min = min_us;
  t.max = max_us;
  t.direction = d;
  return t;
}

constexpr int64_t kMin = kMicrosPerMinute, kDay = 24 * 60 * kMicrosPerMinute;

}  // namespace

TEST_CASE("candidates: an absolute tolerance pairs at the boundary and not one cent past it, for negative amounts too") {
  Sides s({{"L1", 10000, 0}, {"L2", -5000, 0}, {"L3", 777, 0}},
          {{"R1", 10005, 0}, {"R2", -5006, 0}, {"R3", 772, 0}});
  CHECK(s.pairs(by_amount("0.05")) == std::vector<std::string>{"L1=R1", "L3=R3"});
  CHECK(s.pairs(by_amount("0.06")) == std::vector<std::string>{"L1=R1", "L2=R2", "L3=R3"});
  CHECK(s.pairs(by_amount("0.04")).empty());
}

TEST_CASE("candidates: a percentage tolerance of left, right, larger or smaller, exact at the boundary") {
  // 100.00 against 102.00: 2.00 is 2 % of the left, 1.96 % of the right.
  Sides s({{"L1", 10000, 0}}, {{"R1", 10200, 0}});
  CHECK(s.pairs(by_amount("0", "2", ToleranceBase::Left)) == std::vector<std::string>{"L1=R1"});
  CHECK(s.pairs(by_amount("0", "1.99", ToleranceBase::Left)).empty());
  CHECK(s.pairs(by_amount("0", "1.97", ToleranceBase::Right)) == std::vector<std::string>{"L1=R1"});  // 1.9607 %
  CHECK(s.pairs(by_amount("0", "1.96", ToleranceBase::Right)).empty());
  CHECK(s.pairs(by_amount("0", "1.97", ToleranceBase::Larger)) == std::vector<std::string>{"L1=R1"});
  CHECK(s.pairs(by_amount("0", "1.99", ToleranceBase::Smaller)).empty());
  CHECK(s.pairs(by_amount("0", "2", ToleranceBase::Smaller)) == std::vector<std::string>{"L1=R1"});
  // A right amount much larger than the left is found through the widened search window.
  Sides big({{"L1", 10000, 0}}, {{"R1", 19000, 0}});
  CHECK(big.pairs(by_amount("0", "47.4", ToleranceBase::Right)) == std::vector<std::string>{"L1=R1"});  // 9000/19000 = 47.37 %
  CHECK(big.pairs(by_amount("0", "47.3", ToleranceBase::Larger)).empty());
  // Either tolerance admits: the larger of absolute and percentage.
  CHECK(s.pairs(by_amount("2.00", "0.5")) == std::vector<std::string>{"L1=R1"});
}

TEST_CASE("candidates: amounts in different currencies never pair") {
  Sides s({{"L1", 10000, 0, "", "USD"}}, {{"R1", 10000, 0, "", "CAD"}, {"R2", 10001, 0, "", "USD"}});
  CHECK(s.pairs(by_amount("0.01")) == std::vector<std::string>{"L1=R2"});
}

TEST_CASE("candidates: a time window with a minimum, a maximum and a direction, to the microsecond at the edge") {
  Sides s({{"L1", 100, 0}}, {{"R-before", 100, -30 * kMin}, {"R-after", 100, 2 * kDay}});
  auto st = by_amount("0");
  st.time = window(0, 2 * kDay);
  CHECK(s.pairs(st) == std::vector<std::string>{"L1=R-before"});  // closer in time
  st.time = window(0, 2 * kDay, TimeDirection::RightAfter);
  CHECK(s.pairs(st) == std::vector<std::string>{"L1=R-after"});
  st.time = window(0, 2 * kDay - 1, TimeDirection::RightAfter);  // one microsecond short
  CHECK(s.pairs(st).empty());
  st.time = window(31 * kMin, kDay, TimeDirection::RightBefore);  // a minimum lag it does not reach
  CHECK(s.pairs(st).empty());
  st.time = window(30 * kMin, kDay, TimeDirection::RightBefore);
  CHECK(s.pairs(st) == std::vector<std::string>{"L1=R-before"});
  // Fractional seconds at the window's edge.
  Sides frac({{"L1", 100, 0}}, {{"R1", 100, 5 * kMin + 500'000}});
  st.time = window(0, 5 * kMin + 499'999);
  CHECK(frac.pairs(st).empty());
  st.time = window(0, 5 * kMin + 500'000);
  CHECK(frac.pairs(st) == std::vector<std::string>{"L1=R1"});
}

TEST_CASE("candidates: calendar days are counted in the declared zone, across a DST change") {
  // New York springs forward on 2026-03-08. 23:30 on the 7th (EST) and 00:30 on the 9th (EDT)
  // are two calendar days apart there, though only 24 hours apart in UTC.
  TimeUs evening_7th = (1'772'944'200LL - 1'773'483'720LL) * kMicrosPerSecond;  // 2026-03-08T04:30:00Z
  TimeUs night_9th = evening_7th + 24 * 60 * kMin;                               // 2026-03-09T04:30:00Z
  Sides s({{"L1", 100, evening_7th}}, {{"R1", 100, night_9th}});
  auto st = by_amount("0");
  TimeCriterion days = window(0, 1, TimeDirection::RightAfter);
  days.calendar_days = true;
  days.zone = "America/New_York";
  st.time = days;
  CHECK(s.pairs(st).empty());  // the 7th to the 9th: 2 days
  st.time->max = 2;
  CHECK(s.pairs(st) == std::vector<std::string>{"L1=R1"});
  st.time->zone = "UTC";  // 2026-03-08 to 2026-03-09 in UTC: 1 day
  st.time->max = 1;
  CHECK(s.pairs(st) == std::vector<std::string>{"L1=R1"});
  st.time->zone = "Mars/Olympus";
  CHECK(strategy_problem(st) == "match strategy 'amount': unknown time zone 'Mars/Olympus' (an IANA name such as America/New_York, or UTC)");
}

TEST_CASE("candidates: references equal after normalisation: case, spaces, leading zeros, a regex capture") {
  ReferenceNormalize n;
  n.ignore_case = true;
  n.remove_spaces = true;
  CHECK(*normalize_reference(" Inv 00123 ", n) == "inv00123");
  n.regex = "(\\d+)";
  n.strip_leading_zeros = true;
  CHECK(*normalize_reference("Payment for INV-000123 thanks", n) == "123");
  CHECK_FALSE(normalize_reference("no digits here", n).has_value());

  Sides s({{"L1", 5000, 0, "INV-000123"}, {"L2", 5000, 0, "INV-9"}},
          {{"R1", 5000, 0, "payment inv 123"}, {"R2", 5000, 0, "inv 0009"}});
  CandidateStrategy st;
  st.name = "reference";
  st.reference = ReferenceCriterion{kRef, kRef, n, ReferenceMode::Equal};
  CHECK(s.pairs(st) == std::vector<std::string>{"L1=R1", "L2=R2"});  // hashed: no amount or time needed
}

TEST_CASE("candidates: a reference containing the other, and similarity at the threshold") {
  CHECK(similarity_permille("MARTHA", "MARHTA", SimilarityMethod::JaroWinkler) == 961);
  CHECK(similarity_permille("DIXON", "DICKSONX", SimilarityMethod::JaroWinkler) == 813);
  CHECK(similarity_permille("kitten", "sitting", SimilarityMethod::Levenshtein) == 571);  // 3 edits of 7
  CHECK(similarity_permille("", "abc", SimilarityMethod::Levenshtein) == 0);

  Sides s({{"L1", 100, 0, "ACME CORP"}}, {{"R1", 100, 0, "Wire ACME CORP March"}});
  auto st = by_amount("0");
  ReferenceNormalize n;
  n.ignore_case = true;
  st.reference = ReferenceCriterion{kRef, kRef, n, ReferenceMode::Contains};
  CHECK(s.pairs(st) == std::vector<std::string>{"L1=R1"});
  st.reference->mode = ReferenceMode::Equal;
  CHECK(s.pairs(st).empty());

  Sides m({{"L1", 100, 0, "MARTHA"}}, {{"R1", 100, 0, "MARHTA"}});
  st.reference = ReferenceCriterion{kRef, kRef, {}, ReferenceMode::Similar, SimilarityMethod::JaroWinkler, 961};
  CHECK(m.pairs(st) == std::vector<std::string>{"L1=R1"});  // at the threshold: pairs
  st.reference->threshold_permille = 962;
  CHECK(m.pairs(st).empty());
}

TEST_CASE("candidates: best pairs first, each record once, and the same pairs whatever the input order") {
  // L1 could take R1 (1 cent off) or R2 (exact); L2 only R1. Best first: L1=R2 (exact),
  // then L2=R1. Greedy in input order would have given L1 the first it saw.
  std::vector<Line> l = {{"L1", 1000, 0}, {"L2", 1001, 0}, {"L3", 1000, 10 * kMin}};
  std::vector<Line> r = {{"R1", 1001, 0}, {"R2", 1000, 5 * kMin}, {"R3", 1000, 11 * kMin}};
  auto st = by_amount("0.01");
  st.time = window(0, kDay);
  auto expect = std::vector<std::string>{"L1=R2", "L2=R1", "L3=R3"};
  std::vector<size_t> perm = {0, 1, 2};
  do {
    std::vector<size_t> rperm = {2, 0, 1};
    Sides s({}, {});
    for (size_t i : perm) Sides::add(s.left, l[i]);
    for (size_t i : rperm) Sides::add(s.right, r[i]);
    auto got = s.pairs(st);
    std::sort(got.begin(), got.end());
    CHECK(got == expect);
  } while (std::next_permutation(perm.begin(), perm.end()));
}

TEST_CASE("candidates: a search that would look at too many records is cut short and counted") {
  Sides s({{"L1", 100, 0}, {"L2", 200, 0}}, {{"R1", 100, 1}, {"R2", 100, 2}, {"R3", 100, 3}, {"R4", 200, 0}});
  auto st = by_amount("0");
  st.max_candidates = 2;
  std::vector<uint32_t> lrows = {0, 1}, rrows = {0, 1, 2, 3};
  CandidateResult r = pair_candidates(s.left, lrows, s.right, rrows, st);
  CHECK(r.cut_short == 1);
  REQUIRE(r.pairs.size() == 2);
  CHECK(r.pairs[0].right == 0);  // of the two it looked at, the closer in time
  CHECK(r.pairs[1].right == 3);
}

TEST_CASE("candidates: a strategy with nothing to bound its search is refused with why") {
  CandidateStrategy st;
  st.name = "fuzzy";
  st.reference = ReferenceCriterion{kRef, kRef, {}, ReferenceMode::Similar};
  CHECK(strategy_problem(st) ==
        "match strategy 'fuzzy': a keyless strategy needs an amount or a time criterion (or an equal reference) to "
        "bound its candidates; a contains or similarity reference alone would compare every record with every other");
  auto pct = by_amount("0", "100", ToleranceBase::Right);
  CHECK(strategy_problem(pct) == "match strategy 'amount': a percentage tolerance of the right or larger amount must be below 100 %");
  auto w = by_amount("0");
  w.time = window(10, 5);
  CHECK(strategy_problem(w) == "match strategy 'amount': the time window needs 0 <= min <= max, found min 10, max 5");
  Sides s({{"L1", 1, 0}}, {{"R1", 1, 0}});
  std::vector<uint32_t> rows = {0};
  CHECK_THROWS_AS(pair_candidates(s.left, rows, s.right, rows, st), UserError);
}

TEST_CASE("strategies: a record claimed by an earlier strategy is not offered to a later one, and leftovers keep their key") {
  // L1 and R1 share reference "INV-1"; R2 has the same amount and time but another reference.
  // By key first, L1 takes R1, so the amount strategy never sees L1 and R2 stays alone.
  Sides s({{"L1", 100, 0, "inv-1"}, {"L2", 700, 0, "inv-2"}, {"L3", 555, 0, ""}},
          {{"R1", 100, 0, "INV-1"}, {"R2", 100, 0, "INV-9"}, {"R3", 555, kMin, "x"}});
  ResolvedStrategy by_key;
  by_key.name = "reference";
  by_key.left_key = by_key.right_key = {kRef};
  by_key.normalize.ignore_case = true;
  ResolvedStrategy by_amount_and_time;
  by_amount_and_time.name = "amount";
  by_amount_and_time.keyed = false;
  by_amount_and_time.candidates = by_amount("0");
  by_amount_and_time.candidates.time = window(0, kDay);
  MatchResult m = match_strategies({by_key, by_amount_and_time}, s.left, s.right);
  std::vector<std::string> got;
  for (size_t i = 0; i < m.groups.size(); ++i) {
    const MatchGroup& g = m.groups[i];
    std::string row = std::string(g.key) + ":";
    for (uint32_t r : m.left_of(g)) row += " " + std::string(s.left.id(r));
    row += " |";
    for (uint32_t r : m.right_of(g)) row += " " + std::string(s.right.id(r));
    got.push_back(row + " @" + std::to_string(m.origins[i].strategy));
  }
  CHECK(got == std::vector<std::string>{"inv-1: L1 | R1 @0", "inv-2: L2 | @-1", "L3: L3 | R3 @1", "inv-9: | R2 @-1"});
  CHECK(m.origins[2].keyless);
  CHECK(m.origins[2].time_delta == kMin);
}

TEST_CASE("candidates: the cheap similarity bound is never below the similarity, for either method") {
  // Random short strings over a small alphabet, so that they share characters often.
  uint64_t state = 42;
  auto next = [&] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<uint32_t>(state >> 33);
  };
  auto word = [&] {
    std::string w(1 + next() % 12, ' ');
    for (char& c : w) c = static_cast<char>('a' + next() % 5);
    return w;
  };
  int tight = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string a = word(), b = word();
    for (auto m : {SimilarityMethod::JaroWinkler, SimilarityMethod::Levenshtein}) {
      int s = similarity_permille(a, b, m), bound = similarity_upper_bound(a, b, m);
      CAPTURE(a);
      CAPTURE(b);
      REQUIRE(bound >= s);
      tight += bound == s;
    }
  }
  CHECK(tight > 1000);  // and often exact, so it prunes
  CHECK(similarity_upper_bound("VANDELAY INDUSTRIES", "kramerica inc", SimilarityMethod::JaroWinkler) < 850);
}
