#pragma once
// A memory-mapped input's pages leave the process as soon as a pass over them is done.
//
// A large input is read by two passes at once: its digest (on a thread of its own, well
// ahead) and its parse (in parts, on several threads). Records copy what they keep into
// their own arena, so a page a pass has gone past is not needed by that pass again; left
// mapped, it counts in the process's memory until the whole input is read. Each pass
// gives back the whole pages of what it has finished (MADV_DONTNEED); a page the other
// pass still has to read comes back from the page cache when it does (the kernel maps a
// few neighbours with each fault), so the input never occupies more than the pages being
// read. At 5M refunds the digest ran a gigabyte ahead of the parse when it kept its pages.
//
// Giving a page back never makes a view into the input dangle: the mapping stays, and a
// page read again is mapped again from the page cache (as the same file's bytes), so a
// reader that looks back (a header's names, say) is only slower, never wrong.
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace seam {

class PageRelease {
 public:
  // Over `size` bytes of a file mapped at `base` (page-aligned).
  PageRelease(const char* base, size_t size) : base_(base), size_(size) {}
  PageRelease(const PageRelease&) = delete;
  PageRelease& operator=(const PageRelease&) = delete;

  // A pass is done with [from, to) (offsets from base): the whole pages inside it leave.
  void done(size_t from, size_t to);
  // Bytes given back so far, by every pass (for tests).
  uint64_t released_bytes() const { return released_.load(std::memory_order_relaxed); }
  // Bytes given back by every PageRelease of this process (for tests of the readers).
  static uint64_t released_in_process();

 private:
  const char* base_;
  size_t size_;
  std::atomic<uint64_t> released_{0};
};

}  // namespace seam
