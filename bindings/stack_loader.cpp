#include "bindings/stack_loader.hpp"

#include <fcntl.h>
#include <lua.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <tuple>
#include <sstream>

#include "bindings/embedded.hpp"
#include "bindings/lua_values.hpp"
#include "bindings/sandbox.hpp"
#include "engine/value/time.hpp"
#include "connectors/connector.hpp"
#include "engine/alerts/alerts.hpp"
#include "engine/rules/cardinality.hpp"
#include "engine/util/digest.hpp"
#include "engine/util/result.hpp"

namespace fs = std::filesystem;

namespace seam {
namespace {

// What include() and the loader share while a stack loads.
struct LoadContext {
  std::string dir;                              // the stack folder, as the user named it
  std::string real_dir;                         // the same, resolved (realpath)
  std::vector<std::pair<std::string, std::string>> sources;  // chunk name → text, in load order
  std::set<std::string> included;
  LuaState* lua = nullptr;
  // When loading again for another thread: the texts the first load read, by chunk name,
  // taken instead of the files, so every state runs the code the run's digest seals.
  const std::vector<std::pair<std::string, std::string>>* pinned = nullptr;
};

const std::string* pinned_text(const LoadContext& ctx, const std::string& chunk) {
  if (!ctx.pinned) return nullptr;
  for (const auto& [name, text] : *ctx.pinned)
    if (name == chunk) return &text;
  return nullptr;
}

// Reads a file that must be a regular one. Opened non-blocking and checked with fstat on
// the open descriptor, so a FIFO cannot stall the load and cannot be swapped in after a
// check. Returns an empty string and sets `problem` ("is a directory", ...) otherwise.
std::string read_regular_file(const std::string& path, std::string& problem) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    problem = std::string("cannot be read (") + std::strerror(errno) + ")";
    return {};
  }
  struct stat st {};
  std::string text;
  if (::fstat(fd, &st) != 0) problem = std::string("cannot be read (") + std::strerror(errno) + ")";
  else if (S_ISDIR(st.st_mode)) problem = "is a directory, not a Lua file";
  else if (!S_ISREG(st.st_mode)) problem = "is not a regular file (a FIFO, socket or device); only Lua files can be included";
  else {
    text.resize(static_cast<size_t>(st.st_size));
    size_t got = 0;
    for (;;) {
      if (got == text.size()) text.resize(text.size() + 4096);  // the file may have grown
      ssize_t n = ::read(fd, text.data() + got, text.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        problem = std::string("cannot be read (") + std::strerror(errno) + ")";
        break;
      }
      if (n == 0) break;
      got += static_cast<size_t>(n);
    }
    text.resize(got);
  }
  ::close(fd);
  return problem.empty() ? text : std::string();
}

// Where an include may read from: the stack folder, by its real path. (The rules/
// libraries seam ships are compiled in and never read from disk.)
bool inside(const std::string& real, const std::string& root) {
  return real.size() > root.size() && real.compare(0, root.size(), root) == 0 && real[root.size()] == '/';
}

const embedded::File* find_embedded(std::string_view path) {
  for (const auto& f : embedded::files())
    if (f.path == path) return &f;
  return nullptr;
}

std::string join_path(const std::string& dir, const std::string& name) {
  if (dir.empty() || dir == ".") return name;
  return (fs::path(dir) / name).lexically_normal().string();
}

// Registry key of the light userdata pointing at the LoadContext, set only while
// load_stack runs: a rule calling include() later must not reach a dead frame.
char kLoadContextKey;

