#include "connectors/csv_rows.hpp"

#include <algorithm>
#include <cstring>

namespace seam {
namespace {

// The first `c` in data[from, to), else `to`.
size_t find_byte(std::string_view data, char c, size_t from, size_t to) {
  if (from >= to) return to;
  const void* hit = std::memchr(data.data() + from, c, to - from);
  return hit ? static_cast<size_t>(static_cast<const char*>(hit) - data.data()) : to;
}

// The first CR or LF in data[from, to), else `to`.
size_t find_line_end(std::string_view data, size_t from, size_t to) {
  size_t lf = find_byte(data, '\n', from, to);
  return find_byte(data, '\r', from, lf);
}

// Where the row after the line end at `at` starts: both bytes of a CRLF end one line.
size_t after_line_end(std::string_view data, size_t at) {
  return data[at] == '\r' && at + 1 < data.size() && data[at + 1] == '\n' ? at + 2 : at + 1;
}

}  // namespace

std::vector<size_t> csv_row_starts(std::string_view data, size_t from, char delimiter,
                                   const std::vector<size_t>& targets) {
  const size_t n = data.size();
  std::vector<size_t> out;
  out.reserve(targets.size());
  // No quoted field is open at `pos`, and data[pos - 1] (when pos > from) tells whether a
  // quote at pos starts a field: after a delimiter or a line end it does.
  size_t pos = from;
  while (out.size() < targets.size()) {
    const size_t quote = find_byte(data, '"', pos, n);
    // data[pos, quote) holds no quote, so no quoted field: each line end in it ends a row.
    while (out.size() < targets.size()) {
      const size_t target = targets[out.size()];
      const size_t end = find_line_end(data, std::max(pos, target - 1), quote);
      if (end >= quote) break;
      out.push_back(after_line_end(data, end));
    }
    if (quote >= n) break;
    const char before = quote == from ? '\n' : data[quote - 1];
    if (before != delimiter && before != '\n' && before != '\r') {
      pos = quote + 1;  // a quote inside an unquoted field: a character like any other
      continue;
    }
    size_t close = quote + 1;
    for (;;) {
      close = find_byte(data, '"', close, n);
      if (close >= n || close + 1 >= n || data[close + 1] != '"') break;
      close += 2;  // "" is a quote inside the field
    }
    if (close >= n) {
      // No quote closes it: the parser rejects the row up to the end of the line the quote
      // opens on, and reads on from there.
      pos = find_line_end(data, quote, n);
      continue;
    }
    const size_t after = close + 1;
    if (after >= n) break;  // the last row ends with the file
    const char c = data[after];
    // A delimiter or line end goes on as usual; anything else rejects the row up to the
    // end of its line, whatever that holds.
    pos = c == delimiter || c == '\n' || c == '\r' ? after : find_line_end(data, after, n);
  }
  out.resize(targets.size(), n);
  return out;
}

}  // namespace seam
