#include <doctest/doctest.h>

#include "connectors/connector.hpp"
#include "engine/util/result.hpp"
#include "tests/support.hpp"

using namespace seam;
using seam::test::TempDir;
using seam::test::write_file;

namespace {

struct Row {
  uint64_t line;
  std::string malformed;
  std::vector<std::optional<std::string>> cells;
};

// Reads every row of `text` through the named connector, asking for `columns`.
std::vector<Row> read_all(const std::string& kind, const std::string& text, const std::vector<std::string>& columns,
                          std::map<std::string, std::string> options = {}) {
  TempDir dir;
  std::string path = dir / ("input." + kind);
  write_file(path, text);
  ConnectorSpec spec{kind, path, options, {"stack.lua", 3}};
  auto c = open_connector(spec, "sys");
  std::vector<int> handles;
  for (const auto& col : columns) {
    std::string why;
    auto h = c->resolve(col, why);
    if (!h) FAIL(why);
    handles.push_back(*h);
  }
  std::vector<Row> rows;
  while (c->next()) {
    Row r{c->line(), c->malformed(), {}};
    if (r.malformed.empty())
      for (int h : handles) {
        auto v = c->get(h);
        r.cells.push_back(v ? std::optional<std::string>(std::string(*v)) : std::nullopt);
      }
    rows.push_back(r);
  }
  return rows;
}

}  // namespace

TEST_CASE("csv: quotes, embedded delimiters and newlines, escaped quotes, BOM, CRLF") {
  std::string text = "\xEF\xBB\xBFid,note,amount\r\n"
                     "1,\"plain\",10\r\n"
                     "2,\"comma, inside\",20\r\n"
                     "3,\"two\r\nlines\",30\r\n"
                     "4,\"say \"\"hi\"\"\",40\r\n"
                     "5,,50\r\n";
  auto rows = read_all("csv", text, {"id", "note", "amount"});
  REQUIRE(rows.size() == 5);
  CHECK(*rows[1].cells[1] == "comma, inside");
  CHECK(*rows[2].cells[1] == "two\r\nlines");
  CHECK(*rows[3].cells[1] == "say \"hi\"");
  CHECK(*rows[4].cells[1] == "");  // present but empty
  // lines are where each row starts; the multi-line row pushes the next one down
  CHECK(rows[0].line == 2);
  CHECK(rows[2].line == 4);
  CHECK(rows[3].line == 6);
  CHECK(rows[4].line == 7);
}

TEST_CASE("csv: a configurable delimiter and a final line without newline") {
  auto rows = read_all("csv", "a;b\n1;x,y\n2;z", {"a", "b"}, {{"delimiter", ";"}});
  REQUIRE(rows.size() == 2);
  CHECK(*rows[0].cells[1] == "x,y");
  CHECK(*rows[1].cells[1] == "z");
}

TEST_CASE("csv: a malformed row is rejected alone and reading resumes on the next line") {
  std::string text = "id,v\n"
                     "1,a\n"
                     "2,\"b\"x\n"          // stray character after a closing quote
                     "3,c,extra\n"         // wrong number of fields
                     "4,d\n"
                     "5,\"never closed\n"  // unterminated quote: only this line is lost
                     "6,f\n";
  auto rows = read_all("csv", text, {"id", "v"});
  REQUIRE(rows.size() == 6);
  CHECK(rows[0].malformed.empty());
  CHECK(rows[1].malformed == "unexpected character 'x' after a closing quote in field 2");
  CHECK(rows[1].line == 3);
  CHECK(rows[2].malformed == "expected 2 fields as in the header, found 3");
  CHECK(*rows[3].cells[0] == "4");
  CHECK(rows[4].malformed == "unterminated quoted field (opened on line 6)");
  CHECK(rows[5].malformed.empty());
  CHECK(*rows[5].cells[1] == "f");
  CHECK(rows[5].line == 7);
}

TEST_CASE("csv: blank lines are not rows") {
  auto rows = read_all("csv", "id\n1\n\n2\n\n", {"id"});
  REQUIRE(rows.size() == 2);
  CHECK(rows[1].line == 4);
}

