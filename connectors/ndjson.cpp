// NDJSON: one JSON object per line; a line that is not one is rejected on its own.
#include "connectors/connector.hpp"
#include "connectors/json_rows.hpp"
#include "engine/util/text.hpp"

namespace seam {
namespace {

class NdjsonConnector final : public Connector {
 public:
  NdjsonConnector(const ConnectorSpec& spec, const std::string& system) : system_(system) {
    path_ = spec.path;
    allow_empty_ = allows_empty(spec);
    // simdjson reads up to SIMDJSON_PADDING bytes past the end: the buffer has that much
    // readable beyond the file, so every line is parsed where it lies, not copied.
    text_ = load_file(spec, system, simdjson::SIMDJSON_PADDING);
    rows_estimate_ = count_lines(text_) + 1;
  }

  std::optional<int> resolve(const std::string& column, std::string& why) override { return json_.resolve(column, why); }

  bool next() override {
    const char* base = text_.data();
    const size_t n = text_.size();
    while (pos_ < n) {
      size_t nl = text_.find('\n', pos_);
      size_t end = nl == std::string_view::npos ? n : nl;
      size_t start = pos_;
      pos_ = end == n ? n : end + 1;
      line_no_ = next_line_++;
      std::string_view text(base + start, end - start);
      if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
      if (trim(text).empty()) continue;  // blank lines are not rows
      raw_ = text;
      malformed_ = json_.parse(text);
      if (malformed_.rfind("expected a JSON object", 0) == 0) malformed_ = "expected a JSON object on each line";
      ++rows_;
      return true;
    }
    check_not_empty(rows_, allow_empty_, "no JSON rows", system_);
    return false;
  }

  size_t estimated_rows() const override { return rows_estimate_; }
  uint64_t line() const override { return line_no_; }
  std::string_view raw() const override { return raw_; }
  const std::string& malformed() const override { return malformed_; }
  std::optional<std::string_view> get(int handle) override { return json_.get(handle); }

 private:
  std::string system_;
  bool allow_empty_ = false;
  std::string_view text_;  // the file's bytes, with SIMDJSON_PADDING readable bytes beyond size()
  size_t rows_estimate_ = 0;
  JsonRows json_;
  size_t pos_ = 0;
  uint64_t next_line_ = 1, line_no_ = 0, rows_ = 0;
  std::string_view raw_;
  std::string malformed_;
};

}  // namespace

std::unique_ptr<Connector> make_ndjson_connector(const ConnectorSpec& spec, const std::string& system) {
  return std::make_unique<NdjsonConnector>(spec, system);
}

}  // namespace seam
