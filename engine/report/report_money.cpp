#include "engine/report/report_money.hpp"

#include "engine/util/result.hpp"

namespace seam {

std::string per_currency(const std::map<CurrencyCode, int64_t>& sums) {
  std::string out;
  for (const auto& [cur, minor] : sums) out += (out.empty() ? "" : ", ") + format_money(minor, cur);
  return out.empty() ? "none" : out;
}

void add_to(int64_t& total, int64_t v, const std::string& what) {
  if (!checked_accumulate(total, v))
    throw UserError(what + " exceeds " + int64_range_text() +
                    "; narrow the report (--reconcile, --key, --since/--until) so that each total fits");
}

}  // namespace seam
