// Connectors never lose a row silently: every byte of an input ends in an accepted row, a
// rejected row (line, reason, raw text) or an error naming file and line. Each case here
// came from an adversarial pass that found rows vanishing inside that invariant.
#include <doctest/doctest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <filesystem>

#include "connectors/connector.hpp"
#include "engine/audit/db.hpp"
#include "engine/mapping/mapper.hpp"
#include "engine/util/result.hpp"
#include "tests/support.hpp"

using namespace seam;
using seam::test::TempDir;
using seam::test::with_dir_as_DIR;
using seam::test::write_file;

namespace {

// Every row a connector gives for `text`, as "LINE ok CELL|CELL" or "LINE rejected: REASON
// [RAW]", then "read R = accepted A + rejected J".
std::vector<std::string> outcome(const std::string& kind, const std::string& text,
                                 const std::vector<std::string>& columns,
                                 std::map<std::string, std::string> options = {}) {
  TempDir dir;
  std::string path = dir / ("input." + kind);
  write_file(path, text);
  auto c = open_connector({kind, path, options, {"stack.lua", 3}}, "sys");
  std::vector<int> handles;
  for (const auto& col : columns) {
    std::string why;
    auto h = c->resolve(col, why);
    REQUIRE_MESSAGE(h.has_value(), why);
    handles.push_back(*h);
  }
  std::vector<std::string> out;
  uint64_t read = 0, accepted = 0, rejected = 0;
  while (c->next()) {
    ++read;
    std::string row = std::to_string(c->line());
    if (!c->malformed().empty()) {
      ++rejected;
      out.push_back(row + " rejected: " + c->malformed() + " [" + std::string(c->raw()) + "]");
      continue;
    }
    ++accepted;
    row += " ok";
    for (size_t i = 0; i < handles.size(); ++i) {
      auto v = c->get(handles[i]);
      row += (i ? "|" : " ") + (v ? std::string(*v) : "(missing)");
    }
    out.push_back(row);
  }
  out.push_back("read " + std::to_string(read) + " = accepted " + std::to_string(accepted) + " + rejected " +
                std::to_string(rejected));
  return out;
}

// The message of the UserError that reading `text` to its end throws, the scratch folder as DIR.
std::string error_reading(const std::string& kind, const std::string& text, std::map<std::string, std::string> options = {}) {
  TempDir dir;
  write_file(dir / ("input." + kind), text);
  try {
    auto c = open_connector({kind, dir / ("input." + kind), options, {"stack.lua", 3}}, "sys");
    while (c->next()) {
    }
  } catch (const UserError& e) {
    return with_dir_as_DIR(e.what(), dir.path());
  }
  return "(no error)";
}

std::string records(int from, int to, const std::string& sep = ",\n") {
  std::string out;
  for (int i = from; i <= to; ++i) out += (i > from ? sep : "") + "  {\"id\": \"R" + std::to_string(i) + "\"}";
  return out;
}

SystemSpec payments(const std::string& kind, const std::string& path, std::map<std::string, std::string> options = {}) {
  SystemSpec s;
  s.name = "psp";
  s.source = ConnectorSpec{kind, path, std::move(options), {"stack.lua", 5}};
  FieldSpec amount;
  amount.name = "amount";
  amount.kind = FieldKind::Money;
  amount.column = "amount";
  amount.currency = "USD";
  FieldSpec id;
  id.name = "id";
  id.column = "id";
  id.required = true;
  s.fields = {amount, id};
  s.id_field = "id";
  return s;
}

std::string counts(const MappedInput& in) {
  return "read " + std::to_string(in.stats.read) + " = accepted " + std::to_string(in.stats.accepted) +
         " + rejected " + std::to_string(in.stats.rejected) + " + skipped " + std::to_string(in.stats.skipped);
}

}  // namespace

// ---- JSON: the structure around the records -------------------------------------------

