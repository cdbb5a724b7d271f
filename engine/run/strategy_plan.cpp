#include "engine/run/strategy_plan.hpp"

#include <algorithm>
#include <cstdlib>

#include "engine/util/result.hpp"

namespace seam {
namespace {

__extension__ typedef __int128 i128;

std::string where(const ReconcileSpec& rec, const MatchStrategySpec& s) {
  return rec.loc.str() + ": reconcile '" + rec.name + "' match strategy '" + s.name + "'";
}

int field_of(const ReconcileSpec& rec, const MatchStrategySpec& s, const SystemSpec& sys, const std::string& field,
             const char* what, std::initializer_list<FieldKind> kinds, const char* kind_text) {
  int i = sys.field_index(field);
  if (i < 0) throw UserError(where(rec, s) + " reads " + what + " field '" + field + "', " + sys.not_declared(field));
  FieldKind k = sys.fields[static_cast<size_t>(i)].kind;
  if (kinds.size() && k != FieldKind::Lua && std::find(kinds.begin(), kinds.end(), k) == kinds.end())
    throw UserError(where(rec, s) + " needs " + what + " field '" + field + "' of system '" + sys.name +
                    "' to be declared as " + kind_text + " (declared at " + sys.fields[static_cast<size_t>(i)].loc.str() +
                    ")");
  return i;
}

// A window bound in its unit as microseconds, or as whole calendar days.
int64_t window_bound(const ReconcileSpec& rec, const MatchStrategySpec& s, const Decimal& d, const char* which) {
  i128 pow10 = 1;
  for (int i = 0; i < d.scale; ++i) pow10 *= 10;
  if (s.time_unit == "days") {
    if (d.units % pow10 != 0)
      throw UserError(where(rec, s) + ": time." + which + " counts calendar days: it must be a whole number, found " +
                      d.str());
    return static_cast<int64_t>(d.units / pow10);
  }
  i128 per_unit = s.time_unit == "hours" ? i128{3600} * kMicrosPerSecond : i128{60} * kMicrosPerSecond;
  i128 us = static_cast<i128>(d.units) * per_unit / pow10;
  if (us > INT64_MAX / 2 || us < INT64_MIN / 2)
    throw UserError(where(rec, s) + ": time." + which + " " + d.str() + " " + s.time_unit + " is out of range");
  return static_cast<int64_t>(us);
}

std::string lag_text(int64_t delta, bool calendar_days) {
  if (delta == 0) return calendar_days ? "same day" : "same time";
  const char* side = delta > 0 ? " later" : " earlier";
  uint64_t a = delta < 0 ? 0 - static_cast<uint64_t>(delta) : static_cast<uint64_t>(delta);
  if (calendar_days) return std::to_string(a) + (a == 1 ? " day" : " days") + side;
  uint64_t minutes = a / kMicrosPerMinute;
  if (minutes >= 48 * 60) return std::to_string(minutes / (24 * 60)) + " days" + side;
  if (minutes >= 120) return std::to_string(minutes / 60) + " h" + side;
  if (minutes >= 1) return std::to_string(minutes) + " min" + side;
  return std::to_string(a / kMicrosPerSecond) + " s" + side;
}

}  // namespace

std::vector<ResolvedStrategy> plan_strategies(const ReconcileSpec& rec, const SystemSpec& left, const SystemSpec& right,
                                              const ParamValues& params) {
  std::vector<ResolvedStrategy> out;
  std::vector<MatchStrategySpec> implicit;
  if (rec.strategies.empty()) {  // built in C++ (tests, tools): the reconcile's own keys
    implicit.emplace_back();
    implicit[0].name = "key";
    implicit[0].left_key = rec.left_key;
    implicit[0].right_key = rec.right_key;
  }
  for (const auto& s : rec.strategies.empty() ? implicit : rec.strategies) {
    ResolvedStrategy r;
    r.name = s.name;
    r.keyed = s.keyed;
    if (s.keyed) {
      if (s.left_key.size() != s.right_key.size())
        throw UserError(where(rec, s) + " joins " + std::to_string(s.left_key.size()) + " left key fields with " +
                        std::to_string(s.right_key.size()) + " right key fields");
      for (const auto& k : s.left_key) r.left_key.push_back(field_of(rec, s, left, k, "left key", {}, ""));
      for (const auto& k : s.right_key) r.right_key.push_back(field_of(rec, s, right, k, "right key", {}, ""));
      r.normalize = s.key_normalize;
      ReferenceNormalizer check(s.key_normalize, where(rec, s));  // a bad regex is reported now
      out.push_back(std::move(r));
      continue;
    }
    CandidateStrategy& c = r.candidates;
    c.name = s.name;
    c.max_candidates = static_cast<size_t>(s.max_candidates);
    if (!s.amount_left.empty()) {
      AmountCriterion a;
      a.left = field_of(rec, s, left, s.amount_left, "amount", {FieldKind::Money}, "money { ... }");
      a.right = field_of(rec, s, right, s.amount_right, "amount", {FieldKind::Money}, "money { ... }");
      if (s.tolerance.set) a.absolute = params.number(s.tolerance, rec.loc);
      if (s.tolerance_pct.set) a.percent = params.number(s.tolerance_pct, rec.loc);
      a.base = s.base;
      c.amount = a;
    }
    if (!s.time_left.empty()) {
      TimeCriterion t;
      t.left = field_of(rec, s, left, s.time_left, "time", {FieldKind::Time}, "time { ... }");
      t.right = field_of(rec, s, right, s.time_right, "time", {FieldKind::Time}, "time { ... }");
      t.direction = s.direction;
      t.calendar_days = s.time_unit == "days";
      t.zone = s.zone;
      t.min = window_bound(rec, s, params.number(s.time_min, rec.loc), "min");
      t.max = window_bound(rec, s, params.number(s.time_max, rec.loc), "max");
      c.time = t;
    }
    if (!s.ref_left.empty()) {
      ReferenceCriterion ref;
      ref.left = field_of(rec, s, left, s.ref_left, "reference", {}, "");
      ref.right = field_of(rec, s, right, s.ref_right, "reference", {}, "");
      ref.normalize = s.ref_normalize;
      ref.mode = s.ref_mode;
      ref.method = s.method;
      if (s.ref_mode == ReferenceMode::Similar) {
        Decimal d = params.number(s.threshold, rec.loc);
        i128 pow10 = 1;
        for (int i = 0; i < d.scale; ++i) pow10 *= 10;
        if (d.units < 0 || d.units > pow10)
          throw UserError(where(rec, s) + ": reference similarity is between 0 and 1, found " + d.str());
        if (d.scale > 3 && d.units % (pow10 / 1000) != 0)
          throw UserError(where(rec, s) + ": reference similarity has at most 3 decimals (permille), found " + d.str());
        ref.threshold_permille = static_cast<int>(d.to_scale(3));
      }
      ReferenceNormalizer check(s.ref_normalize, where(rec, s));
      c.reference = ref;
    }
    if (!s.sum.empty()) {
      SumCriterion sum;
      sum.many = s.sum == "left" ? Side::Left : Side::Right;
      sum.max_records = static_cast<size_t>(s.max_records);
      // A sum puts several records of that side in one group: the cardinality must allow it.
      bool allowed = sum.many == Side::Right ? rec.right_many() : rec.left_many();
      if (!allowed)
        throw UserError(where(rec, s) + " sums " + (sum.many == Side::Right ? rec.right : rec.left) +
                        " records, which cardinality " + cardinality_name(rec.cardinality) + " allows one of per group; " +
                        "declare cardinality = \"" + (sum.many == Side::Right ? "one_to_many" : "many_to_one") +
                        "\" (or many_to_many)");
      c.sum = sum;
    }
    if (std::string why = strategy_problem(c); !why.empty()) throw UserError(rec.loc.str() + ": reconcile '" + rec.name + "' " + why);
    out.push_back(std::move(r));
  }
  return out;
}

std::string describe_origin(const ReconcileSpec& rec, const GroupOrigin& o, CurrencyCode currency) {
  if (o.strategy < 0 || static_cast<size_t>(o.strategy) >= rec.strategies.size()) return "";
  const MatchStrategySpec& s = rec.strategies[static_cast<size_t>(o.strategy)];
  if (s.keyed) return s.name;
  std::string parts;
  auto add = [&](const std::string& p) { parts += (parts.empty() ? "" : ", ") + p; };
  if (!s.amount_left.empty()) {
    if (o.amount_delta == 0) add("same amount");
    else
      add(format_money(o.amount_delta == INT64_MIN ? INT64_MAX : std::llabs(o.amount_delta), currency) + (o.amount_delta > 0 ? " more" : " less") +
          " on the right");
  }
  if (!s.sum.empty()) add("sum of " + std::to_string(o.summed) + (o.summed == 1 ? " record" : " records"));
  if (!s.time_left.empty()) add(lag_text(o.time_delta, s.time_unit == "days"));
  if (!s.ref_left.empty())
    add(s.ref_mode == ReferenceMode::Similar
            ? "reference " + std::to_string(o.similarity / 10) + "." + std::to_string(o.similarity % 10) + " % similar"
        : s.ref_mode == ReferenceMode::Contains ? "reference contained"
                                                : "same reference");
  return s.name + " (" + parts + ")";
}

}  // namespace seam
