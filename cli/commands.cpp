#include "cli/commands.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>

#include <spdlog/spdlog.h>

#include "bindings/stack_loader.hpp"
#include "cli/init.hpp"
#include "cli/terminal.hpp"
#include "bindings/test_loader.hpp"
#include "engine/alerts/alerts.hpp"
#include "engine/run/replay.hpp"
#include "engine/run/stack_tests.hpp"
#include "engine/audit/chain.hpp"
#include "engine/audit/exceptions.hpp"
#include "engine/audit/schema.hpp"
#include "engine/audit/verify.hpp"
#include "engine/report/breakdown.hpp"
#include "engine/report/counted_once.hpp"
#include "engine/report/summary.hpp"
#include "engine/report/table.hpp"
#include "engine/report/trace.hpp"
#include "engine/report/totals.hpp"
#include "engine/report/variance.hpp"
#include "engine/run/runner.hpp"
#include "engine/util/json.hpp"
#include "engine/util/result.hpp"
#include "engine/value/clock.hpp"
#include "engine/value/time.hpp"

namespace seam::cli {
namespace {

std::vector<std::pair<std::string, std::string>> parse_sets(const std::vector<std::string>& sets) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& s : sets) {
    auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0)
      throw UserError("--set expects name=value, found '" + s + "'");
    out.emplace_back(s.substr(0, eq), s.substr(eq + 1));
  }
  return out;
}

// trace and verify read an existing log: never create an empty one by accident.
std::string existing_db(const std::string& db, const std::string& stack) {
  std::string path = !db.empty() ? db : !stack.empty() ? (std::filesystem::path(stack) / "seam.db").string() : "seam.db";
  if (!std::filesystem::exists(path))
    throw UserError("no audit log at " + path + " (run `seam run STACK_DIR` first, or pass --db FILE / --stack DIR)");
  return path;
}

// --as-of, --since, --until: ISO 8601, or a date meaning its midnight UTC.
std::optional<TimeUs> cli_time(const char* option, const std::string& text) {
  if (text.empty()) return std::nullopt;
  auto t = parse_time(text, *make_time_format("iso8601", "UTC"));
  if (!t) throw UserError(std::string(option) + ": " + t.error());
  return *t;
}

// Read commands' --limit: keeps the first `limit` rows (0: all); returns how many it cut.
template <typename Row>
size_t cut_to_limit(std::vector<Row>& rows, size_t limit) {
  if (!limit || rows.size() <= limit) return 0;
  size_t cut = rows.size() - limit;
  rows.resize(limit);
  return cut;
}

}  // namespace

std::string stack_argument(const std::string& command, const std::string& positional, const std::string& option) {
  if (positional.empty() && option.empty())
    throw UserError("seam " + command + " needs a stack: give its folder as STACK_DIR or --stack DIR");
  if (positional.empty()) return option;
  if (option.empty()) return positional;
  // "refunds" and "./refunds/" are one folder: only two different folders are a conflict.
  auto folder = [](const std::string& dir) {
    std::error_code ec;
    std::filesystem::path p = std::filesystem::weakly_canonical(dir, ec);
    if (ec) p = std::filesystem::path(dir).lexically_normal();
    return p.has_filename() ? p : p.parent_path();
  };
  if (folder(positional) != folder(option))
    throw UserError("seam " + command + " was given two stacks: STACK_DIR " + positional + " and --stack " + option +
                    "; give one");
  return positional;
}

int cmd_init(const std::string& dir) {
  std::vector<std::string> files = init_stack(dir);
  std::cout << "made a stack in " << dir << ":\n";
  for (const auto& f : files) std::cout << "  " << f << "\n";
  const std::string q = dir.find_first_of(" '\"$\\") == std::string::npos ? dir : "'" + dir + "'";
  std::cout << "next: seam check " << q << " && seam test " << q << " && seam run " << q
            << " (finds the one failure seeded in its data); then edit " << q << "/stack.lua (see its README.md)\n";
  return kExitOk;
}