// (No square brackets in test names: CMake reads them as list brackets and ctest loses the tests.)
TEST_CASE("json robustness: a stray closing bracket among 15 records is rejected alone and all 15 are read") {
  std::string text = "[\n" + records(1, 1) + ",\n]\n" + records(2, 15) + "\n]\n";
  auto rows = outcome("json", text, {"id"});
  REQUIRE(rows.size() == 17);
  CHECK(rows[0] == "2 ok R1");
  CHECK(rows[1] == "3 rejected: stray ']' in the records array opened on line 1: a ']' closing it would be followed "
                   "by only whitespace up to the end of the file (the file ends in a ']' on line 18, taken as the end "
                   "of the array), found '{' on line 4; reading goes on after it []]");
  CHECK(rows[2] == "4 ok R2");
  CHECK(rows[15] == "17 ok R15");
  CHECK(rows[16] == "read 16 = accepted 15 + rejected 1");

  // The bracket right after a record, the comma after it: the same.
  rows = outcome("json", "[{\"id\": \"A\"}], {\"id\": \"B\"}]", {"id"});
  CHECK(rows == std::vector<std::string>{
                    "1 ok A",
                    "1 rejected: stray ']' in the records array opened on line 1: a ']' closing it would be followed "
                    "by only whitespace up to the end of the file (the file ends in a ']' on line 1, taken as the end "
                    "of the array), found ',' on line 1; reading goes on after it [],]",
                    "1 ok B", "read 3 = accepted 2 + rejected 1"});

  // Under a records path: the bracket is stray because the object holding the array
  // cannot go on with a record.
  rows = outcome("json", "{\"data\": [\n" + records(1, 2) + ",\n]\n" + records(3, 4) + "\n], \"n\": 4}\n", {"id"},
                 {{"records", "data"}});
  CHECK(rows == std::vector<std::string>{
                    "2 ok R1", "3 ok R2",
                    "4 rejected: stray ']' in the records array opened on line 1: a ']' closing it would be followed "
                    "by ',' or the '}' that closes the object holding 'data', found '{' on line 5; reading goes on "
                    "after it []]",
                    "5 ok R3", "6 ok R4", "read 5 = accepted 4 + rejected 1"});
}

TEST_CASE("json robustness: a stray closing bracket counts through mapping as read = accepted + rejected") {
  TempDir dir;
  std::string path = dir / "psp.json";
  std::string text = "[\n";
  for (int i = 1; i <= 15; ++i)
    text += "{\"id\": \"P" + std::to_string(i) + "\", \"amount\": \"" + std::to_string(i) + ".00\"}" +
            (i == 1 ? "]\n,\n" : i < 15 ? ",\n" : "\n");
  write_file(path, text + "]\n");
  MappedInput in = map_system(payments("json", path), nullptr);
  CHECK(counts(in) == "read 16 = accepted 15 + rejected 1 + skipped 0");
  REQUIRE(in.rejects.size() == 1);
  CHECK(in.rejects[0].line == 2);
  CHECK(in.rejects[0].raw == "]\n,");
}

TEST_CASE("json robustness: a stray closing brace is one rejected row, never a loop, and the records after it are read") {
  auto rows = outcome("json", "[\n{\"id\": \"A\"},\n}\n{\"id\": \"B\"}\n]\n", {"id"});
  CHECK(rows == std::vector<std::string>{
                    "2 ok A",
                    "3 rejected: stray '}' in the records array opened on line 1 (expected a record, ',' between "
                    "records or the ']' that closes the array) [}]",
                    "4 ok B", "read 3 = accepted 2 + rejected 1"});
  // Right after a record, before its comma.
  rows = outcome("json", "[{\"id\": \"A\"}}, {\"id\": \"B\"}]", {"id"});
  CHECK(rows.size() == 4);
  CHECK(rows[1].find("rejected: stray '}'") != std::string::npos);
  CHECK(rows[1].substr(rows[1].size() - 4) == "[},]");
  CHECK(rows[2] == "1 ok B");
  // A million of them: one row, so memory stays bounded by the input.
  std::string many(1000000, '}');
  rows = outcome("json", "[{\"id\": \"A\"},\n" + many + "\n{\"id\": \"B\"}]", {"id"});
  REQUIRE(rows.size() == 4);
  CHECK(rows[1].size() == std::string("2 rejected: stray '}' in the records array opened on line 1 (expected a "
                                      "record, ',' between records or the ']' that closes the array) []")
                                  .size() +
                              many.size());
  CHECK(rows[2] == "3 ok B");
  CHECK(rows[3] == "read 3 = accepted 2 + rejected 1");
  // Where no record follows, the end of the file is an error, not a silent end.
  CHECK(error_reading("json", "[{\"id\": \"A\"}\n}") ==
        "DIR/input.json (system 'sys') ends at line 2 inside its records array (opened on line 1), after 1 record: "
        "a truncated export? (expected ']')");
}

