#include "engine/match/matcher.hpp"

#include <cstdint>
#include <array>
#include <functional>

#include "engine/util/prefetch.hpp"

namespace seam {
namespace {

std::string_view key_of(const RecordSet& rs, size_t rec, const std::vector<int>& fields, StringArena& arena,
                        std::string& buf) {
  if (fields.size() == 1) {
    const Value& v = rs.get(rec, static_cast<size_t>(fields[0]));
    if (v.kind == ValueKind::Text) return v.text();
    return arena.store(key_text(v));
  }
  buf.clear();
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) buf += " | ";
    buf += key_text(rs.get(rec, static_cast<size_t>(fields[i])));
  }
  return arena.store(buf);
}

// Open addressing with linear probing: 8-byte slots (a hash tag and a group number), the
// key itself compared through its group. Twice as fast as std::unordered_map here, with
// one allocation instead of one per key.
class KeyIndex {
 public:
  // `expected`: at most this many keys. Sized for a load of at most 3/4 when every key is
  // distinct; keys that match fill it half as much. (Twice `expected` made a 5M run's
  // table 268 MB, a third of it never used.)
  KeyIndex(size_t expected, const std::vector<MatchGroup>& groups) : groups_(groups) {
    size_t cap = 16;
    while (cap < expected / 3 * 4 + 4) cap <<= 1;
    slots_.assign(cap, Slot{0, kEmpty});
    mask_ = cap - 1;
  }
  static uint64_t hash(std::string_view key) { return std::hash<std::string_view>{}(key); }
  // The home slot of a hash, and the group it holds now (kEmpty if none): for prefetching
  // what a later find_or_add will touch.
  const void* home(uint64_t h) const { return &slots_[h & mask_]; }
  uint32_t home_group(uint64_t h) const { return slots_[h & mask_].group; }

  // The group holding `key` (whose hash is `h`), created by `make` when there is none yet.
  template <typename Make>
  uint32_t find_or_add(std::string_view key, uint64_t h, Make make) {
    uint32_t tag = static_cast<uint32_t>(h >> 32);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.group == kEmpty) {
        s = {tag, make()};
        return s.group;
      }
      if (s.tag == tag && groups_[s.group].key == key) return s.group;
    }
  }
  static constexpr uint32_t kEmpty = UINT32_MAX;

 private:
  struct Slot {
    uint32_t tag, group;
  };
  const std::vector<MatchGroup>& groups_;
  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

}  // namespace

MatchResult match(const RecordSet& left, const std::vector<int>& left_key, const RecordSet& right,
                  const std::vector<int>& right_key) {
  MatchResult out;
  out.groups.reserve(left.size() + right.size() / 8);
  KeyIndex index(left.size() + right.size(), out.groups);
  std::vector<uint32_t> left_group(left.size()), right_group(right.size());
  std::string buf;

  // Each probe is a cache miss in a table larger than the cache, then one in the group it
  // finds, then one in that group's key text. Keys are hashed kAhead records early and
  // what their probes will touch is prefetched in stages, so the misses overlap.
  constexpr size_t kAhead = 16;
  struct Ahead {
    std::string_view key;
    uint64_t hash = 0;
  };
  std::array<Ahead, kAhead> ahead;
  auto add_side = [&](const RecordSet& rs, const std::vector<int>& fields, std::vector<uint32_t>& group_of,
                      uint32_t MatchGroup::*count) {
    size_t n = rs.size();
    auto stage = [&](size_t r) {
      Ahead& a = ahead[r % kAhead];
      a.key = key_of(rs, r, fields, out.keys, buf);
      a.hash = KeyIndex::hash(a.key);
      prefetch(index.home(a.hash));
    };
    for (size_t r = 0; r < std::min(n, kAhead); ++r) stage(r);
    for (size_t r = 0; r < n; ++r) {
      if (r + kAhead / 2 < n) {  // its home slot has arrived by now: fetch the group it names
        uint32_t g = index.home_group(ahead[(r + kAhead / 2) % kAhead].hash);
        if (g != KeyIndex::kEmpty) prefetch(&out.groups[g]);
      }
      if (r + kAhead / 4 < n) {  // and that group's key text
        uint32_t g = index.home_group(ahead[(r + kAhead / 4) % kAhead].hash);
        if (g != KeyIndex::kEmpty) prefetch(out.groups[g].key.data());
      }
      Ahead a = ahead[r % kAhead];
      if (r + kAhead < n) stage(r + kAhead);
      uint32_t g = index.find_or_add(a.key, a.hash, [&] {
        out.groups.push_back(MatchGroup{a.key});
        return static_cast<uint32_t>(out.groups.size() - 1);
      });
      group_of[r] = g;
      ++(out.groups[g].*count);
    }
  };
  add_side(left, left_key, left_group, &MatchGroup::left_count);
  add_side(right, right_key, right_group, &MatchGroup::right_count);
  // Counting sort of record indices by group keeps each side's source order inside a group.
  uint32_t lpos = 0, rpos = 0;
  for (auto& g : out.groups) {
    g.left_begin = lpos;
    g.right_begin = rpos;
    lpos += g.left_count;
    rpos += g.right_count;
  }
  out.left_rows.resize(left.size());
  out.right_rows.resize(right.size());
  std::vector<uint32_t> lfill(out.groups.size(), 0), rfill(out.groups.size(), 0);
  for (uint32_t r = 0; r < left.size(); ++r) {
    auto& g = out.groups[left_group[r]];
    out.left_rows[g.left_begin + lfill[left_group[r]]++] = r;
  }
  for (uint32_t r = 0; r < right.size(); ++r) {
    auto& g = out.groups[right_group[r]];
    out.right_rows[g.right_begin + rfill[right_group[r]]++] = r;
  }
  return out;
}

}  // namespace seam
