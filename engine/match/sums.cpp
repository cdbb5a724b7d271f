#include "engine/match/sums.hpp"

#include <algorithm>
#include <tuple>

#include "engine/match/criteria.hpp"

namespace seam {
namespace {

using namespace criteria;

struct Entry {
  CurrencyCode currency;
  int64_t time;
  uint32_t rank, rec;
  int64_t amount;
  uint32_t ref;  // into the reference list
  auto order() const { return std::tie(currency, time, rank); }
};

struct Candidate {
  uint64_t lag;  // |time distance|
  uint32_t rank;
  uint32_t entry;
};

bool reference_fits(const ReferenceCriterion& c, const std::string& one, const std::string& many) {
  switch (c.mode) {
    case ReferenceMode::Equal: return one == many;
    case ReferenceMode::Contains:
      return one.find(many) != std::string::npos || many.find(one) != std::string::npos;
    case ReferenceMode::Similar: return similarity_permille(one, many, c.method) >= c.threshold_permille;
  }
  return false;
}

}  // namespace

SumResult match_sums(const RecordSet& left, std::span<const uint32_t> left_rows, const RecordSet& right,
                     std::span<const uint32_t> right_rows, const CandidateStrategy& s) {
  const SumCriterion& sc = *s.sum;
  const bool many_right = sc.many == Side::Right;
  const RecordSet& one_rs = many_right ? left : right;
  const RecordSet& many_rs = many_right ? right : left;
  std::span<const uint32_t> one_rows = many_right ? left_rows : right_rows;
  std::span<const uint32_t> many_rows = many_right ? right_rows : left_rows;
  FeatureReader one_reader(s, many_right ? Side::Left : Side::Right), many_reader(s, many_right ? Side::Right : Side::Left);

  std::vector<uint32_t> many_rank = ranks_of(many_rs, many_rows), one_rank = ranks_of(one_rs, one_rows);
  std::vector<Entry> entries;
  std::vector<std::string> refs;
  entries.reserve(many_rows.size());
  for (uint32_t r : many_rows) {
    Features f = many_reader.read(many_rs, r);
    if (!f.usable) continue;
    entries.push_back({f.currency, f.time, many_rank[r], r, f.amount, static_cast<uint32_t>(refs.size())});
    refs.push_back(std::move(f.reference));
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.order() < b.order(); });
  std::vector<char> used(entries.size(), 0);

  struct One {
    Features f;
    uint32_t rec;
  };
  std::vector<One> ones;
  for (uint32_t r : one_rows) {
    Features f = one_reader.read(one_rs, r);
    if (f.usable) ones.push_back({std::move(f), r});
  }
  std::sort(ones.begin(), ones.end(), [&](const One& a, const One& b) {
    return std::tie(a.f.time, one_rank[a.rec]) < std::tie(b.f.time, one_rank[b.rec]);
  });

  SumResult out;
  std::vector<Candidate> cands;
  std::vector<uint32_t> pick, best;
  for (const One& o : ones) {
    // The other side's records in the window, closest in time first.
    int64_t lo = saturate(static_cast<i128>(o.f.time) - s.time->max);
    int64_t hi = saturate(static_cast<i128>(o.f.time) + s.time->max);
    auto it = std::lower_bound(entries.begin(), entries.end(), std::make_tuple(o.f.currency, lo, uint32_t{0}),
                               [](const Entry& e, const auto& key) { return e.order() < key; });
    cands.clear();
    for (; it != entries.end() && it->currency == o.f.currency && it->time <= hi; ++it) {
      size_t e = static_cast<size_t>(it - entries.begin());
      if (used[e]) continue;
      bool in_window = many_right ? time_within(*s.time, o.f.time, it->time) : time_within(*s.time, it->time, o.f.time);
      if (!in_window) continue;
      if (s.reference && !reference_fits(*s.reference, o.f.reference, refs[it->ref])) continue;
      i128 lag = static_cast<i128>(it->time) - o.f.time;
      cands.push_back({static_cast<uint64_t>(abs128(lag)), it->rank, static_cast<uint32_t>(e)});
    }
    std::sort(cands.begin(), cands.end(),
              [](const Candidate& a, const Candidate& b) { return std::tie(a.lag, a.rank) < std::tie(b.lag, b.rank); });
    bool cut = false;
    if (cands.size() > s.max_candidates) {
      cands.resize(s.max_candidates);
      cut = true;
    }
    const int scale = currency_scale(o.f.currency);
    size_t subsets = 0;
    bool found = false;
    i128 best_gap = 0;
    // Every subset of `k` candidates in lexicographic order; the first with the smallest gap wins.
    auto search = [&](auto& self, size_t from, size_t k, i128 sum) -> void {
      if (pick.size() == k) {
        if (++subsets > sc.max_subsets) return;
        if (sum > INT64_MAX || sum < INT64_MIN) return;
        int64_t total = static_cast<int64_t>(sum);
        bool fits = many_right ? amount_within(*s.amount, scale, o.f.amount, total)
                               : amount_within(*s.amount, scale, total, o.f.amount);
        i128 gap = abs128(sum - o.f.amount);
        if (fits && (!found || gap < best_gap)) {
          found = true;
          best_gap = gap;
          best = pick;
        }
        return;
      }
      for (size_t i = from; i + (k - pick.size()) <= cands.size(); ++i) {
        if (subsets > sc.max_subsets || (found && best_gap == 0)) return;
        pick.push_back(static_cast<uint32_t>(i));
        self(self, i + 1, k, sum + entries[cands[i].entry].amount);
        pick.pop_back();
      }
    };
    for (size_t k = 1; k <= sc.max_records && k <= cands.size() && !found; ++k) {
      pick.clear();
      search(search, 0, k, 0);
      if (subsets > sc.max_subsets) {
        cut = true;
        break;
      }
    }
    if (!found) {
      if (cut) out.stopped.push_back(o.rec);
      continue;
    }
    SumMatch m;
    m.one = o.rec;
    i128 total = 0, far = 0;
    for (uint32_t i : best) {
      const Entry& e = entries[cands[i].entry];
      used[cands[i].entry] = 1;
      m.many.push_back(e.rec);
      total += e.amount;
      i128 lag = static_cast<i128>(e.time) - o.f.time;
      if (abs128(lag) > abs128(far)) far = lag;
    }
    // By id (then line): the same group whatever order the exports came in.
    std::sort(m.many.begin(), m.many.end(), [&](uint32_t a, uint32_t b) { return many_rank[a] < many_rank[b]; });
    // right - left, whichever side holds the sum
    m.amount_delta = saturate(many_right ? total - o.f.amount : o.f.amount - total);
    m.time_delta = saturate(many_right ? far : -far);
    out.matches.push_back(std::move(m));
  }
  return out;
}

}  // namespace seam
