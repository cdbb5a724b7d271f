#include "bindings/patterns.hpp"

// Lua patterns run by PCRE2. Each pattern is parsed once into items (single-byte classes
// with their quantifier, captures, anchors, %b, %f, back-references), the items are
// written out as a PCRE2 pattern over bytes, and that is compiled (JIT when available)
// and cached. Matching runs under a match context with match, depth and heap limits; a
// pattern that trips one stops the call for good.
//
// Lua reports a malformed pattern only when the matcher reaches the malformed part
// (("x"):find("y%") is nil, ("y"):find("y%") an error). The translation keeps that: the
// malformed part becomes a PCRE2 callout that aborts the match with the error when it is
// reached, and such patterns are compiled without PCRE2's start-up optimizations, which
// could otherwise skip a start position Lua tries. Lua's limit of 200 nested matcher
// calls ("pattern too complex") is checked the same way, by callouts that recount the
// nesting from the current path; only patterns long enough to reach it get them.
//
// The Lua boundary: PCRE2 objects live in the per-state cache (a userdata with __gc) or
// in userdata of their own; the functions called from Lua keep no C++ object with a
// destructor on their frames, since luaL_error longjmps. C++ work that may throw
// (translating, compiling) happens in noexcept functions that report failure as a value.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <bitset>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <list>
#include <lua.hpp>
#include <memory>
#include <new>
#include <string>
#include <unordered_map>
#include <vector>

#include "bindings/lua_state.hpp"

