// Best-fit pairing inside groups that hold several records per side: closest amount, then
// closest time, then input order; the longer side's rest has no partner; a group too large
// for best fit pairs in input order and says so.
#include <doctest/doctest.h>

#include "engine/match/pairing.hpp"

using namespace seam;

namespace {

constexpr TimeUs kT0 = 1'773'483'720LL * kMicrosPerSecond;  // 2026-03-14T10:22:00Z
constexpr int64_t kMinute = kMicrosPerMinute;

SystemSpec system_of(const char* name) {
  SystemSpec s;
  s.name = name;
  s.id_field = "id";
  for (auto [n, k] : {std::pair{"amount", FieldKind::Money}, std::pair{"at", FieldKind::Time},
                      std::pair{"id", FieldKind::Column}, std::pair{"key", FieldKind::Column}}) {
    FieldSpec f;
    f.name = n;
    f.kind = k;
    s.fields.push_back(f);
  }
  return s;
}
enum Field { kAmount = 0, kAt = 1, kId = 2, kKey = 3 };

struct Rec {
  const char* id;
  const char* key;
  int64_t cents;
  int64_t minutes = 0;  // after kT0
  const char* currency = "USD";
};

struct Sides {
  SystemSpec lsys = system_of("shop"), rsys = system_of("erp");
  RecordSet left{lsys}, right{rsys};
  static void add(RecordSet& rs, const Rec& r) {
    Value* v = rs.begin_record();
    v[kAmount] = Value::of_money(r.cents, pack_currency(r.currency));
    v[kAt] = Value::of_time(kT0 + r.minutes * kMinute);
    v[kId] = Value::of_text(r.id);
    v[kKey] = Value::of_text(r.key);
    rs.commit_record(rs.size() + 2, r.id);
  }
  Sides(std::initializer_list<Rec> l, std::initializer_list<Rec> r) {
    for (const auto& x : l) add(left, x);
    for (const auto& x : r) add(right, x);
  }
  // Each group as "key: L1=R2 L2=R1 +L3" (pairs, then the extras with a +), "(in order)"
  // when it was too large for best fit, "key: as is" when it was not paired.
  std::vector<std::string> groups(NearestFields f = {kAmount, kAmount, kAt, kAt}) const {
    MatchResult m = match(left, {kKey}, right, {kKey});
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
  Sides s({{"S1", "K", 1000}, {"S2", "K", 2500}}, {{"E1", "K", 2500}, {"E2", "K", 1000}});
  CHECK(s.groups() == std::vector<std::string>{"K: S1=E2 S2=E1"});
}

TEST_CASE("pairing: a 3x2 group pairs two and leaves the worst fit without a partner") {
  Sides s({{"S1", "K", 1000}, {"S2", "K", 4000}, {"S3", "K", 2500}}, {{"E1", "K", 2500}, {"E2", "K", 1001}});
  CHECK(s.groups() == std::vector<std::string>{"K: S1=E2 S3=E1 +S2"});
}

TEST_CASE("pairing: a 1x3 group keeps the right record closest in amount") {
  Sides s({{"S1", "K", 1000}}, {{"E1", "K", 1200}, {"E2", "K", 990}, {"E3", "K", 1000, 30}});
  CHECK(s.groups() == std::vector<std::string>{"K: S1=E3 +E1 +E2"});
}

TEST_CASE("pairing: equal amounts break the tie by the closest time, then by input order") {
  Sides by_time({{"S1", "K", 1000, 0}, {"S2", "K", 1000, 60}}, {{"E1", "K", 1000, 61}, {"E2", "K", 1000, 2}});
  CHECK(by_time.groups() == std::vector<std::string>{"K: S1=E2 S2=E1"});
  Sides by_order({{"S1", "K", 1000, 0}, {"S2", "K", 1000, 0}}, {{"E1", "K", 1000, 5}, {"E2", "K", 1000, 5}});
  CHECK(by_order.groups() == std::vector<std::string>{"K: S1=E1 S2=E2"});
}

TEST_CASE("pairing: negative amounts and another currency fit by distance, an incomparable one last") {
  Sides s({{"S1", "K", -1000}, {"S2", "K", -500}}, {{"E1", "K", -500, 0, "EUR"}, {"E2", "K", -990}});
  // E1 is in EUR: no amount distance to anything, so S1 takes E2 (10 cents away) first.
  CHECK(s.groups() == std::vector<std::string>{"K: S1=E2 S2=E1"});
}

TEST_CASE("pairing: without fit fields records pair in input order, and 1x1 or one-sided groups stay as they are") {
  Sides s({{"S1", "K", 1000}, {"S2", "K", 2500}, {"S3", "A", 1}, {"S4", "B", 1}, {"S5", "B", 2}},
          {{"E1", "K", 2500}, {"E2", "K", 1000}, {"E3", "A", 1}});
  CHECK(s.groups(NearestFields{}) == std::vector<std::string>{"K: S1=E1 S2=E2", "A: as is", "B: as is"});
  CHECK(s.groups() == std::vector<std::string>{"K: S1=E2 S2=E1", "A: as is", "B: as is"});
}

TEST_CASE("pairing: a group above the best-fit bound pairs in input order and is marked so") {
  Sides s({}, {});
  // 501 x 500 candidate pairs is above kMaxPairingCandidates (250,000).
  for (int i = 0; i < 501; ++i) Sides::add(s.left, {"S", "K", 1000 - i});
  for (int i = 0; i < 500; ++i) Sides::add(s.right, {"E", "K", 1000 + i});
  MatchResult m = match(s.left, {kKey}, s.right, {kKey});
  pair_by_best_fit(m, s.left, s.right, {kAmount, kAmount, kAt, kAt});
  REQUIRE(m.groups.size() == 1);
  CHECK(m.pairing(m.groups[0]) == MatchResult::kPairedInOrder);
  CHECK(m.left_of(m.groups[0])[0] == 0);
  CHECK(m.right_of(m.groups[0])[499] == 499);
}
