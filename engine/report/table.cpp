#include "engine/report/table.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "engine/util/text.hpp"

namespace seam {
namespace {
// Narrower than this, a wrapped message is one word per line: better left long.
constexpr size_t kMinWrapWidth = 12;
}  // namespace

std::string render_table(const TextTable& raw_rows, size_t max_width) {
  // Client text (ids, keys, messages) may hold control characters or bytes that are not
  // UTF-8: shown as \xNN, so a NUL cannot hide in a terminal.
  TextTable rows = raw_rows;
  for (auto& row : rows)
    for (auto& cell : row) cell = printable(cell);
  std::vector<size_t> width;
  for (const auto& row : rows)
    for (size_t c = 0; c < row.size(); ++c) {
      if (width.size() <= c) width.push_back(0);
      width[c] = std::max(width[c], row[c].size());
    }
  // Where the last column starts, and how much room it has on a terminal line.
  size_t indent = 0;
  for (size_t c = 0; c + 1 < width.size(); ++c) indent += width[c] + 2;
  const size_t room = max_width > indent ? max_width - indent : 0;
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t c = 0; c + 1 < row.size(); ++c) {
      line += row[c];
      line.append(width[c] - row[c].size() + 2, ' ');
    }
    std::string last = row.empty() ? "" : row.back();
    // The last column (a message) wraps at spaces onto lines of its own, so no amount or
    // key before it is ever cut. With too little room left for it, lines run long instead.
    if (max_width && row.size() == width.size() && room >= kMinWrapWidth && last.size() > room) {
      std::string_view rest = last;
      bool first = true;
      while (!rest.empty()) {
        size_t take = rest.size() <= room ? rest.size() : rest.rfind(' ', room);
        if (take == std::string_view::npos || take == 0) take = std::min(room, rest.size());
        out += (first ? line : std::string(indent, ' ')) + std::string(rest.substr(0, take)) + "\n";
        rest.remove_prefix(take);
        while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
        first = false;
      }
      continue;
    }
    line += last;
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

namespace {

// The shape of a number seam writes itself: an amount ("-12.50", "45.00 USD") or a count
// with a unit ("-5 min"). Without '(' , '+', '=' or a cell reference operator no spreadsheet
// can turn it into a call, so it stays a number a spreadsheet can read.
bool seam_number(const std::string& s) {
  size_t i = s[0] == '-' ? 1 : 0, digits = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++digits;
  if (!digits) return false;
  if (i < s.size() && s[i] == '.') {
    size_t frac = ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == frac) return false;
  }
  if (i == s.size()) return true;
  if (s[i] != ' ' || s.size() - i - 1 < 1 || s.size() - i - 1 > 10) return false;
  for (++i; i < s.size(); ++i)
    if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z'))) return false;
  return true;
}

// OWASP's advice for CSV injection: a cell a spreadsheet would read as a formula.
bool formula_like(const std::string& s) {
  return !s.empty() && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r');
}

}  // namespace

std::string csv_cell(const std::string& raw, bool numeric) {
  // printable() first: spreadsheets mangle NUL and stray bytes. It leaves TAB and CR as they
  // are, so a cell starting with either is still caught below.
  std::string s = printable(raw);
  bool neutralise = formula_like(raw) && !(numeric && seam_number(raw));
  if (neutralise) s = "'" + s;
  if (!neutralise && s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char ch : s) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return out + "\"";
}

std::string render_csv(const TextTable& rows, const std::set<size_t>& numeric_columns) {
  std::string out;
  for (size_t r = 0; r < rows.size(); ++r) {
    for (size_t c = 0; c < rows[r].size(); ++c) {
      if (c) out += ',';
      out += csv_cell(rows[r][c], r > 0 && numeric_columns.count(c));
    }
    out += "\r\n";
  }
  return out;
}

size_t terminal_width() {
  struct winsize ws {};
  if (!isatty(STDOUT_FILENO) || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0) return 0;
  return ws.ws_col;
}

}  // namespace seam
