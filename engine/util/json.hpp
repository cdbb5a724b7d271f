#pragma once
// A small streaming JSON writer for --format json output: seam only writes JSON
// here (parsing NDJSON input is simdjson's job), so a builder library is not needed.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace seam {

void json_escape_to(std::string& out, std::string_view s);

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
  // A string, or null when `present` is false.
  JsonWriter& optional(bool present, std::string_view s) { return present ? value(s) : null(); }
  const std::string& str() const { return out_; }

 private:
  void separate();
  std::string out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

}  // namespace seam