namespace seam {
namespace {

constexpr int kMaxCaptures = 32;    // Lua's limit on captures in one pattern
constexpr int kMaxNesting = 200;    // Lua's limit on nested matcher calls
constexpr size_t kCacheSize = 64;   // compiled patterns kept per state
constexpr uint32_t kMatchLimit = 10'000'000;  // PCRE2's default: backtracking steps per start position
constexpr uint32_t kDepthLimit = 1'000'000;   // nested backtracking frames (interpreter only)
constexpr uint32_t kHeapLimitKiB = 64 * 1024; // backtracking memory (interpreter only)
constexpr size_t kJitStackMax = 8u << 20;     // the JIT's own stack (%b on deeply nested text)
// Charges to the instruction budget: a step per call, per kBytesPerStep bytes of text the
// match examined and per kNanosPerStep of time it took (20M steps: one second matching).
constexpr uint64_t kBytesPerStep = 8;
constexpr uint64_t kNanosPerStep = 50;
constexpr size_t kNoMatch = static_cast<size_t>(-1);

const char* const kCacheMeta = "seam.pattern_cache";
const char* const kPinMeta = "seam.pattern";
const char* const kGMatchMeta = "seam.gmatch";
char kCacheKey;  // its address keys the cache in the registry

using ByteSet = std::bitset<256>;

// Callout numbers: a malformed part of the pattern (the error Lua raises on reaching it),
// or the nesting check.
enum Callout : uint32_t {
  kEndsWithEscape = 1,
  kMissingBracket,
  kMissingFrontierSet,
  kMissingBalanceArgs,
  kInvalidPatternCapture,
  kTooManyCaptures,
  kTooComplex,
  kNestingCheck,
  kCaptureIndex = 10,  // + the digit: "invalid capture index %N"
};

void describe_error(uint32_t code, char* buf, size_t n) {
  switch (code) {
    case kEndsWithEscape: std::snprintf(buf, n, "malformed pattern (ends with '%%')"); return;
    case kMissingBracket: std::snprintf(buf, n, "malformed pattern (missing ']')"); return;
    case kMissingFrontierSet: std::snprintf(buf, n, "missing '[' after '%%f' in pattern"); return;
    case kMissingBalanceArgs: std::snprintf(buf, n, "malformed pattern (missing arguments to '%%b')"); return;
    case kInvalidPatternCapture: std::snprintf(buf, n, "invalid pattern capture"); return;
    case kTooManyCaptures: std::snprintf(buf, n, "too many captures"); return;
    case kTooComplex: std::snprintf(buf, n, "pattern too complex"); return;
    default: std::snprintf(buf, n, "invalid capture index %%%u", code - kCaptureIndex); return;
  }
}

// ---- parsing a Lua pattern into items -------------------------------------------------

enum class Kind { Single, Open, Position, Close, End, Balance, Frontier, BackRef, Malformed };

struct Item {
  Kind kind;
  ByteSet set;        // Single, Frontier
  char quant = 0;     // Single: 0, '*', '+', '-' or '?'
  unsigned char open = 0, close = 0;  // Balance
  int capture = -1;   // Open, Position, Close, BackRef: the capture's index
  uint32_t error = 0; // Malformed: the callout that raises it
};

struct CaptureInfo {
  bool position = false;
  bool closed = false;
};

// The bytes a %-class letter stands for (C locale, like Lua's isalpha & co.; %z is NUL); any other
// character after % stands for itself.
ByteSet class_bytes(unsigned char letter) {
  int (*test)(int) = nullptr;
  switch (letter | 0x20) {
    case 'a': test = isalpha; break;
    case 'c': test = iscntrl; break;
    case 'd': test = isdigit; break;
    case 'g': test = isgraph; break;
    case 'l': test = islower; break;
    case 'p': test = ispunct; break;
    case 's': test = isspace; break;
    case 'u': test = isupper; break;
    case 'w': test = isalnum; break;
    case 'x': test = isxdigit; break;
    case 'z': test = [](int c) { return c == 0 ? 1 : 0; }; break;  // NUL: deprecated, still in 5.4
    default: break;
  }
  ByteSet out;
  bool letter_ok = (letter >= 'a' && letter <= 'z') || (letter >= 'A' && letter <= 'Z');
  if (test == nullptr || !letter_ok) {
    out.set(letter);
    return out;
  }
  for (int c = 0; c < 256; ++c)
    if (test(c)) out.set(static_cast<size_t>(c));
  if (letter >= 'A' && letter <= 'Z') out.flip();
  return out;
}

// A set "[...]" starting at p[at]: its bytes, with `at` moved past the closing bracket.
// False when the bracket is never closed. The first byte after "[" or "[^" is always a
// member, so "[]]" and "[^]]" work; "%x" inside stands for its class or byte; "a-z" is a
// range unless the '-' is last.
bool parse_set(const char* p, size_t lp, size_t& at, ByteSet& out) {
  size_t first = at + 1;
  bool negated = first < lp && p[first] == '^';
  if (negated) ++first;
  size_t end = first;  // find the closing bracket, skipping escaped bytes
  for (;;) {
    if (end >= lp) return false;
    end += (p[end] == '%' && end + 1 < lp) ? 2 : 1;
    if (end < lp && p[end] == ']') break;
  }
  out.reset();
  for (size_t k = first; k < end; ++k) {
    auto c = static_cast<unsigned char>(p[k]);
    if (c == '%') {
      ++k;
      out |= class_bytes(static_cast<unsigned char>(p[k]));
    } else if (k + 2 < end && p[k + 1] == '-') {
      for (unsigned hi = static_cast<unsigned char>(p[k + 2]), b = c; b <= hi; ++b) out.set(b);
      k += 2;
    } else {
      out.set(c);
    }
  }
  if (negated) out.flip();
  at = end + 1;
  return true;
}

// Splits the pattern into items. Parsing stops at the first malformed part: nothing after
// it can be reached, since Lua raises there.
void parse_pattern(const char* p, size_t lp, size_t at, std::vector<Item>& items, std::vector<CaptureInfo>& caps) {
  std::vector<int> open;  // captures opened and not yet closed, innermost last
  auto malformed = [&](uint32_t code) {
    Item it{Kind::Malformed, {}};
    it.error = code;
    items.push_back(it);
  };
  while (at < lp) {
    auto c = static_cast<unsigned char>(p[at]);
    unsigned char next = at + 1 < lp ? static_cast<unsigned char>(p[at + 1]) : 0;
    bool has_next = at + 1 < lp;
    Item it{Kind::Single, {}};
    if (c == '(') {
      if (caps.size() >= kMaxCaptures) return malformed(kTooManyCaptures);
      bool position = has_next && next == ')';
      it.kind = position ? Kind::Position : Kind::Open;
      it.capture = static_cast<int>(caps.size());
      caps.push_back({position, position});
      if (!position) open.push_back(it.capture);
      at += position ? 2 : 1;
    } else if (c == ')') {
      if (open.empty()) return malformed(kInvalidPatternCapture);
      it.kind = Kind::Close;
      it.capture = open.back();
      open.pop_back();
      caps[static_cast<size_t>(it.capture)].closed = true;
      at += 1;
    } else if (c == '$' && !has_next) {
      it.kind = Kind::End;
      at += 1;
    } else if (c == '%' && has_next && next == 'b') {
      if (at + 3 >= lp) return malformed(kMissingBalanceArgs);
      it.kind = Kind::Balance;
      it.open = static_cast<unsigned char>(p[at + 2]);
      it.close = static_cast<unsigned char>(p[at + 3]);
      at += 4;
    } else if (c == '%' && has_next && next == 'f') {
      at += 2;
      if (at >= lp || p[at] != '[') return malformed(kMissingFrontierSet);
      if (!parse_set(p, lp, at, it.set)) return malformed(kMissingBracket);
      it.kind = Kind::Frontier;
    } else if (c == '%' && has_next && next >= '0' && next <= '9') {
      int index = next - '1';  // %0 is index -1: always invalid
      if (index < 0 || index >= static_cast<int>(caps.size()) || !caps[static_cast<size_t>(index)].closed)
        return malformed(kCaptureIndex + static_cast<uint32_t>(index + 1));
      it.kind = Kind::BackRef;
      it.capture = index;
      at += 2;
    } else {  // one byte: literal, '.', %class or [set]; then maybe a quantifier
      if (c == '%') {
        if (!has_next) return malformed(kEndsWithEscape);
        it.set = class_bytes(next);
        at += 2;
      } else if (c == '[') {
        if (!parse_set(p, lp, at, it.set)) return malformed(kMissingBracket);
      } else {
        if (c == '.') it.set.set();
        else it.set.set(c);
        at += 1;
      }
      if (at < lp && (p[at] == '*' || p[at] == '+' || p[at] == '-' || p[at] == '?')) it.quant = p[at++];
    }
    items.push_back(it);
  }
}

// ---- writing the PCRE2 pattern ----------------------------------------------------------

void put_byte(std::string& out, unsigned b) {
  if ((b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z')) {
    out += static_cast<char>(b);
    return;
  }
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\x{%02x}", b);
  out += buf;
}

// One byte out of `set`, as a single literal or a character class of ranges.
void put_set(std::string& out, const ByteSet& set) {
  size_t count = set.count();
  if (count == 0) {
    out += "[^\\x{00}-\\x{ff}]";
    return;
  }
  if (count == 1) {
    for (unsigned b = 0; b < 256; ++b)
      if (set.test(b)) put_byte(out, b);
    return;
  }
  out += '[';
  for (unsigned b = 0; b < 256;) {
    if (!set.test(b)) {
      ++b;
      continue;
    }
    unsigned hi = b;
    while (hi + 1 < 256 && set.test(hi + 1)) ++hi;
    put_byte(out, b);
    if (hi > b) {
      if (hi > b + 1) out += '-';
      put_byte(out, hi);
    }
    b = hi + 1;
  }
  out += ']';
}

// For the nesting check: one matcher call Lua makes on the way, always (captures, '+')
// or depending on the text (the item's helper group tells).
struct NestItem {
  enum { Always, WhenFirstMatches, WhenTaken } when;
  uint32_t group = 0;
  ByteSet set;
};

struct NestCheck {
  size_t pattern_position;  // just after the callout in the PCRE2 pattern
  size_t items;             // NestItems that count up to this point
};

struct Capture {
  uint32_t group = 0;  // PCRE2 group; 0: never closed in the pattern
  bool position = false;
};

// A compiled pattern. Owned by the cache through shared_ptr, and by gmatch iterators and
// gsub calls that run Lua code while they use it (a nested call could evict it).
struct Compiled {
  std::string key;
  pcre2_code* code = nullptr;
  pcre2_match_data* match = nullptr;
  bool anchored = false;  // a leading '^' (not for gmatch)
  std::vector<Capture> captures;
  std::vector<NestItem> nest_items;
  std::vector<NestCheck> nest_checks;

  Compiled() = default;
  Compiled(const Compiled&) = delete;
  Compiled& operator=(const Compiled&) = delete;
  ~Compiled() {
    pcre2_match_data_free(match);
    pcre2_code_free(code);
  }
};

// Writes items as a PCRE2 pattern into c; returns the pattern and whether it has callouts.
std::string write_pattern(const std::vector<Item>& items, const std::vector<CaptureInfo>& caps, Compiled& c,
                          bool& callouts) {
  std::string out;
  uint32_t groups = 0;
  c.captures.assign(caps.size(), Capture{});
  // Lua nests a matcher call at each capture boundary and quantified item; only where
  // that could reach its limit are the checks written.
  int most = 0;
  bool nesting = false;
  for (const Item& it : items) {
    if (it.kind == Kind::Open || it.kind == Kind::Position || it.kind == Kind::Close ||
        (it.kind == Kind::Single && it.quant != 0))
      if (++most >= kMaxNesting) nesting = true;
  }
  callouts = nesting;
  most = 0;
  auto nest = [&](NestItem n) {
    c.nest_items.push_back(n);
    if (nesting && ++most >= kMaxNesting) {
      out += "(?C" + std::to_string(kNestingCheck) + ")";
      c.nest_checks.push_back({out.size(), c.nest_items.size()});
    }
  };
  for (const Item& it : items) {
    switch (it.kind) {
      case Kind::Single: {
        bool helper = nesting && (it.quant == '*' || it.quant == '-' || it.quant == '?');
        if (helper) out += '(', ++groups;
        put_set(out, it.set);
        if (it.quant == '-') out += "*?";
        else if (it.quant != 0) out += it.quant;
        if (helper) out += ')';
        if (it.quant == '+') nest({NestItem::Always, 0, {}});
        else if (it.quant == '?') nest({NestItem::WhenTaken, groups, {}});
        else if (it.quant != 0) nest({NestItem::WhenFirstMatches, groups, it.set});
        break;
      }
      case Kind::Open:
        if (caps[static_cast<size_t>(it.capture)].closed) {
          out += '(';
          c.captures[static_cast<size_t>(it.capture)].group = ++groups;
        }  // else Lua fails the match with "unfinished capture" when it reads it
        nest({NestItem::Always, 0, {}});
        break;
      case Kind::Position:
        out += "()";
        c.captures[static_cast<size_t>(it.capture)] = {++groups, true};
        nest({NestItem::Always, 0, {}});
        break;
      case Kind::Close:
        out += ')';
        nest({NestItem::Always, 0, {}});
        break;
      case Kind::End: out += "\\z"; break;
      case Kind::Balance:
        // Lua counts: the first `close` that brings the count back to zero ends it, so
        // when both are the same byte the next one does. Nothing inside backtracks.
        if (it.open == it.close) {
          out += "(?>";
          put_byte(out, it.open);
          put_set(out, ~ByteSet().set(it.open));
          out += "*+";
          put_byte(out, it.open);
          out += ')';
        } else {
          uint32_t g = ++groups;
          out += "(?>(";
          put_byte(out, it.open);
          out += "(?:";
          put_set(out, ~ByteSet().set(it.open).set(it.close));
          out += "++|(?" + std::to_string(g) + "))*+";
          put_byte(out, it.close);
          out += "))";
        }
        break;
      case Kind::Frontier:
        // The byte before (NUL at the start) is outside the set, the one here (NUL at the
        // end) inside it.
        if (it.set.test(0)) {
          out += "(?<=";
          put_set(out, ~it.set);
          out += ")(?=";
          put_set(out, it.set);
          out += "|\\z)";
        } else {
          out += "(?<!";
          put_set(out, it.set);
          out += ")(?=";
          put_set(out, it.set);
          out += ')';
        }
        break;
      case Kind::BackRef: {
        const Capture& ref = c.captures[static_cast<size_t>(it.capture)];
        // Lua compares a position capture's "length" as a huge size: it never matches.
        if (ref.position) out += "(?!)";
        else out += "\\g{" + std::to_string(ref.group) + "}";
        break;
      }
      case Kind::Malformed:
        out += "(?C" + std::to_string(it.error) + ")";
        callouts = true;
        break;
    }
  }
  return out;
}

// Returns null with a message in err on failure (never throws).
Compiled* translate(const char* p, size_t lp, bool for_gmatch, std::shared_ptr<Compiled>& slot, char* err,
                    size_t errlen) noexcept {
  try {
    auto c = std::make_shared<Compiled>();
    size_t at = 0;
    c->anchored = !for_gmatch && lp > 0 && p[0] == '^';
    if (c->anchored) at = 1;
    std::vector<Item> items;
    std::vector<CaptureInfo> caps;
    parse_pattern(p, lp, at, items, caps);
    bool callouts = false;
    std::string pattern = write_pattern(items, caps, *c, callouts);
    uint32_t options = PCRE2_DOTALL | PCRE2_NEVER_UTF | PCRE2_NEVER_UCP | PCRE2_NEVER_BACKSLASH_C;
    // With callouts every start position and every path must be tried as Lua tries them.
    if (callouts) options |= PCRE2_NO_START_OPTIMIZE | PCRE2_NO_AUTO_POSSESS | PCRE2_NO_DOTSTAR_ANCHOR;
    int code = 0;
    PCRE2_SIZE offset = 0;
    c->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), options, &code, &offset,
                            nullptr);
    if (c->code == nullptr) {
      PCRE2_UCHAR buf[160];
      pcre2_get_error_message(code, buf, sizeof buf);
      std::snprintf(err, errlen, "pattern too complex (PCRE2: %s)", reinterpret_cast<const char*>(buf));
      return nullptr;
    }
    pcre2_jit_compile(c->code, PCRE2_JIT_COMPLETE);  // the interpreter runs it when JIT is unavailable
    c->match = pcre2_match_data_create_from_pattern(c->code, nullptr);
    if (c->match == nullptr) throw std::bad_alloc();
    slot = std::move(c);
    return slot.get();
  } catch (const std::exception& e) {
    std::snprintf(err, errlen, "cannot compile pattern: %s", e.what());
    return nullptr;
  }
}

// ---- the per-state cache ---------------------------------------------------------------

struct MatchRun {  // what the callout needs about the running match
  const Compiled* compiled = nullptr;
  uint32_t error = 0;
};

int on_callout(pcre2_callout_block* b, void* data) {
  auto* run = static_cast<MatchRun*>(data);
  if (b->callout_number != kNestingCheck) {
    run->error = b->callout_number;
    return PCRE2_ERROR_CALLOUT;
  }
  const Compiled* c = run->compiled;
  auto check = std::lower_bound(c->nest_checks.begin(), c->nest_checks.end(), b->pattern_position,
                                [](const NestCheck& k, size_t pos) { return k.pattern_position < pos; });
  if (check == c->nest_checks.end() || check->pattern_position != b->pattern_position) return 0;
  int depth = 0;
  for (size_t i = 0; i < check->items; ++i) {
    const NestItem& n = c->nest_items[i];
    if (n.when == NestItem::Always) {
      ++depth;
      continue;
    }
    if (n.group >= b->capture_top) continue;
    PCRE2_SIZE from = b->offset_vector[2 * n.group], to = b->offset_vector[2 * n.group + 1];
    if (from == PCRE2_UNSET) continue;
    if (n.when == NestItem::WhenTaken) depth += to - from == 1;
    else depth += from < b->subject_length && n.set.test(b->subject[from]);
  }
  if (depth < kMaxNesting) return 0;
  run->error = kTooComplex;
  return PCRE2_ERROR_CALLOUT;
}

struct Cache {
  pcre2_match_context* context = nullptr;
  pcre2_jit_stack* jit_stack = nullptr;
  MatchRun run;
  std::list<std::shared_ptr<Compiled>> lru;  // most recently used first
  std::unordered_map<std::string, std::list<std::shared_ptr<Compiled>>::iterator> index;

