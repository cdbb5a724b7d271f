#include "engine/match/matcher.hpp"

#include <cstdint>
#include <algorithm>
#include <array>
#include <functional>
#include <future>

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

uint64_t key_hash(std::string_view key) { return std::hash<std::string_view>{}(key); }

// Open addressing with linear probing: 8-byte slots (a hash tag and a group number), the
// key itself compared through its group. Twice as fast as std::unordered_map here, with
// one allocation instead of one per key.
template <typename Group>
class KeyIndex {
 public:
  // `expected`: at most this many keys. Sized for a load of at most 3/4 when every key is
  // distinct; keys that match fill it half as much. (Twice `expected` made a 5M run's
  // table 268 MB, a third of it never used.)
  // The table is allocated here and emptied by clear(), which may run on another thread:
  // memory allocated on a worker thread stays in that thread's malloc arena when freed,
  // where the evaluating thread never reuses it (a 1M run's peak grew by 35 MB).
  KeyIndex(size_t expected, const std::vector<Group>& groups) : groups_(groups) {
    size_t cap = 16;
    while (cap < expected / 3 * 4 + 4) cap <<= 1;
    slots_.reserve(cap);
    mask_ = cap - 1;
  }
  void clear() { slots_.assign(mask_ + 1, Slot{0, kEmpty}); }
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
  const std::vector<Group>& groups_;
  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

// Each probe is a cache miss in a table larger than the cache, then one in the group it
// finds, then one in that group's key text. Keys are hashed kAhead records early and what
// their probes will touch is prefetched in stages, so the misses overlap.
constexpr size_t kAhead = 16;

// Probes `index` with the key of each record of `rs` that `owned` takes, in source order,
// adding a group for each key not seen yet; `found(r, g)` learns each record's group.
template <typename Group, typename Owned, typename Found>
void probe_side(const RecordSet& rs, const std::vector<int>& fields, KeyIndex<Group>& index, std::vector<Group>& groups,
                StringArena& arena, uint32_t Group::*count, Owned owned, Found found) {
  struct Ahead {
    uint32_t r = 0;
    std::string_view key;
    uint64_t hash = 0;
  };
  std::array<Ahead, kAhead> ring;
  std::string buf;
  const size_t n = rs.size();
  size_t next = 0, staged = 0, taken = 0;
  auto stage = [&] {
    while (next < n && !owned(next)) ++next;
    if (next == n) return;
    Ahead& a = ring[staged++ % kAhead];
    a.r = static_cast<uint32_t>(next);
    a.key = key_of(rs, next++, fields, arena, buf);
    a.hash = key_hash(a.key);
    prefetch(index.home(a.hash));
  };
  while (staged < kAhead && next < n) stage();
  while (taken < staged) {
    if (taken + kAhead / 2 < staged) {  // its home slot has arrived by now: fetch the group it names
      uint32_t g = index.home_group(ring[(taken + kAhead / 2) % kAhead].hash);
      if (g != KeyIndex<Group>::kEmpty) prefetch(&groups[g]);
    }
    if (taken + kAhead / 4 < staged) {  // and that group's key text
      uint32_t g = index.home_group(ring[(taken + kAhead / 4) % kAhead].hash);
      if (g != KeyIndex<Group>::kEmpty) prefetch(groups[g].key.data());
    }
    Ahead a = ring[taken++ % kAhead];
    stage();
    uint32_t g = index.find_or_add(a.key, a.hash, [&] {
      groups.push_back(Group{a.key});
      return static_cast<uint32_t>(groups.size() - 1);
    });
    ++(groups[g].*count);
    found(a.r, g);
  }
}

// A group while a partition is joined: what becomes a MatchGroup, without the offsets
// the counting sort fills in (8 bytes less for each group while both exist).
struct PartGroup {
  std::string_view key;
  uint32_t left_count = 0, right_count = 0;
};

// A key's partition: from the hash's top bits, which the index uses only as a tag.
inline uint32_t partition_of(uint64_t hash, uint32_t parts) {
  return static_cast<uint32_t>(((hash >> 48) * parts) >> 16);
}

// The join in `parts` partitions of the key space, one thread each, when keys are single
// text fields: each thread builds the groups of its keys, in the order one thread would
// meet them, and a merge by the record that made each group then numbers them as the
// one-thread join does (first appearance on the left, then right-only groups in right order). Same groups,
// same order, same records; half the cache misses per core at two. Only keys of one text
// field qualify, since a thread reads them without the arena (which one thread at a time
// may add to): false, with nothing done to `out`, when some record's key is not text.
bool join_partitioned(const RecordSet& left, const std::vector<int>& left_key, const RecordSet& right,
                      const std::vector<int>& right_key, uint32_t parts, MatchResult& out,
                      std::vector<uint32_t>& left_group, std::vector<uint32_t>& right_group) {
  if (left_key.size() != 1 || right_key.size() != 1) return false;
  // Each record's partition, and how many records each partition has (its table's size).
  std::vector<uint8_t> left_part(left.size()), right_part(right.size());
  std::vector<std::vector<size_t>> left_count(parts, std::vector<size_t>(parts)), right_count = left_count;
  std::vector<char> all_text(parts, 1);  // a char per thread: vector<bool> packs them into shared words
  auto assign = [&](uint32_t t) {
    auto side = [&](const RecordSet& rs, const std::vector<int>& fields, std::vector<uint8_t>& part,
                    std::vector<size_t>& count) {
      const size_t n = rs.size(), first = n * t / parts, last = n * (t + 1) / parts;
      for (size_t r = first; r < last; ++r) {
        const Value& key = rs.get(r, static_cast<size_t>(fields[0]));
        if (key.kind != ValueKind::Text) {
          all_text[t] = 0;
          return;
        }
        uint32_t p = partition_of(key_hash(key.text()), parts);
        part[r] = static_cast<uint8_t>(p);
        ++count[p];
      }
    };
    side(left, left_key, left_part, left_count[t]);
    side(right, right_key, right_part, right_count[t]);
  };
  auto on_every_thread = [parts](auto work) {
    std::vector<std::future<void>> others;
    for (uint32_t t = 1; t < parts; ++t) others.push_back(std::async(std::launch::async, work, t));
    work(0);
    for (auto& f : others) f.get();
  };
  on_every_thread(assign);
  if (std::find(all_text.begin(), all_text.end(), 0) != all_text.end()) return false;

  struct Partition {
    std::vector<PartGroup> groups;
    std::vector<uint32_t> first;                      // the record that made each group (left, then right)
    uint32_t made_by_left = 0;                        // groups [0, made_by_left) were made by left records
    std::vector<uint32_t> left_groups, right_groups;  // the group of each of its records, in source order
  };
  std::vector<Partition> partition(parts);
  StringArena unused;  // text keys are views: nothing is stored
  // Every buffer a partition fills is allocated here, on the calling thread, and sized so
  // that the join never grows one (see KeyIndex).
  std::vector<KeyIndex<PartGroup>> indexes;
  indexes.reserve(parts);
  for (uint32_t p = 0; p < parts; ++p) {
    size_t lefts = 0, rights = 0;
    for (uint32_t t = 0; t < parts; ++t) lefts += left_count[t][p], rights += right_count[t][p];
    Partition& mine = partition[p];
    mine.groups.reserve(lefts + rights);
    mine.first.reserve(lefts + rights);
    mine.left_groups.reserve(lefts);
    mine.right_groups.reserve(rights);
    indexes.emplace_back(lefts + rights, mine.groups);
  }
  auto join = [&](uint32_t p) {
    Partition& mine = partition[p];
    KeyIndex<PartGroup>& index = indexes[p];
    index.clear();
    auto found = [&mine](std::vector<uint32_t>& groups_of) {
      return [&mine, &groups_of](uint32_t r, uint32_t g) {
        if (g == mine.first.size()) mine.first.push_back(r);  // groups are made in order
        groups_of.push_back(g);
      };
    };
    probe_side(left, left_key, index, mine.groups, unused, &PartGroup::left_count,
               [&](size_t r) { return left_part[r] == p; }, found(mine.left_groups));
    mine.made_by_left = static_cast<uint32_t>(mine.groups.size());
    probe_side(right, right_key, index, mine.groups, unused, &PartGroup::right_count,
               [&](size_t r) { return right_part[r] == p; }, found(mine.right_groups));
  };
  on_every_thread(join);
  indexes.clear();

  // Number the groups as one thread would have: the groups left records made, merged by
  // the record that made each, then those right records made, the same way. Each
  // partition's groups were made in source order, so this merge reads them in order.
  size_t total = 0;
  for (const auto& p : partition) total += p.groups.size();
  out.groups.reserve(total);
  std::vector<std::vector<uint32_t>> number(parts);
  for (uint32_t p = 0; p < parts; ++p) number[p].resize(partition[p].groups.size());
  auto merge = [&](std::vector<uint32_t> from, const std::vector<uint32_t>& to) {
    for (;;) {
      uint32_t best = parts;
      for (uint32_t p = 0; p < parts; ++p)
        if (from[p] < to[p] && (best == parts || partition[p].first[from[p]] < partition[best].first[from[best]]))
          best = p;
      if (best == parts) return;
      number[best][from[best]] = static_cast<uint32_t>(out.groups.size());
      const PartGroup& g = partition[best].groups[from[best]++];
      out.groups.push_back(MatchGroup{g.key, 0, g.left_count, 0, g.right_count});
    }
  };
  std::vector<uint32_t> starts(parts, 0), by_left(parts), ends(parts);
  for (uint32_t p = 0; p < parts; ++p) {
    by_left[p] = partition[p].made_by_left;
    ends[p] = static_cast<uint32_t>(partition[p].groups.size());
  }
  merge(starts, by_left);
  merge(by_left, ends);
  for (auto& p : partition) {  // copied out: what is left is each record's group
    std::vector<PartGroup>().swap(p.groups);
    std::vector<uint32_t>().swap(p.first);
  }

  // Each record's group number, on every thread: thread t takes the records whose
  // partitions it counted, and knows from those counts where in each partition they begin.
  auto place = [&](uint32_t t) {
    auto side = [&](const std::vector<uint8_t>& part, const std::vector<std::vector<size_t>>& count,
                    std::vector<uint32_t> Partition::*groups_of, std::vector<uint32_t>& group_of) {
      std::vector<size_t> at(parts, 0);
      for (uint32_t before = 0; before < t; ++before)
        for (uint32_t p = 0; p < parts; ++p) at[p] += count[before][p];
      const size_t n = part.size(), first = n * t / parts, last = n * (t + 1) / parts;
      for (size_t r = first; r < last; ++r) {
        const uint32_t p = part[r];
        group_of[r] = number[p][(partition[p].*groups_of)[at[p]++]];
      }
    };
    side(left_part, left_count, &Partition::left_groups, left_group);
    side(right_part, right_count, &Partition::right_groups, right_group);
  };
  on_every_thread(place);
  return true;
}

}  // namespace

