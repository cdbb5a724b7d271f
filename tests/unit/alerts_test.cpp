#include <doctest/doctest.h>

#include "engine/alerts/sinks.hpp"
#include "tests/support.hpp"

using namespace seam;
using seam::test::read_file;
using seam::test::TempDir;

TEST_CASE("alerts: a file sink appends, and says why when it cannot") {
  TempDir dir;
  CHECK(append_to_file(dir / "a.ndjson", "{\"a\":1}\n") == "");
  CHECK(append_to_file(dir / "a.ndjson", "{\"a\":2}\n") == "");
  CHECK(read_file(dir / "a.ndjson") == "{\"a\":1}\n{\"a\":2}\n");
  CHECK(append_to_file(dir / "missing/a.ndjson", "x") ==
        "cannot open " + (dir / "missing/a.ndjson") + ": No such file or directory");
}

TEST_CASE("alerts: a command gets the payload on stdin, its exit status, a timeout or a missing program fail it") {
  TempDir dir;
  CHECK(run_command({"sh", "-c", "cat > got.json"}, dir.path(), "{\"n\":1}", 5) == "");
  CHECK(read_file(dir / "got.json") == "{\"n\":1}");
  CHECK(run_command({"sh", "-c", "exit 4"}, dir.path(), "{}", 5) == "sh exited with status 4");
  CHECK(run_command({"sleep", "5"}, dir.path(), "{}", 1) == "sleep did not finish within 1 s; killed");
  CHECK(run_command({"/nonexistent/notify"}, dir.path(), "{}", 5) ==
        "cannot run /nonexistent/notify: No such file or directory");
  // It may exit without reading its stdin at all; that is its exit status's call.
  std::string big(1 << 20, 'x');
  CHECK(run_command({"true"}, dir.path(), big, 5) == "");
}

TEST_CASE("alerts: a webhook with nothing listening fails with curl's reason") {
  std::string error = post_webhook("http://127.0.0.1:9/hook", "{}", 2);
  CHECK(error.rfind("POST http://127.0.0.1:9/hook: ", 0) == 0);
  CHECK(error.find("onnect") != std::string::npos);
}
