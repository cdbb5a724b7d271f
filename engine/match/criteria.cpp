#include "engine/match/criteria.hpp"

#include <algorithm>

namespace seam::criteria {

FeatureReader::FeatureReader(const CandidateStrategy& s, Side side) : s_(s), side_(side) {
  if (s.time && s.time->calendar_days) zone_ = *find_zone(s.time->zone);  // strategy_problem() checked it
  if (s.reference)
    normalizer_ = std::make_unique<ReferenceNormalizer>(s.reference->normalize, "match strategy '" + s.name + "'");
}

Features FeatureReader::read(const RecordSet& rs, uint32_t rec) const {
  Features f;
  auto field = [&](int left, int right) -> const Value& {
    return rs.get(rec, static_cast<size_t>(side_ == Side::Left ? left : right));
  };
  if (s_.amount) {
    const Value& v = field(s_.amount->left, s_.amount->right);
    if (v.kind != ValueKind::Money) f.usable = false;
    f.currency = v.currency;
    f.amount = v.i;
  }
  if (s_.time) {
    const Value& v = field(s_.time->left, s_.time->right);
    if (v.kind != ValueKind::Time) f.usable = false;
    else f.time = s_.time->calendar_days ? day_number_in(v.i, zone_) : v.i;
  }
  if (s_.reference) {
    const Value& v = field(s_.reference->left, s_.reference->right);
    auto ref = v.has_content() ? normalizer_->apply(key_text(v)) : std::nullopt;
    if (!ref || ref->empty()) f.usable = false;
    else f.reference = std::move(*ref);
  }
  return f;
}

bool amount_within(const AmountCriterion& c, int scale, int64_t a, int64_t b) {
  i128 delta = abs128(static_cast<i128>(b) - a);
  if (delta <= c.absolute.to_scale(scale)) return true;
  if (c.percent.units <= 0) return false;
  i128 base = 0;
  i128 la = abs128(a), lb = abs128(b);
  switch (c.base) {
    case ToleranceBase::Left: base = la; break;
    case ToleranceBase::Right: base = lb; break;
    case ToleranceBase::Larger: base = std::max(la, lb); break;
    case ToleranceBase::Smaller: base = std::min(la, lb); break;
  }
  // delta <= base * units / (100 * 10^scale), without division: exact at the boundary.
  i128 denom = 100;
  for (int i = 0; i < c.percent.scale; ++i) denom *= 10;
  return delta * denom <= base * c.percent.units;
}

int64_t amount_reach(const AmountCriterion& c, int scale, int64_t a) {
  i128 reach = std::max<int64_t>(c.absolute.to_scale(scale), 0);
  if (c.percent.units > 0) {
    i128 denom = 100;
    for (int i = 0; i < c.percent.scale; ++i) denom *= 10;
    i128 la = abs128(a);
    i128 pct_part = la * c.percent.units / denom + 1;
    // Bases that may be larger than |a| (right, larger): |b| <= |a| / (1 - p).
    if (c.base == ToleranceBase::Right || c.base == ToleranceBase::Larger) {
      i128 rest = denom - c.percent.units;  // > 0: strategy_problem() refuses p >= 100 %
      pct_part = la * c.percent.units / rest + 1;
    }
    reach = std::max(reach, pct_part);
  }
  return saturate(reach);
}

std::pair<int64_t, int64_t> time_range(const TimeCriterion& c, int64_t t) {
  auto add = [](int64_t x, int64_t y) { return saturate(static_cast<i128>(x) + y); };
  switch (c.direction) {
    case TimeDirection::RightAfter: return {add(t, c.min), add(t, c.max)};
    case TimeDirection::RightBefore: return {add(t, -c.max), add(t, -c.min)};
    case TimeDirection::Either: break;
  }
  return {add(t, -c.max), add(t, c.max)};
}

bool time_within(const TimeCriterion& c, int64_t t_left, int64_t t_right) {
  i128 lag = static_cast<i128>(t_right) - t_left;
  if (c.direction == TimeDirection::RightBefore) lag = -lag;
  if (c.direction == TimeDirection::Either) lag = abs128(lag);
  return lag >= c.min && lag <= c.max;
}

std::vector<uint32_t> ranks_of(const RecordSet& rs, std::span<const uint32_t> rows) {
  std::vector<uint32_t> order(rows.begin(), rows.end());
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    if (auto c = rs.id(a).compare(rs.id(b)); c != 0) return c < 0;
    return rs.line(a) < rs.line(b);
  });
  std::vector<uint32_t> rank(rs.size(), 0);
  for (uint32_t i = 0; i < order.size(); ++i) rank[order[i]] = i;
  return rank;
}

}  // namespace seam::criteria