int cmd_run(const std::string& stack, const std::string& db, const std::vector<std::string>& sets, const RunArgs& args,
            const Common& common) {
  RunOptions options;
  options.stack_path = stack;
  options.db_path = db;
  options.sets = parse_sets(sets);
  options.params_file = common.params_file;
  options.progress = progress_on_stderr();
  options.as_of = cli_time("--as-of", args.as_of);
  options.window.since = cli_time("--since", args.since);
  options.window.until = cli_time("--until", args.until);
  if (options.window.since && options.window.until && *options.window.until <= *options.window.since)
    throw UserError("--until " + args.until + " must be later than --since " + args.since);
  options.profile = args.profile;
  options.allow_other_stack = args.allow_other_stack;
  RunReport report = run_stack(options);
  std::cout << (common.format == "json" ? render_run_json(report) : render_run_text(report, common.color, common.limit));
  if (report.profile) {
    std::cout.flush();
    std::cerr << report.profile->render();
  }
  return report.exit_code();
}

int cmd_check(const std::string& stack, const std::vector<std::string>& sets, bool data, uint64_t sample_rows,
              bool strict, const Common& common) {
  CheckReport r = check_stack(stack, parse_sets(sets), common.params_file, data, sample_rows);
  for (const auto& s : r.samples) {
    std::string rows = std::to_string(s.read) + (s.read == 1 ? " row" : " rows");
    std::cout << "sample of " << s.system << ": " << (!s.whole ? "the first " + rows : s.read == 1 ? "its only row" : "all " + rows)
              << " of " << s.path;
    if (!s.mapped) std::cout << " (not mapped: a declared column is not in it)\n";
    else std::cout << " (" << s.accepted << " accepted, " << s.rejected << " rejected"
                   << (s.skipped ? ", " + std::to_string(s.skipped) + " skipped" : "") << ")\n";
    for (const auto& line : s.lines) std::cout << "  " << line << "\n";
  }
  for (const auto& w : r.warnings) std::cout << w.str() << "\n";
  if (!r.errors.empty()) {
    for (const auto& e : r.errors) std::cerr << e.str() << "\n";
    std::cerr << "seam: error: stack " << r.stack_name << " cannot work on its inputs: " << r.errors.size()
              << (r.errors.size() == 1 ? " error" : " errors") << " in the sample\n";
    return kExitUsage;
  }
  auto counted = [](size_t n, const char* one, const char* many) { return std::to_string(n) + " " + (n == 1 ? one : many); };
  std::cout << "stack " << r.stack_name << " is valid: " << counted(r.params, "param", "params") << ", "
            << counted(r.systems, "system", "systems") << ", "
            << counted(r.reconciles, "reconciliation", "reconciliations") << ", " << counted(r.rules, "rule", "rules");
  if (!r.warnings.empty()) std::cout << "; " << r.warnings.size() << " warning" << (r.warnings.size() == 1 ? "" : "s");
  std::cout << "\n";
  return strict && !r.warnings.empty() ? kExitExceptions : kExitOk;
}

