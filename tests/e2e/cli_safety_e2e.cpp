// Issue 15's "unsafe and fragile" and "CLI habits": what seam writes must be safe to open,
// portable between folders, and behave as command-line users expect.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "tests/e2e/e2e_support.hpp"

using namespace seam;
using namespace seam::test;

namespace {

// The refunds example in a scratch folder.
struct Refunds {
  TempDir dir;
  std::string stack = dir / "refunds";
  Refunds() { copy_example("refunds", stack); }
  Invocation seam(const std::string& args, const std::string& env = "") { return run_seam(dir.path(), args, env); }
};

// The line of `text` holding `needle`, or "" when none does.
std::string line_with(const std::string& text, const std::string& needle) {
  for (const auto& line : lines_of(text))
    if (line.find(needle) != std::string::npos) return line;
  return "";
}

// One more storefront refund (Shopify-shaped, as examples/refunds' export), never posted in the
// ERP nor paid back by the processor. (The authorization is a match key: without one the
// storefront rejects the row.)
const char* const kOneMoreRefund =
    "{\"id\":\"R1098\",\"order_id\":5098,\"transactions\":[{\"status\":\"success\",\"authorization\":\"re_R1098\",\"created_at\":"
    "\"2026-03-23T10:00:00Z\",\"currency\":\"USD\",\"amount\":\"1.00\"}]}\n";

}  // namespace

TEST_CASE("cli safety: a client key written as a spreadsheet formula leaves CSV reports as text") {
  Refunds ex;
  {
    std::ofstream shop(ex.stack + "/data/storefront_refunds.ndjson", std::ios::app);
    shop << "{\"id\":\"=HYPERLINK(\\\"http://evil.example/\\\",\\\"R1099\\\")\",\"order_id\":5099,\"transactions\":[{"
            "\"status\":\"success\",\"authorization\":\"re_R1099\",\"created_at\":\"2026-03-23T10:00:00Z\",\"currency\":\"USD\","
            "\"amount\":\"99.00\"}]}\n";
  }
  CHECK(ex.seam("run refunds").exit == 1);
  auto variance = ex.seam("report variance --stack refunds --format csv --key '=HYPERLINK(\"http://evil.example/\",\"R1099\")'");
  CHECK(variance.exit == 0);
  auto lines = csv_body(variance.out);
  REQUIRE(lines.size() == 2);
  // The key is quoted behind a single quote; the amounts seam wrote (-99.00 USD) stay numbers.
  CHECK(lines[1].rfind("11,\"'=HYPERLINK(\"\"http://evil.example/\"\",\"\"R1099\"\")\",storefront,refunds_reach_erp,"
                       "exists in right,open,99.00 USD,-99.00 USD,0,",
                       0) == 0);
  // The message quotes the key mid-text: a formula only when a cell begins with it.
  CHECK(lines[1].find(",\"no erp record with key =HYPERLINK(\"\"http://evil.example/\"\",\"\"R1099\"\") for storefront") !=
        std::string::npos);
  // No line of any CSV report holds a cell that begins a formula unquoted.
  for (const char* report : {"report variance --stack refunds --status all --format csv",
                             "report totals --stack refunds --status all --format csv"}) {
    auto csv = ex.seam(report);
    CHECK(csv.out.find(",=") == std::string::npos);
    CHECK(csv.out.find("\n=") == std::string::npos);
  }
  // A negative total seam computed stays a number.
  auto totals = ex.seam("report totals --stack refunds --format csv");
  CHECK(csv_body(totals.out) ==
        std::vector<std::string>{"month,status,reconcile,keys,exceptions,left_total,right_total,net_variance,"
                                 "explained_by_causes,net_counted_once,at_stake_counted_once",
                                 // The books' zone (the stack's accounting_zone) puts R1015 in February.
                                 "2026-02,open,refunds_reach_erp,1,1,30.00 USD,30.00 USD,0.00 USD,0.00 USD,0.00 USD,"
                                 "0.00 USD",
                                 "2026-02,open,\"all, counted once\",1,1,,,,,0.00 USD,0.00 USD",
                                 // Order 5099 has no ERP refund at all: its rules skip.
                                 "2026-03,open,order_refund_totals,3,4,160.00 USD,184.00 USD,24.00 USD,24.00 USD,"
                                 "0.00 USD,0.00 USD",
                                 "2026-03,open,refunds_reach_erp,12,12,417.49 USD,357.49 USD,-60.00 USD,0.00 USD,"
                                 "-60.00 USD,460.00 USD",
                                 "2026-03,open,refunds_reach_processor,4,4,161.00 USD,136.85 USD,-24.15 USD,0.00 USD,"
                                 "-24.15 USD,174.15 USD",
                                 "2026-03,open,\"all, counted once\",19,20,,,,,-84.15 USD,634.15 USD"});
}

