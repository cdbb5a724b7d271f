#pragma once
#include <memory>
#include <string>

#include "engine/audit/db.hpp"

namespace seam {

constexpr int kAuditSchemaVersion = 9;

// Brings the database to kAuditSchemaVersion, one version at a time, each step in its
// own transaction with the version kept in PRAGMA user_version. Refuses a database
// written by a newer seam.
void migrate_audit_schema(Db& db, int target = kAuditSchemaVersion);

// Opens an existing log for the commands that only read it: read-only, so it works on a
// write-protected copy. A log of an older schema is upgraded first where it can be
// written; on read-only media that is refused with what to do.
std::unique_ptr<Db> open_audit_log_for_reading(const std::string& path);

}  // namespace seam
