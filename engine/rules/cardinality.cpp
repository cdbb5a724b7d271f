#include "engine/rules/cardinality.hpp"

#include <algorithm>

#include "engine/rules/rule_support.hpp"
#include "engine/util/result.hpp"

namespace seam {
namespace {

// Records named in one message: enough to find them, not a page per collision.
constexpr size_t kNamed = 10;

std::string records_text(size_t n, const char* system) {
  return std::to_string(n) + " " + system + (n == 1 ? " record" : " records");
}

// The side's records [from, to) in input order (a paired group holds them pair by pair).
std::string where_list(const SideRef& s, size_t from, size_t to) {
  std::vector<uint32_t> rows(s.rows.begin() + static_cast<std::ptrdiff_t>(from), s.rows.begin() + static_cast<std::ptrdiff_t>(to));
  std::sort(rows.begin(), rows.end());
  std::string out;
  for (size_t i = 0; i < rows.size() && i < kNamed; ++i) out += (i ? ", " : "") + record_where(*s.rs, rows[i]);
  if (rows.size() > kNamed) out += ", ... (" + std::to_string(rows.size()) + " in all)";
  return out;
}

class CardinalityRule final : public CompiledRule {
 public:
  explicit CardinalityRule(const RuleSpec& r) : rule_(r) {}

  Verdict evaluate(const MatchGroup& g, const RuleContext& c) const override {
    SideRef l = side_of(Side::Left, g, c), r = side_of(Side::Right, g, c);
    bool left_over = rule_.limit_left && l.rows.size() > 1, right_over = rule_.limit_right && r.rows.size() > 1;
    if (!left_over && !right_over) return Verdict::pass();
    const char* card = cardinality_name(c.reconcile->cardinality);
    std::string message = "key " + std::string(g.key) + ": ";
    std::string expected, actual;
    auto over = [&](const SideRef& s) {
      if (!expected.empty()) {
        message += "; ";
        expected += ", ";
        actual += ", ";
      }
      message += records_text(s.rows.size(), s.system) + " where " + card + " allows one: " +
                 where_list(s, 0, s.rows.size());
      expected += records_text(1, s.system);
      actual += records_text(s.rows.size(), s.system);
    };
    if (left_over) over(l);
    if (right_over) over(r);
    if (uint8_t how = c.match->pairing(g)) {
      size_t pairs = std::min(l.rows.size(), r.rows.size());
      message += how == MatchResult::kPaired
                     ? "; paired by closest amount, then time, then input order: "
                     : "; too many records to pair by best fit (" + std::to_string(l.rows.size()) + " x " +
                           std::to_string(r.rows.size()) + "), paired in input order: ";
      for (size_t i = 0; i < pairs && i < kNamed; ++i)
        message += (i ? ", " : "") + record_where(*l.rs, l.rows[i]) + " with " + record_where(*r.rs, r.rows[i]);
      if (pairs > kNamed) message += ", ... (" + std::to_string(pairs) + " pairs)";
      const SideRef& longer = l.rows.size() > pairs ? l : r;
      if (longer.rows.size() > pairs)
        message += "; no partner: " + std::string(longer.system) + " " + where_list(longer, pairs, longer.rows.size());
    }
    return Verdict::make(Outcome::Fail, message, expected, actual);
  }

 private:
  const RuleSpec& rule_;
};

}  // namespace

std::optional<RuleSpec> cardinality_rule(const ReconcileSpec& rec) {
  bool limit_left = !rec.left_many(), limit_right = !rec.right_many();
  for (const auto& r : rec.rules) {
    if (r.kind != RuleKind::Unique || r.system_scope) continue;
    // unique on the side's match key: the group's own count, what this rule would check.
    const auto& key = r.side == Side::Left ? rec.left_key : rec.right_key;
    std::vector<std::string> names = r.fields.empty() ? std::vector<std::string>{r.field} : r.fields;
    if (names != key || rec.strategies.size() > 1) continue;
    (r.side == Side::Left ? limit_left : limit_right) = false;
  }
  if (!limit_left && !limit_right) return std::nullopt;
  for (const auto& r : rec.rules)
    if (r.name == "cardinality")
      throw UserError(r.loc.str() + ": rule name 'cardinality' is taken by the check seam adds for reconcile '" +
                      rec.name + "''s declared cardinality (" + cardinality_name(rec.cardinality) +
                      "); give this rule another name = \"...\"");
  RuleSpec spec;
  spec.name = "cardinality";
  spec.kind = RuleKind::Cardinality;
  spec.severity = Severity::High;
  spec.limit_left = limit_left;
  spec.limit_right = limit_right;
  std::string sides = limit_left && limit_right ? "one " + rec.left + " and one " + rec.right + " record"
                      : limit_left             ? "one " + rec.left + " record"
                                               : "one " + rec.right + " record";
  spec.doc = "at most " + sides + " per key (cardinality " + cardinality_name(rec.cardinality) + ")";
  spec.loc = rec.loc;
  return spec;
}

std::unique_ptr<CompiledRule> compile_cardinality(const RuleSpec& rule) { return std::make_unique<CardinalityRule>(rule); }

}  // namespace seam