// include(name): privileged; returns the loaded chunk, or nil and a message.
int load_chunk(lua_State* L) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kLoadContextKey);
  auto* ctx = static_cast<LoadContext*>(lua_touserdata(L, -1));
  lua_pop(L, 1);
  const char* name = luaL_checkstring(L, 1);
  if (ctx == nullptr) {  // the context lived on load_stack's frame, long gone
    lua_pushnil(L);
    lua_pushfstring(L, "include \"%s\": include works only while the stack loads; call it at the top level of the "
                       "stack file or a library, not inside a rule or mapping function", name);
    return 2;
  }
  char problem[1024] = "";
  int status = LUA_OK;
  bool already = false;
  {
    std::string chunk_name, text, resolved;
    std::string n = name;
    bool library = n.find('/') == std::string::npos && n.find(".lua") == std::string::npos;
    const embedded::File* lib = library ? find_embedded("rules/" + n + ".lua") : nullptr;
    if (lib) {
      chunk_name = std::string(lib->path);
      text = std::string(lib->text);
    } else {
      std::string file = library ? n + ".lua" : n;
      fs::path p(file);
      bool escapes = p.is_absolute();
      for (const auto& part : p) escapes = escapes || part == "..";
      std::string path = join_path(ctx->dir, file);
      std::error_code ec;
      std::string real = escapes ? "" : fs::canonical(path, ec).string();  // realpath: links resolved
      std::string why;
      if (escapes) {
        std::snprintf(problem, sizeof problem, "include \"%s\": only files inside the stack folder can be included", name);
      } else if (real.empty()) {
        std::string libs;
        for (const auto& l : rule_library_names()) libs += (libs.empty() ? "" : ", ") + l;
        std::snprintf(problem, sizeof problem, "include \"%s\": no rule library of that name (seam ships: %s) and no file %s",
                      name, libs.c_str(), path.c_str());
      } else if (!inside(real, ctx->real_dir)) {
        // A symbolic link (of the file or a folder on the way) pointing out of the stack.
        std::snprintf(problem, sizeof problem,
                      "include \"%s\": %s resolves to %s, outside the stack folder %s; only files inside the stack "
                      "folder can be included",
                      name, path.c_str(), real.c_str(), ctx->real_dir.c_str());
      } else if (const std::string* fixed = pinned_text(*ctx, path)) {
        text = *fixed;
        chunk_name = path;
        resolved = real;
      } else if (text = read_regular_file(real, why); !why.empty()) {
        std::snprintf(problem, sizeof problem, "include \"%s\": %s %s", name, path.c_str(), why.c_str());
      } else {
        chunk_name = path;
        resolved = real;
      }
    }
    if (!problem[0]) {
      // Deduplicated by real path: one file reached under two names is still one file.
      already = !ctx->included.insert(resolved.empty() ? chunk_name : resolved).second;
      if (!already) {
        ctx->sources.emplace_back(chunk_name, text);
        std::string at = "@" + chunk_name;
        status = luaL_loadbufferx(L, text.data(), text.size(), at.c_str(), "t");
      }
    }
  }
  if (problem[0]) {
    lua_pushnil(L);
    lua_pushstring(L, problem);
    return 2;
  }
  if (already) {  // a second include of the same file does nothing
    luaL_loadstring(L, "return");
    return 1;
  }
  if (status != LUA_OK) {
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
  }
  return 1;
}

// ---- reading the declarations table -------------------------------------------------------

// "stack.lua:12: rule 'x' has severity 'urgent' (expected info, ...)" when `text` is not one.
Severity severity_at(const SourceLoc& loc, const std::string& what, const std::string& text) {
  auto parsed = parse_severity(text);
  if (!parsed) throw UserError(loc.str() + ": " + what + " '" + text + "' (expected info, low, medium, high or critical)");
  return *parsed;
}

class DeclReader {
 public:
  explicit DeclReader(lua_State* L) : L_(L) {}
  // All getters read the table on top of the stack.
  std::string str(const char* key) {
    lua_getfield(L_, -1, key);
    std::string out = lua_type(L_, -1) == LUA_TSTRING ? lua_tostring(L_, -1) : "";
    lua_pop(L_, 1);
    return out;
  }
  std::optional<std::string> opt_str(const char* key) {
    lua_getfield(L_, -1, key);
    std::optional<std::string> out;
    if (lua_type(L_, -1) == LUA_TSTRING) out = lua_tostring(L_, -1);
    lua_pop(L_, 1);
    return out;
  }
  int integer(const char* key) {
    lua_getfield(L_, -1, key);
    int out = static_cast<int>(lua_tointeger(L_, -1));
    lua_pop(L_, 1);
    return out;
  }
  std::optional<bool> opt_bool(const char* key) {
    lua_getfield(L_, -1, key);
    std::optional<bool> out;
    if (lua_isboolean(L_, -1)) out = lua_toboolean(L_, -1);
    lua_pop(L_, 1);
    return out;
  }
  SourceLoc loc() { return {str("file"), integer("line")}; }
  std::map<std::string, std::string> string_map(const char* key) {
    std::map<std::string, std::string> out;
    lua_getfield(L_, -1, key);
    if (lua_istable(L_, -1)) {
      lua_pushnil(L_);
      while (lua_next(L_, -2)) {
        if (lua_type(L_, -2) == LUA_TSTRING && lua_type(L_, -1) == LUA_TSTRING)
          out[lua_tostring(L_, -2)] = lua_tostring(L_, -1);
        lua_pop(L_, 1);
      }
    }
    lua_pop(L_, 1);
    return out;
  }
  std::map<std::string, int64_t> integer_map(const char* key) {
    std::map<std::string, int64_t> out;
    lua_getfield(L_, -1, key);
    if (lua_istable(L_, -1)) {
      lua_pushnil(L_);
      while (lua_next(L_, -2)) {
        if (lua_type(L_, -2) == LUA_TSTRING && lua_isinteger(L_, -1)) out[lua_tostring(L_, -2)] = lua_tointeger(L_, -1);
        lua_pop(L_, 1);
      }
    }
    lua_pop(L_, 1);
    return out;
  }
  std::vector<std::string> string_list(const char* key) {
    std::vector<std::string> out;
    lua_getfield(L_, -1, key);
    if (lua_istable(L_, -1)) {
      for (lua_Integer i = 1; lua_rawgeti(L_, -1, i) == LUA_TSTRING; ++i) {
        out.emplace_back(lua_tostring(L_, -1));
        lua_pop(L_, 1);
      }
      lua_pop(L_, 1);  // the value that ended the loop
    }
    lua_pop(L_, 1);
    return out;
  }
  NumberRef number_ref(const char* key, const SourceLoc& loc) {
    NumberRef ref;
    lua_getfield(L_, -1, key);
    if (lua_istable(L_, -1)) {
      ref.set = true;
      std::string param = str("param"), literal = str("literal");
      if (!param.empty()) ref.param = param;
      else {
        auto d = parse_decimal(literal);
        if (!d) {
          lua_pop(L_, 1);
          throw UserError(loc.str() + ": " + key + ": " + d.error());
        }
        ref.literal = *d;
      }
    }
    lua_pop(L_, 1);
    return ref;
  }
  // Calls f for each element of the array at `key`, with the element on top.
  template <typename F>
  void each(const char* key, F f) {
    lua_getfield(L_, -1, key);
    if (lua_istable(L_, -1)) {
      for (lua_Integer i = 1; lua_rawgeti(L_, -1, i) == LUA_TTABLE; ++i) {
        f();
        lua_pop(L_, 1);
      }
      lua_pop(L_, 1);  // the nil that ended the loop
    }
    lua_pop(L_, 1);
  }
  // Runs f with the sub-table at `key` on top, when it is a table.
  template <typename F>
  void with(const char* key, F f) {
    lua_getfield(L_, -1, key);
    if (lua_istable(L_, -1)) f();
    lua_pop(L_, 1);
  }
  bool has(const char* key) {
    lua_getfield(L_, -1, key);
    bool yes = !lua_isnil(L_, -1);
    lua_pop(L_, 1);
    return yes;
  }
  bool has_function(const char* key) {
    lua_getfield(L_, -1, key);
    bool yes = lua_isfunction(L_, -1);
    lua_pop(L_, 1);
    return yes;
  }

