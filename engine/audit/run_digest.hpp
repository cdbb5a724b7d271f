#pragma once
// The canonical byte streams a run's groups, verdict details and rejects hash to. The
// writer feeds them as it writes; verification and the marking of unfinished runs read
// the rows back and feed the same stream, so the two cannot drift apart.
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/audit/db.hpp"
#include "engine/util/digest.hpp"

namespace seam {

class RunDigest {
 public:
  void group(int64_t group_no, int64_t reconcile_no, std::string_view key, std::string_view left_ids,
             std::string_view right_ids, std::string_view outcomes);
  // How the group was formed, after its group (only for reconciliations that record it):
  // the strategy, and for a keyless one the amount and time deltas and the similarity.
  void origin(int64_t strategy, bool keyless, int64_t amount_delta, int64_t time_delta, int64_t similarity,
              std::string_view matched_by);
  void detail(int64_t position, std::string_view expected, std::string_view actual, std::string_view delta,
              std::string_view message);
  void reject(int64_t seq, std::string_view system, std::string_view path, int64_t line, std::string_view reason,
              std::string_view raw);
  std::string verdicts_hex() { return verdicts_.hex_final(); }
  std::string rejects_hex() { return rejects_.hex_final(); }

 private:
  Sha256 verdicts_, rejects_;
};

struct StoredRunDigests {
  std::string rejects, verdicts;
  int64_t orphan_details = 0;  // verdict detail rows whose group is not stored
};

// Reads a run's stored groups, details and rejects back in the writer's order and hashes them.
StoredRunDigests digest_stored_run(Db& db, int64_t run_id);

}  // namespace seam
