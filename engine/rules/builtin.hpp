#pragma once
// Rules compiled once per run: field names resolved to indices, params to numbers.
// Built-in rules evaluate natively; a Lua rule crosses into the ScriptHost once per group.
#include <memory>
#include <unordered_map>
#include <vector>

#include "engine/match/matcher.hpp"
#include "engine/match/nearest.hpp"
#include "engine/rules/verdict.hpp"
#include "engine/spec/params.hpp"
#include "engine/script/script_host.hpp"

namespace seam {

struct RuleContext {
  const ReconcileSpec* reconcile = nullptr;
  const RecordSet* left = nullptr;
  const RecordSet* right = nullptr;
  const MatchResult* match = nullptr;
  const NearestFinder* nearest = nullptr;
  ScriptHost* host = nullptr;
  TimeUs as_of = 0;  // "now" for lag windows: --as-of, else the latest time in the inputs
};

class CompiledRule {
 public:
  virtual ~CompiledRule() = default;
  virtual Verdict evaluate(const MatchGroup& g, const RuleContext& ctx) const = 0;
  // Called once the records are loaded, before any group (e.g. to count duplicates).
  virtual void prepare(const RuleContext& ctx) {}
};

// The rule's verdict for one group, in `out`; a rule that throws gets an error verdict (a
// rule must never take the run down).
void evaluate_rule(const CompiledRule& rule, const MatchGroup& g, const RuleContext& ctx, Verdict& out);

// Throws UserError (with the rule's file:line) when the rule reads a field its system
// does not declare, of the wrong type, or a param that does not exist. Needs no data,
// so `seam check` calls it too.
std::unique_ptr<CompiledRule> compile_rule(const RuleSpec& rule, const ReconcileSpec& rec, const SystemSpec& left,
                                           const SystemSpec& right, const ParamValues& params);

// Which money and time fields the reconcile's rules compare, for nearest-candidate hints.
NearestFields nearest_fields(const ReconcileSpec& rec, const SystemSpec& left, const SystemSpec& right,
                             const ParamValues& params);

}  // namespace seam
