#pragma once
// How values cross into Lua: text as strings, integers as integers, money and time as
// userdata (money keeps integer minor units and its currency; arithmetic across
// currencies raises), records and source rows as read-only views.
#include <string>

#include "engine/mapping/records.hpp"
#include "engine/script/script_host.hpp"

struct lua_State;

namespace seam {

// Metatables and the helpers money(amount, currency), minutes_between(a, b).
void register_value_types(lua_State* L);

void push_value(lua_State* L, const Value& v);
void push_record(lua_State* L, const RecordSet* records, uint32_t row);
// A read-only view of `group` (key, reconcile, left, right, l, r), readable while *live
// holds the value it had here: the host moves it on when the rule's call ends.
void push_group(lua_State* L, const GroupView* group, const uint64_t* live);
// A view of the current source row; reads go through *slot, which the host clears after
// the call, so a row kept past its call raises instead of reading freed memory.
void push_row(lua_State* L, RowAccess** slot);

// The value at `idx` as a field value (a mapping function's result); text is copied into
// `arena`. Returns false with `why` for a type that has no field equivalent.
bool to_value(lua_State* L, int idx, StringArena& arena, Value& out, std::string& why);

}  // namespace seam
