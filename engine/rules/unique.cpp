// unique (within the group or the system, over one or several fields) and present.
#include "engine/rules/families.hpp"

#include <algorithm>
#include <unordered_map>

#include "engine/rules/rule_support.hpp"
#include "engine/util/result.hpp"

namespace seam {
namespace {

class Unique final : public CompiledRule {
 public:
  // `is_key`: the fields are the side's match key, so every record sharing the value is
  // already in this group and the group's own count answers the question, whatever the scope.
  Unique(const RuleSpec& r, std::vector<int> fields, bool is_key, int time_field, std::string field_names)
      : rule_(r), fields_(std::move(fields)), is_key_(is_key), time_field_(time_field), names_(std::move(field_names)) {}

  void prepare(const RuleContext& c) override {
    if (is_key_ || !rule_.system_scope) return;
    // Count every value once with views into the records (no copy per record); only
    // values held more than once get their holders listed, for the message.
    const RecordSet* rs = rule_.side == Side::Left ? c.left : c.right;
    std::unordered_map<std::string_view, uint32_t> counts;
    counts.reserve(rs->size());
    std::string scratch;
    auto stored = [&](uint32_t i) -> std::optional<std::string_view> {
      auto key = value_of(*rs, i, scratch);
      if (key && key->data() == scratch.data()) key = arena_.store(*key);  // non-text values: keep their text
      return key;
    };
    std::vector<std::optional<std::string_view>> keys(rs->size());
    for (uint32_t i = 0; i < rs->size(); ++i)
      if ((keys[i] = stored(i))) ++counts[*keys[i]];
    for (uint32_t i = 0; i < rs->size(); ++i)
      if (keys[i] && counts[*keys[i]] > 1) duplicates_[*keys[i]].push_back(i);
  }

  Verdict evaluate(const MatchGroup& g, const RuleContext& c) const override {
    SideRef s = side_of(rule_.side, g, c);
    if (s.rows.empty()) return skip_no(s);
    if (is_key_) return s.rows.size() > 1 ? duplicated(s, g.key, s.rows) : Verdict::pass();
    std::string scratch;
    if (rule_.system_scope) {
      for (uint32_t r : s.rows) {
        auto key = value_of(*s.rs, r, scratch);
        if (!key) continue;
        auto it = duplicates_.find(*key);
        if (it != duplicates_.end()) return duplicated(s, *key, it->second);
      }
      return Verdict::pass();
    }
    if (s.rows.size() < 2) return Verdict::pass();
    // Within the group: the first value held twice, in the group's record order.
    std::vector<std::pair<std::string, uint32_t>> seen;
    for (uint32_t r : s.rows) {
      auto key = value_of(*s.rs, r, scratch);
      if (!key) continue;
      seen.emplace_back(std::string(*key), r);
    }
    for (size_t i = 0; i < seen.size(); ++i) {
      std::vector<uint32_t> holders;
      for (size_t j = i; j < seen.size(); ++j)
        if (seen[j].first == seen[i].first) holders.push_back(seen[j].second);
      if (holders.size() > 1) return duplicated(s, seen[i].first, holders);
    }
    return Verdict::pass();
  }