  Cache() {
    context = pcre2_match_context_create(nullptr);
    if (context == nullptr) return;
    pcre2_set_match_limit(context, kMatchLimit);
    pcre2_set_depth_limit(context, kDepthLimit);
    pcre2_set_heap_limit(context, kHeapLimitKiB);
    pcre2_set_callout(context, on_callout, &run);
    jit_stack = pcre2_jit_stack_create(64 * 1024, kJitStackMax, nullptr);
    if (jit_stack) pcre2_jit_stack_assign(context, nullptr, jit_stack);
  }
  ~Cache() {
    pcre2_jit_stack_free(jit_stack);
    pcre2_match_context_free(context);
  }
  Cache(const Cache&) = delete;
  Cache& operator=(const Cache&) = delete;

  // The compiled pattern, from the cache or translated now (then *compiled_now is set).
  // Valid until the next lookup unless pinned. Null with err filled on failure.
  const std::shared_ptr<Compiled>* lookup(const char* p, size_t lp, bool for_gmatch, bool* compiled_now, char* err,
                                          size_t errlen) noexcept {
    try {
      std::string key(1, for_gmatch ? 'g' : 'f');
      key.append(p, lp);
      *compiled_now = false;
      if (auto hit = index.find(key); hit != index.end()) {
        lru.splice(lru.begin(), lru, hit->second);
        return &lru.front();
      }
      std::shared_ptr<Compiled> fresh;
      if (!translate(p, lp, for_gmatch, fresh, err, errlen)) return nullptr;
      *compiled_now = true;
      fresh->key = key;
      lru.push_front(std::move(fresh));
      index[key] = lru.begin();
      while (lru.size() > kCacheSize) {
        index.erase(lru.back()->key);
        lru.pop_back();
      }
      return &lru.front();
    } catch (const std::exception& e) {
      std::snprintf(err, errlen, "cannot compile pattern: %s", e.what());
      return nullptr;
    }
  }
};

template <typename T>
int destroy_userdata(lua_State* L) {
  static_cast<T*>(lua_touserdata(L, 1))->~T();
  return 0;
}

Cache* get_cache(lua_State* L) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kCacheKey);
  auto* cache = static_cast<Cache*>(lua_touserdata(L, -1));
  lua_pop(L, 1);
  if (cache == nullptr || cache->context == nullptr) luaL_error(L, "pattern matching is not available");
  return cache;
}

