#pragma once
// Asking the CPU for memory before it is needed, where an access pattern is known ahead
// (evaluation visits records in match order; the matcher probes its table in input order).
#include <cstddef>
#include <cstdint>

namespace seam {

// GCC treats __builtin_prefetch as free of side effects and deletes a loop, or a whole
// inlined helper, made only of prefetches: the evaluation's look-ahead once compiled to
// nothing. The empty asm with the address as input marks each one as wanted.
inline void prefetch(const void* p) {
  __builtin_prefetch(p);
  asm volatile("" : : "r"(p));
}

// Every cache line of [p, p + bytes).
inline void prefetch_bytes(const void* p, size_t bytes) {
  if (bytes == 0) return;
  auto first = reinterpret_cast<uintptr_t>(p) & ~uintptr_t{63};
  auto last = reinterpret_cast<uintptr_t>(p) + bytes - 1;
  for (uintptr_t line = first; line <= last; line += 64) prefetch(reinterpret_cast<const void*>(line));
}

}  // namespace seam
