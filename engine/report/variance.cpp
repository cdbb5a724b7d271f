#include "engine/report/variance.hpp"

#include <algorithm>

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
  std::vector<VarianceRow> rows;
  for (auto& r : list_exceptions(db, f.status, now_iso)) {
    // ISO 8601 UTC text sorts as time does.
    if ((!f.since.empty() && r.first_seen_at < f.since) || (!f.until.empty() && r.first_seen_at >= f.until)) continue;
    if ((!f.reconcile.empty() && r.reconcile != f.reconcile) || (!f.key.empty() && r.key != f.key)) continue;
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
