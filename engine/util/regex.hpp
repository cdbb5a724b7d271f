#pragma once
// RAII owner of a compiled PCRE2 pattern, JIT-compiled when the platform allows: extract
// fields and reference normalisation run it once per record, and glibc's regexec was a
// tenth of a million-row run. Not thread-safe: it owns its match data.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

struct pcre2_real_code_8;
struct pcre2_real_match_data_8;

namespace seam {

class Regex {
 public:
  // Throws UserError "WHERE: invalid regex '...' at offset N: reason".
  Regex(const std::string& pattern, const std::string& where);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // The first capture group (or the whole match); nullopt when it does not match.
  std::optional<std::string_view> first_group(std::string_view text) const;

 private:
  pcre2_real_code_8* re_ = nullptr;
  pcre2_real_match_data_8* match_ = nullptr;
  uint32_t groups_ = 0;
};

}  // namespace seam
