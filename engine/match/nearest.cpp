#include "engine/match/nearest.hpp"

#include <algorithm>
#include <cstdlib>
#include <future>
#include <set>

namespace seam {
namespace {

// Mixed (splitmix64's finalizer) so that the index directory's top bits spread: an
// amount's plain integer value would put every entry in the first bucket.
uint64_t amount_hash(const Value& v) {
  uint64_t x = static_cast<uint64_t>(v.i) * 31 + v.currency;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Hashes of the key and of each string obtained by deleting one character ("symmetric
// delete"): two keys within one substitution, insertion, deletion or adjacent swap share
// one. Long keys (over 64 characters) are indexed as they are.
void variant_hashes(std::string_view key, std::vector<uint64_t>& out) {
  out.clear();
  std::hash<std::string_view> h;
  out.push_back(h(key));
  if (key.size() > 64) return;
  char buf[64];
  for (size_t i = 0; i < key.size(); ++i) {
    key.copy(buf, i, 0);
    key.copy(buf + i, key.size() - i - 1, i + 1);
    out.push_back(h(std::string_view(buf, key.size() - 1)));
  }
}

std::string describe_gap(int64_t us) {
  int64_t minutes = std::llabs(us) / 60'000'000;
  std::string when = us >= 0 ? " later" : " earlier";
  if (minutes < 120) return std::to_string(minutes) + " min" + when;
  return std::to_string(minutes / 60) + " h" + when;
}

}  // namespace

void NearestFinder::HashIndex::seal() {
  std::sort(entries.begin(), entries.end());
  entries.erase(std::unique(entries.begin(), entries.end()), entries.end());
  bits = 1;
  while (bits < 30 && (size_t{1} << bits) < entries.size()) ++bits;
  starts.assign((size_t{1} << bits) + 1, 0);
  for (const auto& e : entries) ++starts[(e.first >> (64 - bits)) + 1];
  for (size_t b = 1; b < starts.size(); ++b) starts[b] += starts[b - 1];
}

template <typename F>
void NearestFinder::HashIndex::for_each(uint64_t hash, F f) const {
  if (entries.empty()) return;
  size_t b = hash >> (64 - bits);
  auto first = entries.begin() + starts[b], last = entries.begin() + starts[b + 1];
  for (auto it = std::lower_bound(first, last, std::pair<uint64_t, uint32_t>{hash, 0}); it != last && it->first == hash; ++it)
    f(it->second);
}

NearestFinder::NearestFinder(const MatchResult& m, const RecordSet& left, const RecordSet& right, NearestFields f,
                             size_t threads)
    : m_(m), left_(left), right_(right), f_(f) {
  if (threads < 2) {
    index_side(true, left_only_);
    index_side(false, right_only_);
    return;
  }
  // Each side writes only its own index and reads what is already built: nothing shared is written.
  auto right_side = std::async(std::launch::async, [this] { index_side(false, right_only_); });
  index_side(true, left_only_);
  right_side.get();
}

void NearestFinder::index_side(bool left_only, SideIndex& idx) {
  const RecordSet& rs = left_only ? left_ : right_;
  int amount = left_only ? f_.left_amount : f_.right_amount;
  std::vector<uint64_t> hashes;
  for (uint32_t gi = 0; gi < m_.groups.size(); ++gi) {
    const MatchGroup& g = m_.groups[gi];
    bool one_sided = left_only ? (g.left_count > 0 && g.right_count == 0) : (g.right_count > 0 && g.left_count == 0);
    if (!one_sided) continue;
    variant_hashes(g.key, hashes);
    for (uint64_t h : hashes) idx.by_variant.add(h, gi);
    if (amount >= 0) {
      uint32_t rec = left_only ? m_.left_of(g)[0] : m_.right_of(g)[0];
      const Value& a = rs.get(rec, static_cast<size_t>(amount));
      if (a.kind == ValueKind::Money) idx.by_amount.add(amount_hash(a), gi);
    }
  }
  idx.by_variant.seal();
  idx.by_amount.seal();
}

std::string NearestFinder::describe(const MatchGroup& g) const {
  if (g.left_count > 0 && g.right_count == 0) return describe_against(g, true);
  if (g.right_count > 0 && g.left_count == 0) return describe_against(g, false);
  return {};
}

std::string NearestFinder::describe_against(const MatchGroup& g, bool from_left) const {
  const RecordSet& mine = from_left ? left_ : right_;
  const RecordSet& theirs = from_left ? right_ : left_;
  const SideIndex& idx = from_left ? right_only_ : left_only_;
  int my_amount = from_left ? f_.left_amount : f_.right_amount;
  int my_time = from_left ? f_.left_time : f_.right_time;
  int their_amount = from_left ? f_.right_amount : f_.left_amount;
  int their_time = from_left ? f_.right_time : f_.left_time;
  uint32_t me = from_left ? m_.left_of(g)[0] : m_.right_of(g)[0];

  auto first_of = [&](uint32_t gi) {
    const MatchGroup& o = m_.groups[gi];
    return from_left ? m_.right_of(o)[0] : m_.left_of(o)[0];
  };
  auto gap_of = [&](uint32_t rec) -> std::optional<int64_t> {
    if (my_time < 0 || their_time < 0) return std::nullopt;
    const Value& a = mine.get(me, static_cast<size_t>(my_time));
    const Value& b = theirs.get(rec, static_cast<size_t>(their_time));
    if (a.kind != ValueKind::Time || b.kind != ValueKind::Time) return std::nullopt;
    return b.i - a.i;
  };

  // Same amount with a time inside the window: closest in time first.
  std::set<uint32_t> same_amount;
  int by_amount = -1;
  int64_t by_amount_gap = 0;
  if (my_amount >= 0 && their_amount >= 0) {
    const Value& a = mine.get(me, static_cast<size_t>(my_amount));
    if (a.kind == ValueKind::Money)
      idx.by_amount.for_each(amount_hash(a), [&](uint32_t gi) {
        const Value& b = theirs.get(first_of(gi), static_cast<size_t>(their_amount));
        if (b.kind != ValueKind::Money || b.i != a.i || b.currency != a.currency) return;
        auto gap = gap_of(first_of(gi));
        if (gap && std::llabs(*gap) > f_.window_us) return;
        same_amount.insert(gi);
        if (by_amount < 0 || std::llabs(gap.value_or(0)) < std::llabs(by_amount_gap)) {
          by_amount = static_cast<int>(gi);
          by_amount_gap = gap.value_or(0);
        }
      });
  }
  // A key one edit away (two if the amount agrees too); same amount is the strongest hint.
  int by_key = -1;
  size_t by_key_distance = 3;
  std::set<uint32_t> seen;
  std::vector<uint64_t> hashes;
  variant_hashes(g.key, hashes);
  for (uint64_t h : hashes) {
    idx.by_variant.for_each(h, [&](uint32_t gi) {
      if (!seen.insert(gi).second) return;
      size_t d = edit_distance(g.key, m_.groups[gi].key);
      if (d == 0 || d > (same_amount.count(gi) ? 2u : 1u)) return;
      if (!same_amount.count(gi)) {
        auto gap = gap_of(first_of(gi));
        if (gap && std::llabs(*gap) > f_.window_us) return;
      }
      bool better = by_key < 0 || (same_amount.count(gi) && !same_amount.count(static_cast<uint32_t>(by_key))) ||
                    (same_amount.count(gi) == same_amount.count(static_cast<uint32_t>(by_key)) && d < by_key_distance);
      if (better) {
        by_key = static_cast<int>(gi);
        by_key_distance = d;
      }
    });
  }
  int pick = by_key >= 0 && (same_amount.count(static_cast<uint32_t>(by_key)) || by_amount < 0) ? by_key : by_amount;
  if (pick < 0) return {};
  uint32_t rec = first_of(static_cast<uint32_t>(pick));
  std::string text = std::string(theirs.id(rec)) + " (key " + std::string(m_.groups[static_cast<size_t>(pick)].key);
  if (same_amount.count(static_cast<uint32_t>(pick)))
    text += ", same amount " + display(theirs.get(rec, static_cast<size_t>(their_amount)));
  if (auto gap = gap_of(rec)) text += ", " + describe_gap(*gap);
  return text + ")";
}

}  // namespace seam