const std::shared_ptr<Compiled>* compiled_or_raise(lua_State* L, Cache* cache, const char* p, size_t lp,
                                                   bool for_gmatch) {
  char err[256];
  bool compiled_now = false;
  const std::shared_ptr<Compiled>* slot = cache->lookup(p, lp, for_gmatch, &compiled_now, err, sizeof err);
  if (slot == nullptr) luaL_error(L, "%s", err);
  if (compiled_now && LuaState::from(L)->charge(1 + lp)) LuaState::raise_stop(L);
  return slot;
}

// Pushes a userdata that keeps the compiled pattern alive while Lua code runs.
void push_pin(lua_State* L, const std::shared_ptr<Compiled>& c) {
  luaL_getmetatable(L, kPinMeta);
  void* ud = lua_newuserdatauv(L, sizeof(std::shared_ptr<Compiled>), 0);
  new (ud) std::shared_ptr<Compiled>(c);  // nothrow: copying a shared_ptr
  lua_insert(L, -2);
  lua_setmetatable(L, -2);
}

// ---- matching ---------------------------------------------------------------------------

[[noreturn]] void stop_at_limit(lua_State* L, const char* fname) {
  LuaState* state = LuaState::from(L);
  state->charge(state->limits().instructions_per_call + 1);  // the call is stopped for good
  LuaState::push_where(L);  // the Lua line that called string.find, ...
  lua_pushfstring(L,
                  "rule stopped: %s: pattern matching exceeded its limit (a pattern with many optional or repeated "
                  "items backtracks exponentially; simplify it or check the text's length first)",
                  fname);
  lua_concat(L, 2);
  LuaState::raise_recorded_stop(L);
}

