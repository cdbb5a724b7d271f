#include <doctest/doctest.h>

#include "engine/report/counted_once.hpp"
#include "engine/report/html.hpp"
#include "engine/report/table.hpp"
#include "engine/report/totals.hpp"
#include "engine/report/variance.hpp"
#include "engine/util/json.hpp"
#include "engine/value/time.hpp"

using namespace seam;

TEST_CASE("reports: periods are UTC days, ISO 8601 weeks and months") {
  CHECK(period_of("2026-03-14T23:59:59Z", "day") == "2026-03-14");
  CHECK(period_of("2026-03-14T23:59:59Z", "month") == "2026-03");
  CHECK(period_of("2026-03-01T04:50:00Z", "week") == "2026-W09");  // a Sunday ends week 9
  CHECK(period_of("2026-03-02T00:00:00Z", "week") == "2026-W10");  // Monday starts week 10
  CHECK(period_of("2026-01-01T00:00:00Z", "week") == "2026-W01");  // a Thursday: week 1 of 2026
  CHECK(period_of("2027-01-01T12:00:00Z", "week") == "2026-W53");  // a Friday: still 2026's last week
  CHECK(period_of("2024-12-30T12:00:00Z", "week") == "2025-W01");  // a Monday: already 2025's first week
}

TEST_CASE("reports: JSON strings escape quotes, backslashes and control characters, and keep the rest as is") {
  auto escaped = [](std::string_view s) {
    std::string out;
    json_escape_to(out, s);
    return out;
  };
  CHECK(escaped("") == "\"\"");
  CHECK(escaped("R1001") == "\"R1001\"");
  CHECK(escaped("say \"hi\"") == "\"say \\\"hi\\\"\"");
  CHECK(escaped("a\\b") == "\"a\\\\b\"");
  CHECK(escaped("\n\r\t") == "\"\\n\\r\\t\"");
  CHECK(escaped(std::string_view("x\0y\x1f", 4)) == "\"x\\u0000y\\u001f\"");
  CHECK(escaped("caf\xc3\xa9 \"") == "\"caf\xc3\xa9 \\\"\"");  // UTF-8 passes through
  // Longer than one 8-byte word: specials at every position of a word, and in the tail.
  for (size_t at = 0; at < 19; ++at) {
    for (char special : {'"', '\\', '\n', '\x01', '\x1f'}) {
      std::string s(19, 'a');
      s[at] = special;
      std::string expected = "\"" + std::string(at, 'a') + escaped(std::string(1, special)).substr(1);
      expected.pop_back();
      expected += std::string(18 - at, 'a') + "\"";
      CAPTURE(at);
      CHECK(escaped(s) == expected);
    }
  }
  CHECK(escaped("\xe2\x82\xac 12,50 \xe2\x80\x94 r\xc3\xbc" "ckerstattung ok") == "\"\xe2\x82\xac 12,50 \xe2\x80\x94 r\xc3\xbc" "ckerstattung ok\"");
  CHECK(escaped(" !#$%&'()*+,-./09:;<=>?@AZ[]^_`az{|}~\x7f") == "\" !#$%&'()*+,-./09:;<=>?@AZ[]^_`az{|}~\x7f\"");
}

namespace {
ExceptionRow exception(int64_t id, std::string key, std::string status, std::string record_at, int64_t left, int64_t right,
                       bool amounts = true) {
  ExceptionRow r;
  r.id = id;
  r.reconcile = "refunds";
  r.key = std::move(key);
  r.status = std::move(status);
  r.record_at = std::move(record_at);
  r.first_seen_at = "2026-04-01T00:00:00Z";
  r.has_amounts = amounts;
  r.currency = amounts ? pack_currency("USD") : 0;
  r.left_amount = left;
  r.right_amount = right;
  return r;
}
}  // namespace

