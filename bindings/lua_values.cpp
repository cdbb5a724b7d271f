#include "bindings/lua_values.hpp"

#include <lua.hpp>

#include <cstring>
#include <span>
#include <string_view>

namespace seam {
namespace {

constexpr const char* kMoney = "seam.money";
constexpr const char* kTime = "seam.time";
constexpr const char* kRecord = "seam.record";
constexpr const char* kRow = "seam.row";
constexpr const char* kGroup = "seam.group";

struct LuaMoney {
  int64_t minor;
  CurrencyCode currency;
};
struct LuaTime {
  int64_t us;
};
struct LuaRecord {
  const RecordSet* records;
  uint32_t row;
};
// A group as its rule sees it, read only while the call that received it runs: the view
// lives on the host's stack frame, and `*live` moves on when the call ends.
struct LuaGroup {
  const GroupView* g;
  const uint64_t* live;
  uint64_t serial;
};
// User values holding what a group hands out, built on first read: g.left, g.right, g.l, g.r.
enum GroupSlot { kLeftSide = 1, kRightSide, kFirstLeft, kFirstRight, kGroupSlots = kFirstRight };

struct LuaRow {
  RowAccess** slot;
};

void push_money(lua_State* L, int64_t minor, CurrencyCode c) {
  auto* m = static_cast<LuaMoney*>(lua_newuserdatauv(L, sizeof(LuaMoney), 0));
  m->minor = minor;
  m->currency = c;
  luaL_setmetatable(L, kMoney);
}

void push_time(lua_State* L, int64_t us) {
  static_cast<LuaTime*>(lua_newuserdatauv(L, sizeof(LuaTime), 0))->us = us;
  luaL_setmetatable(L, kTime);
}

// Pushes a C++ string: the std::string dies before any Lua error can be raised.
void push_string(lua_State* L, const std::string& s) { lua_pushlstring(L, s.data(), s.size()); }

// ---- money ----

int money_index(lua_State* L) {
  auto* m = static_cast<LuaMoney*>(luaL_checkudata(L, 1, kMoney));
  const char* key = luaL_checkstring(L, 2);
  if (std::strcmp(key, "minor") == 0) lua_pushinteger(L, m->minor);
  else if (std::strcmp(key, "currency") == 0) push_string(L, currency_name(m->currency));
  else if (std::strcmp(key, "amount") == 0) push_string(L, format_amount(m->minor, currency_scale(m->currency)));
  else return luaL_error(L, "money has no field '%s' (minor, currency, amount)", key);
  return 1;
}

int money_tostring(lua_State* L) {
  auto* m = static_cast<LuaMoney*>(luaL_checkudata(L, 1, kMoney));
  push_string(L, format_money(m->minor, m->currency));
  return 1;
}

LuaMoney* both_money(lua_State* L, const char* op) {
  auto* a = static_cast<LuaMoney*>(luaL_checkudata(L, 1, kMoney));
  auto* b = static_cast<LuaMoney*>(luaL_checkudata(L, 2, kMoney));
  if (a->currency != b->currency) {
    char ca[4], cb[4];
    std::snprintf(ca, sizeof ca, "%s", currency_name(a->currency).c_str());
    std::snprintf(cb, sizeof cb, "%s", currency_name(b->currency).c_str());
    luaL_error(L, "cannot %s money in %s and %s", op, ca, cb);
  }
  return a;
}

int money_eq(lua_State* L) {
  auto* a = static_cast<LuaMoney*>(luaL_checkudata(L, 1, kMoney));
  auto* b = static_cast<LuaMoney*>(luaL_checkudata(L, 2, kMoney));
  lua_pushboolean(L, a->minor == b->minor && a->currency == b->currency);
  return 1;
}
int money_lt(lua_State* L) {
  auto* a = both_money(L, "compare");
  lua_pushboolean(L, a->minor < static_cast<LuaMoney*>(lua_touserdata(L, 2))->minor);
  return 1;
}
int money_le(lua_State* L) {
  auto* a = both_money(L, "compare");
  lua_pushboolean(L, a->minor <= static_cast<LuaMoney*>(lua_touserdata(L, 2))->minor);
  return 1;
}
// Checked: a wrapped sum would turn a huge refund into a huge charge and still compare
// as a number, so overflow raises (an error verdict) instead.
int money_overflow(lua_State* L, const char* expr) {
  return luaL_error(L, "money overflow: %s exceeds the int64 range of minor units", expr);
}
int money_add(lua_State* L) {
  auto* a = both_money(L, "add");
  int64_t sum = 0;
  if (__builtin_add_overflow(a->minor, static_cast<LuaMoney*>(lua_touserdata(L, 2))->minor, &sum))
    return money_overflow(L, "a + b");
  push_money(L, sum, a->currency);
  return 1;
}
int money_sub(lua_State* L) {
  auto* a = both_money(L, "subtract");
  int64_t diff = 0;
  if (__builtin_sub_overflow(a->minor, static_cast<LuaMoney*>(lua_touserdata(L, 2))->minor, &diff))
    return money_overflow(L, "a - b");
  push_money(L, diff, a->currency);
  return 1;
}
int money_unm(lua_State* L) {
  auto* a = static_cast<LuaMoney*>(luaL_checkudata(L, 1, kMoney));
  if (a->minor == INT64_MIN) return money_overflow(L, "-a");
  push_money(L, -a->minor, a->currency);
  return 1;
}

// money("12.50", "USD") or money(1250, "USD") (an integer is minor units)
int money_new(lua_State* L) {
  const char* cur = luaL_checkstring(L, 2);
  CurrencyCode c = pack_currency(cur);
  if (!c) return luaL_error(L, "money(amount, currency): '%s' is not an ISO 4217 code", cur);
  if (known_currency_scale(c) < 0) {  // the same refusal as a declared field's, without a guessed scale
    char unknown[200];
    std::snprintf(unknown, sizeof unknown, "%s", unknown_currency_text(c).c_str());
    return luaL_error(L, "money(amount, currency): %s", unknown);
  }
  if (lua_isinteger(L, 1)) {
    push_money(L, lua_tointeger(L, 1), c);
    return 1;
  }
  const char* text = luaL_checkstring(L, 1);
  int64_t minor = 0;
  char problem[200] = "";
  {
    auto r = parse_amount(text, currency_scale(c), MoneyFormat{});
    if (r) minor = r->minor;
    else std::snprintf(problem, sizeof problem, "%s", r.error().c_str());
  }
  if (problem[0]) return luaL_error(L, "money(): %s", problem);
  push_money(L, minor, c);
  return 1;
}

// ---- time ----

// t:date_in("America/New_York") → year, month, day in that zone
int time_date_in(lua_State* L) {
  auto* t = static_cast<LuaTime*>(luaL_checkudata(L, 1, kTime));
  const char* zone = luaL_checkstring(L, 2);
  CivilDate d{};
  char problem[200] = "";
  {
    auto r = civil_date_in(t->us, zone);
    if (r) d = *r;
    else std::snprintf(problem, sizeof problem, "%s", r.error().c_str());
  }
  if (problem[0]) return luaL_error(L, "date_in: %s", problem);
  lua_pushinteger(L, d.year);
  lua_pushinteger(L, d.month);
  lua_pushinteger(L, d.day);
  return 3;
}

int time_index(lua_State* L) {
  auto* t = static_cast<LuaTime*>(luaL_checkudata(L, 1, kTime));
  const char* key = luaL_checkstring(L, 2);
  if (std::strcmp(key, "unix") == 0) lua_pushinteger(L, t->us / kMicrosPerSecond);
  else if (std::strcmp(key, "ms") == 0) lua_pushinteger(L, t->us / 1000);
  else if (std::strcmp(key, "iso") == 0) push_string(L, format_time_iso(t->us));
  else if (std::strcmp(key, "year") == 0) lua_pushinteger(L, civil_date_utc(t->us).year);
  else if (std::strcmp(key, "month") == 0) lua_pushinteger(L, civil_date_utc(t->us).month);
  else if (std::strcmp(key, "day") == 0) lua_pushinteger(L, civil_date_utc(t->us).day);
  else if (std::strcmp(key, "date_in") == 0) lua_pushcfunction(L, time_date_in);
  else return luaL_error(L, "time has no field '%s' (unix, ms, iso, year, month, day: UTC; date_in(zone))", key);
  return 1;
}
int time_tostring(lua_State* L) {
  push_string(L, format_time_iso(static_cast<LuaTime*>(luaL_checkudata(L, 1, kTime))->us));
  return 1;
}
int time_eq(lua_State* L) {
  lua_pushboolean(L, static_cast<LuaTime*>(luaL_checkudata(L, 1, kTime))->us ==
                         static_cast<LuaTime*>(luaL_checkudata(L, 2, kTime))->us);
  return 1;
}
int time_lt(lua_State* L) {
  lua_pushboolean(L, static_cast<LuaTime*>(luaL_checkudata(L, 1, kTime))->us <
                         static_cast<LuaTime*>(luaL_checkudata(L, 2, kTime))->us);
  return 1;
}
int time_le(lua_State* L) {
  lua_pushboolean(L, static_cast<LuaTime*>(luaL_checkudata(L, 1, kTime))->us <=
                         static_cast<LuaTime*>(luaL_checkudata(L, 2, kTime))->us);
  return 1;
}
// t2 - t1 = seconds between them (a number: durations may be fractional, money never)
int time_sub(lua_State* L) {
  auto a = static_cast<LuaTime*>(luaL_checkudata(L, 1, kTime))->us;
  auto b = static_cast<LuaTime*>(luaL_checkudata(L, 2, kTime))->us;
  lua_pushnumber(L, static_cast<lua_Number>(a - b) / kMicrosPerSecond);
  return 1;
}
int minutes_between(lua_State* L) {
  auto a = static_cast<LuaTime*>(luaL_checkudata(L, 1, kTime))->us;
  auto b = static_cast<LuaTime*>(luaL_checkudata(L, 2, kTime))->us;
  lua_pushnumber(L, static_cast<lua_Number>(b - a) / kMicrosPerMinute);
  return 1;
}

// ---- records and rows ----

int record_index(lua_State* L) {
  auto* r = static_cast<LuaRecord*>(luaL_checkudata(L, 1, kRecord));
  const char* key = luaL_checkstring(L, 2);
  const SystemSpec& sys = r->records->system();
  int f = sys.field_index(key);
  if (f >= 0) {
    push_value(L, r->records->get(r->row, static_cast<size_t>(f)));
    return 1;
  }
  if (std::strcmp(key, "_id") == 0) {
    auto id = r->records->id(r->row);
    lua_pushlstring(L, id.data(), id.size());
    return 1;
  }
  if (std::strcmp(key, "_line") == 0) {
    lua_pushinteger(L, static_cast<lua_Integer>(r->records->line(r->row)));
    return 1;
  }
  if (std::strcmp(key, "_system") == 0) {
    lua_pushlstring(L, sys.name.data(), sys.name.size());
    return 1;
  }
  char hint[160] = "";
  {  // C++ objects live only inside this block: luaL_error below longjmps.
    std::string best = did_you_mean(key, sys.field_names());
    if (!best.empty()) std::snprintf(hint, sizeof hint, " (did you mean '%s'?)", best.c_str());
  }
  return luaL_error(L, "a %s record has no field '%s'%s", sys.name.c_str(), key, hint);
}
int record_newindex(lua_State* L) { return luaL_error(L, "records are read-only"); }

void push_side(lua_State* L, const RecordSet* rs, std::span<const uint32_t> rows) {
  lua_createtable(L, static_cast<int>(rows.size()), 0);
  for (size_t i = 0; i < rows.size(); ++i) {
    push_record(L, rs, rows[i]);
    lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
  }
}

// Only what a rule reads is built: most rules read one or two of these, and building every
// part of every group was most of a simple rule's cost.
int group_index(lua_State* L) {
  auto* u = static_cast<LuaGroup*>(luaL_checkudata(L, 1, kGroup));
  size_t len = 0;
  const char* key = luaL_checklstring(L, 2, &len);
  if (*u->live != u->serial) return luaL_error(L, "a group can only be read during the rule call that received it");
  const GroupView& g = *u->g;
  const std::string_view k(key, len);
  const int slot = k == "left" ? kLeftSide : k == "right" ? kRightSide : k == "l" ? kFirstLeft : k == "r" ? kFirstRight : 0;
  if (slot == 0) {
    if (k == "key") lua_pushlstring(L, g.key.data(), g.key.size());
    else if (k == "reconcile") lua_pushlstring(L, g.reconcile->name.data(), g.reconcile->name.size());
    else lua_pushnil(L);
    return 1;
  }
  if (lua_getiuservalue(L, 1, slot) != LUA_TNIL) return 1;
  lua_pop(L, 1);
  switch (slot) {
    case kLeftSide: push_side(L, g.left, g.left_rows); break;
    case kRightSide: push_side(L, g.right, g.right_rows); break;
    case kFirstLeft:
      if (g.left_rows.empty()) return lua_pushnil(L), 1;
      push_record(L, g.left, g.left_rows[0]);
      break;
    default:
      if (g.right_rows.empty()) return lua_pushnil(L), 1;
      push_record(L, g.right, g.right_rows[0]);
      break;
  }
  lua_pushvalue(L, -1);
  lua_setiuservalue(L, 1, slot);
  return 1;
}
int group_newindex(lua_State* L) { return luaL_error(L, "groups are read-only"); }
int record_tostring(lua_State* L) {
  auto* r = static_cast<LuaRecord*>(luaL_checkudata(L, 1, kRecord));
  const std::string& system = r->records->system().name;
  std::string_view id = r->records->id(r->row);
  lua_pushlstring(L, system.data(), system.size());  // no temporaries alive if Lua raises
  lua_pushliteral(L, " record ");
  lua_pushlstring(L, id.data(), id.size());
  lua_concat(L, 3);
  return 1;
}

int row_index(lua_State* L) {
  auto* r = static_cast<LuaRow*>(luaL_checkudata(L, 1, kRow));
  const char* key = luaL_checkstring(L, 2);
  if (*r->slot == nullptr) return luaL_error(L, "a source row can only be read during its mapping function");
  bool found = false;
  const char* data = nullptr;
  size_t len = 0;
  {
    auto cell = (*r->slot)->column(key);
    if (cell) {
      found = true;
      data = cell->data();
      len = cell->size();
    }
  }
  if (found) lua_pushlstring(L, data, len);
  else lua_pushnil(L);
  return 1;
}

void new_metatable(lua_State* L, const char* name, std::initializer_list<luaL_Reg> methods) {
  luaL_newmetatable(L, name);
  for (const auto& m : methods) {
    lua_pushcfunction(L, m.func);
    lua_setfield(L, -2, m.name);
  }
  lua_pushliteral(L, "locked");
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 1);
}

}  // namespace

