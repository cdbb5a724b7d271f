#pragma once
// `seam init DIR`: a small working stack to start from.
#include <string>
#include <vector>

namespace seam::cli {

// One file of the scaffold: its path inside the stack folder and its text.
struct ScaffoldFile {
  std::string path, text;
};

// The scaffold's files for a stack named `name` (its folder's name): stack.lua, two CSV
// exports, a stack test and a README, in the order they are written.
std::vector<ScaffoldFile> scaffold_files(const std::string& name);

// Writes the scaffold into `dir`, which must be missing or empty; returns the files written
// (their paths inside `dir`). Throws UserError, having written nothing, when `dir` is a file
// or holds anything.
std::vector<std::string> init_stack(const std::string& dir);

}  // namespace seam::cli
