// Issue "a CLI that fits its users' habits": the stack given the same way to every command, and
// seam init.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>

#include "tests/e2e/e2e_support.hpp"

using namespace seam;
using namespace seam::test;

namespace {

// The gift card example in a scratch folder.
struct Giftcards {
  TempDir dir;
  std::string stack = dir / "giftcards";
  Giftcards() { copy_example("giftcards", stack); }
  Invocation seam(const std::string& args, const std::string& env = "") { return run_seam(dir.path(), args, env); }
};

}  // namespace

TEST_CASE("cli conventions: every command that took STACK_DIR takes --stack DIR and says the same") {
  Giftcards ex;
  for (const char* command : {"check", "params", "rules", "test", "test --format json", "rules --format json"}) {
    CAPTURE(command);
    auto positional = ex.seam(std::string(command) + " giftcards");
    auto option = ex.seam(std::string(command) + " --stack giftcards");
    CHECK(positional.exit == 0);
    CHECK(option.exit == positional.exit);
    CHECK(option.out == positional.out);
    CHECK(option.err == positional.err);
    CHECK(!option.out.empty());
  }
  CHECK(ex.seam("check --stack giftcards").out.rfind("stack acme-retail-giftcards is valid: ", 0) == 0);
  // Both, naming one folder in two spellings: not a conflict.
  CHECK(ex.seam("check giftcards --stack ./giftcards/").exit == 0);
  CHECK(run_seam(ex.stack, "check . --stack ../giftcards").exit == 0);

  // run writes the stack's own log; replay finds it the same way.
  auto run = ex.seam("run --stack giftcards");
  CHECK(run.exit == 1);
  CHECK(std::filesystem::exists(ex.stack + "/seam.db"));
  auto replay_positional = ex.seam("replay giftcards");
  auto replay_option = ex.seam("replay --stack giftcards");
  CHECK(replay_option.exit == replay_positional.exit);
  CHECK(replay_option.out == replay_positional.out);
  Db db(ex.stack + "/seam.db", false);
  CHECK(rows(db, "SELECT id, stack_name, status FROM runs") == std::vector<std::string>{"1|acme-retail-giftcards|complete"});
}

TEST_CASE("cli conventions: two different stacks, or none, are a usage error naming what was given") {
  Giftcards ex;
  copy_example("bank", ex.dir / "bank");
  for (const char* command : {"run", "check", "params", "rules", "test", "replay"}) {
    CAPTURE(command);
    auto both = ex.seam(std::string(command) + " giftcards --stack bank");
    CHECK(both.exit == 2);
    CHECK(both.out == "");
    CHECK(both.err == "seam: error: seam " + std::string(command) +
                          " was given two stacks: STACK_DIR giftcards and --stack bank; give one\n");
    auto none = ex.seam(command);
    CHECK(none.exit == 2);
    CHECK(none.err == "seam: error: seam " + std::string(command) +
                          " needs a stack: give its folder as STACK_DIR or --stack DIR\n");
  }
  // Nothing was run: neither stack has an audit log.
  CHECK(!std::filesystem::exists(ex.stack + "/seam.db"));
  CHECK(!std::filesystem::exists(ex.dir / "bank/seam.db"));
  auto json = ex.seam("run giftcards --stack bank --format json");
  CHECK(json.exit == 2);
  CHECK(json.err ==
        "{\"error\":\"seam run was given two stacks: STACK_DIR giftcards and --stack bank; give one\",\"exit\":2}\n");
}

TEST_CASE("cli conventions: the read commands take --stack DIR, --db FILE, or else the current folder's seam.db") {
  Giftcards ex;
  CHECK(ex.seam("run giftcards").exit == 1);
  for (const char* command : {"exceptions", "exceptions --status all", "alerts", "audit verify", "audit head",
                              "report breakdown --format csv"}) {
    CAPTURE(command);
    auto by_stack = ex.seam(std::string(command) + " --stack giftcards");
    auto by_db = ex.seam(std::string(command) + " --db giftcards/seam.db");
    auto here = run_seam(ex.stack, command);
    CHECK(by_stack.exit == here.exit);
    CHECK(by_db.exit == here.exit);
    CHECK(!here.out.empty());
    if (std::string(command).find("report") == std::string::npos) {  // a report names the log it read
      CHECK(by_stack.out == here.out);
      CHECK(by_db.out == here.out);
    }
  }
  auto nolog = ex.seam("exceptions");
  CHECK(nolog.exit == 2);
  CHECK(nolog.err ==
        "seam: error: no audit log at seam.db (run `seam run STACK_DIR` first, or pass --db FILE / --stack DIR)\n");
}

