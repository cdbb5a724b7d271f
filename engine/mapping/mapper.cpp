#include "engine/mapping/mapper.hpp"

#include <algorithm>
#include <cctype>

#include <charconv>
#include <future>
#include <memory>
#include <optional>
#include <unordered_map>

#include "connectors/connector.hpp"
#include "engine/util/regex.hpp"
#include "engine/util/result.hpp"

namespace seam {
namespace {

// column_by: one selector value, the column it chooses, and whether it flips the sign.
struct ChosenColumn {
  std::string value;
  int column = -1;
  bool negate = false;
};

struct FieldPlan {
  const FieldSpec* spec = nullptr;
  int column = -1;           // connector handle
  std::vector<int> columns;  // coalesce, or concat's parts
  int debit = -1, credit = -1;
  int selector = -1;         // column_by: the index of the field whose value chooses the column
  std::vector<ChosenColumn> chosen;
  int currency_column = -1;  // money
  int unit_column = -1, sku_column = -1;  // quantity
  CurrencyCode currency = 0; // money, declared constant
  // money with a currency column: the last code read there and what it packs to (checked
  // once, not for every row of an export in one currency)
  std::string last_currency_text;
  CurrencyCode last_currency = 0;
  ZoneCache zone_cache;       // time: the plan is one thread's (see RowMapper)
  CurrencyCode scale_of = 0;  // money: the currency whose minor-unit scale is `scale`
  int scale = 2;
  TimeFormat time;
  std::unique_ptr<Regex> regex;
  std::string scratch;       // concat and case: reused row after row, so a row allocates nothing new
};

struct OnlyPlan {
  size_t field = 0;
  const OnlyCondition* spec = nullptr;
  std::unique_ptr<Regex> regex;
};

// Lets a Lua mapping function read any column by name; handles are resolved once per name.
class ConnectorRowAccess final : public RowAccess {
 public:
  explicit ConnectorRowAccess(Connector& c) : c_(c) {}
  std::optional<std::string_view> column(const std::string& name) override {
    auto it = handles_.find(name);
    if (it == handles_.end()) {
      std::string why;
      it = handles_.emplace(name, c_.resolve(name, why).value_or(-1)).first;
    }
    return it->second < 0 ? std::nullopt : c_.get(it->second);
  }

