#include "engine/report/drilldown.hpp"

#include <map>
#include <set>
#include <tuple>
#include <unordered_set>

#include "engine/report/html.hpp"
#include "engine/report/report_money.hpp"
#include "engine/util/json.hpp"

namespace seam {

std::vector<ExceptionDetail> exception_details(Db& db, const std::vector<ExceptionRow>& rows) {
  std::vector<ExceptionDetail> out(rows.size());
  // (run, reconcile, key) -> group_no, found in one scan of each run's groups.
  std::map<int64_t, std::set<std::pair<std::string, std::string>>> wanted;
  for (const auto& r : rows) wanted[r.last_run].insert({r.reconcile, r.key});
  std::map<std::tuple<int64_t, std::string, std::string>, int64_t> group_no;
  Statement groups(db, "SELECT g.group_no, rc.name, g.group_key FROM groups g JOIN run_reconciles rc "
                       "ON rc.run_id = g.run_id AND rc.reconcile_no = g.reconcile_no WHERE g.run_id = ?1");
  for (const auto& [run, keys] : wanted) {
    groups.bind(1, run);
    while (groups.step()) {
      std::pair<std::string, std::string> k{groups.text_at(1), groups.text_at(2)};
      if (keys.count(k)) group_no[{run, k.first, k.second}] = groups.int_at(0);
    }
    groups.reset();
  }
  Statement verdict(db, "SELECT left_ids, right_ids, coalesce(expected, ''), coalesce(actual, ''), coalesce(delta, ''), "
                        "coalesce(message, ''), rule_kind, rule_source, rule_version, coalesce(matched_by, '') "
                        "FROM verdicts WHERE run_id = ?1 AND group_no = ?2 AND rule = ?3");
  Statement events(db, "SELECT at, event, coalesce(by_whom, ''), coalesce(note, '') FROM exception_events "
                       "WHERE exception_id = ?1 ORDER BY id");
  for (size_t i = 0; i < rows.size(); ++i) {
    const ExceptionRow& r = rows[i];
    ExceptionDetail& d = out[i];
    d.id = r.id;
    auto g = group_no.find({r.last_run, r.reconcile, r.key});
    if (g != group_no.end()) {
      verdict.bind(1, r.last_run).bind(2, g->second).bind(3, r.rule);
      if (verdict.step()) {
        d.found = true;
        d.left_ids = read_id_list(verdict.text_at(0));
        d.right_ids = read_id_list(verdict.text_at(1));
        d.expected = verdict.text_at(2);
        d.actual = verdict.text_at(3);
        d.delta = verdict.text_at(4);
        d.message = verdict.text_at(5);
        d.rule_kind = verdict.text_at(6);
        d.rule_source = verdict.text_at(7);
        d.rule_version = verdict.text_at(8);
        d.matched_by = verdict.text_at(9);
      }
      verdict.reset();
    }
    events.bind(1, r.id);
    while (events.step()) d.events.push_back({events.text_at(0), events.text_at(1), events.text_at(2), events.text_at(3)});
    events.reset();
  }
  return out;
}

namespace {

std::string joined(const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& id : ids) out += (out.empty() ? "" : ", ") + id;
  return out.empty() ? "none" : out;
}

// Links to the other end's section when it is on the page, else the text alone.
std::string linked_html(const std::vector<LinkedException>& links, const std::unordered_set<int64_t>& listed) {
  std::string out;
  for (const auto& l : links) {
    std::string text = "#" + std::to_string(l.id) + " " + l.reconcile + " " + l.key + " (" + l.rule + ")";
    if (l.explains) text += ", explains " + (l.currency ? readable_money(*l.explains, l.currency) : std::to_string(*l.explains));
    out += out.empty() ? "" : "<br>";
    out += listed.count(l.id) ? "<a href=\"#x" + std::to_string(l.id) + "\">" + html_escape(text) + "</a>" : html_escape(text);
  }
  return out;
}

}  // namespace

std::string render_detail_sections(const std::vector<ExceptionRow>& rows, const std::vector<ExceptionDetail>& details,
                                   const CauseGraph& graph, const std::string& log_path) {
  std::unordered_set<int64_t> listed;
  for (const auto& r : rows) listed.insert(r.id);
  std::string out = "<h2>Exceptions in detail</h2>\n";
  for (size_t i = 0; i < rows.size() && i < details.size(); ++i) {
    const ExceptionRow& r = rows[i];
    const ExceptionDetail& d = details[i];
    const std::string id = std::to_string(r.id);
    auto item = [&](const std::string& label, const std::string& html) {
      out += "<dt>" + html_escape(label) + "</dt><dd>" + html + "</dd>\n";
    };
    out += "<section class=\"detail\" id=\"x" + id + "\">\n<h3>#" + id + " " + html_escape(r.reconcile) + " " +
           html_escape(r.key) + ": " + html_escape(r.rule) + "</h3>\n<dl class=\"about\">\n";
    item("status", html_escape(r.status + ", severity " + r.severity + ", " + std::to_string(r.age_days) + " days old"));
    item("first seen", html_escape(to_second(r.first_seen_at) + " (run " + std::to_string(r.first_run) + ")"));
    item("last seen", html_escape(to_second(r.last_seen_at) + " (run " + std::to_string(r.last_run) + ")"));
    if (!r.record_at.empty()) item("record time", html_escape(r.record_at));
    if (d.found) {
      item("records", html_escape("left: " + joined(d.left_ids) + "; right: " + joined(d.right_ids)));
      if (!d.matched_by.empty()) item("matched by", html_escape(d.matched_by));
      if (!d.expected.empty() || !d.actual.empty())
        item("expected, actual", html_escape(d.expected + "; " + d.actual));
    }
    if (r.has_amounts)
      item("amounts", html_escape("left " + readable_money(r.left_amount, r.currency) + ", right " +
                                  readable_money(r.right_amount, r.currency)));
    if (!r.delta.empty()) item("delta", html_escape(readable_amount(r.delta)));
    item("message", html_escape(d.found ? d.message : r.message));
    if (d.found)
      item("rule", html_escape(d.rule_kind + " at " + d.rule_source + ", version " + d.rule_version));
    if (!graph.causes(r.id).empty()) item("caused by", linked_html(graph.causes(r.id), listed));
    if (!graph.consequences(r.id).empty()) item("consequences", linked_html(graph.consequences(r.id), listed));
    for (const auto& e : d.events)
      item(e.event, html_escape(to_second(e.at) + (e.by.empty() ? "" : " by " + e.by) +
                                (e.note.empty() ? "" : ": " + e.note)));
    auto quoted = [](const std::string& text) {
      std::string q = "'";
      for (char c : text) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
      return q + "'";
    };
    item("every verdict", "<code>" + html_escape("seam trace " + quoted(r.key) + " --db " + quoted(log_path)) + "</code>");
    out += "</dl>\n<p><a href=\"#report\">back to the table</a></p>\n</section>\n";
  }
  return out;
}

}  // namespace seam
