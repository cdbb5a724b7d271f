#pragma once
// The checkpoint reports finance runs daily over the exceptions table:
// `seam report variance`, each exception with its key, system of record, amount at stake,
// age and rule, oldest and largest first; and `seam report totals`, left total, right
// total and net variance per period and status.
#include <optional>
#include <string>
#include <vector>

#include "engine/audit/db.hpp"
#include "engine/audit/exceptions.hpp"
#include "engine/value/money.hpp"

namespace seam {

struct ReportFilter {
  std::string status = "unresolved";  // open, acknowledged, unresolved (both), resolved, all
  // On the exception's record time (first detection when its systems declare none), ISO 8601.
  std::string since, until;
  std::string reconcile, key;
  int64_t min_age_days = 0;
  std::optional<Decimal> min_amount;  // money at stake in major units, any currency
};

// Rendering needs the rows, the history for the HTML chart and the time the report is for.
struct ReportContext {
  std::string now_iso;
  std::vector<OpenAtRun> history;
  size_t limit = 0;  // variance: rows listed, the first in report order (0: all); figures count every row
};

// Filtered, oldest first, then the most money at stake.
std::vector<ExceptionRow> variance_report(Db& db, const ReportFilter& filter, const std::string& now_iso);
std::string render_variance(const std::vector<ExceptionRow>& rows, const std::string& format, const ReportContext& ctx);

struct TotalsRow {
  std::string period, status, currency;
  int64_t keys = 0, exceptions = 0;
  int64_t left_total = 0, right_total = 0;  // minor units; net variance is right - left
};
// "2026-03-14" (day), "2026-W11" (ISO week), "2026-03" (month) of an ISO 8601 time.
std::string period_of(const std::string& iso_time, const std::string& period);
// Each reconciliation key counts once per period, status and currency, however many of its
// rules fail: a refund missing from the ERP and also late is one amount at stake, not two.
// Exceptions without amounts are counted but add no money.
std::vector<TotalsRow> totals_report(const std::vector<ExceptionRow>& rows, const std::string& period);
std::string render_totals(const std::vector<TotalsRow>& rows, const std::string& period, const std::string& format,
                          const ReportContext& ctx);

}  // namespace seam