TEST_CASE("cli safety: a run stores absolute input paths, so replay works from any folder and after a move") {
  Refunds ex;
  CHECK(ex.seam("run refunds").exit == 1);
  const std::string stack = std::filesystem::weakly_canonical(ex.stack).string();
  {
    Db db(ex.stack + "/seam.db", false);
    CHECK(rows(db, "SELECT system, path FROM run_inputs ORDER BY system") ==
          std::vector<std::string>{"erp|" + stack + "/data/erp_customer_refunds.csv",
                                   "processor|" + stack + "/data/stripe_refunds.json",
                                   "storefront|" + stack + "/data/storefront_refunds.ndjson"});
    CHECK(rows(db, "SELECT stack_dir FROM runs") == std::vector<std::string>{stack});
  }
  TempDir elsewhere;
  auto replay = run_seam(elsewhere.path(), "replay " + shell_quote(ex.stack));
  CHECK(replay.err == "");
  CHECK(replay.exit == 0);
  CHECK(replay.out.rfind("replay of run 1 (as of 2026-03-24T18:00:00Z), nothing written to " + ex.stack + "/seam.db\n", 0) == 0);
  // The stack folder moved (a copied log next to a copied stack): its inputs are found
  // through the stack folder the run recorded, and their digests still match.
  std::filesystem::rename(ex.stack, ex.dir / "moved");
  auto moved = run_seam(elsewhere.path(), "replay " + shell_quote(ex.dir / "moved"));
  CHECK(moved.err == "");
  CHECK(moved.exit == 0);
  CHECK(run_seam(elsewhere.path(), "audit verify --stack " + shell_quote(ex.dir / "moved")).exit == 0);
  // A changed input is still refused by its digest, wherever it is found.
  {
    std::ofstream(ex.dir / "moved/data/storefront_refunds.ndjson", std::ios::app) << kOneMoreRefund;
  }
  auto changed = run_seam(elsewhere.path(), "replay " + shell_quote(ex.dir / "moved"));
  CHECK(changed.exit == 2);
  CHECK(with_dir_as_DIR(changed.err, ex.dir.path()).rfind("seam: error: input DIR/moved/data/storefront_refunds.ndjson "
                                                          "(system 'storefront') changed since run 1: its digest is ",
                                                          0) == 0);
}

TEST_CASE("cli safety: replay of a log written before absolute paths finds its inputs from another folder") {
  Refunds ex;
  CHECK(ex.seam("run refunds").exit == 1);
  {
    // The rows as seam wrote them before: paths relative to the folder `seam run` started in.
    // (Rewriting them breaks the seal; replay reads the log without checking it.)
    Db db(ex.stack + "/seam.db", false);
    db.exec("UPDATE run_inputs SET path = 'refunds/data/' || replace(path, rtrim(path, replace(path, '/', '')), '')");
    db.exec("DROP TRIGGER runs_sealed");
    db.exec("UPDATE runs SET stack_dir = 'refunds'");
    CHECK(rows(db, "SELECT path FROM run_inputs ORDER BY system") ==
          std::vector<std::string>{"refunds/data/erp_customer_refunds.csv", "refunds/data/stripe_refunds.json",
                                   "refunds/data/storefront_refunds.ndjson"});
  }
  TempDir elsewhere;
  auto replay = run_seam(elsewhere.path(), "replay " + shell_quote(ex.stack));
  CHECK(replay.err == "");
  CHECK(replay.exit == 0);
  CHECK(replay.out.rfind("replay of run 1 (as of 2026-03-24T18:00:00Z)", 0) == 0);
  // From the folder the run started in, the recorded relative paths themselves are read.
  CHECK(ex.seam("replay refunds").exit == 0);
}

