#include <doctest/doctest.h>

#include "connectors/connector.hpp"
#include "engine/mapping/mapper.hpp"
#include "engine/util/result.hpp"
#include "tests/support.hpp"

using namespace seam;
using seam::test::TempDir;
using seam::test::write_file;

namespace {

FieldSpec field(const char* name, FieldKind kind, const char* column) {
  FieldSpec f;
  f.name = name;
  f.kind = kind;
  f.column = column;
  return f;
}

// An ERP export read from NDJSON: id, amount in USD, posting time; sorted by name as the
// stack loader leaves them.
SystemSpec erp_system(const std::string& path) {
  SystemSpec s;
  s.name = "erp";
  s.source = ConnectorSpec{"ndjson", path, {}, {"stack.lua", 7}};
  FieldSpec amount = field("amount", FieldKind::Money, "total");
  amount.currency = "USD";
  FieldSpec at = field("at", FieldKind::Time, "posted");
  at.time_format = "iso8601";
  FieldSpec id = field("id", FieldKind::Column, "id");
  id.required = true;
  s.fields = {amount, at, id};
  s.id_field = "id";
  return s;
}

// What a reader of the mapped input can see, in order.
std::vector<std::string> describe(const MappedInput& in) {
  std::vector<std::string> out;
  for (size_t r = 0; r < in.records.size(); ++r)
    out.push_back("line " + std::to_string(in.records.line(r)) + " " + std::string(in.records.id(r)) + " " +
                  display(in.records.get(r, 0)) + " " + display(in.records.get(r, 1)));
  for (const auto& rej : in.rejects)
    out.push_back("reject line " + std::to_string(rej.line) + ": " + rej.reason + " [" + rej.raw + "]");
  out.push_back("read " + std::to_string(in.stats.read) + " accepted " + std::to_string(in.stats.accepted) +
                " rejected " + std::to_string(in.stats.rejected) + " digest " + in.stats.digest);
  return out;
}

}  // namespace

TEST_CASE("mapping: an NDJSON input read in parts on several threads maps exactly as read whole") {
  TempDir dir;
  std::string path = dir / "erp.ndjson";
  std::string text;
  for (int i = 1; i <= 40; ++i) {
    std::string id = "\"id\":\"CR-" + std::to_string(i) + "\"";
    std::string day = std::to_string(10 + i % 18);
    if (i % 7 == 0) text += "\n";                                         // blank lines count as lines, not rows
    if (i % 11 == 0) text += "{" + id + ",\n";                            // broken JSON
    else if (i % 13 == 0) text += "{" + id + ",\"total\":\"ten\"}\n";  // an amount that is not one
    else
      text += "{" + id + ",\"total\":\"" + std::to_string(i) + ".50\",\"posted\":\"2026-03-" + day + "T10:00:00Z\"}" +
              (i % 5 == 0 ? "\r\n" : "\n");
  }
  text += "{\"id\":\"CR-last\",\"total\":\"1.00\",\"posted\":\"2026-03-02T00:00:00Z\"}";  // no final newline
  write_file(path, text);
  SystemSpec sys = erp_system(path);

  MappedInput whole = map_system(sys, nullptr, MapOptions{1});
  REQUIRE(whole.records.size() == 35);  // 41 rows: 3 broken, 3 with an amount that is not one
  CHECK(whole.stats.read == 41);
  CHECK(whole.stats.rejected == 6);
  CHECK(whole.records.id(34) == "CR-last");
  CHECK(whole.records.line(34) == 46);  // 40 rows and 5 blank lines before it
  CHECK(whole.rejects[0].line == 12);   // CR-11: after the blank line 8
  CHECK(whole.rejects[0].raw == "{\"id\":\"CR-11\",");

  for (size_t threads : {2, 3, 7}) {
    CAPTURE(threads);
    auto parts = open_connector(sys.source, sys.name)->split(threads, 1);
    CHECK(parts.size() == threads);
    MappedInput split = map_system(sys, nullptr, MapOptions{threads, 1});
    CHECK(describe(split) == describe(whole));
    CHECK(split.latest_time == whole.latest_time);
  }
  // Too small to gain: read whole.
  CHECK(open_connector(sys.source, sys.name)->split(2, 1 << 20).empty());
}

TEST_CASE("mapping: an input allowed to be empty, read in parts, maps to zero rows") {
  TempDir dir;
  std::string path = dir / "erp.ndjson";
  write_file(path, std::string(4096, '\n'));
  SystemSpec sys = erp_system(path);
  sys.source.options["allow_empty"] = "true";
  CHECK(open_connector(sys.source, sys.name)->split(4, 1).size() == 4);
  MappedInput in = map_system(sys, nullptr, MapOptions{4, 1});
  CHECK(in.records.size() == 0);
  CHECK(in.stats.read == 0);
  CHECK(in.rejects.empty());
}

// A record's id is its id field's text, not stored again; an id of its own (an integer
// id's digits, "line N") is kept from then on, and parts joined mix both correctly.
TEST_CASE("mapping: record ids come from the id field, or are kept when they are text of their own") {
  SystemSpec sys;
  sys.name = "erp";
  sys.id_field = "id";
  FieldSpec id;
  id.name = "id";
  id.column = "id";
  sys.fields.push_back(id);
  StringArena texts;
  auto add = [&](RecordSet& rs, std::string_view field_text, std::optional<std::string_view> own_id) {
    Value* v = rs.begin_record();
    v[0] = Value::of_text(texts.store(field_text));
    rs.commit_record(rs.size() + 2, own_id ? texts.store(*own_id) : v[0].text());
  };
  RecordSet first(sys), second(sys), third(sys);
  add(first, "A1", std::nullopt);
  add(first, "A2", std::nullopt);
  add(second, "B1", std::nullopt);
  add(second, "B2", "line 9");  // from here on this set keeps its ids
  add(second, "B3", std::nullopt);
  add(third, "C1", std::nullopt);
  CHECK(first.id(1) == "A2");
  CHECK(second.id(0) == "B1");
  CHECK(second.id(1) == "line 9");
  CHECK(second.id(2) == "B3");
  first.append(std::move(second), 10);
  first.append(std::move(third), 20);
  REQUIRE(first.size() == 6);
  const char* expected[] = {"A1", "A2", "B1", "line 9", "B3", "C1"};
  for (size_t r = 0; r < first.size(); ++r) CHECK(first.id(r) == expected[r]);
  CHECK(first.line(2) == 12);
  CHECK(first.line(5) == 22);
}
