#include "engine/run/profile.hpp"

#include <cstdio>

namespace seam {

void RuleTally::merge(const RuleTally& other) {
  if (ns.size() < other.ns.size()) ns.resize(other.ns.size(), 0), calls.resize(other.calls.size(), 0);
  for (size_t k = 0; k < other.ns.size(); ++k) {
    ns[k] += other.ns[k];
    calls[k] += other.calls[k];
  }
}

void RunProfile::add_rules(const std::string& reconcile, const std::vector<std::string>& names,
                           const RuleTally& tally) {
  for (size_t k = 0; k < names.size() && k < tally.ns.size(); ++k)
    rules.push_back({reconcile, names[k], tally.ns[k], tally.calls[k]});
}

namespace {

std::string ms(int64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f ms", static_cast<double>(ns) / 1e6);
  return buf;
}

}  // namespace

std::string RunProfile::render() const {
  std::string out;
  char buf[64];
  for (const auto& m : mappings) {
    double seconds = static_cast<double>(m.ns) / 1e9;
    std::snprintf(buf, sizeof buf, "%.0f", seconds > 0 ? static_cast<double>(m.rows) / seconds : 0.0);
    out += "profile: map " + m.system + ": " + ms(m.ns) + " wall, " + std::to_string(m.rows) + " rows, " + buf +
           " rows/s\n";
  }
  for (const auto& m : matches) out += "profile: match " + m.reconcile + ": " + ms(m.ns) + "\n";
  for (const auto& r : rules) {
    std::snprintf(buf, sizeof buf, "%.2f",
                  r.calls ? static_cast<double>(r.ns) / 1e3 / static_cast<double>(r.calls) : 0.0);
    out += "profile: rule " + r.reconcile + " / " + r.rule + ": " + ms(r.ns) + ", " + std::to_string(r.calls) +
           (r.calls == 1 ? " call, " : " calls, ") + buf + " \xC2\xB5s/call\n";
  }
  out += "profile: write: " + ms(write_ns) + "\n";
  out += "profile: seal: " + ms(seal_ns) + "\n";
  return out;
}

}  // namespace seam
