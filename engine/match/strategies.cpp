#include "engine/match/strategies.hpp"

#include "engine/match/sums.hpp"

#include <algorithm>
#include <optional>
#include <unordered_map>

namespace seam {
namespace {

std::string record_key(const RecordSet& rs, uint32_t rec, const std::vector<int>& fields) {
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    const Value& v = rs.get(rec, static_cast<size_t>(fields[i]));
    if (i) out += " | ";
    out += v.kind == ValueKind::Text ? std::string(v.text()) : key_text(v);
  }
  return out;
}

// A group being formed: its key, where its records are in the flat row lists, its origin,
// and its place in the output order (first left record, else right-only by first right).
struct Formed {
  std::string_view key;
  uint32_t left_begin = 0, left_count = 0, right_begin = 0, right_count = 0;
  GroupOrigin origin;
  uint64_t anchor = 0;
};

// Groups of records filed under bucket numbers in any order, laid out contiguously per
// bucket afterwards (a counting sort): no vector per group.
class Buckets {
 public:
  void add(uint32_t bucket, uint32_t row) { items_.emplace_back(bucket, row); }
  // Appends each bucket's rows to `rows` (in the order they were added); begin[b], count[b].
  void lay_out(size_t buckets, std::vector<uint32_t>& rows, std::vector<uint32_t>& begin,
               std::vector<uint32_t>& count) const {
    begin.assign(buckets, 0);
    count.assign(buckets, 0);
    for (const auto& [b, r] : items_) ++count[b];
    uint32_t at = static_cast<uint32_t>(rows.size());
    for (size_t b = 0; b < buckets; ++b) {
      begin[b] = at;
      at += count[b];
    }
    rows.resize(at);
    std::vector<uint32_t> fill(begin);
    for (const auto& [b, r] : items_) rows[fill[b]++] = r;
  }

 private:
  std::vector<std::pair<uint32_t, uint32_t>> items_;
};

uint64_t anchor_of(bool has_left, uint32_t first_row) { return (has_left ? 0 : uint64_t{1} << 32) | first_row; }

// A keyed strategy's key of a record, normalised; nullopt when it is empty after that
// (such a record cannot be joined by it).
class Keys {
 public:
  explicit Keys(const ResolvedStrategy& s) : normalizer_(s.normalize, "match strategy '" + s.name + "'") {}
  std::optional<std::string> of(const RecordSet& rs, uint32_t rec, const std::vector<int>& fields) const {
    auto k = normalizer_.apply(record_key(rs, rec, fields));
    if (!k || k->empty()) return std::nullopt;
    return k;
  }

 private:
  ReferenceNormalizer normalizer_;
};

}  // namespace

