#pragma once
// seam.1, written from the CLI11 definitions `--help` prints, so the manual cannot drift
// from the commands.
#include <string>

namespace CLI {
class App;
}

namespace seam::cli {

// A man(7) page for `app`: its description, its global options, then every command and
// subcommand (hidden ones, in the group "", left out) with its positionals and options.
std::string man_page(const CLI::App& app, const std::string& version);

}  // namespace seam::cli