TEST_CASE("cli safety: a run of another stack into the same audit log is refused unless asked for") {
  Refunds ex;
  copy_example("giftcards", ex.dir / "giftcards");
  CHECK(ex.seam("run refunds").exit == 1);
  auto refused = ex.seam("run giftcards --db refunds/seam.db");
  CHECK(refused.exit == 2);
  CHECK(with_dir_as_DIR(refused.err, std::filesystem::weakly_canonical(ex.dir.path()).string()) ==
        "seam: audit log error: audit log refunds/seam.db holds runs of stack 'acme-retail-refunds' (DIR/refunds), not "
        "of stack 'acme-retail-giftcards'; give this stack its own log (--db FILE elsewhere), or pass "
        "--allow-other-stack to write both stacks' runs into this one\n");
  CHECK(refused.out == "");
  {
    Db db(ex.stack + "/seam.db", false);
    CHECK(rows(db, "SELECT id, stack_name, status FROM runs") == std::vector<std::string>{"1|acme-retail-refunds|complete"});
  }
  auto allowed = ex.seam("run giftcards --db refunds/seam.db --allow-other-stack");
  CHECK(allowed.exit == 1);
  Db db(ex.stack + "/seam.db", false);
  CHECK(rows(db, "SELECT id, stack_name, status FROM runs") ==
        std::vector<std::string>{"1|acme-retail-refunds|complete", "2|acme-retail-giftcards|complete"});
  CHECK(ex.seam("audit verify --stack refunds").exit == 0);
}

namespace {

bool has_escape(const std::string& s) { return s.find('\033') != std::string::npos; }

// The colour tests look for escapes: no progress line (\r\033[K) on a slow machine either.
const std::string kNoProgress = " SEAM_PROGRESS_AFTER_MS=3600000";

}  // namespace

TEST_CASE("cli habits: colour on a terminal unless NO_COLOR, TERM=dumb or --color never, and --color always forces it") {
  Refunds ex;
  CHECK(ex.seam("run refunds").exit == 1);
  // Not a terminal: plain text.
  CHECK(!has_escape(ex.seam("run refunds").out));
  auto forced = ex.seam("run refunds --color always");
  CHECK(line_with(forced.out, "R1013") == "  \033[31mFAIL   \033[0m R1013  exists in right        no erp record with key R1013 "
                                          "for storefront R1013, past the 30 min lag window; nearest erp candidate: CR-9014 "
                                          "(key R1031, same amount 45.00 USD, 12 min later)  [delta -45.00 USD]");
  CHECK(!has_escape(ex.seam("--color never run refunds").out));
  auto tty = on_terminal(ex.dir.path(), "run refunds", "TERM=xterm" + kNoProgress);
  CHECK(tty.out.find("\033[31mFAIL   \033[0m R1013") != std::string::npos);
  CHECK(!has_escape(on_terminal(ex.dir.path(), "run refunds", "TERM=xterm NO_COLOR=1" + kNoProgress).out));
  CHECK(!has_escape(on_terminal(ex.dir.path(), "run refunds", "TERM=xterm NO_COLOR=0" + kNoProgress).out));
  CHECK(!has_escape(on_terminal(ex.dir.path(), "run refunds", "TERM=dumb" + kNoProgress).out));
  CHECK(!has_escape(on_terminal(ex.dir.path(), "run refunds --color never", "TERM=xterm" + kNoProgress).out));
  CHECK(has_escape(on_terminal(ex.dir.path(), "run refunds --color always", "TERM=xterm NO_COLOR=1" + kNoProgress).out));
  auto bad = ex.seam("run refunds --color sometimes");
  CHECK(bad.exit == 2);
  CHECK(bad.err.find("--color: sometimes not in {auto,always,never}") != std::string::npos);
}

TEST_CASE("cli habits: the progress line clears itself on a terminal and is not printed into a file") {
  Refunds ex;
  auto tty = on_terminal(ex.dir.path(), "run refunds", "TERM=xterm NO_COLOR=1 SEAM_PROGRESS_AFTER_MS=0");
  // Each line is drawn over the last, cleared to its end first, and cleared at the end
  // (every phase: tests/e2e/cli_conventions_e2e.cpp).
  const size_t first = tty.out.find("\r\033[Kseam: evaluating and writing refunds_reach_erp: 0/19 groups, ");
  CHECK(first != std::string::npos);
  CHECK(tty.out.find("\r\033[Kseam: evaluating and writing order_refund_totals: 0/16 groups, ", first) !=
        std::string::npos);
  CHECK(tty.out.find("\r\033[Kseam run 1 - stack ") != std::string::npos);
  auto piped = ex.seam("run refunds", "SEAM_PROGRESS_AFTER_MS=0");
  CHECK(piped.exit == 1);
  CHECK(piped.err == "");
  CHECK(!has_escape(on_terminal(ex.dir.path(), "run refunds", "TERM=dumb SEAM_PROGRESS_AFTER_MS=0").out));
}