// One pcre2_match from `offset`; true when it matched (the ovector of c->match has it).
// Raises the pattern's error when a malformed part was reached, and the stop when a limit
// or the budget ran out.
bool match_at(lua_State* L, Cache* cache, const Compiled* c, const char* s, size_t ls, size_t offset, bool anchored,
              const char* fname) {
  cache->run.compiled = c;
  cache->run.error = 0;
  auto started = std::chrono::steady_clock::now();
  int rc = pcre2_match(c->code, reinterpret_cast<PCRE2_SPTR>(s), ls, offset, anchored ? PCRE2_ANCHORED : 0, c->match,
                       cache->context);
  auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - started).count();
  if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT ||
      rc == PCRE2_ERROR_JIT_STACKLIMIT)
    stop_at_limit(L, fname);
  size_t scanned = (rc >= 0 ? pcre2_get_ovector_pointer(c->match)[1] : ls) - offset;
  uint64_t steps = 1 + scanned / kBytesPerStep + static_cast<uint64_t>(nanos > 0 ? nanos : 0) / kNanosPerStep;
  if (LuaState::from(L)->charge(steps)) LuaState::raise_stop(L);
  if (rc == PCRE2_ERROR_CALLOUT) {
    char msg[64];
    describe_error(cache->run.error, msg, sizeof msg);
    luaL_error(L, "%s", msg);
  }
  if (rc == PCRE2_ERROR_NOMATCH) return false;
  if (rc < 0) {
    PCRE2_UCHAR buf[160];
    pcre2_get_error_message(rc, buf, sizeof buf);
    luaL_error(L, "%s: pattern matching failed (PCRE2: %s)", fname, reinterpret_cast<const char*>(buf));
  }
  return true;
}