 private:
  Connector& c_;
  std::unordered_map<std::string, int> handles_;
};

int resolve_column(Connector& c, const std::string& column, const FieldSpec& f, const SystemSpec& sys) {
  std::string why;
  auto h = c.resolve(column, why);
  if (!h) throw UserError(f.loc.str() + ": field '" + f.name + "' of system '" + sys.name + "': " + why);
  return *h;
}

std::vector<FieldPlan> compile(const SystemSpec& sys, Connector& c) {
  std::vector<FieldPlan> plans;
  for (const auto& f : sys.fields) {
    FieldPlan p;
    p.spec = &f;
    if (!f.column.empty()) p.column = resolve_column(c, f.column, f, sys);
    for (const auto& col : f.columns) p.columns.push_back(resolve_column(c, col, f, sys));
    if (!f.debit_column.empty()) {
      p.debit = resolve_column(c, f.debit_column, f, sys);
      p.credit = resolve_column(c, f.credit_column, f, sys);
    }
    if (f.column_by.set()) {
      p.selector = sys.field_index(f.column_by.field);
      if (p.selector < 0)
        throw UserError(f.loc.str() + ": field '" + f.name + "' column_by { field = '" + f.column_by.field + "' }, " +
                        sys.not_declared(f.column_by.field));
      for (const auto& [value, col] : f.column_by.columns)
        p.chosen.push_back({value, resolve_column(c, col, f, sys),
                            std::find(f.column_by.negate.begin(), f.column_by.negate.end(), value) !=
                                f.column_by.negate.end()});
    }
    switch (f.kind) {
      case FieldKind::Money:
        if (!f.currency_column.empty()) p.currency_column = resolve_column(c, f.currency_column, f, sys);
        if (!f.currency.empty()) {
          p.currency = pack_currency(f.currency);
          if (!p.currency) throw UserError(f.loc.str() + ": currency must be an ISO 4217 code such as USD, found " +
                                           quote_for_message(f.currency));
          if (known_currency_scale(p.currency) < 0)
            throw UserError(f.loc.str() + ": field '" + f.name + "': " + unknown_currency_text(p.currency));
        }
        break;
      case FieldKind::Time: {
        auto tf = make_time_format(f.time_format, f.zone);
        if (!tf) throw UserError(f.loc.str() + ": field '" + f.name + "': " + tf.error());
        p.time = *tf;
        break;
      }
      case FieldKind::Extract: p.regex = std::make_unique<Regex>(f.regex, f.loc.str()); break;
      case FieldKind::Quantity:
        if (!f.unit_column.empty()) p.unit_column = resolve_column(c, f.unit_column, f, sys);
        if (!f.sku_column.empty()) p.sku_column = resolve_column(c, f.sku_column, f, sys);
        break;
      default: break;
    }
    plans.push_back(std::move(p));
  }
  return plans;
}

const UnitTable& sys_units(const RecordSet& rs) { return rs.system().units; }

// A declared sentinel ("N/A", "-", "not stocked"): the cell holds no value.
bool is_null_text(const FieldSpec& f, std::string_view cell) {
  if (f.null_if.empty()) return false;
  std::string_view t = trim(cell);
  for (const auto& n : f.null_if)
    if (iequals(t, n)) return true;
  return false;
}

bool has_value(const FieldSpec& f, const std::optional<std::string_view>& cell) {
  return cell && !cell->empty() && !is_null_text(f, *cell);
}

void apply_case(std::string& s, TextCase c) {
  for (char& ch : s)
    ch = static_cast<char>(c == TextCase::Lower ? std::tolower(static_cast<unsigned char>(ch))
                                                : std::toupper(static_cast<unsigned char>(ch)));
}

// The text of a Value for comparing with declared values: a view of the record's text, or
// of `tmp` for the other kinds.
std::string_view text_of(const Value& v, std::string& tmp) {
  if (v.kind == ValueKind::Text) return v.text();
  tmp = key_text(v);
  return tmp;
}

// " (field 'amount', column 'Amount')": the end of every reason about a field's value.
std::string where_of(const FieldSpec& f) {
  std::string src = f.source_text();
  return " (field '" + f.name + "'" + (src.empty() ? "" : ", " + src) + ")";
}

// The one cell a column-reading field reads: its column, the first of its columns holding a
// value (coalesce), or the column its column_by chooses (with that choice's sign). nullopt
// when missing; an empty view for a blank cell or a null_if sentinel. Returns a reason when
// the choice cannot be made.
std::string choose_cell(const FieldPlan& p, Connector& c, const Value* values, std::optional<std::string_view>& cell,
                        bool& negate_chosen) {
  const FieldSpec& f = *p.spec;
  if (p.selector >= 0) {
    const Value& sel = values[p.selector];
    const std::string& by = f.column_by.field;
    if (!sel.has_content())
      return "field '" + by + "', which chooses the column of field '" + f.name + "', is " +
             (sel.is_missing() ? "missing" : "empty");
    std::string tmp;
    std::string_view key = text_of(sel, tmp);
    auto it = std::find_if(p.chosen.begin(), p.chosen.end(), [&](const ChosenColumn& k) { return k.value == key; });
    if (it == p.chosen.end()) {
      std::string declared;
      for (const auto& k : p.chosen) declared += (declared.empty() ? "" : ", ") + k.value;
      return "field '" + by + "' is " + quote_for_message(key) + ", for which column_by of field '" + f.name +
             "' names no column (declared: " + declared + ")";
    }
    cell = c.get(it->column);
    negate_chosen = it->negate;
  } else if (!p.columns.empty()) {
    bool any_present = false;
    for (int h : p.columns) {
      auto x = c.get(h);
      any_present = any_present || x;
      if (has_value(f, x) && !trim(*x).empty()) {  // a cell of blanks is not the value to take either
        cell = x;
        break;
      }
    }
    if (!cell && any_present) cell = std::string_view{};
  } else if (p.column >= 0) {
    cell = c.get(p.column);
  }
  if (cell && is_null_text(f, *cell)) cell = std::string_view{};
  return {};
}

// Money from `cell`, or from the plan's debit and credit columns.
std::string map_money(FieldPlan& p, Connector& c, std::optional<std::string_view> cell, Value& v) {
  const FieldSpec& f = *p.spec;
  CurrencyCode cur = p.currency;
  if (p.currency_column >= 0) {
    auto ct = c.get(p.currency_column);
    const std::string_view code = ct ? trim(*ct) : std::string_view();
    if (code.empty()) return "no currency in column '" + f.currency_column + "'" + where_of(f);
    if (p.last_currency && code == p.last_currency_text) {
      cur = p.last_currency;
    } else {
      cur = pack_currency(code);
      if (!cur) return "currency " + quote_for_message(*ct) + " is not an ISO 4217 code" + where_of(f);
      if (known_currency_scale(cur) < 0) return unknown_currency_text(cur) + where_of(f);
      p.last_currency_text.assign(code);
      p.last_currency = cur;
    }
  }
  auto read = [&](std::string_view text, int64_t& minor) -> std::string {
    if (cur && cur != p.scale_of) {
      p.scale = currency_scale(cur);
      p.scale_of = cur;
    }
    auto parsed = parse_amount(text, cur ? p.scale : 2, f.money_format);
    if (!parsed) return parsed.error() + where_of(f);
    if (parsed->currency) {
      CurrencyCode in_text = pack_currency(*parsed->currency);
      if (known_currency_scale(in_text) < 0)
        return "amount " + quote_for_message(text) + ": " + unknown_currency_text(in_text) + where_of(f);
      if (cur && in_text != cur)
        return "amount " + quote_for_message(text) + " is in " + *parsed->currency + " but the field says " +
               currency_name(cur) + where_of(f);
      if (!cur) {
        cur = in_text;
        parsed = parse_amount(text, currency_scale(cur), f.money_format);
        if (!parsed) return parsed.error() + where_of(f);
      }
    }
    if (!cur)
      return "amount " + quote_for_message(text) + " has no currency: declare currency or currency_column" + where_of(f);
    if (!parsed->symbol.empty() && !symbol_fits(parsed->symbol, cur))
      return "amount " + quote_for_message(text) + " is written with '" + std::string(parsed->symbol) +
             "', which is not a symbol of " + currency_name(cur) + where_of(f);
    minor = parsed->minor;
    return {};
  };
  int64_t minor = 0;
  if (p.debit < 0) {
    if (auto why = read(*cell, minor); !why.empty()) return why;
    v = Value::of_money(minor, cur);
    return {};
  }
  // Two magnitudes, at most one of them an amount: debits count positive, credits negative
  // (or the other way round with credit_sign = "positive").
  auto dt = c.get(p.debit), ct = c.get(p.credit);
  const bool has_d = has_value(f, dt) && !trim(*dt).empty(), has_c = has_value(f, ct) && !trim(*ct).empty();
  if (!has_d && !has_c) {
    if (!f.default_text)
      return "neither debit column '" + f.debit_column + "' nor credit column '" + f.credit_column +
             "' holds an amount" + where_of(f) + "; declare default = \"0\" if such rows mean zero";
    if (auto why = read(*f.default_text, minor); !why.empty()) return why;
    v = Value::of_money(minor, cur);
    return {};
  }
  int64_t d = 0, k = 0;
  if (has_d)
    if (auto why = read(*dt, d); !why.empty()) return why;
  if (has_c)
    if (auto why = read(*ct, k); !why.empty()) return why;
  if (d < 0 || k < 0)
    return std::string(d < 0 ? "debit" : "credit") + " column '" + (d < 0 ? f.debit_column : f.credit_column) +
           "' holds " + quote_for_message(d < 0 ? *dt : *ct) + ", a negative amount" + where_of(f) +
           ": debit and credit columns are read as magnitudes";
  if (d != 0 && k != 0)
    return "both debit column '" + f.debit_column + "' (" + quote_for_message(*dt) + ") and credit column '" +
           f.credit_column + "' (" + quote_for_message(*ct) + ") hold an amount" + where_of(f) + "; expected one of them";
  v = Value::of_money(f.money_format.credit_negative ? d - k : k - d, cur);  // magnitudes: cannot overflow
  return {};
}

// concat: the parts joined by the separator, in the plan's scratch buffer. False when a part
// has no value (and there is no default): `v` is then missing or empty.
bool join_parts(FieldPlan& p, Connector& c, Value& v) {
  const FieldSpec& f = *p.spec;
  p.scratch.clear();
  for (size_t k = 0; k < p.columns.size(); ++k) {
    auto part = c.get(p.columns[k]);
    std::string_view t = part ? (f.trim ? trim(*part) : *part) : std::string_view{};
    if (!has_value(f, part) || t.empty()) {
      if (!f.default_text) {
        v = part ? Value::empty() : Value::missing();
        return false;
      }
      p.scratch = *f.default_text;
      return true;
    }
    if (k > 0) p.scratch += f.separator;
    p.scratch += t;
  }
  return true;
}

std::string too_long(size_t bytes, const FieldSpec& f) {
  return "the value holds " + std::to_string(bytes) + " bytes; a field holds at most " + std::to_string(kMaxTextBytes) +
         where_of(f);
}

// abs, then negate (flipped again by a column_by choice in `negate`), checked.
std::string apply_sign(const FieldSpec& f, bool negate_chosen, Value& v) {
  if (!(f.abs || f.negate || negate_chosen) || (v.kind != ValueKind::Money && v.kind != ValueKind::Integer)) return {};
  int64_t x = v.i;
  if (f.abs && !checked_abs(x, x)) return "the magnitude of " + display(v) + " is outside " + int64_range_text() + where_of(f);
  if (f.negate != negate_chosen && !checked_neg(x, x))
    return "negating " + display(v) + " leaves " + int64_range_text() + where_of(f);
  v.i = x;
  return {};
}

// Maps field `index` of the row being built; returns an error reason for the row, or
// empty on success. Fields a column_by reads are mapped before it (see mapping_order).
std::string map_field(FieldPlan& p, Connector& c, RecordSet& out, Value* values, size_t index, ScriptHost* host,
                      ConnectorRowAccess& row) {
  const FieldSpec& f = *p.spec;
  Value& v = values[index];
  bool negate_chosen = false;
  std::optional<std::string_view> cell;
  if (f.kind != FieldKind::Constant && f.kind != FieldKind::Lua && f.kind != FieldKind::Concat && p.debit < 0) {
    if (auto why = choose_cell(p, c, values, cell, negate_chosen); !why.empty()) return why;
    if (f.kind == FieldKind::Column && cell && f.trim) cell = trim(*cell);
    if (cell && cell->size() > kMaxTextBytes) return too_long(cell->size(), f);
    if (!cell || cell->empty()) {  // no value: the default, else missing or empty
      if (!f.default_text) {
        v = cell ? Value::empty() : Value::missing();
        return {};
      }
      cell = *f.default_text;
    }
  }
  switch (f.kind) {
    case FieldKind::Column: {
      std::string_view t = *cell;
      if (f.text_case != TextCase::Keep) {
        p.scratch.assign(t);
        apply_case(p.scratch, f.text_case);
        t = p.scratch;
      }
      v = Value::of_text(out.arena().store(t));
      break;
    }
    case FieldKind::Concat:
      if (!join_parts(p, c, v)) return {};
      if (p.scratch.size() > kMaxTextBytes) return too_long(p.scratch.size(), f);
      if (f.text_case != TextCase::Keep) apply_case(p.scratch, f.text_case);
      v = Value::of_text(out.arena().store(p.scratch));
      break;
    case FieldKind::Constant: v = Value::of_text(f.constant); break;
    case FieldKind::Integer: {
      std::string_view t = trim(*cell);
      int64_t n = 0;
      auto r = std::from_chars(t.data() + (!t.empty() && t[0] == '+'), t.data() + t.size(), n);
      if (r.ec != std::errc() || r.ptr != t.data() + t.size())
        return "cannot read " + quote_for_message(*cell) + " as a whole number" + where_of(f);
      v = Value::of_int(n);
      break;
    }
    case FieldKind::Money:
      if (auto why = map_money(p, c, cell, v); !why.empty()) return why;
      break;
    case FieldKind::Quantity: {
      std::string_view unit = f.unit;
      if (p.unit_column >= 0) {
        auto u = c.get(p.unit_column);
        if (!u || trim(*u).empty()) return "no unit of measure in column '" + f.unit_column + "'" + where_of(f);
        unit = *u;
      }
      std::string_view sku;
      if (p.sku_column >= 0) sku = trim(c.get(p.sku_column).value_or(""));
      auto q = to_base_units(*cell, unit, sku, sys_units(out));
      if (!q) return q.error() + where_of(f);
      v = Value::of_int(*q);
      break;
    }
    case FieldKind::Time: {
      auto t = parse_time(*cell, p.time, &p.zone_cache);
      if (!t) return t.error() + where_of(f);
      v = Value::of_time(*t);
      break;
    }
    case FieldKind::MapValues: {
      auto it = f.map.find(std::string(*cell));
      if (it != f.map.end()) v = Value::of_text(it->second);
      else if (f.map_default) v = Value::of_text(*f.map_default);
      else v = Value::of_text(out.arena().store(*cell));  // unmapped values keep their source text
      break;
    }
    case FieldKind::Extract: {
      auto g = p.regex->first_group(*cell);
      v = g ? Value::of_text(out.arena().store(*g)) : Value::missing();
      break;
    }
    case FieldKind::Lua:
      try {
        v = host->map_field(f.lua_fn, row, out.arena());
      } catch (const ScriptError& e) {
        return std::string("mapping function for field '") + f.name + "' failed: " + e.what();
      }
      break;
  }
  return apply_sign(f, negate_chosen, v);
}

// The order fields are mapped in: the fields `only` reads first (a record the system
// does not keep is skipped, not judged), and every column_by after the field choosing its
// column. Returns how many of the first entries `only` needs.
size_t mapping_order(const SystemSpec& sys, const std::vector<FieldPlan>& plans, std::vector<size_t>& order) {
  std::vector<char> placed(plans.size(), 0);
  auto place = [&](size_t i) {
    if (placed[i]) return;
    if (plans[i].selector >= 0 && !placed[static_cast<size_t>(plans[i].selector)]) {
      placed[static_cast<size_t>(plans[i].selector)] = 1;
      order.push_back(static_cast<size_t>(plans[i].selector));
    }
    placed[i] = 1;
    order.push_back(i);
  };
  for (const auto& cond : sys.only)
    if (int i = sys.field_index(cond.field); i >= 0) place(static_cast<size_t>(i));
  size_t first = order.size();
  for (size_t i = 0; i < plans.size(); ++i) place(i);
  return first;
}

bool keeps(const SystemSpec& sys, std::vector<OnlyPlan>& only, const Value* values) {
  std::string tmp;
  for (auto& o : only) {
    const Value& v = values[o.field];
    bool holds = false;
    if (v.has_content()) {
      std::string_view t = text_of(v, tmp);
      holds = o.regex ? o.regex->first_group(t).has_value()
                      : std::find(o.spec->values.begin(), o.spec->values.end(), t) != o.spec->values.end();
    }
    if (holds == sys.only_any) return holds;  // any: the first that holds; all: the first that does not
  }
  return !sys.only_any;
}

}  // namespace

namespace {

// Maps the rows a connector gives, one at a time, into `in` (records, rejects, counts).
// Several can map the rows of one connector: systems declaring the same source read and
// parse it once.
class RowMapper {
 public:
  RowMapper(const SystemSpec& sys, ScriptHost* host, Connector& connector, MappedInput& in)
      : sys(sys), host(host), in(in), plans(compile(sys, connector)), row(connector),
        id_field(sys.id_field.empty() ? -1 : sys.field_index(sys.id_field)), at_file_start(in.stats) {
    only_first = mapping_order(sys, plans, order);
    for (const auto& cond : sys.only) {
      OnlyPlan o;
      o.field = static_cast<size_t>(sys.field_index(cond.field));
      o.spec = &cond;
      if (!cond.matches.empty()) o.regex = std::make_unique<Regex>(cond.matches, sys.loc.str());
      only.push_back(std::move(o));
    }
    in.records.reserve(connector.estimated_rows());  // no regrowth copies of a million records
  }

