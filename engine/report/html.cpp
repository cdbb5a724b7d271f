#include "engine/report/html.hpp"

#include <algorithm>
#include <cstdio>
#include <map>

#include "engine/util/text.hpp"
#include "engine/value/money.hpp"

namespace seam {

std::string html_escape(std::string_view text) {
  // NUL, other control characters and bytes that are not UTF-8 make a page invalid (the
  // page says charset=utf-8): shown as \xNN first.
  const std::string s = printable(text);
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

constexpr const char* kStyle = R"CSS(
body { font-family: system-ui, "DejaVu Sans", sans-serif; margin: 2em; color: #1d2329; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
p.meta { color: #5a6570; margin-top: 0; }
dl.facts { display: flex; gap: 2.5em; margin: 1.2em 0; }
dl.facts div { border-left: 4px solid #2f6fad; padding-left: 0.6em; }
dl.facts dt { color: #5a6570; font-size: 0.85em; }
dl.facts dd { margin: 0; font-size: 1.4em; font-weight: 600; }
table { border-collapse: collapse; font-size: 0.9em; margin-top: 0.5em; }
caption { text-align: left; font-weight: 600; padding-bottom: 0.4em; }
th, td { border-bottom: 1px solid #d8dde2; padding: 0.3em 0.7em; text-align: left; vertical-align: top; }
th { background: #eef2f6; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
dl.about { display: grid; grid-template-columns: max-content auto; gap: 0.1em 1em; font-size: 0.85em; color: #5a6570; }
dl.about dd { margin: 0; color: #1d2329; overflow-wrap: anywhere; }
section.detail { border-top: 1px solid #d8dde2; margin-top: 1em; }
section.detail h3 { font-size: 1em; margin-bottom: 0.3em; }
section.detail:target { background: #fff8e1; }
figure { margin: 1.5em 0; }
figcaption { font-weight: 600; margin-bottom: 0.3em; }
svg text { font-size: 11px; fill: #1d2329; }
)CSS";

// The currency with the most exceptions over the history: the one the variance chart shows.
std::string main_currency(const std::vector<OpenAtRun>& history) {
  std::map<std::string, size_t> seen;
  for (const auto& p : history)
    for (const auto& [cur, net] : p.net_by_currency) ++seen[cur];
  std::string best;
  size_t most = 0;
  for (const auto& [cur, n] : seen)
    if (n > most) best = cur, most = n;
  return best;
}

std::string bar_chart(const std::string& id, const std::string& caption, const std::vector<std::string>& labels,
                      const std::vector<int64_t>& values, const std::vector<std::string>& value_text) {
  const int width = 640, height = 200, left = 10, top = 20, bottom = 40;
  const int plot_h = height - top - bottom;
  int64_t hi = 0, lo = 0;
  for (int64_t v : values) hi = std::max(hi, v), lo = std::min(lo, v);
  if (hi == lo) hi = lo + 1;
  // In doubles: hi - lo of two int64 values may not fit int64 (a drawing needs no exactness).
  auto y_of = [&](int64_t v) {
    return top + (static_cast<double>(hi) - static_cast<double>(v)) * plot_h / (static_cast<double>(hi) - static_cast<double>(lo));
  };
  const double slot = values.empty() ? 0 : static_cast<double>(width - 2 * left) / static_cast<double>(values.size());
  const double bar = std::max(2.0, std::min(48.0, slot * 0.7));
  std::string svg = "<figure id=\"" + id + "\"><figcaption>" + html_escape(caption) + "</figcaption>\n<svg role=\"img\" width=\"" +
                    std::to_string(width) + "\" height=\"" + std::to_string(height) + "\" aria-label=\"" +
                    html_escape(caption) + "\">\n";
  char buf[512];
  double zero = y_of(0);
  std::snprintf(buf, sizeof buf, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#8a949e\"/>\n", left, zero,
                width - left, zero);
  svg += buf;
  for (size_t i = 0; i < values.size(); ++i) {
    double x = left + slot * static_cast<double>(i) + (slot - bar) / 2, y = y_of(values[i]);
    double y0 = std::min(y, zero), h = std::max(1.0, std::abs(zero - y));
    std::snprintf(buf, sizeof buf,
                  "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" "
                  "data-label=\"%s\" data-value=\"%s\"><title>%s: %s</title></rect>\n",
                  x, y0, bar, h, values[i] < 0 ? "#c0504d" : "#2f6fad", html_escape(labels[i]).c_str(),
                  html_escape(value_text[i]).c_str(), html_escape(labels[i]).c_str(), html_escape(value_text[i]).c_str());
    svg += buf;
    std::snprintf(buf, sizeof buf, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", x + bar / 2,
                  std::max(12.0, y0 - 4), html_escape(value_text[i]).c_str());
    svg += buf;
    std::snprintf(buf, sizeof buf, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", x + bar / 2,
                  height - bottom + 16, html_escape(labels[i]).c_str());
    svg += buf;
  }
  return svg + "</svg></figure>\n";
}

}  // namespace

std::string open_history_svg(const std::vector<OpenAtRun>& history, const std::string& currency) {
  std::vector<std::string> labels, counts, nets;
  std::vector<int64_t> open, net;
  CurrencyCode cur = pack_currency(currency);
  for (const auto& p : history) {
    labels.push_back("run " + std::to_string(p.run_id) + " " + p.at.substr(0, 10));
    open.push_back(p.open);
    counts.push_back(std::to_string(p.open));
    auto it = p.net_by_currency.find(currency);
    int64_t v = it == p.net_by_currency.end() ? 0 : it->second;
    net.push_back(v);
    nets.push_back(cur ? format_money(v, cur) : std::to_string(v));
  }
  std::string out = bar_chart("chart-open", "Of the exceptions reported here, how many were open after each run",
                              labels, open, counts);
  if (cur) out += bar_chart("chart-variance",
                            "Their net variance while open (" + currency + ", right - left, each key's money once)",
                            labels, net, nets);
  return out;
}

std::string render_html(const HtmlReport& r) {
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
                    html_escape(r.title) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n";
  out += "<h1>" + html_escape(r.title) + "</h1>\n<p class=\"meta\">generated " + html_escape(r.generated_at) +
         " by seam</p>\n<dl class=\"facts\">\n";
  for (const auto& [label, value] : r.facts)
    out += "<div><dt>" + html_escape(label) + "</dt><dd>" + html_escape(value) + "</dd></div>\n";
  out += "</dl>\n";
  if (!r.about.empty()) {
    out += "<dl class=\"about\">\n";
    for (const auto& [label, value] : r.about)
      out += "<dt>" + html_escape(label) + "</dt><dd>" + html_escape(value) + "</dd>\n";
    out += "</dl>\n";
  }
  if (!r.history.empty()) out += open_history_svg(r.history, main_currency(r.history));
  out += "<table id=\"report\">\n<caption>" + html_escape(r.table_caption) + "</caption>\n";
  for (size_t i = 0; i < r.table.size(); ++i) {
    out += "<tr>";
    for (size_t c = 0; c < r.table[i].size(); ++c) {
      bool numeric = std::find(r.numeric_columns.begin(), r.numeric_columns.end(), c) != r.numeric_columns.end();
      const char* tag = i == 0 ? "th" : "td";
      std::string cell = html_escape(r.table[i][c]);
      if (i && c == r.link_column && i - 1 < r.row_links.size() && !r.row_links[i - 1].empty())
        cell = "<a href=\"" + html_escape(r.row_links[i - 1]) + "\">" + cell + "</a>";
      out += std::string("<") + tag + (numeric && i ? " class=\"num\"" : "") + ">" + cell + "</" + tag + ">";
    }
    out += "</tr>\n";
  }
  if (r.table.size() <= 1)
    out += "<tr><td colspan=\"" + std::to_string(r.table.empty() ? 1 : r.table[0].size()) +
           "\">no exceptions match</td></tr>\n";
  return out + "</table>\n" + r.appendix + "</body>\n</html>\n";
}

}  // namespace seam
