#include "engine/util/regex.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "engine/util/result.hpp"
#include "engine/util/text.hpp"

namespace seam {

Regex::Regex(const std::string& pattern, const std::string& where) {
  int code = 0;
  PCRE2_SIZE offset = 0;
  re_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), PCRE2_UTF, &code, &offset, nullptr);
  if (!re_) {
    PCRE2_UCHAR buf[256];
    pcre2_get_error_message(code, buf, sizeof buf);
    throw UserError(where + ": invalid regex " + quote_for_message(pattern) + " at offset " + std::to_string(offset) +
                    ": " + reinterpret_cast<const char*>(buf));
  }
  pcre2_jit_compile(re_, PCRE2_JIT_COMPLETE);  // falls back to the interpreter when JIT is unavailable
  pcre2_pattern_info(re_, PCRE2_INFO_CAPTURECOUNT, &groups_);
  match_ = pcre2_match_data_create_from_pattern(re_, nullptr);
}

Regex::~Regex() {
  pcre2_match_data_free(match_);
  pcre2_code_free(re_);
}

std::optional<std::string_view> Regex::first_group(std::string_view text) const {
  int rc = pcre2_match(re_, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), 0, 0, match_, nullptr);
  if (rc < 0) return std::nullopt;
  PCRE2_SIZE* ov = pcre2_get_ovector_pointer(match_);
  size_t g = groups_ > 0 ? 1 : 0;
  if (ov[2 * g] == PCRE2_UNSET) return std::nullopt;
  return text.substr(ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
}

}  // namespace seam
