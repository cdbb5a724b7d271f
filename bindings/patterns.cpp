#include "bindings/patterns.hpp"

// Written for seam from the pattern rules of the Lua 5.4 manual (6.4.1), keeping Lua's
// error messages so scripts read the same. C-style on purpose: every function here may
// raise (luaL_error longjmps out of the matcher's recursion), so no object with a
// destructor may live on any of these frames.
#include <lua.hpp>

#include <cctype>
#include <cstdint>
#include <cstring>

#include "bindings/lua_state.hpp"

namespace seam {
namespace {

constexpr int kMaxCaptures = 32;       // Lua's LUA_MAXCAPTURES
constexpr int kMaxDepth = 200;         // Lua's MAXCCALLS: recursion of one match
constexpr uint64_t kChargeEvery = 4096;  // steps between charges to the budget
// A call of match() costs about what four VM instructions do (measured against
// `while true do end` reaching the same budget); scanning one character costs one.
constexpr uint64_t kMatchCost = 4;
constexpr ptrdiff_t kUnfinished = -1;
constexpr ptrdiff_t kPosition = -2;
constexpr char kEsc = '%';

struct Capture {
  const char* init;
  ptrdiff_t len;
};

struct Matcher {
  const char* src_init;
  const char* src_end;
  const char* p_end;
  lua_State* L;
  const char* fname;  // "string.find", ... for the stop message
  int depth;          // recursion left
  int level;          // captures opened
  uint64_t steps;     // not yet charged to the budget
  Capture capture[kMaxCaptures];
};

[[noreturn]] void stop_matching(Matcher* m) {
  char budget[32];
  std::snprintf(budget, sizeof budget, "%llu",
                static_cast<unsigned long long>(LuaState::from(m->L)->limits().instructions_per_call));
  LuaState::push_where(m->L);  // the Lua line that called string.find, ...
  lua_pushfstring(m->L,
                  "rule stopped: %s: pattern matching exceeded the instruction budget of %s (a pattern with many "
                  "optional or repeated items backtracks exponentially; simplify it or check the text's length first)",
                  m->fname, budget);
  lua_concat(m->L, 2);
  LuaState::raise_recorded_stop(m->L);  // and from now on the hook raises at every instruction
}

void flush_steps(Matcher* m) {
  uint64_t n = m->steps;
  m->steps = 0;
  if (n && LuaState::from(m->L)->charge(n)) stop_matching(m);
}

inline void step(Matcher* m, uint64_t cost = 1) {
  m->steps += cost;
  if (m->steps >= kChargeEvery) flush_steps(m);
}

void start_state(Matcher* m, lua_State* L, const char* fname, const char* s, size_t ls, const char* p, size_t lp) {
  m->L = L;
  m->fname = fname;
  m->src_init = s;
  m->src_end = s + ls;
  m->p_end = p + lp;
  m->steps = 0;
}

void restart(Matcher* m) {
  m->level = 0;
  m->depth = kMaxDepth;
}

bool class_matches(int c, int cl) {
  bool res;
  switch (std::tolower(cl)) {
    case 'a': res = std::isalpha(c); break;
    case 'c': res = std::iscntrl(c); break;
    case 'd': res = std::isdigit(c); break;
    case 'g': res = std::isgraph(c); break;
    case 'l': res = std::islower(c); break;
    case 'p': res = std::ispunct(c); break;
    case 's': res = std::isspace(c); break;
    case 'u': res = std::isupper(c); break;
    case 'w': res = std::isalnum(c); break;
    case 'x': res = std::isxdigit(c); break;
    default: return cl == c;  // %. %% %] ... : the character itself
  }
  return std::isupper(cl) ? !res : res;
}

// p at '[', close at its ']'.
bool set_matches(int c, const char* p, const char* close) {
  bool want = true;
  if (p[1] == '^') {
    want = false;
    ++p;
  }
  while (++p < close) {
    if (*p == kEsc) {
      ++p;
      if (class_matches(c, static_cast<unsigned char>(*p))) return want;
    } else if (p[1] == '-' && p + 2 < close) {
      p += 2;
      if (static_cast<unsigned char>(p[-2]) <= c && c <= static_cast<unsigned char>(*p)) return want;
    } else if (static_cast<unsigned char>(*p) == c) {
      return want;
    }
  }
  return !want;
}

// The end of the single-character class starting at p.
const char* class_end(Matcher* m, const char* p) {
  char c = *p++;
  if (c == kEsc) {
    if (p == m->p_end) luaL_error(m->L, "malformed pattern (ends with '%%')");
    return p + 1;
  }
  if (c == '[') {
    if (*p == '^') ++p;
    do {  // the first character may be ']' itself; the pattern string ends in '\0'
      if (p == m->p_end) luaL_error(m->L, "malformed pattern (missing ']')");
      if (*(p++) == kEsc && p < m->p_end) ++p;
    } while (*p != ']');
    return p + 1;
  }
  return p;
}

bool single_matches(Matcher* m, const char* s, const char* p, const char* ep) {
  if (s >= m->src_end) return false;
  int c = static_cast<unsigned char>(*s);
  switch (*p) {
    case '.': return true;
    case kEsc: return class_matches(c, static_cast<unsigned char>(p[1]));
    case '[': return set_matches(c, p, ep - 1);
    default: return static_cast<unsigned char>(*p) == c;
  }
}

const char* match(Matcher* m, const char* s, const char* p);

const char* match_balance(Matcher* m, const char* s, const char* p) {
  if (p >= m->p_end - 1) luaL_error(m->L, "malformed pattern (missing arguments to '%%b')");
  if (s >= m->src_end || *s != *p) return nullptr;
  char open = p[0], close = p[1];
  int depth = 1;
  while (++s < m->src_end) {
    step(m);
    if (*s == close) {
      if (--depth == 0) return s + 1;
    } else if (*s == open) {
      ++depth;
    }
  }
  return nullptr;
}

const char* max_expand(Matcher* m, const char* s, const char* p, const char* ep) {
  ptrdiff_t i = 0;
  while (single_matches(m, s + i, p, ep)) {
    step(m);
    ++i;
  }
  for (; i >= 0; --i) {  // longest first, giving back one character at a time
    if (const char* res = match(m, s + i, ep + 1)) return res;
  }
  return nullptr;
}

const char* min_expand(Matcher* m, const char* s, const char* p, const char* ep) {
  for (;;) {
    if (const char* res = match(m, s, ep + 1)) return res;
    if (!single_matches(m, s, p, ep)) return nullptr;
    ++s;
  }
}

const char* start_capture(Matcher* m, const char* s, const char* p, ptrdiff_t what) {
  if (m->level >= kMaxCaptures) luaL_error(m->L, "too many captures");
  m->capture[m->level].init = s;
  m->capture[m->level].len = what;
  m->level++;
  const char* res = match(m, s, p);
  if (res == nullptr) m->level--;
  return res;
}

const char* end_capture(Matcher* m, const char* s, const char* p) {
  int l = -1;
  for (int i = m->level - 1; i >= 0; --i) {
    if (m->capture[i].len == kUnfinished) {
      l = i;
      break;
    }
  }
  if (l < 0) luaL_error(m->L, "invalid pattern capture");
  m->capture[l].len = s - m->capture[l].init;
  const char* res = match(m, s, p);
  if (res == nullptr) m->capture[l].len = kUnfinished;
  return res;
}

const char* match_capture(Matcher* m, const char* s, int digit) {
  int l = digit - '1';
  if (l < 0 || l >= m->level || m->capture[l].len == kUnfinished)
    luaL_error(m->L, "invalid capture index %%%d", l + 1);
  size_t len = static_cast<size_t>(m->capture[l].len);
  if (static_cast<size_t>(m->src_end - s) >= len && std::memcmp(m->capture[l].init, s, len) == 0) return s + len;
  return nullptr;
}

const char* match(Matcher* m, const char* s, const char* p) {
  if (m->depth-- == 0) luaL_error(m->L, "pattern too complex");
  step(m, kMatchCost);
  for (;;) {
    if (p == m->p_end) break;
    if (*p == '(') {
      s = p + 1 < m->p_end && p[1] == ')' ? start_capture(m, s, p + 2, kPosition) : start_capture(m, s, p + 1, kUnfinished);
      break;
    }
    if (*p == ')') {
      s = end_capture(m, s, p + 1);
      break;
    }
    if (*p == '$' && p + 1 == m->p_end) {
      s = s == m->src_end ? s : nullptr;
      break;
    }
    if (*p == kEsc && p + 1 < m->p_end && p[1] == 'b') {
      s = match_balance(m, s, p + 2);
      if (s == nullptr) break;
      p += 4;
      continue;
    }
    if (*p == kEsc && p + 1 < m->p_end && p[1] == 'f') {
      p += 2;
      if (*p != '[') luaL_error(m->L, "missing '[' after '%%f' in pattern");
      const char* ep = class_end(m, p);
      int prev = s == m->src_init ? '\0' : static_cast<unsigned char>(s[-1]);
      int cur = s < m->src_end ? static_cast<unsigned char>(*s) : '\0';
      if (!set_matches(prev, p, ep - 1) && set_matches(cur, p, ep - 1)) {
        p = ep;
        continue;
      }
      s = nullptr;
      break;
    }
    if (*p == kEsc && p + 1 < m->p_end && std::isdigit(static_cast<unsigned char>(p[1]))) {
      s = match_capture(m, s, static_cast<unsigned char>(p[1]));
      if (s == nullptr) break;
      p += 2;
      continue;
    }
    // a single-character class, maybe with a quantifier
    const char* ep = class_end(m, p);
    if (!single_matches(m, s, p, ep)) {
      if (*ep == '*' || *ep == '?' || *ep == '-') {  // may match zero times
        p = ep + 1;
        continue;
      }
      s = nullptr;
      break;
    }
    if (*ep == '?') {
      if (const char* res = match(m, s + 1, ep + 1)) {
        s = res;
        break;
      }
      p = ep + 1;
      continue;
    }
    if (*ep == '+') {
      s = max_expand(m, s + 1, p, ep);
      break;
    }
    if (*ep == '*') {
      s = max_expand(m, s, p, ep);
      break;
    }
    if (*ep == '-') {
      s = min_expand(m, s, p, ep);
      break;
    }
    ++s;
    p = ep;
  }
  m->depth++;
  return s;
}

// Capture i (the whole match when there are none and i is 0): its text, or kPosition
// after pushing the position.
ptrdiff_t get_capture(Matcher* m, int i, const char* s, const char* e, const char** cap) {
  if (i >= m->level) {
    if (i != 0) luaL_error(m->L, "invalid capture index %%%d", i + 1);
    *cap = s;
    return e - s;
  }
  ptrdiff_t len = m->capture[i].len;
  *cap = m->capture[i].init;
  if (len == kUnfinished) luaL_error(m->L, "unfinished capture");
  if (len == kPosition) lua_pushinteger(m->L, (m->capture[i].init - m->src_init) + 1);
  return len;
}

void push_capture(Matcher* m, int i, const char* s, const char* e) {
  const char* cap;
  ptrdiff_t len = get_capture(m, i, s, e, &cap);
  if (len != kPosition) lua_pushlstring(m->L, cap, static_cast<size_t>(len));
}

int push_captures(Matcher* m, const char* s, const char* e) {
  int n = m->level == 0 && s ? 1 : m->level;
  luaL_checkstack(m->L, n, "too many captures");
  for (int i = 0; i < n; ++i) push_capture(m, i, s, e);
  return n;
}

// Lua's string index rules for an initial position.
size_t start_index(lua_Integer pos, size_t len) {
  if (pos > 0) return static_cast<size_t>(pos);
  if (pos == 0) return 1;
  if (pos < -static_cast<lua_Integer>(len)) return 1;
  return len + static_cast<size_t>(pos) + 1;
}

bool has_specials(const char* p, size_t lp) {
  for (size_t i = 0; i < lp; ++i)
    if (std::strchr("^$*+?.([%-", p[i]) != nullptr && p[i] != '\0') return true;
  return false;
}

int find_or_match(lua_State* L, bool find) {
  size_t ls, lp;
  const char* s = luaL_checklstring(L, 1, &ls);
  const char* p = luaL_checklstring(L, 2, &lp);
  size_t init = start_index(luaL_optinteger(L, 3, 1), ls) - 1;
  if (init > ls) {
    luaL_pushfail(L);
    return 1;
  }
  if (find && (lua_toboolean(L, 4) || !has_specials(p, lp))) {
    // a plain search: glibc's memmem is linear; charged like allocation, a step per 64
    // bytes it may scan, so a loop of scans over a 200 MB text stops too
    const void* at = lp == 0 ? s + init : memmem(s + init, ls - init, p, lp);
    if (LuaState::from(L)->charge((ls - init) / 64)) LuaState::raise_stop(L);
    if (at != nullptr) {
      const char* hit = static_cast<const char*>(at);
      lua_pushinteger(L, (hit - s) + 1);
      lua_pushinteger(L, static_cast<lua_Integer>((hit - s) + lp));
      return 2;
    }
    luaL_pushfail(L);
    return 1;
  }
  Matcher m;
  bool anchor = *p == '^';
  if (anchor) {
    ++p;
    --lp;
  }
  start_state(&m, L, find ? "string.find" : "string.match", s, ls, p, lp);
  const char* s1 = s + init;
  do {
    restart(&m);
    if (const char* e = match(&m, s1, p)) {
      flush_steps(&m);
      if (find) {
        lua_pushinteger(L, (s1 - s) + 1);
        lua_pushinteger(L, e - s);
        return push_captures(&m, nullptr, nullptr) + 2;
      }
      return push_captures(&m, s1, e);
    }
  } while (s1++ < m.src_end && !anchor);
  flush_steps(&m);
  luaL_pushfail(L);
  return 1;
}

int str_find(lua_State* L) { return find_or_match(L, true); }
int str_match(lua_State* L) { return find_or_match(L, false); }

struct GMatch {
  const char* src;
  const char* p;
  const char* last;
  Matcher m;
};

int gmatch_next(lua_State* L) {
  auto* g = static_cast<GMatch*>(lua_touserdata(L, lua_upvalueindex(3)));
  g->m.L = L;
  for (const char* src = g->src; src <= g->m.src_end; ++src) {
    restart(&g->m);
    const char* e = match(&g->m, src, g->p);
    if (e != nullptr && e != g->last) {
      flush_steps(&g->m);
      g->src = g->last = e;
      return push_captures(&g->m, src, e);
    }
  }
  flush_steps(&g->m);
  return 0;
}

int str_gmatch(lua_State* L) {
  size_t ls, lp;
  const char* s = luaL_checklstring(L, 1, &ls);
  const char* p = luaL_checklstring(L, 2, &lp);
  size_t init = start_index(luaL_optinteger(L, 3, 1), ls) - 1;
  lua_settop(L, 2);  // the closure keeps both strings alive
  auto* g = static_cast<GMatch*>(lua_newuserdatauv(L, sizeof(GMatch), 0));
  if (init > ls) init = ls + 1;
  start_state(&g->m, L, "string.gmatch", s, ls, p, lp);
  g->src = s + init;
  g->p = p;
  g->last = nullptr;
  lua_pushcclosure(L, gmatch_next, 3);
  return 1;
}

void add_replacement_string(Matcher* m, luaL_Buffer* b, const char* s, const char* e) {
  lua_State* L = m->L;
  size_t l;
  const char* news = lua_tolstring(L, 3, &l);
  const char* p;
  while ((p = static_cast<const char*>(std::memchr(news, kEsc, l))) != nullptr) {
    luaL_addlstring(b, news, static_cast<size_t>(p - news));
    ++p;
    if (*p == kEsc) {
      luaL_addchar(b, *p);
    } else if (*p == '0') {
      luaL_addlstring(b, s, static_cast<size_t>(e - s));
    } else if (std::isdigit(static_cast<unsigned char>(*p))) {
      const char* cap;
      ptrdiff_t len = get_capture(m, *p - '1', s, e, &cap);
      if (len == kPosition) luaL_addvalue(b);
      else luaL_addlstring(b, cap, static_cast<size_t>(len));
    } else {
      luaL_error(L, "invalid use of '%c' in replacement string", kEsc);
    }
    l -= static_cast<size_t>(p + 1 - news);
    news = p + 1;
  }
  luaL_addlstring(b, news, l);
}

// Returns true when the text changed (Lua returns the original string when it did not).
bool add_replacement(Matcher* m, luaL_Buffer* b, const char* s, const char* e, int type) {
  lua_State* L = m->L;
  if (type == LUA_TFUNCTION) {
    lua_pushvalue(L, 3);
    int n = push_captures(m, s, e);
    lua_call(L, n, 1);
  } else if (type == LUA_TTABLE) {
    push_capture(m, 0, s, e);
    lua_gettable(L, 3);
  } else {
    add_replacement_string(m, b, s, e);
    return true;
  }
  if (!lua_toboolean(L, -1)) {  // nil or false: keep the matched text
    lua_pop(L, 1);
    luaL_addlstring(b, s, static_cast<size_t>(e - s));
    return false;
  }
  if (!lua_isstring(L, -1)) return luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
  luaL_addvalue(b);
  return true;
}

int str_gsub(lua_State* L) {
  size_t srcl, lp;
  const char* src = luaL_checklstring(L, 1, &srcl);
  const char* p = luaL_checklstring(L, 2, &lp);
  const char* last = nullptr;
  int type = lua_type(L, 3);
  lua_Integer max_n = luaL_optinteger(L, 4, static_cast<lua_Integer>(srcl) + 1);
  bool anchor = *p == '^';
  lua_Integer n = 0;
  bool changed = false;
  luaL_argexpected(L, type == LUA_TNUMBER || type == LUA_TSTRING || type == LUA_TFUNCTION || type == LUA_TTABLE, 3,
                   "string/function/table");
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  if (anchor) {
    ++p;
    --lp;
  }
  Matcher m;
  start_state(&m, L, "string.gsub", src, srcl, p, lp);
  while (n < max_n) {
    restart(&m);
    const char* e = match(&m, src, p);
    if (e != nullptr && e != last) {
      ++n;
      changed = add_replacement(&m, &b, src, e, type) || changed;
      src = last = e;
    } else if (src < m.src_end) {
      luaL_addchar(&b, *src++);
    } else {
      break;
    }
    if (anchor) break;
  }
  flush_steps(&m);
  if (!changed) {
    lua_pushvalue(L, 1);
  } else {
    luaL_addlstring(&b, src, static_cast<size_t>(m.src_end - src));
    luaL_pushresult(&b);
  }
  lua_pushinteger(L, n);
  return 2;
}

}  // namespace

void install_budgeted_patterns(lua_State* L) {
  lua_getglobal(L, LUA_STRLIBNAME);
  static const luaL_Reg fns[] = {{"find", str_find}, {"match", str_match}, {"gmatch", str_gmatch}, {"gsub", str_gsub}};
  for (const auto& f : fns) {
    lua_pushcfunction(L, f.func);
    lua_setfield(L, -2, f.name);
  }
  lua_pop(L, 1);
}

}  // namespace seam
