#include <doctest/doctest.h>

#include "connectors/connector.hpp"
#include "engine/audit/db.hpp"
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

TEST_CASE("json: an array of records at the top level, fields by path, lines of each record") {
  std::string text = "[\n"
                     "  {\"card\": \"GC-1\", \"amount\": 25.5, \"meta\": {\"by\": \"pos\"}},\n"
                     "  {\"card\": \"GC-2\", \"amount\": null, \"note\": \"has ] and } and \\\" inside\"},\n"
                     "  {\"card\": \"GC-3\",\n   \"amount\": 7}\n"
                     "]\n";
  auto rows = read_all("json", text, {"card", "amount", "meta.by"});
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].line == 2);
  CHECK(rows[0].cells == std::vector<std::optional<std::string>>{"GC-1", "25.5", "pos"});
  CHECK(rows[1].line == 3);
  CHECK(rows[1].cells == std::vector<std::optional<std::string>>{"GC-2", std::nullopt, std::nullopt});
  CHECK(rows[2].line == 4);
  CHECK(rows[2].cells == std::vector<std::optional<std::string>>{"GC-3", "7", std::nullopt});
}

TEST_CASE("json: records under a path, a malformed record is rejected alone with its line") {
  std::string text = "{\"meta\": {\"count\": 4, \"tags\": [\"a\", {\"b\": 1}]},\n"
                     " \"data\": {\"transactions\": [\n"
                     "   {\"id\": \"T1\"},\n"
                     "   {\"id\": \"T2\", \"amount\": tru},\n"
                     "   \"not an object\",\n"
                     "   {\"id\": \"T4\"}\n"
                     "   {\"id\": \"T5\"},\n"
                     "   {\"id\": \"T6\"}\n"
                     " ]}}\n";
  auto rows = read_all("json", text, {"id"}, {{"records", "data.transactions"}});
  REQUIRE(rows.size() == 6);
  CHECK(rows[0].malformed == "");
  CHECK(*rows[0].cells[0] == "T1");
  CHECK(rows[1].line == 4);
  CHECK(rows[1].malformed.rfind("invalid JSON:", 0) == 0);
  CHECK(rows[2].line == 5);
  CHECK(rows[2].malformed == "expected a JSON object, found a string");
  CHECK(*rows[3].cells[0] == "T4");
  CHECK(rows[4].line == 7);
  CHECK(rows[4].malformed == "expected ',' between records");
  CHECK(rows[5].line == 8);
  CHECK(*rows[5].cells[0] == "T6");
}

TEST_CASE("json: an unclosed record quarantines the rest, a truncated file or a wrong path is an error") {
  auto rows = read_all("json", "[{\"id\": 1}, {\"id\": 2, \"note\": \"never closed}]\n", {"id"});
  REQUIRE(rows.size() == 2);
  CHECK(rows[1].malformed ==
        "a record is not closed (unbalanced brackets or an unterminated string); the rest of the file is "
        "quarantined as this one row");
  TempDir dir;
  write_file(dir / "t.json", "[{\"id\": 1},\n {\"id\": 2}");
  auto truncated = open_connector({"json", dir / "t.json", {}, {"stack.lua", 7}}, "gc");
  CHECK(truncated->next());
  CHECK(truncated->next());
  CHECK_THROWS_WITH_AS(truncated->next(),
                       (dir / "t.json" + " (system 'gc') ends at line 2 inside its records array (opened on line 1), "
                                         "after 2 records: a truncated export? (expected ']')").c_str(),
                       UserError);
  write_file(dir / "p.json", "{\"data\": {\"items\": [], \"total\": 0}}");
  CHECK_THROWS_WITH_AS(open_connector({"json", dir / "p.json", {{"records", "data.rows"}}, {"stack.lua", 7}}, "gc"),
                       ("stack.lua:7: " + dir / "p.json" + " (system 'gc'): records path 'data.rows' not found: 'data' "
                                                           "has no key 'rows' (keys: items, total)").c_str(),
                       UserError);
  write_file(dir / "o.json", "\"just text\"");
  CHECK_THROWS_WITH_AS(open_connector({"json", dir / "o.json", {}, {"stack.lua", 7}}, "gc"),
                       ("stack.lua:7: " + dir / "o.json" + " (system 'gc'): expected a JSON array of records or one "
                                                           "object at the top level (or declare records = "
                                                           "\"path.to.array\")").c_str(),
                       UserError);
}

