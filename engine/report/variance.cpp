#include "engine/report/variance.hpp"

#include <date/date.h>
#include <date/iso_week.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <tuple>

#include "engine/report/html.hpp"
#include "engine/report/table.hpp"
#include "engine/util/json.hpp"
#include "engine/util/result.hpp"
#include "engine/value/time.hpp"

namespace seam {
namespace {

std::string money_or_blank(bool known, int64_t minor, CurrencyCode cur) {
  return known && cur ? format_money(minor, cur) : std::string();
}

// "12.50 USD, 3.00 EUR": a sum per currency, never across currencies.
std::string per_currency(const std::map<CurrencyCode, int64_t>& sums) {
  std::string out;
  for (const auto& [cur, minor] : sums) out += (out.empty() ? "" : ", ") + format_money(minor, cur);
  return out.empty() ? "none" : out;
}

// Report totals are exact or refused: a total beyond int64 stops the report with a message
// saying which total, rather than printing a wrapped number.
void add_to(int64_t& total, int64_t v, const std::string& what) {
  if (!checked_accumulate(total, v))
    throw UserError(what + " exceeds " + int64_range_text() +
                    "; narrow the report (--reconcile, --key, --since/--until) so that each total fits");
}

std::string bucket_text(const TotalsRow& t) { return t.period + " " + t.status + " " + t.currency; }

int64_t net_of(const TotalsRow& t) {
  int64_t net = 0;
  if (!checked_sub(t.right_total, t.left_total, net))
    throw UserError("the net variance (right - left) of " + bucket_text(t) + " exceeds " + int64_range_text() +
                    "; narrow the report (--reconcile, --key, --since/--until) so that each total fits");
  return net;
}

}  // namespace

std::vector<ExceptionRow> variance_report(Db& db, const ReportFilter& f, const std::string& now_iso) {
  std::vector<ExceptionRow> rows;
  for (auto& r : list_exceptions(db, f.status, now_iso)) {
    // ISO 8601 UTC text sorts as time does.
    if ((!f.since.empty() && r.when() < f.since) || (!f.until.empty() && r.when() >= f.until)) continue;
    if ((!f.reconcile.empty() && r.reconcile != f.reconcile) || (!f.key.empty() && r.key != f.key)) continue;
    if (r.age_days < f.min_age_days) continue;
    if (f.min_amount && (!r.currency || r.amount_minor < f.min_amount->to_scale(currency_scale(r.currency)))) continue;
    rows.push_back(std::move(r));
  }
  std::stable_sort(rows.begin(), rows.end(), [](const ExceptionRow& a, const ExceptionRow& b) {
    if (a.age_days != b.age_days) return a.age_days > b.age_days;
    if (a.amount_minor != b.amount_minor) return a.amount_minor > b.amount_minor;
    return a.id < b.id;
  });
  return rows;
}

std::string render_variance(const std::vector<ExceptionRow>& rows, const std::string& format, const ReportContext& ctx) {
  const size_t shown = ctx.limit && ctx.limit < rows.size() ? ctx.limit : rows.size();
  if (format == "json") {
    JsonWriter j;
    j.begin_array();
    for (size_t i = 0; i < shown; ++i) {
      const ExceptionRow& r = rows[i];
      j.begin_object().key("id").value(r.id).key("key").value(r.key).key("system_of_record").value(r.system_of_record)
          .key("reconcile").value(r.reconcile).key("rule").value(r.rule).key("status").value(r.status)
          .key("record_at").optional(!r.record_at.empty(), r.record_at)
          .key("left_amount").optional(r.has_amounts, money_or_blank(r.has_amounts, r.left_amount, r.currency))
          .key("right_amount").optional(r.has_amounts, money_or_blank(r.has_amounts, r.right_amount, r.currency))
          .key("at_stake").optional(r.currency != 0, money_or_blank(true, r.amount_minor, r.currency))
          .key("delta").optional(!r.delta.empty(), r.delta).key("age_days").value(r.age_days)
          .key("first_seen_at").value(r.first_seen_at).key("message").value(r.message).end_object();
    }
    j.end_array();
    return j.str() + "\n";
  }
  TextTable table = {{"id", "key", "system_of_record", "reconcile", "rule", "status", "at_stake", "delta", "age_days",
                      "first_seen_at", "message"}};
  std::map<CurrencyCode, int64_t> at_stake;
  int64_t oldest = 0;
  for (const auto& r : rows) {
    if (table.size() <= shown) table.push_back({std::to_string(r.id), r.key, r.system_of_record, r.reconcile, r.rule, r.status,
                     money_or_blank(true, r.amount_minor, r.currency), r.delta, std::to_string(r.age_days),
                     r.first_seen_at, r.message});
    if (r.currency) add_to(at_stake[r.currency], r.amount_minor, "the money at stake in " + currency_name(r.currency));
    oldest = std::max(oldest, r.age_days);
  }
  // Numbers seam writes stay numbers in CSV: id, at_stake, delta, age_days (csv_cell).
  if (format == "csv") return render_csv(table, {0, 6, 7, 8});
  if (format == "html") {
    HtmlReport page{"Variance report: exceptions by age and amount", ctx.now_iso,
                    {{"exceptions", std::to_string(rows.size())},
                     {"money at stake", per_currency(at_stake)},
                     {"oldest", std::to_string(oldest) + " days"}},
                    shown < rows.size() ? "The first " + std::to_string(shown) + " of " + std::to_string(rows.size()) +
                                              " exceptions (--limit), oldest first, then the most money at stake"
                                        : "Exceptions, oldest first, then the most money at stake",
                    table, {0, 6, 8}, ctx.history};
    return render_html(page);
  }
  if (rows.empty()) return "no exceptions match\n";
  std::string out = render_table(table, terminal_width());
  if (shown < rows.size()) out += "... and " + std::to_string(rows.size() - shown) + " more (--limit 0 lists all)\n";
  return out;
}

std::string period_of(const std::string& iso, const std::string& period) {
  if (period == "day") return iso.substr(0, 10);
  if (period == "month") return iso.substr(0, 7);
  auto t = parse_time(iso, *make_time_format("iso8601", "UTC"));
  if (!t) return iso.substr(0, 10);
  // ISO 8601 weeks start on Monday; week 1 holds the year's first Thursday.
  iso_week::year_weeknum_weekday w{date::floor<date::days>(date::sys_time<std::chrono::microseconds>(
      std::chrono::microseconds(*t)))};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-W%02u", static_cast<int>(w.year()), static_cast<unsigned>(w.weeknum()));
  return buf;
}

std::vector<TotalsRow> totals_report(const std::vector<ExceptionRow>& rows, const std::string& period) {
  using Bucket = std::tuple<std::string, std::string, std::string>;  // period, status, currency
  std::map<Bucket, TotalsRow> buckets;
  std::set<std::tuple<Bucket, std::string, std::string>> counted;  // bucket, reconcile, key
  for (const auto& r : rows) {
    std::string cur = r.has_amounts ? currency_name(r.currency) : "";
    Bucket b{period_of(r.when(), period), r.status, cur};
    TotalsRow& t = buckets[b];
    t.period = std::get<0>(b);
    t.status = r.status;
    t.currency = cur;
    ++t.exceptions;
    if (!counted.insert({b, r.reconcile, r.key}).second) continue;
    ++t.keys;
    if (r.has_amounts) {
      add_to(t.left_total, r.left_amount, "the left total of " + bucket_text(t));
      add_to(t.right_total, r.right_amount, "the right total of " + bucket_text(t));
    }
  }
  std::vector<TotalsRow> out;
  for (auto& [b, t] : buckets) out.push_back(std::move(t));
  return out;
}

std::string render_totals(const std::vector<TotalsRow>& rows, const std::string& period, const std::string& format,
                          const ReportContext& ctx) {
  auto money = [](const TotalsRow& t, int64_t minor) {
    return t.currency.empty() ? std::string() : format_money(minor, pack_currency(t.currency));
  };
  if (format == "json") {
    JsonWriter j;
    j.begin_array();
    for (const auto& t : rows)
      j.begin_object().key("period").value(t.period).key("status").value(t.status)
          .key("currency").optional(!t.currency.empty(), t.currency).key("keys").value(t.keys)
          .key("exceptions").value(t.exceptions).key("left_total").optional(!t.currency.empty(), money(t, t.left_total))
          .key("right_total").optional(!t.currency.empty(), money(t, t.right_total))
          .key("net_variance").optional(!t.currency.empty(), money(t, net_of(t))).end_object();
    j.end_array();
    return j.str() + "\n";
  }
  TextTable table = {{period, "status", "keys", "exceptions", "left_total", "right_total", "net_variance"}};
  std::map<CurrencyCode, int64_t> net;
  int64_t exceptions = 0;
  for (const auto& t : rows) {
    table.push_back({t.period, t.status, std::to_string(t.keys), std::to_string(t.exceptions), money(t, t.left_total),
                     money(t, t.right_total), money(t, net_of(t))});
    if (!t.currency.empty()) add_to(net[pack_currency(t.currency)], net_of(t), "the net variance in " + t.currency);
    exceptions += t.exceptions;
  }
  if (format == "csv") return render_csv(table, {2, 3, 4, 5, 6});  // keys, exceptions and the three totals
  if (format == "html") {
    HtmlReport page{"Variance totals by " + period, ctx.now_iso,
                    {{"exceptions", std::to_string(exceptions)}, {"net variance", per_currency(net)}},
                    "Left total, right total and net variance (right - left) per " + period + " and status", table,
                    {2, 3, 4, 5, 6}, ctx.history};
    return render_html(page);
  }
  if (rows.empty()) return "no exceptions match\n";
  return render_table(table, terminal_width());
}

}  // namespace seam
