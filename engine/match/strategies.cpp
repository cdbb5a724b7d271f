#include "engine/match/strategies.hpp"

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
    out += v.kind == ValueKind::Text ? std::string(v.text) : key_text(v);
  }
  return out;
}

// A group being formed: its key, records, and origin.
struct Formed {
  std::string_view key;
  std::vector<uint32_t> left, right;
  GroupOrigin origin;
};

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
                             const RecordSet& right) {
  if (strategies.size() == 1 && strategies[0].keyed && !strategies[0].normalize.any())
    return match(left, strategies[0].left_key, right, strategies[0].right_key);

  MatchResult out;
  std::vector<char> left_used(left.size(), 0), right_used(right.size(), 0);
  std::vector<Formed> formed;
  // The key a record is known by when no strategy matches it: its first keyed strategy's.
  std::vector<std::string_view> left_home(left.size()), right_home(right.size());

  for (size_t si = 0; si < strategies.size(); ++si) {
    const ResolvedStrategy& s = strategies[si];
    if (s.keyed) {
      Keys keys(s);
      std::unordered_map<std::string_view, size_t> slot;  // key → index into `pending`
      std::vector<Formed> pending;
      auto add = [&](const RecordSet& rs, std::vector<char>& used, std::vector<std::string_view>& home,
                     const std::vector<int>& fields, bool is_left) {
        for (uint32_t r = 0; r < rs.size(); ++r) {
          if (used[r]) continue;
          auto k = keys.of(rs, r, fields);
          if (!k) continue;
          auto it = slot.find(*k);
          if (it == slot.end()) {
            if (!is_left) {  // a key no left record has: remembered as home, nothing formed
              if (home[r].empty()) home[r] = out.keys.store(*k);
              continue;
            }
            std::string_view stored = out.keys.store(*k);
            it = slot.emplace(stored, pending.size()).first;
            pending.push_back({stored, {}, {}, {static_cast<int>(si), false, 0, 0, -1}});
          }
          (is_left ? pending[it->second].left : pending[it->second].right).push_back(r);
          if (home[r].empty()) home[r] = pending[it->second].key;
        }
      };
      add(left, left_used, left_home, s.left_key, true);
      add(right, right_used, right_home, s.right_key, false);
      for (auto& f : pending) {
        if (f.left.empty() || f.right.empty()) continue;
        for (uint32_t r : f.left) left_used[r] = 1;
        for (uint32_t r : f.right) right_used[r] = 1;
        formed.push_back(std::move(f));
      }
      continue;
    }
    std::vector<uint32_t> lrows, rrows;
    for (uint32_t r = 0; r < left.size(); ++r)
      if (!left_used[r]) lrows.push_back(r);
    for (uint32_t r = 0; r < right.size(); ++r)
      if (!right_used[r]) rrows.push_back(r);
    CandidateResult found = pair_candidates(left, lrows, right, rrows, s.candidates);
    for (const auto& p : found.pairs) {
      left_used[p.left] = right_used[p.right] = 1;
      std::string_view key = !left_home[p.left].empty() ? left_home[p.left] : left.id(p.left);
      formed.push_back({key, {p.left}, {p.right}, {static_cast<int>(si), true, p.amount_delta, p.time_delta, p.similarity}});
    }
  }

  // What no strategy matched: one-sided groups by home key (or id), in record order.
  auto leftovers = [&](const RecordSet& rs, const std::vector<char>& used, const std::vector<std::string_view>& home,
                       bool is_left) {
    std::unordered_map<std::string_view, size_t> slot;
    for (uint32_t r = 0; r < rs.size(); ++r) {
      if (used[r]) continue;
      std::string_view key = !home[r].empty() ? home[r] : rs.id(r);
      auto [it, fresh] = slot.emplace(key, formed.size());
      if (fresh) formed.push_back({key, {}, {}, {}});
      (is_left ? formed[it->second].left : formed[it->second].right).push_back(r);
    }
  };
  leftovers(left, left_used, left_home, true);
  leftovers(right, right_used, right_home, false);

  // One order whatever formed the groups: by first left record, then right-only by first
  // right record.
  auto anchor = [](const Formed& f) {
    return f.left.empty() ? std::pair<int, uint32_t>{1, *std::min_element(f.right.begin(), f.right.end())}
                          : std::pair<int, uint32_t>{0, *std::min_element(f.left.begin(), f.left.end())};
  };
  std::stable_sort(formed.begin(), formed.end(), [&](const Formed& a, const Formed& b) { return anchor(a) < anchor(b); });
  out.groups.reserve(formed.size());
  out.origins.reserve(formed.size());
  for (const auto& f : formed) {
    MatchGroup g{f.key, static_cast<uint32_t>(out.left_rows.size()), static_cast<uint32_t>(f.left.size()),
                 static_cast<uint32_t>(out.right_rows.size()), static_cast<uint32_t>(f.right.size())};
    out.left_rows.insert(out.left_rows.end(), f.left.begin(), f.left.end());
    out.right_rows.insert(out.right_rows.end(), f.right.begin(), f.right.end());
    out.groups.push_back(g);
    out.origins.push_back(f.origin);
  }
  return out;
}

}  // namespace seam
