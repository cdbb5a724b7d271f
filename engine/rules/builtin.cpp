#include "engine/rules/builtin.hpp"

#include <memory>
#include <new>

#include "engine/rules/cardinality.hpp"
#include "engine/rules/families.hpp"
#include "engine/util/result.hpp"

namespace seam {
namespace {

class LuaRule final : public CompiledRule {
 public:
  explicit LuaRule(const RuleSpec& r) : rule_(r) {}
  Verdict evaluate(const MatchGroup& g, const RuleContext& c) const override {
    GroupView view{c.reconcile, g.key, c.left, c.match->left_of(g), c.right, c.match->right_of(g)};
    return c.host->run_rule(rule_.lua_fn, view);
  }

 private:
  const RuleSpec& rule_;
};

}  // namespace

// Built where it is kept: assigning the returned Verdict moved its four strings and
// destroyed a temporary, six million times at a million groups.
void evaluate_rule(const CompiledRule& rule, const MatchGroup& g, const RuleContext& ctx, Verdict& out) {
  std::destroy_at(&out);
  try {
    ::new (static_cast<void*>(&out)) Verdict(rule.evaluate(g, ctx));  // C++17: no temporary
    return;
  } catch (const std::exception& e) {
    ::new (static_cast<void*>(&out)) Verdict();  // noexcept: an object again before anything else can throw
    out = Verdict::make(Outcome::Error, std::string("rule failed: ") + e.what());
  } catch (...) {
    ::new (static_cast<void*>(&out)) Verdict();
    throw;
  }
}

std::unique_ptr<CompiledRule> compile_rule(const RuleSpec& rule, const ReconcileSpec& rec, const SystemSpec& left,
                                           const SystemSpec& right, const ParamValues& params) {
  switch (rule.kind) {
    case RuleKind::ExistsIn: return compile_exists_in(rule, rec, left, right, params);
    case RuleKind::AmountEqual: return compile_amount_equal(rule, rec, left, right, params);
    case RuleKind::QuantityEqual: return compile_quantity_equal(rule, rec, left, right, params);
    case RuleKind::LedgerEqual: return compile_ledger(rule, rec, left, right, params);
    case RuleKind::LowStock: return compile_low_stock(rule, rec, left, right, params);
    case RuleKind::ValueMap:
    case RuleKind::Equal: return compile_field_equal(rule, rec, left, right, params);
    case RuleKind::Within: return compile_within(rule, rec, left, right, params);
    case RuleKind::SamePeriod: return compile_same_period(rule, rec, left, right, params);
    case RuleKind::ValueIn:
    case RuleKind::ValueNotIn: return compile_value_in(rule, rec, left, right, params);
    case RuleKind::Unique: return compile_unique(rule, rec, left, right, params);
    case RuleKind::Present: return compile_present(rule, rec, left, right, params);
    case RuleKind::Cardinality: return compile_cardinality(rule);
    case RuleKind::Lua: return std::make_unique<LuaRule>(rule);
  }
  throw UserError(rule.loc.str() + ": unknown rule kind");
}

NearestFields nearest_fields(const ReconcileSpec& rec, const SystemSpec& left, const SystemSpec& right,
                             const ParamValues& params) {
  NearestFields f;
  for (const auto& r : rec.rules) {
    if (r.kind == RuleKind::AmountEqual && f.left_amount < 0) {
      f.left_amount = left.field_index(r.left_field);
      f.right_amount = right.field_index(r.right_field);
    }
    if (r.kind == RuleKind::Within && f.left_time < 0) {
      f.left_time = left.field_index(r.left_field);
      f.right_time = right.field_index(r.right_field);
    }
  }
  return f;
}

}  // namespace seam