 private:
  lua_State* L_;
};

std::string source_lines(const LoadContext& ctx, const std::string& chunk, int first, int last) {
  for (const auto& [name, text] : ctx.sources) {
    if (name != chunk) continue;
    std::string out;
    int line = 1;
    size_t start = 0;
    while (start <= text.size() && line <= last) {
      size_t nl = text.find('\n', start);
      size_t end = nl == std::string::npos ? text.size() : nl;
      if (line >= first) out.append(text, start, end - start).push_back('\n');
      if (nl == std::string::npos) break;
      start = nl + 1;
      ++line;
    }
    return out;
  }
  return {};
}

ReferenceNormalize read_normalize(DeclReader& d, const char* key) {
  ReferenceNormalize n;
  d.with(key, [&] {
    n.ignore_case = d.opt_bool("ignore_case").value_or(false);
    n.trim = d.opt_bool("trim").value_or(true);
    n.remove_spaces = d.opt_bool("remove_spaces").value_or(false);
    n.strip_leading_zeros = d.opt_bool("strip_leading_zeros").value_or(false);
    n.regex = d.str("regex");
  });
  return n;
}

std::string normalize_definition(const ReferenceNormalize& n) {
  return std::string(n.ignore_case ? "i" : "") + (n.trim ? "t" : "") + (n.remove_spaces ? "s" : "") +
         (n.strip_leading_zeros ? "z" : "") + (n.regex.empty() ? "" : "/" + n.regex + "/");
}

MatchStrategySpec read_strategy(DeclReader& d) {
  MatchStrategySpec m;
  m.name = d.str("name");
  m.loc = d.loc();
  m.keyed = d.opt_bool("keyed").value_or(true);
  std::ostringstream def;
  if (m.keyed) {
    m.left_key = d.string_list("left_key");
    m.right_key = d.string_list("right_key");
    m.key_normalize = read_normalize(d, "normalize");
    def << "key";
    for (const auto& k : m.left_key) def << " " << k;
    def << " =";
    for (const auto& k : m.right_key) def << " " << k;
    if (m.key_normalize.any()) def << " normalize=" << normalize_definition(m.key_normalize);
    m.definition = def.str();
    return m;
  }
  m.amount_left = d.str("amount_left");
  m.amount_right = d.str("amount_right");
  m.tolerance = d.number_ref("tolerance", m.loc);
  m.tolerance_pct = d.number_ref("tolerance_pct", m.loc);
  std::string base = d.str("base");
  for (auto b : {ToleranceBase::Left, ToleranceBase::Right, ToleranceBase::Larger, ToleranceBase::Smaller})
    if (base == tolerance_base_name(b)) m.base = b;
  m.time_left = d.str("time_left");
  m.time_right = d.str("time_right");
  m.time_min = d.number_ref("time_min", m.loc);
  m.time_max = d.number_ref("time_max", m.loc);
  if (auto u = d.opt_str("time_unit")) m.time_unit = *u;
  if (auto z = d.opt_str("zone")) m.zone = *z;
  std::string dir = d.str("direction");
  m.direction = dir == "after" ? TimeDirection::RightAfter : dir == "before" ? TimeDirection::RightBefore : TimeDirection::Either;
  m.ref_left = d.str("ref_left");
  m.ref_right = d.str("ref_right");
  m.ref_normalize = read_normalize(d, "ref_normalize");
  std::string mode = d.str("ref_mode");
  m.ref_mode = mode == "contains" ? ReferenceMode::Contains : mode == "similar" ? ReferenceMode::Similar : ReferenceMode::Equal;
  m.method = d.str("method") == "levenshtein" ? SimilarityMethod::Levenshtein : SimilarityMethod::JaroWinkler;
  m.threshold = d.number_ref("threshold", m.loc);
  if (d.has("max_candidates")) m.max_candidates = d.integer("max_candidates");
  m.sum = d.str("sum");
  if (d.has("max_records")) m.max_records = d.integer("max_records");
  def << "candidates";
  if (!m.amount_left.empty())
    def << " amount " << m.amount_left << "~" << m.amount_right << " tolerance=" << m.tolerance.str()
        << " pct=" << m.tolerance_pct.str() << " base=" << tolerance_base_name(m.base);
  if (!m.time_left.empty())
    def << " time " << m.time_left << "~" << m.time_right << " " << m.time_min.str() << ".." << m.time_max.str() << " "
        << m.time_unit << " zone=" << m.zone << " direction=" << (dir.empty() ? "either" : dir);
  if (!m.ref_left.empty())
    def << " reference " << m.ref_left << "~" << m.ref_right << " " << (mode.empty() ? "equal" : mode)
        << (m.ref_mode == ReferenceMode::Similar
                ? std::string(" ") + (m.method == SimilarityMethod::Levenshtein ? "levenshtein" : "jaro_winkler") +
                      ">=" + m.threshold.str()
                : "")
        << " normalize=" << normalize_definition(m.ref_normalize);
  def << " max_candidates=" << m.max_candidates;
  if (!m.sum.empty()) def << " sum=" << m.sum << " max_records=" << m.max_records;
  m.definition = def.str();
  return m;
}

