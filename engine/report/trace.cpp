#include "engine/report/trace.hpp"

#include <map>
#include <sstream>

#include "engine/util/json.hpp"
#include "engine/util/text.hpp"

namespace seam {

std::vector<TraceRow> trace_key(Db& db, const std::string& key) {
  // Id lists are JSON arrays (older runs: joined with ", "). SQL only narrows the rows down
  // to those whose stored list holds the id's text, raw (old form) or escaped (new form);
  // whole ids are matched here, on the parsed lists.
  std::string escaped;
  json_escape_to(escaped, key);
  escaped = escaped.substr(1, escaped.size() - 2);  // without its quotes
  Statement s(db, R"SQL(
SELECT v.run_id, ru.started_at, ru.status, v.reconcile, v.group_key, v.left_ids, v.right_ids,
       v.rule, v.rule_kind, v.rule_version, v.rule_source, v.outcome, v.severity,
       v.expected, v.actual, v.delta, v.message, coalesce(v.matched_by, '')
FROM verdicts v JOIN runs ru ON ru.id = v.run_id
WHERE v.group_key = ?1
   OR instr(v.left_ids, ?1) > 0 OR instr(v.right_ids, ?1) > 0
   OR instr(v.left_ids, ?2) > 0 OR instr(v.right_ids, ?2) > 0
ORDER BY v.run_id DESC, v.reconcile, v.group_no, v.position)SQL");
  s.bind(1, key).bind(2, escaped);
  auto holds = [&](const std::string& stored) {
    for (const auto& id : read_id_list(stored))
      if (id == key) return true;
    return false;
  };
  std::vector<TraceRow> rows;
  while (s.step()) {
    if (s.text_at(4) != key && !holds(s.text_at(5)) && !holds(s.text_at(6))) continue;
    TraceRow r;
    r.run_id = s.int_at(0);
    r.run_started = s.text_at(1);
    r.run_status = s.text_at(2);
    r.reconcile = s.text_at(3);
    r.group_key = s.text_at(4);
    r.left_ids = s.text_at(5);
    r.right_ids = s.text_at(6);
    r.rule = s.text_at(7);
    r.rule_kind = s.text_at(8);
    r.rule_version = s.text_at(9);
    r.rule_source = s.text_at(10);
    r.outcome = s.text_at(11);
    r.severity = s.text_at(12);
    r.expected = s.text_at(13);
    r.actual = s.text_at(14);
    r.delta = s.text_at(15);
    r.message = s.text_at(16);
    r.matched_by = s.text_at(17);
    rows.push_back(std::move(r));
  }
  // When a mismatch was first seen: the earliest run where the same rule failed for this group.
  std::map<std::string, int64_t> first;
  for (const auto& r : rows)
    if (r.outcome == "fail" || r.outcome == "error") first[r.reconcile + "\x1f" + r.group_key + "\x1f" + r.rule] = r.run_id;
  for (auto& r : rows) {
    auto it = first.find(r.reconcile + "\x1f" + r.group_key + "\x1f" + r.rule);
    if (it != first.end()) r.first_failed_run = it->second;
  }
  return rows;
}

std::vector<TraceException> trace_exceptions(Db& db, const std::string& key) {
  auto describe = [](const Statement& s, int first) {
    return "#" + std::to_string(s.int_at(first)) + " " + s.text_at(first + 1) + " / " + s.text_at(first + 2) + " on " +
           s.text_at(first + 3) + " (" + s.text_at(first + 4) + ")";
  };
  std::vector<TraceException> out;
  Statement s(db,
              "SELECT e.id, e.reconcile, e.rule, e.status, c.id, c.reconcile, c.rule, c.group_key, c.status "
              "FROM exceptions e LEFT JOIN exceptions c ON c.id = e.caused_by WHERE e.group_key = ?1 ORDER BY e.id");
  s.bind(1, key);
  while (s.step()) {
    TraceException e{s.int_at(0), s.text_at(1), s.text_at(2), s.text_at(3), {}, {}};
    if (!s.is_null(4)) e.cause = describe(s, 4);
    out.push_back(std::move(e));
  }
  Statement c(db, "SELECT id, reconcile, rule, group_key, status FROM exceptions WHERE caused_by = ?1 ORDER BY id");
  for (auto& e : out) {
    c.bind(1, e.id);
    while (c.step()) e.consequences.push_back(describe(c, 0));
    c.reset();
  }
  return out;
}

namespace {
std::string ids_or_none(const std::string& stored) {
  std::string shown = printable(display_id_list(stored));
  return shown.empty() ? "(none)" : shown;
}
}  // namespace

std::string render_trace_text(const std::string& key, const std::vector<TraceRow>& rows,
                              const std::vector<TraceException>& exceptions) {
  std::ostringstream out;
  if (rows.empty()) {
    out << "no verdicts about '" << printable(key) << "' in the audit log\n";
    return out.str();
  }
  if (!exceptions.empty()) {
    out << "exceptions about " << printable(key) << "\n";
    for (const auto& e : exceptions) {
      out << "  #" << e.id << " " << e.status << "  " << e.reconcile << " / " << e.rule << "\n";
      if (!e.cause.empty()) out << "      caused by " << printable(e.cause) << "\n";
      if (!e.consequences.empty()) {
        out << "      root cause of " << e.consequences.size() << ":\n";
        for (const auto& c : e.consequences) out << "        " << printable(c) << "\n";
      }
    }
  }
  std::string current;
  for (const auto& r : rows) {
    std::string head = std::to_string(r.run_id) + r.reconcile + r.group_key;
    if (head != current) {
      current = head;
      out << "\nrun " << r.run_id << " (" << r.run_started << ", " << r.run_status << ") - " << r.reconcile << " - key "
          << printable(r.group_key) << "\n  left: " << ids_or_none(r.left_ids)
          << "   right: " << ids_or_none(r.right_ids) << "\n";
      if (!r.matched_by.empty()) out << "  matched by " << printable(r.matched_by) << "\n";
    }
    std::string outcome = r.outcome;
    for (auto& c : outcome) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    out << "  " << outcome << std::string(outcome.size() < 8 ? 8 - outcome.size() : 1, ' ') << r.rule << "  ["
        << r.rule_kind << " " << r.rule_version << " " << r.rule_source << ", " << r.severity << "]\n";
    if (!r.message.empty()) out << "          " << printable(r.message) << "\n";
    if (!r.expected.empty() || !r.actual.empty() || !r.delta.empty())
      out << "          expected " << (r.expected.empty() ? "-" : printable(r.expected)) << ", actual "
          << (r.actual.empty() ? "-" : printable(r.actual)) << ", delta " << (r.delta.empty() ? "-" : printable(r.delta))
          << "\n";
    if (r.first_failed_run && (r.outcome == "fail" || r.outcome == "error"))
      out << "          first failed in run " << r.first_failed_run << "\n";
  }
  return out.str();
}

std::string render_trace_json(const std::string& key, const std::vector<TraceRow>& rows,
                              const std::vector<TraceException>& exceptions) {
  JsonWriter j;
  j.begin_object().key("key").value(key).key("exceptions").begin_array();
  for (const auto& e : exceptions) {
    j.begin_object().key("id").value(e.id).key("reconcile").value(e.reconcile).key("rule").value(e.rule)
        .key("status").value(e.status).key("caused_by").optional(!e.cause.empty(), e.cause).key("consequences")
        .begin_array();
    for (const auto& c : e.consequences) j.value(c);
    j.end_array().end_object();
  }
  j.end_array().key("verdicts").begin_array();
  for (const auto& r : rows) {
    j.begin_object()
        .key("run_id").value(r.run_id).key("run_started").value(r.run_started).key("run_status").value(r.run_status)
        .key("reconcile").value(r.reconcile).key("group_key").value(r.group_key)
        .key("left_ids").strings(read_id_list(r.left_ids)).key("right_ids").strings(read_id_list(r.right_ids))
        .key("matched_by").optional(!r.matched_by.empty(), r.matched_by)
        .key("rule").value(r.rule).key("rule_kind").value(r.rule_kind).key("rule_version").value(r.rule_version)
        .key("rule_source").value(r.rule_source).key("outcome").value(r.outcome).key("severity").value(r.severity)
        .key("message").value(r.message)
        .key("expected").optional(!r.expected.empty(), r.expected)
        .key("actual").optional(!r.actual.empty(), r.actual)
        .key("delta").optional(!r.delta.empty(), r.delta);
    if (r.first_failed_run) j.key("first_failed_run").value(r.first_failed_run);
    j.end_object();
  }
  j.end_array().end_object();
  return j.str() + "\n";
}

}  // namespace seam