TEST_CASE("json robustness: a record after the closing bracket is rejected, not ignored") {
  auto rows = outcome("json", "[\n{\"id\": \"A\"}\n]\n{\"id\": \"B\"}\n{\"id\": \"C\"}\n", {"id"});
  CHECK(rows == std::vector<std::string>{
                    "2 ok A",
                    "4 rejected: content after the end of the JSON document (the records array opened on line 1 "
                    "closes on line 3; expected only whitespace up to the end of the file, found '{' on line 4); it is "
                    "rejected whole as this one row [{\"id\": \"B\"}\n{\"id\": \"C\"}]",
                    "read 2 = accepted 1 + rejected 1"});
}

TEST_CASE("json robustness: trailing content after the document is rejected whole") {
  auto rows = outcome("json", "[{\"id\": \"A\"}]\n\ngarbage\x01\n", {"id"});
  CHECK(rows == std::vector<std::string>{
                    "1 ok A",
                    "3 rejected: content after the end of the JSON document (the records array opened on line 1 "
                    "closes on line 1; expected only whitespace up to the end of the file, found 'g' on line 3); it is "
                    "rejected whole as this one row [garbage\x01]",
                    "read 2 = accepted 1 + rejected 1"});
  const std::string nuls(2, '\0');
  rows = outcome("json", "{\"records\": [{\"id\": \"A\"}]}" + nuls, {"id"}, {{"records", "records"}});
  CHECK(rows == std::vector<std::string>{
                    "1 ok A",
                    "1 rejected: content after the end of the JSON document (the records array opened on line 1 closes "
                    "on line 1; expected only whitespace up to the end of the file, found byte 0x00 on line 1); it is "
                    "rejected whole as this one row [" + nuls + "]",
                    "read 2 = accepted 1 + rejected 1"});
  // A second document after the first.
  rows = outcome("json", "{\"records\": [{\"id\": \"A\"}]}\n{\"records\": [{\"id\": \"B\"}]}\n", {"id"},
                 {{"records", "records"}});
  REQUIRE(rows.size() == 3);
  CHECK(rows[1].find("2 rejected: content after the end of the JSON document") == 0);
  CHECK(rows[1].find("[{\"records\": [{\"id\": \"B\"}]}]") != std::string::npos);
}

TEST_CASE("json robustness: a records key named twice is an error naming both lines") {
  std::string text = "{\"records\": [{\"id\": \"A\"}],\n \"records\": [{\"id\": \"B\"}]}\n";
  CHECK(error_reading("json", text, {{"records", "records"}}) ==
        "DIR/input.json (system 'sys'): key 'records' appears twice in the top-level object, on line 1 and again on "
        "line 2: which one holds the records is ambiguous (JSON readers disagree: some take the first, some the "
        "last); keep one of them");
  text = "{\"data\": {\"rows\": [{\"id\": \"A\"}], \"n\": 1,\n\"rows\": []}}";
  CHECK(error_reading("json", text, {{"records", "data.rows"}}) ==
        "DIR/input.json (system 'sys'): key 'rows' appears twice in 'data', on line 1 and again on line 2: which one "
        "holds the records is ambiguous (JSON readers disagree: some take the first, some the last); keep one of "
        "them");
  // Other keys after the array are fine.
  auto rows = outcome("json", "{\"records\": [{\"id\": \"A\"}], \"meta\": {\"records\": [1]}}", {"id"},
                      {{"records", "records"}});
  CHECK(rows == std::vector<std::string>{"1 ok A", "read 1 = accepted 1 + rejected 0"});
}