void register_value_types(lua_State* L) {
  new_metatable(L, kMoney,
                {{"__index", money_index}, {"__tostring", money_tostring}, {"__eq", money_eq}, {"__lt", money_lt},
                 {"__le", money_le}, {"__add", money_add}, {"__sub", money_sub}, {"__unm", money_unm}});
  new_metatable(L, kTime,
                {{"__index", time_index}, {"__tostring", time_tostring}, {"__eq", time_eq}, {"__lt", time_lt},
                 {"__le", time_le}, {"__sub", time_sub}});
  new_metatable(L, kRecord, {{"__index", record_index}, {"__newindex", record_newindex}, {"__tostring", record_tostring}});
  new_metatable(L, kRow, {{"__index", row_index}, {"__newindex", record_newindex}});
  new_metatable(L, kGroup, {{"__index", group_index}, {"__newindex", group_newindex}});
  lua_pushcfunction(L, money_new);
  lua_setglobal(L, "money_of");
  lua_pushcfunction(L, minutes_between);
  lua_setglobal(L, "minutes_between");
}

void push_value(lua_State* L, const Value& v) {
  switch (v.kind) {
    case ValueKind::Missing: lua_pushnil(L); break;
    case ValueKind::Empty: lua_pushliteral(L, ""); break;
    case ValueKind::Text: lua_pushlstring(L, v.text().data(), v.text().size()); break;
    case ValueKind::Integer: lua_pushinteger(L, v.i); break;
    case ValueKind::Money: push_money(L, v.i, v.currency); break;
    case ValueKind::Time: push_time(L, v.i); break;
    case ValueKind::Boolean: lua_pushboolean(L, v.i != 0); break;
  }
}

