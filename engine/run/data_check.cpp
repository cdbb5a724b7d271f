#include "engine/run/data_check.hpp"

#include <algorithm>
#include <map>
#include <memory>

#include "connectors/connector.hpp"
#include "engine/mapping/mapper.hpp"
#include "engine/util/json.hpp"
#include "engine/util/text.hpp"
#include "engine/value/value.hpp"

namespace seam {

// ---- JSON paths -----------------------------------------------------------------------

namespace {

class PathScanner {
 public:
  PathScanner(std::string_view s, std::set<std::string>& out, size_t cap, std::set<std::string>* nulls)
      : s_(s), out_(out), cap_(cap), nulls_(nulls) {}
  void run() {
    ws();
    if (at_ < s_.size() && s_[at_] == '{') value("", 0);
  }

 private:
  void ws() {
    while (at_ < s_.size() && (s_[at_] == ' ' || s_[at_] == '\t' || s_[at_] == '\n' || s_[at_] == '\r')) ++at_;
  }
  // Past the string starting at at_ (a quote); its text, escapes undone, in `text`.
  bool string(std::string* text) {
    size_t start = at_++;
    bool escaped = false;
    for (; at_ < s_.size() && s_[at_] != '"'; ++at_)
      if (s_[at_] == '\\') {
        escaped = true;
        ++at_;
      }
    if (at_ >= s_.size()) return false;
    ++at_;
    if (text) {
      std::string_view raw = s_.substr(start, at_ - start);
      if (!escaped) *text = std::string(raw.substr(1, raw.size() - 2));
      else if (auto decoded = json_parse_string(raw)) *text = *decoded;
      else return false;
    }
    return true;
  }
  void add(const std::string& path) {
    if (!path.empty() && out_.size() < cap_) out_.insert(path);
  }
  // One value at at_; false at a fault (scanning stops there).
  bool value(const std::string& path, int depth) {
    if (depth > 64 || at_ >= s_.size()) return false;
    char c = s_[at_];
    if (c == '{' || c == '[') {
      const bool object = c == '{';
      const char close = object ? '}' : ']';
      ++at_;
      ws();
      if (at_ < s_.size() && s_[at_] == close) return ++at_, true;
      for (size_t index = 0;; ++index) {
        ws();
        std::string child;
        if (object) {
          std::string key;
          if (at_ >= s_.size() || s_[at_] != '"' || !string(&key)) return false;
          ws();
          if (at_ >= s_.size() || s_[at_++] != ':') return false;
          ws();
          child = path.empty() ? key : path + "." + key;
        } else {
          child = path + "[" + std::to_string(index) + "]";
        }
        if (!value(child, depth + 1)) return false;
        ws();
        if (at_ >= s_.size()) return false;
        if (s_[at_] == close) return ++at_, true;
        if (s_[at_++] != ',') return false;
      }
    }
    if (c == '"') {
      if (!string(nullptr)) return false;
      add(path);
      return true;
    }
    size_t start = at_;
    while (at_ < s_.size() && s_[at_] != ',' && s_[at_] != '}' && s_[at_] != ']' && s_[at_] != ' ' &&
           s_[at_] != '\t' && s_[at_] != '\n' && s_[at_] != '\r')
      ++at_;
    if (at_ == start) return false;
    // A null value is missing, as connectors read it; the key itself is there.
    if (s_.substr(start, at_ - start) != "null") add(path);
    else if (nulls_ && !path.empty() && nulls_->size() < cap_) nulls_->insert(path);
    return true;
  }

