// A CSV input read in parts on several threads: the parts start where the parser starts
// rows, so what they give (rows, line numbers, rejects with their raw text, skipped
// rows, counts) is what one reader of the whole file gives.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <set>

#include "bindings/stack_loader.hpp"
#include "connectors/connector.hpp"
#include "connectors/csv_rows.hpp"
#include "engine/mapping/mapper.hpp"
#include "engine/script/script_pool.hpp"
#include "engine/util/result.hpp"
#include "tests/support.hpp"

using namespace seam;
using seam::test::TempDir;
using seam::test::write_file;

namespace {

ConnectorSpec csv_spec(const std::string& path, std::map<std::string, std::string> options = {}) {
  return ConnectorSpec{"csv", path, std::move(options), {"stack.lua", 3}};
}

// One row as a reader sees it, its line moved by `offset` (the lines of the parts before).
std::string describe_row(Connector& c, uint64_t offset, const std::vector<int>& handles) {
  std::string s = std::to_string(c.line() + offset) + " ";
  if (!c.skip_reason().empty()) s += "skipped: " + c.skip_reason();
  else if (!c.malformed().empty()) s += "rejected: " + c.malformed();
  else {
    s += "ok";
    for (int h : handles) {
      auto v = c.get(h);
      s += v ? " <" + std::string(*v) + ">" : std::string(" (none)");
    }
  }
  return s + " [" + std::string(c.raw()) + "]";
}

std::vector<int> resolve_all(Connector& c, const std::vector<std::string>& columns) {
  std::vector<int> handles;
  for (const auto& col : columns) {
    std::string why;
    auto h = c.resolve(col, why);
    REQUIRE_MESSAGE(h, why);
    handles.push_back(*h);
  }
  return handles;
}

std::vector<std::string> read_whole(const ConnectorSpec& spec, const std::vector<std::string>& columns) {
  auto c = open_connector(spec, "shop");
  auto handles = resolve_all(*c, columns);
  std::vector<std::string> rows;
  while (c->next()) rows.push_back(describe_row(*c, 0, handles));
  return rows;
}

// The rows of the parts one after the other, lines as map_parts adds them up; `parts`
// is set to how many there were (0: the input was not split).
std::vector<std::string> read_split(const ConnectorSpec& spec, const std::vector<std::string>& columns, size_t wanted,
                                    size_t& parts) {
  auto whole = open_connector(spec, "shop");
  auto split = whole->split(wanted, 1);
  parts = split.size();
  std::vector<std::string> rows;
  uint64_t offset = 0;
  for (auto& part : split) {
    auto handles = resolve_all(*part, columns);
    while (part->next()) rows.push_back(describe_row(*part, offset, handles));
    offset += part->lines_seen();
    CHECK(part->digest().empty());  // the whole input's digest is the input's
  }
  return rows;
}

// A report-style export: title rows above the header, a total row declared skipped,
// quoted newlines and quotes, CRLF and CR line ends, blank lines, and broken rows of every
// kind the parser recovers from (wrong field count, text after a closing quote, a quote
// opened on one line and closed on another, and a quote nothing closes, last).
std::string report_text() {
  std::string text = "\xEF\xBB\xBF" "Storefront export\r\nGenerated 2026-03-01,by,\"the \"\"shop\"\"\"\r\n\r\n";
  text += "id,amount,note\r\n";
  for (int b = 1; b <= 6; ++b) {
    std::string n = std::to_string(b);
    text += "S" + n + "1,1.0" + n + ",plain\n";
    text += "S" + n + "2,2.0" + n + ",\"two\nlines, one row\"\r\n";
    text += "S" + n + "3,3.0" + n + ",\"say \"\"hi\"\"\"\n";
    text += "\n";
    text += "S" + n + "4,4.0" + n + "\n";                           // two fields: rejected
    text += "S" + n + "5,5.0" + n + ",a\"b \"quote\" inside\r";       // quotes inside an unquoted field, CR
    text += "Total " + n + ",15.0" + n + "\n";                         // skip_rows, with two fields
    text += "S" + n + "6,\"6.0" + n + "\"x,junk \"\"\n";              // text after a closing quote
    text += "S" + n + "7,7.0" + n + ",\"open\nstill\"x\n";            // a quote closing on a later line, then text
    text += "S" + n + "8,8.0" + n + ",\"\"\r\n\r\n";
  }
  text += "S99,9.99,\"never closed\nS100,10.00,after it\nS101,10.01,last";
  return text;
}

}  // namespace