TEST_CASE("json robustness: a file truncated after the array, between records or mid-record") {
  CHECK(error_reading("json", "{\"records\": [{\"id\": \"A\"}]\n", {{"records", "records"}}) ==
        "DIR/input.json (system 'sys') ends at line 2 before its JSON document does: a truncated export? (the records "
        "array opened on line 1 closes on line 1; expected ',' or the '}' that closes the object holding 'records')");
  CHECK(error_reading("json", "{\"records\": [{\"id\": \"A\"}], \"meta\": {\"n\"", {{"records", "records"}}) ==
        "DIR/input.json (system 'sys') ends at line 1 before its JSON document does: a truncated export? (the records "
        "array opened on line 1 closes on line 1; expected the end of a value in the object holding 'records')");
  CHECK(error_reading("json", "[\n{\"id\": \"A\"},\n") ==
        "DIR/input.json (system 'sys') ends at line 3 inside its records array (opened on line 1), after 1 record: "
        "a truncated export? (expected ']')");
  // Mid-record: the rest is one rejected row holding every byte left.
  auto rows = outcome("json", "[\n{\"id\": \"A\"},\n{\"id\": \"B\", \"amo", {"id"});
  CHECK(rows == std::vector<std::string>{
                    "2 ok A",
                    "3 rejected: a record is not closed (unbalanced brackets or an unterminated string); the rest of "
                    "the file is quarantined as this one row [{\"id\": \"B\", \"amo]",
                    "read 2 = accepted 1 + rejected 1"});
  // A stray ']' before the end leaves a note in the truncation error.
  CHECK(error_reading("json", "[{\"id\": \"A\"}],\n{\"id\": \"B\"}\n") ==
        "DIR/input.json (system 'sys') ends at line 3 inside its records array (opened on line 1), after 2 records: "
        "a truncated export? (expected ']') (the ']' on line 1 does not close it: a ']' closing it would be followed "
        "by only whitespace up to the end of the file, found ',' on line 1)");
}

TEST_CASE("json robustness: two records without a comma after stray characters say so") {
  auto rows = outcome("json", "[{\"id\": \"A\"}\n}\n{\"id\": \"B\"}]", {"id"});
  CHECK(rows == std::vector<std::string>{
                    "1 ok A",
                    "2 rejected: stray '}' in the records array opened on line 1 (expected a record, ',' between "
                    "records or the ']' that closes the array) [}]",
                    "3 rejected: expected ',' between records (this one follows the stray characters on line 2) "
                    "[{\"id\": \"B\"}]",
                    "read 3 = accepted 1 + rejected 2"});
}

TEST_CASE("json robustness: a UTF-8 BOM and CR line ends count lines as CSV does") {
  auto rows = outcome("json", "\xEF\xBB\xBF[\r{\"id\": \"A\"},\r\n{\"id\": \"B\"},\r\r{\"id\": \"C\"}]", {"id"});
  CHECK(rows == std::vector<std::string>{"2 ok A", "3 ok B", "5 ok C", "read 3 = accepted 3 + rejected 0"});
}

// ---- CSV: line ends ---------------------------------------------------------------------

TEST_CASE("csv robustness: CR-only line ends, 19 rows, each row on its own physical line") {
  std::string text = "id,v\r";
  for (int i = 1; i <= 19; ++i) text += i == 7 ? "7,\"x\"y\r" : i == 12 ? "12,l,extra\r" : std::to_string(i) + ",v" + std::to_string(i) + "\r";
  auto rows = outcome("csv", text, {"id", "v"});
  REQUIRE(rows.size() == 20);
  CHECK(rows[0] == "2 ok 1|v1");
  CHECK(rows[6] == "8 rejected: unexpected character 'y' after a closing quote in field 2 [7,\"x\"y]");
  CHECK(rows[7] == "9 ok 8|v8");
  CHECK(rows[11] == "13 rejected: expected 2 fields as in the header, found 3 [12,l,extra]");
  CHECK(rows[18] == "20 ok 19|v19");
  CHECK(rows[19] == "read 19 = accepted 17 + rejected 2");
}

