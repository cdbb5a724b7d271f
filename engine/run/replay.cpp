#include "engine/run/replay.hpp"

#include <filesystem>
#include <set>
#include <sstream>
#include <unordered_map>

#include "bindings/params_file.hpp"
#include "connectors/connector.hpp"
#include "engine/audit/schema.hpp"
#include "engine/report/table.hpp"
#include "engine/run/runner.hpp"
#include "engine/util/json.hpp"
#include "engine/util/result.hpp"

namespace seam {
namespace {

bool failing(char code) { return code == 'F' || code == 'E'; }
bool notable(char code) { return code == 'W' || code == 'N'; }  // warn, pending

std::string outcome_word(char code) {
  auto o = outcome_from_code(code);
  return o ? outcome_name(*o) : "";
}

// What the past run recorded, indexed for lookups by (reconciliation, key, rule).
struct RecordedRun {
  struct Group {
    int64_t group_no;
    std::string outcomes;
    bool seen = false;
  };
  struct Reconcile {
    std::vector<std::string> rules;  // by position
    std::unordered_map<std::string, Group> groups;
  };
  std::map<std::string, Reconcile> reconciles;
  std::unordered_map<int64_t, std::string> deltas;  // group_no * 1024 + position → delta

  const std::string* delta(int64_t group_no, size_t position) const {
    auto it = deltas.find(group_no * 1024 + static_cast<int64_t>(position));
    return it == deltas.end() ? nullptr : &it->second;
  }
};

RecordedRun load_recorded(Db& db, int64_t run) {
  RecordedRun r;
  std::map<int64_t, std::string> names;
  Statement rc(db, "SELECT reconcile_no, name FROM run_reconciles WHERE run_id = ?1");
  rc.bind(1, run);
  while (rc.step()) names[rc.int_at(0)] = rc.text_at(1);
  Statement rules(db,
                  "SELECT rr.reconcile_no, rr.position, r.name FROM run_rules rr JOIN rules r ON r.id = rr.rule_id "
                  "WHERE rr.run_id = ?1 ORDER BY rr.reconcile_no, rr.position");
  rules.bind(1, run);
  while (rules.step()) r.reconciles[names[rules.int_at(0)]].rules.push_back(rules.text_at(2));
  Statement groups(db, "SELECT group_no, reconcile_no, group_key, outcomes FROM groups WHERE run_id = ?1");
  groups.bind(1, run);
  while (groups.step())
    r.reconciles[names[groups.int_at(1)]].groups.emplace(groups.text_at(2),
                                                          RecordedRun::Group{groups.int_at(0), groups.text_at(3)});
  Statement details(db, "SELECT group_no, position, delta FROM verdict_details WHERE run_id = ?1 AND delta IS NOT NULL");
  details.bind(1, run);
  while (details.step()) r.deltas[details.int_at(0) * 1024 + details.int_at(1)] = details.text_at(2);
  return r;
}

class ReplaySink final : public GroupSink {
 public:
  ReplaySink(const StackSpec& spec, RecordedRun& old, ReplayReport& report) : spec_(spec), old_(old), report_(report) {}

  void group(size_t rn, std::string_view key, std::string_view, std::string_view,
             const std::vector<Verdict>& verdicts, const GroupOrigin*, std::string_view) override {
    const ReconcileSpec& rec = spec_.reconciles[rn];
    auto orc = old_.reconciles.find(rec.name);
    RecordedRun::Group* og = nullptr;
    if (orc != old_.reconciles.end()) {
      auto it = orc->second.groups.find(std::string(key));
      if (it != orc->second.groups.end()) {
        og = &it->second;
        og->seen = true;
      }
    }
    std::vector<bool> matched_old(og ? og->outcomes.size() : 0, false);
    for (size_t k = 0; k < verdicts.size(); ++k) {
      const Verdict& v = verdicts[k];
      char now = outcome_code(v.outcome);
      char before = 0;
      const std::string* old_delta = nullptr;
      if (og) {
        const auto& names = orc->second.rules;
        for (size_t p = 0; p < names.size() && p < og->outcomes.size(); ++p)
          if (names[p] == rec.rules[k].name) {
            before = og->outcomes[p];
            old_delta = old_.delta(og->group_no, p);
            matched_old[p] = true;
          }
      }
      Flip f{rec.name, std::string(key), rec.rules[k].name, before ? outcome_word(before) : "", outcome_name(v.outcome),
             old_delta ? *old_delta : "", v.delta, v.message};
      if (failing(now) && !(before && failing(before))) add(report_.newly_failing, report_.money_failing, f, v.delta);
      else if (before && failing(before) && !failing(now)) add(report_.newly_passing, report_.money_passing, f, f.old_delta);
      else if (before && (before != now ? failing(now) || notable(now) || notable(before) : failing(now) && f.old_delta != v.delta))
        report_.changed.push_back(f);
    }
    // A rule the run had and the stack no longer has: its failures are gone.
    if (og)
      for (size_t p = 0; p < matched_old.size(); ++p)
        if (!matched_old[p] && failing(og->outcomes[p]))
          gone(rec.name, std::string(key), orc->second.rules[p], og->outcomes[p], og->group_no, p);
  }