 private:
  // The value the rule compares: one field's text, or several joined with " | "; nullopt
  // when a field is empty or missing (no value, so no duplicate).
  std::optional<std::string_view> value_of(const RecordSet& rs, uint32_t rec, std::string& scratch) const {
    if (fields_.size() == 1) {
      const Value& v = rs.get(rec, static_cast<size_t>(fields_[0]));
      if (!v.has_content()) return std::nullopt;
      if (v.kind == ValueKind::Text) return v.text();
      scratch = key_text(v);
      return std::string_view(scratch);
    }
    scratch.clear();
    for (size_t i = 0; i < fields_.size(); ++i) {
      const Value& v = rs.get(rec, static_cast<size_t>(fields_[i]));
      if (!v.has_content()) return std::nullopt;
      if (i) scratch += " | ";
      scratch += key_text(v);
    }
    return std::string_view(scratch);
  }
  // "external_ref 'R1005' appears 2 times in erp: CR-9005, CR-9006; CR-9006 (erp.ndjson:6)
  // repeats CR-9005 (erp.ndjson:5)": the duplicate is the later record, by record time, then line.
  Verdict duplicated(const SideRef& s, std::string_view value, std::span<const uint32_t> holders) const {
    // In input order: a paired group (pairing.hpp) holds its records pair by pair.
    std::vector<uint32_t> order(holders.begin(), holders.end());
    std::sort(order.begin(), order.end());
    std::string ids;
    for (size_t i = 0; i < order.size() && i < 10; ++i) ids += (i ? ", " : "") + std::string(s.rs->id(order[i]));
    if (order.size() > 10) ids += ", ... (" + std::to_string(order.size()) + " in all)";
    auto time_of = [&](uint32_t r) {
      if (time_field_ < 0) return int64_t{0};
      const Value& v = s.rs->get(r, static_cast<size_t>(time_field_));
      return v.kind == ValueKind::Time ? v.i : INT64_MAX;
    };
    std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      if (time_of(a) != time_of(b)) return time_of(a) < time_of(b);
      return s.rs->line(a) < s.rs->line(b);
    });
    auto where = [&](uint32_t r) { return record_where(*s.rs, r); };
    std::string which = where(order[1]) + " repeats " + where(order[0]);
    if (order.size() > 2) which += ", and " + std::to_string(order.size() - 2) + " more";
    return Verdict::make(Outcome::Fail,
                         names_ + " " + quote_for_message(value) + " appears " + std::to_string(holders.size()) +
                             " times in " + s.system + (rule_.system_scope || is_key_ ? "" : " in this group") + ": " +
                             ids + "; " + which,
                         "1 record", std::to_string(holders.size()) + " records");
  }

  const RuleSpec& rule_;
  std::vector<int> fields_;
  bool is_key_;
  int time_field_;  // the side's record_time field, -1 when none
  std::string names_;
  StringArena arena_;
  std::unordered_map<std::string_view, std::vector<uint32_t>> duplicates_;
};

class Present final : public CompiledRule {
 public:
  Present(const RuleSpec& r, int field) : rule_(r), field_(field) {}

  Verdict evaluate(const MatchGroup& g, const RuleContext& c) const override {
    SideRef s = side_of(rule_.side, g, c);
    if (s.rows.empty()) return skip_no(s);
    for (uint32_t r : s.rows) {
      const Value& v = s.rs->get(r, static_cast<size_t>(field_));
      if (v.has_content()) continue;
      return Verdict::make(Outcome::Fail,
                           std::string(s.system) + " " + std::string(s.rs->id(r)) + " has no " + rule_.field + " (" +
                               (v.is_missing() ? "missing" : "empty") + ")",
                           "a value", v.is_missing() ? "missing" : "empty");
    }
    return Verdict::pass();
  }

 private:
  const RuleSpec& rule_;
  int field_;
};

}  // namespace

std::unique_ptr<CompiledRule> compile_unique(const RuleSpec& rule, const ReconcileSpec& rec,
                                             const SystemSpec& left, const SystemSpec& right, const ParamValues& params) {
  const auto& key = rule.side == Side::Left ? rec.left_key : rec.right_key;
  const SystemSpec& sys = rule.side == Side::Left ? left : right;
  std::vector<std::string> names = rule.fields.empty() ? std::vector<std::string>{rule.field} : rule.fields;
  std::vector<int> fields;
  std::string joined;
  for (const auto& f : names) {
    fields.push_back(field_of(sys, f, rule, "its"));
    joined += (joined.empty() ? "" : "+") + f;
  }
  // The match key, when the reconciliation has one strategy: every record of the key is in the group.
  bool is_key = names == key && rec.strategies.size() <= 1;
  int time_field = sys.record_time_field.empty() ? -1 : sys.field_index(sys.record_time_field);
  return std::make_unique<Unique>(rule, std::move(fields), is_key, time_field, joined);
}

std::unique_ptr<CompiledRule> compile_present(const RuleSpec& rule, const ReconcileSpec& rec, const SystemSpec& left,
                                              const SystemSpec& right, const ParamValues& params) {
  return std::make_unique<Present>(rule, field_of(rule.side == Side::Left ? left : right, rule.field, rule, "its"));
}

}  // namespace seam