TEST_CASE("csv robustness: one bare CR in an LF file, later rejects keep their physical lines") {
  std::string text = "id,v\n1,a\n2,\"b\"x\r3,c\n4,\"d\"y\n5,e\n6,f,g\n";
  auto rows = outcome("csv", text, {"id", "v"});
  CHECK(rows == std::vector<std::string>{
                    "2 ok 1|a", "3 rejected: unexpected character 'x' after a closing quote in field 2 [2,\"b\"x]",
                    "4 ok 3|c", "5 rejected: unexpected character 'y' after a closing quote in field 2 [4,\"d\"y]",
                    "6 ok 5|e", "7 rejected: expected 2 fields as in the header, found 3 [6,f,g]",
                    "read 6 = accepted 3 + rejected 3"});
  // A bare CR inside a quoted field is a line of its own too.
  rows = outcome("csv", "id,v\n1,\"a\rb\"\n2,c,x\n", {"id", "v"});
  CHECK(rows == std::vector<std::string>{"2 ok 1|a\rb", "4 rejected: expected 2 fields as in the header, found 3 [2,c,x]",
                                         "read 2 = accepted 1 + rejected 1"});
}

TEST_CASE("csv robustness: LF, CRLF and CR mixed in one file") {
  std::string text = "id,v\r\n1,a\n2,b\r3,c\r\n4,\"multi\r\nline\"\r5,e\r\r\n6,\"f\"z\r\n7,g";
  auto rows = outcome("csv", text, {"id", "v"});
  CHECK(rows == std::vector<std::string>{"2 ok 1|a", "3 ok 2|b", "4 ok 3|c", "5 ok 4|multi\r\nline", "7 ok 5|e",
                                         "9 rejected: unexpected character 'z' after a closing quote in field 2 [6,\"f\"z]",
                                         "10 ok 7|g", "read 7 = accepted 6 + rejected 1"});
}

TEST_CASE("csv robustness: an unterminated quote names its line and rows after it are still read") {
  for (std::string eol : {"\n", "\r\n", "\r"}) {
    CAPTURE(eol.size());
    std::string text = "id,v" + eol + "1,a" + eol + "2,\"never closed" + eol + "3,c" + eol;
    auto rows = outcome("csv", text, {"id", "v"});
    CHECK(rows == std::vector<std::string>{"2 ok 1|a", "3 rejected: unterminated quoted field (opened on line 3) [2,\"never closed]",
                                           "4 ok 3|c", "read 3 = accepted 2 + rejected 1"});
  }
  // A quote left open that a later line's quote closes: one reject holding every line it
  // consumed, saying where the quote opened and closed.
  auto rows = outcome("csv", "id,v\n1,\"open\n2,b\n3,\"c\"\n4,d\n", {"id", "v"});
  CHECK(rows == std::vector<std::string>{
                    "2 rejected: unexpected character 'c' after a closing quote in field 2 (the quote opened on line 2 "
                    "closes on line 4; expected a delimiter or the end of the line after it) [1,\"open\n2,b\n3,\"c\"]",
                    "5 ok 4|d", "read 2 = accepted 1 + rejected 1"});
}

// ---- NDJSON ------------------------------------------------------------------------------

TEST_CASE("ndjson robustness: a UTF-8 BOM at the start is skipped as CSV skips it") {
  auto rows = outcome("ndjson", "\xEF\xBB\xBF{\"id\": \"A\"}\n{\"id\": \"B\"}\n", {"id"});
  CHECK(rows == std::vector<std::string>{"1 ok A", "2 ok B", "read 2 = accepted 2 + rejected 0"});
}

