#include "engine/run/chains.hpp"

#include <optional>
#include <unordered_set>

#include "engine/util/result.hpp"

namespace seam {
namespace {

int index_of(const StackSpec& spec, const std::string& name) {
  for (size_t i = 0; i < spec.reconciles.size(); ++i)
    if (spec.reconciles[i].name == name) return static_cast<int>(i);
  return -1;
}

}  // namespace

void validate_chains(const StackSpec& spec) {
  for (size_t i = 0; i < spec.reconciles.size(); ++i) {
    const ReconcileSpec& r = spec.reconciles[i];
    if (r.key_by == "left" && spec.find_system(r.left) && spec.find_system(r.left)->id_field.empty())
      throw UserError(r.loc.str() + ": reconcile '" + r.name + "' has key_by = \"left\", but system '" + r.left +
                      "' declares no id = \"<field>\" to key its groups by");
    if (r.chain.empty()) continue;
    int from = index_of(spec, r.chain);
    std::string where = r.loc.str() + ": reconcile '" + r.name + "' chains from '" + r.chain + "'";
    if (from < 0) throw UserError(where + ", which is not declared; chain names an earlier reconcile");
    if (static_cast<size_t>(from) >= i)
      throw UserError(where + ", which is declared " + (static_cast<size_t>(from) == i ? "as itself" : "after it") +
                      "; declare the hop it continues from first");
    const ReconcileSpec& prev = spec.reconciles[static_cast<size_t>(from)];
    if (prev.right != r.left)
      throw UserError(where + ", whose right system is '" + prev.right + "', but its own left system is '" + r.left +
                      "': a chain continues from the previous hop's right system (left = \"" + prev.right + "\")");
  }
}

ChainKeys::ChainKeys(const StackSpec& spec)
    : by_left_(spec.reconciles.size(), 0),
      from_(spec.reconciles.size(), -1),
      needed_(spec.reconciles.size(), 0),
      head_of_right_(spec.reconciles.size()) {
  for (size_t i = 0; i < spec.reconciles.size(); ++i) {
    by_left_[i] = spec.reconciles[i].key_by == "left";
    if (spec.reconciles[i].chain.empty()) continue;
    from_[i] = index_of(spec, spec.reconciles[i].chain);
    if (from_[i] >= 0) needed_[static_cast<size_t>(from_[i])] = 1;
  }
}

void ChainKeys::rekey(size_t rn, MatchResult& m, const RecordSet& left) {
  const bool chained = from_[rn] >= 0 && !head_of_right_[static_cast<size_t>(from_[rn])].empty();
  if (!by_left_[rn] && !chained) return;
  // What each group would be known by; nullopt keeps its own key.
  auto wanted = [&](const MatchGroup& g) -> std::optional<std::string_view> {
    if (!g.left_count) return std::nullopt;
    uint32_t first = m.left_of(g)[0];
    if (chained)
      if (std::string_view head = head_of_right_[static_cast<size_t>(from_[rn])][first]; !head.empty()) return head;
    if (by_left_[rn]) return left.id(first);
    return std::nullopt;
  };
  // A key names one group of a reconciliation (exceptions are keyed by it): groups keeping
  // their own key hold it first; a later group that would take a key already held (two
  // captures of one refund in separate groups, two left records with one id) is known by
  // both, "R1 / P2", so every group stays apart and its head is still in its key.
  std::unordered_set<std::string_view> used;
  std::vector<std::optional<std::string_view>> want(m.groups.size());
  for (size_t i = 0; i < m.groups.size(); ++i)
    if (!(want[i] = wanted(m.groups[i]))) used.insert(m.groups[i].key);
  for (size_t i = 0; i < m.groups.size(); ++i) {
    if (!want[i]) continue;
    MatchGroup& g = m.groups[i];
    std::string_view key = *want[i];
    if (used.count(key)) {
      std::string both = std::string(key) + " / " + std::string(g.key);
      for (int n = 2; used.count(both); ++n) both = std::string(key) + " / " + std::string(g.key) + " #" + std::to_string(n);
      key = keys_.store(both);
    }
    used.insert(key);
    g.key = key;
  }
}

void ChainKeys::remember(size_t rn, const MatchResult& m, size_t right_records) {
  if (!needed_[rn]) return;
  auto& heads = head_of_right_[rn];
  heads.assign(right_records, {});
  for (const auto& g : m.groups) {
    if (!g.left_count || !g.right_count) continue;
    std::string_view key = keys_.store(g.key);
    for (uint32_t r : m.right_of(g)) heads[r] = key;
  }
}

}  // namespace seam