std::string rule_definition(const RuleSpec& r, const std::string& lua_source) {
  std::ostringstream d;
  d << rule_kind_name(r.kind) << "\nseverity=" << severity_name(r.severity);
  // Only what is declared, so the versions of rules declaring no cause (or one, as before
  // lists were allowed) stay as they were.
  for (const CauseSpec& c : r.causes) {
    d << "\ncaused_by=" << c.reconcile << "/" << c.rule;
    if (!c.via.empty()) d << " via=" << (c.via_side.empty() ? "" : c.via_side + ".") << c.via;
    if (!c.explains.empty()) d << " explains=" << c.explains;
  }
  if (r.kind == RuleKind::Lua) {
    d << "\n" << lua_source;
    return d.str();
  }
  d << "\nside=" << side_name(r.side) << "\nfield=" << r.field;
  // Only when used: rule versions (digests of this text) of existing stacks stay as they were.
  if (!r.fields.empty()) {
    d << "\nfields=";
    for (const auto& f : r.fields) d << f << ";";
  }
  // unique's scope changed meaning (the whole system before, the group now): its version says so.
  if (r.kind == RuleKind::Unique) d << "\nscope=" << (r.system_scope ? "system" : "group");
  if (r.kind == RuleKind::Cardinality)
    d << "\nlimits=" << (r.limit_left ? "left" : "") << (r.limit_left && r.limit_right ? "," : "")
      << (r.limit_right ? "right" : "");
  // Options added later are written only when used: existing rules keep their versions.
  if (r.tolerance_base != ToleranceBase::Left) d << "\nbase=" << tolerance_base_name(r.tolerance_base);
  if (r.ignore_case) d << "\nignore_case=true";
  if (r.trim) d << "\ntrim=true";
  if (!r.values.empty()) {
    d << "\nvalues=";
    for (const auto& v : r.values) d << v << ";";
  }
  if (r.min_minutes.set) d << "\nmin_minutes=" << r.min_minutes.str();
  if (r.kind == RuleKind::Within && r.days.set) d << "\ndays=" << r.days.str() << "\nmin_days=" << r.min_days.str() << "\nzone=" << r.zone;
  if (r.direction != TimeDirection::Either)
    d << "\ndirection=" << (r.direction == TimeDirection::RightAfter ? "after" : "before");
  if (r.anchor != "each") d << "\nanchor=" << r.anchor;
  if (r.kind == RuleKind::SamePeriod) d << "\nperiod=" << r.period << "\nzone=" << r.zone;
  if (!r.left_entry.empty()) d << "\nentries=" << r.left_entry << "~" << r.right_entry;
  if (r.window_minutes.set) d << "\nwindow_minutes=" << r.window_minutes.str();
  // ledger_equal pairs entries by amount and time now, not by position: its version says so.
  if (r.kind == RuleKind::LedgerEqual) d << "\npairing=amount-time";
  d << "\nleft=" << r.left_field
    << "\nright=" << r.right_field << "\nsince=" << r.since_field
    << (r.kind == RuleKind::LedgerEqual ? "\nleft_time=" + r.left_time + "\nright_time=" + r.right_time : "")
    << (r.kind == RuleKind::LowStock ? "\nsales=" + r.sales_field + "@" + r.sales_time + "\ndays=" + r.days.str() +
                                           "\nfactor=" + r.factor.str()
                                     : "") << "\ngrace_minutes=" << r.grace_minutes.str()
    << "\ntolerance=" << r.tolerance.str() << "\ntolerance_pct=" << r.tolerance_pct.str()
    << "\nminutes=" << r.minutes.str() << "\nsum_left=" << (r.sum_left ? (*r.sum_left ? "true" : "false") : "default")
    << "\nsum_right=" << (r.sum_right ? (*r.sum_right ? "true" : "false") : "default") << "\nmap=";
  for (const auto& [k, v] : r.map) d << k << "=>" << v << ";";
  return d.str();
}

