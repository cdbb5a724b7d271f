#pragma once
// The HTML variance report's drill-down: for each exception listed, a section of the same
// page (reached by an anchor from its row, so the page stays one file with no script) with
// what `seam trace` would show of it: the records of its group in the run that last saw it,
// the verdict's expected, actual and delta, the rule and where it is declared, its causes and
// consequences (linked when listed too) and its history (acknowledgements, resolution).
#include <string>
#include <vector>

#include "engine/audit/db.hpp"
#include "engine/audit/exceptions.hpp"
#include "engine/report/counted_once.hpp"

namespace seam {

struct ExceptionDetail {
  int64_t id = 0;
  std::vector<std::string> left_ids, right_ids;
  std::string expected, actual, delta, message, rule_kind, rule_source, rule_version, matched_by;
  bool found = false;  // the run that last saw it still holds its verdict
  struct Event {
    std::string at, event, by, note;
  };
  std::vector<Event> events;
};

// One pass over each run the exceptions were last seen in (not one look-up per exception:
// the groups table has no index by key), then one indexed read per exception.
std::vector<ExceptionDetail> exception_details(Db& db, const std::vector<ExceptionRow>& rows);

// `sections` in the order of `rows`; anchors are "x<ID>".
std::string render_detail_sections(const std::vector<ExceptionRow>& rows, const std::vector<ExceptionDetail>& details,
                                   const CauseGraph& graph, const std::string& log_path);

}  // namespace seam
