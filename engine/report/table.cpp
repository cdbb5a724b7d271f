#include "engine/report/table.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>

#include "engine/util/text.hpp"

namespace seam {

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
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line.append(width[c] - row[c].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    if (max_width > 3 && line.size() > max_width) line = line.substr(0, max_width - 3) + "...";
    out += line + "\n";
  }
  return out;
}

std::string render_csv(const TextTable& rows) {
  std::string out;
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) {
      if (c) out += ',';
      const std::string s = printable(row[c]);  // spreadsheets mangle NUL and stray bytes
      if (s.find_first_of(",\"\r\n") == std::string::npos) {
        out += s;
        continue;
      }
      out += '"';
      for (char ch : s) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
      out += '"';
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