FieldKind field_kind(const std::string& k) {
  static const std::map<std::string, FieldKind> kinds = {
      {"column", FieldKind::Column},   {"money", FieldKind::Money},       {"time", FieldKind::Time},
      {"map_values", FieldKind::MapValues}, {"constant", FieldKind::Constant}, {"extract", FieldKind::Extract},
      {"integer", FieldKind::Integer}, {"quantity", FieldKind::Quantity}, {"concat", FieldKind::Concat},
      {"lua", FieldKind::Lua}};
  return kinds.at(k);
}

RuleKind rule_kind(const std::string& k) {
  static const std::map<std::string, RuleKind> kinds = {
      {"exists_in", RuleKind::ExistsIn}, {"amount_equal", RuleKind::AmountEqual}, {"value_map", RuleKind::ValueMap},
      {"quantity_equal", RuleKind::QuantityEqual}, {"ledger_equal", RuleKind::LedgerEqual},
      {"low_stock", RuleKind::LowStock},
      {"equal", RuleKind::Equal},        {"within", RuleKind::Within},  {"same_period", RuleKind::SamePeriod},            {"unique", RuleKind::Unique},
      {"value_in", RuleKind::ValueIn},   {"value_not_in", RuleKind::ValueNotIn},
      {"present", RuleKind::Present},    {"lua", RuleKind::Lua}};
  return kinds.at(k);
}

