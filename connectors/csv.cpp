// CSV per RFC 4180: quoted fields with embedded delimiters, quotes ("") and newlines,
// an optional UTF-8 BOM, a configurable delimiter. Lines end in LF, CRLF or a CR alone,
// mixed as they come (old Mac exports end lines in CR); line numbers are physical lines
// counted that way. A row that breaks the format is rejected alone; reading resumes on
// the next line so nothing after it is lost.
#include <unordered_map>

#include "connectors/connector.hpp"
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
    data_ = load_file(spec, system);
    rows_estimate_ = count_lines(data_);
    if (data_.compare(0, 3, "\xEF\xBB\xBF") == 0) pos_ = 3;
    read_header();
  }

  std::optional<int> resolve(const std::string& column, std::string& why) override {
    auto it = index_.find(column);
    if (it != index_.end()) return it->second;
    why = "column '" + column + "' is not in the header of " + path_;
    std::string hint = did_you_mean(column, header_);
    if (!hint.empty()) why += " (did you mean '" + hint + "'?)";
    else {
      why += " (columns:";
      for (const auto& h : header_) why += " '" + h + "'";
      why += ")";
    }
    return std::nullopt;
  }

  bool next() override {
    while (pos_ < data_.size()) {
      if (parse_record()) {
        ++rows_;
        return true;
      }
    }
    check_not_empty(rows_, allow_empty_, "a header but no rows", system_);
    return false;
  }

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

  void read_header() {
    if (!parse_record() || !malformed_.empty())
      throw UserError("cannot read the header of " + path_ + (malformed_.empty() ? "" : ": " + malformed_));
    for (size_t i = 0; i < cells_.size(); ++i) {
      std::string name(*get(static_cast<int>(i)));
      if (index_.count(name))
        throw UserError("the header of " + path_ + " names column '" + name + "' twice");
      index_[name] = static_cast<int>(i);
      header_.push_back(name);
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
            malformed_ = "unterminated quoted field (opened on line " + std::to_string(quote_line) + ")";
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
            malformed_ += " (the quote opened on line " + std::to_string(quote_line) + " closes on line " +
                          std::to_string(line_) + "; expected a delimiter or the end of the line after it)";
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
    if (cells_.size() == 1 && !cells_[0].quoted && cells_[0].len == 0) return false;  // blank line
    if (!header_.empty() && cells_.size() != header_.size())
      malformed_ = "expected " + std::to_string(header_.size()) + " fields as in the header, found " +
                   std::to_string(cells_.size());
    return true;
  }

  std::string system_;
  std::string_view data_;  // the file's bytes, owned by Connector
  size_t rows_estimate_ = 0;
  char delim_ = ',';
  bool allow_empty_ = false;
  size_t pos_ = 0, record_start_ = 0;
  uint64_t line_ = 1, row_line_ = 1, rows_ = 0;
  std::vector<std::string> header_;
  std::unordered_map<std::string, int> index_;
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
