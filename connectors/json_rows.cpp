#include "connectors/json_rows.hpp"

#include <cctype>
#include <charconv>
#include <cstdint>

#include "connectors/connector.hpp"
#include "engine/util/json.hpp"
#include "engine/util/result.hpp"
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

size_t JsonRows::find_value(std::string_view s, const std::vector<Step>& steps) {
  constexpr size_t npos = std::string_view::npos;
  size_t p = skip_ws(s, 0);
  for (const Step& step : steps) {
    if (p >= s.size()) return npos;
    if (step.index >= 0) {
      if (s[p] != '[') return npos;
      p = skip_ws(s, p + 1);
      for (int64_t i = 0;; ++i) {
        if (p >= s.size() || s[p] == ']') return npos;
        if (i == step.index) break;
        p = skip_ws(s, value_end(s, p));
        if (p < s.size() && s[p] == ',') p = skip_ws(s, p + 1);
      }
    } else {
      if (s[p] != '{') return npos;
      p = skip_ws(s, p + 1);
      for (;;) {
        if (p >= s.size() || s[p] != '"') return npos;  // '}': no such key
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
  return p >= s.size() ? npos : p;
}

std::optional<std::string_view> JsonRows::source_text(const std::vector<Step>& steps) const {
  size_t p = find_value(text_, steps);
  if (p == std::string_view::npos) return std::nullopt;
  return text_.substr(p, value_end(text_, p) - p);
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

std::optional<RecordsPath> split_records_path(const std::string& records, std::string& why) {
  RecordsPath out;
  std::string path = records;
  // "refund{}.transactions[]": the envelope is one object, itself the enclosing record.
  if (size_t brace = path.find("{}"); brace != std::string::npos) {
    size_t first_array = path.find("[]");
    if (first_array < brace || path.find("{}", brace + 2) != std::string::npos || brace + 2 >= path.size() ||
        path[brace + 2] != '.') {
      why = "records " + quote_for_message(records) +
            " may hold '{}' once, before the first '[]' and followed by '.', to mark the one object that encloses "
            "the records (e.g. \"refund{}.transactions[]\", or \"{}.transactions[]\" for the top-level object)";
      return std::nullopt;
    }
    out.envelope_is_object = true;
    path.replace(brace, 2, "[]");
  }
  std::vector<std::string> parts;
  for (size_t from = 0;;) {
    size_t mark = path.find("[]", from);
    parts.push_back(path.substr(from, mark == std::string::npos ? std::string::npos : mark - from));
    if (mark == std::string::npos) break;
    from = mark + 2;
  }
  // parts: the envelope, then ".inner" for each "[]" (the last one "" when the path ends in "[]").
  bool ends_open = parts.size() > 1 && parts.back().empty();
  if (ends_open) parts.pop_back();
  auto bad = [&](const std::string& what) {
    why = "records " + quote_for_message(records) + " " + what +
          " (expected keys joined by '.', with [] after each array whose elements hold the records, e.g. "
          "\"refunds[].transactions[]\")";
    return std::nullopt;
  };
  out.envelope = parts[0];
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string& p = parts[i];
    if (p.size() < 2 || p[0] != '.') return bad("has no key after a '[]'");
    std::string inner = p.substr(1);
    if (!JsonRows::split_path(inner)) return bad("holds " + quote_for_message(inner) + ", not a path");
    out.inner.push_back(inner);
  }
  if (out.envelope.find_first_of("[]") != std::string::npos) return bad("has a '[' or ']' that is not '[]'");
  return out;
}

std::string parent_prefix(const std::map<std::string, std::string>& options, bool nested, const std::string& loc) {
  auto it = options.find("parent_prefix");
  if (it == options.end()) return "parent";
  if (!nested)
    throw UserError(loc + ": parent_prefix names the way up to an enclosing record, but records does not nest "
                          "(declare records = \"refunds[].transactions[]\" or leave parent_prefix out)");
  if (it->second.empty() || it->second.find_first_of(".[]") != std::string::npos)
    throw UserError(loc + ": parent_prefix expects one word (such as \"up\"), found " + quote_for_message(it->second));
  return it->second;
}

NestedRecords::NestedRecords(const std::vector<std::string>& levels, std::string prefix, std::string records)
    : names_(levels), rows_(levels.size() + 1), levels_(levels.size() + 1), prefix_(std::move(prefix)),
      records_(std::move(records)) {
  for (const auto& l : levels) arrays_.push_back(JsonRows::split_path(l).value_or(std::vector<JsonRows::Step>{}));
}

std::optional<int> NestedRecords::resolve(const std::string& column, std::string& why) {
  // "parent.parent.order_id": each leading prefix climbs one enclosing object.
  size_t up = 0, at = 0;
  const std::string climb = prefix_ + ".";
  while (column.compare(at, climb.size(), climb) == 0) {
    ++up;
    at += climb.size();
  }
  const size_t innermost = arrays_.size();
  if (up > innermost) {
    why = "path " + quote_for_message(column) + " climbs " + std::to_string(up) + " enclosing objects with '" + climb +
          "', but records = " + quote_for_message(records_) + " nests " + std::to_string(innermost) +
          (innermost == 1 ? " level" : " levels");
    return std::nullopt;
  }
  size_t level = innermost - up;
  auto h = rows_[level].resolve(column.substr(at), why);
  if (!h) return std::nullopt;
  handles_.emplace_back(level, *h);
  return static_cast<int>(handles_.size() - 1);
}

std::optional<std::string_view> NestedRecords::get(int handle) {
  auto [level, h] = handles_[static_cast<size_t>(handle)];
  return rows_[level].get(h);
}

// Points level k's cursor at the first element of its array; why not, when there is none.
std::string NestedRecords::start_array(size_t k) {
  Level& l = levels_[k];
  size_t p = JsonRows::find_value(l.text, arrays_[k]);
  if (p == std::string_view::npos || l.text[p] != '[') {
    std::string found = p == std::string_view::npos ? "no such key"
                        : l.text[p] == '{'           ? "an object"
                        : l.text[p] == '"'           ? "a string"
                        : l.text[p] == 'n'           ? "null"
                                                     : "a scalar";
    return "expected an array at '" + names_[k] + "' (records = " + quote_for_message(records_) + "), found " + found;
  }
  l.cursor = skip_ws(l.text, p + 1);
  l.any = false;
  return "";
}

std::string NestedRecords::begin(std::string_view text, uint64_t line) {
  std::string why = rows_[0].parse(text);
  if (!why.empty()) return why;
  levels_[0].text = text;
  levels_[0].line = line;
  depth_ = 0;
  return start_array(0);
}

bool NestedRecords::next() {
  malformed_.clear();
  skip_reason_.clear();
  for (;;) {
    Level& l = levels_[depth_];
    std::string_view s = l.text;
    if (l.cursor >= s.size() || s[l.cursor] == ']') {
      if (!l.any) {
        // An enclosing record with no records inside: one row, counted as skipped.
        l.any = true;
        line_ = l.line;
        raw_ = s;
        skip_reason_ = "'" + names_[depth_] + "' is an empty array";
        return true;
      }
      if (depth_ == 0) return false;
      --depth_;
      continue;
    }
    size_t start = l.cursor, end = value_end(s, start);
    l.cursor = skip_ws(s, end);
    if (l.cursor < s.size() && s[l.cursor] == ',') l.cursor = skip_ws(s, l.cursor + 1);
    l.any = true;
    Level& inner = levels_[depth_ + 1];
    inner.text = s.substr(start, end - start);
    inner.line = l.line + count_line_ends(s, 0, start);
    line_ = inner.line;
    raw_ = inner.text;
    std::string why = rows_[depth_ + 1].parse(inner.text);
    if (!why.empty()) {
      malformed_ = why + " in '" + names_[depth_] + "' (records = " + quote_for_message(records_) + ")";
      return true;
    }
    if (depth_ + 1 == arrays_.size()) return true;  // an innermost record
    why = start_array(depth_ + 1);
    if (!why.empty()) {
      malformed_ = why;
      return true;
    }
    ++depth_;
  }
}

}  // namespace seam
