#pragma once
// `seam report totals`: per period, status and currency, each reconciliation's keys,
// exceptions, left and right totals and net variance, and one row that counts each key's
// money once across reconciliations (engine/report/counted_once.hpp says how).
#include <string>
#include <vector>

#include "engine/audit/exceptions.hpp"
#include "engine/report/counted_once.hpp"
#include "engine/report/variance.hpp"

namespace date {
class time_zone;
}

namespace seam {

struct TotalsRow {
  std::string period, status, currency;
  std::string reconcile;  // empty: the period's total over every reconciliation, counted once
  int64_t keys = 0, exceptions = 0;
  // Minor units, on reconciliation rows: sums over the keys, and net = right - left.
  int64_t left_total = 0, right_total = 0, net = 0;
  int64_t explained = 0;  // the part of net whose causes are reported too (their money)
  int64_t net_once = 0;   // net - explained: the money no other row counts
  int64_t at_stake_once = 0;  // per key |net| less what its causes explain, added up
  bool total() const { return reconcile.empty(); }
};

// "2026-03-14" (day), "2026-W11" (ISO week), "2026-03" (month) of an ISO 8601 time, on the
// calendar of `zone` (nullptr: UTC): the books' zone decides in which month a refund at
// 23:50 on 28 February in New York falls.
std::string period_of(const std::string& iso_time, const std::string& period, const date::time_zone* zone = nullptr);

// Each reconciliation key counts once per period, status and currency, however many of its
// rules fail: a refund missing from the ERP and also late is one amount at stake, not two.
// Exceptions without amounts are counted but add no money. Rows: per period, status and
// currency, the reconciliations by name, then their total.
std::vector<TotalsRow> totals_report(const std::vector<ExceptionRow>& rows, const std::string& period,
                                     const CauseLinks& links = {}, const date::time_zone* zone = nullptr);
std::string render_totals(const std::vector<TotalsRow>& rows, const std::string& period, const std::string& format,
                          const ReportContext& ctx);

}  // namespace seam
