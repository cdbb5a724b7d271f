#pragma once
#include "bindings/lua_state.hpp"

namespace seam {

// Opens only base, string, table, math and utf8, then removes every way out: io, os,
// package/require, dofile, loadfile, load (no bytecode, no environment escapes),
// string.dump, collectgarbage. print goes to seam's log. Reading an undeclared global
// raises an error naming it. `debug` stays open until lock_sandbox(), so the DSL prelude
// can capture debug.getinfo for source locations; user code never sees it.
void open_sandbox(LuaState& lua);
void lock_sandbox(LuaState& lua);

}  // namespace seam
