#pragma once
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/audit/db.hpp"

namespace seam {

struct RunCheck {
  int64_t run_id = 0;
  std::string status;  // complete, incomplete, failed, running
  bool ok = true;
  bool digested = false;  // false: a run that never completed, written before v5 (nothing to check)
  std::string problem;    // why it does not verify
};

struct VerifyReport {
  std::vector<RunCheck> runs;
  std::vector<std::string> problems;  // of the chain, the log's state, or rows of no run
  std::string head_seal;              // the newest complete run's seal
  std::string head;                   // the chain's head, SEQ:DIGEST: record it elsewhere
  bool ok() const {
    if (!problems.empty()) return false;
    for (const auto& r : runs)
      if (!r.ok) return false;
    return true;
  }
};

// Recomputes every run's digests and every complete run's seal from the stored rows,
// checks that each seal chains to the previous complete run's, that the audit chain's
// entries link up, and that the log's state is what the chain's head sealed. With
// `expect_head` (SEQ, DIGEST as `seam audit head` printed it earlier), also that the chain
// still holds that entry unchanged: a truncated or rewritten history fails.
VerifyReport verify_audit_log(Db& db, const std::optional<std::pair<int64_t, std::string>>& expect_head = std::nullopt);

}  // namespace seam
