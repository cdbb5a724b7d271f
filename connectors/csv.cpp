// CSV per RFC 4180: quoted fields with embedded delimiters, quotes ("") and newlines,
// an optional UTF-8 BOM, a configurable delimiter. Lines end in LF, CRLF or a CR alone,
// mixed as they come (old Mac exports end lines in CR); line numbers are physical lines
// counted that way. A row that breaks the format is rejected alone; reading resumes on
// the next line so nothing after it is lost.
//
// Report-style exports: the header may sit below title lines (header_row = N, or the
// first row holding every name of header_contains); the rows above it are skipped and
// counted, as are rows matching a declared skip_rows condition (subtotals, footers). An
// `encoding` other than UTF-8 is converted with iconv before parsing; a byte the encoding
// does not define rejects its row.
#include <simdjson.h>

#include <algorithm>
#include <unordered_map>

#include "connectors/connector.hpp"
#include "connectors/csv_rows.hpp"
#include "connectors/encoding.hpp"
#include "engine/util/result.hpp"
#include "engine/util/text.hpp"

namespace seam {
namespace {

class CsvConnector final : public Connector {
 public:
  CsvConnector(const ConnectorSpec& spec, const std::string& system) : system_(system) {
    path_ = spec.path;
    if (auto it = spec.options.find("delimiter"); it != spec.options.end()) {
      std::string d = it->second == "\\t" ? "\t" : it->second;
      if (d.size() != 1 || d == "\"" || d == "\n" || d == "\r")
        throw UserError(spec.loc.str() + ": csv delimiter must be one character other than a quote or newline, found " +
                        quote_for_message(it->second));
      delim_ = d[0];
    }
    allow_empty_ = allows_empty(spec);
    loc_ = spec.loc.str();
    read_report_options(spec);
    data_ = load_file(spec, system);
    if (auto it = spec.options.find("encoding"); it != spec.options.end()) convert(it->second);
    rows_estimate_ = count_lines(data_);
    if (data_.compare(0, 3, "\xEF\xBB\xBF") == 0) pos_ = 3;
    read_header();
  }

  // A part: the rows in [begin, end) of `whole`'s text, which holds a row start at each
  // end. It shares the header and options of `whole`, which must outlive it. The first
  // part gives back the rows above the header and counts lines from where it starts (the
  // header's lines are its own); the others count from 1 (see Connector::split).
  CsvConnector(const CsvConnector& whole, size_t begin, size_t end, bool first, size_t rows_estimate)
      : system_(whole.system_), loc_(whole.loc_), data_(whole.data_.substr(0, end)), encoding_(whole.encoding_),
        bad_(whole.bad_), skip_rules_(whole.skip_rules_), header_line_(whole.header_line_),
        rows_estimate_(rows_estimate), delim_(whole.delim_), allow_empty_(true), pos_(begin), header_(whole.header_),
        is_part_(true) {
    path_ = whole.path_;
    if (first) {
      above_header_ = whole.above_header_;
      line_ = whole.line_;
    } else {
      begin_ = begin;
      counts_from_one_ = true;
    }
  }

  // Row starts are found by one pass over the bytes after the header (csv_rows.hpp), by
  // the parser's own rules, so each part reads the rows the whole would, with the same
  // rejects. Only before the first row is read: the parts take every row, and this
  // connector reads none after (its next() only checks the whole input for emptiness).
  std::vector<std::unique_ptr<Connector>> split(size_t parts, size_t min_part_bytes) override {
    std::vector<std::unique_ptr<Connector>> out;
    const size_t from = pos_, size = data_.size() - pos_;
    parts = std::min(parts, size / std::max<size_t>(min_part_bytes, 1));
    if (parts < 2 || is_part_ || started_) return out;
    std::vector<size_t> targets;
    for (size_t k = 1; k < parts; ++k) targets.push_back(from + size / parts * k);
    std::vector<size_t> bounds{from};
    for (size_t at : csv_row_starts(data_, from, delim_, targets))
      if (at > bounds.back() && at < data_.size()) bounds.push_back(at);  // no empty part
    // One quoted field over most of the file, say: no row starts where a part would.
    if (bounds.size() < 2) return out;
    bounds.push_back(data_.size());
    const size_t count = bounds.size() - 1;
    for (size_t k = 0; k < count; ++k)
      out.push_back(std::unique_ptr<Connector>(
          new CsvConnector(*this, bounds[k], bounds[k + 1], k == 0, rows_estimate_ / count + 16)));
    for (size_t k = 0; k < count; ++k) share_release(*out[k], bounds[k]);
    stop_release();  // the parts read it all
    pos_ = data_.size();
    above_ = above_header_.size();
    started_ = true;
    return out;
  }