TEST_CASE("reports: totals count each key once per period and status, and never add money without amounts") {
  std::vector<ExceptionRow> rows = {
      exception(1, "R1", "open", "2026-03-10T10:00:00Z", 5000, 0),     // missing in the ERP
      exception(2, "R1", "open", "2026-03-10T10:00:00Z", 5000, 0),     // the same refund, a second rule
      exception(3, "R2", "open", "2026-03-11T10:00:00Z", 2000, 2500),  // amount off
      exception(4, "R3", "resolved", "2026-03-12T10:00:00Z", 700, 0),
      exception(5, "R4", "open", "", 0, 0, false),  // no record time, no amounts: first seen, counted only
  };
  auto totals = totals_report(rows, "month");
  // Per bucket the reconciliation's row, then the bucket's total counted once.
  REQUIRE(totals.size() == 6);
  CHECK(totals[0].period == "2026-03");
  CHECK(totals[0].status == "open");
  CHECK(totals[0].currency == "USD");
  CHECK(totals[0].reconcile == "refunds");
  CHECK(totals[0].keys == 2);
  CHECK(totals[0].exceptions == 3);
  CHECK(totals[0].left_total == 7000);
  CHECK(totals[0].right_total == 2500);
  CHECK(totals[0].net == -4500);
  CHECK(totals[0].net_once == -4500);
  CHECK(totals[0].at_stake_once == 5500);  // 50.00 missing, 5.00 too much
  CHECK(totals[1].total());
  CHECK(totals[1].keys == 2);
  CHECK(totals[1].exceptions == 3);
  CHECK(totals[1].net_once == -4500);
  CHECK(totals[2].status == "resolved");
  CHECK(totals[2].left_total == 700);
  CHECK(totals[4].period == "2026-04");  // R4 by its first detection
  CHECK(totals[4].currency == "");
  CHECK(totals[4].exceptions == 1);
  CHECK(totals[4].left_total == 0);
  CHECK(totals[5].total());
  auto by_day = totals_report(rows, "day");
  CHECK(by_day.size() == 8);
  CHECK(by_day[0].period == "2026-03-10");
  CHECK(by_day[0].keys == 1);
  CHECK(by_day[0].exceptions == 2);
  CHECK(by_day[0].left_total == 5000);
}

TEST_CASE("reports: money two reconciliations see is counted once, as its root cause's") {
  // A refund missing from the ERP (-50.00) fails at refund level; its order fails too (-50.00
  // of -70.00: another refund of the order is 20.00 short, with no declared cause).
  std::vector<ExceptionRow> rows = {
      exception(1, "R1", "open", "2026-03-10T10:00:00Z", 5000, 0),
      exception(2, "O1", "open", "2026-03-10T10:00:00Z", 9000, 2000),
      exception(3, "O1", "open", "2026-03-10T10:00:00Z", 9000, 2000),  // a second rule on the order
  };
  rows[1].reconcile = rows[2].reconcile = "orders";
  CauseLinks links = {{2, {{1, 5000, pack_currency("USD")}}}, {3, {{1, 5000, pack_currency("USD")}}}};
  auto explained = explained_by_causes(rows, links);
  CHECK(explained == std::vector<int64_t>{0, -5000, -5000});
  auto totals = totals_report(rows, "month", links);
  REQUIRE(totals.size() == 3);
  CHECK(totals[0].reconcile == "orders");
  CHECK(totals[0].keys == 1);
  CHECK(totals[0].exceptions == 2);
  CHECK(totals[0].net == -7000);
  CHECK(totals[0].explained == -5000);
  CHECK(totals[0].net_once == -2000);
  CHECK(totals[0].at_stake_once == 2000);
  CHECK(totals[1].reconcile == "refunds");
  CHECK(totals[1].net_once == -5000);
  CHECK(totals[2].total());
  CHECK(totals[2].keys == 2);
  CHECK(totals[2].exceptions == 3);
  CHECK(totals[2].net_once == -7000);  // not -12000: the 50.00 once
  CHECK(totals[2].at_stake_once == 7000);
  auto headline = at_stake_once_by_status(rows, links);
  CHECK(headline["open"][pack_currency("USD")] == 7000);
  // An exception with no amounts but a money delta keeps the delta's sign in the net.
  ExceptionRow delta_only = exception(9, "R9", "open", "2026-03-10T10:00:00Z", 0, 0, false);
  delta_only.currency = pack_currency("USD");
  delta_only.delta = "-12.50 USD";
  delta_only.amount_minor = 1250;
  auto by_status = money_once_by({delta_only}, {}, [](const ExceptionRow& r) { return r.status; });
  CHECK(by_status["open"][pack_currency("USD")].net == -1250);
  CHECK(by_status["open"][pack_currency("USD")].at_stake == 1250);
  // Without its cause in the report (--reconcile orders), the order carries all its money.
  std::vector<ExceptionRow> orders(rows.begin() + 1, rows.end());
  CHECK(explained_by_causes(orders, links) == std::vector<int64_t>{0, 0});
  CHECK(totals_report(orders, "month", links)[1].net_once == -7000);
  // A link in another currency explains nothing of a USD variance.
  CauseLinks euros = {{2, {{1, 5000, pack_currency("EUR")}}}};
  CHECK(explained_by_causes(rows, euros) == std::vector<int64_t>{0, 0, 0});
}