  // Groups the run had and the replay does not (a changed key mapping, say).
  void finish() {
    for (auto& [name, rc] : old_.reconciles)
      for (auto& [key, g] : rc.groups)
        if (!g.seen)
          for (size_t p = 0; p < g.outcomes.size() && p < rc.rules.size(); ++p)
            if (failing(g.outcomes[p])) gone(name, key, rc.rules[p], g.outcomes[p], g.group_no, p);
  }

 private:
  void gone(const std::string& rec, const std::string& key, const std::string& rule, char before, int64_t group_no,
            size_t p) {
    const std::string* d = old_.delta(group_no, p);
    Flip f{rec, key, rule, outcome_word(before), "", d ? *d : "", "", "no longer evaluated"};
    add(report_.newly_passing, report_.money_passing, f, f.old_delta);
  }
  static void add(std::vector<Flip>& list, std::map<std::string, std::map<std::string, int64_t>>& money, const Flip& f,
                  const std::string& delta) {
    list.push_back(f);
    // "-36.00 USD": the money this flip puts at stake or releases
    auto amount = parse_money_text(delta);
    if (!amount) return;
    std::string cur = currency_name(amount->second);
    int64_t abs = 0;
    if (!checked_abs(amount->first, abs) || !checked_accumulate(money[f.rule][cur], abs) ||
        !checked_accumulate(money["(total)"][cur], abs))
      throw UserError("the money involved in rule '" + f.rule + "' (" + cur + ") exceeds " + int64_range_text() +
                      "; the replay cannot total it exactly");
  }

