#include "engine/match/candidates.hpp"

#include "engine/match/criteria.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <unordered_map>

#include "engine/util/regex.hpp"
#include "engine/util/result.hpp"

namespace seam {
namespace {

using namespace criteria;

bool contains(std::string_view hay, std::string_view needle) { return hay.find(needle) != std::string_view::npos; }

// An admissible pair, before similarity is known: it is computed only for pairs still
// free when their turn comes (most candidates never get one). Ranks order records by id,
// then line, so ties break by integers, not by comparing strings.
// 40 bytes: a million records may have tens of millions of admissible pairs.
struct Scored {
  uint32_t left, right;          // records
  int64_t amount_delta, time_delta;
  uint32_t left_rank, right_rank;
  uint32_t left_ref, right_ref;  // into the reference lists, for the similarity
  int64_t abs_amount() const { return amount_delta == INT64_MIN ? INT64_MAX : std::llabs(amount_delta); }
  int64_t abs_time() const { return time_delta == INT64_MIN ? INT64_MAX : std::llabs(time_delta); }
};

}  // namespace

std::string strategy_problem(const CandidateStrategy& s) {
  std::string where = "match strategy '" + s.name + "': ";
  if (!s.amount && !s.time && !(s.reference && s.reference->mode == ReferenceMode::Equal))
    return where + "a keyless strategy needs an amount or a time criterion (or an equal reference) to bound its "
                   "candidates; a contains or similarity reference alone would compare every record with every other";
  if (s.amount) {
    if (s.amount->absolute.units < 0 || s.amount->percent.units < 0) return where + "a tolerance cannot be negative";
    i128 denom = 100;
    for (int i = 0; i < s.amount->percent.scale; ++i) denom *= 10;
    if ((s.amount->base == ToleranceBase::Right || s.amount->base == ToleranceBase::Larger) &&
        s.amount->percent.units >= denom)
      return where + "a percentage tolerance of the right or larger amount must be below 100 %";
  }
  if (s.time) {
    if (s.time->min < 0 || s.time->max < s.time->min)
      return where + "the time window needs 0 <= min <= max, found min " + std::to_string(s.time->min) + ", max " +
             std::to_string(s.time->max);
    if (s.time->calendar_days)
      if (auto zone = find_zone(s.time->zone); !zone) return where + zone.error();
  }
  if (s.reference && s.reference->mode == ReferenceMode::Similar &&
      (s.reference->threshold_permille < 0 || s.reference->threshold_permille > 1000))
    return where + "a similarity threshold is between 0 and 1";
  if (s.max_candidates == 0) return where + "max_candidates must be at least 1";
  if (s.sum) {
    if (!s.amount || !s.time)
      return where + "a sum strategy needs an amount criterion (what the records add up to) and a time criterion "
                     "(which records may belong together)";
    if (s.sum->max_records < 1 || s.sum->max_records > 10)
      return where + "max_records must be between 1 and 10, found " + std::to_string(s.sum->max_records);
  }
  return {};
}

ReferenceNormalizer::ReferenceNormalizer(const ReferenceNormalize& n, const std::string& where) : n_(n) {
  if (!n.regex.empty()) regex_ = std::make_unique<Regex>(n.regex, where);
}

ReferenceNormalizer::~ReferenceNormalizer() = default;

std::optional<std::string> ReferenceNormalizer::apply(std::string_view text) const {
  std::string out;
  if (regex_) {
    auto g = regex_->first_group(text);
    if (!g) return std::nullopt;
    out.assign(*g);
  } else {
    out.assign(text);
  }
  if (n_.remove_spaces)
    out.erase(std::remove_if(out.begin(), out.end(), [](unsigned char c) { return std::isspace(c); }), out.end());
  if (n_.trim) out = std::string(trim(out));
  if (n_.ignore_case)
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (n_.strip_leading_zeros) {
    size_t z = 0;
    while (z + 1 < out.size() && out[z] == '0') ++z;  // "000" keeps one zero
    out.erase(0, z);
  }
  return out;
}

std::optional<std::string> normalize_reference(std::string_view text, const ReferenceNormalize& n) {
  return ReferenceNormalizer(n).apply(text);
}

int similarity_permille(std::string_view a, std::string_view b, SimilarityMethod method) {
  if (a == b) return 1000;
  if (a.empty() || b.empty()) return 0;
  if (method == SimilarityMethod::Levenshtein) {
    // 1 - distance / longer length, in whole permille rounded down.
    thread_local std::vector<size_t> prev, cur;
    prev.resize(b.size() + 1);
    cur.resize(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
      cur[0] = i;
      for (size_t j = 1; j <= b.size(); ++j)
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      std::swap(prev, cur);
    }
    size_t longer = std::max(a.size(), b.size());
    return static_cast<int>((longer - prev[b.size()]) * 1000 / longer);
  }
  // Jaro-Winkler, prefix scale 0.1 over at most 4 characters. Computed in integers
  // (matches and transpositions are counts): the same answer on every machine.
  size_t window = std::max(a.size(), b.size()) / 2;
  window = window ? window - 1 : 0;
  // Reused buffers: similarity runs for many candidate pairs of a large side.
  thread_local std::vector<char> a_hit, b_hit;
  a_hit.assign(a.size(), 0);
  b_hit.assign(b.size(), 0);
  int64_t m = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    size_t lo = i > window ? i - window : 0, hi = std::min(b.size(), i + window + 1);
    for (size_t j = lo; j < hi; ++j)
      if (!b_hit[j] && a[i] == b[j]) {
        a_hit[i] = b_hit[j] = 1;
        ++m;
        break;
      }
  }
  if (m == 0) return 0;
  int64_t half_transpositions = 0;
  for (size_t i = 0, j = 0; i < a.size(); ++i) {
    if (!a_hit[i]) continue;
    while (!b_hit[j]) ++j;
    if (a[i] != b[j]) ++half_transpositions;
    ++j;
  }
  int64_t t = half_transpositions / 2;
  int64_t la = static_cast<int64_t>(a.size()), lb = static_cast<int64_t>(b.size());
  // jaro = (m/la + m/lb + (m - t)/m) / 3, as a fraction num / den.
  i128 den = static_cast<i128>(3) * la * lb * m;
  i128 num = static_cast<i128>(m) * lb * m + static_cast<i128>(m) * la * m + static_cast<i128>(m - t) * la * lb;
  int64_t prefix = 0;
  while (prefix < 4 && prefix < la && prefix < lb && a[static_cast<size_t>(prefix)] == b[static_cast<size_t>(prefix)])
    ++prefix;
  // jw = jaro + prefix * 0.1 * (1 - jaro) = (10 num + prefix (den - num)) / (10 den)
  i128 jw_num = 10 * num + prefix * (den - num), jw_den = 10 * den;
  return static_cast<int>(jw_num * 1000 / jw_den);
}

