#include "engine/mapping/mapper.hpp"

#include <algorithm>

#include <charconv>
#include <future>
#include <memory>
#include <unordered_map>

#include "connectors/connector.hpp"
#include "engine/util/regex.hpp"
#include "engine/util/result.hpp"

namespace seam {
namespace {

struct FieldPlan {
  const FieldSpec* spec = nullptr;
  int column = -1;           // connector handle
  int currency_column = -1;  // money
  int unit_column = -1, sku_column = -1;  // quantity
  CurrencyCode currency = 0; // money, declared constant
  TimeFormat time;
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
    switch (f.kind) {
      case FieldKind::Money:
        if (!f.currency_column.empty()) p.currency_column = resolve_column(c, f.currency_column, f, sys);
        if (!f.currency.empty()) {
          p.currency = pack_currency(f.currency);
          if (!p.currency) throw UserError(f.loc.str() + ": currency must be an ISO 4217 code such as USD, found " +
                                           quote_for_message(f.currency));
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

// Maps one field; returns an error reason for the row, or empty on success.
std::string map_field(FieldPlan& p, Connector& c, RecordSet& out, Value& v, ScriptHost* host,
                      ConnectorRowAccess& row) {
  const FieldSpec& f = *p.spec;
  std::optional<std::string_view> cell;
  if (p.column >= 0) {
    cell = c.get(p.column);
    if (!cell) {
      v = Value::missing();
      return {};
    }
    if (cell->empty()) {
      v = Value::empty();
      return {};
    }
  }
  auto where = [&] { return " (field '" + f.name + "', column '" + f.column + "')"; };
  switch (f.kind) {
    case FieldKind::Column: v = Value::of_text(out.arena().store(*cell)); break;
    case FieldKind::Constant: v = Value::of_text(f.constant); break;
    case FieldKind::Integer: {
      std::string_view t = trim(*cell);
      int64_t n = 0;
      auto r = std::from_chars(t.data() + (!t.empty() && t[0] == '+'), t.data() + t.size(), n);
      if (r.ec != std::errc() || r.ptr != t.data() + t.size())
        return "cannot read " + quote_for_message(*cell) + " as a whole number" + where();
      v = Value::of_int(n);
      break;
    }
    case FieldKind::Money: {
      CurrencyCode cur = p.currency;
      if (p.currency_column >= 0) {
        auto ct = c.get(p.currency_column);
        if (!ct || trim(*ct).empty()) return "no currency in column '" + f.currency_column + "'" + where();
        cur = pack_currency(trim(*ct));
        if (!cur) return "currency " + quote_for_message(*ct) + " is not an ISO 4217 code" + where();
      }
      auto parsed = parse_amount(*cell, cur ? currency_scale(cur) : 2, f.money_format);
      if (!parsed) return parsed.error() + where();
      if (parsed->currency) {
        CurrencyCode in_text = pack_currency(*parsed->currency);
        if (cur && in_text != cur)
          return "amount " + quote_for_message(*cell) + " is in " + *parsed->currency + " but the field says " +
                 currency_name(cur) + where();
        if (!cur) {
          cur = in_text;
          parsed = parse_amount(*cell, currency_scale(cur), f.money_format);
          if (!parsed) return parsed.error() + where();
        }
      }
      if (!cur) return "amount " + quote_for_message(*cell) + " has no currency: declare currency or currency_column" + where();
      v = Value::of_money(parsed->minor, cur);
      break;
    }
    case FieldKind::Quantity: {
      std::string_view unit = f.unit;
      if (p.unit_column >= 0) {
        auto u = c.get(p.unit_column);
        if (!u || trim(*u).empty()) return "no unit of measure in column '" + f.unit_column + "'" + where();
        unit = *u;
      }
      std::string_view sku;
      if (p.sku_column >= 0) sku = trim(c.get(p.sku_column).value_or(""));
      auto q = to_base_units(*cell, unit, sku, sys_units(out));
      if (!q) return q.error() + where();
      v = Value::of_int(*q);
      break;
    }
    case FieldKind::Time: {
      auto t = parse_time(*cell, p.time);
      if (!t) return t.error() + where();
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
  return {};
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
        id_field(sys.id_field.empty() ? -1 : sys.field_index(sys.id_field)),
        only(sys.only_field.empty() ? -1 : sys.field_index(sys.only_field)), at_file_start(in.stats) {
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
    if (only >= 0) {
      // The filter's field first: a record the system does not keep is skipped, not judged.
      auto o = static_cast<size_t>(only);
      reason = map_field(plans[o], connector, in.records, values[o], host, row);
      if (reason.empty() && std::find(sys.only_values.begin(), sys.only_values.end(), key_text(values[o])) ==
                                sys.only_values.end()) {
        in.records.drop_record();
        ++in.stats.skipped;
        return;
      }
    }
    for (size_t i = 0; i < plans.size() && reason.empty(); ++i) {
      if (static_cast<int>(i) != only) reason = map_field(plans[i], connector, in.records, values[i], host, row);
      if (reason.empty() && plans[i].spec->required) {
        const FieldSpec& spec = *plans[i].spec;
        const std::string column = spec.column.empty() ? "" : " (column '" + spec.column + "')";
        if (!values[i].has_content())
          reason = "required field '" + spec.name + "' is " + (values[i].is_missing() ? "missing" : "empty") + column;
        // An id or key of blanks names nothing a person could find, and " " and "  " would
        // be two different records that look the same in every report.
        else if (values[i].kind == ValueKind::Text && trim(values[i].text).empty())
          reason = "required field '" + spec.name + "'" + column + " holds only whitespace (" +
                   std::to_string(values[i].text.size()) + " characters): expected an id or key with at least one "
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
      id = v.kind == ValueKind::Text ? v.text : in.records.arena().store(key_text(v));
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
  std::string line_id;
  const int only;
  size_t file = 0;
  InputStats at_file_start;
};

// Maps every row `connector` gives into the input of each system, one row for all of
// them at a time (records, rejects, counts).
void map_rows(const std::vector<const SystemSpec*>& systems, ScriptHost* host, Connector& connector,
              std::vector<MappedInput>& ins) {
  std::vector<std::unique_ptr<RowMapper>> mappers;
  for (size_t k = 0; k < systems.size(); ++k)
    mappers.push_back(std::make_unique<RowMapper>(*systems[k], host, connector, ins[k]));
  while (connector.next())
    for (auto& m : mappers) m->map(connector);
  for (auto& m : mappers) m->finish();
}

// The parts of one split input, mapped on their own threads (the first on this one) and
// joined in input order: the records, rejects and line numbers come out as a single
// reader would have produced them.
void map_parts(const std::vector<const SystemSpec*>& systems, ScriptHost* host,
               std::vector<std::unique_ptr<Connector>>& parts, std::vector<MappedInput>& ins) {
  std::vector<std::vector<MappedInput>> more(parts.size() - 1);
  for (auto& part : more)
    for (const SystemSpec* sys : systems) part.push_back(MappedInput{RecordSet(*sys), InputStats{}, {}});
  std::vector<std::future<void>> pending;
  for (size_t k = 1; k < parts.size(); ++k)
    pending.push_back(std::async(std::launch::async, [&, k] { map_rows(systems, host, *parts[k], more[k - 1]); }));
  std::exception_ptr first_error;
  try {
    map_rows(systems, host, *parts[0], ins);
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
  // The Lua state serves one thread at a time: a system with a Lua mapping is read whole.
  std::vector<std::unique_ptr<Connector>> parts;
  if (options.threads > 1 && std::none_of(systems.begin(), systems.end(), [](auto* s) { return maps_with_lua(*s); }))
    parts = connector.split(options.threads, options.min_part_bytes);
  if (parts.empty()) {
    map_rows(systems, host, connector, ins);
  } else {
    // The whole input's, so joining the parts does not regrow.
    for (auto& in : ins) in.records.reserve(connector.estimated_rows());
    map_parts(systems, host, parts, ins);
    if (ins[0].stats.read == 0) connector.next();  // the whole input's emptiness check (parts may each be empty)
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
