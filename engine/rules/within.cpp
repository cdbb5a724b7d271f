// within and same_period: the two sides' times, as a lag in minutes or calendar days in a
// zone, or as the calendar period they fall in.
#include "engine/rules/families.hpp"

#include <cstdio>
#include <cstdlib>

#include "engine/rules/rule_support.hpp"
#include "engine/util/result.hpp"

namespace seam {
namespace {

// The lag between two times, in µs or in calendar days in a zone, against a window with a
// minimum, a maximum and a direction; for each pair of records, or between the group's
// earliest or latest times.
struct LagWindow {
  int64_t min = 0, max = 0;  // µs, or days
  bool days = false;
  const date::time_zone* zone = nullptr;
  std::string zone_name;
  TimeDirection direction = TimeDirection::Either;
};

class Within final : public CompiledRule {
 public:
  Within(const RuleSpec& r, int lf, int rf, LagWindow w) : rule_(r), lf_(lf), rf_(rf), w_(std::move(w)) {}

  Verdict evaluate(const MatchGroup& g, const RuleContext& c) const override {
    SideRef l = side_of(Side::Left, g, c), r = side_of(Side::Right, g, c);
    if (l.rows.empty()) return skip_no(l);
    if (r.rows.empty()) return skip_no(r);
    for (uint32_t lr : l.rows)
      if (c.left->get(lr, static_cast<size_t>(lf_)).kind != ValueKind::Time)
        return Verdict::make(Outcome::Fail, std::string(l.system) + " " + std::string(c.left->id(lr)) + " has no " +
                                                rule_.left_field + " (" + display(c.left->get(lr, static_cast<size_t>(lf_))) + ")");
    for (uint32_t rr : r.rows)
      if (c.right->get(rr, static_cast<size_t>(rf_)).kind != ValueKind::Time)
        return Verdict::make(Outcome::Fail, std::string(r.system) + " " + std::string(c.right->id(rr)) + " has no " +
                                                rule_.right_field + " (" + display(c.right->get(rr, static_cast<size_t>(rf_))) + ")");
    if (rule_.anchor != "each") {
      bool earliest = rule_.anchor == "earliest";
      auto pick = [&](const RecordSet& rs, Rows rows, int field) {
        uint32_t best = rows[0];
        for (uint32_t x : rows) {
          int64_t t = rs.get(x, static_cast<size_t>(field)).i, b = rs.get(best, static_cast<size_t>(field)).i;
          if (earliest ? t < b : t > b) best = x;
        }
        return best;
      };
      return judge(l, r, pick(*c.left, l.rows, lf_), pick(*c.right, r.rows, rf_), c);
    }
    Verdict v;
    each_pair(l, r, g, c, [&](uint32_t lr, uint32_t rr) {
      v = judge(l, r, lr, rr, c);
      return v.outcome == Outcome::Pass;
    });
    return v;
  }

 private:
  std::string amount_text(int64_t v) const {
    if (!w_.days) return minutes_text(v);
    uint64_t a = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
    return std::to_string(a) + (a == 1 ? " day" : " days");
  }
  Verdict judge(const SideRef& l, const SideRef& r, uint32_t lr, uint32_t rr, const RuleContext& c) const {
    int64_t lt = c.left->get(lr, static_cast<size_t>(lf_)).i, rt = c.right->get(rr, static_cast<size_t>(rf_)).i;
    int64_t lag = 0;  // right - left
    if (w_.days) lag = day_number_in(rt, w_.zone) - day_number_in(lt, w_.zone);
    else if (__builtin_sub_overflow(rt, lt, &lag)) lag = rt > lt ? INT64_MAX : INT64_MIN;
    int64_t measured = w_.direction == TimeDirection::RightBefore ? (lag == INT64_MIN ? INT64_MAX : -lag)
                       : w_.direction == TimeDirection::Either    ? (lag == INT64_MIN ? INT64_MAX : std::llabs(lag))
                                                                  : lag;
    if (measured >= w_.min && measured <= w_.max) return Verdict::pass();
    std::string unit = w_.days ? " (calendar days in " + (w_.zone_name.empty() ? std::string("UTC") : w_.zone_name) + ")" : "";
    std::string what = std::string(r.system) + " " + std::string(c.right->id(rr)) + " " + rule_.right_field + " " +
                       format_time_iso(rt) + " is " + (lag == 0 ? "at the same " + std::string(w_.days ? "day" : "time") + " as "
                                                                 : amount_text(lag) + (lag > 0 ? " after " : " before ")) +
                       l.system + " " + rule_.left_field + " " + format_time_iso(lt);
    std::string actual = (lag < 0 ? "-" : "") + amount_text(lag);
    if (measured < 0)  // the wrong direction
      return Verdict::make(Outcome::Fail,
                           what + " (expected " + (w_.direction == TimeDirection::RightAfter ? "after" : "before") +
                               ", within " + amount_text(w_.max) + ")" + unit,
                           std::string(w_.direction == TimeDirection::RightAfter ? "after" : "before") + ", <= " +
                               amount_text(w_.max),
                           actual);
    if (measured < w_.min)
      return Verdict::make(Outcome::Fail, what + " (at least " + amount_text(w_.min) + ")" + unit,
                           ">= " + amount_text(w_.min), actual,
                           (lag < 0 ? "-" : "") + amount_text(w_.min - measured));
    return Verdict::make(Outcome::Fail, what + " (limit " + amount_text(w_.max) + ")" + unit, "<= " + amount_text(w_.max),
                         actual, (lag < 0 ? "-" : "") + amount_text(measured - w_.max));
  }

