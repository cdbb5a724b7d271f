// NDJSON: one JSON object per line. Fields are addressed by path ("customer.id",
// "lines[0].amount"); a missing key or JSON null reads as missing, not as empty.
#include <simdjson.h>

#include <charconv>

#include "connectors/connector.hpp"
#include "engine/util/result.hpp"
#include "engine/util/text.hpp"

namespace seam {
namespace {

// One step of a field path: an object key, or an array position.
struct Step {
  std::string key;
  int64_t index = -1;  // >= 0 for "[N]"
};

// "a.b[0].c" → a, b, [0], c. Split once at resolve time, so reading a field per row is a
// walk over the parsed document with no path parsing.
std::optional<std::vector<Step>> split_path(const std::string& path) {
  std::vector<Step> steps;
  std::string key;
  auto flush = [&] {
    if (!key.empty()) steps.push_back({std::move(key), -1});
    key.clear();
  };
  for (size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c == '.') {
      if (key.empty() && (i == 0 || path[i - 1] != ']')) return std::nullopt;
      flush();
    } else if (c == '[') {
      flush();
      size_t close = path.find(']', i);
      if (close == std::string::npos || close == i + 1) return std::nullopt;
      std::string digits = path.substr(i + 1, close - i - 1);
      for (char d : digits)
        if (!std::isdigit(static_cast<unsigned char>(d))) return std::nullopt;
      steps.push_back({"", std::stoll(digits)});
      i = close;
    } else {
      key.push_back(c);
    }
  }
  flush();
  if (steps.empty()) return std::nullopt;
  return steps;
}

class NdjsonConnector final : public Connector {
 public:
  NdjsonConnector(const ConnectorSpec& spec, const std::string& system) : system_(system) {
    path_ = spec.path;
    allow_empty_ = allows_empty(spec);
    // simdjson reads up to SIMDJSON_PADDING bytes past the end: the buffer is allocated
    // with that much spare capacity, so it is parsed where it was read, not copied.
    buffer_ = load_file(spec, system, simdjson::SIMDJSON_PADDING);
    text_ = buffer_.view();
    rows_estimate_ = count_lines(text_) + 1;
  }

  std::optional<int> resolve(const std::string& column, std::string& why) override {
    auto steps = split_path(column);
    if (!steps) {
      why = "path " + quote_for_message(column) + " is not a valid field path (expected names joined by '.', "
            "with [N] for array positions, e.g. 'lines[0].amount')";
      return std::nullopt;
    }
    paths_.push_back(std::move(*steps));
    scratch_.emplace_back();
    return static_cast<int>(paths_.size() - 1);
  }

  bool next() override {
    const char* base = text_.data();
    const size_t n = text_.size();
    while (pos_ < n) {
      size_t nl = std::string_view(base, n).find('\n', pos_);
      size_t end = nl == std::string_view::npos ? n : nl;
      size_t start = pos_;
      pos_ = end == n ? n : end + 1;
      line_no_ = next_line_++;
      std::string_view text(base + start, end - start);
      if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
      if (trim(text).empty()) continue;  // blank lines are not rows
      raw_ = text;
      malformed_.clear();
      // The file sits in one padded buffer, so every line has the padding simdjson needs after it.
      auto result = parser_.parse(reinterpret_cast<const uint8_t*>(text.data()), text.size(), false);
      if (result.error()) {
        malformed_ = std::string("invalid JSON: ") + simdjson::error_message(result.error());
      } else if (!result.value_unsafe().is_object()) {
        malformed_ = "expected a JSON object on each line";
      } else {
        doc_ = result.value_unsafe();
      }
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

  std::optional<std::string_view> get(int handle) override {
    auto h = static_cast<size_t>(handle);
    simdjson::dom::element e = doc_;
    for (const Step& step : paths_[h]) {
      auto next = step.index >= 0 ? e.at(static_cast<size_t>(step.index)) : e.at_key(step.key);
      if (next.error()) return std::nullopt;  // absent key, short array, or not a container
      e = next.value_unsafe();
    }
    std::string& buf = scratch_[h];
    switch (e.type()) {
      case simdjson::dom::element_type::NULL_VALUE: return std::nullopt;
      case simdjson::dom::element_type::STRING: return std::string_view(e.get_string().value_unsafe());
      case simdjson::dom::element_type::BOOL: return e.get_bool().value_unsafe() ? "true" : "false";
      case simdjson::dom::element_type::INT64: buf = std::to_string(e.get_int64().value_unsafe()); return buf;
      case simdjson::dom::element_type::UINT64: buf = std::to_string(e.get_uint64().value_unsafe()); return buf;
      case simdjson::dom::element_type::DOUBLE: {
        // Shortest text that reads back as the same double: 12.5 stays "12.5", never "12.4999…".
        char tmp[64];
        auto r = std::to_chars(tmp, tmp + sizeof tmp, e.get_double().value_unsafe());
        buf.assign(tmp, r.ptr);
        return buf;
      }
      default: buf = simdjson::minify(e); return buf;
    }
  }

 private:
  std::string system_;
  bool allow_empty_ = false;
  InputBuffer buffer_;
  std::string_view text_;  // buffer_'s bytes, with SIMDJSON_PADDING readable bytes beyond size()
  size_t rows_estimate_ = 0;
  simdjson::dom::parser parser_;
  simdjson::dom::element doc_;
  size_t pos_ = 0;
  uint64_t next_line_ = 1, line_no_ = 0, rows_ = 0;
  std::string_view raw_;
  std::string malformed_;
  std::vector<std::vector<Step>> paths_;
  std::vector<std::string> scratch_;
};

}  // namespace

std::unique_ptr<Connector> make_ndjson_connector(const ConnectorSpec& spec, const std::string& system) {
  return std::make_unique<NdjsonConnector>(spec, system);
}

}  // namespace seam
