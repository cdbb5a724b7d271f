#pragma once
// What the terminal seam writes to can take: colour, and a progress line redrawn in place.

namespace seam::cli {

enum class ColorMode { Auto, Always, Never };

// "auto", "always" or "never" (main checks the spelling).
ColorMode parse_color_mode(const char* text);

// Returns true iff output to file descriptor `fd` gets colour: always with Always, never with
// Never; with Auto when `fd` is a terminal, NO_COLOR is unset or empty (no-color.org) and
// TERM is not "dumb".
bool use_color(ColorMode mode, int fd);

// Returns true iff stderr is a terminal that can redraw a line (\r, then \033[K to clear
// it): not when TERM is "dumb", and never when stderr is a file or a pipe.
bool progress_on_stderr();

}  // namespace seam::cli
