// The hash join on several threads must give what it gives on one: the same groups, in the
// same order, with the same records in the same order.
#include <doctest/doctest.h>

#include <cstdint>
#include <map>
#include <string>

#include "engine/match/matcher.hpp"
#include "match_fixture.hpp"

using namespace seam;
using namespace seam::test;

namespace {

struct Sides {
  RecordSet left{match_system("left")}, right{match_system("right")};
  std::vector<std::string> ids;  // views into these stay valid: reserved up front
};

// `n` records a side, keys drawn from a space of about n/2 keys on the left and 2n/3 on
// the right: keys on both sides, on one side only, and repeated on either.
Sides random_sides(size_t n, uint64_t seed, bool one_empty_key) {
  Sides s;
  s.ids.reserve(4 * n);
  uint64_t x = seed;
  auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  auto add = [&](RecordSet& rs, const char* prefix, uint64_t space) {
    for (size_t i = 0; i < n; ++i) {
      const std::string& id = s.ids.emplace_back(std::string(prefix) + std::to_string(i));
      const std::string& ref = s.ids.emplace_back("K" + std::to_string(next() % space));
      add_line(rs, {id.c_str(), 100, 0, ref.c_str()});
    }
  };
  add(s.left, "L", n / 2);
  add(s.right, "R", n / 3 * 2);
  if (one_empty_key) add_line(s.right, {"R-empty", 100, 0, ""});
  return s;
}

void require_same(const MatchResult& a, const MatchResult& b) {
  REQUIRE(a.groups.size() == b.groups.size());
  for (size_t g = 0; g < a.groups.size(); ++g) {
    CHECK(a.groups[g].key == b.groups[g].key);
    CHECK(a.groups[g].left_begin == b.groups[g].left_begin);
    CHECK(a.groups[g].left_count == b.groups[g].left_count);
    CHECK(a.groups[g].right_begin == b.groups[g].right_begin);
    CHECK(a.groups[g].right_count == b.groups[g].right_count);
  }
  CHECK(a.left_rows == b.left_rows);
  CHECK(a.right_rows == b.right_rows);
}

}  // namespace

TEST_CASE("matcher: the join on two or three threads gives the groups and record order of one thread") {
  Sides s = random_sides(40'000, 0x9e3779b97f4a7c15ULL, false);
  MatchResult one = match(s.left, {kRef}, s.right, {kRef}, 1);

  // What one thread gives, checked on its own terms: one group per distinct key, groups
  // numbered by first appearance on the left and then right-only ones in right order,
  // each group's records in source order and all carrying its key.
  std::map<std::string, size_t> first_seen;
  std::vector<std::string> order;
  for (const RecordSet* rs : {&s.left, &s.right})
    for (size_t r = 0; r < rs->size(); ++r) {
      std::string k(rs->get(r, kRef).text());
      if (first_seen.emplace(k, order.size()).second) order.push_back(k);
    }
  REQUIRE(one.groups.size() == order.size());
  size_t left_only = 0, right_only = 0, both = 0;
  for (size_t g = 0; g < one.groups.size(); ++g) {
    const MatchGroup& grp = one.groups[g];
    CHECK(grp.key == order[g]);
    auto l = one.left_of(grp), r = one.right_of(grp);
    for (size_t i = 0; i < l.size(); ++i) {
      CHECK(s.left.get(l[i], kRef).text() == grp.key);
      if (i) CHECK(l[i - 1] < l[i]);
    }
    for (size_t i = 0; i < r.size(); ++i) {
      CHECK(s.right.get(r[i], kRef).text() == grp.key);
      if (i) CHECK(r[i - 1] < r[i]);
    }
    left_only += r.empty(), right_only += l.empty(), both += !l.empty() && !r.empty();
  }
  // The fixture has every kind of group, or the comparison below proves little.
  CHECK(left_only > 1000);
  CHECK(right_only > 1000);
  CHECK(both > 1000);

  require_same(one, match(s.left, {kRef}, s.right, {kRef}, 2));
  require_same(one, match(s.left, {kRef}, s.right, {kRef}, 3));
}

TEST_CASE("matcher: a key that is not text, or not one field, takes the one-thread join, with the same result") {
  Sides s = random_sides(40'000, 42, true);
  MatchResult one = match(s.left, {kRef}, s.right, {kRef}, 1);
  MatchResult two = match(s.left, {kRef}, s.right, {kRef}, 2);
  require_same(one, two);
  // The empty key is a group of its own, the last right-only one.
  const MatchGroup& last = one.groups.back();
  CHECK(last.key.empty());
  CHECK(last.left_count == 0);
  REQUIRE(last.right_count == 1);
  CHECK(one.right_of(last)[0] == s.right.size() - 1);

  Sides t = random_sides(40'000, 7, false);
  MatchResult composite = match(t.left, {kRef, kAmount}, t.right, {kRef, kAmount}, 1);
  require_same(composite, match(t.left, {kRef, kAmount}, t.right, {kRef, kAmount}, 2));
  CHECK(composite.groups.front().key == std::string(t.left.get(0, kRef).text()) + " | 1.00");
}
