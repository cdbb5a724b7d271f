#pragma once
// `seam report breakdown --by reconcile|rule|severity|age`: the exceptions a report's
// filters keep, grouped one way, with how many there are, on how many keys, the oldest,
// and their money counted once (engine/report/counted_once.hpp). By age, the buckets
// finance reads receivables in: 0-30, 31-60, 61-90 and over 90 days since first detection,
// every bucket listed even when empty.
#include <map>
#include <string>
#include <vector>

#include "engine/report/variance.hpp"

namespace seam {

struct BreakdownRow {
  std::string group;
  int64_t exceptions = 0, keys = 0, oldest_days = 0;
  std::map<CurrencyCode, MoneyOnce> money;  // per currency, each key's money once in this group
};

// "reconcile", "rule", "severity" or "age". Groups by name (age: in bucket order).
std::vector<BreakdownRow> breakdown_report(const std::vector<ExceptionRow>& rows, const std::string& by,
                                           const CauseLinks& links);
std::string render_breakdown(const std::vector<BreakdownRow>& rows, const std::string& by, const std::string& format,
                             const ReportContext& ctx);
// "0-30 days", "31-60 days", "61-90 days", "over 90 days".
std::string age_bucket(int64_t age_days);

}  // namespace seam
