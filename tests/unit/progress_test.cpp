// The progress line's texts (engine/run/progress.hpp); what a terminal receives is tested
// end to end in tests/e2e/cli_conventions_e2e.cpp.
#include <doctest/doctest.h>

#include "engine/run/progress.hpp"

using namespace seam;

TEST_CASE("progress: counts have thousands separators and rates a unit") {
  CHECK(with_thousands(0) == "0");
  CHECK(with_thousands(999) == "999");
  CHECK(with_thousands(1000) == "1,000");
  CHECK(with_thousands(957318) == "957,318");
  CHECK(with_thousands(1234567) == "1,234,567");
  CHECK(rate_text(85) == "85/s");
  CHECK(rate_text(9999) == "9999/s");
  CHECK(rate_text(410000) == "410k/s");
  CHECK(rate_text(1234567) == "1.2M/s");
}

TEST_CASE("progress: a line too wide for the terminal loses the end of its name, never its figures") {
  const std::string figures = ": 812,000/957,318 groups, 410k/s, 2.1 s";
  const std::string name = "evaluating and writing refunds_reach_erp";
  const std::string line = "seam: " + name + figures;
  CHECK(fit_line(line, name.size(), 200) == line);
  CHECK(fit_line(line, name.size(), line.size() + 1) == line);
  CHECK(fit_line(line, name.size(), 60) == "seam: evaluating..." + figures);
  CHECK(fit_line(line, name.size(), 61) == "seam: evaluating a..." + figures);
  CHECK(fit_line(line, name.size(), 61).size() == 60);
  // Not even four bytes of the name fit: the line is cut at the width.
  CHECK(fit_line(line, name.size(), 40) == line.substr(0, 39));
  // A cut never splits a UTF-8 character ("é" is two bytes).
  const std::string accented = "mapping caf\xc3\xa9 and more";
  const std::string wide = "seam: " + accented + ": 1 rows, 0.0 s";
  CHECK(fit_line(wide, accented.size(), 38) == "seam: mapping caf\xc3\xa9...: 1 rows, 0.0 s");
  CHECK(fit_line(wide, accented.size(), 37) == "seam: mapping caf...: 1 rows, 0.0 s");
}
