#pragma once
// Lua sources compiled into the binary: the DSL prelude and the rules/ library.
#include <string_view>
#include <vector>

namespace seam::embedded {

struct File {
  std::string_view path;  // e.g. "rules/periods.lua"
  std::string_view text;
};
const std::vector<File>& files();

}  // namespace seam::embedded
