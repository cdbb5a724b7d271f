#include "connectors/json_rows.hpp"

#include <cctype>
#include <charconv>
#include <cstdint>

#include "engine/util/json.hpp"
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

namespace {

bool is_ws(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

size_t skip_ws(std::string_view s, size_t p) {
  while (p < s.size() && is_ws(s[p])) ++p;
  return p;
}

// Just past the string whose quote is at p (s.size() if it never closes).
size_t string_end(std::string_view s, size_t p) {
  for (size_t i = p + 1; i < s.size(); ++i) {
    if (s[i] == '\\') ++i;
    else if (s[i] == '"') return i + 1;
  }
  return s.size();
}

// Just past the value at p, in text simdjson has already validated.
size_t value_end(std::string_view s, size_t p) {
  if (p >= s.size()) return p;
  if (s[p] == '"') return string_end(s, p);
  if (s[p] != '{' && s[p] != '[') {
    while (p < s.size() && s[p] != ',' && s[p] != ']' && s[p] != '}' && !is_ws(s[p])) ++p;
    return p;
  }
  uint64_t depth = 0;
  while (p < s.size()) {
    if (s[p] == '"') {
      p = string_end(s, p);
      continue;
    }
    if (s[p] == '{' || s[p] == '[') ++depth;
    else if ((s[p] == '}' || s[p] == ']') && --depth == 0) return p + 1;
    ++p;
  }
  return p;
}

// Whether a key as written (between its quotes, escapes and all) reads as `key`, the way
// the parsed document compares keys: after decoding escapes.
bool key_is(std::string_view written, std::string_view key) {
  if (written.find('\\') == std::string_view::npos) return written == key;
  auto decoded = json_parse_string("\"" + std::string(written) + "\"");
  return decoded && *decoded == key;
}

}  // namespace

std::optional<std::string_view> JsonRows::source_text(const std::vector<Step>& steps) const {
  std::string_view s = text_;
  size_t p = skip_ws(s, 0);
  for (const Step& step : steps) {
    if (p >= s.size()) return std::nullopt;
    if (step.index >= 0) {
      if (s[p] != '[') return std::nullopt;
      p = skip_ws(s, p + 1);
      for (int64_t i = 0;; ++i) {
        if (p >= s.size() || s[p] == ']') return std::nullopt;
        if (i == step.index) break;
        p = skip_ws(s, value_end(s, p));
        if (p < s.size() && s[p] == ',') p = skip_ws(s, p + 1);
      }
    } else {
      if (s[p] != '{') return std::nullopt;
      p = skip_ws(s, p + 1);
      for (;;) {
        if (p >= s.size() || s[p] != '"') return std::nullopt;  // '}': no such key
        size_t end = string_end(s, p);
        bool match = key_is(s.substr(p + 1, end - p - 2), step.key);
        p = skip_ws(s, end);
        if (p < s.size() && s[p] == ':') p = skip_ws(s, p + 1);
        if (match) break;
        p = skip_ws(s, value_end(s, p));
        if (p < s.size() && s[p] == ',') p = skip_ws(s, p + 1);
      }
    }
  }
  if (p >= s.size()) return std::nullopt;
  return s.substr(p, value_end(s, p) - p);
}

std::string JsonRows::parse(std::string_view text) {
  text_ = text;
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
    case simdjson::dom::element_type::INT64:
    case simdjson::dom::element_type::UINT64:
    case simdjson::dom::element_type::DOUBLE: {
      // The number as the file writes it: through a double, 1234567890123456.78 would
      // read as ...56.8 and 12.50 as 12.5.
      if (auto src = source_text(paths_[h])) return *src;
      break;
    }
    default: {
      // An object or array as the file writes it, whitespace removed: numbers inside keep
      // their digits too.
      auto src = source_text(paths_[h]);
      if (!src) break;
      buf.resize(src->size());
      size_t len = 0;
      if (simdjson::minify(src->data(), src->size(), buf.data(), len) != simdjson::SUCCESS) break;
      buf.resize(len);
      return buf;
    }
  }
  // Not reached for a document simdjson parsed (source_text finds what the document found);
  // kept so a disagreement reads as the parsed value rather than as missing.
  switch (e.type()) {
    case simdjson::dom::element_type::INT64: buf = std::to_string(e.get_int64().value_unsafe()); return buf;
    case simdjson::dom::element_type::UINT64: buf = std::to_string(e.get_uint64().value_unsafe()); return buf;
    case simdjson::dom::element_type::DOUBLE: {
      char tmp[64];
      auto r = std::to_chars(tmp, tmp + sizeof tmp, e.get_double().value_unsafe());
      buf.assign(tmp, r.ptr);
      return buf;
    }
    default: buf = simdjson::minify(e); return buf;
  }
}

}  // namespace seam
