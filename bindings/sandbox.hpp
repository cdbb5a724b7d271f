#pragma once
#include "bindings/lua_state.hpp"

namespace seam {

// Opens only base, string, table, math and utf8, then removes every way out: io, os,
// package/require, dofile, loadfile, load (no bytecode, no environment escapes),
// string.dump, collectgarbage. Pattern functions count their steps against the
// instruction budget; xpcall handlers, table.move/insert/remove are budgeted too;
// setmetatable refuses __gc. print goes to seam's log. Reading an undeclared global
// raises an error naming it. `debug` stays open until lock_sandbox(), so the DSL prelude
// can capture debug.getinfo for source locations; user code never sees it.
void open_sandbox(LuaState& lua);
void lock_sandbox(LuaState& lua);

// After the stack has loaded: no rule or mapping function can change what another sees.
// The globals (seam's prelude, the libraries, the stack's own top-level definitions) are
// frozen into a shared base; the global table and the string, table, math and utf8
// libraries become read-only proxies onto their contents (rawset on them is refused too).
// Tables a stack builds itself stay as writable as the stack made them.
void seal_sandbox(LuaState& lua);
// Gives the Lua function at `fn` an environment of its own: reads fall through to the
// shared base, writes stay in it. Once per function at load, never per call. The function
// must be a closure that no other rule shares (each rule(...) creates its own).
void give_private_env(lua_State* L, int fn);
// Pushes a fresh private environment (as give_private_env makes), e.g. for a test file.
void push_private_env(lua_State* L);
// Pushes the table that holds the shared globals (the global table before sealing).
void push_shared_globals(lua_State* L);
// Pushes a read-only view of the table at `target`, named `what` in error messages.
void push_read_only_proxy(lua_State* L, int target, const char* what);

}  // namespace seam
