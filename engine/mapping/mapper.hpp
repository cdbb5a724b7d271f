#pragma once
// Mapping: raw connector rows → typed records of one system, by a plan compiled once
// from the declared field mappings. Rows that cannot be mapped are quarantined as
// rejects with file, line, reason and raw text; read = accepted + rejected, always.
#include <vector>

#include "engine/mapping/records.hpp"
#include "engine/script/script_host.hpp"

namespace seam {

struct MappedInput {
  RecordSet records;
  InputStats stats;
  std::vector<Reject> rejects;
  TimeUs latest_time = INT64_MIN;  // the latest time value in any field (the default as-of)
};

// Throws UserError when the source is missing or empty, or a declared column does not
// exist in it (with the field's stack file:line).
MappedInput map_system(const SystemSpec& system, ScriptHost* host);
// The same over a given connector (test fixtures) instead of the system's declared source.
MappedInput map_system(const SystemSpec& system, ScriptHost* host, std::unique_ptr<class Connector> connector);

}  // namespace seam
