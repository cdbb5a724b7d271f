// seam: reconcile what your systems say happened, and keep the evidence.
#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <fstream>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/man_page.hpp"
#include "cli/terminal.hpp"
#include "engine/audit/db.hpp"
#include "engine/script/script_host.hpp"
#include "engine/util/json.hpp"
#include "engine/util/result.hpp"

int main(int argc, char** argv) {
  using namespace seam::cli;
  CLI::App app{"seam: a reconciliation rule engine. Exit codes: 0 all clear, 1 exceptions found (or the "
               "audit log does not verify), 2 usage, configuration or input error, 3 internal error, 4 storage "
               "error (disk full, I/O error, read-only log), 5 the audit log was changed outside seam (refused)."};
  app.require_subcommand(1);
  app.fallthrough();  // --log-level works before or after the subcommand
  app.set_version_flag("--version", SEAM_VERSION);
  std::string log_level = "warn";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  std::string color = "auto";
  app.add_option("--color", color, "colour: auto (a terminal, unless NO_COLOR is set or TERM=dumb), always or never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
  Common common;
  auto add_format = [&](CLI::App* sub) {
    sub->add_option("--format", common.format, "text or json")->check(CLI::IsMember({"text", "json"}));
  };

  std::string stack, db, key, stack_dir;
  std::vector<std::string> sets;
  // Every command takes the stack as --stack DIR; those that took it as a positional
  // still do, for the scripts and docs written that way.
  auto add_stack = [&](CLI::App* sub, const std::string& what) {
    sub->add_option("STACK_DIR", stack, what + " (or --stack DIR)");
    sub->add_option("--stack", stack_dir, what + " (the same as STACK_DIR)")->type_name("DIR");
  };

  std::string init_dir;
  auto* init = app.add_subcommand("init", "make a new stack to start from: two CSV systems, a reconciliation, data "
                                          "with one seeded failure, a stack test and a README");
  init->add_option("DIR", init_dir, "the stack folder to make (new or empty)")->required()->type_name("DIR");

  auto* run = app.add_subcommand("run", "reconcile a stack's inputs and record every verdict");
  add_stack(run, "folder holding stack.lua");
  run->add_option("--db", db, "audit log file (default: seam.db in the stack folder)")->type_name("FILE");
  run->add_option("--set", sets, "override a param: name=value (repeatable)");
  run->add_option("--params", common.params_file, "thresholds file (default: STACK_DIR/thresholds.lua when present)");
  RunArgs run_args;
  run->add_option("--as-of", run_args.as_of,
                  "the time lag windows are measured to (ISO 8601; default: latest time in the inputs)");
  run->add_option("--since", run_args.since, "only groups whose record time is at or after this (ISO 8601 or a date)");
  run->add_option("--until", run_args.until, "only groups whose record time is before this (ISO 8601 or a date)");
  run->add_flag("--profile", run_args.profile,
                "after the run, print on stderr the time spent mapping each system, in each rule, writing and sealing");
  run->add_flag("--allow-other-stack", run_args.allow_other_stack,
                "write into an audit log that already holds runs of another stack (refused otherwise)");
  run->add_option("--limit", common.limit, "findings listed per reconciliation in text output (0: all)")
      ->capture_default_str();
  add_format(run);

  auto* check = app.add_subcommand("check", "load and validate a stack (with --data, against a sample of its inputs)");
  add_stack(check, "folder holding stack.lua");
  check->add_option("--set", sets, "param values to validate: name=value (repeatable)");
  check->add_option("--params", common.params_file, "thresholds file to validate");
  bool check_data = false, strict = false;
  check->add_flag("--data", check_data,
                  "also read a sample of each input: every declared column must be found in it, value maps must cover "
                  "the values in it");
  uint64_t sample_rows = 1000;
  check->add_option("--sample", sample_rows, "rows read from each input with --data (0: all)")->capture_default_str();
  check->add_flag("--strict", strict, "exit 1 when there are warnings");

  auto* params = app.add_subcommand("params", "the stack's params: value in effect, where it comes from, range, doc");
  add_stack(params, "folder holding stack.lua");
  params->add_option("--set", sets, "override a param: name=value (repeatable)");
  params->add_option("--params", common.params_file, "thresholds file (default: STACK_DIR/thresholds.lua when present)");
  add_format(params);

  auto* test = app.add_subcommand("test", "run the tests in STACK_DIR/tests/*.lua (fixtures and expected verdicts)");
  add_stack(test, "folder holding stack.lua");
  add_format(test);

  int64_t run_id = 0;
  auto* replay = app.add_subcommand("replay", "impact preview: re-evaluate a past run's inputs with the current stack "
                                              "and changed params; writes nothing");
  add_stack(replay, "folder holding stack.lua (as changed)");
  replay->add_option("--run", run_id, "the run to replay (default: the latest complete run)");
  replay->add_option("--db", db, "audit log file (default: seam.db in the stack folder)")->type_name("FILE");
  replay->add_option("--set", sets, "param value to try: name=value (repeatable)");
  replay->add_option("--params", common.params_file, "thresholds file to try");
  add_format(replay);

  auto* rules = app.add_subcommand("rules", "the rule catalog: name, kind, version, source, severity, params, doc");
  add_stack(rules, "folder holding stack.lua");
  add_format(rules);

  auto* trace = app.add_subcommand("trace", "every verdict about a key or record id, newest run first");
  trace->add_option("KEY", key, "match key or record id")->required();
  trace->add_option("--db", db, "audit log file (default: ./seam.db)")->type_name("FILE");
  trace->add_option("--stack", stack_dir, "the stack folder: use DIR/seam.db")->type_name("DIR");
  trace->add_option("--limit", common.rows_limit, "verdicts of the newest N runs only (0: all)")->capture_default_str();
  add_format(trace);

  std::string status = "open", by, note;
  int64_t exception_id = 0;
  auto* exceptions = app.add_subcommand("exceptions", "exceptions across runs: open, acknowledged, resolved, retired, with age");
  exceptions->add_option("--status", status, "open, acknowledged, unresolved (both), resolved, retired or all")
      ->check(CLI::IsMember({"open", "acknowledged", "unresolved", "resolved", "retired", "all"}));
  exceptions->add_option("--db", db, "audit log file (default: ./seam.db)")->type_name("FILE");
  exceptions->add_option("--stack", stack_dir, "the stack folder: use DIR/seam.db")->type_name("DIR");
  exceptions->add_option("--limit", common.rows_limit, "list the first N (0: all)")->capture_default_str();
  add_format(exceptions);
  exceptions->require_subcommand(0, 1);
  auto* ack = exceptions->add_subcommand("ack", "acknowledge an open exception (recorded in the audit log)");
  ack->add_option("ID", exception_id, "exception id")->required();
  ack->add_option("--note", note, "why, for the auditor")->required();
  ack->add_option("--by", by, "who acknowledges")->required();
  ack->add_option("--db", db, "audit log file (default: ./seam.db)")->type_name("FILE");
  ack->add_option("--stack", stack_dir, "the stack folder: use DIR/seam.db")->type_name("DIR");

  std::string alert_status = "all";
  std::vector<int64_t> delivery_ids;
  auto* alerts = app.add_subcommand("alerts", "alert deliveries: where new exceptions went, and which failed");
  alerts->add_option("--status", alert_status, "pending, delivered, failed or all")
      ->check(CLI::IsMember({"pending", "delivered", "failed", "all"}))
      ->capture_default_str();
  alerts->add_option("--db", db, "audit log file (default: ./seam.db)")->type_name("FILE");
  alerts->add_option("--stack", stack_dir, "the stack folder: use DIR/seam.db")->type_name("DIR");
  alerts->add_option("--limit", common.rows_limit, "list the newest N (0: all)")->capture_default_str();
  add_format(alerts);
  alerts->require_subcommand(0, 1);
  auto* retry = alerts->add_subcommand("retry", "send failed and pending deliveries again (all, or the IDs given)");
  retry->add_option("ID", delivery_ids, "delivery ids");
  retry->add_option("--db", db, "audit log file (default: ./seam.db)")->type_name("FILE");
  retry->add_option("--stack", stack_dir, "the stack folder: use DIR/seam.db")->type_name("DIR");
  add_format(retry);

  auto* report = app.add_subcommand("report", "reports over the audit log");
  report->require_subcommand(1);
  ReportArgs report_args;
  auto add_report_filters = [&](CLI::App* sub) {
    sub->add_option("--status", report_args.status, "open, acknowledged, unresolved (both), resolved, retired or all")
        ->check(CLI::IsMember({"open", "acknowledged", "unresolved", "resolved", "retired", "all"}));
    sub->add_option("--since", report_args.since, "record time at or after (ISO 8601 or a date)");
    sub->add_option("--until", report_args.until, "record time before (ISO 8601 or a date)");
    sub->add_option("--reconcile", report_args.reconcile, "one reconciliation");
    sub->add_option("--key", report_args.key, "one key (a refund id, say)");
    sub->add_option("--min-age", report_args.min_age, "at least this many days old");
    sub->add_option("--min-amount", report_args.min_amount, "at least this much money at stake");
    sub->add_option("--db", db, "audit log file (default: ./seam.db)")->type_name("FILE");
    sub->add_option("--stack", stack_dir, "the stack folder: use DIR/seam.db")->type_name("DIR");
    sub->add_option("--format", common.format, "text, csv, json or html")
        ->check(CLI::IsMember({"text", "csv", "json", "html"}));
  };
  auto* variance = report->add_subcommand("variance", "the checkpoint report: exceptions by age, then amount");
  add_report_filters(variance);
  variance->add_option("--limit", common.rows_limit,
                       "list the first N in report order, the oldest then the most money at stake; headline figures "
                       "still count every exception (0: all)")
      ->capture_default_str();
  variance->add_option("--sort", report_args.sort,
                       "age: the oldest first, then the most money at stake; amount: the most money first, then the "
                       "oldest (with --limit N: the top N)")
      ->check(CLI::IsMember({"age", "amount"}))
      ->capture_default_str();
  auto* totals = report->add_subcommand("totals", "left total, right total and net variance per period and status");
  add_report_filters(totals);
  totals->add_option("--period", report_args.period, "day, week or month")
      ->check(CLI::IsMember({"day", "week", "month"}))
      ->capture_default_str();
  totals->add_option("--zone", report_args.zone,
                     "the books' time zone (IANA, e.g. America/New_York): periods are its calendar days (default UTC)");

  auto* breakdown = report->add_subcommand(
      "breakdown", "exceptions per reconciliation, rule, severity or age bucket, each key's money counted once");
  add_report_filters(breakdown);
  breakdown->add_option("--by", report_args.by, "reconcile, rule, severity or age (0-30, 31-60, 61-90, over 90 days)")
      ->check(CLI::IsMember({"reconcile", "rule", "severity", "age"}))
      ->capture_default_str();

  auto* audit = app.add_subcommand("audit", "audit log integrity");
  audit->require_subcommand(1);
  auto* verify = audit->add_subcommand("verify", "recompute every sealed run and the log's state, and check the chain");
  verify->add_option("--db", db, "audit log file (default: ./seam.db)")->type_name("FILE");
  verify->add_option("--stack", stack_dir, "the stack folder: use DIR/seam.db")->type_name("DIR");
  std::string expect_head;
  verify->add_option("--expect-head", expect_head,
                     "SEQ:DIGEST printed earlier by `seam audit head`: fail when the chain no longer holds it");
  add_format(verify);
  auto* head = audit->add_subcommand("head", "print the chain's head (SEQ:DIGEST), to record somewhere else");
  head->add_option("--db", db, "audit log file (default: ./seam.db)")->type_name("FILE");
  head->add_option("--stack", stack_dir, "the stack folder: use DIR/seam.db")->type_name("DIR");
  add_format(head);

  // Hidden: writes seam.1 at build time (CMakeLists.txt) from the definitions above.
  std::string man_output;
  auto* man = app.add_subcommand("man", "print the manual page (roff: man -l FILE)")->group("");
  man->add_option("--output", man_output, "write it to FILE, not stdout")->type_name("FILE");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }

  if (*man) {
    const std::string page = man_page(app, SEAM_VERSION);
    if (man_output.empty()) {
      std::cout << page;
      return kExitOk;
    }
    std::ofstream out(man_output, std::ios::binary);
    out << page;
    out.close();
    if (!out) {
      std::cerr << "seam: error: cannot write " << man_output << "\n";
      return kExitStorage;
    }
    return kExitOk;
  }

  const ColorMode color_mode = parse_color_mode(color.c_str());
  common.color = use_color(color_mode, STDOUT_FILENO);
  auto logger = spdlog::stderr_color_mt(
      "seam", use_color(color_mode, STDERR_FILENO) ? spdlog::color_mode::always : spdlog::color_mode::never);
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("seam: %l: %v");
  spdlog::set_level(spdlog::level::from_str(log_level));

  // A command asked for JSON gets its error as JSON too, for the tool reading its output.
  auto fail = [&](const char* prefix, const char* message, int code) {
    if (common.format == "json") {
      seam::JsonWriter j;
      j.begin_object().key("error").value(message).key("exit").value(code).end_object();
      std::cerr << j.str() << "\n";
    } else {
      std::cerr << prefix << message << "\n";
    }
    return code;
  };
  try {
    for (CLI::App* sub : {run, check, params, rules, test, replay})
      if (*sub) stack = stack_argument(sub->get_name(), stack, stack_dir);
    if (*init) return cmd_init(init_dir);
    if (*run) return cmd_run(stack, db, sets, run_args, common);
    if (*check) return cmd_check(stack, sets, check_data, sample_rows, strict, common);
    if (*params) return cmd_params(stack, sets, common);
    if (*rules) return cmd_rules(stack, common);
    if (*test) return cmd_test(stack, common);
    if (*replay) return cmd_replay(stack, db, run_id, sets, common);
    if (*trace) return cmd_trace(key, db, stack_dir, common);
    if (*verify) return cmd_audit_verify(db, stack_dir, expect_head, common);
    if (*head) return cmd_audit_head(db, stack_dir, common);
    if (*ack) return cmd_exceptions_ack(db, stack_dir, exception_id, by, note);
    if (*exceptions) return cmd_exceptions(db, stack_dir, status, common);
    if (*retry) return cmd_alerts_retry(db, stack_dir, delivery_ids, common);
    if (*alerts) return cmd_alerts(db, stack_dir, alert_status, common);
    if (*variance) return cmd_report("variance", db, stack_dir, report_args, common);
    if (*totals) return cmd_report("totals", db, stack_dir, report_args, common);
    if (*breakdown) return cmd_report("breakdown", db, stack_dir, report_args, common);
  } catch (const seam::UserError& e) {
    return fail("seam: error: ", e.what(), kExitUsage);
  } catch (const seam::TamperedError& e) {
    return fail("seam: audit log error: ", e.what(), kExitTampered);
  } catch (const seam::StorageError& e) {
    return fail("seam: storage error: ", e.what(), kExitStorage);
  } catch (const seam::AuditError& e) {
    return fail("seam: audit log error: ", e.what(), kExitUsage);
  } catch (const seam::ScriptError& e) {
    return fail("seam: error: ", e.what(), kExitUsage);
  } catch (const std::exception& e) {
    return fail("seam: internal error: ", e.what(), kExitInternal);
  }
  return kExitUsage;
}
