// JSON: one document holding an array of records, at the top level or at `records`, a
// path of object keys ("data.transactions"). The array is walked with a small scanner
// that only tracks strings and brackets, so a record that is not valid JSON is rejected
// on its own with its line, and the records after it are still read.
#include "connectors/connector.hpp"
#include "connectors/json_rows.hpp"
#include "engine/util/result.hpp"
#include "engine/util/text.hpp"

namespace seam {
namespace {

class JsonConnector final : public Connector {
 public:
  JsonConnector(const ConnectorSpec& spec, const std::string& system) : system_(system) {
    path_ = spec.path;
    allow_empty_ = allows_empty(spec);
    text_ = load_file(spec, system, simdjson::SIMDJSON_PADDING);
    auto it = spec.options.find("records");
    records_ = it == spec.options.end() ? "" : it->second;
    find_records_array(spec);
  }

  std::optional<int> resolve(const std::string& column, std::string& why) override { return json_.resolve(column, why); }

  bool next() override {
    if (done_) {
      check_not_empty(rows_, allow_empty_, "no records in its JSON array", system_);
      return false;
    }
    skip_ws();
    if (pos_ >= text_.size())
      throw UserError(path_ + " (system '" + system_ + "') ends inside its records array, after " +
                      std::to_string(rows_) + " records: a truncated export? (expected ']')");
    if (text_[pos_] == ']') {
      done_ = true;
      return next();
    }
    malformed_.clear();
    if (need_comma_) {
      if (text_[pos_] != ',') {
        // Two records with no comma between them: keep reading, but do not accept this one.
        malformed_ = "expected ',' between records";
      } else {
        ++pos_;
        skip_ws();
      }
    }
    size_t start = pos_;
    line_no_ = line_at(start);
    if (!skip_value()) return rest_is_broken(start);
    raw_ = text_.substr(start, pos_ - start);
    if (malformed_.empty()) malformed_ = json_.parse(raw_);
    need_comma_ = true;
    ++rows_;
    return true;
  }

  uint64_t line() const override { return line_no_; }
  std::string_view raw() const override { return raw_; }
  const std::string& malformed() const override { return malformed_; }
  std::optional<std::string_view> get(int handle) override { return json_.get(handle); }

 private:
  void skip_ws() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\r' || text_[pos_] == '\t'))
      ++pos_;
  }
  // Past a string starting at pos_ ('"'); false when it never ends.
  bool skip_string() {
    for (size_t i = pos_ + 1; i < text_.size(); ++i) {
      if (text_[i] == '\\') ++i;
      else if (text_[i] == '"') {
        pos_ = i + 1;
        return true;
      }
    }
    return false;
  }
  // Past one value: a string, a balanced object or array, or a scalar. No validation
  // beyond that; simdjson parses the record afterwards.
  bool skip_value() {
    if (pos_ >= text_.size()) return false;
    char c = text_[pos_];
    if (c == '"') return skip_string();
    if (c != '{' && c != '[') {
      while (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != ']' && text_[pos_] != '}' &&
             text_[pos_] != '\n' && text_[pos_] != ' ')
        ++pos_;
      return true;
    }
    int depth = 0;
    while (pos_ < text_.size()) {
      char ch = text_[pos_];
      if (ch == '"') {
        if (!skip_string()) return false;
        continue;
      }
      if (ch == '{' || ch == '[') ++depth;
      else if (ch == '}' || ch == ']') {
        if (--depth == 0) {
          ++pos_;
          return true;
        }
      }
      ++pos_;
    }
    return false;
  }
  // A record whose brackets or strings never close: the structure after it cannot be
  // trusted, so everything from its start to the end is quarantined as one row.
  bool rest_is_broken(size_t start) {
    done_ = true;
    malformed_ = "a record is not closed (unbalanced brackets or an unterminated string); the rest of the file "
                 "is quarantined as this one row";
    raw_ = text_.substr(start);
    ++rows_;
    return true;
  }
  uint64_t line_at(size_t offset) {
    for (; counted_to_ < offset && counted_to_ < text_.size(); ++counted_to_) line_ += text_[counted_to_] == '\n';
    return line_;
  }

  // Moves pos_ just inside the records array, or throws naming what was found instead.
  void find_records_array(const ConnectorSpec& spec) {
    auto fail = [&](const std::string& what) {
      throw UserError(spec.loc.str() + ": " + path_ + " (system '" + system_ + "'): " + what);
    };
    std::string where = "the top level";
    size_t from = 0;
    while (from <= records_.size()) {
      skip_ws();
      if (records_.empty() || from == records_.size()) break;
      size_t dot = records_.find('.', from);
      std::string key = records_.substr(from, dot == std::string::npos ? std::string::npos : dot - from);
      from = dot == std::string::npos ? records_.size() : dot + 1;
      if (pos_ >= text_.size() || text_[pos_] != '{') fail("expected an object at " + where + " holding '" + key + "'");
      ++pos_;
      bool found = false;
      std::vector<std::string> keys;
      for (;;) {
        skip_ws();
        if (pos_ < text_.size() && text_[pos_] == '}') break;
        if (pos_ >= text_.size() || text_[pos_] != '"') fail("malformed JSON object at " + where);
        size_t k = pos_ + 1;
        if (!skip_string()) fail("unterminated string at " + where);
        std::string name(text_.substr(k, pos_ - 1 - k));
        skip_ws();
        if (pos_ >= text_.size() || text_[pos_] != ':') fail("malformed JSON object at " + where);
        ++pos_;
        skip_ws();
        if (name == key) {
          found = true;
          break;
        }
        keys.push_back(name);
        if (!skip_value()) fail("malformed JSON value in " + where);
        skip_ws();
        if (pos_ < text_.size() && text_[pos_] == ',') ++pos_;
      }
      if (!found)
        fail("records path '" + records_ + "' not found: " + where + " has no key '" + key + "'" +
             (keys.empty() ? std::string() : " (keys: " + join(keys, ", ") + ")"));
      where = "'" + records_.substr(0, from > 0 && from <= records_.size() && records_[from - 1] == '.' ? from - 1 : from) + "'";
    }
    skip_ws();
    if (pos_ >= text_.size() || text_[pos_] != '[')
      fail(records_.empty() ? "expected a JSON array of records at the top level (or declare records = \"path.to.array\")"
                            : "records path '" + records_ + "' does not hold an array");
    ++pos_;
  }

  static std::string join(const std::vector<std::string>& v, const std::string& sep) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
    return out;
  }

  std::string system_, records_;
  bool allow_empty_ = false;
  std::string_view text_;  // the file's bytes, with SIMDJSON_PADDING readable bytes beyond size()
  JsonRows json_;
  size_t pos_ = 0, counted_to_ = 0;
  uint64_t line_ = 1, line_no_ = 0, rows_ = 0;
  bool done_ = false, need_comma_ = false;
  std::string_view raw_;
  std::string malformed_;
};

}  // namespace

std::unique_ptr<Connector> make_json_connector(const ConnectorSpec& spec, const std::string& system) {
  return std::make_unique<JsonConnector>(spec, system);
}

}  // namespace seam
