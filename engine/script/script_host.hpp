#pragma once
// The engine's only window onto user scripts. bindings/ implements it with Lua; the
// engine calls it solely for functions a stack declared, never for declarations.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include "engine/mapping/records.hpp"
#include "engine/rules/verdict.hpp"
#include "engine/spec/stack_spec.hpp"

namespace seam {

// A user function raised, ran out of its instruction budget or memory; the message
// carries chunk:line ("examples/refunds/stack.lua:42: attempt to index a nil value").
struct ScriptError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A raw source row as a Lua mapping function sees it: columns by name, as text.
class RowAccess {
 public:
  virtual ~RowAccess() = default;
  virtual std::optional<std::string_view> column(const std::string& name) = 0;
};

struct GroupView {
  const ReconcileSpec* reconcile = nullptr;
  std::string_view key;
  const RecordSet* left = nullptr;
  std::span<const uint32_t> left_rows;
  const RecordSet* right = nullptr;
  std::span<const uint32_t> right_rows;
};

class ScriptHost {
 public:
  virtual ~ScriptHost() = default;
  // Throws ScriptError. Text results are copied into `arena`.
  virtual Value map_field(int fn, RowAccess& row, StringArena& arena) = 0;
  // Never throws for a rule's own failure: a raising rule yields an error verdict.
  virtual Verdict run_rule(int fn, const GroupView& group) = 0;
  // Another host running the same functions under the same handles, with a state of its
  // own, so another thread can call them while this one is in use; nullptr when this host
  // cannot make one. Safe to call from any thread, even while this host runs a function:
  // it reads only what was fixed at load time.
  virtual std::unique_ptr<ScriptHost> replicate() const { return nullptr; }
};

}  // namespace seam