TEST_CASE("csv: an unknown column names the file and suggests the closest header") {
  TempDir dir;
  write_file(dir / "x.csv", "Refund ID,Amount\n1,2\n");
  auto c = open_connector({"csv", dir / "x.csv", {}, {}}, "sys");
  std::string why;
  CHECK_FALSE(c->resolve("Amout", why).has_value());
  CHECK(why == "column 'Amout' is not in the header of " + (dir / "x.csv") + " (did you mean 'Amount'?)");
}

TEST_CASE("inputs: a missing or empty file is an error, never a silent zero") {
  TempDir dir;
  ConnectorSpec spec{"csv", dir / "nope.csv", {}, {"stack.lua", 7}};
  CHECK_THROWS_WITH_AS(open_connector(spec, "storefront"),
                       ("input file not found: " + (dir / "nope.csv") +
                        " (system 'storefront', source declared at stack.lua:7)").c_str(),
                       UserError);
  write_file(dir / "empty.csv", "");
  spec.path = dir / "empty.csv";
  CHECK_THROWS_AS(open_connector(spec, "storefront"), UserError);
  write_file(dir / "header.csv", "id,amount\n");
  spec.path = dir / "header.csv";
  auto c = open_connector(spec, "storefront");
  CHECK_THROWS_WITH_AS(c->next(),
                       ("input file has a header but no rows: " + (dir / "header.csv") +
                        " (system 'storefront'); set allow_empty = true on the source if that is expected").c_str(),
                       UserError);
  spec.options["allow_empty"] = "false";
  CHECK_THROWS_AS(open_connector(spec, "storefront")->next(), UserError);
  spec.options["allow_empty"] = "true";
  auto allowed = open_connector(spec, "storefront");
  CHECK_FALSE(allowed->next());
}

TEST_CASE("connectors: an unknown option is refused with a suggestion") {
  TempDir dir;
  write_file(dir / "x.csv", "a\n1\n");
  CHECK_THROWS_WITH_AS(open_connector({"csv", dir / "x.csv", {{"delimeter", ";"}}, {"stack.lua", 4}}, "s"),
                       "stack.lua:4: connector csv has no option 'delimeter' (did you mean 'delimiter'?)", UserError);
}

TEST_CASE("ndjson: nested paths, array positions, null and absent keys, numbers") {
  std::string text =
      "{\"id\":\"a\",\"customer\":{\"id\":7},\"lines\":[{\"amount\":\"1.50\"},{\"amount\":2.25}],\"memo\":null}\n"
      "\n"
      "{\"id\":\"b\",\"customer\":{},\"lines\":[],\"flag\":true}\r\n";
  auto rows = read_all("ndjson", text, {"id", "customer.id", "lines[0].amount", "lines[1].amount", "memo", "flag"});
  REQUIRE(rows.size() == 2);
  CHECK(*rows[0].cells[0] == "a");
  CHECK(*rows[0].cells[1] == "7");
  CHECK(*rows[0].cells[2] == "1.50");
  CHECK(*rows[0].cells[3] == "2.25");
  CHECK_FALSE(rows[0].cells[4].has_value());  // JSON null reads as missing
  CHECK_FALSE(rows[1].cells[1].has_value());  // absent key reads as missing
  CHECK_FALSE(rows[1].cells[2].has_value());
  CHECK(*rows[1].cells[5] == "true");
  CHECK(rows[1].line == 3);  // the blank line 2 is skipped, not counted
}

TEST_CASE("ndjson: a broken line is rejected alone") {
  auto rows = read_all("ndjson", "{\"id\":1}\n{\"id\":2\n[1,2]\n{\"id\":4}\n", {"id"});
  REQUIRE(rows.size() == 4);
  CHECK(rows[1].malformed.rfind("invalid JSON:", 0) == 0);
  CHECK(rows[2].malformed == "expected a JSON object on each line");
  CHECK(*rows[3].cells[0] == "4");
}

TEST_CASE("ndjson: an invalid path is a configuration error") {
  TempDir dir;
  write_file(dir / "x.ndjson", "{}\n");
  auto c = open_connector({"ndjson", dir / "x.ndjson", {}, {}}, "s");
  std::string why;
  CHECK_FALSE(c->resolve("lines[x].amount", why).has_value());
  CHECK(why.find("is not a valid field path") != std::string::npos);
}
