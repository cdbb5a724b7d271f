#include "connectors/json_rows.hpp"

#include <cctype>
#include <charconv>

#include "engine/util/text.hpp"

namespace seam {

// "a.b[0].c" → a, b, [0], c. Split once at resolve time, so reading a field per row is a
// walk over the parsed document with no path parsing.
std::optional<std::vector<JsonRows::Step>> JsonRows::split_path(const std::string& path) {
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

std::optional<int> JsonRows::resolve(const std::string& path, std::string& why) {
  auto steps = split_path(path);
  if (!steps) {
    why = "path " + quote_for_message(path) + " is not a valid field path (expected names joined by '.', "
          "with [N] for array positions, e.g. 'lines[0].amount')";
    return std::nullopt;
  }
  paths_.push_back(std::move(*steps));
  scratch_.emplace_back();
  return static_cast<int>(paths_.size() - 1);
}

std::string JsonRows::parse(std::string_view text) {
  auto result = parser_.parse(reinterpret_cast<const uint8_t*>(text.data()), text.size(), false);
  if (result.error()) return std::string("invalid JSON: ") + simdjson::error_message(result.error());
  if (!result.value_unsafe().is_object()) {
    switch (result.value_unsafe().type()) {
      case simdjson::dom::element_type::ARRAY: return "expected a JSON object, found an array";
      case simdjson::dom::element_type::STRING: return "expected a JSON object, found a string";
      case simdjson::dom::element_type::NULL_VALUE: return "expected a JSON object, found null";
      default: return "expected a JSON object, found a scalar";
    }
  }
  doc_ = result.value_unsafe();
  return "";
}

std::optional<std::string_view> JsonRows::get(int handle) {
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

}  // namespace seam
