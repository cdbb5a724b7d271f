#pragma once
// A small streaming JSON writer for --format json output, and readers for the little JSON
// seam reads back from its own audit log (strings and record-id lists). Parsing client
// input is simdjson's job, so a builder library is not needed.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace seam {

// Appends `s` as a JSON string. Always valid JSON, whatever the bytes: quote, backslash and
// control characters (NUL included) are escaped (\n, \t, \r, else \u00XX); valid UTF-8
// is copied as is; each byte that is not part of valid UTF-8 becomes the lone surrogate
// \udcXX (XX its value, 80..FF), as Python's "surrogateescape" does, so the original bytes
// can be recovered (json_parse_string here; in Python
// s.encode("utf-8", "surrogateescape")). Valid UTF-8 never produces such an escape.
void json_escape_to(std::string& out, std::string_view s);

// True iff `s` is valid UTF-8 without NUL bytes: the only strings whose JSON reads back as
// exactly these bytes through SQLite's JSON functions too (SQLite's ->> ends a string at
// an escaped NUL and re-encodes a \udcXX escape as three bytes).
bool json_text_round_trips(std::string_view s);

// Parses `text` when it is exactly one JSON string (quotes included), undoing
// json_escape_to; nullopt for anything else.
std::optional<std::string> json_parse_string(std::string_view text);
// Parses `text` when it is exactly one JSON array of strings (whitespace allowed around
// tokens), undoing json_escape_to (\udcXX back to its byte); nullopt for anything else.
std::optional<std::vector<std::string>> json_parse_string_array(std::string_view text);

// Record-id lists as the audit log stores them (left_ids and right_ids of groups and
// exceptions). Runs written since this format store a JSON array of strings,
// ["R1005","R1006"] (no spaces; [] for no records), so an id holding ", " or a quote stays
// one id. Runs written before stored the ids joined with ", " ("R1005, R1006"); such text
// stays as it was (the seal hashes the stored text) and is read by splitting at ", ".
// Building one: append_id_list per id (`first` for the first), then ']' (or "[]" for none).
void append_id_list(std::string& out, std::string_view id, bool first);
std::vector<std::string> read_id_list(std::string_view stored);
// For people: the ids joined with ", " ("R1005, R1006"), either stored form.
std::string display_id_list(std::string_view stored);

class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view k);
  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(int64_t n);
  JsonWriter& value(int n) { return value(static_cast<int64_t>(n)); }
  JsonWriter& value(uint64_t n) { return value(static_cast<int64_t>(n)); }
  JsonWriter& value(bool b);
  JsonWriter& null();
  // An array of strings.
  JsonWriter& strings(const std::vector<std::string>& items);
  // A string, or null when `present` is false.
  JsonWriter& optional(bool present, std::string_view s) { return present ? value(s) : null(); }
  // A number, or null when `present` is false.
  JsonWriter& optional_number(bool present, int64_t n) { return present ? value(n) : null(); }
  const std::string& str() const { return out_; }

 private:
  void separate();
  std::string out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

}  // namespace seam
