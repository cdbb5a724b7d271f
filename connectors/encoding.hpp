#pragma once
// Legacy encodings to UTF-8, with glibc's iconv, before a connector parses the text.
// Undefined bytes are not dropped or guessed: each becomes U+FFFD and its place is kept,
// so the row holding it can be rejected naming the byte.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace seam {

struct Utf8Text {
  std::string text;
  // In `text`: where each byte the encoding does not define went (its U+FFFD), and the
  // byte; in increasing order.
  std::vector<std::pair<size_t, unsigned char>> undefined;
};

// "windows-1252" (or "cp1252"), "latin-1" (or "latin1") and any other name iconv knows;
// nullopt when iconv knows no such encoding. "utf-8" converts nothing (nullopt is not
// returned for it: callers check is_utf8 first).
std::optional<Utf8Text> to_utf8(std::string_view bytes, const std::string& encoding);
bool is_utf8(const std::string& encoding);

}  // namespace seam
