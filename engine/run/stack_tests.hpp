#pragma once
// `seam test`: each test's fixture rows go through the stack's real mappings, matching and
// rules, in memory (the audit log is not touched), and the verdicts are compared with
// what the test expects. A verdict the test does not mention may pass or skip; any
// other outcome fails the test, so a rule change that starts failing records is caught.
#include <string>
#include <vector>

#include "engine/run/runner.hpp"
#include "engine/spec/test_spec.hpp"

namespace seam {

struct TestResult {
  const TestCase* test = nullptr;
  std::vector<std::string> problems;  // empty: passed
  bool passed() const { return problems.empty(); }
};

std::vector<TestResult> run_stack_tests(PreparedStack& stack, const std::vector<TestCase>& tests);
std::string render_test_text(const std::vector<TestResult>& results);
std::string render_test_json(const std::vector<TestResult>& results);

}  // namespace seam
