#include "engine/util/json.hpp"

#include <cstdint>
#include <cstdio>
#include <cstring>

#include "engine/util/text.hpp"

namespace seam {

namespace {

// Whether any of the 8 bytes in `w` needs escaping (a quote, a backslash or a control
// character), tested all at once: exact for "any", which is all the caller asks.
bool any_to_escape(uint64_t w) {
  constexpr uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
  auto has_zero = [&](uint64_t v) { return (v - ones) & ~v & highs; };
  uint64_t below_space = (w - ones * 0x20) & ~w & highs;
  return (has_zero(w ^ (ones * '"')) | has_zero(w ^ (ones * '\\')) | below_space) != 0;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace

void json_escape_to(std::string& out, std::string_view s) {
  // Runs of plain characters are appended whole, found eight bytes at a time: ids, keys
  // and messages rarely need escaping, and the audit writer escapes every key and id of
  // a run. Bytes from 0x80 up leave the fast path to be checked as UTF-8.
  constexpr uint64_t highs = 0x8080808080808080ULL;
  out.push_back('"');
  size_t plain = 0, i = 0;
  while (i < s.size()) {
    if (i + 8 <= s.size()) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      if (!any_to_escape(w) && (w & highs) == 0) {
        i += 8;
        continue;
      }
    }
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      if (size_t n = utf8_sequence_length(s, i)) {
        i += n;
        continue;
      }
      out.append(s.data() + plain, i - plain);
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\udc%02x", c);
      out += buf;
      plain = ++i;
      continue;
    }
    ++i;
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + plain, i - 1 - plain);
    plain = i;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out += buf;
      }
    }
  }
  out.append(s.data() + plain, s.size() - plain);
  out.push_back('"');
}

bool json_text_round_trips(std::string_view s) {
  // The audit writer asks this of every key and id list of a run: plain ASCII is passed
  // eight bytes at a time (no byte zero, no byte from 0x80 up).
  constexpr uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
  for (size_t i = 0; i < s.size();) {
    if (i + 8 <= s.size()) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      if (((((w - ones) & ~w) | w) & highs) == 0) {  // else a zero or high byte among them
        i += 8;
        continue;
      }
    }
    if (s[i] == '\0') return false;
    size_t n = utf8_sequence_length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

namespace {

bool hex4(std::string_view t, size_t at, uint32_t& v) {
  if (at + 4 > t.size()) return false;
  v = 0;
  for (size_t k = at; k < at + 4; ++k) {
    char c = t[k];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0) return false;
    v = v * 16 + static_cast<uint32_t>(d);
  }
  return true;
}

// Reads the JSON string starting at t[i] (its opening quote) into `out`, undoing
// json_escape_to; on success `i` is just past the closing quote.
bool read_json_string(std::string_view t, size_t& i, std::string& out) {
  if (i >= t.size() || t[i] != '"') return false;
  ++i;
  for (;;) {
    size_t plain = i;  // a run without escapes is copied whole
    while (i < t.size() && t[i] != '"' && t[i] != '\\' && static_cast<unsigned char>(t[i]) >= 0x20) ++i;
    out.append(t.substr(plain, i - plain));
    if (i >= t.size() || static_cast<unsigned char>(t[i]) < 0x20) return false;  // unterminated, or a raw control character
    if (t[i] == '"') {
      ++i;
      return true;
    }
    if (++i >= t.size()) return false;
    switch (t[i++]) {
      case '"': out.push_back('"'); break;
      case '\\': out.push_back('\\'); break;
      case '/': out.push_back('/'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'u': {
        uint32_t cp = 0;
        if (!hex4(t, i, cp)) return false;
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) {  // a pair: high then low surrogate
          uint32_t lo = 0;
          if (i + 6 > t.size() || t[i] != '\\' || t[i + 1] != 'u' || !hex4(t, i + 2, lo) || lo < 0xDC00 || lo > 0xDFFF)
            return false;
          i += 6;
          append_utf8(out, 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00));
        } else if (cp >= 0xDC80 && cp <= 0xDCFF) {  // json_escape_to's escape of a byte that was not UTF-8
          out.push_back(static_cast<char>(cp - 0xDC00));
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          return false;  // a lone surrogate json_escape_to never writes
        } else {
          append_utf8(out, cp);
        }
        break;
      }
      default: return false;
    }
  }
}

}  // namespace

