#pragma once
// Thin subcommands over the engine. Exit codes: 0 nothing to look at, 1 exceptions found
// (or, for audit verify, the log does not verify), 2 usage, configuration or input error,
// 3 internal error, 4 storage error (disk full, I/O, a read-only log seam must write),
// 5 a writing command refused a log changed outside seam.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace seam::cli {

constexpr int kExitOk = 0;
constexpr int kExitExceptions = 1;
constexpr int kExitUsage = 2;
constexpr int kExitInternal = 3;
constexpr int kExitStorage = 4;
constexpr int kExitTampered = 5;

struct Common {
  std::string format = "text";
  std::string params_file;  // --params FILE
  size_t limit = 50;  // findings listed per reconciliation in text output; 0 = all
  size_t rows_limit = 0;  // read commands' --limit: rows listed (trace: runs); 0 = all
  bool color = false;  // colour on stdout (--color, NO_COLOR, TERM=dumb: cli/terminal.hpp)
};

// The stack folder `command` was given as STACK_DIR or as --stack DIR (either, or both when
// they name the same folder). Throws UserError naming both when they differ, or when neither
// is given.
std::string stack_argument(const std::string& command, const std::string& positional, const std::string& option);

// `seam init DIR`: writes a stack to start from into DIR (new or empty).
int cmd_init(const std::string& dir);

struct RunArgs {
  std::string as_of, since, until;  // ISO 8601; a date alone means its midnight UTC
  bool profile = false;             // --profile: timings on stderr after the run
  bool allow_other_stack = false;   // --allow-other-stack
};
int cmd_run(const std::string& stack, const std::string& db, const std::vector<std::string>& sets, const RunArgs& args,
            const Common& common);
// With `data`, reads the first `sample_rows` rows of each input (0: all); exit 2 when the
// stack cannot work on them.
int cmd_check(const std::string& stack, const std::vector<std::string>& sets, bool data, uint64_t sample_rows,
              bool strict, const Common& common);
int cmd_replay(const std::string& stack, const std::string& db, int64_t run, const std::vector<std::string>& sets,
               const Common& common);
int cmd_test(const std::string& stack, const Common& common);
int cmd_rules(const std::string& stack, const Common& common);
int cmd_params(const std::string& stack, const std::vector<std::string>& sets, const Common& common);
int cmd_exceptions(const std::string& db, const std::string& stack, const std::string& status, const Common& common);
int cmd_exceptions_ack(const std::string& db, const std::string& stack, int64_t id, const std::string& by,
                       const std::string& note);
struct ReportArgs {
  std::string status = "unresolved", since, until, reconcile, key, min_amount;
  int64_t min_age = 0;
  std::string period = "month";  // totals only
  std::string zone;              // totals: the calendar periods follow (IANA; empty: UTC)
  std::string by = "reconcile";  // breakdown: reconcile, rule, severity or age
  std::string sort = "age";      // variance: age (the oldest first) or amount (the most money first)
};
// `seam report variance|totals|breakdown` (which names the report).
int cmd_report(const std::string& which, const std::string& db, const std::string& stack, const ReportArgs& args,
               const Common& common);
// `seam alerts`: deliveries by status (exit 1 when one listed is not delivered);
// `seam alerts retry [ID...]`: sends failed and pending ones again.
int cmd_alerts(const std::string& db, const std::string& stack, const std::string& status, const Common& common);
int cmd_alerts_retry(const std::string& db, const std::string& stack, const std::vector<int64_t>& ids,
                     const Common& common);
int cmd_trace(const std::string& key, const std::string& db, const std::string& stack, const Common& common);
int cmd_audit_verify(const std::string& db, const std::string& stack, const std::string& expect_head,
                     const Common& common);
int cmd_audit_head(const std::string& db, const std::string& stack, const Common& common);

}  // namespace seam::cli