StackSpec read_decls(lua_State* L, LuaScriptHost& host, LoadContext& ctx) {
  DeclReader d(L);
  StackSpec spec;
  spec.name = d.str("name");
  d.with("accounting_zone", [&] {
    spec.accounting_zone = d.str("zone");
    if (auto z = find_zone(spec.accounting_zone); !z)
      throw UserError(d.loc().str() + ": accounting_zone: " + z.error());
  });
  d.each("params", [&] {
    ParamSpec p;
    p.name = d.str("name");
    p.loc = d.loc();
    std::string type = d.str("type");
    for (auto t : {ParamType::Integer, ParamType::Number, ParamType::Money, ParamType::Text, ParamType::Boolean})
      if (type == param_type_name(t)) p.type = t;
    p.default_text = d.str("default");
    for (auto [key, slot] : {std::pair{"min", &p.min}, std::pair{"max", &p.max}}) {
      if (auto v = d.opt_str(key)) {
        auto dec = parse_decimal(*v);
        if (!dec) throw UserError(p.loc.str() + ": param '" + p.name + "' " + key + ": " + dec.error());
        *slot = *dec;
      }
    }
    p.unit = d.str("unit");
    p.doc = d.str("doc");
    spec.params.push_back(std::move(p));
  });
  d.each("systems", [&] {
    SystemSpec s;
    s.name = d.str("name");
    s.loc = d.loc();
    s.id_field = d.str("id");
    s.record_time_field = d.str("record_time");
    s.amount_field = d.str("amount");
    d.with("only", [&] {
      s.only_any = d.opt_bool("any").value_or(false);
      d.each("conditions", [&] { s.only.push_back({d.str("field"), d.string_list("values"), d.str("matches")}); });
    });
    d.with("source", [&] {
      s.source.kind = d.str("kind");
      s.source.loc = d.loc();
      std::string path = d.str("path");
      s.source.path = fs::path(path).is_absolute() ? path : join_path(ctx.dir, path);
      s.source.options = d.string_map("options");
    });
    d.each("fields", [&] {
      FieldSpec f;
      f.name = d.str("name");
      f.kind = field_kind(d.str("kind"));
      f.loc = d.loc();
      f.column = d.str("column");
      f.currency = d.str("currency");
      f.currency_column = d.str("currency_column");
      if (d.str("decimal") == ",") f.money_format.decimal = ',';
      f.money_format.minor_units = d.opt_bool("minor_units").value_or(false);
      f.money_format.credit_negative = d.str("credit_sign") != "positive";
      f.money_format.dash_zero = d.str("dash") == "zero";
      f.columns = d.string_list("columns");
      f.separator = d.str("separator");
      f.null_if = d.string_list("null_if");
      f.negate = d.opt_bool("negate").value_or(false);
      f.abs = d.opt_bool("abs").value_or(false);
      f.trim = d.opt_bool("trim").value_or(false);
      std::string text_case = d.str("case");
      f.text_case = text_case == "lower" ? TextCase::Lower : text_case == "upper" ? TextCase::Upper : TextCase::Keep;
      f.debit_column = d.str("debit");
      f.credit_column = d.str("credit");
      d.with("column_by", [&] {
        f.column_by.field = d.str("field");
        f.column_by.columns = d.string_map("columns");
        f.column_by.negate = d.string_list("negate");
      });
      f.time_format = d.str("format");
      f.zone = d.str("zone");
      f.map = d.string_map("map");
      // map_values' default is the value of an unmapped one; every other kind's, the text
      // read when the value is missing or empty.
      (f.kind == FieldKind::MapValues ? f.map_default : f.default_text) = d.opt_str("default");
      f.constant = d.str("value");
      f.regex = d.str("regex");
      f.unit = d.str("unit");
      f.unit_column = d.str("unit_column");
      f.sku_column = d.str("sku_column");
      f.required = d.opt_bool("required").value_or(false);
      if (f.kind == FieldKind::Lua) {
        lua_getfield(L, -1, "fn");
        f.lua_fn = host.keep_function();
      }
      s.fields.push_back(std::move(f));
    });
    spec.systems.push_back(std::move(s));
  });
  d.each("reconciles", [&] {
    ReconcileSpec r;
    r.name = d.str("name");
    r.loc = d.loc();
    r.left = d.str("left");
    r.right = d.str("right");
    r.system_of_record = d.str("system_of_record");
    r.chain = d.str("chain");
    r.key_by = d.str("key_by");
    r.left_key = d.string_list("left_key");
    r.right_key = d.string_list("right_key");
    std::string card = d.str("cardinality");
    for (auto c : {Cardinality::OneToOne, Cardinality::OneToMany, Cardinality::ManyToOne, Cardinality::ManyToMany})
      if (card == cardinality_name(c)) r.cardinality = c;
    d.each("strategies", [&] { r.strategies.push_back(read_strategy(d)); });
    d.each("rules", [&] {
      RuleSpec rule;
      rule.kind = rule_kind(d.str("kind"));
      rule.name = d.str("name");
      rule.loc = d.loc();
      rule.doc = d.str("doc");
      if (auto sev = d.opt_str("severity")) rule.severity = severity_at(rule.loc, "rule '" + rule.name + "' has severity", *sev);
      rule.side = d.str("side") == "left" ? Side::Left : Side::Right;
      rule.field = d.str("field");
      rule.fields = d.string_list("fields");
      rule.values = d.string_list("values");
      rule.ignore_case = d.opt_bool("ignore_case").value_or(false);
      rule.trim = d.opt_bool("trim").value_or(false);
      if (auto b = d.opt_str("base"))
        for (auto tb : {ToleranceBase::Left, ToleranceBase::Right, ToleranceBase::Larger, ToleranceBase::Smaller})
          if (*b == tolerance_base_name(tb)) rule.tolerance_base = tb;
      rule.min_minutes = d.number_ref("min_minutes", rule.loc);
      rule.min_days = d.number_ref("min_days", rule.loc);
      rule.zone = d.str("zone");
      // The books' zone, unless the rule names its own: a month's cut-off is the books'.
      if (rule.zone.empty() && rule.kind == RuleKind::SamePeriod)
        rule.zone = spec.accounting_zone.empty() ? "UTC" : spec.accounting_zone;
      if (auto dir = d.opt_str("direction"))
        rule.direction = *dir == "after" ? TimeDirection::RightAfter : *dir == "before" ? TimeDirection::RightBefore
                                                                                          : TimeDirection::Either;
      if (auto a = d.opt_str("anchor")) rule.anchor = *a;
      rule.period = d.str("period");
      rule.system_scope = d.str("scope") == "system";
      rule.left_field = d.str("left");
      rule.right_field = d.str("right");
      rule.since_field = d.str("since");
      d.each("causes", [&] {
        rule.causes.push_back({d.str("reconcile"), d.str("rule"), d.str("via"), d.str("via_side"), d.str("explains")});
      });
      rule.sales_field = d.str("sales_field");
      rule.sales_time = d.str("sales_time");
      rule.days = d.number_ref("days", rule.loc);
      rule.factor = d.number_ref("factor", rule.loc);
      rule.left_time = d.str("left_time");
      rule.left_entry = d.str("left_entry");
      rule.right_entry = d.str("right_entry");
      rule.window_minutes = d.number_ref("window_minutes", rule.loc);
      rule.right_time = d.str("right_time");
      rule.grace_minutes = d.number_ref("grace", rule.loc);
      rule.tolerance = d.number_ref("tolerance", rule.loc);
      rule.tolerance_pct = d.number_ref("tolerance_pct", rule.loc);
      rule.minutes = d.number_ref("minutes", rule.loc);
      rule.sum_left = d.opt_bool("sum_left");
      rule.sum_right = d.opt_bool("sum_right");
      rule.map = d.string_map("map");
      std::string lua_source;
      if (rule.kind == RuleKind::Lua) {
        lua_source = source_lines(ctx, d.str("fn_source"), d.integer("fn_first"), d.integer("fn_last"));
        lua_getfield(L, -1, "fn");
        rule.lua_fn = host.keep_function();
      }
      // unique/present without ".field" mean the side's match key.
      if ((rule.kind == RuleKind::Unique || rule.kind == RuleKind::Present) && rule.field.empty() && rule.fields.empty()) {
        const auto& key = rule.side == Side::Left ? r.left_key : r.right_key;
        if (rule.kind == RuleKind::Unique && key.size() > 1) rule.fields = key;  // the whole composite key
        else rule.field = key.empty() ? "" : key[0];
      }
      rule.definition = rule_definition(rule, lua_source);
      rule.version = sha256_hex(rule.definition).substr(0, 16);
      r.rules.push_back(std::move(rule));
    });
    if (auto card = cardinality_rule(r)) {
      card->definition = rule_definition(*card, "");
      card->version = sha256_hex(card->definition).substr(0, 16);
      r.rules.push_back(std::move(*card));
    }
    spec.reconciles.push_back(std::move(r));
  });
  d.with("units", [&] {
    spec.units.base = d.str("base");
    spec.units.per_unit = d.integer_map("factors");
    d.with("per_sku", [&] {
      lua_pushnil(L);
      while (lua_next(L, -2)) {
        if (lua_type(L, -2) == LUA_TSTRING && lua_istable(L, -1)) {
          std::string sku = lua_tostring(L, -2);
          lua_pushnil(L);
          while (lua_next(L, -2)) {
            if (lua_type(L, -2) == LUA_TSTRING) spec.units.per_sku[sku][lua_tostring(L, -2)] = lua_tointeger(L, -1);
            lua_pop(L, 1);
          }
        }
        lua_pop(L, 1);
      }
    });
  });
  for (auto& sys : spec.systems) sys.units = spec.units;
  SourceLoc currencies_loc;
  d.with("currencies", [&] {
    currencies_loc = d.loc();
    for (const auto& [code, scale] : d.integer_map("codes")) spec.currencies[code] = static_cast<int>(scale);
  });
  // Declared for the process while the stack loads, so `seam check` and a run see the same.
  for (const auto& [code, scale] : spec.currencies)
    if (std::string why = declare_currency(pack_currency(code), scale); !why.empty())
      throw UserError(currencies_loc.str() + ": currencies { " + code + " = " + std::to_string(scale) + " }: " + why);
  d.each("alerts", [&] {
    AlertSpec a;
    a.name = d.str("name");
    a.loc = d.loc();
    a.kind = d.str("kind");
    a.target = d.str("target");
    a.argv = d.string_list("argv");
    a.min_severity = severity_at(a.loc, "alert '" + a.name + "' has min_severity", d.str("min_severity"));
    a.attempts = d.integer("attempts");
    a.backoff_ms = d.integer("backoff_ms");
    a.timeout_seconds = d.integer("timeout_seconds");
    // A file sink's path is the stack folder's, like a connector's.
    // Absolute, so `seam alerts retry` from another folder writes to the same file.
    if (a.kind == "ndjson_file") a.target = fs::absolute(join_path(ctx.dir, a.target)).lexically_normal().string();
    spec.alerts.push_back(std::move(a));
  });
  return spec;
}

