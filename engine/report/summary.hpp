#pragma once
#include <string>

#include "engine/run/runner.hpp"

namespace seam {

// What `seam run` prints: inputs with read/accepted/rejected counts, rejected rows, each
// reconciliation's verdict counts and findings, and the sealed run.
std::string render_run_text(const RunReport& report, bool color);
std::string render_run_json(const RunReport& report);

}  // namespace seam
