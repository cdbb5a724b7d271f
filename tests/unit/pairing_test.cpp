// Best-fit pairing inside groups that hold several records per side: closest amount, then
// closest time, then input order; the longer side's rest has no partner; a group too large
// for best fit pairs in input order and says so.
#include <doctest/doctest.h>

#include "engine/match/pairing.hpp"
#include "tests/unit/match_fixture.hpp"

using namespace seam;
using namespace seam::test;

namespace {

constexpr int64_t kMinute = kMicrosPerMinute;

struct Sides {
  SystemSpec lsys = match_system("shop"), rsys = match_system("erp");
  RecordSet left{lsys}, right{rsys};
  static void add(RecordSet& rs, const Line& l) { add_line(rs, l); }
  Sides(std::initializer_list<Line> l, std::initializer_list<Line> r) {
    for (const auto& x : l) add(left, x);
    for (const auto& x : r) add(right, x);
  }
  // Each group as "key: L1=R2 L2=R1 +L3" (pairs, then the extras with a +), "(in order)"
  // when it was too large for best fit, "key: as is" when it was not paired.
  std::vector<std::string> groups(NearestFields f = {kAmount, kAmount, kAt, kAt}) const {
    MatchResult m = match(left, {kRef}, right, {kRef});
    pair_by_best_fit(m, left, right, f);
    std::vector<std::string> out;
    for (const auto& g : m.groups) {
      auto ls = m.left_of(g);
      auto rs = m.right_of(g);
      std::string s = std::string(g.key) + ":";
      if (!m.is_paired(g)) {
        out.push_back(s + " as is");
        continue;
      }
      size_t pairs = std::min(ls.size(), rs.size());
      for (size_t i = 0; i < pairs; ++i) s += " " + std::string(left.id(ls[i])) + "=" + std::string(right.id(rs[i]));
      for (size_t i = pairs; i < ls.size(); ++i) s += " +" + std::string(left.id(ls[i]));
      for (size_t i = pairs; i < rs.size(); ++i) s += " +" + std::string(right.id(rs[i]));
      if (m.pairing(g) == MatchResult::kPairedInOrder) s += " (in order)";
      out.push_back(s);
    }
    return out;
  }
};

}  // namespace

TEST_CASE("pairing: a 2x2 group pairs by the closest amount, not by position") {
  Sides s({{"S1", 1000, 0, "K"}, {"S2", 2500, 0, "K"}}, {{"E1", 2500, 0, "K"}, {"E2", 1000, 0, "K"}});
  CHECK(s.groups() == std::vector<std::string>{"K: S1=E2 S2=E1"});
}

TEST_CASE("pairing: a 3x2 group pairs two and leaves the worst fit without a partner") {
  Sides s({{"S1", 1000, 0, "K"}, {"S2", 4000, 0, "K"}, {"S3", 2500, 0, "K"}}, {{"E1", 2500, 0, "K"}, {"E2", 1001, 0, "K"}});
  CHECK(s.groups() == std::vector<std::string>{"K: S1=E2 S3=E1 +S2"});
}

TEST_CASE("pairing: a 1x3 group keeps the right record closest in amount") {
  Sides s({{"S1", 1000, 0, "K"}}, {{"E1", 1200, 0, "K"}, {"E2", 990, 0, "K"}, {"E3", 1000, 30 * kMinute, "K"}});
  CHECK(s.groups() == std::vector<std::string>{"K: S1=E3 +E1 +E2"});
}

TEST_CASE("pairing: equal amounts break the tie by the closest time, then by input order") {
  Sides by_time({{"S1", 1000, 0, "K"}, {"S2", 1000, 60 * kMinute, "K"}}, {{"E1", 1000, 61 * kMinute, "K"}, {"E2", 1000, 2 * kMinute, "K"}});
  CHECK(by_time.groups() == std::vector<std::string>{"K: S1=E2 S2=E1"});
  Sides by_order({{"S1", 1000, 0, "K"}, {"S2", 1000, 0, "K"}}, {{"E1", 1000, 5 * kMinute, "K"}, {"E2", 1000, 5 * kMinute, "K"}});
  CHECK(by_order.groups() == std::vector<std::string>{"K: S1=E1 S2=E2"});
}

TEST_CASE("pairing: negative amounts and another currency fit by distance, an incomparable one last") {
  Sides s({{"S1", -1000, 0, "K"}, {"S2", -500, 0, "K"}}, {{"E1", -500, 0, "K", "EUR"}, {"E2", -990, 0, "K"}});
  // E1 is in EUR: no amount distance to anything, so S1 takes E2 (10 cents away) first.
  CHECK(s.groups() == std::vector<std::string>{"K: S1=E2 S2=E1"});
}

TEST_CASE("pairing: without fit fields records pair in input order, and 1x1 or one-sided groups stay as they are") {
  Sides s({{"S1", 1000, 0, "K"}, {"S2", 2500, 0, "K"}, {"S3", 1, 0, "A"}, {"S4", 1, 0, "B"}, {"S5", 2, 0, "B"}},
          {{"E1", 2500, 0, "K"}, {"E2", 1000, 0, "K"}, {"E3", 1, 0, "A"}});
  CHECK(s.groups(NearestFields{}) == std::vector<std::string>{"K: S1=E1 S2=E2", "A: as is", "B: as is"});
  CHECK(s.groups() == std::vector<std::string>{"K: S1=E2 S2=E1", "A: as is", "B: as is"});
}

TEST_CASE("pairing: a group above the best-fit bound pairs in input order and is marked so") {
  Sides s({}, {});
  // 501 x 500 candidate pairs is above kMaxPairingCandidates (250,000).
  for (int i = 0; i < 501; ++i) Sides::add(s.left, {"S", 1000 - i, 0, "K"});
  for (int i = 0; i < 500; ++i) Sides::add(s.right, {"E", 1000 + i, 0, "K"});
  MatchResult m = match(s.left, {kRef}, s.right, {kRef});
  pair_by_best_fit(m, s.left, s.right, {kAmount, kAmount, kAt, kAt});
  REQUIRE(m.groups.size() == 1);
  CHECK(m.pairing(m.groups[0]) == MatchResult::kPairedInOrder);
  CHECK(m.left_of(m.groups[0])[0] == 0);
  CHECK(m.right_of(m.groups[0])[499] == 499);
}