std::string with_hint(const std::string& msg) {
  if (msg.find(" near ") != std::string::npos || msg.find("expected") != std::string::npos)
    return msg + "\n  hint: a missing comma between table entries, or an unclosed { or ( on this line or the one before, is the usual cause";
  return msg;
}

}  // namespace

std::vector<std::string> rule_library_names() {
  std::vector<std::string> out;
  for (const auto& f : embedded::files())
    if (f.path.substr(0, 6) == "rules/") out.emplace_back(f.path.substr(6, f.path.size() - 10));
  return out;
}

namespace {

using Sources = std::vector<std::pair<std::string, std::string>>;

// Loads the stack file `file` whose text is `text`; with `pinned`, included files are
// taken from it rather than read (a replica for another thread).
LoadedStack load_text(const std::string& file, const std::string* text, LuaLimits limits, const Sources* pinned) {
  std::error_code ec;
  LoadContext ctx;
  ctx.pinned = pinned;
  ctx.dir = fs::path(file).parent_path().string();
  if (ctx.dir.empty()) ctx.dir = ".";
  ctx.sources.emplace_back(file, *text);
  ctx.real_dir = fs::canonical(ctx.dir, ec).string();
  ctx.included.insert(fs::canonical(file, ec).string());

  LoadedStack out;
  out.host = std::make_unique<LuaScriptHost>(limits);
  LuaState& lua = out.host->lua();
  ctx.lua = &lua;
  lua_State* L = lua.L();
  open_sandbox(lua);
  register_value_types(L);

  // The prelude, with its privileged helpers.
  const embedded::File* prelude = find_embedded("bindings/prelude.lua");
  lua.load(prelude->text, "bindings/prelude.lua");
  lua_createtable(L, 0, 3);
  lua_getglobal(L, "debug");
  lua_getfield(L, -1, "getinfo");
  lua_setfield(L, -3, "getinfo");
  lua_pop(L, 1);
  lua_pushlightuserdata(L, &ctx);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kLoadContextKey);
  lua_pushcfunction(L, load_chunk);
  lua_setfield(L, -2, "load_chunk");
  lua_newtable(L);
  int i = 1;
  for (const auto& kind : connector_kinds()) {
    lua_newtable(L);
    lua_pushstring(L, kind.name.c_str());
    lua_setfield(L, -2, "name");
    lua_newtable(L);
    int j = 1;
    for (const auto& o : kind.options) {
      lua_pushstring(L, o.c_str());
      lua_rawseti(L, -2, j++);
    }
    lua_setfield(L, -2, "options");
    lua_rawseti(L, -2, i++);
  }
  lua_setfield(L, -2, "connectors");
  lua_newtable(L);
  for (auto [name, lo, hi, unit] :
       {std::tuple{"attempts", AlertBounds::kMinAttempts, AlertBounds::kMaxAttempts, "tries"},
        std::tuple{"backoff_ms", AlertBounds::kMinBackoffMs, AlertBounds::kMaxBackoffMs, "milliseconds"},
        std::tuple{"timeout_seconds", AlertBounds::kMinTimeoutSeconds, AlertBounds::kMaxTimeoutSeconds, "seconds"}}) {
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, lo);
    lua_setfield(L, -2, "min");
    lua_pushinteger(L, hi);
    lua_setfield(L, -2, "max");
    lua_pushstring(L, unit);
    lua_setfield(L, -2, "unit");
    lua_setfield(L, -2, name);
  }
  lua_setfield(L, -2, "alert_bounds");
  lua.pcall(1, 1);
  int dsl = lua_gettop(L);
  lock_sandbox(lua);

  // seam's own functions, to warn when a stack redefines one (its rules would silently
  // get the stack's version).
  std::vector<std::string> builtins;
  lua_newtable(L);
  int snapshot = lua_gettop(L);
  lua_pushglobaltable(L);
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    if (lua_type(L, -2) == LUA_TSTRING && lua_isfunction(L, -1)) {
      builtins.emplace_back(lua_tostring(L, -2));
      lua_pushvalue(L, -2);
      lua_pushvalue(L, -2);
      lua_rawset(L, snapshot);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);

  try {
    lua.load(*text, file);
    lua.pcall(0, 0);
    lua_pushglobaltable(L);
    for (const auto& name : builtins) {
      lua_getfield(L, snapshot, name.c_str());
      lua_pushstring(L, name.c_str());
      lua_rawget(L, -3);
      if (!lua_rawequal(L, -1, -2)) {
        SourceLoc loc{file, 0};
        lua_Debug ar;
        if (lua_isfunction(L, -1)) {
          lua_pushvalue(L, -1);
          if (lua_getinfo(L, ">S", &ar)) loc = {ar.source[0] == '@' ? ar.source + 1 : ar.short_src, ar.linedefined};
        }
        out.spec.load_warnings.push_back(
            {loc, "'" + name + "' redefines seam's built-in " + name + "; the stack's rules get this version instead"});
      }
      lua_pop(L, 2);
    }
    lua_pop(L, 1);
    lua_getfield(L, dsl, "finish");
    lua.pcall(0, 1);
  } catch (const ScriptError& e) {
    throw UserError(with_hint(e.what()));
  }
  // Setting an existing registry slot to nil allocates nothing, so cannot raise.
  lua_pushnil(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kLoadContextKey);
  // From here on no script can change what another sees; the functions read_decls keeps
  // each get an environment of their own.
  try {
    seal_sandbox(lua);
  } catch (const ScriptError& e) {
    throw UserError(std::string("cannot seal the sandbox after loading the stack: ") + e.what());
  }
  std::vector<Warning> warnings = std::move(out.spec.load_warnings);
  out.spec = read_decls(L, *out.host, ctx);
  out.spec.load_warnings = std::move(warnings);
  out.spec.sources = ctx.sources;
  lua_settop(L, 0);
  out.spec.dir = ctx.dir;
  out.spec.file = file;
  Sha256 digest;
  for (const auto& [name, src] : ctx.sources) {
    digest.field(name);
    digest.field(src);
  }
  out.spec.digest = digest.hex_final();
  return out;
}

}  // namespace

LoadedStack load_stack(const std::string& path, LuaLimits limits) {
  std::string file = path;
  std::error_code ec;
  if (!fs::exists(path, ec)) throw UserError("no stack folder: " + path + " (a stack is a folder holding stack.lua)");
  if (fs::is_directory(path, ec)) file = join_path(path, "stack.lua");
  if (!fs::exists(file, ec)) throw UserError("no stack file: " + file + " (a stack is a folder holding stack.lua)");
  std::string why;
  auto text = std::optional<std::string>(read_regular_file(file, why));
  if (!why.empty()) throw UserError("stack file " + file + " " + why);
  LoadedStack out = load_text(file, &*text, limits, nullptr);
  // Worker threads get states of their own, loaded from these very texts.
  auto sources = std::make_shared<const Sources>(out.spec.sources);
  auto stack_text = std::make_shared<const std::string>(std::move(*text));
  out.host->set_loader([file, limits, sources, stack_text]() -> std::unique_ptr<LuaScriptHost> {
    try {
      return load_text(file, stack_text.get(), limits, sources.get()).host;
    } catch (const UserError& e) {
      throw ScriptError(std::string("cannot load the stack again for a worker thread: ") + e.what());
    }
  });
  return out;
}

}  // namespace seam
