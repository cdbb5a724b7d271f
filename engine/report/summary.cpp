#include "engine/report/summary.hpp"

#include <algorithm>
#include <sstream>

#include "engine/util/json.hpp"
#include "engine/util/text.hpp"

namespace seam {
namespace {

std::string pad(std::string s, size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

const char* paint(Outcome o, bool color) {
  if (!color) return "";
  switch (o) {
    case Outcome::Fail:
    case Outcome::Error: return "\033[31m";
    case Outcome::Warn:
    case Outcome::Pending: return "\033[33m";
    default: return "\033[32m";
  }
}

std::string upper(const char* s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string render_run_text(const RunReport& r, bool color, size_t limit) {
  std::ostringstream out;
  const char* reset = color ? "\033[0m" : "";
  out << "seam run " << r.run_id << " - stack " << r.stack_name << " - as of " << r.as_of << "\n\n";
  out << "inputs\n";
  size_t wsys = 6, wpath = 4;
  for (const auto& in : r.inputs) {
    wsys = std::max(wsys, in.system.size());
    wpath = std::max(wpath, in.path.size());
  }
  for (const auto& in : r.inputs) {
    out << "  " << pad(in.system, wsys) << "  " << pad(in.path, wpath) << "  read " << in.read << " = accepted "
        << in.accepted << " + rejected " << in.rejected
        << (!in.skipped                 ? std::string()
            : in.skipped_by_source == 0 ? " + skipped " + std::to_string(in.skipped) + " (only)"
                                        : " + skipped " + std::to_string(in.skipped) + " (" +
                                              std::to_string(in.skipped_by_source) + " by the source's own skips)")
        << "\n";
    for (const auto& f : in.files)  // a glob's files, each on its own
      out << "  " << pad("", wsys) << "    " << f.path << "  read " << f.read << " = accepted " << f.accepted
          << " + rejected " << f.rejected << (f.skipped ? " + skipped " + std::to_string(f.skipped) : std::string())
          << "\n";
  }
  if (!r.rejects.empty()) {
    out << "\nrejected rows (quarantined in the audit log)\n";
    for (const auto& rej : r.rejects) out << "  " << rej.path << ":" << rej.line << ": " << printable(rej.reason) << "\n";
  }
  for (const auto& rec : r.reconciles) {
    uint64_t verdicts = 0;
    for (auto n : rec.outcomes) verdicts += n;
    out << "\nreconcile " << rec.name << " (" << rec.left << " -> " << rec.right << "): " << rec.groups << " groups";
    if (rec.outside_window) out << " (" << rec.outside_window << " outside the --since/--until window)";
    out << ", " << verdicts << " verdicts:";
    bool first = true;
    for (int o = 0; o < kOutcomeCount; ++o) {
      if (!rec.outcomes[static_cast<size_t>(o)]) continue;
      out << (first ? " " : ", ") << rec.outcomes[static_cast<size_t>(o)] << " " << outcome_name(static_cast<Outcome>(o));
      first = false;
    }
    out << "\n";
    size_t wkey = 3, wrule = 4;
    for (const auto& f : rec.findings) {
      wkey = std::max(wkey, printable(f.key).size());
      wrule = std::max(wrule, f.rule.size());
    }
    size_t shown = 0;
    for (const auto& f : rec.findings) {
      if (limit && shown++ == limit) {
        out << "  ... and " << rec.findings.size() - limit
            << " more (seam trace KEY, the audit log's failures view, or --limit 0 to list all)\n";
        break;
      }
      out << "  " << paint(f.outcome, color) << pad(upper(outcome_name(f.outcome)), 7) << reset << " " << pad(printable(f.key), wkey)
          << "  " << pad(f.rule, wrule) << "  " << printable(f.verdict.message);
      if (!f.verdict.delta.empty()) out << "  [delta " << printable(f.verdict.delta) << "]";
      out << "\n";
    }
  }
  uint64_t exceptions = r.counts.of(Outcome::Fail) + r.counts.of(Outcome::Error);
  out << "\n" << exceptions << (exceptions == 1 ? " exception (" : " exceptions (") << r.counts.of(Outcome::Fail)
      << " fail, " << r.counts.of(Outcome::Error) << " error), " << r.counts.of(Outcome::Warn) << " warn, "
      << r.counts.of(Outcome::Pending) << " pending, " << r.counts.rejects
      << (r.counts.rejects == 1 ? " rejected row\n" : " rejected rows\n");
  out << "exceptions across runs: " << r.exceptions.opened << " opened, " << r.exceptions.reopened << " reopened, "
      << r.exceptions.refreshed << " still open, " << r.exceptions.resolved << " resolved";
  // Only a changed stack retires any: the line every other run prints stays as it was.
  if (r.exceptions.retired) out << ", " << r.exceptions.retired << " retired";
  out << " (seam exceptions)\n";
  for (const auto& a : r.alerts) {
    out << "alert " << a.alert << " (" << a.kind << " " << a.target << "): " << a.exceptions << " exception"
        << (a.exceptions == 1 ? "" : "s") << " " << a.status << " after " << a.attempts << " attempt"
        << (a.attempts == 1 ? "" : "s");
    if (a.status != "delivered") out << ": " << a.last_error << " (seam alerts retry)";
    out << "\n";
  }
  out << "audit log " << r.db_path << ", run " << r.run_id << " sealed " << r.seal.substr(0, 16) << "\n";
  return out.str();
}

std::string render_run_json(const RunReport& r) {
  JsonWriter j;
  j.begin_object();
  j.key("run_id").value(r.run_id).key("stack").value(r.stack_name).key("as_of").value(r.as_of);
  j.key("audit_log").value(r.db_path).key("seal").value(r.seal).key("exit_code").value(r.exit_code());
  j.key("params").begin_object();
  for (const auto& [name, p] : r.params) j.key(name).begin_object().key("value").value(p.text).key("source").value(p.source).end_object();
  j.end_object();
  j.key("inputs").begin_array();
  for (const auto& in : r.inputs) {
    j.begin_object()
        .key("system").value(in.system).key("path").value(in.path).key("digest").value(in.digest)
        .key("read").value(in.read).key("accepted").value(in.accepted).key("rejected").value(in.rejected)
        .key("skipped").value(in.skipped);
    if (!in.files.empty()) {  // a glob: each file on its own
      j.key("files").begin_array();
      for (const auto& f : in.files)
        j.begin_object()
            .key("path").value(f.path).key("digest").value(f.digest)
            .key("read").value(f.read).key("accepted").value(f.accepted).key("rejected").value(f.rejected)
            .key("skipped").value(f.skipped)
            .end_object();
      j.end_array();
    }
    j.end_object();
  }
  j.end_array();
  j.key("rejects").begin_array();
  for (const auto& rej : r.rejects)
    j.begin_object()
        .key("system").value(rej.system).key("path").value(rej.path).key("line").value(rej.line)
        .key("reason").value(rej.reason).key("raw").value(rej.raw)
        .end_object();
  j.end_array();
  j.key("reconciles").begin_array();
  for (const auto& rec : r.reconciles) {
    j.begin_object().key("name").value(rec.name).key("left").value(rec.left).key("right").value(rec.right);
    j.key("groups").value(rec.groups).key("outside_window").value(rec.outside_window).key("outcomes").begin_object();
    for (int o = 0; o < kOutcomeCount; ++o) j.key(outcome_name(static_cast<Outcome>(o))).value(rec.outcomes[static_cast<size_t>(o)]);
    j.end_object().key("findings").begin_array();
    for (const auto& f : rec.findings)
      j.begin_object()
          .key("key").value(f.key).key("rule").value(f.rule).key("rule_source").value(f.rule_source)
          .key("outcome").value(outcome_name(f.outcome)).key("severity").value(severity_name(f.severity))
          .key("left_ids").strings(read_id_list(f.left_ids)).key("right_ids").strings(read_id_list(f.right_ids))
          .key("message").value(f.verdict.message)
          .key("expected").optional(!f.verdict.expected.empty(), f.verdict.expected)
          .key("actual").optional(!f.verdict.actual.empty(), f.verdict.actual)
          .key("delta").optional(!f.verdict.delta.empty(), f.verdict.delta)
          .end_object();
    j.end_array().end_object();
  }
  j.end_array();
  j.key("exceptions").begin_object().key("opened").value(r.exceptions.opened).key("reopened").value(r.exceptions.reopened);
  j.key("still_open").value(r.exceptions.refreshed).key("resolved").value(r.exceptions.resolved);
  j.key("retired").value(r.exceptions.retired).end_object();
  j.key("alerts").begin_array();
  for (const auto& a : r.alerts)
    j.begin_object().key("delivery").value(a.id).key("alert").value(a.alert).key("kind").value(a.kind)
        .key("target").value(a.target).key("exceptions").value(a.exceptions).key("status").value(a.status)
        .key("attempts").value(a.attempts).key("error").optional(!a.last_error.empty(), a.last_error).end_object();
  j.end_array();
  j.key("totals").begin_object();
  j.key("groups").value(r.counts.groups).key("rejects").value(r.counts.rejects);
  for (int o = 0; o < kOutcomeCount; ++o) j.key(outcome_name(static_cast<Outcome>(o))).value(r.counts.outcomes[static_cast<size_t>(o)]);
  j.end_object();
  j.end_object();
  return j.str() + "\n";
}

}  // namespace seam
