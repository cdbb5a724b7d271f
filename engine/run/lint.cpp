#include "engine/run/lint.hpp"

#include <algorithm>
#include <cctype>

#include "engine/run/causes.hpp"
#include "engine/util/text.hpp"

namespace seam {
namespace {

bool ident(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Whether `text` mentions params.NAME or params["NAME"] as a whole word.
bool mentions_param(const std::string& text, const std::string& name) {
  for (const std::string& form : {"params." + name, "params[\"" + name + "\"]", "params['" + name + "']"}) {
    for (size_t at = text.find(form); at != std::string::npos; at = text.find(form, at + 1)) {
      bool starts = at == 0 || !ident(text[at - 1]);
      size_t end = at + form.size();
      bool ends = end >= text.size() || !ident(text[end]) || form.back() == ']';
      if (starts && ends) return true;
    }
  }
  return false;
}

// Names read as g.l.NAME / g.r.NAME in a Lua rule's source, with the side.
std::vector<std::pair<char, std::string>> group_fields(const std::string& src) {
  std::vector<std::pair<char, std::string>> out;
  for (size_t at = src.find("g."); at != std::string::npos; at = src.find("g.", at + 1)) {
    if (at > 0 && ident(src[at - 1])) continue;
    size_t p = at + 2;
    if (p + 1 >= src.size() || (src[p] != 'l' && src[p] != 'r') || src[p + 1] != '.') continue;
    char side = src[p];
    std::string name;
    for (p += 2; p < src.size() && ident(src[p]); ++p) name.push_back(src[p]);
    if (!name.empty()) out.emplace_back(side, name);
  }
  return out;
}

}  // namespace

std::vector<Warning> lint_stack(const StackSpec& spec) {
  std::vector<Warning> out = spec.load_warnings;
  for (const auto& p : spec.params) {
    bool used = false;
    for (const auto& rec : spec.reconciles)
      for (const auto& r : rec.rules) {
        auto names = r.params_used();
        used = used || std::find(names.begin(), names.end(), p.name) != names.end();
      }
    // Match strategies read params too (a date window, a fee percentage).
    for (const auto& rec : spec.reconciles)
      for (const auto& s : rec.strategies)
        for (const NumberRef* ref : {&s.tolerance, &s.tolerance_pct, &s.time_min, &s.time_max, &s.threshold})
          used = used || ref->param == p.name;
    for (const auto& [file, text] : spec.sources) used = used || mentions_param(text, p.name);
    if (!used) out.push_back({p.loc, "param '" + p.name + "' is declared but nothing reads it"});
  }
  for (const auto& sys : spec.systems) {
    bool reconciled = false;
    for (const auto& rec : spec.reconciles) reconciled = reconciled || rec.left == sys.name || rec.right == sys.name;
    if (!reconciled)
      out.push_back({sys.loc, "system '" + sys.name + "' is never reconciled (its input is still read and counted)"});
  }
  for (const auto& rec : spec.reconciles) {
    const SystemSpec* left = spec.find_system(rec.left);
    const SystemSpec* right = spec.find_system(rec.right);
    if (!left || !right) continue;
    for (const auto& r : rec.rules) {
      if (r.kind != RuleKind::Lua) continue;
      std::vector<std::string> reported;
      for (const auto& [side, name] : group_fields(r.definition)) {
        const SystemSpec& sys = side == 'l' ? *left : *right;
        if (name[0] == '_' || sys.field_index(name) >= 0) continue;
        if (std::find(reported.begin(), reported.end(), name) != reported.end()) continue;
        reported.push_back(name);
        out.push_back({r.loc, "rule '" + r.name + "' reads g." + side + "." + name + ", " + sys.not_declared(name)});
      }
    }
  }
  auto causes = lint_causes(spec);
  out.insert(out.end(), causes.begin(), causes.end());
  return out;
}

}  // namespace seam