TEST_CASE("reports: periods follow the books' zone when one is given") {
  // 23:50 on 28 February in New York is 04:50 on 1 March UTC: February's books.
  auto ny = find_zone("America/New_York");
  REQUIRE(ny);
  CHECK(period_of("2026-03-01T04:50:00Z", "month") == "2026-03");
  CHECK(period_of("2026-03-01T04:50:00Z", "month", *ny) == "2026-02");
  CHECK(period_of("2026-03-01T04:50:00Z", "day", *ny) == "2026-02-28");
  // Monday 2 March 04:50 UTC is still Sunday in New York: the end of ISO week 9 there.
  CHECK(period_of("2026-03-02T04:50:00Z", "week") == "2026-W10");
  CHECK(period_of("2026-03-02T04:50:00Z", "week", *ny) == "2026-W09");
  std::vector<ExceptionRow> rows = {exception(1, "R1", "open", "2026-03-01T04:50:00Z", 5000, 0)};
  CHECK(totals_report(rows, "month", {}, *ny)[0].period == "2026-02");
}

TEST_CASE("reports: text tables fit a terminal, CSV quotes what needs quoting, HTML escapes") {
  TextTable t = {{"id", "message"}, {"1", "short"}, {"22", "a much longer message than fits"}};
  CHECK(render_table(t) == "id  message\n1   short\n22  a much longer message than fits\n");
  // The last column wraps at spaces, indented under itself; nothing is cut.
  CHECK(render_table(t, 16) == "id  message\n1   short\n22  a much\n    longer\n    message than\n    fits\n");
  // Too little room left for it to wrap readably: the line runs long rather than cut.
  CHECK(render_table(t, 12) == "id  message\n1   short\n22  a much longer message than fits\n");
  TextTable amounts = {{"key", "at stake", "message"}, {"R1", "1,234.56 USD", "x"}};
  CHECK(render_table(amounts, 10) == "key  at stake      message\nR1   1,234.56 USD  x\n");
  CHECK(render_csv({{"a", "b,c"}, {"say \"hi\"", "x"}}) == "a,\"b,c\"\r\n\"say \"\"hi\"\"\",x\r\n");
  CHECK(html_escape("<b>R&D's \"x\"</b>") == "&lt;b&gt;R&amp;D&#39;s &quot;x&quot;&lt;/b&gt;");
}

TEST_CASE("reports: CSV never writes a live formula, and seam's own numbers stay numbers") {
  // Text columns: every cell a spreadsheet would read as a formula is quoted behind a '.
  CHECK(csv_cell("=HYPERLINK(\"http://evil.example/\",\"R1099\")", false) ==
        "\"'=HYPERLINK(\"\"http://evil.example/\"\",\"\"R1099\"\")\"");
  CHECK(csv_cell("+1", false) == "\"'+1\"");
  CHECK(csv_cell("-12.50", false) == "\"'-12.50\"");
  CHECK(csv_cell("@SUM(A1)", false) == "\"'@SUM(A1)\"");
  CHECK(csv_cell("\tx", false) == "\"'\tx\"");
  CHECK(csv_cell("\rx", false) == "\"'\rx\"");
  CHECK(csv_cell("R1099", false) == "R1099");
  CHECK(csv_cell("a=b", false) == "a=b");
  // Numeric columns keep amounts, counts and deltas in seam's shape as they are...
  CHECK(csv_cell("-12.50", true) == "-12.50");
  CHECK(csv_cell("-45.00 USD", true) == "-45.00 USD");
  CHECK(csv_cell("-5 min", true) == "-5 min");
  CHECK(csv_cell("12", true) == "12");
  // ...and neutralise anything else there (a Lua rule's delta is the client's text).
  CHECK(csv_cell("-1+cmd|' /C calc'!A0", true) == "\"'-1+cmd|' /C calc'!A0\"");
  CHECK(csv_cell("=1+1", true) == "\"'=1+1\"");
  CHECK(csv_cell("-12.", true) == "\"'-12.\"");
  CHECK(csv_cell("-", true) == "\"'-\"");
  CHECK(render_csv({{"id", "key", "delta"}, {"-1", "-1", "-1.00 USD"}}, {0, 2}) ==
        "id,key,delta\r\n-1,\"'-1\",-1.00 USD\r\n");
}

TEST_CASE("reports: the open-exceptions chart draws one bar per run, negative variance below the axis") {
  std::vector<OpenAtRun> history = {{1, "2026-03-24T06:00:00Z", 16, {{"USD", 6300}}},
                                    {2, "2026-03-26T06:00:00Z", 13, {{"USD", -2000}}}};
  std::string svg = open_history_svg(history, "USD");
  CHECK(svg.find("data-label=\"run 1 2026-03-24\" data-value=\"16\"") != std::string::npos);
  CHECK(svg.find("data-label=\"run 2 2026-03-26\" data-value=\"-20.00 USD\"") != std::string::npos);
  CHECK(svg.find("fill=\"#c0504d\" data-label=\"run 2 2026-03-26\"") != std::string::npos);  // the negative bar
  CHECK(open_history_svg(history, "").find("chart-variance") == std::string::npos);
}