MatchResult match_strategies(const std::vector<ResolvedStrategy>& strategies, const RecordSet& left,
                             const RecordSet& right, size_t threads) {
  if (strategies.size() == 1 && strategies[0].keyed && !strategies[0].normalize.any())
    return match(left, strategies[0].left_key, right, strategies[0].right_key, threads);

  MatchResult out;
  std::vector<char> left_used(left.size(), 0), right_used(right.size(), 0);
  std::vector<Formed> formed;
  std::vector<uint32_t> lrows_all, rrows_all;  // every formed group's rows, by ranges
  // The key a record is known by when no strategy matches it: its first keyed strategy's.
  std::vector<std::string_view> left_home(left.size()), right_home(right.size());
  std::vector<uint32_t> lbegin, lcount, rbegin, rcount;
  std::unordered_map<uint32_t, int> left_note, right_note;  // records a bounded search gave up on

  for (size_t si = 0; si < strategies.size(); ++si) {
    const ResolvedStrategy& s = strategies[si];
    if (s.keyed) {
      Keys keys(s);
      std::unordered_map<std::string_view, uint32_t> slot;  // key → bucket
      std::vector<std::string_view> bucket_key;
      Buckets lb, rb;
      for (uint32_t r = 0; r < left.size(); ++r) {
        if (left_used[r]) continue;
        auto k = keys.of(left, r, s.left_key);
        if (!k) continue;
        auto it = slot.find(*k);
        if (it == slot.end()) {
          std::string_view stored = out.keys.store(*k);
          it = slot.emplace(stored, static_cast<uint32_t>(bucket_key.size())).first;
          bucket_key.push_back(stored);
        }
        lb.add(it->second, r);
        if (left_home[r].empty()) left_home[r] = bucket_key[it->second];
      }
      for (uint32_t r = 0; r < right.size(); ++r) {
        if (right_used[r]) continue;
        auto k = keys.of(right, r, s.right_key);
        if (!k) continue;
        auto it = slot.find(*k);
        if (it == slot.end()) {  // a key no left record has: remembered as home, nothing formed
          if (right_home[r].empty()) right_home[r] = out.keys.store(*k);
          continue;
        }
        rb.add(it->second, r);
        if (right_home[r].empty()) right_home[r] = bucket_key[it->second];
      }
      lb.lay_out(bucket_key.size(), lrows_all, lbegin, lcount);
      rb.lay_out(bucket_key.size(), rrows_all, rbegin, rcount);
      for (size_t k = 0; k < bucket_key.size(); ++k) {
        if (!lcount[k] || !rcount[k]) continue;  // one-sided: offered to the next strategy
        for (uint32_t i = 0; i < lcount[k]; ++i) left_used[lrows_all[lbegin[k] + i]] = 1;
        for (uint32_t i = 0; i < rcount[k]; ++i) right_used[rrows_all[rbegin[k] + i]] = 1;
        formed.push_back({bucket_key[k], lbegin[k], lcount[k], rbegin[k], rcount[k],
                          {static_cast<int>(si), false, 0, 0, -1}, anchor_of(true, lrows_all[lbegin[k]])});
      }
      continue;
    }
    std::vector<uint32_t> lrows, rrows;
    for (uint32_t r = 0; r < left.size(); ++r)
      if (!left_used[r]) lrows.push_back(r);
    for (uint32_t r = 0; r < right.size(); ++r)
      if (!right_used[r]) rrows.push_back(r);
    if (s.candidates.sum) {
      SumResult sums = match_sums(left, lrows, right, rrows, s.candidates);
      const bool many_right = s.candidates.sum->many == Side::Right;
      for (const auto& m : sums.matches) {
        Formed f{{}, static_cast<uint32_t>(lrows_all.size()), 0, static_cast<uint32_t>(rrows_all.size()), 0,
                 {static_cast<int>(si), true, m.amount_delta, m.time_delta, -1, static_cast<uint32_t>(m.many.size())}, 0};
        std::vector<uint32_t> one{m.one};
        const std::vector<uint32_t>& ls = many_right ? one : m.many;
        const std::vector<uint32_t>& rs = many_right ? m.many : one;
        for (uint32_t l : ls) left_used[l] = 1;
        for (uint32_t r : rs) right_used[r] = 1;
        lrows_all.insert(lrows_all.end(), ls.begin(), ls.end());
        rrows_all.insert(rrows_all.end(), rs.begin(), rs.end());
        f.left_count = static_cast<uint32_t>(ls.size());
        f.right_count = static_cast<uint32_t>(rs.size());
        // Known by the one record's key (or id), like a pair by its left record's.
        f.key = many_right ? (!left_home[m.one].empty() ? left_home[m.one] : left.id(m.one))
                           : (!right_home[m.one].empty() ? right_home[m.one] : right.id(m.one));
        f.anchor = anchor_of(true, ls.front());
        formed.push_back(f);
      }
      if (!sums.stopped.empty()) {
        out.notes.push_back("the sum search of match strategy '" + s.name + "' stopped at its bound (max_candidates = " +
                            std::to_string(s.candidates.max_candidates) + ", " +
                            std::to_string(s.candidates.sum->max_subsets) +
                            " subsets) before it found records adding up to this one; narrow the time window or raise "
                            "max_candidates");
        for (uint32_t r : sums.stopped) (many_right ? left_note : right_note)[r] = static_cast<int>(out.notes.size() - 1);
      }
      continue;
    }
    CandidateResult found = pair_candidates(left, lrows, right, rrows, s.candidates);
    for (const auto& p : found.pairs) {
      left_used[p.left] = right_used[p.right] = 1;
      std::string_view key = !left_home[p.left].empty() ? left_home[p.left] : left.id(p.left);
      formed.push_back({key, static_cast<uint32_t>(lrows_all.size()), 1, static_cast<uint32_t>(rrows_all.size()), 1,
                        {static_cast<int>(si), true, p.amount_delta, p.time_delta, p.similarity},
                        anchor_of(true, p.left)});
      lrows_all.push_back(p.left);
      rrows_all.push_back(p.right);
    }
  }

  // What no strategy matched: one-sided groups by home key (or id), in record order.
  auto leftovers = [&](const RecordSet& rs, const std::vector<char>& used, const std::vector<std::string_view>& home,
                       const std::unordered_map<uint32_t, int>& notes, bool is_left) {
    std::unordered_map<std::string_view, uint32_t> slot;
    std::vector<std::string_view> bucket_key;
    std::vector<uint32_t> first;
    Buckets b;
    for (uint32_t r = 0; r < rs.size(); ++r) {
      if (used[r]) continue;
      std::string_view key = !home[r].empty() ? home[r] : rs.id(r);
      auto [it, fresh] = slot.emplace(key, static_cast<uint32_t>(bucket_key.size()));
      if (fresh) {
        bucket_key.push_back(key);
        first.push_back(r);
      }
      b.add(it->second, r);
    }
    std::vector<uint32_t>& rows = is_left ? lrows_all : rrows_all;
    std::vector<uint32_t> begin, count;
    b.lay_out(bucket_key.size(), rows, begin, count);
    for (size_t k = 0; k < bucket_key.size(); ++k) {
      Formed f{bucket_key[k], 0, 0, 0, 0, {}, anchor_of(is_left, first[k])};
      (is_left ? f.left_begin : f.right_begin) = begin[k];
      (is_left ? f.left_count : f.right_count) = count[k];
      for (uint32_t i = 0; i < count[k] && !notes.empty(); ++i)
        if (auto n = notes.find(rows[begin[k] + i]); n != notes.end()) f.origin.note = n->second;
      formed.push_back(f);
    }
  };
  leftovers(left, left_used, left_home, left_note, true);
  leftovers(right, right_used, right_home, right_note, false);

  // One order whatever formed the groups: by first left record, then right-only by first
  // right record (a group's first record is the lowest: rows are filed in record order).
  std::stable_sort(formed.begin(), formed.end(), [](const Formed& a, const Formed& b) { return a.anchor < b.anchor; });
  out.groups.reserve(formed.size());
  out.origins.reserve(formed.size());
  out.left_rows.reserve(lrows_all.size());
  out.right_rows.reserve(rrows_all.size());
  for (const auto& f : formed) {
    out.groups.push_back({f.key, static_cast<uint32_t>(out.left_rows.size()), f.left_count,
                          static_cast<uint32_t>(out.right_rows.size()), f.right_count});
    out.left_rows.insert(out.left_rows.end(), lrows_all.begin() + f.left_begin,
                         lrows_all.begin() + f.left_begin + f.left_count);
    out.right_rows.insert(out.right_rows.end(), rrows_all.begin() + f.right_begin,
                          rrows_all.begin() + f.right_begin + f.right_count);
    out.origins.push_back(f.origin);
  }
  return out;
}

}  // namespace seam
