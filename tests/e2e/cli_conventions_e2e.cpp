// Issue "a CLI that fits its users' habits": the stack given the same way to every command.
#include <doctest/doctest.h>

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
