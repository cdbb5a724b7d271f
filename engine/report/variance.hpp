#pragma once
// The checkpoint report finance runs daily over the exceptions table: `seam report
// variance`, each exception with its key, system of record, amount at stake, age and rule,
// oldest and largest first (`seam report totals` is engine/report/totals.hpp).
#include <optional>
#include <string>
#include <vector>

#include "engine/audit/db.hpp"
#include "engine/audit/exceptions.hpp"
#include "engine/report/counted_once.hpp"
#include "engine/report/drilldown.hpp"
#include "engine/report/history.hpp"
#include "engine/report/provenance.hpp"
#include "engine/value/money.hpp"

namespace seam {

struct ReportFilter {
  std::string status = "unresolved";  // open, acknowledged, unresolved (both), resolved, retired, all
  // On the exception's record time (first detection when its systems declare none), ISO 8601.
  std::string since, until;
  std::string reconcile, key;
  int64_t min_age_days = 0;
  std::optional<Decimal> min_amount;  // money at stake in major units, any currency
  std::string sort = "age";  // age: the oldest first, then the most money; amount: the reverse
};

// Rendering needs the rows, the history for the HTML chart and the time the report is for.
struct ReportContext {
  std::string now_iso;
  std::vector<OpenAtRun> history;
  CauseLinks links;  // what counts money once across reconciliations
  CauseGraph graph;  // each exception's causes and consequences, for their columns
  ReportProvenance provenance;  // no preamble when its title is empty
  size_t limit = 0;  // variance: rows listed, the first in report order (0: all); figures count every row
  std::vector<ExceptionDetail> details;  // variance HTML: the drill-down of each row listed, in order
  std::string sort = "age";               // variance: the order rows are in (ReportFilter::sort)
};

// Filtered; oldest first, then the most money at stake (sort "amount": the most money first,
// then the oldest; amounts compare in minor units, so one currency at a time reads best).
std::vector<ExceptionRow> variance_report(Db& db, const ReportFilter& filter, const std::string& now_iso);
std::string render_variance(const std::vector<ExceptionRow>& rows, const std::string& format, const ReportContext& ctx);

}  // namespace seam
