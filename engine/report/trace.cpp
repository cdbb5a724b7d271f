#include "engine/report/trace.hpp"

#include <map>
#include <sstream>

#include "engine/audit/causes.hpp"
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

namespace {

// The magnitude of an exception's stake (engine/audit/causes.hpp), 0 when unknown.
int64_t stake_magnitude(const Statement& s, int delta, int currency, int left, int right) {
  CurrencyCode cur = pack_currency(s.text_at(currency));
  bool amounts = cur && !s.is_null(left) && !s.is_null(right);
  auto stake = exception_stake(s.text_at(delta), amounts, amounts ? s.int_at(left) : 0, amounts ? s.int_at(right) : 0, cur);
  int64_t magnitude = 0;
  return stake && checked_abs(stake->amount, magnitude) ? magnitude : 0;
}

// Links from exception_causes, seen from the effect (its causes) or from the cause (its
// consequences): the exception at the other end, what the link explains, and the effect's
// stake. An exception linked by a seam before schema v6 has only exceptions.caused_by,
// shown as a link that measured nothing.
#define SEAM_LINK_COLUMNS \
  "o.id, o.reconcile, o.rule, o.group_key, o.status, l.explains, coalesce(l.currency, ''), coalesce(f.delta, ''), " \
  "coalesce(f.currency, ''), f.left_amount, f.right_amount"
#define SEAM_OLD_COLUMNS \
  "o.id, o.reconcile, o.rule, o.group_key, o.status, NULL, '', coalesce(f.delta, ''), coalesce(f.currency, ''), " \
  "f.left_amount, f.right_amount"
constexpr const char* kCausesOf =
    "SELECT " SEAM_LINK_COLUMNS " FROM exception_causes l JOIN exceptions o ON o.id = l.cause_id "
    "JOIN exceptions f ON f.id = l.effect_id WHERE l.effect_id = ?1 "
    "UNION ALL SELECT " SEAM_OLD_COLUMNS " FROM exceptions f JOIN exceptions o ON o.id = f.caused_by "
    "WHERE f.id = ?1 AND NOT EXISTS (SELECT 1 FROM exception_causes WHERE effect_id = ?1) ORDER BY 1";
constexpr const char* kConsequencesOf =
    "SELECT " SEAM_LINK_COLUMNS " FROM exception_causes l JOIN exceptions o ON o.id = l.effect_id "
    "JOIN exceptions f ON f.id = l.effect_id WHERE l.cause_id = ?1 "
    "UNION ALL SELECT " SEAM_OLD_COLUMNS " FROM exceptions o JOIN exceptions f ON f.id = o.id "
    "WHERE o.caused_by = ?1 AND NOT EXISTS (SELECT 1 FROM exception_causes l WHERE l.effect_id = o.id) ORDER BY 1";
#undef SEAM_LINK_COLUMNS
#undef SEAM_OLD_COLUMNS

}  // namespace

std::vector<TraceException> trace_exceptions(Db& db, const std::string& key) {
  auto describe = [](const Statement& s, int first) {
    return "#" + std::to_string(s.int_at(first)) + " " + s.text_at(first + 1) + " / " + s.text_at(first + 2) + " on " +
           s.text_at(first + 3) + " (" + s.text_at(first + 4) + ")";
  };
  std::vector<TraceException> out;
  Statement s(db, "SELECT id, reconcile, rule, status FROM exceptions WHERE group_key = ?1 ORDER BY id");
  s.bind(1, key);
  while (s.step()) out.push_back({s.int_at(0), s.text_at(1), s.text_at(2), s.text_at(3), {}, {}, {}, {}});
  Statement causes_of(db, kCausesOf), consequences_of(db, kConsequencesOf);
  auto read = [&](Statement& links, int64_t id) {
    std::vector<TraceLink> found;
    links.bind(1, id);
    while (links.step()) {
      TraceLink l{links.int_at(0), describe(links, 0), !links.is_null(5), 0, 0, 0};
      if (l.measured) {
        l.explains = links.int_at(5);
        l.currency = pack_currency(links.text_at(6));
        l.of = stake_magnitude(links, 7, 8, 9, 10);
      }
      found.push_back(std::move(l));
    }
    links.reset();
    return found;
  };
  for (auto& e : out) {
    e.causes = read(causes_of, e.id);
    if (!e.causes.empty()) e.cause = e.causes.front().exception;
    for (const auto& c : e.causes)
      if (c.measured) {
        e.measured = true;
        e.of = c.of;
        e.currency = c.currency;
        int64_t sum = 0;
        if (checked_add(e.explained, c.explains, sum)) e.explained = sum;
      }
    e.consequence_links = read(consequences_of, e.id);
    for (const auto& c : e.consequence_links) e.consequences.push_back(c.exception);
  }
  return out;
}

namespace {
// "30.00 of 80.00 USD", "5 of 28"
std::string amount_of(int64_t part, int64_t whole, CurrencyCode currency) {
  int scale = currency ? currency_scale(currency) : 0;
  return format_amount(part, scale) + " of " + format_amount(whole, scale) +
         (currency ? " " + currency_name(currency) : std::string());
}

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
      for (const auto& c : e.causes) {
        out << "      caused by " << printable(c.exception);
        if (c.measured) out << ", explains " << amount_of(c.explains, c.of, c.currency);
        out << "\n";
      }
      if (e.measured) {
        int64_t unexplained = e.of - e.explained;
        out << "      explained " << amount_of(e.explained, e.of, e.currency) << "; "
            << format_amount(unexplained, e.currency ? currency_scale(e.currency) : 0) << " unexplained\n";
      }
      if (!e.consequence_links.empty()) {
        out << "      root cause of " << e.consequence_links.size() << ":\n";
        for (const auto& c : e.consequence_links) {
          out << "        " << printable(c.exception);
          if (c.measured) out << ", explains " << amount_of(c.explains, c.of, c.currency);
          out << "\n";
        }
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
        .key("status").value(e.status).key("caused_by").optional(!e.cause.empty(), e.cause);
    j.key("causes").begin_array();
    for (const auto& c : e.causes) {
      j.begin_object().key("id").value(c.id).key("exception").value(c.exception).key("explains")
          .optional(c.measured, c.measured ? format_stake(c.explains, c.currency) : "").end_object();
    }
    j.end_array();
    j.key("at_stake").optional(e.measured, e.measured ? format_stake(e.of, e.currency) : "");
    j.key("explained").optional(e.measured, e.measured ? format_stake(e.explained, e.currency) : "");
    j.key("unexplained").optional(e.measured, e.measured ? format_stake(e.of - e.explained, e.currency) : "");
    j.key("consequences").begin_array();
    for (const auto& c : e.consequences) j.value(c);
    j.end_array().key("consequence_links").begin_array();
    for (const auto& c : e.consequence_links) {
      j.begin_object().key("id").value(c.id).key("exception").value(c.exception).key("explains")
          .optional(c.measured, c.measured ? format_stake(c.explains, c.currency) : "").key("of")
          .optional(c.measured, c.measured ? format_stake(c.of, c.currency) : "").end_object();
    }
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
