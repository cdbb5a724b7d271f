#include "engine/run/chains.hpp"

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

void ChainKeys::rekey(size_t rn, MatchResult& m, const RecordSet& left) const {
  if (by_left_[rn])
    for (auto& g : m.groups)
      if (g.left_count) g.key = left.id(m.left_of(g)[0]);
  if (from_[rn] < 0) return;
  const auto& heads = head_of_right_[static_cast<size_t>(from_[rn])];
  if (heads.empty()) return;
  for (auto& g : m.groups) {
    if (!g.left_count) continue;
    std::string_view head = heads[m.left_of(g)[0]];
    if (!head.empty()) g.key = head;
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