int cmd_params(const std::string& stack, const std::vector<std::string>& sets, const Common& common) {
  LoadedStack loaded = load_stack(stack);
  ParamValues values = resolve_params(loaded.spec, parse_sets(sets), common.params_file);
  if (common.format == "json") {
    JsonWriter j;
    j.begin_array();
    for (const auto& p : loaded.spec.params) {
      const ParamValue& v = values.all().at(p.name);
      j.begin_object().key("name").value(p.name).key("type").value(param_type_name(p.type)).key("value").value(v.text);
      j.key("source").value(v.source).key("default").value(p.default_text);
      j.key("min").optional(p.min.has_value(), p.min ? p.min->str() : "");
      j.key("max").optional(p.max.has_value(), p.max ? p.max->str() : "");
      j.key("unit").value(p.unit).key("doc").value(p.doc).key("declared_at").value(p.loc.str()).end_object();
    }
    j.end_array();
    std::cout << j.str() << "\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> table = {{"name", "type", "value", "source", "range", "unit", "doc"}};
  for (const auto& p : loaded.spec.params) {
    const ParamValue& v = values.all().at(p.name);
    std::string range = p.min && p.max ? p.min->str() + ".." + p.max->str()
                        : p.min        ? ">= " + p.min->str()
                        : p.max        ? "<= " + p.max->str()
                                       : "";
    table.push_back({p.name, param_type_name(p.type), v.text, v.source, range, p.unit, p.doc});
  }
  std::cout << render_table(table);
  return kExitOk;
}

int cmd_replay(const std::string& stack, const std::string& db, int64_t run, const std::vector<std::string>& sets,
               const Common& common) {
  ReplayOptions o{stack, db, run, parse_sets(sets), common.params_file};
  o.progress = progress_on_stderr();
  ReplayReport report = replay_run(o);
  std::cout << (common.format == "json" ? render_replay_json(report) : render_replay_text(report));
  return report.any() ? kExitExceptions : kExitOk;
}

int cmd_test(const std::string& stack, const Common& common) {
  PreparedStack prepared = prepare_stack(stack, {}, "");
  std::vector<TestCase> tests = load_stack_tests(prepared.loaded);
  std::vector<TestResult> results = run_stack_tests(prepared, tests);
  std::cout << (common.format == "json" ? render_test_json(results) : render_test_text(results));
  for (const auto& r : results)
    if (!r.passed()) return kExitExceptions;
  return kExitOk;
}

int cmd_rules(const std::string& stack, const Common& common) {
  LoadedStack loaded = load_stack(stack);
  auto joined = [](const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
  };
  if (common.format == "json") {
    JsonWriter j;
    j.begin_array();
    for (const auto& rec : loaded.spec.reconciles)
      for (const auto& r : rec.rules) {
        j.begin_object().key("reconcile").value(rec.name).key("name").value(r.name).key("kind").value(rule_kind_name(r.kind));
        j.key("version").value(r.version).key("source").value(r.loc.str()).key("severity").value(severity_name(r.severity));
        j.key("params").begin_array();
        for (const auto& p : r.params_used()) j.value(p);
        j.end_array().key("doc").value(r.doc).end_object();
      }
    j.end_array();
    std::cout << j.str() << "\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> table = {{"reconcile", "rule", "kind", "version", "source", "severity", "params", "doc"}};
  for (const auto& rec : loaded.spec.reconciles)
    for (const auto& r : rec.rules)
      table.push_back({rec.name, r.name, rule_kind_name(r.kind), r.version, r.loc.str(), severity_name(r.severity),
                       joined(r.params_used()), r.doc});
  std::cout << render_table(table);
  return kExitOk;
}

int cmd_exceptions(const std::string& db, const std::string& stack, const std::string& status, const Common& common) {
  auto log = open_audit_log_for_reading(existing_db(db, stack));
  Db& handle = *log;
  auto rows = list_exceptions(handle, status, format_time_iso(clock_now()));
  const size_t more = cut_to_limit(rows, common.rows_limit);
  if (common.format == "json") {
    const CauseGraph graph = load_cause_graph(handle);
    JsonWriter j;
    j.begin_array();
    for (const auto& r : rows) {
      j.begin_object().key("id").value(r.id).key("status").value(r.status).key("reconcile").value(r.reconcile)
          .key("key").value(r.key).key("rule").value(r.rule).key("severity").value(r.severity)
          .key("age_days").value(r.age_days).key("first_run").value(r.first_run).key("first_seen_at").value(r.first_seen_at)
          .key("last_run").value(r.last_run)
          .key("resolved_run").optional_number(r.resolved_run != 0 && r.status != "retired", r.resolved_run)
          .key("retired_run").optional_number(r.status == "retired", r.resolved_run)
          .key("retired_because").optional(r.status == "retired", r.retired_because)
          .key("delta").optional(!r.delta.empty(), r.delta).key("caused_by");
      linked_json(j, graph.causes(r.id));
      j.key("consequences");
      linked_json(j, graph.consequences(r.id));
      j.key("message").value(r.message).end_object();
    }
    j.end_array();
    std::cout << j.str() << "\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> table = {
      {"id", "status", "reconcile", "key", "rule", "age", "first seen", "last run", "delta", "message"}};
  for (const auto& r : rows)
    table.push_back({std::to_string(r.id), r.status, r.reconcile, r.key, r.rule, std::to_string(r.age_days) + " d",
                     "run " + std::to_string(r.first_run), std::to_string(r.last_run), r.delta,
                     // Why it is no longer evaluated says more than its last failure now.
                     r.status == "retired" ? "retired by run " + std::to_string(r.resolved_run) + ": " + r.retired_because
                                           : r.message});
  std::cout << (rows.empty() ? "no " + (status == "all" ? std::string() : status + " ") + "exceptions\n" : render_table(table));
  if (more) std::cout << "... and " << more << " more (--limit 0 lists all)\n";
  return kExitOk;
}

int cmd_exceptions_ack(const std::string& db, const std::string& stack, int64_t id, const std::string& by,
                       const std::string& note) {
  Db handle(existing_db(db, stack), false);
  migrate_audit_schema(handle);
  acknowledge_exception(handle, id, by, note, format_time_iso(clock_now()));
  std::cout << "exception " << id << " acknowledged by " << by << "\n";
  return kExitOk;
}

namespace {

std::string render_deliveries(const std::vector<AlertDelivery>& rows, const std::string& format) {
  if (format == "json") {
    JsonWriter j;
    j.begin_array();
    for (const auto& d : rows)
      j.begin_object().key("id").value(d.id).key("run").value(d.run_id).key("alert").value(d.alert)
          .key("kind").value(d.kind).key("target").value(d.target).key("exceptions").value(d.exceptions)
          .key("status").value(d.status).key("attempts").value(d.attempts).key("created_at").value(d.created_at)
          .key("delivered_at").optional(!d.delivered_at.empty(), d.delivered_at)
          .key("error").optional(!d.last_error.empty(), d.last_error).end_object();
    j.end_array();
    return j.str() + "\n";
  }
  TextTable table = {{"id", "run", "alert", "kind", "target", "exceptions", "status", "attempts", "last error"}};
  for (const auto& d : rows)
    table.push_back({std::to_string(d.id), std::to_string(d.run_id), d.alert, d.kind, d.target,
                     std::to_string(d.exceptions), d.status, std::to_string(d.attempts), d.last_error});
  return render_table(table, terminal_width());
}

bool any_undelivered(const std::vector<AlertDelivery>& rows) {
  return std::any_of(rows.begin(), rows.end(), [](const AlertDelivery& d) { return d.status != "delivered"; });
}

}  // namespace

int cmd_alerts(const std::string& db, const std::string& stack, const std::string& status, const Common& common) {
  auto log = open_audit_log_for_reading(existing_db(db, stack));
  Db& handle = *log;
  auto rows = list_alert_deliveries(handle, status);
  const size_t more = cut_to_limit(rows, common.rows_limit);
  if (rows.empty() && common.format != "json") {
    std::cout << "no " << (status == "all" ? std::string() : status + " ") << "alert deliveries\n";
    return kExitOk;
  }
  std::cout << render_deliveries(rows, common.format);
  if (more && common.format != "json") std::cout << "... and " << more << " more (--limit 0 lists all)\n";
  return any_undelivered(rows) ? kExitExceptions : kExitOk;
}

int cmd_alerts_retry(const std::string& db, const std::string& stack, const std::vector<int64_t>& ids,
                     const Common& common) {
  Db handle(existing_db(db, stack), false);
  migrate_audit_schema(handle);
  auto rows = retry_alerts(handle, ids);
  if (rows.empty() && common.format != "json") {
    std::cout << "nothing to retry: every alert was delivered\n";
    return kExitOk;
  }
  std::cout << render_deliveries(rows, common.format);
  return any_undelivered(rows) ? kExitExceptions : kExitOk;
}

namespace {
// An HTML variance report of a 1M-refund run lists 121,799 rows (41.7 MB) unless capped.
constexpr size_t kHtmlRows = 1000;

struct BooksZone {
  const date::time_zone* zone = nullptr;  // nullptr: UTC
  std::string text = "UTC";              // what the report's filters line says
};

// Periods follow the books: --zone, else the stack's accounting_zone (the stack folder
// given, else the one the log's latest run was of), else UTC.
BooksZone books_zone(const std::string& option, const std::string& stack, Db& log) {
  std::string name = option, from = "--zone";
  if (name.empty()) {
    std::string dir = stack;
    if (dir.empty()) {
      Statement s(log, "SELECT stack_dir FROM runs ORDER BY id DESC LIMIT 1");
      if (s.step()) dir = s.text_at(0);
    }
    if (!dir.empty() && std::filesystem::exists(std::filesystem::path(dir) / "stack.lua")) {
      try {
        name = load_stack(dir).spec.accounting_zone;
        from = "the stack's accounting_zone";
      } catch (const std::exception& e) {
        spdlog::warn("periods are in UTC: the stack at {} did not load to say its accounting_zone ({})", dir, e.what());
      }
    }
  }
  if (name.empty()) return {};
  auto z = find_zone(name);
  if (!z) throw UserError(from + ": " + z.error());
  return {*z, option.empty() ? name + " (" + from + ")" : name};
}
}  // namespace

int cmd_report(const std::string& which, const std::string& db, const std::string& stack, const ReportArgs& a,
               const Common& common) {
  ReportFilter f;
  f.status = a.status;
  f.reconcile = a.reconcile;
  f.key = a.key;
  f.min_age_days = a.min_age;
  f.sort = a.sort;
  if (auto t = cli_time("--since", a.since)) f.since = format_time_iso(*t);
  if (auto t = cli_time("--until", a.until)) f.until = format_time_iso(*t);
  if (!a.min_amount.empty()) {
    auto d = parse_decimal(a.min_amount);
    if (!d) throw UserError("--min-amount: " + d.error());
    f.min_amount = *d;
  }
  auto log = open_audit_log_for_reading(existing_db(db, stack));
  Db& handle = *log;
  const BooksZone books = which == "totals" ? books_zone(a.zone, stack, handle) : BooksZone{};
  ReportContext ctx;
  ctx.now_iso = format_time_iso(clock_now());
  ctx.graph = load_cause_graph(handle);
  ctx.links = measured_links(ctx.graph);
  ctx.limit = common.rows_limit;
  ctx.sort = a.sort;
  // What the report was asked for, as given: the filters an auditor must see next to its figures.
  std::vector<std::pair<std::string, std::string>> filters = {{"status", a.status}};
  if (!a.since.empty()) filters.push_back({"since", f.since});
  if (!a.until.empty()) filters.push_back({"until", f.until});
  if (!a.reconcile.empty()) filters.push_back({"reconcile", a.reconcile});
  if (!a.key.empty()) filters.push_back({"key", a.key});
  if (a.min_age) filters.push_back({"min_age_days", std::to_string(a.min_age)});
  if (!a.min_amount.empty()) filters.push_back({"min_amount", a.min_amount});
  if (which == "totals") {
    filters.push_back({"period", a.period});
    filters.push_back({"zone", books.text});
  }
  if (which == "variance" && a.sort != "age") filters.push_back({"sort", a.sort});
  if (which == "variance" && common.rows_limit) filters.push_back({"limit", std::to_string(common.rows_limit)});
  if (which == "breakdown") filters.push_back({"by", a.by});
  const std::string title = which == "totals"      ? "seam report totals: variance per " + a.period + " and status"
                            : which == "breakdown" ? "seam report breakdown: exceptions by " + a.by
                                                   : "seam report variance: exceptions by age and amount";
  ctx.provenance = describe_report(handle, std::filesystem::weakly_canonical(log->path()).string(), title, ctx.now_iso,
                                   std::move(filters));
  auto rows = variance_report(handle, f, ctx.now_iso);
  if (common.format == "html") ctx.history = open_history(handle, rows, ctx.links);
  if (which == "variance" && common.format == "html") {
    // One file to mail: at most kHtmlRows rows and their drill-down unless --limit says otherwise.
    if (!ctx.limit && rows.size() > kHtmlRows) ctx.limit = kHtmlRows;
    const size_t shown = ctx.limit && ctx.limit < rows.size() ? ctx.limit : rows.size();
    ctx.details = exception_details(handle, std::vector<ExceptionRow>(rows.begin(), rows.begin() + shown));
  }
  if (which == "totals")
    std::cout << render_totals(totals_report(rows, a.period, ctx.links, books.zone), a.period, common.format, ctx);
  else if (which == "breakdown")
    std::cout << render_breakdown(breakdown_report(rows, a.by, ctx.links), a.by, common.format, ctx);
  else std::cout << render_variance(rows, common.format, ctx);
  return kExitOk;
}

int cmd_trace(const std::string& key, const std::string& db, const std::string& stack, const Common& common) {
  auto log = open_audit_log_for_reading(existing_db(db, stack));
  Db& handle = *log;
  auto rows = trace_key(handle, key);
  auto exceptions = trace_exceptions(handle, key);
  // Rows come newest run first: keep those of the first N runs.
  size_t older_runs = 0;
  if (common.rows_limit) {
    std::vector<int64_t> runs;
    for (const auto& r : rows)
      if (runs.empty() || runs.back() != r.run_id) runs.push_back(r.run_id);
    if (runs.size() > common.rows_limit) {
      older_runs = runs.size() - common.rows_limit;
      const int64_t oldest_kept = runs[common.rows_limit - 1];
      auto first_cut = std::find_if(rows.begin(), rows.end(), [&](const TraceRow& r) { return r.run_id < oldest_kept; });
      rows.erase(first_cut, rows.end());
    }
  }
  std::cout << (common.format == "json" ? render_trace_json(key, rows, exceptions)
                                        : render_trace_text(key, rows, exceptions));
  if (older_runs && common.format != "json")
    std::cout << "\n... and verdicts of " << older_runs << (older_runs == 1 ? " older run" : " older runs")
              << " (--limit 0 shows all)\n";
  return kExitOk;
}

int cmd_audit_verify(const std::string& db, const std::string& stack, const std::string& expect_head,
                     const Common& common) {
  std::optional<std::pair<int64_t, std::string>> expected;
  if (!expect_head.empty()) expected = parse_head(expect_head);
  auto log = open_audit_log_for_reading(existing_db(db, stack));
  VerifyReport report = verify_audit_log(*log, expected);
  if (common.format == "json") {
    JsonWriter j;
    j.begin_object().key("ok").value(report.ok()).key("head").value(report.head).key("head_seal").value(report.head_seal);
    j.key("problems").begin_array();
    for (const auto& p : report.problems) j.value(p);
    j.end_array().key("runs").begin_array();
    for (const auto& r : report.runs)
      j.begin_object().key("run_id").value(r.run_id).key("status").value(r.status).key("ok").value(r.ok)
          .key("sealed").value(r.digested).key("problem").optional(!r.problem.empty(), r.problem).end_object();
    j.end_array().end_object();
    std::cout << j.str() << "\n";
  } else {
    for (const auto& r : report.runs) {
      if (!r.ok) std::cout << "run " << r.run_id << ": TAMPERED: " << r.problem << "\n";
      else if (r.status == "running") std::cout << "run " << r.run_id << ": running, not sealed yet\n";
      else if (!r.digested) std::cout << "run " << r.run_id << ": " << r.status << ", not sealed\n";
      else if (r.status != "complete") std::cout << "run " << r.run_id << ": " << r.status << ", ok (what it wrote is sealed)\n";
      else std::cout << "run " << r.run_id << ": ok\n";
    }
    for (const auto& p : report.problems) std::cout << "TAMPERED: " << p << "\n";
    std::cout << (report.ok() ? "audit log verifies" : "audit log does NOT verify") << "; head "
              << (report.head.empty() ? "(none)" : report.head) << "\n";
  }
  return report.ok() ? kExitOk : kExitExceptions;
}

int cmd_audit_head(const std::string& db, const std::string& stack, const Common& common) {
  auto log = open_audit_log_for_reading(existing_db(db, stack));
  auto head = chain_head(*log);
  if (!head) throw TamperedError("audit log " + log->path() + " has no audit chain entries (they were deleted)");
  if (common.format == "json") {
    JsonWriter j;
    j.begin_object().key("head").value(head->head()).key("seq").value(head->seq).key("digest").value(head->digest);
    j.key("at").value(head->at).key("event").value(head->event).key("subject").value(head->subject).end_object();
    std::cout << j.str() << "\n";
  } else {
    std::cout << head->head() << "\n";
  }
  return kExitOk;
}

}  // namespace seam::cli
