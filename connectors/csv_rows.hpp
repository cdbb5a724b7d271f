#pragma once
// Where CSV rows start, found without parsing them, so one large CSV input can be read in
// parts on several threads. The rules are those of the parser in csv.cpp, byte for byte:
// a quote opens a quoted field only at the start of a field (a quote inside an unquoted
// field is a character like any other); "" inside a quoted field is a quote; a quoted
// field may hold delimiters and line ends; LF, CRLF and a CR alone each end a row. And
// its recovery from broken rows: text after a closing quote other than a delimiter or a
// line end rejects the row up to the end of that line, quotes in it included; a quote no
// quote closes anywhere rejects its row up to the end of the line it opens on, and the
// lines after it are rows of their own.
#include <cstddef>
#include <string_view>
#include <vector>

namespace seam {

// For each of `targets` (ascending, each > from): the first place at or after it where
// the parser reading `data` from `from` (where a row starts) starts a row, or
// data.size() when no row starts there. One pass, searching for quotes and line ends
// with memchr: quote-free text is skipped at memory speed.
std::vector<size_t> csv_row_starts(std::string_view data, size_t from, char delimiter,
                                   const std::vector<size_t>& targets);

}  // namespace seam