// Capture i of the last match (the whole match when the pattern has none and i is 0), as
// Lua reads it: false with *from/*len set for text, true for a position (pushed).
bool read_capture(lua_State* L, const Compiled* c, int i, size_t* from, size_t* len) {
  const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(c->match);
  if (i >= static_cast<int>(c->captures.size())) {
    if (i != 0) luaL_error(L, "invalid capture index %%%d", i + 1);
    *from = ov[0];
    *len = ov[1] - ov[0];
    return false;
  }
  const Capture& cap = c->captures[static_cast<size_t>(i)];
  if (cap.group == 0) luaL_error(L, "unfinished capture");
  *from = ov[2 * cap.group];
  if (cap.position) {
    lua_pushinteger(L, static_cast<lua_Integer>(*from) + 1);
    return true;
  }
  *len = ov[2 * cap.group + 1] - *from;
  return false;
}

void push_capture(lua_State* L, const Compiled* c, const char* s, int i) {
  size_t from = 0, len = 0;
  if (!read_capture(L, c, i, &from, &len)) lua_pushlstring(L, s + from, len);
}

// Pushes every capture, or the whole match when there are none and `whole` is set.
int push_captures(lua_State* L, const Compiled* c, const char* s, bool whole) {
  int n = c->captures.empty() ? (whole ? 1 : 0) : static_cast<int>(c->captures.size());
  luaL_checkstack(L, n, "too many captures");
  for (int i = 0; i < n; ++i) push_capture(L, c, s, i);
  return n;
}

