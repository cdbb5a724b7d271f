#pragma once
// What the NDJSON and JSON connectors share: field paths ("customer.id",
// "lines[0].amount") resolved once, each row parsed with simdjson, and a field read as
// text. A missing key or JSON null reads as missing, not as empty. A number reads as the
// exact text the file has for it ("1234567890123456.78", "12.50", "1e2"), never as a
// double printed back: money must see the digits of the file.
#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace seam {

class JsonRows {
 public:
  // A handle for `path`, or nullopt with `why` filled when the path cannot be valid.
  std::optional<int> resolve(const std::string& path, std::string& why);
  // Parses one row, which must be followed by SIMDJSON_PADDING readable bytes; returns
  // why it is malformed, or "" when it is a JSON object.
  std::string parse(std::string_view text);
  // The field's text in the row last parsed. Valid until the next parse.
  std::optional<std::string_view> get(int handle);

 private:
  struct Step {
    std::string key;
    int64_t index = -1;  // >= 0 for "[N]"
  };
  static std::optional<std::vector<Step>> split_path(const std::string& path);
  // The source text of the value at `steps` in the row last parsed, found as the parsed
  // document found it (first matching key, escapes in keys decoded); nullopt if absent.
  std::optional<std::string_view> source_text(const std::vector<Step>& steps) const;
  std::string_view text_;  // the row last parsed
  simdjson::dom::parser parser_;
  simdjson::dom::element doc_;
  std::vector<std::vector<Step>> paths_;
  std::vector<std::string> scratch_;
};

}  // namespace seam