std::optional<std::string> json_parse_string(std::string_view text) {
  std::string out;
  size_t i = 0;
  if (!read_json_string(text, i, out) || i != text.size()) return std::nullopt;
  return out;
}

std::optional<std::vector<std::string>> json_parse_string_array(std::string_view t) {
  size_t i = 0;
  auto skip_ws = [&] {
    while (i < t.size() && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r')) ++i;
  };
  std::vector<std::string> out;
  skip_ws();
  if (i >= t.size() || t[i] != '[') return std::nullopt;
  ++i;
  skip_ws();
  if (i < t.size() && t[i] == ']') {
    ++i;
  } else {
    for (;;) {
      skip_ws();
      if (!read_json_string(t, i, out.emplace_back())) return std::nullopt;
      skip_ws();
      if (i < t.size() && t[i] == ',') {
        ++i;
        continue;
      }
      if (i < t.size() && t[i] == ']') {
        ++i;
        break;
      }
      return std::nullopt;
    }
  }
  skip_ws();
  if (i != t.size()) return std::nullopt;
  return out;
}

void append_id_list(std::string& out, std::string_view id, bool first) {
  out.push_back(first ? '[' : ',');
  json_escape_to(out, id);
}

std::vector<std::string> read_id_list(std::string_view stored) {
  // The JSON form starts with '['. An old-form list that happens to be a JSON array of
  // strings would need an id such as ["x"] written with its brackets and quotes: not seen.
  if (!stored.empty() && stored.front() == '[')
    if (auto ids = json_parse_string_array(stored)) return std::move(*ids);
  std::vector<std::string> out;
  if (stored.empty()) return out;
  for (size_t from = 0;;) {
    size_t at = stored.find(", ", from);
    out.emplace_back(stored.substr(from, at == std::string_view::npos ? std::string_view::npos : at - from));
    if (at == std::string_view::npos) break;
    from = at + 2;
  }
  return out;
}

std::string display_id_list(std::string_view stored) {
  std::string out;
  for (const auto& id : read_id_list(stored)) {
    if (!out.empty()) out += ", ";
    out += id;
  }
  return out;
}

JsonWriter& JsonWriter::strings(const std::vector<std::string>& items) {
  begin_array();
  for (const auto& s : items) value(s);
  return end_array();
}

void JsonWriter::separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.empty()) {
    if (!first_.back()) out_.push_back(',');
    first_.back() = false;
  }
}

JsonWriter& JsonWriter::begin_object() {
  separate();
  out_.push_back('{');
  first_.push_back(true);
  return *this;
}
JsonWriter& JsonWriter::end_object() {
  out_.push_back('}');
  first_.pop_back();
  return *this;
}
JsonWriter& JsonWriter::begin_array() {
  separate();
  out_.push_back('[');
  first_.push_back(true);
  return *this;
}
JsonWriter& JsonWriter::end_array() {
  out_.push_back(']');
  first_.pop_back();
  return *this;
}
JsonWriter& JsonWriter::key(std::string_view k) {
  separate();
  json_escape_to(out_, k);
  out_.push_back(':');
  after_key_ = true;
  return *this;
}
JsonWriter& JsonWriter::value(std::string_view s) {
  separate();
  json_escape_to(out_, s);
  return *this;
}
JsonWriter& JsonWriter::value(int64_t n) {
  separate();
  out_ += std::to_string(n);
  return *this;
}
JsonWriter& JsonWriter::value(bool b) {
  separate();
  out_ += b ? "true" : "false";
  return *this;
}
JsonWriter& JsonWriter::null() {
  separate();
  out_ += "null";
  return *this;
}

}  // namespace seam