// Lua's rule for a start position: negative counts from the end, 0 and too negative are 1.
size_t start_index(lua_Integer pos, size_t len) {
  if (pos > 0) return static_cast<size_t>(pos);
  if (pos == 0 || pos < -static_cast<lua_Integer>(len)) return 1;
  return len - static_cast<size_t>(-pos) + 1;
}

bool has_specials(const char* p, size_t lp) {
  for (size_t i = 0; i < lp; ++i)
    if (p[i] != '\0' && std::strchr("^$*+?.([%-", p[i]) != nullptr) return true;
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
  Cache* cache = get_cache(L);
  // Used before any Lua code can run, so it needs no pin.
  const Compiled* c = compiled_or_raise(L, cache, p, lp, false)->get();
  if (!match_at(L, cache, c, s, ls, init, c->anchored, find ? "string.find" : "string.match")) {
    luaL_pushfail(L);
    return 1;
  }
  if (!find) return push_captures(L, c, s, true);
  const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(c->match);
  lua_pushinteger(L, static_cast<lua_Integer>(ov[0]) + 1);
  lua_pushinteger(L, static_cast<lua_Integer>(ov[1]));
  return 2 + push_captures(L, c, s, false);
}

int str_find(lua_State* L) { return find_or_match(L, true); }
int str_match(lua_State* L) { return find_or_match(L, false); }

struct GMatch {
  std::shared_ptr<Compiled> compiled;
  size_t next = 0;           // where the next search starts
  size_t last_end = kNoMatch;  // where the previous match ended
};

int gmatch_next(lua_State* L) {
  size_t ls;
  const char* s = lua_tolstring(L, lua_upvalueindex(1), &ls);
  auto* g = static_cast<GMatch*>(lua_touserdata(L, lua_upvalueindex(2)));
  const Compiled* c = g->compiled.get();
  Cache* cache = get_cache(L);
  while (g->next <= ls) {
    if (!match_at(L, cache, c, s, ls, g->next, false, "string.gmatch")) break;
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(c->match);
    if (ov[1] == g->last_end) {  // empty, right where the last one ended: try one byte on
      g->next = ov[0] + 1;
      continue;
    }
    g->next = g->last_end = ov[1];
    return push_captures(L, c, s, true);
  }
  g->next = ls + 1;
  return 0;
}

int str_gmatch(lua_State* L) {
  size_t ls, lp;
  luaL_checklstring(L, 1, &ls);
  const char* p = luaL_checklstring(L, 2, &lp);
  size_t init = start_index(luaL_optinteger(L, 3, 1), ls) - 1;
  lua_settop(L, 2);
  Cache* cache = get_cache(L);
  const std::shared_ptr<Compiled>* slot = compiled_or_raise(L, cache, p, lp, true);
  luaL_getmetatable(L, kGMatchMeta);
  void* ud = lua_newuserdatauv(L, sizeof(GMatch), 0);
  auto* g = new (ud) GMatch();  // nothrow: a null shared_ptr and two sizes
  g->compiled = *slot;
  g->next = init > ls ? ls + 1 : init;
  lua_pushvalue(L, -2);
  lua_setmetatable(L, -2);
  // The iterator keeps the subject (upvalue 1) and its state (upvalue 2).
  lua_remove(L, -2);
  lua_remove(L, 2);
  lua_pushcclosure(L, gmatch_next, 2);
  return 1;
}

// gsub's replacement string: %0 the match, %1-%9 captures, %% a percent sign.
void add_replacement_text(lua_State* L, luaL_Buffer* b, const Compiled* c, const char* s) {
  size_t rl;
  const char* r = lua_tolstring(L, 3, &rl);
  const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(c->match);
  size_t k = 0;
  while (k < rl) {
    const void* esc = std::memchr(r + k, '%', rl - k);
    if (esc == nullptr) {
      luaL_addlstring(b, r + k, rl - k);
      return;
    }
    size_t at = static_cast<size_t>(static_cast<const char*>(esc) - r);
    luaL_addlstring(b, r + k, at - k);
    char what = at + 1 < rl ? r[at + 1] : '\0';
    if (what == '%') {
      luaL_addchar(b, '%');
    } else if (what == '0') {
      luaL_addlstring(b, s + ov[0], ov[1] - ov[0]);
    } else if (what >= '1' && what <= '9') {
      size_t from = 0, len = 0;
      if (read_capture(L, c, what - '1', &from, &len)) luaL_addvalue(b);
      else luaL_addlstring(b, s + from, len);
    } else {
      luaL_error(L, "invalid use of '%c' in replacement string", '%');
    }
    k = at + 2;
  }
}

