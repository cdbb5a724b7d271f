#include "engine/run/stack_tests.hpp"

#include <sstream>

#include "connectors/fixture.hpp"
#include "engine/util/json.hpp"
#include "engine/util/result.hpp"

namespace seam {
namespace {

struct Seen {
  std::string reconcile, key, rule;
  Verdict verdict;
  bool expected = false;  // claimed by an expectation
};

class MemorySink final : public GroupSink {
 public:
  explicit MemorySink(const StackSpec& spec) : spec_(spec) {}
  void group(size_t rn, std::string_view key, std::string_view, std::string_view,
             const std::vector<Verdict>& verdicts, const GroupOrigin*, std::string_view) override {
    const ReconcileSpec& rec = spec_.reconciles[rn];
    for (size_t k = 0; k < verdicts.size(); ++k)
      seen.push_back({rec.name, std::string(key), rec.rules[k].name, verdicts[k]});
  }
  std::vector<Seen> seen;

 private:
  const StackSpec& spec_;
};

std::string describe(const Seen& s) {
  std::string out = s.reconcile + " " + s.key + " '" + s.rule + "': " + outcome_name(s.verdict.outcome);
  if (!s.verdict.message.empty()) out += " - " + s.verdict.message;
  return out;
}

// Compares one expectation with the verdict it names; appends what differs.
void compare(const Expectation& x, std::vector<Seen>& seen, std::vector<std::string>& problems) {
  Seen* match = nullptr;
  for (auto& s : seen)
    if (s.key == x.key && s.rule == x.rule && (x.reconcile.empty() || s.reconcile == x.reconcile)) {
      match = &s;
      break;
    }
  std::string what = (x.reconcile.empty() ? "" : x.reconcile + " ") + x.key + " '" + x.rule + "'";
  if (!match) {
    std::string rules;
    for (const auto& s : seen)
      if (s.key == x.key && rules.find("'" + s.rule + "'") == std::string::npos) rules += (rules.empty() ? "" : ", ") + ("'" + s.rule + "'");
    problems.push_back("no verdict for " + what +
                       (rules.empty() ? " (no group has key " + x.key + ")" : " (rules with that key: " + rules + ")"));
    return;
  }
  match->expected = true;
  const Verdict& v = match->verdict;
  std::vector<std::string> diff;
  auto field = [&](const char* name, const std::optional<std::string>& want, const std::string& got) {
    if (want && *want != got) diff.push_back(std::string("  - ") + name + ": " + *want + "\n  + " + name + ": " + got);
  };
  field("outcome", x.outcome, outcome_name(v.outcome));
  field("expected", x.expected, v.expected);
  field("actual", x.actual, v.actual);
  field("delta", x.delta, v.delta);
  if (x.message && v.message.find(*x.message) == std::string::npos)
    diff.push_back("  - message containing: " + *x.message + "\n  + message: " + v.message);
  if (diff.empty()) return;
  std::string p = what + " differs:";
  for (const auto& d : diff) p += "\n" + d;
  if (!x.message && !v.message.empty()) p += "\n    message: " + v.message;
  problems.push_back(p);
}

}  // namespace

std::vector<TestResult> run_stack_tests(PreparedStack& stack, const std::vector<TestCase>& tests) {
  const StackSpec& spec = stack.loaded.spec;
  ScriptHost* host = stack.loaded.host.get();
  std::vector<TestResult> results;
  for (const TestCase& t : tests) {
    TestResult r{&t, {}};
    try {
      // Tests are deterministic: the stack's defaults and the test's own values, never
      // the ops thresholds file.
      ParamValues params = ParamValues::resolve(spec, t.sets);
      stack.loaded.host->set_params(params);
      std::vector<MappedInput> inputs;
      for (const auto& sys : spec.systems) {
        auto it = t.records.find(sys.name);
        std::vector<FixtureRow> rows = it == t.records.end() ? std::vector<FixtureRow>{} : it->second;
        inputs.push_back(map_system(sys, host, make_fixture_connector(std::move(rows), t.loc.str() + " " + sys.name)));
        for (const auto& rej : inputs.back().rejects)
          r.problems.push_back("fixture row " + std::to_string(rej.line) + " of " + sys.name + " was rejected: " + rej.reason);
      }
      TimeUs as_of = default_as_of(inputs);
      if (t.as_of) {
        auto parsed = parse_time(*t.as_of, *make_time_format("iso8601", "UTC"));
        if (!parsed) throw UserError("as_of: " + parsed.error());
        as_of = *parsed;
      }
      MemorySink sink(spec);
      evaluate_reconciles(spec, params, host, inputs, as_of, sink, nullptr);
      for (const auto& x : t.expect) compare(x, sink.seen, r.problems);
      for (const auto& s : sink.seen)
        if (!s.expected && s.verdict.outcome != Outcome::Pass && s.verdict.outcome != Outcome::Skip)
          r.problems.push_back("unexpected " + describe(s));
    } catch (const std::exception& e) {
      r.problems.push_back(std::string("could not run: ") + e.what());
    }
    results.push_back(std::move(r));
  }
  stack.loaded.host->set_params(stack.params);
  return results;
}

std::string render_test_text(const std::vector<TestResult>& results) {
  std::ostringstream out;
  size_t passed = 0;
  for (const auto& r : results) {
    passed += r.passed();
    out << (r.passed() ? "PASS  " : "FAIL  ") << r.test->name << "  (" << r.test->loc.str() << ")\n";
    for (const auto& p : r.problems) {  // every line of a problem indented under its test
      std::istringstream lines(p);
      for (std::string line; std::getline(lines, line);) out << "      " << line << "\n";
    }
  }
  out << "\n" << passed << " passed, " << results.size() - passed << " failed\n";
  return out.str();
}

std::string render_test_json(const std::vector<TestResult>& results) {
  JsonWriter j;
  size_t passed = 0;
  j.begin_object().key("tests").begin_array();
  for (const auto& r : results) {
    passed += r.passed();
    j.begin_object().key("name").value(r.test->name).key("source").value(r.test->loc.str()).key("passed").value(r.passed());
    j.key("problems").begin_array();
    for (const auto& p : r.problems) j.value(p);
    j.end_array().end_object();
  }
  j.end_array().key("passed").value(static_cast<uint64_t>(passed)).key("failed").value(static_cast<uint64_t>(results.size() - passed));
  j.end_object();
  return j.str() + "\n";
}

}  // namespace seam