namespace {

// The names of the files under `dir`, relative to it, sorted.
std::vector<std::string> files_under(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.is_regular_file()) out.push_back(std::filesystem::relative(e.path(), dir).string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("cli conventions: seam init makes a stack that checks, passes its tests and finds the seeded failure") {
  TempDir dir;
  auto made = run_seam(dir.path(), "init books");
  CHECK(made.exit == 0);
  CHECK(made.err == "");
  CHECK(made.out ==
        "made a stack in books:\n  stack.lua\n  data/billing_invoices.csv\n  data/ledger_entries.csv\n"
        "  tests/books_test.lua\n  README.md\n"
        "next: seam check books && seam test books && seam run books (finds the one failure seeded in its data); "
        "then edit books/stack.lua (see its README.md)\n");
  CHECK(files_under(dir / "books") == std::vector<std::string>{"README.md", "data/billing_invoices.csv",
                                                                "data/ledger_entries.csv", "stack.lua",
                                                                "tests/books_test.lua"});
  auto check = run_seam(dir.path(), "check books --data");
  CHECK(check.exit == 0);
  CHECK(lines_of(check.out).back() == "stack books is valid: 1 param, 2 systems, 1 reconciliation, 5 rules");
  auto test = run_seam(dir.path(), "test books");
  CHECK(test.exit == 0);
  CHECK(lines_of(test.out).back() == "3 passed, 0 failed");
  auto params = run_seam(dir.path(), "params books --format json");
  CHECK(python_json(params.out, "[(p['name'], p['value'], p['source']) for p in d]") ==
        "[('lag_days', '5', 'default')]");

  // Every row read is accepted; exactly one verdict fails: the invoice seeded with another amount.
  auto run = run_seam(dir.path(), "run books");
  CHECK(run.exit == 1);
  CHECK(run.out.find("  billing  books/data/billing_invoices.csv  read 5 = accepted 5 + rejected 0\n") != std::string::npos);
  CHECK(run.out.find("  ledger   books/data/ledger_entries.csv    read 5 = accepted 5 + rejected 0\n") != std::string::npos);
  CHECK(run.out.find("5 groups, 25 verdicts: 24 pass, 1 fail\n") != std::string::npos);
  Db db(dir / "books/seam.db", false);
  CHECK(rows(db, "SELECT stack_name, reconcile, group_key, rule, status, left_ids, right_ids, delta FROM exceptions") ==
        std::vector<std::string>{
            "books|invoices_reach_ledger|INV-1004|amounts agree|open|[\"INV-1004\"]|[\"JE-504\"]|-270.00 USD"});
  // Its README's commands work from inside the folder.
  CHECK(run_seam(dir / "books", "test .").exit == 0);
  CHECK(lines_of(run_seam(dir / "books", "exceptions").out).size() == 2);
}

TEST_CASE("cli conventions: seam init fills an empty or new folder, names the stack after it, and refuses anything else") {
  TempDir dir;
  std::filesystem::create_directories(dir / "empty");
  CHECK(run_seam(dir.path(), "init empty").exit == 0);
  CHECK(run_seam(dir.path(), "init 'new/acme books'").exit == 0);
  CHECK(lines_of(run_seam(dir.path(), "check 'new/acme books'").out).back() ==
        "stack acme-books is valid: 1 param, 2 systems, 1 reconciliation, 5 rules");
  CHECK(std::filesystem::exists(dir / "new/acme books/tests/acme-books_test.lua"));

  // A folder holding anything, even one file, is left as it was.
  std::filesystem::create_directories(dir / "busy");
  write_file(dir / "busy/notes.txt", "mine\n");
  auto busy = run_seam(dir.path(), "init busy");
  CHECK(busy.exit == 2);
  CHECK(busy.out == "");
  CHECK(busy.err ==
        "seam: error: cannot make a stack in busy: the folder is not empty, and seam init overwrites nothing (give a new "
        "or empty folder)\n");
  CHECK(files_under(dir / "busy") == std::vector<std::string>{"notes.txt"});
  CHECK(read_file(dir / "busy/notes.txt") == "mine\n");
  // The stack made first is not made again over itself.
  CHECK(run_seam(dir.path(), "init empty").exit == 2);
  CHECK(read_file(dir / "empty/data/ledger_entries.csv").find("JE-504,INV-1004,2030.00") != std::string::npos);
  auto file = run_seam(dir.path(), "init busy/notes.txt");
  CHECK(file.exit == 2);
  CHECK(file.err == "seam: error: cannot make a stack in busy/notes.txt: it is a file, not a folder (give a new or "
                    "empty folder)\n");
  CHECK(run_seam(dir.path(), "init").exit == 2);
}

namespace {

// The names under "Subcommands:" in `seam [COMMAND] --help`.
std::vector<std::string> subcommands_in_help(const std::string& command) {
  std::vector<std::string> out;
  bool listed = false;
  for (const auto& line : lines_of(run_seam(".", command + " --help").out)) {
    if (line == "Subcommands:") listed = true;
    else if (listed && line.rfind("  ", 0) == 0 && line.size() > 2 && line[2] != ' ')
      out.push_back(line.substr(2, line.find(' ', 2) - 2));
  }
  return out;
}

// The long options `seam COMMAND --help` lists ("--db", "--stack", ...), -h,--help aside.
std::vector<std::string> options_in_help(const std::string& command) {
  std::vector<std::string> out;
  for (const auto& line : lines_of(run_seam(".", command + " --help").out)) {
    if (line.rfind("  -", 0) != 0) continue;
    std::string names = line.substr(2, line.find(' ', 2) - 2);
    for (size_t at = names.find("--"); at != std::string::npos; at = names.find("--", at + 2)) {
      std::string name = names.substr(at, names.find(',', at) - at);
      if (name != "--help") out.push_back(name);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("cli conventions: seam man writes the manual from the commands: every command and option --help lists") {
  auto man = run_seam(".", "man");
  CHECK(man.exit == 0);
  CHECK(man.out.find(".TH SEAM 1 \"\" \"seam " SEAM_VERSION "\" \"User Commands\"\n") != std::string::npos);
  std::vector<std::string> commands;
  for (const auto& c : subcommands_in_help("")) {
    commands.push_back(c);
    for (const auto& s : subcommands_in_help(c)) commands.push_back(c + " " + s);
  }
  CHECK(commands.size() == 19);
  size_t checked = 0;
  for (const auto& command : commands) {
    CAPTURE(command);
    // The command's own section: from its heading to the next one.
    std::string roff_name = "seam " + command;
    const size_t at = man.out.find(".SS \"" + roff_name + " ");
    REQUIRE(at != std::string::npos);
    const size_t end = man.out.find(".SS ", at + 4);
    const std::string section = man.out.substr(at, end == std::string::npos ? std::string::npos : end - at);
    const auto options = options_in_help(command);
    checked += options.size();
    for (const auto& o : options) {
      CAPTURE(o);
      std::string roffed;
      for (char c : o) roffed += c == '-' ? std::string("\\-") : std::string(1, c);
      CHECK(section.find(".TP\n\\fB" + roffed + "\\fR") != std::string::npos);
    }
  }
  CHECK(checked > 90);
  // Hidden from --help and from the manual it writes.
  CHECK(run_seam(".", "--help").out.find(" man ") == std::string::npos);
  CHECK(man.out.find(".SS \"seam man") == std::string::npos);
  TempDir dir;
  CHECK(run_seam(dir.path(), "man --output seam.1").exit == 0);
  CHECK(read_file(dir / "seam.1") == man.out);
}

TEST_CASE("cli conventions: on a terminal the progress line names every phase of a run, drawn in place, then cleared") {
  Giftcards ex;
  auto tty = on_terminal(ex.dir.path(), "run giftcards", "TERM=xterm NO_COLOR=1 SEAM_PROGRESS_AFTER_MS=0");
  CHECK(tty.exit == 1);
  // Each phase as it starts (the line's own thread may redraw it in between, with later figures).
  std::vector<std::string> phases = {"seam: reading and mapping platform, platform_loads, ",
                                     "seam: recording the inputs and their rejected rows... "};
  for (const auto& [name, groups] : std::vector<std::pair<std::string, int>>{{"loads_reach_erp", 6},
                                                                            {"redemptions_reach_erp", 4},
                                                                            {"card_ledgers", 6},
                                                                            {"gift_card_checkouts", 6},
                                                                            {"gift_card_captures", 6}}) {
    phases.push_back("seam: matching " + name + "... ");
    phases.push_back("seam: evaluating and writing " + name + ": 0/" + std::to_string(groups) + " groups, ");
  }
  phases.push_back("seam: sealing run 1 and updating its exceptions... ");
  // Cleared before the report: its first line starts on a clean line.
  phases.push_back("seam run 1 - stack acme-retail-giftcards - as of ");
  size_t at = 0;
  for (const auto& p : phases) {
    CAPTURE(p);
    at = tty.out.find("\r\033[K" + p, at);
    REQUIRE(at != std::string::npos);
  }
  CHECK(tty.out.find("\r\033[Kseam:", at) == std::string::npos);
  CHECK(tty.out.find("\033[K", at + 3) == std::string::npos);
  // Every drawing fits in the terminal's width (80 when it tells none) less one column,
  // on one line: a line that wraps cannot be redrawn in place.
  size_t drawings = 0;
  for (size_t from = tty.out.find("\r\033[Kseam: "); from != std::string::npos && from < at;
       from = tty.out.find("\r\033[Kseam: ", from + 1)) {
    const size_t end = tty.out.find('\r', from + 1);
    const std::string drawn = tty.out.substr(from + 4, end - from - 4);
    CAPTURE(drawn);
    CHECK(drawn.size() <= 79);
    CHECK(drawn.find('\n') == std::string::npos);
    ++drawings;
  }
  CHECK(drawings >= phases.size() - 1);
  // The mapping line's name is shortened, its figures kept.
  CHECK(tty.out.find("\r\033[Kseam: reading and mapping platform, platform_loads, platform_...: 0 rows, 0.") !=
        std::string::npos);

  // Not a terminal, or one that cannot redraw a line: nothing at all.
  Giftcards piped;
  auto file = piped.seam("run giftcards", "SEAM_PROGRESS_AFTER_MS=0");
  CHECK(file.exit == 1);
  CHECK(file.err == "");
  CHECK(file.out.find('\033') == std::string::npos);
  CHECK(piped.seam("run giftcards --format json", "SEAM_PROGRESS_AFTER_MS=0").err == "");
  Giftcards dumb;
  auto plain = on_terminal(dumb.dir.path(), "run giftcards", "TERM=dumb NO_COLOR=1 SEAM_PROGRESS_AFTER_MS=0");
  CHECK(plain.exit == 1);
  CHECK(plain.out.find('\033') == std::string::npos);
  CHECK(plain.out.find("seam: matching") == std::string::npos);
}

TEST_CASE("cli conventions: a run that fails after its progress line was drawn clears it before the error") {
  Giftcards ex;
  // The ERP's SQLite file is not a database: the run stops while reading its inputs.
  write_file(ex.stack + "/data/erp.db", "not a database\n");
  auto tty = on_terminal(ex.dir.path(), "run giftcards", "TERM=xterm NO_COLOR=1 SEAM_PROGRESS_AFTER_MS=0");
  CHECK(tty.exit == 2);
  const size_t drawn = tty.out.find("\r\033[Kseam: reading and mapping platform, ");
  REQUIRE(drawn != std::string::npos);
  const size_t error = tty.out.find("seam: error: ", drawn);
  REQUIRE(error != std::string::npos);
  CHECK(tty.out.substr(error - 4, 4) == "\r\033[K");
}

TEST_CASE("cli conventions: replay shows its phases on a terminal too, and says it evaluates without writing") {
  Giftcards ex;
  CHECK(ex.seam("run giftcards").exit == 1);
  auto tty = on_terminal(ex.dir.path(), "replay giftcards", "TERM=xterm NO_COLOR=1 SEAM_PROGRESS_AFTER_MS=0");
  CHECK(tty.exit == 0);
  size_t at = 0;
  for (const char* p : {"seam: reading and mapping platform, ", "seam: reading the verdicts run 1 recorded... ",
                        "seam: matching loads_reach_erp... ", "seam: evaluating loads_reach_erp: 0/6 groups, ",
                        "seam: evaluating gift_card_captures: 0/6 groups, ", "seam: comparing the verdicts... ",
                        "replay of run 1 "}) {
    CAPTURE(p);
    at = tty.out.find(std::string("\r\033[K") + p, at);
    REQUIRE(at != std::string::npos);
  }
  CHECK(tty.out.find("evaluating and writing") == std::string::npos);
  auto piped = ex.seam("replay giftcards", "SEAM_PROGRESS_AFTER_MS=0");
  CHECK(piped.exit == 0);
  CHECK(piped.err == "");
}