TEST_CASE("ndjson robustness: CR and CRLF line ends, read whole and in parts, give the same lines") {
  auto rows = outcome("ndjson", "{\"id\": \"A\"}\r{\"id\": \"B\"}\r\n\r{\"id\": 3\r{\"id\": \"D\"}", {"id"});
  CHECK(rows == std::vector<std::string>{"1 ok A", "2 ok B",
                                         "4 rejected: invalid JSON: The JSON document has an improper structure: "
                                         "missing or superfluous commas, braces, missing keys, etc. [{\"id\": 3]",
                                         "5 ok D", "read 4 = accepted 3 + rejected 1"});

  TempDir dir;
  std::string path = dir / "psp.ndjson";
  std::string text = "\xEF\xBB\xBF";
  const char* ends[] = {"\n", "\r\n", "\r", "\r\r\n", "\n\n"};
  for (int i = 1; i <= 60; ++i)
    text += (i % 9 == 0 ? "{\"id\": \"P" + std::to_string(i) + "\"," : "{\"id\": \"P" + std::to_string(i) +
                                                                          "\", \"amount\": " + std::to_string(i) + ".25}") +
            ends[i % 5];
  write_file(path, text);
  SystemSpec sys = payments("ndjson", path);
  MappedInput whole = map_system(sys, nullptr, MapOptions{1});
  CHECK(counts(whole) == "read 60 = accepted 54 + rejected 6 + skipped 0");
  REQUIRE(whole.records.size() == 54);
  // P1 ends in CRLF (line 1), P2 in CR (2), P3 in CR CRLF (3, 4), P4 in LF LF (5, 6), P5 LF (7)...
  CHECK(whole.records.line(0) == 1);
  CHECK(whole.records.line(1) == 2);
  CHECK(whole.records.line(2) == 3);
  CHECK(whole.records.line(3) == 5);
  CHECK(whole.records.line(4) == 7);
  CHECK(whole.records.line(53) == 84);  // P60: after 11 rounds of 7 lines and 6 lines of P56 to P59
  // Every part count up to 16 puts part boundaries at many places, some right after a CR.
  for (size_t threads = 2; threads <= 16; ++threads) {
    CAPTURE(threads);
    MappedInput split = map_system(sys, nullptr, MapOptions{threads, 1});
    CHECK(open_connector(sys.source, sys.name)->split(threads, 1).size() == threads);
    REQUIRE(split.records.size() == whole.records.size());
    for (size_t r = 0; r < whole.records.size(); ++r) CHECK(split.records.line(r) == whole.records.line(r));
    REQUIRE(split.rejects.size() == whole.rejects.size());
    for (size_t r = 0; r < whole.rejects.size(); ++r) {
      CHECK(split.rejects[r].line == whole.rejects[r].line);
      CHECK(split.rejects[r].raw == whole.rejects[r].raw);
    }
    CHECK(counts(split) == counts(whole));
  }
}

// ---- Inputs must be regular files --------------------------------------------------------

TEST_CASE("inputs robustness: a FIFO, a directory, a device through a symlink are refused, never read") {
  TempDir dir;
  auto refusal = [&](const std::string& kind, const std::string& path) {
    try {
      open_connector({kind, path, {}, {"stack.lua", 4}}, "storefront");
    } catch (const UserError& e) {
      return with_dir_as_DIR(e.what(), dir.path());
    }
    return std::string("(opened)");
  };
  REQUIRE(::mkfifo((dir / "orders.csv").c_str(), 0600) == 0);
  CHECK(refusal("csv", dir / "orders.csv") ==
        "input of system 'storefront' DIR/orders.csv is a FIFO (a named pipe), not a regular file (source declared at "
        "stack.lua:4); seam reads only regular files: export the data to a file and declare that file");
  std::filesystem::create_directory(dir / "exports");
  CHECK(refusal("ndjson", dir / "exports") ==
        "input of system 'storefront' DIR/exports is a directory, not a regular file (source declared at stack.lua:4); "
        "seam reads only regular files: export the data to a file and declare that file");
  std::filesystem::create_symlink("/dev/zero", dir / "zero.json");
  CHECK(refusal("json", dir / "zero.json") ==
        "input of system 'storefront' DIR/zero.json (a symlink to /dev/zero) is a character device, not a regular file "
        "(source declared at stack.lua:4); seam reads only regular files: export the data to a file and declare that "
        "file");
  // A symlink to a regular file is read as that file.
  write_file(dir / "real.csv", "id\n1\n");
  std::filesystem::create_symlink(dir / "real.csv", dir / "link.csv");
  CHECK(refusal("csv", dir / "link.csv") == "(opened)");
  // InputBuffer checks again what it opened, and a FIFO does not block it.
  CHECK_THROWS_WITH_AS(InputBuffer(dir / "orders.csv", 0), (dir / "orders.csv" + " is a FIFO (a named pipe), not a regular file").c_str(),
                       UserError);
}

