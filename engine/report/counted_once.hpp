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
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/audit/db.hpp"
#include "engine/audit/exceptions.hpp"

namespace seam {

struct CauseLink {
  int64_t cause_id = 0;
  int64_t explains = 0;  // magnitude, minor units of `currency`
  CurrencyCode currency = 0;
};
// Measured money links only (a link with explains = "any" measures nothing), by effect id.
using CauseLinks = std::unordered_map<int64_t, std::vector<CauseLink>>;
CauseLinks load_cause_links(Db& db);

// For each row, the part of its net variance (right - left) that its causes among `rows`
// explain: signed as the net is, at most its magnitude; 0 without amounts or causes.
std::vector<int64_t> explained_by_causes(const std::vector<ExceptionRow>& rows, const CauseLinks& links);

// Money at stake per status and currency, each reconciliation key once: its first reported
// exception's stake (right - left, else a money delta) less what its reported causes
// explain, as a magnitude. What the HTML headlines show.
std::map<std::string, std::map<CurrencyCode, int64_t>> at_stake_once_by_status(const std::vector<ExceptionRow>& rows,
                                                                              const CauseLinks& links);

}  // namespace seam