  uint64_t lines_seen() const override { return line_ - 1; }
  size_t consumed() const override { return pos_ >= data_.size() ? data_.size() : record_start_; }

  std::optional<int> resolve(const std::string& column, std::string& why) override {
    auto it = header_->index.find(column);
    if (it != header_->index.end()) return it->second;
    why = "column '" + column + "' is not in the header of " + path_;
    std::string hint = did_you_mean(column, header_->names);
    if (!hint.empty()) why += " (did you mean '" + hint + "'?)";
    else {
      why += " (columns:";
      for (const auto& h : header_->names) why += " '" + h + "'";
      why += ")";
    }
    return std::nullopt;
  }

  bool next() override {
    started_ = true;
    skip_reason_.clear();
    if (above_ < above_header_.size()) {
      // The rows above the header, given back first so they are counted where they are.
      const auto& [line, raw] = above_header_[above_++];
      row_line_ = line;
      raw_ = raw;
      malformed_.clear();
      skip_reason_ = "above the header (line " + std::to_string(header_line_) + ")";
      return true;
    }
    while (pos_ < data_.size()) {
      if (parse_record()) {
        check_record();
        if (skip_reason_.empty()) ++rows_;
        return true;
      }
    }
    check_not_empty(rows_, allow_empty_, "a header but no rows", system_);
    return false;
  }

  const std::string& skip_reason() const override { return skip_reason_; }

  size_t estimated_rows() const override { return rows_estimate_; }
  uint64_t line() const override { return row_line_; }
  std::string_view raw() const override { return raw_; }
  const std::string& malformed() const override { return malformed_; }

  std::optional<std::string_view> get(int handle) override {
    if (handle < 0 || static_cast<size_t>(handle) >= cells_.size()) return std::nullopt;
    const Cell& c = cells_[static_cast<size_t>(handle)];
    return std::string_view(c.quoted ? scratch_.data() + c.off : data_.data() + c.off, c.len);
  }

 private:
  struct Cell {
    bool quoted;
    size_t off, len;
  };

  struct Header {
    std::vector<std::string> names;
    std::unordered_map<std::string, int> index;
  };

  // A line number as a message shows it: the file's, in a part too.
  std::string shown(uint64_t line) const {
    if (counts_from_one_ && !lines_before_) lines_before_ = count_line_ends(data_, 0, begin_);
    return std::to_string(line + lines_before_.value_or(0));
  }

  // skip_rows = { { column = "Name", starts_with = "Total" }, { column = "Date", empty = true } }:
  // a row matching any one condition is skipped.
  struct SkipRule {
    std::string column, text;
    enum Kind { StartsWith, Equals, Empty } kind = Empty;
    int index = -1;  // in the header, once found
  };

  [[noreturn]] void option_error(const std::string& option, const std::string& what) const {
    throw UserError(loc_ + ": csv " + option + " " + what);
  }

