// Matching by sum: one record against several of the other side that add up to it, within
// a tolerance and a time window; the fewest records first, then the closest sum, then the
// closest in time; consumption; both directions; the bounds, and input order not mattering.
#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>

#include "engine/match/strategies.hpp"
#include "engine/match/sums.hpp"
#include "tests/unit/match_fixture.hpp"

using namespace seam;
using namespace seam::test;

namespace {

constexpr int64_t kHour = 60 * kMicrosPerMinute, kDay = 24 * kHour;

struct Sides {
  SystemSpec lsys = match_system("payouts"), rsys = match_system("charges");
  RecordSet left{lsys}, right{rsys};
  static void add(RecordSet& rs, const Line& l) { add_line(rs, l); }
  Sides(std::vector<Line> l, std::vector<Line> r) {
    for (const auto& x : l) add(left, x);
    for (const auto& x : r) add(right, x);
  }
  // "P1=C1+C3 (0.00 USD)" per sum, then "stopped P2" for each search a bound cut.
  std::vector<std::string> sums(const CandidateStrategy& s) const {
    std::vector<uint32_t> lrows(left.size()), rrows(right.size());
    std::iota(lrows.begin(), lrows.end(), 0);
    std::iota(rrows.begin(), rrows.end(), 0);
    SumResult res = match_sums(left, lrows, right, rrows, s);
    const RecordSet& one = s.sum->many == Side::Right ? left : right;
    const RecordSet& many = s.sum->many == Side::Right ? right : left;
    std::vector<std::string> out;
    for (const auto& m : res.matches) {
      std::string t = std::string(one.id(m.one)) + "=";
      std::vector<std::string> ids;  // by id: the records come in input order, which a test may shuffle
      for (uint32_t r : m.many) ids.emplace_back(many.id(r));
      std::sort(ids.begin(), ids.end());
      for (size_t i = 0; i < ids.size(); ++i) t += (i ? "+" : "") + ids[i];
      t += " (" + format_money(m.amount_delta, pack_currency("USD")) + ")";
      out.push_back(t);
    }
    std::sort(out.begin(), out.end());
    for (uint32_t r : res.stopped) out.push_back("stopped " + std::string(one.id(r)));
    return out;
  }
};

CandidateStrategy by_sum(const char* tolerance = "0", int64_t window = 2 * kDay, Side many = Side::Right) {
  CandidateStrategy s;
  s.name = "sum";
  s.amount = AmountCriterion{kAmount, kAmount, *parse_decimal(tolerance), *parse_decimal("0"), ToleranceBase::Left};
  TimeCriterion t;
  t.left = t.right = kAt;
  t.max = window;
  s.time = t;
  s.sum = SumCriterion{many, 5, 100'000};
  s.max_candidates = 20;
  return s;
}

}  // namespace

TEST_CASE("sums: a payout finds the charges that add up to it, and nothing else") {
  Sides s({{"P1", 10000}}, {{"C1", 3000, -kHour}, {"C2", 5000, -2 * kHour}, {"C3", 7000, -3 * kHour}, {"C4", 2500}});
  CHECK(s.sums(by_sum()) == std::vector<std::string>{"P1=C1+C3 (0.00 USD)"});
  CHECK(strategy_problem(by_sum()).empty());
}

TEST_CASE("sums: the fewest records win, then the closest sum, then the closest in time") {
  // A single charge of the whole amount beats two that add up to it.
  Sides single({{"P1", 10000}}, {{"C1", 4000}, {"C2", 6000}, {"C3", 10000, kDay}});
  CHECK(single.sums(by_sum()) == std::vector<std::string>{"P1=C3 (0.00 USD)"});
  // Within a tolerance of 0.10: 99.95 + ... the exact pair beats the one 0.05 off.
  Sides closest({{"P1", 10000}}, {{"C1", 4995}, {"C2", 5000, kHour}, {"C3", 5000, 2 * kHour}});
  CHECK(closest.sums(by_sum("0.10")) == std::vector<std::string>{"P1=C2+C3 (0.00 USD)"});
  // Two exact pairs: the one closer in time (C1 + C2 at the payout's hour) wins.
  Sides timed({{"P1", 10000}}, {{"C1", 5000, kHour}, {"C2", 5000}, {"C3", 5000, 30 * kHour}});
  CHECK(timed.sums(by_sum()) == std::vector<std::string>{"P1=C1+C2 (0.00 USD)"});
}

TEST_CASE("sums: a tolerance at its boundary, negative amounts, and the time window's edge") {
  Sides s({{"P1", 10000}}, {{"C1", 3000}, {"C2", 7100}});
  CHECK(s.sums(by_sum("1.00")) == std::vector<std::string>{"P1=C1+C2 (1.00 USD)"});
  CHECK(s.sums(by_sum("0.99")).empty());
  Sides refunds({{"P1", -10000}}, {{"C1", -3000}, {"C2", -7000}});
  CHECK(refunds.sums(by_sum()) == std::vector<std::string>{"P1=C1+C2 (0.00 USD)"});
  Sides edge({{"P1", 10000}}, {{"C1", 3000, 2 * kDay}, {"C2", 7000, -2 * kDay - 1}});
  CHECK(edge.sums(by_sum()).empty());  // C2 is a microsecond outside the window
  Sides inside({{"P1", 10000}}, {{"C1", 3000, 2 * kDay}, {"C2", 7000, -2 * kDay}});
  CHECK(inside.sums(by_sum()) == std::vector<std::string>{"P1=C1+C2 (0.00 USD)"});
}

TEST_CASE("sums: a charge summed into one payout is not offered to the next, earliest payout first") {
  Sides s({{"P2", 5000, kDay}, {"P1", 8000}}, {{"C1", 3000}, {"C2", 5000}, {"C3", 5000, kDay}});
  // P1 (earlier) takes C1 + C2; P2 then takes C3 alone.
  CHECK(s.sums(by_sum()) == std::vector<std::string>{"P1=C1+C2 (0.00 USD)", "P2=C3 (0.00 USD)"});
}

TEST_CASE("sums: several left records against one right record (many_to_one)") {
  Sides s({{"R1", 2000}, {"R2", 3000}, {"R3", 9900}}, {{"E1", 5000}});
  CHECK(s.sums(by_sum("0", 2 * kDay, Side::Left)) == std::vector<std::string>{"E1=R1+R2 (0.00 USD)"});
}

TEST_CASE("sums: the result does not depend on input order") {
  std::vector<Line> payouts = {{"P1", 10000}, {"P2", 4500, 3 * kHour}, {"P3", 777, kHour}};
  std::vector<Line> charges = {{"C1", 3000, -kHour}, {"C2", 7000},     {"C3", 2000, 2 * kHour},
                               {"C4", 2500, 3 * kHour}, {"C5", 777, kHour}, {"C6", 4000}};
  auto expected = Sides(payouts, charges).sums(by_sum());
  CHECK(expected == std::vector<std::string>{"P1=C1+C2 (0.00 USD)", "P2=C3+C4 (0.00 USD)", "P3=C5 (0.00 USD)"});
  std::reverse(payouts.begin(), payouts.end());
  std::reverse(charges.begin(), charges.end());
  CHECK(Sides(payouts, charges).sums(by_sum()) == expected);
  std::rotate(charges.begin(), charges.begin() + 2, charges.end());
  CHECK(Sides(payouts, charges).sums(by_sum()) == expected);
}

TEST_CASE("sums: a bound that stops the search is reported, max_records is what a sum may hold") {
  // Six charges of 10.00 and one of 40.00: P1 needs 40 + 60 = seven records, more than 5.
  std::vector<Line> charges;
  const char* ids[] = {"C1", "C2", "C3", "C4", "C5", "C6"};
  for (int i = 0; i < 6; ++i) charges.push_back({ids[i], 1000, i * kHour});
  charges.push_back({"C7", 4000, 7 * kHour});
  Sides s({{"P1", 10000}}, charges);
  CHECK(s.sums(by_sum()).empty());  // no sum of at most 5 records: not a stopped search, simply none
  auto few = by_sum();
  few.max_candidates = 3;  // the three closest (10.00 each) cannot make 100.00, the rest were never looked at
  CHECK(s.sums(few) == std::vector<std::string>{"stopped P1"});
  auto tight = by_sum();
  tight.sum->max_subsets = 10;  // 7 + 21 subsets of one and two records is past the bound
  CHECK(s.sums(tight) == std::vector<std::string>{"stopped P1"});
  // A found sum is kept even when more candidates lay beyond the bound.
  Sides found({{"P1", 2000}}, charges);
  CHECK(found.sums(few) == std::vector<std::string>{"P1=C1+C2 (0.00 USD)"});
}

TEST_CASE("sums: a strategy needs an amount and a time criterion and a sensible max_records") {
  auto s = by_sum();
  s.time.reset();
  CHECK(strategy_problem(s) ==
        "match strategy 'sum': a sum strategy needs an amount criterion (what the records add up to) and a time "
        "criterion (which records may belong together)");
  s = by_sum();
  s.sum->max_records = 11;
  CHECK(strategy_problem(s) == "match strategy 'sum': max_records must be between 1 and 10, found 11");
}

TEST_CASE("sums: through match_strategies a sum forms one group of 1 + N records with its origin") {
  Sides s({{"P1", 10000}, {"P2", 999}}, {{"C1", 3000}, {"C2", 7000}, {"C3", 5}});
  ResolvedStrategy st;
  st.name = "sum";
  st.keyed = false;
  st.candidates = by_sum();
  MatchResult m = match_strategies({st}, s.left, s.right);
  REQUIRE(m.groups.size() == 3);
  CHECK(m.groups[0].key == "P1");
  CHECK(m.left_of(m.groups[0]).size() == 1);
  CHECK(m.right_of(m.groups[0]).size() == 2);
  CHECK(m.origins[0].summed == 2);
  CHECK(m.origins[0].strategy == 0);
  CHECK(m.groups[1].key == "P2");  // unmatched
  CHECK(m.right_of(m.groups[1]).empty());
  CHECK(m.origins[1].strategy == -1);
  CHECK(m.note_of(m.groups[1]) == nullptr);
  CHECK(m.groups[2].key == "C3");
}
