#pragma once
// What an auditor needs to know about a report before reading a figure of it: which stack
// and audit log it was made from, which runs it covers, the filters applied and the audit
// chain's head at the time (to check later with `seam audit verify --expect-head`).
#include <string>
#include <utility>
#include <vector>

#include "engine/audit/db.hpp"
#include "engine/util/json.hpp"

namespace seam {

struct ReportProvenance {
  std::string title, generated_at;
  std::string stacks;  // the stack names the log's runs are of, comma separated
  std::string log;     // the audit log as the command was given it
  int64_t runs = 0, complete_runs = 0, first_run = 0, last_run = 0;
  std::string last_run_at, last_run_status;
  std::string head;  // SEQ:DIGEST
  std::vector<std::pair<std::string, std::string>> filters;  // as given on the command line

  // "runs 1-2 (2 complete; the latest, run 2, started 2026-03-26T06:00:00Z, complete)"
  std::string runs_text() const;
  std::string filters_text() const;  // "status unresolved, reconcile refunds_reach_erp"
  // label, value: what every format prints above the figures (none without a title)
  std::vector<std::pair<std::string, std::string>> lines() const;
};

ReportProvenance describe_report(Db& db, const std::string& log_path, std::string title, std::string generated_at,
                                 std::vector<std::pair<std::string, std::string>> filters);

// The report's preamble: text lines, CSV comment rows ("# stack: ..."), a "report" member of
// the JSON object being written. Nothing at all for a provenance without a title (reports
// rendered outside the CLI, as unit tests do).
std::string provenance_text(const ReportProvenance& p);
std::string provenance_csv(const ReportProvenance& p);
void provenance_json(JsonWriter& j, const ReportProvenance& p);
// A report for a person at a terminal: the preamble, then `table` (header first) wrapped to
// the terminal, or a line saying that no exception matched when it holds only its header.
std::string provenance_and_table_text(const ReportProvenance& p, const std::vector<std::vector<std::string>>& table);

}  // namespace seam
