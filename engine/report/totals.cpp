#include "engine/report/totals.hpp"

#include <date/date.h>
#include <date/iso_week.h>

#include <cstdio>
#include <map>
#include <tuple>

#include "engine/report/html.hpp"
#include "engine/report/report_money.hpp"
#include "engine/report/table.hpp"
#include "engine/util/json.hpp"
#include "engine/util/result.hpp"
#include "engine/value/time.hpp"

namespace seam {
namespace {

std::string bucket_text(const TotalsRow& t) {
  return t.period + " " + t.status + " " + t.currency + (t.total() ? "" : " " + t.reconcile);
}

// One reconciliation key in one period, status and currency.
struct KeyMoney {
  int64_t exceptions = 0;
  bool has_amounts = false;
  int64_t left = 0, right = 0;  // its first exception's: every rule on a key sees one group
  int64_t explained = 0;        // signed; the most any of its exceptions' causes explain
};

}  // namespace

std::string period_of(const std::string& iso, const std::string& period, const date::time_zone* zone) {
  static const TimeFormat kIso = *make_time_format("iso8601", "UTC");  // once, not per exception
  auto t = parse_time(iso, kIso);
  if (!t) return period == "month" ? iso.substr(0, 7) : iso.substr(0, 10);
  const date::sys_days day{date::days(day_number_in(*t, zone))};
  char buf[16];
  if (period == "week") {
    // ISO 8601 weeks start on Monday; week 1 holds the year's first Thursday.
    iso_week::year_weeknum_weekday w{day};
    std::snprintf(buf, sizeof buf, "%04d-W%02u", static_cast<int>(w.year()), static_cast<unsigned>(w.weeknum()));
    return buf;
  }
  date::year_month_day ymd{day};
  if (period == "month")
    std::snprintf(buf, sizeof buf, "%04d-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()));
  else
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                  static_cast<unsigned>(ymd.day()));
  return buf;
}

std::vector<TotalsRow> totals_report(const std::vector<ExceptionRow>& rows, const std::string& period,
                                     const CauseLinks& links, const date::time_zone* zone) {
  using Bucket = std::tuple<std::string, std::string, std::string, std::string>;  // period, status, currency, reconcile
  std::map<std::pair<Bucket, std::string>, KeyMoney> keys;                         // by bucket and key
  const std::vector<int64_t> explained = explained_by_causes(rows, links);
  for (size_t i = 0; i < rows.size(); ++i) {
    const ExceptionRow& r = rows[i];
    Bucket b{period_of(r.when(), period, zone), r.status, r.has_amounts ? currency_name(r.currency) : "", r.reconcile};
    KeyMoney& k = keys[{b, r.key}];
    if (k.exceptions++ == 0) {
      k.has_amounts = r.has_amounts;
      k.left = r.left_amount;
      k.right = r.right_amount;
    }
    if ((explained[i] < 0 ? -explained[i] : explained[i]) > (k.explained < 0 ? -k.explained : k.explained))
      k.explained = explained[i];
  }
  // Reconciliation rows sort before their total ("" sorts first, so the total is keyed "\x7f").
  std::map<Bucket, TotalsRow> out_rows;
  for (const auto& [where, k] : keys) {
    const auto& [p, status, currency, reconcile] = where.first;
    for (const std::string& rec : {reconcile, std::string("\x7f")}) {
      TotalsRow& t = out_rows[{p, status, currency, rec}];
      t.period = p;
      t.status = status;
      t.currency = currency;
      t.reconcile = rec == "\x7f" ? "" : rec;
      ++t.keys;
      t.exceptions += k.exceptions;
      if (!k.has_amounts) continue;
      int64_t net = 0, own = 0, stake = 0;
      if (!checked_sub(k.right, k.left, net) || !checked_sub(net, k.explained, own) || !checked_abs(own, stake))
        throw UserError("the net variance (right - left) of " + bucket_text(t) + " key " + where.second + " exceeds " +
                        int64_range_text() + "; narrow the report (--reconcile, --key, --since/--until)");
      if (!t.total()) {
        add_to(t.left_total, k.left, "the left total of " + bucket_text(t));
        add_to(t.right_total, k.right, "the right total of " + bucket_text(t));
        add_to(t.net, net, "the net variance (right - left) of " + bucket_text(t));
        add_to(t.explained, k.explained, "the variance explained by causes of " + bucket_text(t));
      }
      add_to(t.net_once, own, "the net variance counted once of " + bucket_text(t));
      add_to(t.at_stake_once, stake, "the money at stake counted once of " + bucket_text(t));
    }
  }
  std::vector<TotalsRow> out;
  for (auto& [b, t] : out_rows) out.push_back(std::move(t));
  return out;
}

std::string render_totals(const std::vector<TotalsRow>& rows, const std::string& period, const std::string& format,
                          const ReportContext& ctx) {
  // CSV and JSON keep plain digits for the programs reading them; text and HTML are for people.
  const bool machine = format == "csv" || format == "json";
  auto money = [&](const TotalsRow& t, int64_t minor) {
    if (t.currency.empty()) return std::string();
    return machine ? format_money(minor, pack_currency(t.currency)) : readable_money(minor, pack_currency(t.currency));
  };
  auto own_money = [&](const TotalsRow& t, int64_t minor) { return t.total() ? std::string() : money(t, minor); };
  if (format == "json") {
    JsonWriter j;
    j.begin_object();
    provenance_json(j, ctx.provenance);
    j.key("period").value(period).key("rows").begin_array();
    for (const auto& t : rows) {
      const bool m = !t.currency.empty();
      j.begin_object().key("period").value(t.period).key("status").value(t.status)
          .key("currency").optional(m, t.currency).key("reconcile").optional(!t.total(), t.reconcile)
          .key("keys").value(t.keys).key("exceptions").value(t.exceptions)
          .key("left_total").optional(m && !t.total(), money(t, t.left_total))
          .key("right_total").optional(m && !t.total(), money(t, t.right_total))
          .key("net_variance").optional(m && !t.total(), money(t, t.net))
          .key("explained_by_causes").optional(m && !t.total(), money(t, t.explained))
          .key("net_counted_once").optional(m, money(t, t.net_once))
          .key("at_stake_counted_once").optional(m, money(t, t.at_stake_once)).end_object();
    }
    j.end_array().end_object();
    return j.str() + "\n";
  }
  TextTable table = {{period, "status", machine ? "reconcile" : "reconciliation", "keys", "exceptions",
                      machine ? "left_total" : "left total", machine ? "right_total" : "right total",
                      machine ? "net_variance" : "net variance", machine ? "explained_by_causes" : "explained by causes",
                      machine ? "net_counted_once" : "net, counted once",
                      machine ? "at_stake_counted_once" : "at stake, counted once"}};
  std::map<std::string, std::map<CurrencyCode, int64_t>> net_by_status, stake_by_status;
  int64_t exceptions = 0;
  for (const auto& t : rows) {
    table.push_back({t.period, t.status, t.total() ? "all, counted once" : t.reconcile, std::to_string(t.keys),
                     std::to_string(t.exceptions), own_money(t, t.left_total), own_money(t, t.right_total),
                     own_money(t, t.net), own_money(t, t.explained), money(t, t.net_once), money(t, t.at_stake_once)});
    if (!t.total()) continue;
    exceptions += t.exceptions;
    if (t.currency.empty()) continue;
    add_to(net_by_status[t.status][pack_currency(t.currency)], t.net_once, "the net variance in " + t.currency);
    add_to(stake_by_status[t.status][pack_currency(t.currency)], t.at_stake_once, "the money at stake in " + t.currency);
  }
  if (format == "csv")
    return provenance_csv(ctx.provenance) + render_csv(table, {3, 4, 5, 6, 7, 8, 9, 10});
  if (format == "html") {
    std::vector<std::pair<std::string, std::string>> facts = {{"exceptions", std::to_string(exceptions)}};
    // Open, acknowledged and resolved money are different facts: never one figure.
    for (const char* status : {"open", "acknowledged", "resolved", "retired"}) {
      if (!net_by_status.count(status)) continue;
      facts.push_back({std::string(status) + ": net variance", per_currency(net_by_status[status])});
      facts.push_back({std::string(status) + ": at stake", per_currency(stake_by_status[status])});
    }
    HtmlReport page{"Variance totals by " + period, ctx.now_iso, facts,
                    "Per " + period + ", status and reconciliation: left total, right total and net variance "
                    "(right - left); each key's money counted once in the total rows",
                    table, {3, 4, 5, 6, 7, 8, 9, 10}, ctx.history};
    page.about = ctx.provenance.lines();
    return render_html(page);
  }
  return provenance_and_table_text(ctx.provenance, table);
}

}  // namespace seam
