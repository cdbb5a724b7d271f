#include "engine/report/provenance.hpp"

#include "engine/audit/chain.hpp"
#include "engine/report/report_money.hpp"
#include "engine/report/table.hpp"

namespace seam {

std::string ReportProvenance::runs_text() const {
  if (!runs) return "no runs";
  std::string out = runs == 1 ? "run " + std::to_string(first_run)
                              : "runs " + std::to_string(first_run) + "-" + std::to_string(last_run);
  out += " (" + std::to_string(complete_runs) + " complete; the latest, run " + std::to_string(last_run) + ", started " +
         to_second(last_run_at) + ", " + last_run_status + ")";
  return out;
}

std::string ReportProvenance::filters_text() const {
  std::string out;
  for (const auto& [name, value] : filters) out += (out.empty() ? "" : ", ") + name + " " + value;
  return out.empty() ? "none" : out;
}

std::vector<std::pair<std::string, std::string>> ReportProvenance::lines() const {
  if (title.empty()) return {};
  return {{"report", title},       {"stack", stacks},     {"audit log", log},
          {"runs", runs_text()},   {"filters", filters_text()},
          {"chain head", head},    {"generated", to_second(generated_at)}};
}

ReportProvenance describe_report(Db& db, const std::string& log_path, std::string title, std::string generated_at,
                                 std::vector<std::pair<std::string, std::string>> filters) {
  ReportProvenance p;
  p.title = std::move(title);
  p.generated_at = std::move(generated_at);
  p.log = log_path;
  p.filters = std::move(filters);
  {
    Statement s(db, "SELECT group_concat(name, ', ') FROM (SELECT DISTINCT stack_name AS name FROM runs ORDER BY name)");
    if (s.step() && !s.is_null(0)) p.stacks = s.text_at(0);
  }
  {
    Statement s(db, "SELECT count(*), coalesce(sum(status = 'complete'), 0), coalesce(min(id), 0), coalesce(max(id), 0) "
                    "FROM runs");
    if (s.step()) {
      p.runs = s.int_at(0);
      p.complete_runs = s.int_at(1);
      p.first_run = s.int_at(2);
      p.last_run = s.int_at(3);
    }
  }
  if (p.last_run) {
    Statement s(db, "SELECT started_at, status FROM runs WHERE id = ?1");
    s.bind(1, p.last_run);
    if (s.step()) {
      p.last_run_at = s.text_at(0);
      p.last_run_status = s.text_at(1);
    }
  }
  if (auto head = chain_head(db)) p.head = head->head();
  return p;
}

std::string provenance_text(const ReportProvenance& p) {
  if (p.title.empty()) return "";
  return p.title + "\nstack " + p.stacks + " - audit log " + p.log + " - " + p.runs_text() + "\nfilters: " +
         p.filters_text() + " - chain head " + p.head + " - generated " + to_second(p.generated_at) + "\n\n";
}

std::string provenance_and_table_text(const ReportProvenance& p, const TextTable& table) {
  std::string out = provenance_text(p);
  if (table.size() <= 1) return out + "no exceptions match\n";
  return out + render_table(table, terminal_width());
}

std::string provenance_csv(const ReportProvenance& p) {
  // Comment rows a reader skips (pandas: comment='#'); a spreadsheet shows them as the
  // report's heading. Each is one cell, neutralised like any other.
  std::string out;
  for (const auto& [label, value] : p.lines()) out += csv_cell("# " + label + ": " + value, false) + "\r\n";
  return out;
}

void provenance_json(JsonWriter& j, const ReportProvenance& p) {
  if (p.title.empty()) return;
  j.key("report").begin_object().key("title").value(p.title).key("stack").value(p.stacks).key("audit_log").value(p.log);
  j.key("runs").begin_object().key("count").value(p.runs).key("complete").value(p.complete_runs)
      .key("first").value(p.first_run).key("last").value(p.last_run)
      .key("last_started_at").optional(!p.last_run_at.empty(), p.last_run_at)
      .key("last_status").optional(!p.last_run_status.empty(), p.last_run_status).end_object();
  j.key("filters").begin_object();
  for (const auto& [name, value] : p.filters) j.key(name).value(value);
  j.end_object();
  j.key("chain_head").value(p.head).key("generated_at").value(p.generated_at).end_object();
}

}  // namespace seam