TEST_CASE("csv split: row starts follow the parser's quotes, not the bytes") {
  auto starts = [](std::string_view text, std::vector<size_t> targets) {
    return csv_row_starts(text, 0, ',', targets);
  };
  // A newline inside quotes is no row start; the one after the closing quote is.
  CHECK(starts("a,\"x\ny\"\nb\n", {1, 4, 8}) == std::vector<size_t>{8, 8, 8});
  // A quote inside an unquoted field opens nothing: its newline ends the row.
  CHECK(starts("a,b\"x\ny\"\nc\n", {1, 7}) == std::vector<size_t>{6, 9});
  // A CRLF ends one row, never two: no row starts between its CR and LF.
  CHECK(starts("a\r\nb\rc\n", {2, 3, 4}) == std::vector<size_t>{3, 3, 5});
  // Text after a closing quote: the row ends with the line, the quote after it ignored.
  CHECK(starts("\"a\"x,\"b\nc\n", {1}) == std::vector<size_t>{8});
  // A quote nothing closes: the parser reads on after the line it opens on.
  CHECK(starts("a,\"b\nc\nd", {1, 6}) == std::vector<size_t>{5, 7});
  // No row starts after the target: the end.
  CHECK(starts("a,\"b\nc\"", {1}) == std::vector<size_t>{7});
}

TEST_CASE("csv split: a report-style export read in parts gives the rows, lines, rejects and skips of one reader") {
  TempDir dir;
  std::string path = dir / "shop.csv";
  write_file(path, report_text());
  ConnectorSpec spec = csv_spec(path, {{"header_contains", "[\"id\", \"amount\"]"},
                                       {"skip_rows", "[{\"column\": \"id\", \"starts_with\": \"Total\"}]"}});
  const std::vector<std::string> columns{"id", "amount", "note"};
  std::vector<std::string> whole = read_whole(spec, columns);
  REQUIRE(whole.size() == 2 + 6 * 9 + 3);  // line 3 is blank: not a row
  CHECK(whole[0] == "1 skipped: above the header (line 4) [Storefront export]");
  CHECK(whole[1] == "2 skipped: above the header (line 4) [Generated 2026-03-01,by,\"the \"\"shop\"\"\"]");
  CHECK(whole[2] == "5 ok <S11> <1.01> <plain> [S11,1.01,plain]");
  CHECK(whole[3] == "6 ok <S12> <2.01> <two\nlines, one row> [S12,2.01,\"two\nlines, one row\"]");
  CHECK(whole[4] == "8 ok <S13> <3.01> <say \"hi\"> [S13,3.01,\"say \"\"hi\"\"\"]");
  CHECK(whole[5] == "10 rejected: expected 3 fields as in the header, found 2 [S14,4.01]");
  CHECK(whole[6] == "11 ok <S15> <5.01> <a\"b \"quote\" inside> [S15,5.01,a\"b \"quote\" inside]");
  CHECK(whole[7] == "12 skipped: skip_rows: column 'id' starts with 'Total' [Total 1,15.01]");
  CHECK(whole[8] == "13 rejected: unexpected character 'x' after a closing quote in field 2 [S16,\"6.01\"x,junk \"\"]");
  CHECK(whole[9] == "14 rejected: unexpected character 'x' after a closing quote in field 3 (the quote opened on "
                     "line 14 closes on line 15; expected a delimiter or the end of the line after it) "
                     "[S17,7.01,\"open\nstill\"x]");
  CHECK(whole[10] == "16 ok <S18> <8.01> <> [S18,8.01,\"\"]");
  CHECK(whole[11] == "18 ok <S21> <1.02> <plain> [S21,1.02,plain]");
  CHECK(whole[whole.size() - 3] == "83 rejected: unterminated quoted field (opened on line 83) [S99,9.99,\"never closed]");
  CHECK(whole[whole.size() - 2] == "84 ok <S100> <10.00> <after it> [S100,10.00,after it]");
  CHECK(whole.back() == "85 ok <S101> <10.01> <last> [S101,10.01,last]");

  // Every count of parts puts boundaries somewhere else: next to broken rows, after a CR,
  // right after the header.
  for (size_t wanted = 2; wanted <= 12; ++wanted) {
    CAPTURE(wanted);
    size_t parts = 0;
    std::vector<std::string> split = read_split(spec, columns, wanted, parts);
    CHECK(parts == wanted);
    CHECK(split == whole);
  }
}

