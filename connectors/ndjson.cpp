// NDJSON: one JSON object per line; a line that is not one is rejected on its own. Lines
// end in LF, CRLF or a CR alone (as CSV lines do), and line numbers are physical lines
// counted that way, whether the file is read whole or in parts. A UTF-8 BOM at the start
// is skipped, as CSV skips it.
#include "connectors/connector.hpp"
#include "connectors/json_rows.hpp"
#include "engine/util/result.hpp"
#include "engine/util/text.hpp"

#include <algorithm>

namespace seam {
namespace {

class NdjsonConnector final : public Connector {
 public:
  NdjsonConnector(const ConnectorSpec& spec, const std::string& system) : system_(system) {
    path_ = spec.path;
    allow_empty_ = allows_empty(spec);
    // simdjson reads up to SIMDJSON_PADDING bytes past the end: the buffer has that much
    // readable beyond the file, so every line is parsed where it lies, not copied.
    if (auto it = spec.options.find("records"); it != spec.options.end()) {
      // Every line is an enclosing record: all of the path is nesting inside it.
      std::string why;
      auto path = split_records_path(it->second, why);
      if (!path || path->envelope.empty() || path->envelope_is_object)
        throw UserError(spec.loc.str() + ": " +
                        (path ? "records " + quote_for_message(it->second) + " names no array inside each line" : why));
      path->inner.insert(path->inner.begin(), path->envelope);
      nested_ = NestedRecords(path->inner, parent_prefix(spec.options, true, spec.loc.str()), it->second);
    } else {
      parent_prefix(spec.options, false, spec.loc.str());
    }
    text_ = load_file(spec, system, simdjson::SIMDJSON_PADDING);
    end_ = text_.size();
    rows_estimate_ = count_lines(text_) + 1;
    if (text_.compare(0, 3, "\xEF\xBB\xBF") == 0) pos_ = begin_ = 3;
    lines_ = LineEnds(text_, end_);
  }

  // A part: the lines in [begin, end) of `text`, which is another connector's padded bytes.
  NdjsonConnector(const std::string& path, const std::string& system, std::string_view text, size_t begin,
                  size_t end, size_t rows_estimate)
      : system_(system), allow_empty_(true), text_(text), rows_estimate_(rows_estimate), pos_(begin), begin_(begin),
        end_(end), lines_(text, end) {
    path_ = path;
  }

  std::vector<std::unique_ptr<Connector>> split(size_t parts, size_t min_part_bytes) override {
    std::vector<std::unique_ptr<Connector>> out;
    size_t size = end_ - pos_;
    parts = std::min(parts, size / std::max<size_t>(min_part_bytes, 1));
    // Nested records are read on one thread: a part would need their declaration too, for
    // a gain only in the largest inputs.
    if (parts < 2 || pos_ != begin_ || next_line_ != 1 || nested_.active()) return out;
    size_t begin = pos_;
    for (size_t k = 1; k <= parts; ++k) {
      size_t end = end_;
      if (k < parts) {  // just past the first line end at or after the k-th share (both bytes of a CRLF)
        LineEnds(text_, end_).line_end(std::max(begin, pos_ + size / parts * k), end);
      }
      end = std::max(end, begin);
      out.push_back(std::make_unique<NdjsonConnector>(path_, system_, text_, begin, end, rows_estimate_ / parts + 16));
      share_release(*out.back(), begin);
      begin = end;
    }
    stop_release();  // the parts read it all
    return out;
  }

  std::optional<int> resolve(const std::string& column, std::string& why) override {
    return nested_.active() ? nested_.resolve(column, why) : json_.resolve(column, why);
  }

  bool next() override {
    from_nested_ = false;
    if (!nested_.active()) return next_line();
    for (;;) {
      if (in_nested_ && nested_.next()) {
        from_nested_ = true;
        return true;
      }
      in_nested_ = false;
      if (!next_line()) return false;
      if (!malformed_.empty()) return true;  // the line is rejected whole
      in_nested_ = true;
    }
  }

  bool next_line() {
    const char* base = text_.data();
    const size_t n = end_;
    while (pos_ < n) {
      size_t start = pos_;
      size_t end = lines_.line_end(start, pos_);
      line_no_ = next_line_++;
      std::string_view text(base + start, end - start);
      if (trim(text).empty()) continue;  // blank lines are not rows
      row_start_ = start;
      raw_ = text;
      malformed_ = nested_.active() ? nested_.begin(text, line_no_) : json_.parse(text);
      if (malformed_.rfind("expected a JSON object", 0) == 0) malformed_ = "expected a JSON object on each line";
      ++rows_;
      return true;
    }
    check_not_empty(rows_, allow_empty_, "no JSON rows", system_);
    return false;
  }

  size_t estimated_rows() const override { return rows_estimate_; }
  uint64_t line() const override { return from_nested_ ? nested_.line() : line_no_; }
  uint64_t lines_seen() const override { return next_line_ - 1; }
  size_t consumed() const override { return pos_ >= end_ ? end_ : row_start_; }
  std::string_view raw() const override { return from_nested_ ? nested_.raw() : raw_; }
  const std::string& malformed() const override { return from_nested_ ? nested_.malformed() : malformed_; }
  const std::string& skip_reason() const override {
    static const std::string none;
    return from_nested_ ? nested_.skip_reason() : none;
  }
  std::optional<std::string_view> get(int handle) override {
    return from_nested_ ? nested_.get(handle) : json_.get(handle);
  }

 private:
  std::string system_;
  bool allow_empty_ = false;
  std::string_view text_;  // the file's bytes, with SIMDJSON_PADDING readable bytes beyond size()
  size_t rows_estimate_ = 0;
  JsonRows json_;
  NestedRecords nested_;  // records = "transactions[]": the rows inside each line
  bool in_nested_ = false, from_nested_ = false;
  size_t pos_ = 0, begin_ = 0, end_ = 0;  // what is left to read: [pos_, end_) of text_, from begin_
  size_t row_start_ = 0;                  // where the current row's line starts
  LineEnds lines_{{}, 0};
  uint64_t next_line_ = 1, line_no_ = 0, rows_ = 0;
  std::string_view raw_;
  std::string malformed_;
};

}  // namespace

std::unique_ptr<Connector> make_ndjson_connector(const ConnectorSpec& spec, const std::string& system) {
  return std::make_unique<NdjsonConnector>(spec, system);
}

}  // namespace seam
