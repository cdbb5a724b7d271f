#include "connectors/encoding.hpp"

#include <iconv.h>

#include <cctype>
#include <cerrno>

namespace seam {
namespace {

std::string lower(const std::string& s) {
  std::string out;
  for (char c : s) out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return out;
}

}  // namespace

bool is_utf8(const std::string& encoding) {
  std::string l = lower(encoding);
  return l == "utf-8" || l == "utf8";
}

std::optional<Utf8Text> to_utf8(std::string_view bytes, const std::string& encoding) {
  // The names people write, as glibc spells them (it knows "ISO-8859-1", not "latin-1").
  std::string l = lower(encoding);
  std::string name = l == "latin-1" || l == "latin1"       ? "ISO-8859-1"
                     : l == "windows-1252" || l == "cp1252" ? "WINDOWS-1252"
                                                            : encoding;
  iconv_t cd = iconv_open("UTF-8", name.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) return std::nullopt;
  Utf8Text out;
  std::string& text = out.text;
  text.resize(bytes.size() * 3 + 16);  // 3 bytes of UTF-8 at most per byte of a single-byte encoding
  char* in = const_cast<char*>(bytes.data());  // iconv's signature; it does not write the input
  size_t in_left = bytes.size();
  size_t out_at = 0;
  while (in_left > 0) {
    if (text.size() - out_at < 16) text.resize(text.size() * 2);
    char* o = text.data() + out_at;
    size_t out_left = text.size() - out_at;
    size_t r = iconv(cd, &in, &in_left, &o, &out_left);
    out_at = static_cast<size_t>(o - text.data());
    if (r != static_cast<size_t>(-1)) break;
    if (errno == E2BIG) {
      text.resize(text.size() * 2);
      continue;
    }
    // EILSEQ, or EINVAL for a sequence cut off at the end: one byte the encoding does not define.
    out.undefined.push_back({out_at, static_cast<unsigned char>(*in)});
    if (text.size() - out_at < 16) text.resize(text.size() * 2);
    text.replace(out_at, 3, "\xEF\xBF\xBD");
    out_at += 3;
    ++in;
    --in_left;
  }
  iconv_close(cd);
  text.resize(out_at);
  return out;
}

}  // namespace seam
