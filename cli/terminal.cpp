#include "cli/terminal.hpp"

#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace seam::cli {
namespace {

bool dumb_terminal() {
  const char* term = std::getenv("TERM");
  return term && std::strcmp(term, "dumb") == 0;
}

}  // namespace

ColorMode parse_color_mode(const char* text) {
  if (std::strcmp(text, "always") == 0) return ColorMode::Always;
  if (std::strcmp(text, "never") == 0) return ColorMode::Never;
  return ColorMode::Auto;
}

bool use_color(ColorMode mode, int fd) {
  if (mode != ColorMode::Auto) return mode == ColorMode::Always;
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color && *no_color) return false;
  return isatty(fd) && !dumb_terminal();
}

bool progress_on_stderr() { return isatty(STDERR_FILENO) && !dumb_terminal(); }

}  // namespace seam::cli
