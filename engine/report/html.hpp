#pragma once
// Self-contained HTML for finance: one file, inline CSS and SVG, no script and nothing
// fetched from the network, so it can be mailed, archived with the close, or opened offline.
#include <string>
#include <vector>

#include "engine/audit/exceptions.hpp"
#include "engine/report/history.hpp"
#include "engine/report/table.hpp"

namespace seam {

std::string html_escape(std::string_view s);

struct HtmlReport {
  std::string title;
  std::string generated_at;
  std::vector<std::pair<std::string, std::string>> facts;  // label, value: the headline figures
  std::string table_caption;
  TextTable table;
  std::vector<size_t> numeric_columns;  // right-aligned
  std::vector<OpenAtRun> history;       // the chart; no chart when empty
  std::vector<std::pair<std::string, std::string>> about{};  // provenance: stack, log, runs, filters, head
  // Drill-down: the cells of `link_column` link to row_links[row - 1] (no link when empty),
  // and `appendix` (trusted HTML seam wrote) follows the table.
  size_t link_column = 0;
  std::vector<std::string> row_links{};
  std::string appendix{};
};

std::string render_html(const HtmlReport& report);

// Two bar charts over the runs: how many exceptions were open after each, and their net
// variance (right - left) in `currency`, negative bars below the axis.
std::string open_history_svg(const std::vector<OpenAtRun>& history, const std::string& currency);

}  // namespace seam
