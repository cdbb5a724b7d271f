#pragma once
// Mapping: raw connector rows → typed records of one system, by a plan compiled once
// from the declared field mappings. Rows that cannot be mapped are quarantined as
// rejects with file, line, reason and raw text; read = accepted + rejected + skipped, always.
#include <atomic>
#include <cstdint>
#include <vector>

#include "engine/mapping/records.hpp"
#include "engine/script/script_host.hpp"
#include "engine/script/script_pool.hpp"

namespace seam {

struct MappedInput {
  RecordSet records;
  InputStats stats;
  std::vector<Reject> rejects;
  TimeUs latest_time = INT64_MIN;  // the latest time value in any field (the default as-of)
};

struct MapOptions {
  // Threads one input may be read on, when its source can be split (NDJSON, CSV); each part is
  // at least min_part_bytes.
  size_t threads = 1;
  size_t min_part_bytes = size_t{4} << 20;
  // Where a system with Lua mapping functions borrows a host for each part it maps (a
  // Lua state serves one thread at a time). Without it, or when it holds a single host,
  // such a system is read whole, with the host given to map_system.
  ScriptPool* scripts = nullptr;
  // Rows read so far, added to every few thousand rows by each thread reading (a run's
  // progress line); none when null.
  std::atomic<uint64_t>* rows_read = nullptr;
};

// Whether a field of the system is mapped by a Lua function.
bool maps_with_lua(const SystemSpec& system);

// Throws UserError when the source is missing or empty, or a declared column does not
// exist in it (with the field's stack file:line).
MappedInput map_system(const SystemSpec& system, ScriptHost* host, const MapOptions& options = {});
// Systems declaring one source (the same kind, path and options): its rows are read and
// parsed once, and each system maps them into its own records, rejects and counts (those
// its `only` leaves out are its skipped). One MappedInput per system, in their order.
std::vector<MappedInput> map_systems(const std::vector<const SystemSpec*>& systems, ScriptHost* host,
                                     const MapOptions& options = {});
// The same over a given connector (test fixtures) instead of the system's declared source.
MappedInput map_system(const SystemSpec& system, ScriptHost* host, std::unique_ptr<class Connector> connector,
                       const MapOptions& options = {});

}  // namespace seam