  void read_report_options(const ConnectorSpec& spec) {
    if (auto it = spec.options.find("header_row"); it != spec.options.end()) {
      const std::string& v = it->second;
      bool digits = !v.empty() && v.size() < 10 && v.find_first_not_of("0123456789") == std::string::npos;
      if (!digits || std::stoul(v) == 0)
        option_error("header_row", "expects the header's line number (1 for the first line), found " +
                                       quote_for_message(v));
      header_row_ = std::stoul(v);
    }
    simdjson::dom::parser parser;
    if (auto it = spec.options.find("header_contains"); it != spec.options.end()) {
      if (header_row_) option_error("header_contains", "and header_row both say where the header is: keep one");
      auto doc = parser.parse(it->second);
      const char* expected = "expects a list of column names, e.g. header_contains = { \"Date\", \"Amount\" }";
      if (doc.error() || !doc.value_unsafe().is_array()) option_error("header_contains", expected);
      simdjson::dom::element root = doc.value_unsafe();
      simdjson::dom::array list = root.get_array().value_unsafe();
      for (simdjson::dom::element e : list) {
        if (!e.is_string() || e.get_string().value_unsafe().empty()) option_error("header_contains", expected);
        header_contains_.emplace_back(e.get_string().value_unsafe());
      }
      if (header_contains_.empty()) option_error("header_contains", expected);
    }
    if (auto it = spec.options.find("skip_rows"); it != spec.options.end()) {
      const std::string expected =
          "expects a list of conditions, each { column = \"Name\", starts_with = \"Total\" }, "
          "{ column = \"Name\", equals = \"...\" } or { column = \"Date\", empty = true }";
      auto doc = parser.parse(it->second);
      if (doc.error() || !doc.value_unsafe().is_array()) option_error("skip_rows", expected);
      size_t n = 0;
      simdjson::dom::element root = doc.value_unsafe();
      simdjson::dom::array list = root.get_array().value_unsafe();
      for (simdjson::dom::element e : list) {
        ++n;
        std::string which = "condition " + std::to_string(n) + " ";
        if (!e.is_object()) option_error("skip_rows", expected + "; " + which + "is not a table");
        SkipRule rule;
        int tests = 0;
        simdjson::dom::object conditions = e.get_object().value_unsafe();
        for (simdjson::dom::key_value_pair field : conditions) {
          std::string key(field.key);
          auto v = field.value;
          if (key == "column" && v.is_string()) rule.column = std::string(v.get_string().value_unsafe());
          else if ((key == "starts_with" || key == "equals") && v.is_string()) {
            rule.text = std::string(v.get_string().value_unsafe());
            rule.kind = key == "equals" ? SkipRule::Equals : SkipRule::StartsWith;
            ++tests;
          } else if (key == "empty" && v.is_bool() && v.get_bool().value_unsafe()) {
            rule.kind = SkipRule::Empty;
            ++tests;
          } else {
            option_error("skip_rows", expected + "; " + which + "has " + quote_for_message(key) + " = " +
                                          simdjson::minify(v));
          }
        }
        if (rule.column.empty()) option_error("skip_rows", expected + "; " + which + "names no column");
        if (tests != 1)
          option_error("skip_rows", expected + "; " + which + "needs exactly one of starts_with, equals, empty = true");
        skip_rules_.push_back(std::move(rule));
      }
    }
  }

  // To UTF-8 before parsing (see encoding.hpp); the digest stays that of the file's bytes.
  void convert(const std::string& name) {
    encoding_ = name;
    if (is_utf8(name)) return;
    auto utf8 = to_utf8(data_, name);
    if (!utf8)
      option_error("encoding", "names an encoding this system's iconv does not know: " + quote_for_message(name) +
                                   " (expected e.g. \"windows-1252\", \"latin-1\" or \"utf-8\")");
    converted_ = std::move(utf8->text);
    stop_release();  // the rows are read from the copy
    undefined_ = std::move(utf8->undefined);
    data_ = converted_;
  }

  // The first byte in [from, to) that the declared encoding does not define, if any.
  const std::pair<size_t, unsigned char>* bad_byte_in(size_t from, size_t to) const {
    auto it = std::lower_bound(bad_->begin(), bad_->end(), std::pair<size_t, unsigned char>{from, 0});
    return it != bad_->end() && it->first < to ? &*it : nullptr;
  }

  std::string bad_byte_reason(const std::pair<size_t, unsigned char>& bad) const {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X", bad.second);
    uint64_t line = row_line_ + count_line_ends(data_, record_start_, bad.first);
    return std::string("byte ") + hex + " on line " + shown(line) + " is not a character in " + encoding_ +
           " (the encoding declared at " + loc_ + "); it reads as U+FFFD in the raw text. Fix the export or "
           "declare its real encoding";
  }

  // After a record is parsed: an undefined byte rejects it, a skip condition skips it.
  void check_record() {
    if (!bad_->empty())
      if (auto* bad = bad_byte_in(record_start_, pos_)) {
        malformed_ = bad_byte_reason(*bad);
        return;
      }
    if (!structural_ok_) return;
    for (const SkipRule& rule : skip_rules_) {
      auto i = static_cast<size_t>(rule.index);
      std::string_view cell = i < cells_.size() ? trim(*get(rule.index)) : std::string_view();
      bool hit = rule.kind == SkipRule::Empty    ? cell.empty()
                 : rule.kind == SkipRule::Equals ? cell == rule.text
                                                 : cell.substr(0, rule.text.size()) == rule.text;
      if (hit) {
        malformed_.clear();  // a total row often has fewer fields: it is skipped all the same
        skip_reason_ = "skip_rows: column '" + rule.column + "' " +
                       (rule.kind == SkipRule::Empty ? std::string("is empty")
                        : rule.kind == SkipRule::Equals ? "equals " + quote_for_message(rule.text)
                                                        : "starts with " + quote_for_message(rule.text));
        return;
      }
    }
  }

