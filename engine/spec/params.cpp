#include "engine/spec/params.hpp"

#include "engine/util/text.hpp"

namespace seam {

namespace {
bool less(const Decimal& a, const Decimal& b) {
  int s = std::max(a.scale, b.scale);
  return a.to_scale(s) < b.to_scale(s);
}
}  // namespace

Result<ParamValue> parse_param_value(const ParamSpec& spec, const std::string& text) {
  ParamValue v{spec.type, text, {}, ""};
  std::string_view t = trim(text);
  switch (spec.type) {
    case ParamType::Text: return v;
    case ParamType::Boolean:
      if (t == "true" || t == "false") {
        v.text = std::string(t);
        v.number.units = t == "true";
        return v;
      }
      return err("param '" + spec.name + "' expects true or false, found " + quote_for_message(text));
    case ParamType::Integer:
    case ParamType::Number:
    case ParamType::Money: {
      auto d = parse_decimal(t);
      if (!d) return err("param '" + spec.name + "' expects " + (spec.type == ParamType::Integer ? "a whole number" : "a number") +
                         ", found " + quote_for_message(text));
      if (spec.type == ParamType::Integer && d->scale != 0)
        return err("param '" + spec.name + "' expects a whole number, found " + quote_for_message(text));
      v.number = *d;
      v.text = d->str();
      if (spec.min && less(*d, *spec.min))
        return err("param '" + spec.name + "' must be at least " + spec.min->str() + ", found " + v.text);
      if (spec.max && less(*spec.max, *d))
        return err("param '" + spec.name + "' must be at most " + spec.max->str() + ", found " + v.text);
      return v;
    }
  }
  return err("unknown param type");
}

ParamValues ParamValues::resolve(const StackSpec& stack,
                                 const std::vector<std::pair<std::string, std::string>>& overrides,
                                 const std::vector<ParamSetting>& file) {
  ParamValues out;
  for (const auto& p : stack.params) {
    auto v = parse_param_value(p, p.default_text);
    if (!v) throw UserError(p.loc.str() + ": default of " + v.error());
    v.value().source = "default";
    out.values_[p.name] = v.value();
  }
  std::vector<ParamSetting> settings = file;
  for (const auto& [name, text] : overrides) settings.push_back({name, text, "--set"});
  for (const auto& s : settings) {
    // "--set name=value: ..." or "thresholds.lua:3: ..."
    std::string where = s.source == "--set" ? "--set " + s.name + "=" + s.value : s.source;
    const ParamSpec* p = stack.find_param(s.name);
    if (!p) {
      std::vector<std::string> names;
      for (const auto& q : stack.params) names.push_back(q.name);
      std::string hint = did_you_mean(s.name, names);
      throw UserError(where + ": the stack declares no param '" + s.name + "'" +
                      (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
    }
    auto v = parse_param_value(*p, s.value);
    if (!v) throw UserError(where + ": " + v.error() + " (declared at " + p->loc.str() + ")");
    v.value().source = s.source;
    out.values_[s.name] = v.value();
  }
  return out;
}

Decimal ParamValues::number(const NumberRef& ref, const SourceLoc& where) const {
  if (ref.param.empty()) return ref.literal;
  auto it = values_.find(ref.param);
  if (it == values_.end()) throw UserError(where.str() + ": param '" + ref.param + "' is not declared (declare it with param(\"" + ref.param + "\", {...}))");
  return it->second.number;
}

}  // namespace seam
