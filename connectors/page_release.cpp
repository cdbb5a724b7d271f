#include "connectors/page_release.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>

namespace seam {
namespace {
std::atomic<uint64_t> chunks_released{0};
}  // namespace

uint64_t PageRelease::released_in_process() { return chunks_released.load(); }

PageRelease::PageRelease(const char* base, size_t size, unsigned passes)
    : base_(base), size_(size), passes_(passes),
      done_(std::make_unique<std::atomic<uint32_t>[]>((size + kChunkBytes - 1) / kChunkBytes)) {}

void PageRelease::done(size_t from, size_t to) {
  to = std::min(to, size_);
  static const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  while (from < to) {
    const size_t chunk = from / kChunkBytes;
    const size_t chunk_begin = chunk * kChunkBytes, chunk_end = std::min(chunk_begin + kChunkBytes, size_);
    const size_t upto = std::min(to, chunk_end);
    const auto bytes = static_cast<uint32_t>(upto - from);
    const auto whole = static_cast<uint32_t>((chunk_end - chunk_begin) * passes_);
    // The pass whose bytes complete the chunk gives it back: exactly one does.
    if (done_[chunk].fetch_add(bytes, std::memory_order_acq_rel) + bytes == whole) {
      // Whole pages only: the file's last page is shared with the zeroed padding after it.
      const size_t length = (chunk_end - chunk_begin) / page * page;
      if (length > 0 && ::madvise(const_cast<char*>(base_ + chunk_begin), length, MADV_DONTNEED) == 0)
      {
        released_.fetch_add(1, std::memory_order_relaxed);
        chunks_released.fetch_add(1, std::memory_order_relaxed);
      }
    }
    from = upto;
  }
}

}  // namespace seam