  bool is_header() {
    if (header_row_) return row_line_ == header_row_;
    for (const auto& name : header_contains_) {
      bool found = false;
      for (size_t i = 0; i < cells_.size() && !found; ++i) found = trim(*get(static_cast<int>(i))) == name;
      if (!found) return false;
    }
    return true;
  }

  std::string looked_for() const {
    if (header_row_) return "header_row = " + std::to_string(header_row_);
    std::string names;
    for (const auto& n : header_contains_) names += (names.empty() ? "" : ", ") + quote_for_message(n);
    return "a row holding every column of header_contains (" + names + ")";
  }

  // Reads records up to the declared header; the ones before it are kept to be given
  // back as skipped rows.
  void find_header() {
    size_t searched = 0;
    for (;;) {
      if (pos_ >= data_.size())
        throw UserError(loc_ + ": no header found in " + path_ + " (system '" + system_ + "'): looked for " +
                        looked_for() + " in " + std::to_string(searched) + (searched == 1 ? " row" : " rows") + " (" +
                        std::to_string(line_ - 1) + (line_ == 2 ? " line" : " lines") +
                        "); check the option against the file, or remove it if the header is the first row");
      if (!parse_record()) continue;  // a blank line
      if (header_row_ && row_line_ > header_row_)
        throw UserError(loc_ + ": header_row = " + std::to_string(header_row_) + " of " + path_ + " (system '" +
                        system_ + "') is a blank line or inside a row that starts before it; the next row starts on "
                        "line " + std::to_string(row_line_) + ": declare the line the header starts on");
      ++searched;
      if (structural_ok_ && is_header()) break;
      above_header_.emplace_back(row_line_, raw_);
    }
    header_line_ = row_line_;
  }

  void read_header() {
    if (header_row_ || !header_contains_.empty()) find_header();
    else if (!parse_record() || !malformed_.empty())
      throw UserError("cannot read the header of " + path_ + (malformed_.empty() ? "" : ": " + malformed_));
    if (!bad_->empty())
      if (auto* bad = bad_byte_in(record_start_, pos_))
        throw UserError("cannot read the header of " + path_ + ": " + bad_byte_reason(*bad));
    auto header = std::make_shared<Header>();
    for (size_t i = 0; i < cells_.size(); ++i) {
      std::string name(*get(static_cast<int>(i)));
      if (header->index.count(name))
        throw UserError("the header of " + path_ + " names column '" + name + "' twice");
      header->index[name] = static_cast<int>(i);
      header->names.push_back(name);
    }
    header_ = std::move(header);
    for (SkipRule& rule : skip_rules_) {
      std::string why;
      auto h = resolve(rule.column, why);
      if (!h) throw UserError(loc_ + ": csv skip_rows: " + why);
      rule.index = *h;
    }
  }

  // Rejects the record from its start to the end of the line holding `from` and resumes on
  // the next line: the bytes in between are the reject's raw text, nothing else is lost.
  void skip_rest_of_line(size_t from) {
    size_t end = data_.find_first_of("\r\n", from);
    if (end == std::string::npos) end = data_.size();
    raw_ = std::string_view(data_).substr(record_start_, end - record_start_);
    pos_ = end;
    if (pos_ < data_.size() && data_[pos_] == '\r') ++pos_;
    if (pos_ < data_.size() && data_[pos_] == '\n' && (pos_ == end || data_[end] == '\r')) ++pos_;
    line_ = row_line_ + count_line_ends(data_, record_start_, pos_);
  }