  // The connector's current row.
  void map(Connector& connector) {
    if (connector.file_no() != file) {
      close_file();
      file = connector.file_no();
    }
    ++in.stats.read;
    if (!connector.skip_reason().empty()) {  // left out by the source's own declaration
      ++in.stats.skipped;
      ++in.stats.skipped_by_source;
      return;
    }
    if (!connector.malformed().empty()) {
      reject(connector, connector.malformed());
      return;
    }
    Value* values = in.records.begin_record();
    std::string reason;
    // The `only` filter's fields first: a record the system does not keep is skipped, not judged.
    for (size_t k = 0; k < only_first && reason.empty(); ++k)
      reason = map_field(plans[order[k]], connector, in.records, values, order[k], host, row);
    if (reason.empty() && !only.empty() && !keeps(sys, only, values)) {
      in.records.drop_record();
      ++in.stats.skipped;
      return;
    }
    for (size_t k = 0; k < order.size() && reason.empty(); ++k) {
      const size_t i = order[k];
      if (k >= only_first) reason = map_field(plans[i], connector, in.records, values, i, host, row);
      if (reason.empty() && plans[i].spec->required) {
        const FieldSpec& spec = *plans[i].spec;
        auto column = [&] {  // only for a row it rejects: this runs for every row's id and keys
          const std::string source = spec.source_text();
          return source.empty() ? std::string() : " (" + source + ")";
        };
        if (!values[i].has_content())
          reason = "required field '" + spec.name + "' is " + (values[i].is_missing() ? "missing" : "empty") + column();
        // An id or key of blanks names nothing a person could find, and " " and "  " would
        // be two different records that look the same in every report.
        else if (values[i].kind == ValueKind::Text && trim(values[i].text()).empty())
          reason = "required field '" + spec.name + "'" + column() + " holds only whitespace (" +
                   std::to_string(values[i].text().size()) + " characters): expected an id or key with at least one "
                   "other character; fix the export or leave the row out";
      }
    }
    if (!reason.empty()) {
      in.records.drop_record();
      reject(connector, std::move(reason));
      return;
    }
    std::string_view id;
    if (id_field >= 0) {
      const Value& v = values[id_field];
      id = v.kind == ValueKind::Text ? v.text() : in.records.arena().store(key_text(v));
    } else {
      line_id = "line " + std::to_string(connector.line());
      id = in.records.arena().store(line_id);
    }
    in.records.commit_record(connector.line(), id);
    ++in.stats.accepted;
  }

