#pragma once
#include <string>
#include <vector>

namespace seam {

using TextTable = std::vector<std::vector<std::string>>;  // first row is the header

// An aligned text table. The last column is not padded; with max_width > 0 it is cut
// (ending in "...") so each line fits a terminal of that width.
std::string render_table(const TextTable& rows, size_t max_width = 0);
// RFC 4180 CSV with CRLF line ends.
std::string render_csv(const TextTable& rows);
// The width of the terminal on stdout, or 0 when stdout is not a terminal.
size_t terminal_width();

}  // namespace seam
