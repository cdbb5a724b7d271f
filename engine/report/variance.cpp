#include "engine/report/variance.hpp"


#include <algorithm>
#include <map>

#include "engine/report/html.hpp"
#include "engine/report/report_money.hpp"
#include "engine/report/table.hpp"
#include "engine/util/json.hpp"
#include "engine/util/result.hpp"
#include "engine/value/time.hpp"

namespace seam {
namespace {

std::string money_or_blank(bool known, int64_t minor, CurrencyCode cur) {
  return known && cur ? format_money(minor, cur) : std::string();
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
  const bool by_amount = f.sort == "amount";
  std::stable_sort(rows.begin(), rows.end(), [by_amount](const ExceptionRow& a, const ExceptionRow& b) {
    if (by_amount && a.amount_minor != b.amount_minor) return a.amount_minor > b.amount_minor;
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
    j.begin_object();
    provenance_json(j, ctx.provenance);
    j.key("count").value(static_cast<int64_t>(rows.size())).key("exceptions").begin_array();
    for (size_t i = 0; i < shown; ++i) {
      const ExceptionRow& r = rows[i];
      j.begin_object().key("id").value(r.id).key("key").value(r.key).key("system_of_record").value(r.system_of_record)
          .key("reconcile").value(r.reconcile).key("rule").value(r.rule).key("status").value(r.status)
          .key("severity").value(r.severity).key("record_at").optional(!r.record_at.empty(), r.record_at)
          .key("left_amount").optional(r.has_amounts, money_or_blank(r.has_amounts, r.left_amount, r.currency))
          .key("right_amount").optional(r.has_amounts, money_or_blank(r.has_amounts, r.right_amount, r.currency))
          .key("at_stake").optional(r.currency != 0 || !count_at_stake(r.delta).empty(),
                                    r.currency ? money_or_blank(true, r.amount_minor, r.currency) : count_at_stake(r.delta))
          .key("delta").optional(!r.delta.empty(), r.delta).key("age_days").value(r.age_days)
          .key("first_seen_at").value(r.first_seen_at).key("caused_by");
      linked_json(j, ctx.graph.causes(r.id));
      j.key("consequences");
      linked_json(j, ctx.graph.consequences(r.id));
      j.key("message").value(r.message).end_object();
    }
    j.end_array().end_object();
    return j.str() + "\n";
  }
  // CSV keeps machine-readable names and plain numbers; text and HTML are for people.
  const bool machine = format == "csv";
  TextTable table = {machine ? std::vector<std::string>{"id", "key", "system_of_record", "reconcile", "rule", "status",
                                                        "at_stake", "delta", "age_days", "first_seen_at", "severity",
                                                        "caused_by", "consequences", "message"}
                             : std::vector<std::string>{"id", "key", "system of record", "reconcile", "rule", "status",
                                                        "at stake", "delta", "age (days)", "first seen", "severity",
                                                        "caused by", "consequences", "message"}};
  auto linked = [&](const std::vector<LinkedException>& l) { return format == "text" ? linked_short(l) : linked_text(l); };
  std::map<std::string, int64_t> count;
  int64_t oldest = 0;
  for (const auto& r : rows) {
    if (table.size() <= shown) {
      std::string stake = r.currency ? (machine ? format_money(r.amount_minor, r.currency)
                                                : readable_money(r.amount_minor, r.currency))
                                     : count_at_stake(r.delta);
      table.push_back({std::to_string(r.id), r.key, r.system_of_record, r.reconcile, r.rule, r.status, stake,
                       machine ? r.delta : readable_amount(r.delta), std::to_string(r.age_days),
                       to_second(r.first_seen_at), r.severity, linked(ctx.graph.causes(r.id)),
                       linked(ctx.graph.consequences(r.id)), r.message});
    }
    ++count[r.status];
    oldest = std::max(oldest, r.age_days);
  }
  // Numbers seam writes stay numbers in CSV: id, at_stake, delta, age_days (csv_cell).
  if (format == "csv") return provenance_csv(ctx.provenance) + render_csv(table, {0, 6, 7, 8});
  if (format == "html") {
    // Open, acknowledged and resolved money are different facts: the headline never adds
    // them, and counts each key's money once (engine/report/counted_once.hpp).
    auto at_stake = at_stake_once_by_status(rows, ctx.links);
    std::vector<std::pair<std::string, std::string>> facts = {{"exceptions", std::to_string(rows.size())}};
    for (const char* status : {"open", "acknowledged", "resolved", "retired"}) {
      if (!count.count(status)) continue;
      facts.push_back({std::string(status), std::to_string(count[status]) + ", " + per_currency(at_stake[status]) +
                                                " at stake"});
    }
    facts.push_back({"oldest", std::to_string(oldest) + " days"});
    const std::string order = ctx.sort == "amount" ? "the most money at stake first, then the oldest"
                                                   : "oldest first, then the most money at stake";
    HtmlReport page{"Variance report: exceptions by age and amount", ctx.now_iso, facts,
                    shown < rows.size() ? "The first " + std::to_string(shown) + " of " + std::to_string(rows.size()) +
                                              " exceptions (--limit; HTML lists 1000 unless told otherwise), " + order +
                                              "; each id opens its detail below"
                                        : "Exceptions, " + order + "; each id opens its detail below",
                    table, {0, 6, 7, 8}, ctx.history};
    page.about = ctx.provenance.lines();
    if (!ctx.details.empty()) {
      for (size_t i = 0; i < shown; ++i) page.row_links.push_back("#x" + std::to_string(rows[i].id));
      page.appendix = render_detail_sections(std::vector<ExceptionRow>(rows.begin(), rows.begin() + shown), ctx.details,
                                             ctx.graph, ctx.provenance.log);
    }
    return render_html(page);
  }
  std::string out = provenance_and_table_text(ctx.provenance, table);
  if (shown < rows.size()) out += "... and " + std::to_string(rows.size() - shown) + " more (--limit 0 lists all)\n";
  return out;
}

}  // namespace seam
