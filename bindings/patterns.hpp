#pragma once
// Lua patterns with a budget. Lua's own string.find, match, gmatch and gsub backtrack in
// C, where the instruction hook never fires: string.rep("a?", 40) .. string.rep("a", 40)
// matched against 40 a's takes 2^40 steps. These replacements translate each Lua pattern
// (Lua 5.4 manual, section 6.4.1) into an equivalent PCRE2 pattern and run it under
// PCRE2's match, depth and heap limits, so such a pattern stops like an endless loop
// does: an error naming the function and the rule's line, which the script's pcall
// cannot swallow, and the run goes on. Each call is also charged to the running call's
// instruction budget in proportion to the text it scans and the time it takes.
//
// Compiled patterns are cached per lua_State (a small LRU keyed by pattern text, owned
// by a userdata in the registry and freed with the state). Not thread-safe, like the
// lua_State itself.
struct lua_State;

namespace seam {

// Replaces find, match, gmatch and gsub in the string library table (global `string`).
// Must run inside a protected call or at set-up, like any Lua API use that allocates.
void install_budgeted_patterns(lua_State* L);

}  // namespace seam
