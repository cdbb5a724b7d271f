#include "engine/value/time.hpp"

#include <date/date.h>
#include <date/tz.h>

#include <cctype>
#include <chrono>
#include <cstdio>

#include "engine/util/text.hpp"
#include "engine/value/wide.hpp"

namespace seam {

namespace {

using std::chrono::microseconds;

struct Cursor {
  std::string_view s;
  size_t i = 0;
  bool done() const { return i >= s.size(); }
  char peek() const { return done() ? '\0' : s[i]; }
};

// Reads between min and max digits; returns -1 when fewer than min are there.
int64_t read_digits(Cursor& c, int min, int max) {
  int64_t v = 0;
  int n = 0;
  while (n < max && !c.done() && std::isdigit(static_cast<unsigned char>(c.peek()))) {
    v = v * 10 + (c.peek() - '0');
    ++c.i;
    ++n;
  }
  return n >= min ? v : -1;
}

// Fraction digits as microseconds ("5" → 500000); extra digits past µs are dropped.
int64_t read_fraction(Cursor& c) {
  int64_t us = 0;
  int n = 0;
  while (!c.done() && std::isdigit(static_cast<unsigned char>(c.peek()))) {
    if (n < 6) us = us * 10 + (c.peek() - '0');
    ++n;
    ++c.i;
  }
  if (n == 0) return -1;
  for (; n < 6; ++n) us *= 10;
  return us;
}

// "Z", "+05:30", "-0500", "+01". Returns false when no valid offset is there.
bool read_offset(Cursor& c, int64_t& offset_seconds) {
  if (c.peek() == 'Z' || c.peek() == 'z') {
    ++c.i;
    offset_seconds = 0;
    return true;
  }
  if (c.peek() != '+' && c.peek() != '-') return false;
  int sign = c.peek() == '-' ? -1 : 1;
  ++c.i;
  int64_t hh = read_digits(c, 2, 2);
  if (hh < 0 || hh > 23) return false;
  int64_t mm = 0;
  if (c.peek() == ':') ++c.i;
  if (!c.done() && std::isdigit(static_cast<unsigned char>(c.peek()))) {
    mm = read_digits(c, 2, 2);
    if (mm < 0 || mm > 59) return false;
  }
  offset_seconds = sign * (hh * 3600 + mm * 60);
  return true;
}

int month_from_name(Cursor& c) {
  static const char* names[] = {"january", "february", "march",     "april",   "may",      "june",
                                "july",    "august",   "september", "october", "november", "december"};
  std::string rest = to_lower(c.s.substr(c.i));
  for (int m = 0; m < 12; ++m) {
    std::string full = names[m];
    if (rest.compare(0, full.size(), full) == 0) {
      c.i += full.size();
      return m + 1;
    }
    if (rest.compare(0, 3, full, 0, 3) == 0) {
      c.i += 3;
      return m + 1;
    }
  }
  return -1;
}

struct Fields {
  int64_t year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0, micros = 0;
  int64_t hour12 = -1;  // set by %I, resolved with %p
  int pm = -1;          // -1 unset, 0 am, 1 pm
  bool has_offset = false;
  int64_t offset_seconds = 0;
};

// Local time to UTC in `zone`: from the cache when the local time is inside its stretch,
// else by the zone's rules (a repeated or skipped local time, at a DST change, resolves to
// the earlier instant), refilling the cache when the offset there is unambiguous.
TimeUs local_to_utc(date::local_time<microseconds> local, const date::time_zone& zone, ZoneCache* cache) {
  const int64_t local_us = local.time_since_epoch().count();
  const int64_t local_s = date::floor<std::chrono::seconds>(local).time_since_epoch().count();
  if (cache && local_s >= cache->local_from_s && local_s < cache->local_to_s)
    return local_us - cache->offset_s * kMicrosPerSecond;
  if (cache) {
    const date::local_info info = zone.get_info(date::floor<std::chrono::seconds>(local));
    if (info.result == date::local_info::unique) {
      const date::sys_info& span = info.first;
      // The zone's first and last spans reach to the ends of time: kept within ±10,000
      // years, the sums below cannot overflow.
      constexpr int64_t kFar = int64_t{10000} * 366 * 86400, kDay = 86400;
      const int64_t off = span.offset.count();
      const int64_t begin = std::max(span.begin.time_since_epoch().count(), -kFar);
      const int64_t end = std::min(span.end.time_since_epoch().count(), kFar);
      // A day clear of each change: local times near one may be repeated or skipped.
      cache->local_from_s = begin + off + kDay;
      cache->local_to_s = end + off - kDay;
      cache->offset_s = off;
      if (local_s >= cache->local_from_s && local_s < cache->local_to_s) return local_us - off * kMicrosPerSecond;
    }
  }
  auto sys = zone.to_sys(local, date::choose::earliest);
  return std::chrono::duration_cast<microseconds>(sys.time_since_epoch()).count();
}

Result<TimeUs> to_utc(const Fields& f, const TimeFormat& format, std::string_view text, ZoneCache* cache) {
  auto bad = [&](const std::string& why) {
    return err("cannot read " + quote_for_message(text) + " as a time: " + why);
  };
  int64_t hour = f.hour;
  if (f.hour12 >= 0) {
    if (f.hour12 < 1 || f.hour12 > 12) return bad("hour " + std::to_string(f.hour12) + " is not 1-12");
    hour = f.hour12 % 12 + (f.pm == 1 ? 12 : 0);
  }
  if (hour > 23 || f.minute > 59 || f.second > 60) return bad("time of day out of range");
  date::year_month_day ymd{date::year{static_cast<int>(f.year)}, date::month{static_cast<unsigned>(f.month)},
                           date::day{static_cast<unsigned>(f.day)}};
  if (!ymd.ok()) return bad("no such date");
  auto local = date::local_days{ymd} + std::chrono::hours{hour} + std::chrono::minutes{f.minute} +
               std::chrono::seconds{f.second} + microseconds{f.micros};
  if (f.has_offset) {
    auto since_epoch = local.time_since_epoch() - std::chrono::seconds{f.offset_seconds};
    return std::chrono::duration_cast<microseconds>(since_epoch).count();
  }
  if (!format.zone) return std::chrono::duration_cast<microseconds>(local.time_since_epoch()).count();
  return local_to_utc(local, *format.zone, cache);
}

Result<TimeUs> parse_iso(std::string_view text, const TimeFormat& format, ZoneCache* cache) {
  Cursor c{trim(text)};
  Fields f;
  auto bad = [&](const std::string& why) {
    return err("cannot read " + quote_for_message(text) + " as an ISO 8601 time: " + why);
  };
  if ((f.year = read_digits(c, 4, 4)) < 0 || c.peek() != '-') return bad("expected YYYY-MM-DD");
  ++c.i;
  if ((f.month = read_digits(c, 2, 2)) < 0 || c.peek() != '-') return bad("expected YYYY-MM-DD");
  ++c.i;
  if ((f.day = read_digits(c, 2, 2)) < 0) return bad("expected YYYY-MM-DD");
  if (f.month < 1 || f.month > 12) return bad("month out of range");
  if (!c.done()) {
    if (c.peek() != 'T' && c.peek() != 't' && c.peek() != ' ') return bad("expected 'T' after the date");
    ++c.i;
    if ((f.hour = read_digits(c, 2, 2)) < 0 || c.peek() != ':') return bad("expected HH:MM");
    ++c.i;
    if ((f.minute = read_digits(c, 2, 2)) < 0) return bad("expected HH:MM");
    if (c.peek() == ':') {
      ++c.i;
      if ((f.second = read_digits(c, 2, 2)) < 0) return bad("expected seconds");
      if (c.peek() == '.' || c.peek() == ',') {
        ++c.i;
        if ((f.micros = read_fraction(c)) < 0) return bad("expected fraction digits");
      }
    }
    if (c.peek() == ' ') ++c.i;
    if (!c.done()) {
      if (!read_offset(c, f.offset_seconds)) return bad("expected Z or an offset such as +01:00");
      f.has_offset = true;
    }
  }
  if (!c.done()) return bad("unexpected text after the time");
  return to_utc(f, format, text, cache);
}

// The instants a Unix time in an export can plausibly stand for. A count outside them is
// almost always in another unit (milliseconds read as seconds land in the year 58000; seconds
// read as milliseconds in January 1970), so it is refused with the unit it fits.
constexpr int64_t kUnixFirstSecond = 631'152'000;    // 1990-01-01T00:00:00Z
constexpr int64_t kUnixEndSecond = 4'102'444'800;    // 2100-01-01T00:00:00Z, excluded

const char* unix_unit_name(int64_t unit_us) {
  return unit_us == kMicrosPerSecond ? "seconds" : unit_us == 1000 ? "milliseconds" : "microseconds";
}
const char* unix_format_name(int64_t unit_us) {
  return unit_us == kMicrosPerSecond ? "unix" : unit_us == 1000 ? "unix_ms" : "unix_us";
}

Result<TimeUs> parse_unix(std::string_view text, int64_t unit_us) {
  std::string_view s = trim(text);
  bool neg = !s.empty() && s[0] == '-';
  if (neg) s.remove_prefix(1);
  Cursor c{s};
  int64_t whole = read_digits(c, 1, 18);
  int64_t frac = 0;
  if (whole >= 0 && c.peek() == '.') {
    ++c.i;
    frac = read_fraction(c);  // microseconds of a second; scaled below for ms
    if (frac < 0) whole = -1;
  }
  if (whole < 0 || !c.done())
    return err("cannot read " + quote_for_message(text) + " as a Unix time: expected a number");
  auto plausible = [&](int64_t unit) {
    if (neg) return false;  // before 1970
    Wide seconds = static_cast<Wide>(whole) * unit / kMicrosPerSecond;
    return seconds >= kUnixFirstSecond && seconds < kUnixEndSecond;
  };
  if (!plausible(unit_us)) {
    std::string msg = "cannot read " + quote_for_message(text) + " as a Unix time in " + unix_unit_name(unit_us) +
                      ": it is outside 1990-01-01 to 2099-12-31";
    for (int64_t other : {kMicrosPerSecond, int64_t{1000}, int64_t{1}})
      if (other != unit_us && frac == 0 && plausible(other))
        return err(msg + "; it looks like " + unix_unit_name(other) + ": declare format = \"" +
                   unix_format_name(other) + "\"");
    return err(msg + "; it fits no unit (seconds, milliseconds or microseconds) either: check the column");
  }
  int64_t us = whole * unit_us + frac * unit_us / kMicrosPerSecond;
  return neg ? -us : us;
}

Result<TimeUs> parse_pattern(std::string_view text, const TimeFormat& format, ZoneCache* cache) {
  Cursor c{trim(text)};
  Fields f;
  const std::string& p = format.pattern;
  auto bad = [&](const std::string& why) {
    return err("cannot read " + quote_for_message(text) + " as time '" + p + "': " + why);
  };
  for (size_t k = 0; k < p.size(); ++k) {
    char pc = p[k];
    if (pc == ' ') {
      if (!std::isspace(static_cast<unsigned char>(c.peek()))) return bad("expected a space at position " + std::to_string(c.i + 1));
      while (std::isspace(static_cast<unsigned char>(c.peek()))) ++c.i;
      continue;
    }
    if (pc != '%') {
      if (c.peek() != pc) return bad(std::string("expected '") + pc + "' at position " + std::to_string(c.i + 1));
      ++c.i;
      continue;
    }
    char d = k + 1 < p.size() ? p[++k] : '\0';
    int64_t v = 0;
    switch (d) {
      case 'Y': v = f.year = read_digits(c, 4, 4); break;
      case 'y': v = read_digits(c, 2, 2); f.year = 2000 + v; break;
      case 'm': v = f.month = read_digits(c, 1, 2); break;
      case 'd': case 'e': v = f.day = read_digits(c, 1, 2); break;
      case 'H': v = f.hour = read_digits(c, 1, 2); break;
      case 'I': v = f.hour12 = read_digits(c, 1, 2); break;
      case 'M': v = f.minute = read_digits(c, 1, 2); break;
      case 'S': v = f.second = read_digits(c, 1, 2); break;
      case 'f': v = f.micros = read_fraction(c); break;
      case 'b': v = f.month = month_from_name(c); break;
      case 'p': {
        std::string ampm = to_lower(c.s.substr(c.i, 2));
        if (ampm == "am" || ampm == "pm") {
          f.pm = ampm == "pm";
          c.i += 2;
        } else {
          v = -1;
        }
        break;
      }
      case 'z':
        if (!read_offset(c, f.offset_seconds)) v = -1;
        f.has_offset = true;
        break;
      case '%':
        if (c.peek() != '%') v = -1;
        ++c.i;
        break;
      default:
        return bad(std::string("unknown directive %") + d);
    }
    if (v < 0) return bad(std::string("%") + d + " does not match at position " + std::to_string(c.i + 1));
  }
  if (!c.done()) return bad("unexpected text at position " + std::to_string(c.i + 1));
  if (f.month < 1 || f.month > 12) return bad("month out of range");
  if (f.hour12 >= 0 && f.pm < 0) return bad("%I needs %p (am/pm)");
  return to_utc(f, format, text, cache);
}

}  // namespace

Result<TimeFormat> make_time_format(std::string_view format, std::string_view zone) {
  TimeFormat tf;
  std::string fmt = to_lower(format);
  if (fmt.empty() || fmt == "iso8601" || fmt == "iso") {
    tf.kind = TimeFormat::Kind::Iso8601;
  } else if (fmt == "unix" || fmt == "unix_s") {
    tf.kind = TimeFormat::Kind::UnixSeconds;
  } else if (fmt == "unix_ms") {
    tf.kind = TimeFormat::Kind::UnixMillis;
  } else if (fmt == "unix_us") {
    tf.kind = TimeFormat::Kind::UnixMicros;
  } else {
    tf.kind = TimeFormat::Kind::Pattern;
    tf.pattern = std::string(format);
    // %F and %T are shorthands; expand once so the parser stays simple.
    for (auto [from, to] : {std::pair{"%F", "%Y-%m-%d"}, std::pair{"%T", "%H:%M:%S"}}) {
      for (size_t pos; (pos = tf.pattern.find(from)) != std::string::npos;) tf.pattern.replace(pos, 2, to);
    }
    if (tf.pattern.find('%') == std::string::npos)
      return err("time format " + quote_for_message(format) +
                 " has no % directives; expected iso8601, unix, unix_ms, unix_us or a pattern like '%m/%d/%Y %I:%M %p'");
  }
  if (!zone.empty() && zone != "UTC" && zone != "utc" && zone != "Etc/UTC") {
    try {
      tf.zone = date::locate_zone(zone);
      tf.zone_name = std::string(zone);
    } catch (const std::exception&) {
      return err("unknown time zone " + quote_for_message(zone) + " (expected an IANA name such as America/New_York)");
    }
  }
  return tf;
}

Result<TimeUs> parse_time(std::string_view text, const TimeFormat& format, ZoneCache* cache) {
  switch (format.kind) {
    case TimeFormat::Kind::Iso8601: return parse_iso(text, format, cache);
    case TimeFormat::Kind::UnixSeconds: return parse_unix(text, kMicrosPerSecond);
    case TimeFormat::Kind::UnixMillis: return parse_unix(text, 1000);
    case TimeFormat::Kind::UnixMicros: return parse_unix(text, 1);
    case TimeFormat::Kind::Pattern: return parse_pattern(text, format, cache);
  }
  return err("unknown time format");
}

CivilDate civil_date_utc(TimeUs t) {
  auto tp = date::sys_time<microseconds>{microseconds{t}};
  auto days = date::floor<date::days>(tp);
  date::year_month_day ymd{days};
  return {static_cast<int>(ymd.year()), static_cast<int>(static_cast<unsigned>(ymd.month())),
          static_cast<int>(static_cast<unsigned>(ymd.day()))};
}

Result<const date::time_zone*> find_zone(std::string_view zone) {
  if (zone.empty() || zone == "UTC") return static_cast<const date::time_zone*>(nullptr);
  try {
    return date::locate_zone(std::string(zone));
  } catch (const std::exception&) {
    return err("unknown time zone '" + std::string(zone) + "' (an IANA name such as America/New_York, or UTC)");
  }
}

int64_t day_number_in(TimeUs t, const date::time_zone* zone) {
  auto sys = date::sys_time<microseconds>{microseconds{t}};
  if (!zone) return date::floor<date::days>(sys).time_since_epoch().count();
  return date::floor<date::days>(zone->to_local(sys)).time_since_epoch().count();
}

Result<CivilDate> civil_date_in(TimeUs t, std::string_view zone) {
  auto tf = make_time_format("iso8601", zone);
  if (!tf) return err(tf.error());
  if (!tf->zone) return civil_date_utc(t);
  auto local = tf->zone->to_local(date::sys_time<microseconds>{microseconds{t}});
  date::year_month_day ymd{date::floor<date::days>(local)};
  return CivilDate{static_cast<int>(ymd.year()), static_cast<int>(static_cast<unsigned>(ymd.month())),
                   static_cast<int>(static_cast<unsigned>(ymd.day()))};
}

std::string format_time_iso(TimeUs t) {
  auto tp = date::sys_time<microseconds>{microseconds{t}};
  auto days = date::floor<date::days>(tp);
  date::year_month_day ymd{days};
  date::hh_mm_ss<microseconds> tod{tp - days};
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d", static_cast<int>(ymd.year()),
                        static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                        static_cast<int>(tod.hours().count()), static_cast<int>(tod.minutes().count()),
                        static_cast<int>(tod.seconds().count()));
  auto us = tod.subseconds().count();
  if (us % 1000 == 0 && us != 0)
    n += std::snprintf(buf + n, sizeof buf - static_cast<size_t>(n), ".%03lld", static_cast<long long>(us / 1000));
  else if (us != 0)
    n += std::snprintf(buf + n, sizeof buf - static_cast<size_t>(n), ".%06lld", static_cast<long long>(us));
  std::snprintf(buf + n, sizeof buf - static_cast<size_t>(n), "Z");
  return buf;
}

}  // namespace seam
