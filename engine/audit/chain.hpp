#pragma once
// The audit chain: one append-only list of entries, one per change seam makes to the log's
// state (a run ending, an acknowledgement, alert deliveries), each sealing a digest of the
// whole mutable state after the change and chained to the entry before it by digest.
//
// Why a state digest and not only the runs' seals: what finance reads (exceptions and
// their status, acknowledgements, alert deliveries, the rule catalog, every runs column)
// changes after a run is sealed. Hashing all of it at every change makes any edit made
// outside seam visible to `seam audit verify`; and because every writer first checks the
// stored state against the head entry (require_sealed_state), seam never seals over such
// an edit. Rows of a run still in progress are left out until that run's own entry.
//
// Nothing here is secret: someone who can rewrite the file can recompute every digest.
// What they cannot do is match a head recorded elsewhere (`seam audit head`, then
// `seam audit verify --expect-head SEQ:DIGEST`).
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/audit/db.hpp"

namespace seam {

struct StateDigest {
  std::vector<std::pair<std::string, std::string>> tables;  // (table, digest), in a fixed order
  std::string digest;                                       // over `tables`
  std::string tables_json() const;
};

// Digest of every row of the tables whose state can change after a run is sealed.
StateDigest compute_state_digest(Db& db);

struct ChainEntry {
  int64_t seq = 0;
  std::string at, event, subject, actor, note;  // actor and note: empty when none
  std::string tables_json, state_digest, prev_digest, digest;
  // What `seam audit head` prints and `--expect-head` takes.
  std::string head() const { return std::to_string(seq) + ":" + digest; }
};

struct ChainEvent {
  std::string at, event, subject, actor, note;
};

// Digest of an entry from its fields and the previous entry's digest.
std::string chain_entry_digest(const ChainEntry& e);

std::optional<ChainEntry> chain_head(Db& db);
std::vector<ChainEntry> read_chain(Db& db);

// Throws TamperedError naming the tables that differ when the stored state is not what the
// head entry sealed. Call inside the writer's transaction, before changing anything.
void require_sealed_state(Db& db);
// Appends an entry sealing the current state. Call inside the writer's transaction, after
// its changes, so the state and its entry commit together.
ChainEntry append_chain_entry(Db& db, const ChainEvent& event);

// Parses "SEQ:DIGEST" (a full 64-digit SHA-256); throws UserError otherwise.
std::pair<int64_t, std::string> parse_head(const std::string& text);

}  // namespace seam
