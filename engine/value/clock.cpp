#include "engine/value/clock.hpp"

#include <chrono>
#include <cstdlib>
#include <string>

#include "engine/util/result.hpp"

namespace seam {

TimeUs clock_now() {
  if (const char* fixed = std::getenv("SEAM_NOW"); fixed && *fixed) {
    auto t = parse_time(fixed, *make_time_format("iso8601", "UTC"));
    if (!t) throw UserError("SEAM_NOW: " + t.error());
    return *t;
  }
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace seam