MatchResult match(const RecordSet& left, const std::vector<int>& left_key, const RecordSet& right,
                  const std::vector<int>& right_key, size_t threads) {
  MatchResult out;
  std::vector<uint32_t> left_group(left.size()), right_group(right.size());
  // Below this many records a thread costs more than it saves.
  constexpr size_t kParallelFrom = size_t{1} << 16;
  const uint32_t parts = static_cast<uint32_t>(std::min<size_t>(threads, 16));
  const bool on_threads = parts > 1 && left.size() + right.size() >= kParallelFrom;
  if (!on_threads || !join_partitioned(left, left_key, right, right_key, parts, out, left_group, right_group)) {
    out.groups.reserve(left.size() + right.size() / 8);
    KeyIndex<MatchGroup> index(left.size() + right.size(), out.groups);
    index.clear();
    auto every = [](size_t) { return true; };
    probe_side(left, left_key, index, out.groups, out.keys, &MatchGroup::left_count, every,
               [&](uint32_t r, uint32_t g) { left_group[r] = g; });
    probe_side(right, right_key, index, out.groups, out.keys, &MatchGroup::right_count, every,
               [&](uint32_t r, uint32_t g) { right_group[r] = g; });
  }
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
  auto sort_right = [&] {
    for (uint32_t r = 0; r < right.size(); ++r) {
      auto& g = out.groups[right_group[r]];
      out.right_rows[g.right_begin + rfill[right_group[r]]++] = r;
    }
  };
  // The sides write apart (their own rows and fill counts) and only read the groups.
  std::future<void> right_sorted;
  if (on_threads) right_sorted = std::async(std::launch::async, sort_right);
  else sort_right();
  for (uint32_t r = 0; r < left.size(); ++r) {
    auto& g = out.groups[left_group[r]];
    out.left_rows[g.left_begin + lfill[left_group[r]]++] = r;
  }
  if (right_sorted.valid()) right_sorted.get();
  return out;
}

}  // namespace seam