  std::string_view s_;
  std::set<std::string>& out_;
  size_t cap_;
  std::set<std::string>* nulls_;
  size_t at_ = 0;
};

}  // namespace

void json_value_paths(std::string_view json, std::set<std::string>& out, size_t cap, std::set<std::string>* nulls) {
  PathScanner(json, out, cap, nulls).run();
}

std::string nearest_name(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_edits = SIZE_MAX;
  for (const auto& c : candidates) {
    size_t edits = edit_distance(word, c);
    if (edits < best_edits) best = c, best_edits = edits;
  }
  return best;
}

// ---- the sample -----------------------------------------------------------------------

namespace {

constexpr size_t kValuesKept = 1000;  // distinct texts remembered per column
constexpr size_t kValuesListed = 20;  // and shown per line

// A column one field declares, and what the sampled rows hold in it.
struct Probe {
  const FieldSpec* field = nullptr;
  std::string column;
  int handle = -1;
  bool keep_values = false;  // units and map_values columns: their texts are listed
  uint64_t present = 0;      // well-formed rows holding a value (JSON null is missing)
  std::map<std::string, uint64_t> values;
};

struct SampleState {
  std::vector<Probe> probes;
  uint64_t rows = 0, well_formed = 0;
  bool more = false;  // the input holds rows past the sample
  bool json = false;
  std::set<std::string> paths;  // JSON paths seen holding a value
  std::set<std::string> nulls;  // and seen holding null
};

// The first rows of another connector, handed to the mapper as a whole input; each row's
// declared columns are looked at on the way, so one read of the sample serves the column
// check and the mapping.
class SampleRows final : public Connector {
 public:
  SampleRows(std::unique_ptr<Connector> inner, uint64_t limit, SampleState& state)
      : inner_(std::move(inner)), limit_(limit), state_(state) {
    path_ = inner_->path();
  }
  std::optional<int> resolve(const std::string& column, std::string& why) override {
    return inner_->resolve(column, why);
  }
  bool next() override {
    if (done_) return false;
    if (limit_ && state_.rows >= limit_) {
      state_.more = inner_->next();
      done_ = true;
      return false;
    }
    if (!inner_->next()) return done_ = true, false;
    ++state_.rows;
    if (!inner_->malformed().empty() || !inner_->skip_reason().empty()) return true;
    ++state_.well_formed;
    for (auto& p : state_.probes) {
      if (p.handle < 0) continue;
      auto v = inner_->get(p.handle);
      if (!v) continue;
      ++p.present;
      if (p.keep_values && (p.values.size() < kValuesKept || p.values.count(std::string(*v)))) ++p.values[std::string(*v)];
    }
    if (state_.json) json_value_paths(inner_->raw(), state_.paths, 10'000, &state_.nulls);
    return true;
  }
  uint64_t line() const override { return inner_->line(); }
  std::string_view raw() const override { return inner_->raw(); }
  const std::string& malformed() const override { return inner_->malformed(); }
  // The source's own skips (title and total rows, empty nested arrays) stay skipped, and a
  // glob's rows keep their file, as in a run.
  const std::string& skip_reason() const override { return inner_->skip_reason(); }
  std::vector<InputFile> files() const override { return inner_->files(); }
  size_t file_no() const override { return inner_->file_no(); }
  std::optional<std::string_view> get(int handle) override { return inner_->get(handle); }
  std::string digest() const override { return inner_->digest(); }
  size_t estimated_rows() const override {
    size_t e = inner_->estimated_rows();
    return limit_ ? std::min<size_t>(e, limit_) : e;
  }

 private:
  std::unique_ptr<Connector> inner_;
  uint64_t limit_;
  SampleState& state_;
  bool done_ = false;
};

std::string label(const FieldSpec& f, const SystemSpec& sys) {
  return "field '" + f.name + "' of system '" + sys.name + "': ";
}

std::vector<Probe> probes_of(const SystemSpec& sys) {
  std::vector<Probe> out;
  for (const auto& f : sys.fields) {
    if (f.kind == FieldKind::Constant || f.kind == FieldKind::Lua) continue;
    auto add = [&](const std::string& column, bool keep) {
      if (!column.empty()) out.push_back({&f, column, -1, keep, 0, {}});
    };
    add(f.column, f.kind == FieldKind::MapValues);
    if (f.kind == FieldKind::Money) add(f.currency_column, false);
    if (f.kind == FieldKind::Quantity) {
      add(f.unit_column, true);
      add(f.sku_column, false);
    }
  }
  return out;
}

std::string rows_text(uint64_t n) { return std::to_string(n) + (n == 1 ? " row" : " rows"); }
std::string times_text(uint64_t n) { return n == 1 ? "once" : std::to_string(n) + " times"; }

// "'a' (3), 'b' (1)": most frequent first, at most kValuesListed.
std::string counts_text(const std::map<std::string, uint64_t>& counts, bool quoted) {
  std::vector<std::pair<std::string, uint64_t>> sorted(counts.begin(), counts.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::string out;
  for (size_t i = 0; i < sorted.size() && i < kValuesListed; ++i)
    out += (i ? ", " : "") + (quoted ? quote_for_message(sorted[i].first) : sorted[i].first) + " (" +
           std::to_string(sorted[i].second) + ")";
  if (sorted.size() > kValuesListed) out += " and " + std::to_string(sorted.size() - kValuesListed) + " more";
  return out;
}

// As value_map compares text: trimmed and in one case when the rule says so.
std::string compared(std::string_view text, const RuleSpec& r) {
  std::string out(r.trim ? trim(text) : text);
  return r.ignore_case ? to_lower(out) : out;
}

std::map<std::string, uint64_t> field_values(const RecordSet& rs, int field) {
  std::map<std::string, uint64_t> out;
  if (field < 0) return out;
  for (size_t i = 0; i < rs.size(); ++i) {
    const Value& v = rs.get(i, static_cast<size_t>(field));
    if (v.has_content() && (out.size() < kValuesKept || out.count(key_text(v)))) ++out[key_text(v)];
  }
  return out;
}

// Fields whose values a rule compares as text against a declared set: value_map (both
// sides), value_in and value_not_in.
std::vector<std::string> status_fields(const StackSpec& spec, const SystemSpec& sys) {
  std::vector<std::string> out;
  auto add = [&](const std::string& f) {
    if (sys.field_index(f) >= 0 && std::find(out.begin(), out.end(), f) == out.end()) out.push_back(f);
  };
  for (const auto& rec : spec.reconciles)
    for (const auto& r : rec.rules) {
      if (r.kind == RuleKind::ValueMap) {
        if (rec.left == sys.name) add(r.left_field);
        if (rec.right == sys.name) add(r.right_field);
      }
      if (r.kind == RuleKind::ValueIn || r.kind == RuleKind::ValueNotIn)
        if ((r.side == Side::Left ? rec.left : rec.right) == sys.name) add(r.field);
    }
  std::sort(out.begin(), out.end());
  return out;
}

void summarize(const StackSpec& spec, const SystemSpec& sys, const SampleState& state, const MappedInput& in,
               SampleSummary& s) {
  for (size_t fi = 0; fi < sys.fields.size(); ++fi) {
    const FieldSpec& f = sys.fields[fi];
    if (f.kind != FieldKind::Money) continue;
    std::map<std::string, uint64_t> currencies;
    for (size_t i = 0; i < in.records.size(); ++i) {
      const Value& v = in.records.get(i, fi);
      if (v.kind == ValueKind::Money) ++currencies[currency_name(v.currency)];
    }
    if (!currencies.empty()) s.lines.push_back(f.name + ": currencies " + counts_text(currencies, false));
  }
  for (const auto& p : state.probes) {
    if (!p.keep_values || p.values.empty()) continue;
    if (p.field->kind == FieldKind::Quantity)
      s.lines.push_back(p.field->name + ": units " + counts_text(p.values, false));
    else
      s.lines.push_back(p.field->name + ": column " + quote_for_message(p.column) + " holds " + counts_text(p.values, true));
  }
  for (const auto& name : status_fields(spec, sys)) {
    auto values = field_values(in.records, sys.field_index(name));
    if (!values.empty()) s.lines.push_back(name + ": " + counts_text(values, true));
  }
  if (!in.rejects.empty()) {
    const Reject& r = in.rejects.front();
    s.lines.push_back("rejected " + rows_text(in.stats.rejected) + "; the first, " + r.path + ":" +
                      std::to_string(r.line) + ": " + r.reason);
  }
}

// value_map rules: a left value the map has no key for fails its group, and a right value
// no key maps to can never pass.
void value_map_coverage(const StackSpec& spec, const std::vector<MappedInput>& inputs, std::vector<Warning>& out) {
  auto records_of = [&](const std::string& name) -> const RecordSet* {
    for (size_t i = 0; i < spec.systems.size(); ++i)
      if (spec.systems[i].name == name) return &inputs[i].records;
    return nullptr;
  };
  for (const auto& rec : spec.reconciles)
    for (const auto& r : rec.rules) {
      if (r.kind != RuleKind::ValueMap) continue;
      const RecordSet* left = records_of(rec.left);
      const RecordSet* right = records_of(rec.right);
      if (!left || !right) continue;
      std::set<std::string> keys, images;
      for (const auto& [k, v] : r.map) keys.insert(compared(k, r)), images.insert(compared(v, r));
      for (const auto& [value, n] : field_values(*left, left->system().field_index(r.left_field)))
        if (!keys.count(compared(value, r)))
          out.push_back({r.loc, "value_map '" + r.name + "' does not map " + quote_for_message(value) + " (" + rec.left +
                                    " " + r.left_field + ", seen " + times_text(n) + " in the sample)"});
      for (const auto& [value, n] : field_values(*right, right->system().field_index(r.right_field)))
        if (!images.count(compared(value, r)))
          out.push_back({r.loc, "value_map '" + r.name + "' maps nothing to " + quote_for_message(value) + " (" +
                                    rec.right + " " + r.right_field + ", seen " + times_text(n) + " in the sample)"});
    }
}

}  // namespace

DataCheck check_data(const StackSpec& spec, ScriptHost* host, uint64_t sample_rows) {
  DataCheck out;
  std::vector<MappedInput> inputs;
  for (const auto& sys : spec.systems) {
    SampleState state;
    state.probes = probes_of(sys);
    state.json = sys.source.kind == "ndjson" || sys.source.kind == "json";
    auto connector = open_connector(sys.source, sys.name);
    const size_t errors_before = out.errors.size();
    for (auto& p : state.probes) {
      std::string why;
      if (auto h = connector->resolve(p.column, why)) p.handle = *h;
      else out.errors.push_back({p.field->loc, label(*p.field, sys) + why});
    }
    auto sample = std::make_unique<SampleRows>(std::move(connector), sample_rows, state);
    MappedInput in{RecordSet(sys), InputStats{sys.name, sample->path(), "", 0, 0, 0}, {}};
    const bool mapped = out.errors.size() == errors_before;
    if (mapped) {
      in = map_system(sys, host, std::move(sample), MapOptions{1});
    } else {
      while (sample->next()) {
      }
      in.stats.read = state.rows;
    }

    if (state.well_formed > 0) {
      const std::vector<std::string> seen(state.paths.begin(), state.paths.end());
      for (const auto& p : state.probes) {
        if (p.handle < 0 || p.present > 0) continue;
        const std::string rows = state.well_formed == 1 ? "the one sampled row"
                                                         : "all " + std::to_string(state.well_formed) + " sampled rows";
        // The key is there but null throughout: an optional value this sample happens not
        // to hold (a reason code), not a misspelt path.
        if (state.json && state.nulls.count(p.column)) {
          out.warnings.push_back({p.field->loc, label(*p.field, sys) + "column path " + quote_for_message(p.column) +
                                                    " is null on " + rows});
          continue;
        }
        std::string msg = label(*p.field, sys) + (state.json ? "column path " : "column ") +
                          quote_for_message(p.column) + " is missing on " + rows;
        std::string near = nearest_name(p.column, seen);
        if (!near.empty()) msg += " (nearest: " + quote_for_message(near) + ")";
        out.errors.push_back({p.field->loc, msg});
      }
    }
    if (out.errors.size() == errors_before && in.stats.accepted == 0 && !in.rejects.empty()) {
      const Reject& r = in.rejects.front();
      out.errors.push_back({sys.loc, "system '" + sys.name + "': every sampled row is rejected (" +
                                         rows_text(in.stats.rejected) + "); the first, " + r.path + ":" +
                                         std::to_string(r.line) + ": " + r.reason});
    }

    // map_values without a default keeps an unmapped text as it is: probably not meant.
    for (const auto& p : state.probes) {
      if (p.field->kind != FieldKind::MapValues || p.field->map_default || p.column != p.field->column) continue;
      for (const auto& [value, n] : p.values)
        if (!p.field->map.count(value))
          out.warnings.push_back({p.field->loc, label(*p.field, sys) + "map_values does not map " +
                                                    quote_for_message(value) + " (seen " + times_text(n) +
                                                    " in the sample) and has no default: it keeps its text"});
    }

    SampleSummary s{sys.name, in.stats.path, in.stats.read, in.stats.accepted, in.stats.rejected, in.stats.skipped,
                    !state.more, mapped, {}};
    summarize(spec, sys, state, in, s);
    out.samples.push_back(std::move(s));
    inputs.push_back(std::move(in));
  }
  value_map_coverage(spec, inputs, out.warnings);
  return out;
}

}  // namespace seam
