#pragma once
#include <set>
#include <string>
#include <vector>

namespace seam {

using TextTable = std::vector<std::vector<std::string>>;  // first row is the header

// An aligned text table. The last column is not padded; with max_width > 0 it wraps at
// spaces onto continuation lines (indented to it) so each line fits a terminal of that
// width. Other columns are never cut: with no room left for the last one, lines run long.
std::string render_table(const TextTable& rows, size_t max_width = 0);
// RFC 4180 CSV with CRLF line ends, safe to open in a spreadsheet: a cell beginning with
// '=', '+', '-', '@', TAB or CR is written quoted with a leading single quote (OWASP's advice
// against CSV injection), so it shows as text and never runs as a formula. The exception is
// a cell of `numeric_columns` (0-based, header row excluded) holding a number in the shape
// seam writes amounts, counts and deltas ("-12.50", "-45.00 USD", "-5 min"): it stays as it
// is. Anything else in those columns (a Lua rule's own delta text, say) is neutralised too.
std::string render_csv(const TextTable& rows, const std::set<size_t>& numeric_columns = {});
// One cell as render_csv writes it.
std::string csv_cell(const std::string& cell, bool numeric);
// The width of the terminal on stdout, or 0 when stdout is not a terminal.
size_t terminal_width();

}  // namespace seam