TEST_CASE("csv split: random texts of quotes, delimiters and line ends read in parts as read whole") {
  TempDir dir;
  std::string path = dir / "r.csv";
  std::mt19937 random(20260301);  // fixed: the same texts every run
  const char alphabet[] = {'a', 'b', ' ', ',', ',', ';', '"', '"', '"', '\n', '\n', '\r'};
  size_t compared = 0, refused = 0;
  for (int round = 0; round < 300; ++round) {
    CAPTURE(round);
    const char delimiter = round % 3 == 2 ? ';' : ',';
    std::string text = delimiter == ';' ? "h1;h2;h3\n" : "h1,h2,h3\n";
    const size_t size = 20 + random() % 300;
    while (text.size() < size) text += alphabet[random() % sizeof alphabet];
    write_file(path, text);
    ConnectorSpec spec = csv_spec(path, {{"allow_empty", "true"}, {"delimiter", std::string(1, delimiter)}});
    const std::vector<std::string> columns{"h1", "h2", "h3"};
    std::vector<std::string> whole = read_whole(spec, columns);
    for (size_t wanted = 2; wanted <= 5; ++wanted) {
      CAPTURE(wanted);
      CAPTURE(text);
      size_t parts = 0;
      std::vector<std::string> split = read_split(spec, columns, wanted, parts);
      if (parts == 0) {
        ++refused;  // no row starts after the first split point (one long quoted field)
        continue;
      }
      ++compared;
      CHECK(split == whole);
    }
  }
  CHECK(compared > 1000);  // of 1200: the texts are not all one quoted field
  CHECK(compared + refused == 1200);
}

TEST_CASE("csv split: an undefined byte of the declared encoding is reported on the file's line in any part") {
  TempDir dir;
  std::string path = dir / "w.csv";
  std::string text = "name,amount\n";
  for (int i = 1; i <= 30; ++i)
    text += (i % 10 == 0 ? "Caf\x81 " : "Caf\xE9 ") + std::to_string(i) + "," + std::to_string(i) + ".00\n";
  write_file(path, text);
  ConnectorSpec spec = csv_spec(path, {{"encoding", "windows-1252"}});
  const std::vector<std::string> columns{"name", "amount"};
  std::vector<std::string> whole = read_whole(spec, columns);
  REQUIRE(whole.size() == 30);
  CHECK(whole[0] == "2 ok <Caf\xC3\xA9 1> <1.00> [Caf\xC3\xA9 1,1.00]");
  CHECK(whole[29] == "31 rejected: byte 0x81 on line 31 is not a character in windows-1252 (the encoding declared at "
                     "stack.lua:3); it reads as U+FFFD in the raw text. Fix the export or declare its real encoding "
                     "[Caf\xEF\xBF\xBD 30,30.00]");
  for (size_t wanted : {2, 3, 4}) {
    size_t parts = 0;
    CHECK(read_split(spec, columns, wanted, parts) == whole);
    CHECK(parts == wanted);
  }
}

TEST_CASE("csv split: what cannot be split is read whole") {
  TempDir dir;
  std::string path = dir / "shop.csv";
  // One quoted field holds every line after the first row: no row starts where a part
  // would begin, so there is one part, and no split.
  std::string text = "id,note\nS1,\"";
  for (int i = 0; i < 200; ++i) text += "line " + std::to_string(i) + ", still the note\n";
  text += "\"\n";
  write_file(path, text);
  CHECK(open_connector(csv_spec(path), "shop")->split(4, 1).empty());
  CHECK(read_whole(csv_spec(path), {"id"}).size() == 1);

  write_file(path, "id,note\nS1,a\nS2,b\nS3,c\nS4,d\n");
  // Too small for parts of the size asked.
  CHECK(open_connector(csv_spec(path), "shop")->split(2, 1 << 20).empty());
  // Already reading: the parts would read again the rows given out.
  auto reading = open_connector(csv_spec(path), "shop");
  REQUIRE(reading->next());
  CHECK(reading->split(2, 1).empty());
  // A part is not split again.
  auto parts = open_connector(csv_spec(path), "shop")->split(2, 1);
  REQUIRE(parts.size() == 2);
  CHECK(parts[0]->split(2, 1).empty());
}

