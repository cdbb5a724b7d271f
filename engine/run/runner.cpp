#include "engine/run/runner.hpp"

#include "engine/value/clock.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <future>
#include <map>
#include <optional>
#include <tuple>

#include "bindings/params_file.hpp"
#include "bindings/stack_loader.hpp"
#include "connectors/connector.hpp"
#include "engine/mapping/mapper.hpp"
#include "engine/audit/exceptions.hpp"
#include "engine/run/causes.hpp"
#include "engine/run/chains.hpp"
#include "engine/run/lint.hpp"
#include "engine/run/progress.hpp"
#include "engine/run/stack_checks.hpp"
#include "engine/match/matcher.hpp"
#include "engine/match/nearest.hpp"
#include "engine/match/pairing.hpp"
#include "engine/match/strategies.hpp"
#include "engine/run/strategy_plan.hpp"
#include "engine/spec/match_keys.hpp"
#include "engine/rules/builtin.hpp"
#include "engine/script/script_pool.hpp"
#include "engine/util/json.hpp"
#include "engine/util/regex.hpp"
#include "engine/util/result.hpp"
#include "engine/util/text.hpp"
#include "engine/value/clock.hpp"

namespace seam {
namespace {

// Phase timings at --log-level debug: where a run spends its time, measured, not guessed.
class PhaseTimer {
 public:
  explicit PhaseTimer(std::string what) : what_(std::move(what)), start_(std::chrono::steady_clock::now()) {}
  ~PhaseTimer() {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start_).count();
    spdlog::debug("{}: {} ms", what_, ms);
  }

