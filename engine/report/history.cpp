#include "engine/report/history.hpp"

#include <set>

#include "engine/util/result.hpp"
#include "engine/value/money.hpp"

namespace seam {

std::vector<OpenAtRun> open_history(Db& db, const std::vector<ExceptionRow>& rows, const CauseLinks& links) {
  std::vector<OpenAtRun> out;
  Statement runs(db, "SELECT id, started_at FROM runs WHERE status = 'complete' ORDER BY id");
  while (runs.step()) out.push_back({runs.int_at(0), runs.text_at(1), 0, {}});
  const std::vector<int64_t> explained = explained_by_causes(rows, links);
  for (OpenAtRun& point : out) {
    std::set<std::pair<std::string, std::string>> counted;  // reconcile, key
    for (size_t i = 0; i < rows.size(); ++i) {
      const ExceptionRow& r = rows[i];
      if (point.run_id < r.first_run || (r.resolved_run && point.run_id >= r.resolved_run)) continue;
      ++point.open;
      if (!r.has_amounts || !counted.insert({r.reconcile, r.key}).second) continue;
      int64_t net = 0;
      if (!checked_sub(r.right_amount, r.left_amount, net) || !checked_sub(net, explained[i], net) ||
          !checked_accumulate(point.net_by_currency[currency_name(r.currency)], net))
        throw UserError("the net variance in " + currency_name(r.currency) + " of the exceptions open after run " +
                        std::to_string(point.run_id) + " exceeds " + int64_range_text() +
                        "; the history chart cannot show it exactly");
    }
  }
  return out;
}

}  // namespace seam
