#pragma once
#include <string>
#include <vector>

#include "engine/audit/db.hpp"

namespace seam {

struct RunCheck {
  int64_t run_id = 0;
  std::string status;  // complete, incomplete, failed, running
  bool ok = true;
  std::string problem;  // why it does not verify
};

struct VerifyReport {
  std::vector<RunCheck> runs;
  std::string head_seal;  // the newest seal: record it elsewhere to anchor the chain
  bool ok() const {
    for (const auto& r : runs)
      if (!r.ok) return false;
    return true;
  }
};

// Recomputes every complete run's digests and seal from the stored rows and checks that
// each seal chains to the previous complete run's. Runs that never completed are listed
// but carry no seal to check.
VerifyReport verify_audit_log(Db& db);

}  // namespace seam