int similarity_upper_bound(std::string_view a, std::string_view b, SimilarityMethod method) {
  if (a == b) return 1000;
  if (a.empty() || b.empty()) return 0;
  int64_t la = static_cast<int64_t>(a.size()), lb = static_cast<int64_t>(b.size());
  if (method == SimilarityMethod::Levenshtein) {
    int64_t longer = std::max(la, lb);
    return static_cast<int>((longer - std::llabs(la - lb)) * 1000 / longer);
  }
  uint16_t count[256] = {};
  for (unsigned char c : a) ++count[c];
  int64_t m = 0;
  for (unsigned char c : b)
    if (count[c]) {
      --count[c];
      ++m;
    }
  m = std::min({m, la, lb});
  if (m == 0) return 0;
  // The Jaro-Winkler formula below with no transpositions and the common prefix as it is.
  i128 den = static_cast<i128>(3) * la * lb * m;
  i128 num = static_cast<i128>(m) * lb * m + static_cast<i128>(m) * la * m + static_cast<i128>(m) * la * lb;
  int64_t prefix = 0;
  while (prefix < 4 && prefix < la && prefix < lb && a[static_cast<size_t>(prefix)] == b[static_cast<size_t>(prefix)])
    ++prefix;
  i128 jw_num = 10 * num + prefix * (den - num), jw_den = 10 * den;
  return static_cast<int>(jw_num * 1000 / jw_den);
}

