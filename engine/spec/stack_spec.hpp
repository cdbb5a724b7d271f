#pragma once
// StackSpec: what a client stack declares, as plain C++ structs. bindings/ builds it
// from stack.lua; nothing here knows about Lua. Lua functions appear as opaque
// handles (`lua_fn`) that the ScriptHost resolves.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/value/money.hpp"
#include "engine/value/units.hpp"

namespace seam {

struct SourceLoc {
  std::string file;
  int line = 0;
  std::string str() const { return file + ":" + std::to_string(line); }
};

enum class ParamType { Integer, Number, Money, Text, Boolean };
const char* param_type_name(ParamType t);

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::Number;
  std::string default_text;  // canonical text of the default value
  std::optional<Decimal> min, max;
  std::string unit, doc;
  SourceLoc loc;
};

// A threshold written either as a literal or as `param "name"`.
struct NumberRef {
  bool set = false;
  std::string param;  // non-empty when it refers to a param
  Decimal literal;
  std::string str() const { return !set ? "" : param.empty() ? literal.str() : "param(" + param + ")"; }
};

struct ConnectorSpec {
  std::string kind;  // "csv", "ndjson", ... (see connectors/registry)
  std::string path;  // resolved against the stack folder
  std::map<std::string, std::string> options;
  SourceLoc loc;
};

enum class FieldKind { Column, Money, Time, MapValues, Constant, Extract, Integer, Quantity, Concat, Lua };
enum class TextCase : uint8_t { Keep, Lower, Upper };

// column_by = { field = "type", columns = { LOAD = "load.amount", REDEEM = "redeem.amount" },
// negate = { "REDEEM" } }: the column read is chosen by another field's value, and the
// values listed in `negate` flip the sign (Square's <type>_activity_details).
struct ColumnBy {
  std::string field;
  std::map<std::string, std::string> columns;  // selector value -> column
  std::vector<std::string> negate;
  bool set() const { return !field.empty(); }
};

struct FieldSpec {
  std::string name;
  FieldKind kind = FieldKind::Column;
  std::string column;  // source column (CSV header) or path (NDJSON "a.b[0].c")
  // money
  std::string currency, currency_column;
  MoneyFormat money_format;
  // time
  std::string time_format, zone;
  // map_values
  std::map<std::string, std::string> map;
  std::optional<std::string> map_default;
  // constant / extract
  std::string constant, regex;
  // quantity: in the unit given, or the one in unit_column; per-SKU conversions look up
  // the SKU in sku_column
  std::string unit, unit_column, sku_column;
  // Declared ops, run natively (engine/mapping/mapper.cpp). `columns`: the first present,
  // non-empty one (coalesce), or for concat the parts joined by `separator`.
  std::vector<std::string> columns;
  std::string separator;
  std::vector<std::string> null_if;         // sentinels meaning no value: trimmed, ASCII case ignored
  std::optional<std::string> default_text;  // read when the value is missing or empty (not map_values)
  bool negate = false, abs = false;         // money, quantity, integer: abs first, then negate
  TextCase text_case = TextCase::Keep;      // text, concat
  bool trim = false;                        // text, concat
  std::string debit_column, credit_column;  // money from a pair of columns
  ColumnBy column_by;
  int lua_fn = -1;
  bool required = false;  // set for ids and match keys: a row without it is rejected
  SourceLoc loc;
  // "column 'Amount'", "columns 'A', 'B'", "debit 'Dr' / credit 'Cr'": where the value came from.
  std::string source_text() const;
};

// One condition of a system's `only`: the field's value is one of `values`, or matches
// the regex `matches` (a PCRE2 search).
struct OnlyCondition {
  std::string field;
  std::vector<std::string> values;
  std::string matches;
};

struct SystemSpec {
  std::string name;
  ConnectorSpec source;
  std::vector<FieldSpec> fields;  // sorted by name: declaration order is not kept by Lua tables
  std::string id_field;           // field naming a record in verdicts; empty = source line
  // When a record happened (windowed runs, exception periods) and what money it moves
  // (variance totals). Optional; amount falls back to the reconciliation's amount_equal field.
  std::string record_time_field, amount_field;
  UnitTable units;  // the stack's, copied here for quantity fields
  // only = { field = "type", values = { "load" } }, or { all = {...} } / { any = {...} } of
  // several such conditions: the records this system keeps (one export holding several
  // kinds of record); the others are counted as skipped.
  std::vector<OnlyCondition> only;
  bool only_any = false;  // any condition keeps a record; else all must hold
  SourceLoc loc;
  int field_index(const std::string& field) const;  // -1 when undeclared
  std::vector<std::string> field_names() const;
  // "which system 'erp' does not declare (did you mean 'amount'?)": the end of every
  // message about a field that is not there.
  std::string not_declared(const std::string& field) const;
};

