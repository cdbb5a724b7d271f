#pragma once
#include <string>
#include <vector>

namespace seam {

// An aligned text table; the first row is the header. The last column is not padded.
std::string render_table(const std::vector<std::vector<std::string>>& rows);

}  // namespace seam
