#include "engine/report/variance.hpp"

#include <algorithm>
#include <cstdlib>

#include "engine/report/table.hpp"
#include "engine/util/json.hpp"

namespace seam {
namespace {

// RFC 4180: quote a field when it holds a delimiter, a quote or a line break.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

std::vector<VarianceRow> variance_report(Db& db, const VarianceFilter& f, const std::string& now_iso) {
  Statement s(db, R"SQL(
SELECT id, group_key, system_of_record, reconcile, rule, status, coalesce(delta, ''), message, first_seen_at,
       CAST(julianday(?1) - julianday(first_seen_at) AS INTEGER)
FROM exceptions
WHERE (?2 = 'all' OR status = ?2 OR (?2 = 'unresolved' AND status IN ('open', 'acknowledged')))
  AND (?3 = '' OR first_seen_at >= ?3) AND (?4 = '' OR first_seen_at < ?4)
  AND (?5 = '' OR reconcile = ?5) AND (?6 = '' OR group_key = ?6))SQL");
  s.bind(1, now_iso).bind(2, f.status).bind(3, f.since).bind(4, f.until).bind(5, f.reconcile).bind(6, f.key);
  std::vector<VarianceRow> rows;
  while (s.step()) {
    VarianceRow r;
    r.id = s.int_at(0);
    r.key = s.text_at(1);
    r.system_of_record = s.text_at(2);
    r.reconcile = s.text_at(3);
    r.rule = s.text_at(4);
    r.status = s.text_at(5);
    r.delta = s.text_at(6);
    r.message = s.text_at(7);
    r.first_seen_at = s.text_at(8);
    r.age_days = s.int_at(9);
    // "-36.00 USD": money at stake; "105 min" and the like are not money.
    if (auto money = parse_money_text(r.delta)) {
      r.amount_minor = std::llabs(money->first);
      r.currency = money->second;
    }
    if (r.age_days < f.min_age_days) continue;
    if (f.min_amount && (!r.currency || r.amount_minor < f.min_amount->to_scale(currency_scale(r.currency)))) continue;
    rows.push_back(std::move(r));
  }
  std::stable_sort(rows.begin(), rows.end(), [](const VarianceRow& a, const VarianceRow& b) {
    if (a.age_days != b.age_days) return a.age_days > b.age_days;
    if (a.amount_minor != b.amount_minor) return a.amount_minor > b.amount_minor;
    return a.id < b.id;
  });
  return rows;
}

std::string render_variance(const std::vector<VarianceRow>& rows, const std::string& format) {
  if (format == "json") {
    JsonWriter j;
    j.begin_array();
    for (const auto& r : rows)
      j.begin_object().key("id").value(r.id).key("key").value(r.key).key("system_of_record").value(r.system_of_record)
          .key("reconcile").value(r.reconcile).key("rule").value(r.rule).key("status").value(r.status)
          .key("delta").optional(!r.delta.empty(), r.delta).key("age_days").value(r.age_days)
          .key("first_seen_at").value(r.first_seen_at).key("message").value(r.message).end_object();
    j.end_array();
    return j.str() + "\n";
  }
  std::vector<std::vector<std::string>> table = {
      {"id", "key", "system_of_record", "reconcile", "rule", "status", "delta", "age_days", "first_seen_at", "message"}};
  for (const auto& r : rows)
    table.push_back({std::to_string(r.id), r.key, r.system_of_record, r.reconcile, r.rule, r.status, r.delta,
                     std::to_string(r.age_days), r.first_seen_at, r.message});
  if (format == "csv") {
    std::string out;
    for (const auto& row : table) {
      for (size_t c = 0; c < row.size(); ++c) out += (c ? "," : "") + csv_field(row[c]);
      out += "\r\n";
    }
    return out;
  }
  if (rows.empty()) return "no exceptions match\n";
  return render_table(table);
}

}  // namespace seam
