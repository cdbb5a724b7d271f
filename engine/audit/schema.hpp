#pragma once
#include "engine/audit/db.hpp"

namespace seam {

constexpr int kAuditSchemaVersion = 4;

// Brings the database to kAuditSchemaVersion, one version at a time, each step in its
// own transaction with the version kept in PRAGMA user_version. Refuses a database
// written by a newer seam.
void migrate_audit_schema(Db& db, int target = kAuditSchemaVersion);

}  // namespace seam
