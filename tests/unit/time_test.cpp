#include <doctest/doctest.h>

#include <cstdio>
#include <utility>

#include "engine/value/time.hpp"

using namespace seam;

namespace {
std::string iso(const char* text, const char* format = "iso8601", const char* zone = "UTC") {
  auto tf = make_time_format(format, zone);
  if (!tf.ok()) FAIL(tf.error());
  auto t = parse_time(text, *tf);
  if (!t.ok()) FAIL(t.error());
  return format_time_iso(*t);
}
std::string failure(const char* text, const char* format = "iso8601", const char* zone = "UTC") {
  auto tf = make_time_format(format, zone);
  REQUIRE(tf.ok());
  auto t = parse_time(text, *tf);
  REQUIRE_FALSE(t.ok());
  return t.error();
}
}  // namespace

TEST_CASE("time: ISO 8601 with and without offsets") {
  CHECK(iso("2026-03-14T10:22:00Z") == "2026-03-14T10:22:00Z");
  CHECK(iso("2026-03-14T10:22:00+01:00") == "2026-03-14T09:22:00Z");
  CHECK(iso("2026-03-14 10:22:00-0500") == "2026-03-14T15:22:00Z");
  CHECK(iso("2026-03-14T10:22:00.250Z") == "2026-03-14T10:22:00.250Z");
  CHECK(iso("2026-03-14") == "2026-03-14T00:00:00Z");
  // no offset in the text: the declared zone applies (EDT, UTC-4, after 8 March 2026)
  CHECK(iso("2026-03-14T10:22:00", "iso8601", "America/New_York") == "2026-03-14T14:22:00Z");
  // an offset in the text wins over the declared zone
  CHECK(iso("2026-03-14T10:22:00Z", "iso8601", "America/New_York") == "2026-03-14T10:22:00Z");
}

TEST_CASE("time: declared patterns such as ERP exports use") {
  const char* us = "%m/%d/%Y %I:%M %p";
  CHECK(iso("3/14/2026 10:22 am", us, "America/New_York") == "2026-03-14T14:22:00Z");  // EDT
  CHECK(iso("03/01/2026 12:10 AM", us, "America/New_York") == "2026-03-01T05:10:00Z");  // EST, midnight hour
  CHECK(iso("3/14/2026 12:05 pm", us, "UTC") == "2026-03-14T12:05:00Z");
  CHECK(iso("14.03.2026 22:05:09", "%d.%m.%Y %H:%M:%S") == "2026-03-14T22:05:09Z");
  CHECK(iso("14 Mar 2026 09:00 +0100", "%d %b %Y %H:%M %z") == "2026-03-14T08:00:00Z");
  CHECK(iso("2026-03-14 10:22:00", "%F %T", "Europe/Berlin") == "2026-03-14T09:22:00Z");
}

TEST_CASE("time: unix seconds and milliseconds") {
  CHECK(iso("1773483720", "unix") == "2026-03-14T10:22:00Z");
  CHECK(iso("1773483720500", "unix_ms") == "2026-03-14T10:22:00.500Z");
  CHECK(iso("1773483720.25", "unix") == "2026-03-14T10:22:00.250Z");
}

TEST_CASE("time: errors say what was expected and where") {
  CHECK(failure("2026-13-01") == "cannot read '2026-13-01' as an ISO 8601 time: month out of range");
  CHECK(failure("2026-02-30") == "cannot read '2026-02-30' as a time: no such date");
  CHECK(failure("14/03/2026") == "cannot read '14/03/2026' as an ISO 8601 time: expected YYYY-MM-DD");
  CHECK(failure("3/14/2026 13:22 pm", "%m/%d/%Y %I:%M %p") ==
        "cannot read '3/14/2026 13:22 pm' as a time: hour 13 is not 1-12");
  CHECK(failure("3-14-2026", "%m/%d/%Y") == "cannot read '3-14-2026' as time '%m/%d/%Y': expected '/' at position 2");
  CHECK(failure("abc", "unix") == "cannot read 'abc' as a Unix time: expected a number");
  auto zone = make_time_format("iso8601", "Mars/Olympus");
  REQUIRE_FALSE(zone.ok());
  CHECK(zone.error() == "unknown time zone 'Mars/Olympus' (expected an IANA name such as America/New_York)");
  CHECK_FALSE(make_time_format("dd/mm/yyyy", "UTC").ok());
}

TEST_CASE("time: calendar dates in UTC and in a zone") {
  auto t = parse_time("2026-03-01T04:50:00Z", *make_time_format("iso8601", "UTC"));
  REQUIRE(t.ok());
  CHECK(civil_date_utc(*t).month == 3);
  auto ny = civil_date_in(*t, "America/New_York");
  REQUIRE(ny.ok());
  CHECK(ny->month == 2);  // 23:50 on 28 February in New York
  CHECK(ny->day == 28);
}

