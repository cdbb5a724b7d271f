#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace seam {

std::string_view trim(std::string_view s);
std::string to_lower(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
// Quoted and shortened for messages: 'abc…' (so a 5 MB cell never floods a log line).
std::string quote_for_message(std::string_view s, size_t max = 60);
// Length of the well-formed UTF-8 sequence starting at s[i] (RFC 3629: no overlong forms,
// no surrogates, nothing above U+10FFFF); 0 when the bytes there are not one.
size_t utf8_sequence_length(std::string_view s, size_t i);
// Client text made safe to print for people (terminal tables, CSV, HTML, messages): valid
// UTF-8 is kept, and each control character other than tab, CR and LF, and each byte that
// is not valid UTF-8, is shown as \xNN (so a NUL in an id reads "R\x001"). Returns `s`
// unchanged when there is nothing to show that way.
std::string printable(std::string_view s);
// Closest candidate within a typo's distance (1 edit for short words, up to 3 for long
// ones), for "did you mean" hints; empty when none.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);
// Edits (insert, delete, substitute, swap adjacent) between two strings.
size_t edit_distance(std::string_view a, std::string_view b);

// Owns the text of records: views handed out stay valid for the arena's lifetime,
// which spares one heap allocation per string on the hot path.
class StringArena {
 public:
  std::string_view store(std::string_view s);
  // Takes over another arena's blocks: what was stored there stays where it is, so views
  // into it stay valid.
  void absorb(StringArena&& other);

 private:
  std::vector<std::unique_ptr<char[]>> blocks_;
  size_t used_ = 0, capacity_ = 0;
};

}  // namespace seam
