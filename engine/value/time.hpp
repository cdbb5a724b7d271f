#pragma once
// Time is int64 microseconds since the Unix epoch, UTC. Each parsed time carries the
// rule that turned its text into UTC: an offset in the text, else the declared zone.
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/util/result.hpp"

namespace date {
class time_zone;
}

namespace seam {

using TimeUs = int64_t;
constexpr TimeUs kMicrosPerSecond = 1'000'000;
constexpr TimeUs kMicrosPerMinute = 60 * kMicrosPerSecond;

struct TimeFormat {
  enum class Kind { Iso8601, UnixSeconds, UnixMillis, UnixMicros, Pattern };
  Kind kind = Kind::Iso8601;
  std::string pattern;                    // strftime-like, for Kind::Pattern
  std::string zone_name = "UTC";          // used when the text has no offset
  const date::time_zone* zone = nullptr;  // nullptr means UTC
};

// `format` is "iso8601", "unix", "unix_ms", "unix_us" or a pattern with %Y %y %m %d %e %H %I %M %S %f
// %p %z %b %F %T %%. `zone` is an IANA name ("America/New_York") or "UTC".
Result<TimeFormat> make_time_format(std::string_view format, std::string_view zone);
// The stretch of local time around the last one converted in which the zone keeps one UTC
// offset, a day clear of any change: a reader of a million local times in one zone (an ERP
// export in New York time) converts them without a time-zone look-up each. One per thread.
struct ZoneCache {
  int64_t local_from_s = 1, local_to_s = 0;  // [from, to) in local seconds; empty at first
  int64_t offset_s = 0;                      // local - UTC
};

// A Unix time must fall in 1990-01-01 .. 2099-12-31 UTC; outside, the reason names the unit
// it fits ("looks like milliseconds: declare format = \"unix_ms\"").
// `cache`, when given, is used and updated for local times in the format's zone; the
// result is the same with it or without.
Result<TimeUs> parse_time(std::string_view text, const TimeFormat& format, ZoneCache* cache = nullptr);

std::string format_time_iso(TimeUs t);  // "2026-03-14T14:22:00Z"

struct CivilDate {
  int year, month, day;
};
CivilDate civil_date_utc(TimeUs t);
// The calendar date in an IANA zone (books are often kept in the company's local time).
Result<CivilDate> civil_date_in(TimeUs t, std::string_view zone);
// An IANA zone looked up once (nullptr for "UTC"), for day counts on hot paths; an error
// for a name the time zone database does not have.
Result<const date::time_zone*> find_zone(std::string_view zone);
// Days since 1970-01-01 of the calendar date `t` falls on in `zone` (nullptr: UTC).
int64_t day_number_in(TimeUs t, const date::time_zone* zone);

}  // namespace seam