  const StackSpec& spec_;
  RecordedRun& old_;
  ReplayReport& report_;
};

}  // namespace

namespace {

// Where a run's input is now. New runs store absolute paths; older ones stored them
// relative to the folder `seam run` started in, and a log may be copied next to a stack
// that moved. So: the stored path when it exists; else the same file relative to the stack
// folder as given now, found through the stack folder the run recorded. The digest check
// after reading decides whether it is the same input.
std::string input_path(const std::string& stored, const std::string& run_stack_dir, const std::string& stack_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  // A glob's pattern exists when its folders before the first wildcard do.
  auto there = [&](const std::string& p) {
    if (!is_glob(p)) return fs::exists(p, ec);
    std::string folder = glob_fixed_folder(p);
    return fs::is_directory(folder.empty() ? "." : folder, ec);
  };
  if (there(stored)) return stored;
  fs::path rel = fs::path(stored).lexically_normal().lexically_relative(fs::path(run_stack_dir).lexically_normal());
  if (rel.empty() || *rel.begin() == "..") return stored;
  fs::path moved = fs::path(stack_dir) / rel;
  return there(moved.string()) ? moved.string() : stored;
}

}  // namespace

ReplayReport replay_run(const ReplayOptions& o) {
  LoadedStack loaded = load_stack(o.stack_path);
  StackSpec& spec = loaded.spec;
  ReplayReport report;
  report.db_path = o.db_path.empty() ? default_db_path(spec) : o.db_path;
  if (!std::filesystem::exists(report.db_path))
    throw UserError("no audit log at " + report.db_path + " (pass --db FILE)");
  auto log = open_audit_log_for_reading(report.db_path);  // a replay writes nothing
  Db& db = *log;
  std::string stack_digest, run_stack_dir;
  {
    Statement run(db, o.run_id ? "SELECT id, as_of, stack_digest, status, stack_dir FROM runs WHERE id = ?1"
                               : "SELECT id, as_of, stack_digest, status, stack_dir FROM runs WHERE status = 'complete' "
                                 "ORDER BY id DESC LIMIT 1");
    if (o.run_id) run.bind(1, o.run_id);
    if (!run.step())
      throw UserError(o.run_id ? "run " + std::to_string(o.run_id) + " is not in " + report.db_path
                               : "no complete run in " + report.db_path + " to replay");
    if (run.text_at(3) != "complete")
      throw UserError("run " + std::to_string(run.int_at(0)) + " is " + run.text_at(3) + ": only complete runs can be replayed");
    report.run_id = run.int_at(0);
    report.as_of = run.text_at(1);
    stack_digest = run.text_at(2);
    run_stack_dir = run.text_at(4);
  }
  report.stack_changed = stack_digest != spec.digest;

  // Params: what the run used, then a thresholds file, then --set.
  std::vector<ParamSetting> settings;
  std::map<std::string, std::string> recorded;
  {
    Statement p(db, "SELECT name, value FROM run_params WHERE run_id = ?1");
    p.bind(1, report.run_id);
    while (p.step()) {
      recorded[p.text_at(0)] = p.text_at(1);
      if (spec.find_param(p.text_at(0)))
        settings.push_back({p.text_at(0), p.text_at(1), "run " + std::to_string(report.run_id)});
    }
  }
  if (!o.params_file.empty())
    for (auto& s : load_params_file(o.params_file)) settings.push_back(s);
  ParamValues params = ParamValues::resolve(spec, o.sets, settings);
  for (const auto& [name, v] : params.all()) {
    auto it = recorded.find(name);
    if (it == recorded.end()) report.param_changes.emplace_back(name, "(new) -> " + v.text);
    else if (it->second != v.text) report.param_changes.emplace_back(name, it->second + " -> " + v.text);
  }
  validate_stack(spec, params);
  loaded.host->set_params(params);

  // The run's own input files, which must still hold the bytes it read.
  std::map<std::string, std::pair<std::string, std::string>> inputs_of;  // system → path, digest
  {
    Statement in(db, "SELECT system, path, digest FROM run_inputs WHERE run_id = ?1");
    in.bind(1, report.run_id);
    while (in.step()) inputs_of[in.text_at(0)] = {in.text_at(1), in.text_at(2)};
  }
  for (auto& sys : spec.systems) {
    auto it = inputs_of.find(sys.name);
    if (it == inputs_of.end())
      throw UserError("system '" + sys.name + "' was not read by run " + std::to_string(report.run_id) +
                      ": a replay evaluates the run's own inputs");
    sys.source.path = input_path(it->second.first, run_stack_dir, spec.dir);
  }
  Progress progress(o.progress);
  std::vector<MappedInput> inputs = map_all(spec, loaded.host.get(), nullptr, {}, nullptr, &progress);
  for (const auto& in : inputs) {
    const auto& digest = inputs_of[in.stats.system].second;
    if (in.stats.digest != digest)
      throw UserError("input " + in.stats.path + " (system '" + in.stats.system + "') changed since run " +
                      std::to_string(report.run_id) + ": its digest is " + in.stats.digest.substr(0, 16) +
                      ", the run read " + digest.substr(0, 16) + "; a replay needs the same bytes");
  }
  auto as_of = parse_time(report.as_of, *make_time_format("iso8601", "UTC"));
  if (!as_of) throw UserError("run " + std::to_string(report.run_id) + " has an unreadable as_of: " + as_of.error());

  progress.phase("reading the verdicts run " + std::to_string(report.run_id) + " recorded");
  RecordedRun old = load_recorded(db, report.run_id);
  ReplaySink sink(spec, old, report);
  evaluate_reconciles(spec, params, loaded.host.get(), inputs, *as_of, sink, &progress);
  progress.phase("comparing the verdicts");
  sink.finish();
  progress.clear();
  return report;
}

namespace {

std::string money_text(const std::map<std::string, int64_t>& by_currency) {
  std::string out;
  for (const auto& [cur, minor] : by_currency)
    out += (out.empty() ? "" : ", ") + format_money(minor, pack_currency(cur));
  return out.empty() ? "-" : out;
}

void flips_table(std::ostringstream& out, const char* title, const std::vector<Flip>& flips) {
  out << "\n" << title << " (" << flips.size() << ")\n";
  if (flips.empty()) return;
  std::vector<std::vector<std::string>> rows = {{"  reconcile", "key", "rule", "was", "now", "delta", "message"}};
  for (const auto& f : flips)
    rows.push_back({"  " + f.reconcile, f.key, f.rule, f.old_outcome.empty() ? "-" : f.old_outcome,
                    f.new_outcome.empty() ? "-" : f.new_outcome,
                    f.new_delta.empty() ? (f.old_delta.empty() ? "" : "was " + f.old_delta) : f.new_delta, f.new_message});
  out << render_table(rows);
}

}  // namespace

std::string render_replay_text(const ReplayReport& r) {
  std::ostringstream out;
  out << "replay of run " << r.run_id << " (as of " << r.as_of << "), nothing written to " << r.db_path << "\n";
  out << (r.stack_changed ? "stack: changed since the run\n" : "stack: unchanged since the run\n");
  if (r.param_changes.empty()) out << "params: as the run used them\n";
  for (const auto& [name, change] : r.param_changes) out << "param " << name << ": " << change << "\n";
  flips_table(out, "newly failing", r.newly_failing);
  flips_table(out, "newly passing", r.newly_passing);
  flips_table(out, "changed", r.changed);
  if (!r.money_failing.empty() || !r.money_passing.empty()) {
    out << "\nmoney involved\n";
    std::vector<std::vector<std::string>> rows = {{"  rule", "newly failing", "newly passing"}};
    std::set<std::string> rules;
    for (const auto& [rule, m] : r.money_failing) rules.insert(rule);
    for (const auto& [rule, m] : r.money_passing) rules.insert(rule);
    rules.erase("(total)");
    auto cell = [](const auto& table, const std::string& rule) {
      auto it = table.find(rule);
      return it == table.end() ? std::string("-") : money_text(it->second);
    };
    for (const auto& rule : rules) rows.push_back({"  " + rule, cell(r.money_failing, rule), cell(r.money_passing, rule)});
    rows.push_back({"  total", cell(r.money_failing, "(total)"), cell(r.money_passing, "(total)")});
    out << render_table(rows);
  }
  out << "\n" << (r.any() ? "the change flips verdicts" : "no verdict changes") << "\n";
  return out.str();
}

std::string render_replay_json(const ReplayReport& r) {
  JsonWriter j;
  j.begin_object().key("run_id").value(r.run_id).key("as_of").value(r.as_of).key("stack_changed").value(r.stack_changed);
  j.key("param_changes").begin_object();
  for (const auto& [name, change] : r.param_changes) j.key(name).value(change);
  j.end_object();
  auto flips = [&](const char* name, const std::vector<Flip>& list) {
    j.key(name).begin_array();
    for (const auto& f : list)
      j.begin_object().key("reconcile").value(f.reconcile).key("key").value(f.key).key("rule").value(f.rule)
          .key("was").optional(!f.old_outcome.empty(), f.old_outcome).key("now").optional(!f.new_outcome.empty(), f.new_outcome)
          .key("old_delta").optional(!f.old_delta.empty(), f.old_delta).key("new_delta").optional(!f.new_delta.empty(), f.new_delta)
          .key("message").value(f.new_message).end_object();
    j.end_array();
  };
  flips("newly_failing", r.newly_failing);
  flips("newly_passing", r.newly_passing);
  flips("changed", r.changed);
  auto money = [&](const char* name, const auto& table) {
    j.key(name).begin_object();
    for (const auto& [rule, by] : table) {
      j.key(rule).begin_object();
      for (const auto& [cur, minor] : by) j.key(cur).value(format_amount(minor, currency_scale(pack_currency(cur))));
      j.end_object();
    }
    j.end_object();
  };
  money("money_newly_failing", r.money_failing);
  money("money_newly_passing", r.money_passing);
  j.end_object();
  return j.str() + "\n";
}

}  // namespace seam
