#pragma once
#include <string>

#include "engine/run/runner.hpp"

namespace seam {

// What `seam run` prints: inputs with read/accepted/rejected counts, rejected rows, each
// reconciliation's verdict counts and findings, and the sealed run.
// At most `limit` findings per reconciliation are listed (0: all); the rest are counted
// and left to `seam trace` and the audit log's failures view.
std::string render_run_text(const RunReport& report, bool color, size_t limit = 50);
std::string render_run_json(const RunReport& report);

}  // namespace seam
