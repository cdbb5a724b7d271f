#pragma once
// Money counted once across reconciliations. Two reconciliations often see the same money:
// a refund missing from the ERP fails at refund level (key R1005) and again at order level
// (key 5005); a gift card load that never reached the ledger fails as a load and again as
// the card's balance. Adding both reports the money twice.
//
// Within one reconciliation a key is one group and one amount, however many of its rules
// fail. Across reconciliations, the root causes a rule declares (caused_by, linked in
// exception_causes with the part each explains) say which money is the same: a failure
// carries only what its causes do not explain, when those causes are among the exceptions
// reported, since the explained part is counted as the cause's.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/audit/db.hpp"
#include "engine/audit/exceptions.hpp"
#include "engine/util/json.hpp"

namespace seam {

struct CauseLink {
  int64_t cause_id = 0;
  int64_t explains = 0;  // magnitude, minor units of `currency`
  CurrencyCode currency = 0;
};
// Measured money links only (a link with explains = "any" measures nothing), by effect id.
using CauseLinks = std::unordered_map<int64_t, std::vector<CauseLink>>;

// Every link, both ways, with what reports print of the other end.
struct LinkedException {
  int64_t id = 0;
  std::string reconcile, key, rule;
  std::optional<int64_t> explains;  // of the effect's stake; nullopt when not measured
  CurrencyCode currency = 0;        // of `explains`; 0 for a count
};
struct CauseGraph {
  std::unordered_map<int64_t, std::vector<LinkedException>> causes_of, consequences_of;
  // Exception `id`'s causes, and the exceptions it causes (empty when none).
  const std::vector<LinkedException>& causes(int64_t id) const { return find(causes_of, id); }
  const std::vector<LinkedException>& consequences(int64_t id) const { return find(consequences_of, id); }

 private:
  static const std::vector<LinkedException>& find(
      const std::unordered_map<int64_t, std::vector<LinkedException>>& m, int64_t id) {
    static const std::vector<LinkedException> none;
    auto it = m.find(id);
    return it == m.end() ? none : it->second;
  }
};
CauseGraph load_cause_graph(Db& db);
// The graph's measured money links, what counting money once needs.
CauseLinks measured_links(const CauseGraph& graph);
// "#3 refunds_reach_erp R1005 (posted once), explains 80.00 USD; #4 ..." ("" when none).
std::string linked_text(const std::vector<LinkedException>& links);
// "#3 R1005, #9 R1013": the short form, for text tables.
std::string linked_short(const std::vector<LinkedException>& links);
void linked_json(JsonWriter& j, const std::vector<LinkedException>& links);

// For each row, the part of its net variance (right - left) that its causes among `rows`
// explain: signed as the net is, at most its magnitude; 0 without amounts or causes.
std::vector<int64_t> explained_by_causes(const std::vector<ExceptionRow>& rows, const CauseLinks& links);

// Money per group (any grouping of exceptions: by status, rule, age...) and currency, each
// reconciliation key once within its group: its first reported exception's stake (right -
// left, else a money delta) less what its reported causes explain. `at_stake` adds the
// magnitudes, `net` the signed amounts.
struct MoneyOnce {
  int64_t at_stake = 0, net = 0;
};
std::map<std::string, std::map<CurrencyCode, MoneyOnce>> money_once_by(
    const std::vector<ExceptionRow>& rows, const CauseLinks& links,
    const std::function<std::string(const ExceptionRow&)>& group_of);
// What the HTML headlines show: money at stake per status.
std::map<std::string, std::map<CurrencyCode, int64_t>> at_stake_once_by_status(const std::vector<ExceptionRow>& rows,
                                                                              const CauseLinks& links);

}  // namespace seam
