#pragma once
// `seam report variance`: the checkpoint report finance runs daily. Exceptions with their
// key, system of record, amount at stake, age and rule, oldest and largest first.
#include <optional>
#include <string>
#include <vector>

#include "engine/audit/db.hpp"
#include "engine/audit/exceptions.hpp"
#include "engine/value/money.hpp"

namespace seam {

struct VarianceFilter {
  std::string status = "unresolved";  // open, acknowledged, unresolved (both), resolved, all
  std::string since, until;           // on first detection, ISO 8601 (a date is enough)
  std::string reconcile, key;
  int64_t min_age_days = 0;
  std::optional<Decimal> min_amount;  // |delta| in major units, any currency
};

// A row of the report is an exception as list_exceptions reads it.
using VarianceRow = ExceptionRow;

std::vector<VarianceRow> variance_report(Db& db, const VarianceFilter& filter, const std::string& now_iso);
std::string render_variance(const std::vector<VarianceRow>& rows, const std::string& format);

}  // namespace seam