 private:
  std::string what_;
  std::chrono::steady_clock::time_point start_;
};

std::vector<int> key_fields(const SystemSpec& sys, const std::vector<std::string>& key, const ReconcileSpec& r,
                            const char* side) {
  std::vector<int> out;
  for (const auto& k : key) {
    int i = sys.field_index(k);
    if (i < 0)
      throw UserError(r.loc.str() + ": reconcile '" + r.name + "' matches on " + side + " field '" + k + "', " +
                      sys.not_declared(k));
    out.push_back(i);
  }
  return out;
}

const SystemSpec& system_named(const StackSpec& spec, const std::string& name, const ReconcileSpec& r) {
  if (const SystemSpec* s = spec.find_system(name)) return *s;
  std::vector<std::string> names;
  for (const auto& s : spec.systems) names.push_back(s.name);
  std::string hint = did_you_mean(name, names);
  throw UserError(r.loc.str() + ": reconcile '" + r.name + "' names system '" + name + "', which is not declared" +
                  (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
}

// Marks ids and match keys required: a record without them cannot be matched or named.
void mark_required(StackSpec& spec) {
  for (auto& sys : spec.systems) {
    if (!sys.id_field.empty()) {
      int i = sys.field_index(sys.id_field);
      if (i < 0)
        throw UserError(sys.loc.str() + ": system '" + sys.name + "' has id = '" + sys.id_field +
                        "', which is not one of its fields");
      sys.fields[static_cast<size_t>(i)].required = true;
    }
  }
  for (const auto& r : spec.reconciles) {
    for (auto [name, key] : {std::pair{&r.left, &r.left_key}, std::pair{&r.right, &r.right_key}}) {
      auto* sys = const_cast<SystemSpec*>(&system_named(spec, *name, r));
      for (int i : key_fields(*sys, *key, r, name == &r.left ? "left" : "right"))
        sys->fields[static_cast<size_t>(i)].required = true;
    }
  }
}

// The declared mapping ops that cannot work together, found before any data is read.
void validate_ops(const FieldSpec& f, const SystemSpec& sys) {
  auto fail = [&](const std::string& why) {
    throw UserError(f.loc.str() + ": field '" + f.name + "' of system '" + sys.name + "': " + why);
  };
  if (f.column_by.set()) {
    int i = sys.field_index(f.column_by.field);
    if (i < 0) fail("column_by { field = '" + f.column_by.field + "' }, " + sys.not_declared(f.column_by.field));
    if (sys.fields[static_cast<size_t>(i)].column_by.set())
      fail("column_by { field = '" + f.column_by.field + "' } names a field whose own column is chosen by column_by; "
           "choose by a field read from a column");
  }
  // A default of the wrong shape would reject every row it fills: refuse it now.
  if (f.default_text) {
    std::string why;
    if (f.kind == FieldKind::Integer) {
      std::string_view t = trim(*f.default_text);
      int64_t n = 0;
      auto r = std::from_chars(t.data() + (!t.empty() && t[0] == '+'), t.data() + t.size(), n);
      if (r.ec != std::errc() || r.ptr != t.data() + t.size()) why = "is not a whole number";
    } else if (f.kind == FieldKind::Money && !f.currency.empty()) {
      CurrencyCode cur = pack_currency(f.currency);
      if (auto a = parse_amount(*f.default_text, currency_scale(cur), f.money_format); !a) why = a.error();
    } else if (f.kind == FieldKind::Time) {
      auto tf = make_time_format(f.time_format, f.zone);
      if (tf)
        if (auto t = parse_time(*f.default_text, *tf); !t) why = t.error();
    }
    if (!why.empty()) fail("default " + quote_for_message(*f.default_text) + " " + why);
  }
}

}  // namespace

// Everything about a stack that can be wrong before any data is read.
void validate_stack(StackSpec& spec, const ParamValues& params) {
  validate_chains(spec);  // first: a hop from the wrong system misreads every field it names
  mark_required(spec);
  for (const auto& sys : spec.systems) {
    for (const auto& f : sys.fields) {
      if (f.kind == FieldKind::Time) {
        auto tf = make_time_format(f.time_format, f.zone);
        if (!tf) throw UserError(f.loc.str() + ": field '" + f.name + "' of system '" + sys.name + "': " + tf.error());
      }
      if (f.kind == FieldKind::Quantity) {
        if (!sys.units.declared())
          throw UserError(f.loc.str() + ": field '" + f.name + "' of system '" + sys.name +
                          "' is a quantity, but the stack declares no units { base = ..., ... }");
        if (!f.unit.empty() && f.sku_column.empty())
          if (auto factor = sys.units.factor(f.unit, ""); !factor)
            throw UserError(f.loc.str() + ": field '" + f.name + "': " + factor.error());
      }
      if (f.kind == FieldKind::Money && !f.currency.empty() && !pack_currency(f.currency))
        throw UserError(f.loc.str() + ": field '" + f.name + "': currency must be an ISO 4217 code such as USD, found " +
                        quote_for_message(f.currency));
      if (f.kind == FieldKind::Money && !f.currency.empty() && known_currency_scale(pack_currency(f.currency)) < 0)
        throw UserError(f.loc.str() + ": field '" + f.name + "': " + unknown_currency_text(pack_currency(f.currency)));
      validate_ops(f, sys);
    }
    for (const auto& cond : sys.only) {
      if (sys.field_index(cond.field) < 0)
        throw UserError(sys.loc.str() + ": system '" + sys.name + "' only { field = '" + cond.field + "' }, " +
                        sys.not_declared(cond.field));
      if (!cond.matches.empty()) Regex(cond.matches, sys.loc.str() + ": system '" + sys.name + "' only { matches = ... }");
    }
    for (auto [option, field, kind, kind_text] :
         {std::tuple{"record_time", &sys.record_time_field, FieldKind::Time, "time { ... }"},
          std::tuple{"amount", &sys.amount_field, FieldKind::Money, "money { ... }"}}) {
      if (field->empty()) continue;
      int i = sys.field_index(*field);
      if (i < 0)
        throw UserError(sys.loc.str() + ": system '" + sys.name + "' " + option + " names field '" + *field + "', " +
                        sys.not_declared(*field));
      if (sys.fields[static_cast<size_t>(i)].kind != kind && sys.fields[static_cast<size_t>(i)].kind != FieldKind::Lua)
        throw UserError(sys.loc.str() + ": system '" + sys.name + "' " + option + " field '" + *field +
                        "' must be declared as " + kind_text);
    }
  }
  for (const auto& r : spec.reconciles) {
    const SystemSpec& left = system_named(spec, r.left, r);
    const SystemSpec& right = system_named(spec, r.right, r);
    if (r.left_key.size() != r.right_key.size())
      throw UserError(r.loc.str() + ": reconcile '" + r.name + "' matches " + std::to_string(r.left_key.size()) +
                      " left key fields with " + std::to_string(r.right_key.size()) + " right key fields");
    plan_strategies(r, left, right, params);
    for (const auto& rule : r.rules) {
      compile_rule(rule, r, left, right, params);
      validate_cause(spec, r, rule, left, right);
    }
  }
  refuse_unworkable(spec, params);
}

namespace {

// The record time and money of a group, read only for findings and windowed runs, so the
// hot path pays nothing for them.
class GroupFacts {
 public:
  GroupFacts(const ReconcileSpec& rec, const RecordSet& left, const RecordSet& right)
      : left_(left), right_(right), sor_left_(rec.system_of_record != rec.right) {
    left_time_ = left.system().field_index(left.system().record_time_field);
    right_time_ = right.system().field_index(right.system().record_time_field);
    left_amount_ = left.system().field_index(left.system().amount_field);
    right_amount_ = right.system().field_index(right.system().amount_field);
    for (const auto& r : rec.rules)
      if (r.kind == RuleKind::AmountEqual) {
        if (left_amount_ < 0) left_amount_ = left.system().field_index(r.left_field);
        if (right_amount_ < 0) right_amount_ = right.system().field_index(r.right_field);
      }
  }
  bool has_time() const { return left_time_ >= 0 || right_time_ >= 0; }

  TimeUs time_of(const MatchGroup& g, const MatchResult& m) const {
    TimeUs l = earliest(left_, m.left_of(g), left_time_), r = earliest(right_, m.right_of(g), right_time_);
    TimeUs first = sor_left_ ? l : r, second = sor_left_ ? r : l;
    return first != INT64_MIN ? first : second;
  }

  void amounts_of(const MatchGroup& g, const MatchResult& m, Finding& f) const {
    if (left_amount_ < 0 || right_amount_ < 0) return;
    CurrencyCode cur = 0;
    auto total = [&](const RecordSet& rs, std::span<const uint32_t> rows, int field, int64_t& out) {
      out = 0;
      for (uint32_t r : rows) {
        const Value& v = rs.get(r, static_cast<size_t>(field));
        if (v.kind != ValueKind::Money || (cur && v.currency != cur)) return false;
        cur = v.currency;
        // A total beyond int64 is not known exactly: no amounts rather than wrapped ones
        // (the rule that sums them reports the overflow as an error verdict).
        if (!checked_accumulate(out, v.i)) return false;
      }
      return true;
    };
    if (total(left_, m.left_of(g), left_amount_, f.left_amount) &&
        total(right_, m.right_of(g), right_amount_, f.right_amount) && cur)
      f.currency = cur;
    else
      f.left_amount = f.right_amount = 0;
  }

 private:
  static TimeUs earliest(const RecordSet& rs, std::span<const uint32_t> rows, int field) {
    TimeUs t = INT64_MIN;
    if (field < 0) return t;
    for (uint32_t r : rows) {
      const Value& v = rs.get(r, static_cast<size_t>(field));
      if (v.kind == ValueKind::Time && (t == INT64_MIN || v.i < t)) t = v.i;
    }
    return t;
  }
  const RecordSet &left_, &right_;
  bool sor_left_;
  int left_time_ = -1, right_time_ = -1, left_amount_ = -1, right_amount_ = -1;
};

// The group's record ids as the audit log stores them: a JSON array of strings (an id may
// hold ", " or quotes; see read_id_list for the older ", "-joined runs).
const std::string& join_ids(const RecordSet& rs, std::span<const uint32_t> rows, std::string& buf) {
  buf.clear();
  for (size_t i = 0; i < rows.size(); ++i) append_id_list(buf, rs.id(rows[i]), i == 0);
  buf += rows.empty() ? "[]" : "]";
  return buf;
}

TimeUs latest_time(const std::vector<MappedInput>& inputs) {
  TimeUs latest = INT64_MIN;
  for (const auto& in : inputs) latest = std::max(latest, in.latest_time);
  return latest;
}

// The systems of one source, read once (see map_all).
std::vector<MappedInput> map_group(const StackSpec& spec, const std::vector<size_t>& group, ScriptHost* host,
                                   const MapOptions& options) {
  std::vector<const SystemSpec*> systems;
  std::string names;
  for (size_t i : group) {
    systems.push_back(&spec.systems[i]);
    names += (names.empty() ? "" : ", ") + spec.systems[i].name;
  }
  PhaseTimer timer("map " + names);
  std::vector<MappedInput> ins = map_systems(systems, host, options);
  for (const auto& in : ins)
    spdlog::debug("{}: read {} rows, accepted {}, rejected {}, skipped {}", in.stats.system, in.stats.read,
                  in.stats.accepted, in.stats.rejected, in.stats.skipped);
  return ins;
}

bool has_lua_rules(const ReconcileSpec& rec) {
  return std::any_of(rec.rules.begin(), rec.rules.end(), [](const RuleSpec& r) { return r.kind == RuleKind::Lua; });
}

}  // namespace

size_t thread_count(const Parallelism& p) {
  if (p.threads > 0) return p.threads;
  if (const char* env = std::getenv("SEAM_THREADS"); env && *env) {
    size_t n = 0;
    auto r = std::from_chars(env, env + std::strlen(env), n);
    if (r.ec != std::errc() || *r.ptr != '\0' || n == 0)
      throw UserError("SEAM_THREADS is " + quote_for_message(env) +
                      ": expected a whole number of threads, 1 or more (unset it to use every core)");
    return n;
  }
  return std::max(2u, std::thread::hardware_concurrency());
}

// Systems are independent until matching, so they are read in parallel, and a large
// input that can be split is read on several threads too (the core that read a small
// input would otherwise idle while the largest one is parsed). Lua mapping functions run
// on hosts borrowed from the pool, one per thread: a Lua state serves one thread at a time.
std::vector<MappedInput> map_all(const StackSpec& spec, ScriptHost* host, RunProfile* profile,
                                 const Parallelism& parallel, ScriptPool* scripts, Progress* progress) {
  // Systems declaring the same source (kind, path and options; one export split by `only`)
  // are one reading: its rows are parsed once and each system maps them. Systems sharing
  // only the file (other options, another SQLite query) share its read and its digest.
  std::vector<std::vector<size_t>> groups;  // indexes into spec.systems, one group per source
  {
    std::map<std::tuple<std::string, std::string, std::map<std::string, std::string>>, size_t> by_source;
    for (size_t i = 0; i < spec.systems.size(); ++i) {
      const ConnectorSpec& src = spec.systems[i].source;
      auto [it, fresh] = by_source.emplace(std::tuple{src.kind, src.path, src.options}, groups.size());
      if (fresh) groups.emplace_back();
      groups[it->second].push_back(i);
    }
  }
  std::vector<std::string> paths, shared;
  for (const auto& sys : spec.systems) paths.push_back(sys.source.path);
  std::sort(paths.begin(), paths.end());
  for (size_t i = 1; i < paths.size(); ++i)
    if (paths[i] == paths[i - 1] && (shared.empty() || shared.back() != paths[i])) shared.push_back(paths[i]);
  SharedInputs keep(std::move(shared));

  const bool uses_lua = std::any_of(spec.systems.begin(), spec.systems.end(), maps_with_lua);
  const size_t threads = thread_count(parallel);
  std::optional<ScriptPool> own_pool;
  if (uses_lua && !scripts) scripts = &own_pool.emplace(host, threads);
  MapOptions options{threads, parallel.min_part_bytes, uses_lua ? scripts : nullptr};
  if (progress && progress->on()) {
    std::string names;
    for (const auto& sys : spec.systems) names += (names.empty() ? "" : ", ") + sys.name;
    progress->phase("reading and mapping " + names, "rows");
    options.rows_read = &progress->counter();
  }
  std::vector<std::optional<MappedInput>> by_system(spec.systems.size());
  // One slot per source: each thread writes its own. Systems read together share the time.
  std::vector<int64_t> wall(groups.size(), 0);
  auto timed = [&](size_t g) {
    auto started = ProfileClock::now();
    std::vector<MappedInput> ins = map_group(spec, groups[g], host, options);
    wall[g] = elapsed_ns(started);
    return ins;
  };
  std::exception_ptr first_error;
  auto collect = [&](size_t g, auto&& produce) {
    try {
      std::vector<MappedInput> ins = produce();
      for (size_t k = 0; k < ins.size(); ++k) by_system[groups[g][k]] = std::move(ins[k]);
    } catch (...) {
      if (!first_error) first_error = std::current_exception();
    }
  };
  if (threads < 2 || groups.size() < 2) {
    for (size_t g = 0; g < groups.size() && !first_error; ++g) collect(g, [&] { return timed(g); });
  } else {
    std::vector<std::future<std::vector<MappedInput>>> pending;
    for (size_t g = 1; g < groups.size(); ++g) pending.push_back(std::async(std::launch::async, timed, g));
    collect(0, [&] { return timed(0); });
    // Waits for every thread, even after an error.
    for (size_t g = 1; g < groups.size(); ++g) collect(g, [&] { return pending[g - 1].get(); });
  }
  if (first_error) std::rethrow_exception(first_error);
  std::vector<MappedInput> inputs;
  for (auto& in : by_system) inputs.push_back(std::move(*in));
  if (profile)
    for (size_t g = 0; g < groups.size(); ++g)
      for (size_t i : groups[g]) profile->mappings.push_back({spec.systems[i].name, wall[g], inputs[i].stats.read});
  return inputs;
}


ParamValues resolve_params(const StackSpec& spec, const std::vector<std::pair<std::string, std::string>>& sets,
                           const std::string& params_file) {
  std::string file = params_file;
  if (file.empty()) {
    std::string beside = (std::filesystem::path(spec.dir) / "thresholds.lua").lexically_normal().string();
    if (std::filesystem::exists(beside)) file = beside;
  }
  return ParamValues::resolve(spec, sets, file.empty() ? std::vector<ParamSetting>{} : load_params_file(file));
}

std::string default_db_path(const StackSpec& spec) {
  return (std::filesystem::path(spec.dir) / "seam.db").lexically_normal().string();
}

int RunReport::exit_code() const {
  return counts.of(Outcome::Fail) + counts.of(Outcome::Error) + counts.rejects > 0 ? 1 : 0;
}

CheckReport check_stack(const std::string& stack_path, const std::vector<std::pair<std::string, std::string>>& sets,
                        const std::string& params_file, bool with_data, uint64_t sample_rows) {
  PreparedStack prepared = prepare_stack(stack_path, sets, params_file);
  const StackSpec& spec = prepared.loaded.spec;
  CheckReport report{spec.name, spec.params.size(), spec.systems.size(), spec.reconciles.size(), 0, lint_stack(spec), {}, {}};
  for (const auto& r : spec.reconciles) report.rules += r.rules.size();
  if (with_data) {
    DataCheck data = check_data(spec, prepared.loaded.host.get(), sample_rows);
    report.warnings.insert(report.warnings.end(), data.warnings.begin(), data.warnings.end());
    report.errors = std::move(data.errors);
    report.samples = std::move(data.samples);
  }
  return report;
}

namespace {

// Writes each group to the audit log, registering each reconciliation's rule versions first.
class AuditSink final : public GroupSink {
 public:
  bool writes() const override { return true; }
  AuditSink(AuditLog& log, const StackSpec& spec, ExceptionTracker& exceptions)
      : log_(log), spec_(spec), exceptions_(exceptions) {}
  void begin_reconcile(size_t rn, const ReconcileSpec& rec) override {
    std::vector<int64_t> ids;
    for (const auto& r : rec.rules) ids.push_back(log_.rule_id(spec_.name, rec.name, r));
    bool recorded = rec.strategies.size() > 1 || (rec.strategies.size() == 1 && !rec.strategies[0].keyed) ||
                    (rec.strategies.size() == 1 && rec.strategies[0].key_normalize.any());
    log_.add_reconcile(static_cast<int>(rn), rec.name, rec.left, rec.right, ids, recorded ? &rec.strategies : nullptr,
                       match_keys_definition(spec_, rn));
  }
  void group(size_t rn, std::string_view key, std::string_view lids, std::string_view rids,
             const std::vector<Verdict>& verdicts, const GroupOrigin* origin, std::string_view matched_by) override {
    log_.add_group(static_cast<int>(rn), key, lids, rids, verdicts, origin, matched_by);
    exceptions_.observe(spec_.reconciles[rn], key, verdicts);
  }

 private:
  AuditLog& log_;
  const StackSpec& spec_;
  ExceptionTracker& exceptions_;
};

}  // namespace

PreparedStack prepare_stack(const std::string& stack_path, const std::vector<std::pair<std::string, std::string>>& sets,
                            const std::string& params_file) {
  PreparedStack p{load_stack(stack_path), {}};
  p.params = resolve_params(p.loaded.spec, sets, params_file);
  validate_stack(p.loaded.spec, p.params);
  p.loaded.host->set_params(p.params);
  return p;
}

namespace {

// The Lua rules of one reconciliation, evaluated ahead of the loop that writes: parts of
// consecutive groups, each on a thread of its own with a host borrowed for it, a few
// parts in flight while the loop consumes the oldest. The loop takes the verdicts in group
// order, so the sink, the exceptions and the seal see exactly what one thread would have
// produced; only the time the Lua rules take moves off the loop's thread.
class LuaAhead {
 public:
  LuaAhead(const ReconcileSpec& rec, const std::vector<std::unique_ptr<CompiledRule>>& rules, const RuleContext& ctx,
           const GroupFacts& facts, const RunWindow& window, ScriptPool& scripts, size_t groups_per_part, bool timed)
      : rules_(rules), ctx_(ctx), facts_(facts), window_(window), scripts_(scripts),
        per_part_(std::max<size_t>(groups_per_part, 1)), timed_(timed) {
    for (size_t k = 0; k < rec.rules.size(); ++k)
      if (rec.rules[k].kind == RuleKind::Lua) lua_.push_back(k);
    slot_.assign(rec.rules.size(), -1);
    for (size_t j = 0; j < lua_.size(); ++j) slot_[lua_[j]] = static_cast<int>(j);
    // Two parts per host: one being evaluated, the next waiting for its host, so a host
    // never idles while the loop writes.
    in_flight_ = 2 * std::max<size_t>(scripts.capacity(), 1);
    top_up();
  }
  LuaAhead(const LuaAhead&) = delete;
  LuaAhead& operator=(const LuaAhead&) = delete;
  ~LuaAhead() {  // parts still running read the loop's state: wait for them, whatever happened
    for (auto& p : parts_)
      if (p->done.valid()) p->done.wait();
  }

  // After the last group: the time the parts still held spent, into `tally` (a part's is
  // merged when it is popped, and the last one never is).
  void finish(RuleTally* tally) {
    for (auto& p : parts_) {
      if (!p->ready && p->done.valid()) {
        try {
          p->done.get();
        } catch (...) {  // a group it held was never asked for: nothing to report
          continue;
        }
        p->ready = true;
      }
      if (p->ready && tally) tally->merge(p->tally);
    }
    parts_.clear();
  }

  // Whether rule k's verdicts come from here.
  bool ahead(size_t k) const { return slot_[k] >= 0; }

  // Rule k's verdict for group gi (moved out: ask once); groups are asked for in
  // increasing order. Waits for the part holding gi. Throws what the part threw.
  Verdict take(size_t gi, size_t k, RuleTally* tally) {
    while (parts_.empty() || gi >= parts_.front()->end || !parts_.front()->ready) {
      if (!parts_.empty() && parts_.front()->ready) {  // consumed: its host takes the next part
        if (tally) tally->merge(parts_.front()->tally);
        parts_.pop_front();
        top_up();
        continue;
      }
      if (parts_.empty()) throw std::logic_error("Lua rules: asked for a group past the last part");
      Part& p = *parts_.front();
      p.done.get();
      p.ready = true;
    }
    Part& p = *parts_.front();
    return std::move(p.verdicts[static_cast<size_t>(slot_[k])][gi - p.begin]);
  }

 private:
  struct Part {
    size_t begin = 0, end = 0;
    std::vector<std::vector<Verdict>> verdicts;  // per Lua rule, per group of the part
    RuleTally tally;
    std::future<void> done;
    bool ready = false;
  };

  void top_up() {
    const size_t groups = ctx_.match->groups.size();
    while (parts_.size() < in_flight_ && next_ < groups) {
      auto p = std::make_unique<Part>();
      p->begin = next_;
      p->end = std::min(groups, next_ + per_part_);
      next_ = p->end;
      p->verdicts.assign(lua_.size(), std::vector<Verdict>(p->end - p->begin));
      p->tally = RuleTally(timed_ ? rules_.size() : 0);
      Part* raw = p.get();
      p->done = std::async(std::launch::async, [this, raw] { evaluate(*raw); });
      parts_.push_back(std::move(p));
    }
  }

  void evaluate(Part& p) const {
    ScriptPool::Lease lease = scripts_.acquire();
    RuleContext mine = ctx_;
    if (lease.get()) mine.host = lease.get();
    const std::vector<MatchGroup>& groups = ctx_.match->groups;
    for (size_t gi = p.begin; gi < p.end; ++gi) {
      const MatchGroup& g = groups[gi];
      if (window_.active()) {  // as the loop decides: a group it leaves out is not evaluated
        TimeUs t = facts_.time_of(g, *ctx_.match);
        if (t == INT64_MIN || !window_.contains(t)) continue;
      }
      for (size_t j = 0; j < lua_.size(); ++j) {
        auto started = timed_ ? ProfileClock::now() : ProfileClock::time_point{};
        evaluate_rule(*rules_[lua_[j]], g, mine, p.verdicts[j][gi - p.begin]);
        if (timed_) p.tally.add(lua_[j], elapsed_ns(started));
      }
    }
  }

  const std::vector<std::unique_ptr<CompiledRule>>& rules_;
  const RuleContext& ctx_;
  const GroupFacts& facts_;
  const RunWindow& window_;
  ScriptPool& scripts_;
  const size_t per_part_;
  const bool timed_;
  size_t in_flight_ = 2;
  std::vector<size_t> lua_;   // the Lua rules' indices
  std::vector<int> slot_;     // rule index → its row in a part's verdicts, or -1
  std::deque<std::unique_ptr<Part>> parts_;  // in group order
  size_t next_ = 0;           // the first group no part has
};

}  // namespace

// How many groups ahead evaluation asks for records (RecordSet::prefetch); measured at 1M.
constexpr size_t kPrefetchGroups = 8;

std::vector<ReconcileReport> evaluate_reconciles(const StackSpec& spec, const ParamValues& params, ScriptHost* host,
                                                 const std::vector<MappedInput>& inputs, TimeUs as_of, GroupSink& sink,
                                                 Progress* progress, const RunWindow& window, RunProfile* profile,
                                                 const Parallelism& parallel, ScriptPool* scripts) {
  std::optional<ScriptPool> own_pool;  // made when first needed: loading replicas costs a stack load each
  auto records_of = [&](const std::string& name) -> const RecordSet& {
    for (size_t i = 0; i < spec.systems.size(); ++i)
      if (spec.systems[i].name == name) return inputs[i].records;
    throw UserError("no system " + name);
  };
  std::vector<ReconcileReport> reports;
  std::string left_buf, right_buf;
  ChainKeys chains(spec);
  for (size_t rn = 0; rn < spec.reconciles.size(); ++rn) {
    const ReconcileSpec& rec = spec.reconciles[rn];
    const RecordSet& left = records_of(rec.left);
    const RecordSet& right = records_of(rec.right);
    std::vector<std::unique_ptr<CompiledRule>> rules;
    for (const auto& r : rec.rules) rules.push_back(compile_rule(r, rec, left.system(), right.system(), params));
    sink.begin_reconcile(rn, rec);

    std::optional<PhaseTimer> phase(std::in_place, "match " + rec.name);
    if (progress) progress->phase("matching " + rec.name);
    const auto match_started = ProfileClock::now();
    std::vector<ResolvedStrategy> strategies = plan_strategies(rec, left.system(), right.system(), params);
    const size_t threads = thread_count(parallel);
    MatchResult m = match_strategies(strategies, left, right, threads);
    NearestFields fit = nearest_fields(rec, left.system(), right.system(), params);
    if (rec.cardinality == Cardinality::OneToOne) pair_by_best_fit(m, left, right, fit);
    chains.rekey(rn, m, left);
    chains.remember(rn, m, right.size());
    std::string matched_by;
    NearestFinder nearest(m, left, right, fit, threads);
    RuleContext ctx{&rec, &left, &right, &m, &nearest, host, as_of};
    for (auto& r : rules) r->prepare(ctx);
    std::optional<RuleTally> tally;  // only when profiling: otherwise no clock is read per rule
    if (profile) {
      profile->matches.push_back({rec.name, elapsed_ns(match_started)});
      tally.emplace(rules.size());
    }
    GroupFacts facts(rec, left, right);
    // Per rule, per declared cause: how a group names the cause's keys, and the sign expected.
    std::vector<std::vector<std::pair<CauseKeys, std::string>>> causes(rec.rules.size());
    for (size_t k = 0; k < rec.rules.size(); ++k)
      for (const CauseSpec& c : rec.rules[k].causes)
        causes[k].emplace_back(CauseKeys(c, left.system(), right.system()), cause_expectation(spec, rec, c));
    if (window.active() && !facts.has_time())
      throw UserError(rec.loc.str() + ": a windowed run (--since/--until) needs the record time of reconcile '" +
                      rec.name + "': declare record_time = \"<time field>\" on system '" + rec.system_of_record + "'");
    std::optional<LuaAhead> ahead;
    if (has_lua_rules(rec) && m.groups.size() > parallel.groups_per_part && host) {
      if (threads > 1) {
        if (!scripts) scripts = &own_pool.emplace(host, threads);
        if (scripts->capacity() > 1)
          ahead.emplace(rec, rules, ctx, facts, window, *scripts, parallel.groups_per_part, profile != nullptr);
      }
    }
    RuleTally* tally_ptr = tally ? &*tally : nullptr;

    phase.emplace("evaluate and write " + rec.name);
    // The verdicts go to the sink group by group: writing is this phase too.
    if (progress)
      progress->phase((sink.writes() ? "evaluating and writing " : "evaluating ") + rec.name, "groups", m.groups.size());
    ReconcileReport rr;
    rr.name = rec.name;
    rr.left = rec.left;
    rr.right = rec.right;
    rr.system_of_record = rec.system_of_record;
    std::vector<Verdict> verdicts(rules.size());
    auto prefetch = [&](size_t gi, bool ids_only) {
      if (gi >= m.groups.size()) return;
      const MatchGroup& g = m.groups[gi];
      for (uint32_t r : m.left_of(g)) ids_only ? left.prefetch_id(r) : left.prefetch(r);
      for (uint32_t r : m.right_of(g)) ids_only ? right.prefetch_id(r) : right.prefetch(r);
    };
    for (size_t gi = 0; gi < m.groups.size(); ++gi) {
      const MatchGroup& g = m.groups[gi];
      prefetch(gi + 2 * kPrefetchGroups, true);  // the id's slot first, then what it points at
      prefetch(gi + kPrefetchGroups, false);
      if (window.active()) {
        TimeUs t = facts.time_of(g, m);
        if (t == INT64_MIN || !window.contains(t)) {
          ++rr.outside_window;
          continue;
        }
      }
      if (ahead) {
        for (size_t k = 0; k < rules.size(); ++k) {
          if (ahead->ahead(k)) {
            verdicts[k] = ahead->take(gi, k, tally_ptr);
          } else if (!tally) {
            evaluate_rule(*rules[k], g, ctx, verdicts[k]);
          } else {
            auto rule_started = ProfileClock::now();
            evaluate_rule(*rules[k], g, ctx, verdicts[k]);
            tally->add(k, elapsed_ns(rule_started));
          }
        }
      } else if (!tally) {
        for (size_t k = 0; k < rules.size(); ++k) evaluate_rule(*rules[k], g, ctx, verdicts[k]);
      } else {
        for (size_t k = 0; k < rules.size(); ++k) {
          auto rule_started = ProfileClock::now();
          evaluate_rule(*rules[k], g, ctx, verdicts[k]);
          tally->add(k, elapsed_ns(rule_started));
        }
      }
      std::string_view lids = join_ids(left, m.left_of(g), left_buf);
      std::string_view rids = join_ids(right, m.right_of(g), right_buf);
      const GroupOrigin* origin = m.origins.empty() ? nullptr : &m.origins[gi];
      matched_by.clear();
      if (origin && origin->strategy >= 0) {
        const ResolvedStrategy& s = strategies[static_cast<size_t>(origin->strategy)];
        CurrencyCode currency =
            !s.keyed && s.candidates.amount
                ? left.get(m.left_of(g)[0], static_cast<size_t>(s.candidates.amount->left)).currency
                : 0;
        matched_by = describe_origin(rec, *origin, currency);
      }
      if (!tally) {
        sink.group(rn, g.key, lids, rids, verdicts, origin, matched_by);
      } else {
        auto write_started = ProfileClock::now();
        sink.group(rn, g.key, lids, rids, verdicts, origin, matched_by);
        profile->write_ns += elapsed_ns(write_started);
      }
      ++rr.groups;
      for (size_t k = 0; k < rules.size(); ++k) {
        Verdict& v = verdicts[k];
        ++rr.outcomes[static_cast<size_t>(v.outcome)];
        if (v.outcome != Outcome::Pass && v.outcome != Outcome::Skip) {
          Finding& f = rr.findings.emplace_back(Finding{std::string(g.key), rec.rules[k].name, rec.rules[k].loc.str(),
                                                        std::string(lids), std::string(rids), v.outcome,
                                                        rec.rules[k].severity, std::move(v)});
          f.at = facts.time_of(g, m);
          facts.amounts_of(g, m, f);
          for (size_t c = 0; c < causes[k].size(); ++c) {
            const CauseSpec& declared = rec.rules[k].causes[c];
            f.causes.push_back({declared.reconcile, declared.rule, causes[k][c].first.of(g, m, left, right),
                                causes[k][c].second});
          }
        }
      }
      if (progress && (gi & 0xfff) == 0) progress->set(gi);  // the line's own thread draws it
    }
    if (tally) {
      if (ahead) ahead->finish(tally_ptr);  // the parts still held: the last one at least
      std::vector<std::string> names;
      for (const auto& r : rec.rules) names.push_back(r.name);
      profile->add_rules(rec.name, names, *tally);
    }
    reports.push_back(std::move(rr));
  }
  return reports;
}

TimeUs default_as_of(const std::vector<MappedInput>& inputs) {
  TimeUs t = latest_time(inputs);
  return t == INT64_MIN ? clock_now() : t;
}

RunReport run_stack(const RunOptions& options) {
  RunReport report;
  report.started_at = format_time_iso(clock_now());
  PreparedStack prepared = prepare_stack(options.stack_path, options.sets, options.params_file);
  const StackSpec& spec = prepared.loaded.spec;
  report.stack_name = spec.name;
  report.params = prepared.params.all();

  // connector → mapping → records; input errors stop here (exit 2)
  if (options.profile) report.profile.emplace();
  RunProfile* profile = report.profile ? &*report.profile : nullptr;
  // One pool for mapping and rules: each replica's stack load is paid once per run.
  std::optional<ScriptPool> scripts;
  const bool uses_lua = std::any_of(spec.systems.begin(), spec.systems.end(), maps_with_lua) ||
                        std::any_of(spec.reconciles.begin(), spec.reconciles.end(), has_lua_rules);
  const size_t threads = thread_count(options.parallel);
  if (uses_lua && threads > 1) scripts.emplace(prepared.loaded.host.get(), threads);
  ScriptPool* pool = scripts ? &*scripts : nullptr;
  Progress progress(options.progress);
  std::vector<MappedInput> inputs =
      map_all(spec, prepared.loaded.host.get(), profile, options.parallel, pool, &progress);
  TimeUs as_of = options.as_of ? *options.as_of : default_as_of(inputs);
  report.as_of = format_time_iso(as_of);

  report.db_path = options.db_path.empty() ? default_db_path(spec) : options.db_path;
  AuditLog log(report.db_path);
  auto iso_or_empty = [](const std::optional<TimeUs>& t) { return t ? format_time_iso(*t) : std::string(); };
  report.run_id = log.begin_run({spec.name, spec.dir, spec.digest, report.started_at, report.as_of,
                                 iso_or_empty(options.window.since), iso_or_empty(options.window.until),
                                 options.allow_other_stack},
                                prepared.params);
  try {
    progress.phase("recording the inputs and their rejected rows");
    for (auto& in : inputs) {
      log.add_input(in.stats, in.rejects);
      report.inputs.push_back(in.stats);
      report.rejects.insert(report.rejects.end(), in.rejects.begin(), in.rejects.end());
    }
    ExceptionTracker exceptions(log.db(), spec.name);
    AuditSink sink(log, spec, exceptions);
    report.reconciles = evaluate_reconciles(spec, prepared.params, prepared.loaded.host.get(), inputs, as_of, sink,
                                            &progress, options.window, profile, options.parallel, pool);
    // The findings hold what the seal and the report need: the records go before the
    // seal's page cache and exceptions take their memory (a third of a 5M run's peak), on
    // the core the audit writer no longer needs (unmapping them takes a while).
    auto records_freed = std::async(std::launch::async, [done = std::move(inputs)]() mutable { done.clear(); });
    progress.phase("sealing run " + std::to_string(report.run_id) + " and updating its exceptions");
    PhaseTimer timer("seal and exceptions");
    const auto seal_started = ProfileClock::now();
    report.seal = log.complete_run(format_time_iso(clock_now()), [&](Db& db) {
      report.exceptions = exceptions.apply(db, report.run_id, report.started_at, report.reconciles,
                                           options.window.active() ? nullptr : &spec);
    });
    if (profile) profile->seal_ns = elapsed_ns(seal_started);
  } catch (...) {
    progress.clear();  // before the messages about the failure
    try {
      log.fail_run(format_time_iso(clock_now()));
    } catch (const std::exception& e) {
      spdlog::error("could not mark run {} failed: {}", report.run_id, e.what());
    }
    throw;
  }
  progress.clear();  // before the alerts, whose warnings would land on its line
  report.counts = log.counts();
  // After the seal and the exceptions: an alert tells of what the audit log already holds.
  report.alerts = send_alerts(log.db(), spec, report.run_id);
  for (const auto& a : report.alerts)
    if (a.status != "delivered")
      spdlog::warn("alert {} was not delivered after {} attempts: {} (seam alerts retry)", a.alert, a.attempts,
                   a.last_error);
  return report;
}

}  // namespace seam