namespace {
void make_client_db(const std::string& path) {
  Db db(path, Db::Mode::Create);
  db.exec("CREATE TABLE stock (sku TEXT, location TEXT, on_hand INTEGER, cost REAL, photo BLOB);"
          "INSERT INTO stock VALUES ('SKU-1', 'WH1', 47, 12.5, NULL), ('SKU-2', NULL, 0, 3.0, NULL),"
          "('SKU-3', 'WH1', 5, NULL, x'00ff'), ('SKU-4', 'WH2', 12, 1.25, NULL);");
}
}  // namespace

TEST_CASE("sqlite: rows of a read-only query, NULL is missing, a BLOB where a value belongs is rejected") {
  TempDir dir;
  make_client_db(dir / "client.db");
  auto c = open_connector({"sqlite", dir / "client.db", {{"query", "SELECT * FROM stock ORDER BY sku"}}, {}}, "wms");
  std::string why;
  int sku = *c->resolve("sku", why), loc = *c->resolve("location", why), qty = *c->resolve("on_hand", why),
      cost = *c->resolve("cost", why);
  std::vector<std::string> seen;
  while (c->next()) {
    std::string row = std::to_string(c->line()) + ":";
    if (!c->malformed().empty()) {
      seen.push_back(row + c->malformed() + " " + std::string(c->raw()));
      continue;
    }
    for (int h : {sku, loc, qty, cost}) row += " " + std::string(c->get(h).value_or("(missing)"));
    seen.push_back(row);
  }
  CHECK(seen == std::vector<std::string>{
                    "1: SKU-1 WH1 47 12.5", "2: SKU-2 (missing) 0 3",
                    "3:column 'photo' holds binary data (a BLOB), not a value "
                    "{\"sku\":\"SKU-3\",\"location\":\"WH1\",\"on_hand\":\"5\",\"cost\":null,\"photo\":\"(blob)\"}",
                    "4: SKU-4 WH2 12 1.25"});
  CHECK_FALSE(c->resolve("qty", why).has_value());
  CHECK(why == "column 'qty' is not in the query's result (columns: sku, location, on_hand, cost, photo)");
}

TEST_CASE("sqlite: a query that writes, attaches another file or does not prepare is refused at file:line") {
  TempDir dir;
  make_client_db(dir / "client.db");
  auto open = [&](const std::string& query) {
    try {
      open_connector({"sqlite", dir / "client.db", {{"query", query}}, {"stack.lua", 9}}, "wms");
    } catch (const UserError& e) {
      return seam::test::with_dir_as_DIR(e.what(), dir.path());
    }
    return std::string("(opened)");
  };
  CHECK(open("DELETE FROM stock") == "stack.lua:9: DIR/client.db (system 'wms'): query does not prepare: not authorized");
  CHECK(open("SELECT * FROM stok") ==
        "stack.lua:9: DIR/client.db (system 'wms'): query does not prepare: no such table: stok");
  CHECK(open("ATTACH DATABASE 'other.db' AS o") ==
        "stack.lua:9: DIR/client.db (system 'wms'): query does not prepare: not authorized");
  CHECK(open("PRAGMA writable_schema = 1") ==
        "stack.lua:9: DIR/client.db (system 'wms'): query does not prepare: not authorized");
  CHECK(open("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3) SELECT i FROM n") ==
        "(opened)");
  CHECK(open("SELECT sku FROM stock WHERE on_hand > 100") == "(opened)");
  auto empty = open_connector({"sqlite", dir / "client.db", {{"query", "SELECT sku FROM stock WHERE 0"}}, {}}, "wms");
  CHECK_THROWS_AS(empty->next(), UserError);
}