  // After the last row.
  void finish() { close_file(); }

 private:
  void reject(Connector& connector, std::string reason) {
    in.rejects.push_back({sys.name, connector.path(), connector.line(), std::move(reason),
                          std::string(connector.raw())});
    ++in.stats.rejected;
  }
  // A glob's rows come file after file: what the counts grew by while one file was read
  // is that file's.
  void close_file() {
    if (in.stats.files.size() <= file) return;
    FileCounts& f = in.stats.files[file];
    f.read += in.stats.read - at_file_start.read;
    f.accepted += in.stats.accepted - at_file_start.accepted;
    f.rejected += in.stats.rejected - at_file_start.rejected;
    f.skipped += in.stats.skipped - at_file_start.skipped;
    at_file_start = in.stats;
  }

  // Named as the locals of the loop this was.
  const SystemSpec& sys;
  ScriptHost* host;
  MappedInput& in;
  std::vector<FieldPlan> plans;
  ConnectorRowAccess row;
  const int id_field;
  std::vector<size_t> order;  // fields in mapping order, `only`'s first
  size_t only_first = 0;
  std::vector<OnlyPlan> only;
  std::string line_id;
  size_t file = 0;
  InputStats at_file_start;
};

// Maps every row `connector` gives into the input of each system, one row for all of
// them at a time (records, rejects, counts). Systems with Lua fields borrow a host from
// `scripts` when there is one, for the whole part. Adds the rows read to `rows_read` (when
// given) every 4096 rows: one atomic add per batch, not per row; the input's pages read by
// then leave memory (Connector::release_read).
void map_rows(const std::vector<const SystemSpec*>& systems, ScriptHost* host, ScriptPool* scripts,
              Connector& connector, std::vector<MappedInput>& ins, std::atomic<uint64_t>* rows_read) {
  std::optional<ScriptPool::Lease> lease;
  if (scripts && std::any_of(systems.begin(), systems.end(), [](auto* s) { return maps_with_lua(*s); })) {
    lease.emplace(scripts->acquire());
    if (lease->get()) host = lease->get();
  }
  std::vector<std::unique_ptr<RowMapper>> mappers;
  for (size_t k = 0; k < systems.size(); ++k)
    mappers.push_back(std::make_unique<RowMapper>(*systems[k], host, connector, ins[k]));
  constexpr uint64_t kBatch = 4096;
  uint64_t unreported = 0;
  while (connector.next()) {
    for (auto& m : mappers) m->map(connector);
    if (++unreported == kBatch) {
      if (rows_read) rows_read->fetch_add(kBatch, std::memory_order_relaxed);
      connector.release_read();
      unreported = 0;
    }
  }
  if (rows_read) rows_read->fetch_add(unreported, std::memory_order_relaxed);
  connector.release_read();
  for (auto& m : mappers) m->finish();
}

// The parts of one split input, mapped on their own threads (the first on this one) and
// joined in input order: the records, rejects and line numbers come out as a single
// reader would have produced them.
void map_parts(const std::vector<const SystemSpec*>& systems, ScriptHost* host, ScriptPool* scripts,
               std::vector<std::unique_ptr<Connector>>& parts, std::vector<MappedInput>& ins,
               std::atomic<uint64_t>* rows_read) {
  std::vector<std::vector<MappedInput>> more(parts.size() - 1);
  for (auto& part : more)
    for (const SystemSpec* sys : systems) part.push_back(MappedInput{RecordSet(*sys), InputStats{}, {}});
  std::vector<std::future<void>> pending;
  for (size_t k = 1; k < parts.size(); ++k)
    pending.push_back(std::async(std::launch::async,
                                 [&, k] { map_rows(systems, host, scripts, *parts[k], more[k - 1], rows_read); }));
  std::exception_ptr first_error;
  try {
    map_rows(systems, host, scripts, *parts[0], ins, rows_read);
  } catch (...) {
    first_error = std::current_exception();
  }
  for (auto& p : pending) {  // waits for every part, even after an error: they use `more`
    try {
      p.get();
    } catch (...) {
      if (!first_error) first_error = std::current_exception();
    }
  }
  if (first_error) std::rethrow_exception(first_error);
  for (size_t s = 0; s < systems.size(); ++s) {
    MappedInput& in = ins[s];
    uint64_t line_offset = parts[0]->lines_seen();
    for (size_t k = 1; k < parts.size(); ++k) {
      MappedInput& part = more[k - 1][s];
      in.records.append(std::move(part.records), line_offset);
      for (auto& r : part.rejects) {
        r.line += line_offset;
        in.rejects.push_back(std::move(r));
      }
      in.stats.read += part.stats.read;
      in.stats.accepted += part.stats.accepted;
      in.stats.rejected += part.stats.rejected;
      in.stats.skipped += part.stats.skipped;
      in.stats.skipped_by_source += part.stats.skipped_by_source;
      line_offset += parts[k]->lines_seen();
    }
  }
}

}  // namespace

bool maps_with_lua(const SystemSpec& sys) {
  return std::any_of(sys.fields.begin(), sys.fields.end(), [](const FieldSpec& f) { return f.kind == FieldKind::Lua; });
}

MappedInput map_system(const SystemSpec& sys, ScriptHost* host, const MapOptions& options) {
  return map_system(sys, host, open_connector(sys.source, sys.name), options);
}

namespace {

// After the last row: the digests, asked for last (a large input's hash ran beside its
// parse), and the latest time, record by record on the thread that mapped them (one pass
// over memory, and systems mapped in parallel do it in parallel).
void finish_input(MappedInput& in, const Connector& connector) {
  in.stats.digest = connector.digest();
  auto files = connector.files();
  for (size_t k = 0; k < files.size() && k < in.stats.files.size(); ++k) in.stats.files[k].digest = files[k].digest;
  for (size_t r = 0; r < in.records.size(); ++r)
    for (size_t f = 0; f < in.records.width(); ++f) {
      const Value& v = in.records.get(r, f);
      if (v.kind == ValueKind::Time && v.i > in.latest_time) in.latest_time = v.i;
    }
}

MappedInput start_input(const SystemSpec& sys, const Connector& connector) {
  MappedInput in{RecordSet(sys), InputStats{sys.name, connector.path(), "", 0, 0, 0}, {}};
  for (const auto& f : connector.files()) in.stats.files.push_back({f.path, "", 0, 0, 0, 0});
  return in;
}

// The systems reading `connector`, each into its own input, in their order.
std::vector<MappedInput> map_source(const std::vector<const SystemSpec*>& systems, ScriptHost* host,
                                    Connector& connector, const MapOptions& options) {
  std::vector<MappedInput> ins;
  for (const SystemSpec* sys : systems) ins.push_back(start_input(*sys, connector));
  // A Lua state serves one thread at a time: a source with a Lua mapping is split only
  // into as many parts as there are states to map them.
  size_t threads = options.threads;
  ScriptPool* scripts = nullptr;
  if (std::any_of(systems.begin(), systems.end(), [](auto* s) { return maps_with_lua(*s); })) {
    scripts = options.scripts;  // even with one host: sources mapped side by side take turns with it
    threads = scripts ? std::min(threads, scripts->capacity()) : 1;
  }
  std::vector<std::unique_ptr<Connector>> parts;
  if (threads > 1) parts = connector.split(threads, options.min_part_bytes);
  if (parts.empty()) {
    map_rows(systems, host, scripts, connector, ins, options.rows_read);
  } else {
    // The whole input's, so joining the parts does not regrow.
    for (auto& in : ins) in.records.reserve(connector.estimated_rows());
    map_parts(systems, host, scripts, parts, ins, options.rows_read);
    // The whole input's emptiness check (parts may each be empty): rows the source itself
    // leaves out (a report's title lines) do not make an input non-empty.
    if (ins[0].stats.read == ins[0].stats.skipped_by_source) connector.next();
  }
  for (auto& in : ins) finish_input(in, connector);
  return ins;
}

}  // namespace

std::vector<MappedInput> map_systems(const std::vector<const SystemSpec*>& systems, ScriptHost* host,
                                     const MapOptions& options) {
  return map_source(systems, host, *open_connector(systems[0]->source, systems[0]->name), options);
}

MappedInput map_system(const SystemSpec& sys, ScriptHost* host, std::unique_ptr<Connector> connector,
                       const MapOptions& options) {
  return std::move(map_source({&sys}, host, *connector, options)[0]);
}

}  // namespace seam