CandidateResult pair_candidates(const RecordSet& left, std::span<const uint32_t> left_rows, const RecordSet& right,
                                std::span<const uint32_t> right_rows, const CandidateStrategy& s) {
  if (std::string why = strategy_problem(s); !why.empty()) throw UserError(why);
  FeatureReader lread(s, Side::Left), rread(s, Side::Right);

  // The right side, indexed once: sorted by (currency, amount, time), or by time, or hashed
  // by reference when an equal reference is all there is.
  // Compact entries (references apart), so sorting a million moves 32 bytes each.
  struct Entry {
    CurrencyCode currency;
    uint32_t rec;
    int64_t amount, time;
    uint32_t ref;  // into `refs`
  };
  std::vector<Entry> index;
  std::vector<std::string> refs;
  index.reserve(right_rows.size());
  for (uint32_t r : right_rows) {
    Features f = rread.read(right, r);
    if (!f.usable) continue;
    index.push_back({f.currency, r, f.amount, f.time, static_cast<uint32_t>(refs.size())});
    if (s.reference) refs.push_back(std::move(f.reference));
  }
  auto order = [](const Entry& x, const Entry& y) {
    if (x.currency != y.currency) return x.currency < y.currency;
    if (x.amount != y.amount) return x.amount < y.amount;
    if (x.time != y.time) return x.time < y.time;
    return x.rec < y.rec;
  };
  std::sort(index.begin(), index.end(), order);
  std::unordered_map<std::string_view, std::vector<uint32_t>> by_reference;  // positions in index
  const bool hashed = !s.amount && !s.time;
  if (hashed)
    for (uint32_t i = 0; i < index.size(); ++i) by_reference[refs[index[i].ref]].push_back(i);

  CandidateResult result;
  std::vector<Scored> scored;
  std::vector<uint32_t> left_rank = ranks_of(left, left_rows), right_rank(right.size(), 0);
  {
    std::vector<uint32_t> rows;
    rows.reserve(index.size());
    for (const Entry& e : index) rows.push_back(e.rec);
    right_rank = ranks_of(right, rows);
  }
  const bool similar = s.reference && s.reference->mode == ReferenceMode::Similar;
  std::vector<std::string> left_refs;  // the left references a similarity needs later
  for (uint32_t l : left_rows) {
    Features lf = lread.read(left, l);
    if (!lf.usable) continue;
    const uint32_t left_ref = static_cast<uint32_t>(left_refs.size());
    bool kept_ref = false;
    size_t looked = 0;
    bool cut = false;
    auto consider = [&](const Entry& e) {
      if (++looked > s.max_candidates) {
        cut = true;
        return false;
      }
      CandidatePair p{l, e.rec, 0, 0, -1};
      if (s.amount) {
        if (e.currency != lf.currency || !amount_within(*s.amount, currency_scale(lf.currency), lf.amount, e.amount))
          return true;
        p.amount_delta = saturate(static_cast<i128>(e.amount) - lf.amount);
      }
      if (s.time) {
        if (!time_within(*s.time, lf.time, e.time)) return true;
        p.time_delta = saturate(static_cast<i128>(e.time) - lf.time);
      }
      if (s.reference) {
        const auto& rc = *s.reference;
        const std::string &a = lf.reference, &b = refs[e.ref];
        if (rc.mode == ReferenceMode::Equal && a != b) return true;
        if (rc.mode == ReferenceMode::Contains && !contains(a, b) && !contains(b, a)) return true;
        p.similarity = 1000;
        if (rc.mode == ReferenceMode::Similar) {
          p.similarity = -1;  // computed when the pair's turn comes
          if (!kept_ref) {
            left_refs.push_back(a);
            kept_ref = true;
          }
        }
      }
      scored.push_back({p.left, p.right, p.amount_delta, p.time_delta, left_rank[l], right_rank[e.rec], left_ref, e.ref});
      return true;
    };
    if (hashed) {
      auto it = by_reference.find(lf.reference);
      if (it != by_reference.end())
        for (uint32_t i : it->second)
          if (!consider(index[i])) break;
    } else if (s.amount) {
      int64_t reach = amount_reach(*s.amount, currency_scale(lf.currency), lf.amount);
      Entry lo{lf.currency, 0, saturate(static_cast<i128>(lf.amount) - reach), INT64_MIN, 0};
      auto it = std::lower_bound(index.begin(), index.end(), lo, order);
      int64_t top = saturate(static_cast<i128>(lf.amount) + reach);
      while (it != index.end() && it->currency == lf.currency && it->amount <= top && !cut) {
        // One run of equal amounts: with a window, binary-search its time range.
        auto run_end = std::upper_bound(it, index.end(), *it, [](const Entry& x, const Entry& y) {
          return x.currency != y.currency || x.amount < y.amount;
        });
        auto from = it, to = run_end;
        if (s.time) {
          auto [t0, t1] = time_range(*s.time, lf.time);
          from = std::lower_bound(it, run_end, t0, [](const Entry& x, int64_t t) { return x.time < t; });
          to = std::upper_bound(from, run_end, t1, [](int64_t t, const Entry& x) { return t < x.time; });
        }
        for (auto e = from; e != to; ++e)
          if (!consider(*e)) break;
        it = run_end;
      }
    } else {
      // Time alone: the index is sorted by time within currency 0 (no amount read).
      auto [t0, t1] = time_range(*s.time, lf.time);
      auto from = std::lower_bound(index.begin(), index.end(), t0, [](const Entry& x, int64_t t) { return x.time < t; });
      for (auto e = from; e != index.end() && e->time <= t1; ++e)
        if (!consider(*e)) break;
    }
    if (cut) ++result.cut_short;
  }

  // Best pairs first: closest amount, then closest time, then most similar reference, then
  // the records' ids and lines, so the outcome does not depend on input order. Sorted by
  // the integer keys; inside each run of equal amount and time distance, similarity is
  // computed for the pairs still free, and those below the threshold dropped.
  std::sort(scored.begin(), scored.end(), [](const Scored& x, const Scored& y) {
    if (x.abs_amount() != y.abs_amount()) return x.abs_amount() < y.abs_amount();
    if (x.abs_time() != y.abs_time()) return x.abs_time() < y.abs_time();
    if (x.left_rank != y.left_rank) return x.left_rank < y.left_rank;
    return x.right_rank < y.right_rank;
  });
  std::vector<char> left_taken(left.size(), 0), right_taken(right.size(), 0);
  std::vector<CandidatePair> run;
  for (size_t i = 0; i < scored.size();) {
    size_t j = i;
    while (j < scored.size() && scored[j].abs_amount() == scored[i].abs_amount() &&
           scored[j].abs_time() == scored[i].abs_time())
      ++j;
    run.clear();
    for (size_t k = i; k < j; ++k) {
      const Scored& c = scored[k];
      if (left_taken[c.left] || right_taken[c.right]) continue;
      CandidatePair p{c.left, c.right, c.amount_delta, c.time_delta, s.reference ? 1000 : -1};
      if (similar) {
        const std::string &a = left_refs[c.left_ref], &b = refs[c.right_ref];
        if (similarity_upper_bound(a, b, s.reference->method) < s.reference->threshold_permille) continue;
        p.similarity = similarity_permille(a, b, s.reference->method);
        if (p.similarity < s.reference->threshold_permille) continue;
      }
      run.push_back(p);
    }
    if (similar)
      std::stable_sort(run.begin(), run.end(),
                       [](const CandidatePair& x, const CandidatePair& y) { return x.similarity > y.similarity; });
    for (const CandidatePair& p : run) {
      if (left_taken[p.left] || right_taken[p.right]) continue;
      left_taken[p.left] = right_taken[p.right] = 1;
      result.pairs.push_back(p);
    }
    i = j;
  }
  std::sort(result.pairs.begin(), result.pairs.end(), [&](const CandidatePair& x, const CandidatePair& y) {
    return left.line(x.left) < left.line(y.left);
  });
  return result;
}

}  // namespace seam