TEST_CASE("cli habits: with --format json an error comes out as JSON on stderr, with its exit code") {
  Refunds ex;
  auto nolog = ex.seam("exceptions --stack refunds --format json");
  CHECK(nolog.exit == 2);
  CHECK(nolog.out == "");
  CHECK(nolog.err == "{\"error\":\"no audit log at refunds/seam.db (run `seam run STACK_DIR` first, or pass --db FILE / "
                     "--stack DIR)\",\"exit\":2}\n");
  auto nostack = ex.seam("run nowhere --format json");
  CHECK(nostack.exit == 2);
  CHECK(nostack.err == "{\"error\":\"no stack folder: nowhere (a stack is a folder holding stack.lua)\",\"exit\":2}\n");
  auto report = ex.seam("report variance --stack refunds --format json --since yesterday");
  CHECK(report.exit == 2);
  CHECK(report.err ==
        "{\"error\":\"--since: cannot read 'yesterday' as an ISO 8601 time: expected YYYY-MM-DD\",\"exit\":2}\n");
  // Text stays text.
  CHECK(ex.seam("exceptions --stack refunds").err ==
        "seam: error: no audit log at refunds/seam.db (run `seam run STACK_DIR` first, or pass --db FILE / --stack DIR)\n");
}

TEST_CASE("cli habits: --limit N on the read commands lists the first N and says how many more there are") {
  Refunds ex;
  {
    std::ofstream(ex.stack + "/stack.lua", std::ios::app)
        << "\nalert \"ops-file\" { to = ndjson_file { path = \"alerts.ndjson\" }, min_severity = \"high\" }\n";
  }
  CHECK(ex.seam("run refunds").exit == 1);
  // A second run, with one refund more: trace has two runs to show, and alerts two deliveries.
  std::ofstream(ex.stack + "/data/storefront_refunds.ndjson", std::ios::app) << kOneMoreRefund;
  CHECK(ex.seam("run refunds").exit == 1);

  auto exceptions = lines_of(ex.seam("exceptions --stack refunds --limit 2").out);
  REQUIRE(exceptions.size() == 4);
  CHECK(exceptions[0].rfind("id  status", 0) == 0);
  CHECK(exceptions[1].rfind("1   open    refunds_reach_erp  R1003", 0) == 0);
  CHECK(exceptions[2].rfind("2   open    refunds_reach_erp  R1004", 0) == 0);
  CHECK(exceptions[3] == "... and 19 more (--limit 0 lists all)");
  auto json = ex.seam("exceptions --stack refunds --limit 2 --format json").out;
  CHECK(json.rfind("[{\"id\":1,", 0) == 0);
  CHECK(json.find("},{\"id\":2,") != std::string::npos);
  CHECK(json.find("\"id\":3,") == std::string::npos);
  CHECK(lines_of(ex.seam("exceptions --stack refunds --limit 0").out).size() == 22);

  // The variance report's first N are the oldest, then the most money at stake.
  auto csv = ex.seam("report variance --stack refunds --format csv --limit 3");
  CHECK(csv_fields(csv.out, 2) == std::vector<std::string>{"id,key", "3,R1005", "13,5005", "12,R0999"});
  auto text = lines_of(ex.seam("report variance --stack refunds --limit 3").out);
  REQUIRE(text.size() == 9);  // 3 lines of provenance and a blank one, the header, 3 rows, the rest counted
  CHECK(text[3] == "");
  CHECK(text[8] == "... and 18 more (--limit 0 lists all)");
  auto html = ex.seam("report variance --stack refunds --format html --limit 3").out;
  CHECK(html.find("The first 3 of 21 exceptions (--limit; HTML lists 1000 unless told otherwise), oldest first, then "
                  "the most money at stake") != std::string::npos);
  CHECK(html.find("id=\"x12\"") != std::string::npos);   // the third listed has its detail
  CHECK(html.find("id=\"x1\"") == std::string::npos);    // one not listed has none
  CHECK(html.find("<dt>exceptions</dt><dd>21</dd>") != std::string::npos);  // the headline counts them all

  auto trace = ex.seam("trace R1013 --stack refunds --limit 1");
  CHECK(trace.out.find("\nrun 2 (") != std::string::npos);
  CHECK(trace.out.find("\nrun 1 (") == std::string::npos);
  CHECK(lines_of(trace.out).back() == "... and verdicts of 1 older run (--limit 0 shows all)");
  CHECK(ex.seam("trace R1013 --stack refunds").out.find("\nrun 1 (") != std::string::npos);

  auto alerts = lines_of(ex.seam("alerts --stack refunds --limit 1").out);
  REQUIRE(alerts.size() == 3);
  CHECK(alerts[1].rfind("2   2    ops-file", 0) == 0);
  CHECK(alerts[2] == "... and 1 more (--limit 0 lists all)");
}