namespace {

SystemSpec shop_system(const std::string& path, std::map<std::string, std::string> options = {}) {
  SystemSpec s;
  s.name = "shop";
  s.source = csv_spec(path, std::move(options));
  FieldSpec amount;
  amount.name = "amount";
  amount.kind = FieldKind::Money;
  amount.column = "amount";
  amount.currency = "USD";
  FieldSpec id;
  id.name = "id";
  id.kind = FieldKind::Column;
  id.column = "id";
  id.required = true;
  s.fields = {amount, id};
  s.id_field = "id";
  return s;
}

std::vector<std::string> describe(const MappedInput& in) {
  std::vector<std::string> out;
  for (size_t r = 0; r < in.records.size(); ++r) {
    std::string row = std::to_string(in.records.line(r)) + " " + std::string(in.records.id(r));
    for (size_t f = 0; f < in.records.width(); ++f) row += " " + display(in.records.get(r, f));
    out.push_back(row);
  }
  for (const auto& rej : in.rejects)
    out.push_back("reject " + rej.path + ":" + std::to_string(rej.line) + ": " + rej.reason + " [" + rej.raw + "]");
  out.push_back("read " + std::to_string(in.stats.read) + " = accepted " + std::to_string(in.stats.accepted) +
                " + rejected " + std::to_string(in.stats.rejected) + " + skipped " + std::to_string(in.stats.skipped) +
                " (by the source " + std::to_string(in.stats.skipped_by_source) + "), digest " + in.stats.digest);
  return out;
}

}  // namespace

TEST_CASE("csv split: a CSV system mapped on four threads gives the records, rejects and counts of one") {
  TempDir dir;
  std::string path = dir / "shop.csv";
  write_file(path, report_text());
  SystemSpec sys = shop_system(path, {{"header_contains", "[\"id\", \"amount\"]"},
                                      {"skip_rows", "[{\"column\": \"id\", \"starts_with\": \"Total\"}]"}});
  MappedInput one = map_system(sys, nullptr, MapOptions{1});
  // 59 rows: 2 title rows and 6 totals skipped, 3 broken rows in each of 6 blocks and the
  // unclosed quote rejected.
  CHECK(one.stats.read == 59);
  CHECK(one.stats.accepted == 32);
  CHECK(one.stats.rejected == 19);
  CHECK(one.stats.skipped == 8);
  CHECK(one.stats.skipped_by_source == 8);
  CHECK(one.stats.digest.size() == 64);
  REQUIRE(one.records.size() == 32);
  CHECK(one.records.line(0) == 5);
  CHECK(one.records.line(31) == 85);
  REQUIRE(one.rejects.size() == 19);
  CHECK(one.rejects[0].line == 10);
  CHECK(one.rejects[18].line == 83);
  CHECK(one.rejects[18].raw == "S99,9.99,\"never closed");
  for (size_t threads : {2, 3, 4}) {
    CAPTURE(threads);
    CHECK(describe(map_system(sys, nullptr, MapOptions{threads, 1})) == describe(one));
  }
}

TEST_CASE("csv split: an input of only skipped rows is as empty read in parts as read whole") {
  TempDir dir;
  std::string path = dir / "shop.csv";
  std::string text = "Storefront export\nid,amount\n";
  for (int i = 0; i < 40; ++i) text += "Total " + std::to_string(i) + ",1.00\n\n";
  write_file(path, text);
  SystemSpec sys = shop_system(path, {{"header_row", "2"},
                                      {"skip_rows", "[{\"column\": \"id\", \"starts_with\": \"Total\"}]"}});
  REQUIRE(open_connector(sys.source, sys.name)->split(4, 1).size() == 4);
  auto error = [&](size_t threads) {
    try {
      map_system(sys, nullptr, MapOptions{threads, 1});
    } catch (const UserError& e) {
      return test::with_dir_as_DIR(e.what(), dir.path());
    }
    return std::string("(mapped)");
  };
  CHECK(error(1) == error(4));
  CHECK(error(1).find("a header but no rows") != std::string::npos);
  sys.source.options["allow_empty"] = "true";
  CHECK(describe(map_system(sys, nullptr, MapOptions{4, 1})) == describe(map_system(sys, nullptr, MapOptions{1})));
  CHECK(map_system(sys, nullptr, MapOptions{4, 1}).stats.skipped_by_source == 41);
}

namespace {

const char* kLuaStack = R"(stack "csv cores"

system "shop" {
  source = csv { path = "shop.csv" },
  id = "id",
  fields = {
    id = "id",
    ref = function(row)
      local n = tonumber(row["n"])
      if n % 13 == 0 then error("no ref for row " .. n) end
      return "R" .. row["n"] .. "/" .. row["note"]:upper()
    end,
    amount = money { column = "amount", currency = "USD" },
  },
}

system "erp" {
  source = csv { path = "erp.csv" },
  id = "id",
  fields = { id = "id", ref = "ref", amount = money { column = "amount", currency = "USD" } },
}

reconcile "r" {
  left = "shop", right = "erp",
  match = { left = "ref", right = "ref" },
  rules = { exists_in { "right" } },
}
)";

}  // namespace