void push_record(lua_State* L, const RecordSet* records, uint32_t row) {
  auto* r = static_cast<LuaRecord*>(lua_newuserdatauv(L, sizeof(LuaRecord), 0));
  r->records = records;
  r->row = row;
  luaL_setmetatable(L, kRecord);
}

void push_group(lua_State* L, const GroupView* group, const uint64_t* live) {
  auto* u = static_cast<LuaGroup*>(lua_newuserdatauv(L, sizeof(LuaGroup), kGroupSlots));
  u->g = group;
  u->live = live;
  u->serial = *live;
  luaL_setmetatable(L, kGroup);
}

void push_row(lua_State* L, RowAccess** slot) {
  static_cast<LuaRow*>(lua_newuserdatauv(L, sizeof(LuaRow), 0))->slot = slot;
  luaL_setmetatable(L, kRow);
}

bool to_value(lua_State* L, int idx, StringArena& arena, Value& out, std::string& why) {
  switch (lua_type(L, idx)) {
    case LUA_TNIL: out = Value::missing(); return true;
    case LUA_TBOOLEAN: out = Value::of_bool(lua_toboolean(L, idx)); return true;
    case LUA_TSTRING: {
      size_t len = 0;
      const char* s = lua_tolstring(L, idx, &len);
      if (len > kMaxTextBytes) {
        why = "returned a string of " + std::to_string(len) + " bytes; a field holds at most " +
              std::to_string(kMaxTextBytes);
        return false;
      }
      out = len == 0 ? Value::empty() : Value::of_text(arena.store(std::string_view(s, len)));
      return true;
    }
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx)) {
        out = Value::of_int(lua_tointeger(L, idx));
        return true;
      }
      why = "returned a fractional number; return money_of(\"12.50\", \"USD\") for amounts or a string";
      return false;
    case LUA_TUSERDATA:
      if (auto* m = static_cast<LuaMoney*>(luaL_testudata(L, idx, kMoney))) {
        out = Value::of_money(m->minor, m->currency);
        return true;
      }
      if (auto* t = static_cast<LuaTime*>(luaL_testudata(L, idx, kTime))) {
        out = Value::of_time(t->us);
        return true;
      }
      [[fallthrough]];
    default: why = std::string("returned a ") + luaL_typename(L, idx) + ", which is not a field value"; return false;
  }
}

}  // namespace seam
