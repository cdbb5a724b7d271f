#include "engine/match/pairing.hpp"

#include <algorithm>
#include <cstdint>

namespace seam {
namespace {

// How far apart two values of a fit field are; UINT64_MAX when they cannot be compared
// (a side has no such field, a value is missing, currencies differ), so any comparable
// pair fits better than an incomparable one.
uint64_t distance(const RecordSet& left, uint32_t l, int lf, const RecordSet& right, uint32_t r, int rf, ValueKind kind) {
  if (lf < 0 || rf < 0) return UINT64_MAX;
  const Value& a = left.get(l, static_cast<size_t>(lf));
  const Value& b = right.get(r, static_cast<size_t>(rf));
  if (a.kind != kind || b.kind != kind) return UINT64_MAX;
  if (kind == ValueKind::Money && a.currency != b.currency) return UINT64_MAX;
  // |b - a| without overflow: both are int64, their distance fits uint64.
  return b.i >= a.i ? static_cast<uint64_t>(b.i) - static_cast<uint64_t>(a.i)
                    : static_cast<uint64_t>(a.i) - static_cast<uint64_t>(b.i);
}

struct Candidate {
  uint64_t amount, time;
  uint32_t li, ri;  // positions inside the group's left and right rows
  bool operator<(const Candidate& o) const {
    if (amount != o.amount) return amount < o.amount;
    if (time != o.time) return time < o.time;
    if (li != o.li) return li < o.li;
    return ri < o.ri;
  }
};

}  // namespace

void pair_by_best_fit(MatchResult& m, const RecordSet& left, const RecordSet& right, const NearestFields& f) {
  std::vector<Candidate> candidates;
  std::vector<uint32_t> lrows, rrows;
  std::vector<char> lused, rused;
  for (size_t gi = 0; gi < m.groups.size(); ++gi) {
    const MatchGroup& g = m.groups[gi];
    if (!g.left_count || !g.right_count || (g.left_count == 1 && g.right_count == 1)) continue;
    if (m.paired.empty()) m.paired.assign(m.groups.size(), 0);
    size_t n = static_cast<size_t>(g.left_count) * g.right_count;
    if (n > kMaxPairingCandidates) {  // rows stay in input order: pair i is the i-th of each side
      m.paired[gi] = MatchResult::kPairedInOrder;
      continue;
    }
    m.paired[gi] = MatchResult::kPaired;
    auto ls = m.left_of(g);
    auto rs = m.right_of(g);
    candidates.clear();
    candidates.reserve(n);
    for (uint32_t i = 0; i < ls.size(); ++i)
      for (uint32_t j = 0; j < rs.size(); ++j)
        candidates.push_back({distance(left, ls[i], f.left_amount, right, rs[j], f.right_amount, ValueKind::Money),
                              distance(left, ls[i], f.left_time, right, rs[j], f.right_time, ValueKind::Time), i, j});
    std::sort(candidates.begin(), candidates.end());
    // Greedy: the closest pair first, each record in one pair at most. The pairs come out
    // in the order the left records have in the input, so the result reads naturally.
    lused.assign(ls.size(), 0);
    rused.assign(rs.size(), 0);
    std::vector<int> partner(ls.size(), -1);
    size_t pairs = std::min(ls.size(), rs.size()), made = 0;
    for (const Candidate& c : candidates) {
      if (made == pairs) break;
      if (lused[c.li] || rused[c.ri]) continue;
      lused[c.li] = rused[c.ri] = 1;
      partner[c.li] = static_cast<int>(c.ri);
      ++made;
    }
    lrows.clear();
    rrows.clear();
    for (uint32_t i = 0; i < ls.size(); ++i)
      if (partner[i] >= 0) {
        lrows.push_back(ls[i]);
        rrows.push_back(rs[static_cast<size_t>(partner[i])]);
      }
    for (uint32_t i = 0; i < ls.size(); ++i)  // the extras, in input order
      if (partner[i] < 0) lrows.push_back(ls[i]);
    for (uint32_t j = 0; j < rs.size(); ++j)
      if (!rused[j]) rrows.push_back(rs[j]);
    std::copy(lrows.begin(), lrows.end(), m.left_rows.begin() + g.left_begin);
    std::copy(rrows.begin(), rrows.end(), m.right_rows.begin() + g.right_begin);
  }
}

}  // namespace seam
