#include "connectors/page_release.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>

namespace seam {
namespace {
std::atomic<uint64_t> bytes_released{0};
}  // namespace

uint64_t PageRelease::released_in_process() { return bytes_released.load(); }

void PageRelease::done(size_t from, size_t to) {
  static const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  // Whole pages only: a page a range ends inside holds bytes the next range reads, and the
  // file's last page is shared with the zeroed padding after it.
  const size_t first = (from + page - 1) / page * page, end = std::min(to, size_) / page * page;
  if (end <= first) return;
  if (::madvise(const_cast<char*>(base_ + first), end - first, MADV_DONTNEED) != 0) return;  // kept: only memory
  released_.fetch_add(end - first, std::memory_order_relaxed);
  bytes_released.fetch_add(end - first, std::memory_order_relaxed);
}

}  // namespace seam