  const RuleSpec& rule_;
  int lf_, rf_;
  LagWindow w_;
};

// same_period: the right record falls in the same calendar day, month, quarter or year as
// the left one, in the zone the books are kept in. Each pair of records (the best-fit pairs
// of a paired group).
class SamePeriod final : public CompiledRule {
 public:
  SamePeriod(const RuleSpec& r, int lf, int rf, const date::time_zone* zone) : rule_(r), lf_(lf), rf_(rf), zone_(zone) {}

  Verdict evaluate(const MatchGroup& g, const RuleContext& c) const override {
    SideRef l = side_of(Side::Left, g, c), r = side_of(Side::Right, g, c);
    if (l.rows.empty()) return skip_no(l);
    if (r.rows.empty()) return skip_no(r);
    Verdict v;
    each_pair(l, r, g, c, [&](uint32_t lr, uint32_t rr) {
      const Value& a = c.left->get(lr, static_cast<size_t>(lf_));
      const Value& b = c.right->get(rr, static_cast<size_t>(rf_));
      if (a.kind != ValueKind::Time || b.kind != ValueKind::Time) {
        v = Verdict::make(Outcome::Skip, "no time to compare");
        return false;
      }
      std::string happened = period_of(a.i), booked = period_of(b.i);
      if (happened == booked) return true;
      v = Verdict::make(Outcome::Fail,
                        std::string(r.system) + " " + std::string(c.right->id(rr)) + " is booked in " + booked + " but " +
                            l.system + " " + std::string(c.left->id(lr)) + " happened in " + happened + " (" +
                            rule_.zone + ")",
                        happened, booked);
      return false;
    });
    return v;
  }

 private:
  // "2026-02-28", "2026-02", "2026-Q1" or "2026": the period `t` falls in, in the zone.
  std::string period_of(TimeUs t) const {
    CivilDate d = civil_date_utc(day_number_in(t, zone_) * 24 * 60 * kMicrosPerMinute);
    char buf[32];
    if (rule_.period == "day") std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", d.year, d.month, d.day);
    else if (rule_.period == "quarter") std::snprintf(buf, sizeof buf, "%04d-Q%d", d.year, (d.month - 1) / 3 + 1);
    else if (rule_.period == "year") std::snprintf(buf, sizeof buf, "%04d", d.year);
    else std::snprintf(buf, sizeof buf, "%04d-%02d", d.year, d.month);
    return buf;
  }
  const RuleSpec& rule_;
  int lf_, rf_;
  const date::time_zone* zone_;
};

}  // namespace

std::unique_ptr<CompiledRule> compile_within(const RuleSpec& rule, const ReconcileSpec& rec,
                                             const SystemSpec& left, const SystemSpec& right, const ParamValues& params) {
  int lf = field_of(left, rule.left_field, rule, "left", {FieldKind::Time});
  int rf = field_of(right, rule.right_field, rule, "right", {FieldKind::Time});
  LagWindow w;
  w.direction = rule.direction;
  if (rule.days.set) {
    auto whole_days = [&](const NumberRef& ref, const char* what) {
      Decimal d = params.number(ref, rule.loc);
      if (Decimal{d.to_scale(0), 0}.to_scale(d.scale) != d.units || d.units < 0)
        throw UserError(rule.loc.str() + ": rule '" + rule.name + "' " + what +
                        " counts calendar days: a whole number of at least 0, found " + d.str());
      return d.to_scale(0);
    };
    w.days = true;
    w.max = whole_days(rule.days, "days");
    w.min = rule.min_days.set ? whole_days(rule.min_days, "min_days") : 0;
    auto zone = find_zone(rule.zone);
    if (!zone) throw UserError(rule.loc.str() + ": rule '" + rule.name + "': " + zone.error());
    w.zone = *zone;
    w.zone_name = rule.zone;
  } else {
    auto minutes = maybe(rule.minutes, params, rule.loc);
    if (!minutes) throw UserError(rule.loc.str() + ": rule '" + rule.name + "' needs minutes = N");
    w.max = minutes_us(*minutes);
    if (auto min = maybe(rule.min_minutes, params, rule.loc)) w.min = minutes_us(*min);
  }
  if (w.min > w.max)
    throw UserError(rule.loc.str() + ": rule '" + rule.name + "' has a minimum lag above its maximum");
  return std::make_unique<Within>(rule, lf, rf, std::move(w));
}

std::unique_ptr<CompiledRule> compile_same_period(const RuleSpec& rule, const ReconcileSpec& rec,
                                                  const SystemSpec& left, const SystemSpec& right,
                                                  const ParamValues& params) {
  int lf = field_of(left, rule.left_field, rule, "left", {FieldKind::Time});
  int rf = field_of(right, rule.right_field, rule, "right", {FieldKind::Time});
  auto zone = find_zone(rule.zone);
  if (!zone) throw UserError(rule.loc.str() + ": rule '" + rule.name + "': " + zone.error());
  return std::make_unique<SamePeriod>(rule, lf, rf, *zone);
}

}  // namespace seam
