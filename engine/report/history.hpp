#pragma once
// The HTML reports' chart: the reported exceptions over the runs.
#include <map>
#include <string>
#include <vector>

#include "engine/audit/db.hpp"
#include "engine/audit/exceptions.hpp"
#include "engine/report/counted_once.hpp"

namespace seam {

// After each complete run, how many of the reported exceptions were unresolved and their
// net variance (right - left) per currency, with the money counted as the totals count it:
// each reconciliation key once, less what its reported causes explain. Derived from
// first_run and resolved_run, so an exception resolved and later reopened counts as open
// in between. The chart shows what the report's filters kept, no more.
struct OpenAtRun {
  int64_t run_id = 0;
  std::string at;  // the run's start
  int64_t open = 0;
  std::map<std::string, int64_t> net_by_currency;
};
std::vector<OpenAtRun> open_history(Db& db, const std::vector<ExceptionRow>& rows, const CauseLinks& links);

}  // namespace seam
