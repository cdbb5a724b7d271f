#pragma once
// Running the real `seam` binary against files in a scratch folder.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <vector>

#include "engine/audit/db.hpp"
#include "tests/support.hpp"

namespace seam::test {

struct Invocation {
  int exit = -1;
  std::string out, err;
};

// Runs `seam ARGS` with `cwd` as the working folder; `env` ("SEAM_NOW=...") goes before it.
inline Invocation run_seam(const std::string& cwd, const std::string& args, const std::string& env = "") {
  TempDir capture;
  std::string cmd = "cd " + shell_quote(cwd) + " && " + env + (env.empty() ? "" : " ") + shell_quote(SEAM_BINARY) +
                    " " + args + " >" +
                    shell_quote(capture / "out") + " 2>" + shell_quote(capture / "err") + " </dev/null";
  int status = std::system(cmd.c_str());
  Invocation o;
  o.exit = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  o.out = read_file(capture / "out");
  o.err = read_file(capture / "err");
  return o;
}

// A copy of examples/NAME in a scratch folder, so each test has its own audit log.
inline void copy_example(const std::string& name, const std::string& to) {
  std::filesystem::copy(std::string(SEAM_SOURCE_DIR) + "/examples/" + name, to,
                        std::filesystem::copy_options::recursive);
  std::filesystem::remove(to + "/seam.db");
}

// Rows of a query as "a|b|c" strings (NULL as empty), for exact comparisons.
inline std::vector<std::string> rows(Db& db, const std::string& sql) {
  Statement s(db, sql);
  std::vector<std::string> out;
  while (s.step()) {
    std::string row;
    for (int c = 0; c < s.columns(); ++c) row += (c ? "|" : "") + s.text_at(c);
    out.push_back(row);
  }
  return out;
}

// Each line of `text` (CR LF or LF), without its line end.
inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(line);
  }
  return out;
}

// The first `n` comma-separated fields of each CSV line, header included (for reports
// whose first fields hold no quoted commas).
// A report CSV's lines below its provenance rows ("# stack: ...", engine/report/provenance.hpp).
inline bool csv_preamble_line(const std::string& line) { return line.rfind("# ", 0) == 0 || line.rfind("\"# ", 0) == 0; }
inline std::vector<std::string> csv_body(const std::string& csv) {
  std::vector<std::string> out;
  for (const auto& line : lines_of(csv))
    if (!csv_preamble_line(line)) out.push_back(line);
  return out;
}

// The first n fields of each line of a report CSV, its provenance rows left out.
inline std::vector<std::string> csv_fields(const std::string& csv, size_t n) {
  std::vector<std::string> out;
  for (const auto& line : csv_body(csv)) {
    size_t end = 0;
    for (size_t i = 0; i < n && end != std::string::npos; ++i) end = line.find(',', end + (i ? 1 : 0));
    out.push_back(line.substr(0, end));
  }
  return out;
}

// Python's json module is strict about what it accepts (and reads stdin as UTF-8): the
// output parses, and `expr` (over `d`, the parsed document) prints what the test compares.
inline std::string python_json(const std::string& text, const std::string& expr = "'ok'") {
  TempDir scratch;
  write_file(scratch / "doc.json", text);
  write_file(scratch / "check.py",
             "import json, sys\n"
             "with open(sys.argv[1], encoding='utf-8', errors='strict') as f:\n"
             "    d = json.load(f)\n"
             "print(" + expr + ")\n");
  std::string cmd = "python3 " + shell_quote(scratch / "check.py") + " " + shell_quote(scratch / "doc.json") + " >" +
                    shell_quote(scratch / "out") + " 2>&1";
  int status = std::system(cmd.c_str());
  std::string out = read_file(scratch / "out");
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? out : "invalid JSON: " + out;
}

// `seam ARGS` on a pseudo-terminal (util-linux `script`), stdout and stderr both on it;
// returns what the terminal received.
inline Invocation on_terminal(const std::string& cwd, const std::string& args, const std::string& env = "") {
  TempDir capture;
  const std::string inner = "cd " + shell_quote(cwd) + " && " + env + (env.empty() ? "" : " ") +
                            shell_quote(SEAM_BINARY) + " " + args;
  const std::string cmd = "script -qec " + shell_quote(inner) + " /dev/null >" + shell_quote(capture / "out") +
                          " 2>&1 </dev/null";
  int status = std::system(cmd.c_str());
  Invocation o;
  o.exit = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  o.out = read_file(capture / "out");
  return o;
}

}  // namespace seam::test
