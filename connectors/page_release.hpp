#pragma once
// A memory-mapped input's pages leave the process once every pass over them is done.
//
// A large input is read by two passes at once: its digest (on a thread of its own) and
// its parse (in parts, on several threads). Records copy what they keep into their own
// arena, so a page both passes have gone past is never needed again; left mapped, it
// counts in the process's memory until the whole input is read (325 MB of the 1M
// benchmark's inputs, on top of the records being built). Each pass says which bytes it
// is done with; a chunk every pass has finished is given back with MADV_DONTNEED.
//
// Giving a page back never makes a view into the input dangle: the mapping stays, and a
// page read again is mapped again from the page cache (as the same file's bytes), so a
// reader that looks back (a header's names, say) is only slower, never wrong.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace seam {

class PageRelease {
 public:
  // Over `size` bytes mapped at `base` (page-aligned), read by `passes` passes.
  PageRelease(const char* base, size_t size, unsigned passes);
  PageRelease(const PageRelease&) = delete;
  PageRelease& operator=(const PageRelease&) = delete;

  // One pass is done with [from, to) (offsets from base). Each pass reports each byte at
  // most once; a range may cross chunks and start or end inside one.
  void done(size_t from, size_t to);
  // Chunks given back so far (for tests).
  size_t released() const { return released_.load(std::memory_order_relaxed); }

  static constexpr size_t kChunkBytes = size_t{1} << 20;
  // Chunks given back by every PageRelease of this process (for tests of the readers).
  static uint64_t released_in_process();

 private:
  const char* base_;
  size_t size_;
  unsigned passes_;
  std::unique_ptr<std::atomic<uint32_t>[]> done_;  // per chunk: bytes reported, over all passes
  std::atomic<size_t> released_{0};
};

}  // namespace seam
