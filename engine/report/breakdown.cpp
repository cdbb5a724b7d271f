#include "engine/report/breakdown.hpp"

#include <set>

#include "engine/report/html.hpp"
#include "engine/report/report_money.hpp"
#include "engine/report/table.hpp"
#include "engine/util/result.hpp"

namespace seam {
namespace {

const char* const kBuckets[] = {"0-30 days", "31-60 days", "61-90 days", "over 90 days"};

std::string group_of(const ExceptionRow& r, const std::string& by) {
  if (by == "reconcile") return r.reconcile;
  if (by == "rule") return r.reconcile + " / " + r.rule;
  if (by == "severity") return r.severity;
  return age_bucket(r.age_days);
}

// Severities from the most serious down; buckets youngest first; names alphabetically.
int order_of(const std::string& group, const std::string& by) {
  if (by == "severity") {
    const char* const order[] = {"critical", "high", "medium", "low", "info"};
    for (int i = 0; i < 5; ++i)
      if (group == order[i]) return i;
  }
  if (by == "age")
    for (int i = 0; i < 4; ++i)
      if (group == kBuckets[i]) return i;
  return 0;
}

std::string money_text(const std::map<CurrencyCode, MoneyOnce>& money, bool net, bool machine) {
  std::string out;
  for (const auto& [cur, m] : money) {
    const int64_t v = net ? m.net : m.at_stake;
    out += (out.empty() ? "" : ", ") + (machine ? format_money(v, cur) : readable_money(v, cur));
  }
  return out;
}

}  // namespace

std::string age_bucket(int64_t age_days) {
  return age_days <= 30 ? kBuckets[0] : age_days <= 60 ? kBuckets[1] : age_days <= 90 ? kBuckets[2] : kBuckets[3];
}

std::vector<BreakdownRow> breakdown_report(const std::vector<ExceptionRow>& rows, const std::string& by,
                                           const CauseLinks& links) {
  if (by != "reconcile" && by != "rule" && by != "severity" && by != "age")
    throw UserError("--by must be reconcile, rule, severity or age, found '" + by + "'");
  std::map<std::string, BreakdownRow> groups;
  if (by == "age")
    for (const char* b : kBuckets) groups[b].group = b;
  std::set<std::tuple<std::string, std::string, std::string>> keys;  // group, reconcile, key
  for (const auto& r : rows) {
    const std::string g = group_of(r, by);
    BreakdownRow& row = groups[g];
    row.group = g;
    ++row.exceptions;
    if (keys.insert({g, r.reconcile, r.key}).second) ++row.keys;
    row.oldest_days = std::max(row.oldest_days, r.age_days);
  }
  for (auto& [g, m] : money_once_by(rows, links, [&](const ExceptionRow& r) { return group_of(r, by); }))
    groups[g].money = std::move(m);
  std::vector<BreakdownRow> out;
  for (auto& [g, row] : groups) out.push_back(std::move(row));
  std::stable_sort(out.begin(), out.end(), [&](const BreakdownRow& a, const BreakdownRow& b) {
    return order_of(a.group, by) < order_of(b.group, by);
  });
  return out;
}

std::string render_breakdown(const std::vector<BreakdownRow>& rows, const std::string& by, const std::string& format,
                             const ReportContext& ctx) {
  const std::string what = by == "reconcile" ? "reconciliation" : by;
  if (format == "json") {
    JsonWriter j;
    j.begin_object();
    provenance_json(j, ctx.provenance);
    j.key("by").value(by).key("rows").begin_array();
    for (const auto& r : rows) {
      j.begin_object().key("group").value(r.group).key("exceptions").value(r.exceptions).key("keys").value(r.keys)
          .key("oldest_days").value(r.oldest_days).key("at_stake_counted_once").begin_object();
      for (const auto& [cur, m] : r.money) j.key(currency_name(cur)).value(format_money(m.at_stake, cur));
      j.end_object().key("net_counted_once").begin_object();
      for (const auto& [cur, m] : r.money) j.key(currency_name(cur)).value(format_money(m.net, cur));
      j.end_object().end_object();
    }
    j.end_array().end_object();
    return j.str() + "\n";
  }
  const bool machine = format == "csv";
  TextTable table = {machine ? std::vector<std::string>{by, "exceptions", "keys", "oldest_days", "at_stake_counted_once",
                                                        "net_counted_once"}
                             : std::vector<std::string>{what, "exceptions", "keys", "oldest (days)",
                                                        "at stake, counted once", "net, counted once"}};
  int64_t exceptions = 0;
  for (const auto& r : rows) {
    table.push_back({r.group, std::to_string(r.exceptions), std::to_string(r.keys), std::to_string(r.oldest_days),
                     money_text(r.money, false, machine), money_text(r.money, true, machine)});
    exceptions += r.exceptions;
  }
  if (format == "csv") return provenance_csv(ctx.provenance) + render_csv(table, {1, 2, 3, 4, 5});
  if (format == "html") {
    HtmlReport page{"Exceptions by " + what, ctx.now_iso, {{"exceptions", std::to_string(exceptions)}},
                    "Per " + what + ": exceptions, keys, the oldest, and the money each key puts at stake counted once",
                    table, {1, 2, 3, 4, 5}, ctx.history};
    page.about = ctx.provenance.lines();
    return render_html(page);
  }
  return provenance_and_table_text(ctx.provenance, table);
}

}  // namespace seam