enum class Side { Left, Right };
const char* side_name(Side s);

// How records that share no key are paired (engine/match/candidates.hpp runs them).
enum class ToleranceBase { Left, Right, Larger, Smaller };  // what a percentage is of
enum class TimeDirection { Either, RightAfter, RightBefore };
enum class ReferenceMode { Equal, Contains, Similar };
enum class SimilarityMethod { Levenshtein, JaroWinkler };
const char* tolerance_base_name(ToleranceBase b);

// How a key or reference is compared: after trimming, in one case, without spaces or
// leading zeros, or only the part a regex captures (group 1, else the whole match).
struct ReferenceNormalize {
  bool ignore_case = false, trim = true, remove_spaces = false, strip_leading_zeros = false;
  std::string regex;
  bool any() const { return ignore_case || remove_spaces || strip_leading_zeros || !regex.empty(); }
};

// Cardinality is not declared as a rule: seam adds it for the cardinality a reconciliation
// declares (engine/rules/cardinality.hpp).
enum class RuleKind { ExistsIn, AmountEqual, QuantityEqual, LedgerEqual, LowStock, ValueMap, Equal, Within, Unique, Present, ValueIn, ValueNotIn, SamePeriod, Cardinality, Lua };
const char* rule_kind_name(RuleKind k);

enum class Severity { Info, Low, Medium, High, Critical };
const char* severity_name(Severity s);
std::optional<Severity> parse_severity(const std::string& s);

// One declared root cause of a rule's failure: that rule's failure in that reconciliation
// (any of its rules when `rule` is empty), on the same key, or with `via`, on the keys the
// group's records hold in field `via` (of the left or right records, or of both when
// `via_side` is empty).
struct CauseSpec {
  std::string reconcile, rule;
  std::string via, via_side;
  // How a cause must move the money to explain this failure: "same_sign", "opposite_sign",
  // or "any" (no amount check); empty: derived from the systems of record's sides
  // (cause_expectation, engine/run/causes.hpp).
  std::string explains;
};

struct RuleSpec {
  std::string name;
  RuleKind kind = RuleKind::Lua;
  Severity severity = Severity::Medium;
  std::string doc;
  Side side = Side::Right;                     // exists_in, unique, present
  std::string field, left_field, right_field;  // the fields the rule reads
  std::vector<std::string> fields;             // unique over several fields together
  bool system_scope = false;                   // unique across the whole system, not the group
  bool limit_left = false, limit_right = false;  // cardinality: the sides held to one record per group
  ToleranceBase tolerance_base = ToleranceBase::Left;  // amount_equal: what tolerance_pct is of
  bool ignore_case = false, trim = false;      // equal, value_map, value_in: how text compares
  std::vector<std::string> values;             // value_in, value_not_in
  // within: minutes (or calendar days in `zone`) at most, min at least, in a direction,
  // for each pair of records or between the group's earliest or latest times.
  NumberRef min_minutes, min_days;  // and `days` (shared with low_stock)
  std::string zone;
  TimeDirection direction = TimeDirection::Either;
  std::string anchor = "each";
  std::string period;                          // same_period: day, month, quarter or year
  std::string since_field;                     // exists_in: when the record appeared
  std::string left_time, right_time;           // ledger_equal: the order of each side's entries
  std::string left_entry, right_entry;         // ledger_equal: entry ids that pair entries
  NumberRef window_minutes;                    // ledger_equal: how far apart paired entries may be
  // low_stock: stock on `side`.`field`; sales quantities and times on the other side
  std::string sales_field, sales_time;
  NumberRef days, factor;
  // caused_by: this rule's failure on a key may be a consequence of failures elsewhere (a
  // card balance off because a load is missing, or a redemption posted twice), one entry
  // per reconciliation that can cause it, in declaration order.
  std::vector<CauseSpec> causes;
  NumberRef grace_minutes, tolerance, tolerance_pct, minutes;
  std::optional<bool> sum_left, sum_right;     // amount_equal; default follows the cardinality
  std::map<std::string, std::string> map;      // value_map
  int lua_fn = -1;
  std::string definition;  // canonical text of the declaration (Lua rules: their source)
  // Params the rule reads: its thresholds, and for a Lua rule each params.NAME in its source.
  std::vector<std::string> params_used() const;
  std::string version;     // digest of `definition`
  SourceLoc loc;
};