// Adds the replacement for the match [from, to); false when the match was kept as it was.
bool add_replacement(lua_State* L, luaL_Buffer* b, const Compiled* c, const char* s, size_t from, size_t to, int type) {
  if (type == LUA_TFUNCTION) {
    lua_pushvalue(L, 3);
    int n = push_captures(L, c, s, true);
    lua_call(L, n, 1);  // may run a nested match on this pattern: c's ovector is stale after
  } else if (type == LUA_TTABLE) {
    push_capture(L, c, s, 0);
    lua_gettable(L, 3);
  } else {
    add_replacement_text(L, b, c, s);
    return true;
  }
  if (!lua_toboolean(L, -1)) {  // nil or false: keep the match
    lua_pop(L, 1);
    luaL_addlstring(b, s + from, to - from);
    return false;
  }
  if (!lua_isstring(L, -1)) luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
  luaL_addvalue(b);
  return true;
}

int str_gsub(lua_State* L) {
  size_t ls, lp;
  const char* s = luaL_checklstring(L, 1, &ls);
  const char* p = luaL_checklstring(L, 2, &lp);
  int type = lua_type(L, 3);
  lua_Integer max_n = luaL_optinteger(L, 4, static_cast<lua_Integer>(ls) + 1);
  luaL_argexpected(L, type == LUA_TNUMBER || type == LUA_TSTRING || type == LUA_TFUNCTION || type == LUA_TTABLE, 3,
                   "string/function/table");
  Cache* cache = get_cache(L);
  const std::shared_ptr<Compiled>* slot = compiled_or_raise(L, cache, p, lp, false);
  const Compiled* c = slot->get();
  if (type == LUA_TFUNCTION || type == LUA_TTABLE) push_pin(L, *slot);  // Lua code runs between matches
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  size_t pos = 0, last_end = kNoMatch;
  lua_Integer n = 0;
  bool changed = false;
  while (n < max_n) {
    if (!match_at(L, cache, c, s, ls, pos, c->anchored, "string.gsub")) break;
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(c->match);
    size_t from = ov[0], to = ov[1];
    if (to == last_end) {  // empty, right where the last one ended: keep one byte, go on
      if (from >= ls) break;
      luaL_addlstring(&b, s + pos, from + 1 - pos);
      pos = from + 1;
    } else {
      luaL_addlstring(&b, s + pos, from - pos);
      ++n;
      changed = add_replacement(L, &b, c, s, from, to, type) || changed;
      pos = last_end = to;
    }
    if (c->anchored) break;
  }
  if (!changed) {
    lua_pushvalue(L, 1);
  } else {
    luaL_addlstring(&b, s + pos, ls - pos);
    luaL_pushresult(&b);
  }
  lua_pushinteger(L, n);
  return 2;
}

}  // namespace

void install_budgeted_patterns(lua_State* L) {
  luaL_newmetatable(L, kPinMeta);
  lua_pushcfunction(L, destroy_userdata<std::shared_ptr<Compiled>>);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  luaL_newmetatable(L, kGMatchMeta);
  lua_pushcfunction(L, destroy_userdata<GMatch>);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  luaL_newmetatable(L, kCacheMeta);
  lua_pushcfunction(L, destroy_userdata<Cache>);
  lua_setfield(L, -2, "__gc");
  void* ud = lua_newuserdatauv(L, sizeof(Cache), 0);
  new (ud) Cache();  // an allocation failure inside leaves context null: matching then raises
  lua_insert(L, -2);
  lua_setmetatable(L, -2);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kCacheKey);

  lua_getglobal(L, LUA_STRLIBNAME);
  static const luaL_Reg fns[] = {{"find", str_find}, {"match", str_match}, {"gmatch", str_gmatch}, {"gsub", str_gsub}};
  for (const auto& f : fns) {
    lua_pushcfunction(L, f.func);
    lua_setfield(L, -2, f.name);
  }
  lua_pop(L, 1);
}

}  // namespace seam