// ---- Numbers exactly as the file writes them ---------------------------------------------

TEST_CASE("json robustness: a JSON number reaches mapping as its digits, not through a double") {
  std::string record = "{\"id\": \"P1\", \"amount\": 1234567890123456.78, \"fee\": 12.50,"
                       " \"exp\": 1E2, \"neg\": -0.10, \"nested\": {\"a\": [1.10, 2.000 , {\"b\": 3.0}]}, "
                       "\"am\\u006Funt2\": 0.30000000000000004}";
  for (std::string kind : {"ndjson", "json"}) {
    CAPTURE(kind);
    std::string text = kind == "json" ? "[" + record + "]" : record + "\n";
    auto rows = outcome(kind, text, {"amount", "fee", "exp", "neg", "nested", "nested.a[1]", "amount2"});
    CHECK(rows == std::vector<std::string>{
                      "1 ok 1234567890123456.78|12.50|1E2|-0.10|{\"a\":[1.10,2.000,{\"b\":3.0}]}|"
                      "2.000|0.30000000000000004",
                      "read 1 = accepted 1 + rejected 0"});
  }
  // An integer beyond 64 bits is a number simdjson cannot hold: the record is rejected, loudly.
  CHECK(outcome("ndjson", "{\"id\": 1, \"n\": 123456789012345678901}\n", {"id"}) ==
        std::vector<std::string>{"1 rejected: invalid JSON: Problem while parsing a number [{\"id\": 1, \"n\": "
                                 "123456789012345678901}]",
                                 "read 1 = accepted 0 + rejected 1"});
  TempDir dir;
  write_file(dir / "psp.json", "{\"data\": [" + record + "]}");
  MappedInput in = map_system(payments("json", dir / "psp.json", {{"records", "data"}}), nullptr);
  CHECK(counts(in) == "read 1 = accepted 1 + rejected 0 + skipped 0");
  REQUIRE(in.records.size() == 1);
  CHECK(in.records.get(0, 0).i == 123456789012345678);  // minor units: every digit of the file
  write_file(dir / "psp.ndjson", record + "\n");
  in = map_system(payments("ndjson", dir / "psp.ndjson"), nullptr);
  REQUIRE(in.records.size() == 1);
  CHECK(in.records.get(0, 0).i == 123456789012345678);
}

// ---- SQLite ---------------------------------------------------------------------------------

TEST_CASE("sqlite robustness: a text cell holding NUL bytes is returned whole") {
  TempDir dir;
  {
    Db db(dir / "client.db", Db::Mode::Create);
    db.exec("CREATE TABLE t (id TEXT, note TEXT); INSERT INTO t VALUES ('A', CAST(x'610062006300' AS TEXT));");
  }
  auto c = open_connector({"sqlite", dir / "client.db", {{"query", "SELECT id, note FROM t"}}, {}}, "erp");
  std::string why;
  int note = *c->resolve("note", why);
  REQUIRE(c->next());
  CHECK(c->malformed().empty());
  CHECK(*c->get(note) == std::string_view("a\0b\0c\0", 6));
  CHECK(std::string(c->raw()) == "{\"id\":\"A\",\"note\":\"a\\u0000b\\u0000c\\u0000\"}");
}