// One way of forming match groups. A reconciliation tries its strategies in declaration
// order; a record one strategy matched is not offered to the next.
struct MatchStrategySpec {
  std::string name;
  bool keyed = true;  // equal keys (a hash join), or candidates found by the criteria below
  std::vector<std::string> left_key, right_key;
  ReferenceNormalize key_normalize;
  // amount = { left = ..., right = ..., tolerance = "0.05", tolerance_pct = "1", base = "larger" }
  std::string amount_left, amount_right;
  NumberRef tolerance, tolerance_pct;
  ToleranceBase base = ToleranceBase::Left;
  // time = { left = ..., right = ..., min = 0, max = 3, unit = "days", zone = "...", direction = "after" }
  std::string time_left, time_right;
  NumberRef time_min, time_max;
  std::string time_unit = "minutes";  // minutes, hours, or days (calendar days in `zone`)
  std::string zone = "UTC";
  TimeDirection direction = TimeDirection::Either;
  // reference = { left = ..., right = ..., equal | contains | similarity = 0.9, method = "jaro_winkler", ... }
  std::string ref_left, ref_right;
  ReferenceNormalize ref_normalize;
  ReferenceMode ref_mode = ReferenceMode::Equal;
  SimilarityMethod method = SimilarityMethod::JaroWinkler;
  NumberRef threshold;
  int64_t max_candidates = 10'000;
  // sum = "right" (or "left"): one record against several of that side adding up to it
  // (engine/match/sums.hpp), at most max_records of them.
  std::string sum;
  int64_t max_records = 5;
  std::string definition;  // canonical text, recorded with each run
  SourceLoc loc;
};

enum class Cardinality { OneToOne, OneToMany, ManyToOne, ManyToMany };
const char* cardinality_name(Cardinality c);

struct ReconcileSpec {
  std::string name, left, right;
  std::string system_of_record;  // the system that holds the truth; the left one unless declared
  std::vector<std::string> left_key, right_key;  // the first keyed strategy's (empty when none)
  std::vector<MatchStrategySpec> strategies;     // at least one
  Cardinality cardinality = Cardinality::OneToOne;
  // chain = "an earlier reconcile": this one continues from that one's right system (its left
  // system), and a group whose left records that reconcile matched to a head is known by the
  // head's key, so one refund's story across storefront -> processor -> ERP is one key.
  std::string chain;
  std::string key_by;  // "left": groups are known by their first left record's id, not the match key
  std::vector<RuleSpec> rules;
  SourceLoc loc;
  bool left_many() const { return cardinality == Cardinality::ManyToOne || cardinality == Cardinality::ManyToMany; }
  bool right_many() const { return cardinality == Cardinality::OneToMany || cardinality == Cardinality::ManyToMany; }
};

// Something legal but probably wrong, found by `seam check` (file:line: warning: ...).
struct Warning {
  SourceLoc loc;
  std::string message;
  std::string str() const { return loc.str() + ": warning: " + message; }
};

// alert "name" { to = ndjson_file/command/webhook { ... }, min_severity = ... }: where new
// exceptions go at the end of a run.
struct AlertSpec {
  std::string name;
  std::string kind;                // ndjson_file, command, webhook
  std::string target;              // path, program or URL
  std::vector<std::string> argv;   // command only
  Severity min_severity = Severity::High;
  int attempts = 3, backoff_ms = 1000, timeout_seconds = 10;
  SourceLoc loc;
};

struct StackSpec {
  std::string name;
  std::string dir;     // the stack folder
  std::string file;    // stack.lua as named in messages
  std::string digest;  // over every Lua source the stack loaded
  std::vector<ParamSpec> params;
  std::vector<SystemSpec> systems;
  std::vector<ReconcileSpec> reconciles;
  std::vector<AlertSpec> alerts;
  UnitTable units;
  std::map<std::string, int> currencies;  // currencies { BTC = 8 }: codes ISO 4217 does not have
  std::string accounting_zone;            // accounting_zone "America/New_York" (empty: UTC)
  std::vector<std::pair<std::string, std::string>> sources;  // every Lua file loaded: name, text
  std::vector<Warning> load_warnings;                          // found while loading (shadowed builtins)
  const SystemSpec* find_system(const std::string& name) const;
  const ParamSpec* find_param(const std::string& name) const;
};

}  // namespace seam