TEST_CASE("csv split: a CSV system mapped by a Lua function on four states gives the records and rejects of one") {
  TempDir dir;
  write_file(dir / "stack.lua", kLuaStack);
  std::string shop = "id,n,amount,note\n";
  for (int n = 1; n <= 300; ++n) {
    std::string note = n % 4 == 0 ? "\"a \"\"quoted\"\"\nnote\"" : "plain";
    shop += "S" + std::to_string(n) + "," + std::to_string(n) + "," + std::to_string(n) + ".00," + note +
            (n % 3 == 0 ? "\r\n" : "\n");
    if (n % 50 == 0) shop += "S-bad," + std::to_string(n) + "\n";  // one field short
  }
  write_file(dir / "shop.csv", shop);
  write_file(dir / "erp.csv", "id,ref,amount\nE1,R1,1.00\n");
  LoadedStack stack = load_stack(dir.path());
  const SystemSpec& sys = stack.spec.systems.at(0);
  MappedInput one = map_system(sys, stack.host.get(), MapOptions{1});
  const std::vector<std::string> expected = describe(one);
  CHECK(one.stats.read == 306);
  CHECK(one.stats.accepted == 277);  // 23 rows raise in the function, 6 are a field short
  REQUIRE(one.records.size() == 277);
  CHECK(expected[3] == "5 S4 4.00 USD S4 R4/A \"QUOTED\"\nNOTE");  // fields in name order: amount, id, ref
  REQUIRE(one.rejects.size() == 29);
  CHECK(one.rejects[0].reason == "mapping function for field 'ref' failed: " + dir.path() +
                                     "/stack.lua:10: no ref for row 13");
  CHECK(one.rejects[0].line == 17);
  for (size_t threads : {2, 4}) {
    CAPTURE(threads);
    ScriptPool pool(stack.host.get(), threads);
    REQUIRE(pool.capacity() == threads);
    REQUIRE(open_connector(sys.source, sys.name)->split(threads, 1).size() == threads);
    CHECK(describe(map_system(sys, stack.host.get(), MapOptions{threads, 1, &pool})) == expected);
  }
}

namespace {

// A host whose calls wait, on their first call, until `expected` hosts are calling at
// once: a CSV input mapped on one state would keep the others from ever arriving.
class MeetingHost final : public ScriptHost {
 public:
  struct Meeting {
    std::mutex mutex;
    std::condition_variable all_here;
    std::set<const ScriptHost*> arrived;
    size_t expected = 0;
    std::atomic<uint64_t> calls{0};
  };
  explicit MeetingHost(Meeting& m) : meeting_(m) {}
  Value map_field(int, RowAccess& row, StringArena& arena) override {
    ++meeting_.calls;
    if (!met_) {
      std::unique_lock lock(meeting_.mutex);
      meeting_.arrived.insert(this);
      meeting_.all_here.notify_all();
      // A bound, so a failure stops the test rather than hanging it.
      meeting_.all_here.wait_for(lock, std::chrono::seconds(60),
                                 [&] { return meeting_.arrived.size() >= meeting_.expected; });
      met_ = true;
    }
    return Value::of_text(arena.store("R" + std::string(row.column("id").value_or("?"))));
  }
  Verdict run_rule(int, const GroupView&) override { return {}; }
  std::unique_ptr<ScriptHost> replicate() const override { return std::make_unique<MeetingHost>(meeting_); }

 private:
  Meeting& meeting_;
  bool met_ = false;
};

}  // namespace

TEST_CASE("csv split: the parts of a CSV input with a Lua mapping are mapped on several states at once") {
  TempDir dir;
  std::string path = dir / "shop.csv";
  std::string text = "id,amount\n";
  for (int n = 1; n <= 400; ++n) text += "S" + std::to_string(n) + "," + std::to_string(n) + ".00\n";
  write_file(path, text);
  SystemSpec sys = shop_system(path);
  FieldSpec ref;
  ref.name = "ref";
  ref.kind = FieldKind::Lua;
  ref.lua_fn = 1;
  sys.fields.push_back(ref);
  MeetingHost::Meeting meeting;
  meeting.expected = 4;
  MeetingHost first(meeting);
  ScriptPool pool(&first, 4);
  REQUIRE(pool.capacity() == 4);
  MappedInput in = map_system(sys, &first, MapOptions{4, 1, &pool});
  CHECK(meeting.arrived.size() == 4);
  CHECK(meeting.calls == 400);
  REQUIRE(in.records.size() == 400);
  CHECK(in.records.line(399) == 401);
  CHECK(display(in.records.get(399, 2)) == "RS400");
}