TEST_CASE("time: unix microseconds, and a count in the wrong unit is refused with the unit it fits") {
  CHECK(iso("1773483720500250", "unix_us") == "2026-03-14T10:22:00.500250Z");
  CHECK(iso("631152000", "unix") == "1990-01-01T00:00:00Z");
  CHECK(iso("4102444799", "unix") == "2099-12-31T23:59:59Z");
  CHECK(failure("4102444800", "unix") ==
        "cannot read '4102444800' as a Unix time in seconds: it is outside 1990-01-01 to 2099-12-31; it fits no unit "
        "(seconds, milliseconds or microseconds) either: check the column");
  CHECK(failure("1773483720500", "unix") ==
        "cannot read '1773483720500' as a Unix time in seconds: it is outside 1990-01-01 to 2099-12-31; it looks like "
        "milliseconds: declare format = \"unix_ms\"");
  CHECK(failure("1773483720", "unix_ms") ==
        "cannot read '1773483720' as a Unix time in milliseconds: it is outside 1990-01-01 to 2099-12-31; it looks "
        "like seconds: declare format = \"unix\"");
  CHECK(failure("1773483720500250", "unix_ms") ==
        "cannot read '1773483720500250' as a Unix time in milliseconds: it is outside 1990-01-01 to 2099-12-31; it "
        "looks like microseconds: declare format = \"unix_us\"");
  CHECK(failure("1773483720500", "unix_us") ==
        "cannot read '1773483720500' as a Unix time in microseconds: it is outside 1990-01-01 to 2099-12-31; it looks "
        "like milliseconds: declare format = \"unix_ms\"");
  CHECK(failure("0", "unix") ==
        "cannot read '0' as a Unix time in seconds: it is outside 1990-01-01 to 2099-12-31; it fits no unit (seconds, "
        "milliseconds or microseconds) either: check the column");
  CHECK(failure("-1773483720", "unix") ==
        "cannot read '-1773483720' as a Unix time in seconds: it is outside 1990-01-01 to 2099-12-31; it fits no unit "
        "(seconds, milliseconds or microseconds) either: check the column");
  CHECK(failure("1773483720500000000", "unix") ==
        "cannot read '1773483720500000000' as a Unix time: expected a number");
}

// A mapper converts a million local times with one ZoneCache; every one must come out as
// the zone's rules say, the DST changes (skipped and repeated hours) included.
TEST_CASE("time: local times converted through the zone cache equal the zone's rules, across DST changes") {
  auto tf = make_time_format("%Y-%m-%d %H:%M:%S", "America/New_York");
  REQUIRE(tf.ok());
  ZoneCache cache;
  int checked = 0;
  // Every 37 minutes through 2025 and 2026, then minute by minute around each change.
  auto check = [&](int y, int mo, int d, int h, int mi, int s) {
    char text[32];
    std::snprintf(text, sizeof text, "%04d-%02d-%02d %02d:%02d:%02d", y, mo, d, h, mi, s);
    auto plain = parse_time(text, *tf);
    auto cached = parse_time(text, *tf, &cache);
    CAPTURE(text);
    REQUIRE(plain.ok());
    REQUIRE(cached.ok());
    CHECK(*cached == *plain);
    ++checked;
  };
  for (int y : {2025, 2026})
    for (int mo = 1; mo <= 12; ++mo)
      for (int d = 1; d <= 28; ++d)
        for (int m = 0; m < 24 * 60; m += 37) check(y, mo, d, m / 60, m % 60, m % 60);
  for (auto [mo, d] : {std::pair{3, 8}, std::pair{11, 1}, std::pair{3, 9}, std::pair{11, 2}})  // 2026's changes, and after
    for (int m = 0; m < 24 * 60; ++m) check(2026, mo, d, m / 60, m % 60, 0);
  CHECK(checked > 30000);
  // The repeated hour resolves to its earlier instant, a time in the skipped hour to the
  // change itself, with the cache as without.
  CHECK(format_time_iso(*parse_time("2026-11-01 01:30:00", *tf, &cache)) == "2026-11-01T05:30:00Z");
  CHECK(format_time_iso(*parse_time("2026-03-08 02:30:00", *tf, &cache)) == "2026-03-08T07:00:00Z");
  CHECK(format_time_iso(*parse_time("2026-07-04 12:00:00", *tf, &cache)) == "2026-07-04T16:00:00Z");
}
