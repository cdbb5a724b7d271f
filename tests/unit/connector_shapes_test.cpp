// Real exports as they come: JSON envelopes and nested records, report-style CSV (header
// below a title, skipped total rows, legacy encodings), several files behind a glob.
// Every case maps through the real mapper and checks read = accepted + rejected + skipped.
#include <doctest/doctest.h>

#include <algorithm>
#include <functional>

#include "connectors/connector.hpp"
#include "engine/util/digest.hpp"
#include "engine/mapping/mapper.hpp"
#include "engine/util/result.hpp"
#include "tests/support.hpp"

using namespace seam;
using seam::test::TempDir;
using seam::test::with_dir_as_DIR;
using seam::test::write_file;

namespace {

struct Col {
  const char* name;
  const char* column;
  bool required = false;
};

struct Mapped {
  std::vector<std::string> lines;  // "line 3: id=R1 order=O1" per record, then "reject FILE:line: reason"
  InputStats stats;
};

// Maps `path` through a system of text fields (sorted by name, as the loader leaves them).
Mapped map(const std::string& kind, const std::string& path, std::map<std::string, std::string> options,
           std::vector<Col> cols, const std::string& dir) {
  SystemSpec sys;
  sys.name = "sys";
  sys.source = ConnectorSpec{kind, path, std::move(options), {"stack.lua", 4}};
  std::sort(cols.begin(), cols.end(), [](const Col& a, const Col& b) { return std::string(a.name) < b.name; });
  for (const auto& c : cols) {
    FieldSpec f;
    f.name = c.name;
    f.kind = FieldKind::Column;
    f.column = c.column;
    f.required = c.required;
    sys.fields.push_back(f);
  }
  MappedInput in = map_system(sys, nullptr, MapOptions{1});
  Mapped out;
  for (size_t r = 0; r < in.records.size(); ++r) {
    std::string line = "line " + std::to_string(in.records.line(r)) + ":";
    for (size_t f = 0; f < sys.fields.size(); ++f) line += " " + sys.fields[f].name + "=" + display(in.records.get(r, f));
    out.lines.push_back(line);
  }
  for (const auto& rej : in.rejects)
    out.lines.push_back("reject " + with_dir_as_DIR(rej.path, dir) + ":" + std::to_string(rej.line) + ": " +
                        with_dir_as_DIR(rej.reason, dir));
  CHECK(in.stats.read == in.stats.accepted + in.stats.rejected + in.stats.skipped);
  out.stats = in.stats;
  return out;
}

std::string counts(const InputStats& s) {
  return "read " + std::to_string(s.read) + " = " + std::to_string(s.accepted) + " + " + std::to_string(s.rejected) +
         " + " + std::to_string(s.skipped);
}

std::string error_of(const std::function<void()>& f, const std::string& dir) {
  try {
    f();
  } catch (const UserError& e) {
    return with_dir_as_DIR(e.what(), dir);
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("json shapes: a bare top-level object is one record, records = \"refund\" makes the inner object it") {
  TempDir dir;
  write_file(dir / "bare.json", "{\"id\": \"R1\",\n \"amount\": \"12.50\"}\n");
  auto bare = map("json", dir / "bare.json", {}, {{"id", "id"}, {"amount", "amount"}}, dir.path());
  CHECK(bare.lines == std::vector<std::string>{"line 1: amount=12.50 id=R1"});
  CHECK(counts(bare.stats) == "read 1 = 1 + 0 + 0");

  write_file(dir / "env.json", "{\"refund\": {\"id\": \"R2\", \"amount\": \"3.00\"}, \"meta\": {\"page\": 1}}");
  auto inner = map("json", dir / "env.json", {{"records", "refund"}}, {{"id", "id"}, {"amount", "amount"}}, dir.path());
  CHECK(inner.lines == std::vector<std::string>{"line 1: amount=3.00 id=R2"});
  auto whole = map("json", dir / "env.json", {}, {{"id", "refund.id"}, {"page", "meta.page"}}, dir.path());
  CHECK(whole.lines == std::vector<std::string>{"line 1: id=R2 page=1"});

  // Content after the one object is rejected as a row of its own, never dropped.
  write_file(dir / "tail.json", "{\"id\": \"R3\"}\n{\"id\": \"R4\"}\n");
  auto tail = map("json", dir / "tail.json", {}, {{"id", "id"}}, dir.path());
  REQUIRE(tail.lines.size() == 2);
  CHECK(tail.lines[0] == "line 1: id=R3");
  CHECK(tail.lines[1] == "reject DIR/tail.json:2: content after the end of the JSON document (the record opened on "
                         "line 1 closes on line 1; expected only the end of the file, found '{' on line 2); it is "
                         "rejected whole as this one row");
  CHECK(counts(tail.stats) == "read 2 = 1 + 1 + 0");

  // A truncated single object is quarantined whole, with the line it opened on.
  write_file(dir / "cut.json", "{\"id\": \"R5\",\n \"amount\": \"1");
  auto cut = map("json", dir / "cut.json", {}, {{"id", "id"}}, dir.path());
  CHECK(cut.lines == std::vector<std::string>{
                         "reject DIR/cut.json:1: the record opened on line 1 is not closed by the end of the file "
                         "(unbalanced brackets or an unterminated string: a truncated export?); it is quarantined "
                         "whole as this one row"});
}

TEST_CASE("json shapes: API list envelopes under data, items or records are found, a declared path wins") {
  TempDir dir;
  write_file(dir / "api.json",
             "{\"meta\": {\"count\": 2, \"data\": \"not this\"},\n \"data\": [\n  {\"id\": \"A\"},\n  {\"id\": \"B\"}\n ],\n"
             " \"next\": null}\n");
  auto api = map("json", dir / "api.json", {}, {{"id", "id"}}, dir.path());
  CHECK(api.lines == std::vector<std::string>{"line 3: id=A", "line 4: id=B"});
  CHECK(counts(api.stats) == "read 2 = 2 + 0 + 0");

  write_file(dir / "items.json", "{\"items\": [{\"id\": \"I1\"}], \"total\": 1}");
  CHECK(map("json", dir / "items.json", {}, {{"id", "id"}}, dir.path()).lines ==
        std::vector<std::string>{"line 1: id=I1"});

  write_file(dir / "both.json", "{\"data\": [{\"id\": 1}], \"items\": [{\"id\": 2}]}");
  CHECK(error_of([&] { open_connector({"json", dir / "both.json", {}, {"stack.lua", 4}}, "sys"); }, dir.path()) ==
        "stack.lua:4: DIR/both.json (system 'sys'): the top-level object holds arrays under both 'data' and 'items': "
        "which one holds the records is ambiguous; declare records = \"data\" (or the other)");
  CHECK(map("json", dir / "both.json", {{"records", "items"}}, {{"id", "id"}}, dir.path()).lines ==
        std::vector<std::string>{"line 1: id=2"});

  write_file(dir / "deep.json", "{\"response\": {\"status\": \"ok\", \"refunds\": [{\"id\": \"D1\"}, {\"id\": \"D2\"}]}}");
  CHECK(map("json", dir / "deep.json", {{"records", "response.refunds"}}, {{"id", "id"}}, dir.path()).lines ==
        std::vector<std::string>{"line 1: id=D1", "line 1: id=D2"});

  // A truncated envelope is an error naming the file and line, never a silent short read.
  write_file(dir / "cut.json", "{\"data\": [\n {\"id\": \"A\"},\n {\"id\": \"B\"},\n");
  CHECK(error_of([&] { map("json", dir / "cut.json", {}, {{"id", "id"}}, dir.path()); }, dir.path()) ==
        "DIR/cut.json (system 'sys') ends at line 4 inside its records array (opened on line 1), after 2 records: a "
        "truncated export? (expected ']')");
}

TEST_CASE("json shapes: nested records with parent fields, and every malformed element accounted for") {
  TempDir dir;
  std::string text =
      "{\"orders\": [\n"
      " {\"order_id\": \"O1\", \"refunds\": [\n"
      "   {\"id\": \"R1\", \"transactions\": [\n"
      "     {\"tx\": \"T1\", \"amount\": \"5.00\"},\n"
      "     {\"tx\": \"T2\", \"amount\": \"2.50\"}\n"
      "   ]},\n"
      "   {\"id\": \"R2\", \"transactions\": []},\n"
      "   {\"id\": \"R3\", \"transactions\": [\n"
      "     42,\n"
      "     {\"tx\": \"T3\"}\n"
      "   ]},\n"
      "   {\"id\": \"R4\"},\n"
      "   {\"transactions\": [{\"tx\": \"T4\"}]}\n"
      " ]},\n"
      " {\"order_id\": \"O2\", \"refunds\": [{\"id\": \"R5\", \"transactions\": [{\"tx\": \"T5\"}]}]}\n"
      "]}\n";
  write_file(dir / "orders.json", text);
  auto m = map("json", dir / "orders.json", {{"records", "orders[].refunds[].transactions[]"}},
               {{"tx", "tx", true}, {"refund", "parent.id"}, {"order", "parent.parent.order_id"}, {"amount", "amount"}},
               dir.path());
  CHECK(m.lines == std::vector<std::string>{
                       "line 4: amount=5.00 order=O1 refund=R1 tx=T1",
                       "line 5: amount=2.50 order=O1 refund=R1 tx=T2",
                       "line 10: amount=(missing) order=O1 refund=R3 tx=T3",
                       "line 13: amount=(missing) order=O1 refund=(missing) tx=T4",
                       "line 15: amount=(missing) order=O2 refund=R5 tx=T5",
                       "reject DIR/orders.json:9: expected a JSON object, found a scalar in 'transactions' (records = "
                       "'orders[].refunds[].transactions[]')",
                       "reject DIR/orders.json:12: expected an array at 'transactions' (records = "
                       "'orders[].refunds[].transactions[]'), found no such key",
                   });
  // R2's empty array is one skipped row.
  CHECK(counts(m.stats) == "read 8 = 5 + 2 + 1");

  // A missing parent field is an ordinary missing value: required, it rejects the record.
  auto strict = map("json", dir / "orders.json", {{"records", "orders[].refunds[].transactions[]"}},
                    {{"tx", "tx", true}, {"refund", "parent.id", true}}, dir.path());
  CHECK(strict.lines.back() == "reject DIR/orders.json:13: required field 'refund' is missing (column 'parent.id')");

  // Climbing past the outermost record is a declaration error; parent_prefix renames the word.
  CHECK(error_of([&] { map("json", dir / "orders.json", {{"records", "orders[].refunds[].transactions[]"}},
                           {{"x", "parent.parent.parent.id"}}, dir.path()); }, dir.path()) ==
        ":0: field 'x' of system 'sys': path 'parent.parent.parent.id' climbs 3 enclosing objects with "
        "'parent.', but records = 'orders[].refunds[].transactions[]' nests 2 levels");
  CHECK(map("json", dir / "orders.json", {{"records", "orders[].refunds[].transactions[]"}, {"parent_prefix", "up"}},
            {{"tx", "tx"}, {"refund", "up.id"}}, dir.path())
            .lines[0] == "line 4: refund=R1 tx=T1");
  CHECK(error_of([&] { open_connector({"json", dir / "orders.json", {{"records", "orders"}, {"parent_prefix", "up"}},
                                       {"stack.lua", 4}}, "sys"); }, dir.path()) ==
        "stack.lua:4: parent_prefix names the way up to an enclosing record, but records does not nest (declare "
        "records = \"refunds[].transactions[]\" or leave parent_prefix out)");
  CHECK(error_of([&] { open_connector({"ndjson", dir / "orders.json", {{"records", "a[]"}, {"parent_prefix", "a.b"}},
                                       {"stack.lua", 4}}, "sys"); }, dir.path()) ==
        "stack.lua:4: parent_prefix expects one word (such as \"up\"), found 'a.b'");
}

TEST_CASE("json shapes: a fixed index past a short array reads as missing, not as a reject") {
  TempDir dir;
  write_file(dir / "r.json", "[{\"id\": \"R1\", \"transactions\": [{\"a\": \"1.00\"}]},\n"
                             " {\"id\": \"R2\", \"transactions\": [{\"a\": \"1.00\"}, {\"a\": \"2.00\"}]}]");
  auto m = map("json", dir / "r.json", {}, {{"id", "id"}, {"second", "transactions[1].a"}}, dir.path());
  CHECK(m.lines == std::vector<std::string>{"line 1: id=R1 second=(missing)", "line 2: id=R2 second=2.00"});
  CHECK(counts(m.stats) == "read 2 = 2 + 0 + 0");
}

TEST_CASE("ndjson shapes: each line an enclosing record with nested records") {
  TempDir dir;
  write_file(dir / "r.ndjson",
             "{\"id\": \"R1\", \"transactions\": [{\"tx\": \"T1\"}, {\"tx\": \"T2\"}]}\n"
             "{\"id\": \"R2\", \"transactions\": \"none\"}\n"
             "{\"id\": \"R3\", \"transactions\": [\n"
             "{\"id\": \"R4\", \"transactions\": []}\n"
             "{\"id\": \"R5\", \"transactions\": [\"T6\", {\"tx\": \"T7\"}]}\n");
  auto m = map("ndjson", dir / "r.ndjson", {{"records", "transactions[]"}}, {{"tx", "tx"}, {"refund", "parent.id"}},
               dir.path());
  REQUIRE(m.lines.size() == 6);
  CHECK(m.lines[0] == "line 1: refund=R1 tx=T1");
  CHECK(m.lines[1] == "line 1: refund=R1 tx=T2");
  CHECK(m.lines[2] == "line 5: refund=R5 tx=T7");
  CHECK(m.lines[3] == "reject DIR/r.ndjson:2: expected an array at 'transactions' (records = 'transactions[]'), "
                      "found a string");
  CHECK(m.lines[4].rfind("reject DIR/r.ndjson:3: invalid JSON", 0) == 0);
  CHECK(m.lines[5] == "reject DIR/r.ndjson:5: expected a JSON object, found a string in 'transactions' (records = "
                      "'transactions[]')");
  CHECK(counts(m.stats) == "read 7 = 3 + 3 + 1");
}

TEST_CASE("csv report: header_row, title rows skipped, skip_rows for totals and blank dates") {
  TempDir dir;
  write_file(dir / "report.csv",
             "Settlement report,,\n"
             "Generated 2026-03-01,,\n"
             "Date,Name,Amount\n"
             "2026-03-01,Alice,10.00\n"
             "2026-03-01,Total for the day,10.00\n"
             "2026-03-02,Bob,5.00\n"
             ",Carry-over,1.00\n"
             "2026-03-03,Carol\n"
             "Total\n");
  std::map<std::string, std::string> opts{
      {"header_row", "3"},
      {"skip_rows", R"([{"column":"Name","starts_with":"Total"},{"column":"Date","empty":true},)"
                    R"({"column":"Date","equals":"Total"}])"}};
  auto m = map("csv", dir / "report.csv", opts, {{"date", "Date"}, {"name", "Name"}, {"amount", "Amount"}}, dir.path());
  CHECK(m.lines == std::vector<std::string>{
                       "line 4: amount=10.00 date=2026-03-01 name=Alice",
                       "line 6: amount=5.00 date=2026-03-02 name=Bob",
                       "reject DIR/report.csv:8: expected 3 fields as in the header, found 2",
                   });
  // 2 title rows, the day's total, the carry-over row with no date and the short "Total"
  // footer (a row with too few fields is skipped all the same when a condition matches it).
  CHECK(counts(m.stats) == "read 8 = 2 + 1 + 5");
}

TEST_CASE("csv report: header_contains finds the header, one never found is an error saying what and where") {
  TempDir dir;
  write_file(dir / "r.csv", "Bank export\n\nAccount: 123\nDate;Amount;Memo\n2026-03-01;1,00;x\n");
  auto m = map("csv", dir / "r.csv", {{"delimiter", ";"}, {"header_contains", R"(["Date","Amount"])"}},
               {{"date", "Date"}, {"amount", "Amount"}}, dir.path());
  CHECK(m.lines == std::vector<std::string>{"line 5: amount=1,00 date=2026-03-01"});
  CHECK(counts(m.stats) == "read 3 = 1 + 0 + 2");

  write_file(dir / "none.csv", "a,b\n1,2\n3,4\n");
  CHECK(error_of([&] { open_connector({"csv", dir / "none.csv", {{"header_contains", R"(["Date","Amount"])"}},
                                       {"stack.lua", 4}}, "sys"); }, dir.path()) ==
        "stack.lua:4: no header found in DIR/none.csv (system 'sys'): looked for a row holding every column of "
        "header_contains ('Date', 'Amount') in 3 rows (3 lines); check the option against the file, or remove it if "
        "the header is the first row");
  CHECK(error_of([&] { open_connector({"csv", dir / "none.csv", {{"header_row", "7"}}, {"stack.lua", 4}}, "sys"); },
                 dir.path()) ==
        "stack.lua:4: no header found in DIR/none.csv (system 'sys'): looked for header_row = 7 in 3 rows (3 lines); "
        "check the option against the file, or remove it if the header is the first row");
  CHECK(error_of([&] { open_connector({"csv", dir / "none.csv", {{"header_row", "x"}}, {"stack.lua", 4}}, "sys"); },
                 dir.path()) == "stack.lua:4: csv header_row expects the header's line number (1 for the first line), "
                                "found 'x'");
  CHECK(error_of([&] { open_connector({"csv", dir / "none.csv", {{"skip_rows", R"([{"column":"a","ends_with":"x"}])"}},
                                       {"stack.lua", 4}}, "sys"); }, dir.path())
            .rfind("stack.lua:4: csv skip_rows expects a list of conditions", 0) == 0);
  CHECK(error_of([&] { open_connector({"csv", dir / "none.csv", {{"skip_rows", R"([{"column":"Nme","empty":true}])"}},
                                       {"stack.lua", 4}}, "sys"); }, dir.path()) ==
        "stack.lua:4: csv skip_rows: column 'Nme' is not in the header of DIR/none.csv (columns: 'a' 'b')");
}

TEST_CASE("csv encoding: windows-1252 and latin-1 become UTF-8, an undefined byte rejects its row") {
  TempDir dir;
  write_file(dir / "w.csv", "name,amount\nCaf\xE9,\x80" "5\nbad\x81,1\nok,2\n");
  auto m = map("csv", dir / "w.csv", {{"encoding", "windows-1252"}}, {{"name", "name"}, {"amount", "amount"}},
               dir.path());
  CHECK(m.lines == std::vector<std::string>{
                       "line 2: amount=\xE2\x82\xAC" "5 name=Caf\xC3\xA9",
                       "line 4: amount=2 name=ok",
                       "reject DIR/w.csv:3: byte 0x81 on line 3 is not a character in windows-1252 (the encoding "
                       "declared at stack.lua:4); it reads as U+FFFD in the raw text. Fix the export or declare its "
                       "real encoding",
                   });
  CHECK(counts(m.stats) == "read 3 = 2 + 1 + 0");
  // The digest is of the bytes in the file, not of the converted text.
  CHECK(m.stats.digest == sha256_hex(std::string("name,amount\nCaf\xE9,\x80" "5\nbad\x81,1\nok,2\n")));

  auto l = map("csv", dir / "w.csv", {{"encoding", "latin-1"}}, {{"name", "name"}}, dir.path());
  CHECK(counts(l.stats) == "read 3 = 3 + 0 + 0");  // latin-1 defines every byte
  CHECK(l.lines[1] == "line 3: name=bad\xC2\x81");
  CHECK(error_of([&] { open_connector({"csv", dir / "w.csv", {{"encoding", "klingon"}}, {"stack.lua", 4}}, "sys"); },
                 dir.path()) == "stack.lua:4: csv encoding names an encoding this system's iconv does not know: "
                                "'klingon' (expected e.g. \"windows-1252\", \"latin-1\" or \"utf-8\")");
}

TEST_CASE("glob sources: files in sorted order, each counted and digested, rejects naming their file") {
  TempDir dir;
  write_file(dir / "exports/refunds-2026-03-02.ndjson", "{\"id\": \"B1\"}\n{\"id\": \n");
  write_file(dir / "exports/refunds-2026-03-01.ndjson", "{\"id\": \"A1\"}\n{\"id\": \"A2\"}\n");
  write_file(dir / "exports/other.ndjson", "{\"id\": \"X\"}\n");
  auto m = map("ndjson", dir / "exports/refunds-*.ndjson", {}, {{"id", "id"}}, dir.path());
  REQUIRE(m.lines.size() == 4);
  CHECK(m.lines[0] == "line 1: id=A1");
  CHECK(m.lines[1] == "line 2: id=A2");
  CHECK(m.lines[2] == "line 1: id=B1");
  CHECK(m.lines[3].rfind("reject DIR/exports/refunds-2026-03-02.ndjson:2: invalid JSON", 0) == 0);
  CHECK(counts(m.stats) == "read 4 = 3 + 1 + 0");
  CHECK(with_dir_as_DIR(m.stats.path, dir.path()) == "DIR/exports/refunds-*.ndjson");
  REQUIRE(m.stats.files.size() == 2);
  CHECK(with_dir_as_DIR(m.stats.files[0].path, dir.path()) == "DIR/exports/refunds-2026-03-01.ndjson");
  CHECK(m.stats.files[0].digest == sha256_hex(std::string("{\"id\": \"A1\"}\n{\"id\": \"A2\"}\n")));
  CHECK((m.stats.files[0].read == 2 && m.stats.files[0].accepted == 2));
  CHECK((m.stats.files[1].read == 2 && m.stats.files[1].accepted == 1 && m.stats.files[1].rejected == 1));

  CHECK(error_of([&] { open_connector({"ndjson", dir / "exports/none-*.ndjson", {}, {"stack.lua", 4}}, "sys"); },
                 dir.path()) ==
        "no input file matches DIR/exports/none-*.ndjson (system 'sys', source declared at stack.lua:4): the path is a "
        "pattern (it holds *, ? or [); check the folder and the file names, or escape the character with \\ if it is "
        "part of a file name");
  // A column every file must have: the one without it is named.
  write_file(dir / "csv/a.csv", "id,amount\n1,2\n");
  write_file(dir / "csv/b.csv", "id,total\n1,2\n");
  CHECK(error_of([&] { map("csv", dir / "csv/*.csv", {}, {{"amount", "amount"}}, dir.path()); }, dir.path()) ==
        ":0: field 'amount' of system 'sys': column 'amount' is not in the header of DIR/csv/b.csv (columns: "
        "'id' 'total')");
}

TEST_CASE("json shapes: one enveloped object with nested records, and a broken enclosing element") {
  TempDir dir;
  write_file(dir / "one.json", "{\"refund\": {\"id\": \"R1\", \"lines\": [\n  {\"sku\": \"A\"},\n  {\"sku\": \"B\"}\n]}}\n");
  auto one = map("json", dir / "one.json", {{"records", "refund{}.lines[]"}}, {{"sku", "sku"}, {"refund", "parent.id"}},
                 dir.path());
  CHECK(one.lines == std::vector<std::string>{"line 2: refund=R1 sku=A", "line 3: refund=R1 sku=B"});
  CHECK(counts(one.stats) == "read 2 = 2 + 0 + 0");
  // Without '{}' the array under refund.lines is the records array itself: no enclosing
  // level, so parent.id is a plain path (a key named parent), missing here.
  CHECK(map("json", dir / "one.json", {{"records", "refund.lines[]"}}, {{"sku", "sku"}, {"refund", "parent.id"}},
            dir.path()).lines == std::vector<std::string>{"line 2: refund=(missing) sku=A", "line 3: refund=(missing) sku=B"});
  write_file(dir / "top.json", "{\"id\": \"R9\", \"lines\": [{\"sku\": \"C\"}]}");
  CHECK(map("json", dir / "top.json", {{"records", "{}.lines[]"}}, {{"sku", "sku"}, {"refund", "parent.id"}}, dir.path())
            .lines == std::vector<std::string>{"line 1: refund=R9 sku=C"});
  CHECK(error_of([&] { open_connector({"json", dir / "top.json", {{"records", "id{}.lines[]"}}, {"stack.lua", 4}},
                                      "sys"); }, dir.path()) ==
        "stack.lua:4: DIR/top.json (system 'sys'): records path 'id' does not hold an object, as its '{}' says");

  // An enclosing element that is no object is rejected with its line; an inner level under
  // keys ("detail.lines") is walked like the first.
  write_file(dir / "mid.json",
             "[{\"id\": \"R1\", \"detail\": {\"lines\": [{\"sku\": \"A\"}]}},\n"
             " 7,\n"
             " {\"id\": \"R2\", \"detail\": {\"lines\": {\"sku\": \"B\"}}}]\n");
  auto mid = map("json", dir / "mid.json", {{"records", "[].detail.lines[]"}}, {{"sku", "sku"}, {"refund", "parent.id"}},
                 dir.path());
  CHECK(mid.lines == std::vector<std::string>{
                         "line 1: refund=R1 sku=A",
                         "reject DIR/mid.json:2: expected a JSON object, found a scalar",
                         "reject DIR/mid.json:3: expected an array at 'detail.lines' (records = '[].detail.lines[]'), "
                         "found an object",
                     });
  CHECK(counts(mid.stats) == "read 3 = 1 + 2 + 0");

  CHECK(error_of([&] { open_connector({"json", dir / "mid.json", {{"records", "refunds[][]"}}, {"stack.lua", 4}},
                                      "sys"); }, dir.path()) ==
        "stack.lua:4: records 'refunds[][]' has no key after a '[]' (expected keys joined by '.', with [] after each "
        "array whose elements hold the records, e.g. \"refunds[].transactions[]\")");
}

TEST_CASE("shared inputs: a file several sources declare is read once while SharedInputs names it") {
  TempDir dir;
  write_file(dir / "erp.ndjson", "{\"id\": \"A\", \"type\": \"refund\"}\n{\"id\": \"B\", \"type\": \"fee\"}\n");
  write_file(dir / "day/x-1.csv", "id\n1\n");
  write_file(dir / "day/x-2.csv", "id\n2\n");
  auto read_three_times = [&](const std::string& path, const std::string& kind) {
    std::string digest;
    for (int i = 0; i < 3; ++i) {
      auto c = open_connector({kind, path, {}, {"stack.lua", 4}}, "sys");
      while (c->next()) {
      }
      if (i) CHECK(c->digest() == digest);
      digest = c->digest();
    }
  };
  uint64_t before = input_file_reads();
  read_three_times(dir / "erp.ndjson", "ndjson");  // one after the other, nothing kept: three reads
  CHECK(input_file_reads() - before == 3);
  {
    SharedInputs keep({dir / "erp.ndjson", dir / "day/x-*.csv"});
    before = input_file_reads();
    read_three_times(dir / "erp.ndjson", "ndjson");
    read_three_times(dir / "day/x-*.csv", "csv");
    CHECK(input_file_reads() - before == 3);  // erp.ndjson once, and each of the glob's two files once
  }
  before = input_file_reads();
  read_three_times(dir / "erp.ndjson", "ndjson");  // released with the last SharedInputs naming it
  CHECK(input_file_reads() - before == 3);
}

TEST_CASE("json shapes: nested records count CRLF lines, and a truncated enclosing record is quarantined") {
  TempDir dir;
  write_file(dir / "crlf.json", "[{\"id\": \"R1\", \"tx\": [\r\n {\"n\": 1},\r\n\r\n {\"n\": 2}]},\r\n"
                                " {\"id\": \"R2\", \"tx\": [{\"n\": 3}, {\"n\": ");
  auto m = map("json", dir / "crlf.json", {{"records", "[].tx[]"}}, {{"n", "n"}, {"id", "parent.id"}}, dir.path());
  CHECK(m.lines == std::vector<std::string>{
                       "line 2: id=R1 n=1",
                       "line 4: id=R1 n=2",
                       "reject DIR/crlf.json:5: a record is not closed (unbalanced brackets or an unterminated "
                       "string); the rest of the file is quarantined as this one row",
                   });
  CHECK(counts(m.stats) == "read 3 = 2 + 1 + 0");
}

TEST_CASE("glob sources: report-style CSV options apply to each file") {
  TempDir dir;
  write_file(dir / "r/a.csv", "Report A\nid,amount\n1,2\nTotal,2\n");
  write_file(dir / "r/b.csv", "Report B\nExported today\nid,amount\n3,4\n");
  auto m = map("csv", dir / "r/*.csv", {{"header_contains", R"(["id"])"}, {"skip_rows", R"([{"column":"id","equals":"Total"}])"}},
               {{"id", "id"}, {"amount", "amount"}}, dir.path());
  CHECK(m.lines == std::vector<std::string>{"line 3: amount=2 id=1", "line 4: amount=4 id=3"});
  CHECK(counts(m.stats) == "read 6 = 2 + 0 + 4");
  REQUIRE(m.stats.files.size() == 2);
  CHECK((m.stats.files[0].read == 3 && m.stats.files[0].skipped == 2));
  CHECK((m.stats.files[1].read == 3 && m.stats.files[1].skipped == 2));
}

TEST_CASE("map_systems: systems of one source are read once, each keeping its own records and counts") {
  TempDir dir;
  std::string text;
  for (int i = 1; i <= 30; ++i)
    text += i % 10 == 0 ? "{\"id\": \"bad\n"
                        : "{\"id\": \"E" + std::to_string(i) + "\", \"type\": \"" + (i % 3 ? "refund" : "fee") + "\"}\n";
  write_file(dir / "erp.ndjson", text);
  auto system = [&](const char* name, const char* kind) {
    SystemSpec s;
    s.name = name;
    s.source = ConnectorSpec{"ndjson", dir / "erp.ndjson", {}, {"stack.lua", 4}};
    FieldSpec id, type;
    id.name = "id";
    id.column = "id";
    type.name = "type";
    type.column = "type";
    s.fields = {id, type};
    s.id_field = "id";
    s.only = {OnlyCondition{"type", {kind}, ""}};
    return s;
  };
  SystemSpec refunds = system("erp_refunds", "refund"), fees = system("erp_fees", "fee");
  for (size_t threads : {size_t{1}, size_t{4}}) {  // read whole, and in parts on several threads
    CAPTURE(threads);
    uint64_t before = input_file_reads();
    auto ins = map_systems({&refunds, &fees}, nullptr, MapOptions{threads, 1});
    CHECK(input_file_reads() - before == 1);
    REQUIRE(ins.size() == 2);
    CHECK(ins[0].stats.system == "erp_refunds");
    CHECK(counts(ins[0].stats) == "read 30 = 18 + 3 + 9");
    CHECK(counts(ins[1].stats) == "read 30 = 9 + 3 + 18");
    CHECK(ins[0].stats.digest == ins[1].stats.digest);
    CHECK(ins[1].records.id(0) == "E3");
    CHECK(ins[1].records.line(0) == 3);
    REQUIRE(ins[0].rejects.size() == 3);
    CHECK(ins[0].rejects[2].line == 30);
    CHECK(ins[1].rejects[2].line == 30);
  }
}
