#pragma once
// 128-bit integers for products of money or quantities that may not fit 64 bits.
namespace seam {
__extension__ typedef __int128 Wide;
}  // namespace seam
