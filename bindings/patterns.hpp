#pragma once
// Lua patterns with a budget. Lua's own string.find, match, gmatch and gsub backtrack in
// C, where the instruction hook never fires: string.rep("a?", 40) .. string.rep("a", 40)
// matched against 40 a's takes 2^40 steps. These replacements implement the same pattern
// language (Lua 5.4 manual, section 6.4.1) and charge every matching step to the
// running call's instruction budget, so such a pattern stops like an endless loop does:
// an error naming the function and the rule's line, and the run goes on.
struct lua_State;

namespace seam {

// Replaces find, match, gmatch and gsub in the string library table (global `string`).
void install_budgeted_patterns(lua_State* L);

}  // namespace seam