  // Parses one record at pos_. Returns false for a blank line (not a row).
  bool parse_record() {
    cells_.clear();
    scratch_.clear();
    malformed_.clear();
    structural_ok_ = false;
    record_start_ = pos_;
    row_line_ = line_;
    const size_t n = data_.size();
    for (;;) {
      if (pos_ < n && data_[pos_] == '"') {
        const size_t quote_at = pos_;
        const uint64_t quote_line = line_;
        size_t off = scratch_.size();
        ++pos_;
        for (;;) {
          size_t q = data_.find('"', pos_);
          if (q == std::string::npos) {
            // No quote closes it anywhere: the lines after it hold no quote either, so they
            // are read as rows of their own rather than swallowed into this field.
            malformed_ = "unterminated quoted field (opened on line " + shown(quote_line) + ")";
            skip_rest_of_line(quote_at);
            return true;
          }
          line_ += count_line_ends(data_, pos_, q);
          scratch_.append(data_, pos_, q - pos_);
          pos_ = q + 1;
          if (pos_ < n && data_[pos_] == '"') {
            scratch_.push_back('"');
            ++pos_;
            continue;
          }
          break;
        }
        cells_.push_back({true, off, scratch_.size() - off});
        if (pos_ < n && data_[pos_] != delim_ && data_[pos_] != '\n' && data_[pos_] != '\r') {
          malformed_ = std::string("unexpected character '") + data_[pos_] + "' after a closing quote in field " +
                       std::to_string(cells_.size());
          // A quote that closes on a later line than it opened is most likely a quote left
          // open: the reject holds every line from the record's start, and says so.
          if (line_ != quote_line)
            malformed_ += " (the quote opened on line " + shown(quote_line) + " closes on line " + shown(line_) +
                          "; expected a delimiter or the end of the line after it)";
          skip_rest_of_line(pos_);
          return true;
        }
      } else {
        size_t start = pos_;
        while (pos_ < n && data_[pos_] != delim_ && data_[pos_] != '\n' && data_[pos_] != '\r') ++pos_;
        cells_.push_back({false, start, pos_ - start});
      }
      if (pos_ < n && data_[pos_] == delim_) {
        ++pos_;
        continue;
      }
      break;  // end of record
    }
    size_t end = pos_;
    if (pos_ < n && data_[pos_] == '\r') ++pos_;
    if (pos_ < n && data_[pos_] == '\n') ++pos_;
    ++line_;
    raw_ = std::string_view(data_).substr(record_start_, end - record_start_);
    structural_ok_ = true;
    if (cells_.size() == 1 && !cells_[0].quoted && cells_[0].len == 0) return false;  // blank line
    if (header_ && cells_.size() != header_->names.size())
      malformed_ = "expected " + std::to_string(header_->names.size()) + " fields as in the header, found " +
                   std::to_string(cells_.size());
    return true;
  }

  std::string system_, loc_;
  std::string_view data_;  // the file's bytes, owned by Connector, or converted_
  std::string converted_;  // the file as UTF-8, when an encoding is declared
  std::string encoding_;
  std::vector<std::pair<size_t, unsigned char>> undefined_;  // in converted_: where each undefined byte went, and its value
  const std::vector<std::pair<size_t, unsigned char>>* bad_ = &undefined_;  // the whole's, in a part
  uint64_t header_row_ = 0;
  std::vector<std::string> header_contains_;
  std::vector<SkipRule> skip_rules_;
  std::vector<std::pair<uint64_t, std::string_view>> above_header_;  // line, raw text
  size_t above_ = 0;
  uint64_t header_line_ = 1;
  bool structural_ok_ = false;  // the last record parsed had balanced quotes
  std::string skip_reason_;
  size_t rows_estimate_ = 0;
  char delim_ = ',';
  bool allow_empty_ = false;
  size_t pos_ = 0, record_start_ = 0;
  uint64_t line_ = 1, row_line_ = 1, rows_ = 0;
  std::shared_ptr<const Header> header_;  // null until read; shared by the parts
  bool is_part_ = false, started_ = false;
  // A part after the first counts lines from 1; the lines before it, counted when a
  // message names a line, make the number in the message the file's.
  bool counts_from_one_ = false;
  size_t begin_ = 0;
  mutable std::optional<uint64_t> lines_before_;
  std::vector<Cell> cells_;
  std::string scratch_;
  std::string_view raw_;
  std::string malformed_;
};

}  // namespace

std::unique_ptr<Connector> make_csv_connector(const ConnectorSpec& spec, const std::string& system) {
  return std::make_unique<CsvConnector>(spec, system);
}

}  // namespace seam
