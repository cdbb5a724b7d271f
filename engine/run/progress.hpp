#pragma once
// The progress line of a run on a terminal: which phase it is in, how far it got, how fast,
// and for how long, redrawn in place on stderr.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace seam {

class Progress {
 public:
  // Draws nothing unless `on` (stderr is a terminal that can redraw a line: the caller
  // knows), and nothing before the run has taken SEAM_PROGRESS_AFTER_MS (default 1000): a
  // short run prints none. While on, a thread redraws the line a few times a second, so a
  // phase that is one long call (a match, the seal) still shows its time.
  explicit Progress(bool on);
  ~Progress();  // clear()
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  bool on() const { return on_; }
  // A new phase ("matching refunds"), drawn at once when the delay has passed. With a
  // `unit` ("rows", "groups") it is counted: `total` of them (0: not known ahead).
  void phase(const std::string& name, const char* unit = nullptr, uint64_t total = 0);
  // How many of the phase's units are done. Callers set it every few thousand items, not
  // per item: a relaxed store, and no clock is read.
  void set(uint64_t done) { done_.store(done, std::memory_order_relaxed); }
  // The counter itself, for threads that add what they did (mapping in parallel).
  std::atomic<uint64_t>& counter() { return done_; }
  // Stops redrawing and clears the line (when one was drawn). Idempotent.
  void clear();

 private:
  void draw_locked();  // holds mutex_
  void tick();

  const bool on_;
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point phase_started_ = started_;
  std::atomic<uint64_t> done_{0};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::string name_, unit_;
  uint64_t total_ = 0;
  bool counted_ = false, drawn_ = false, stopped_ = false;
  std::thread ticker_;
};

// `line` ("seam: NAME: figures"), its NAME of `name_bytes` bytes shortened with "..." so the
// line fits in `width` columns less one (a line that wraps cannot be redrawn in place); cut
// at the width when even that does not fit. Counts bytes: never longer than the width.
std::string fit_line(const std::string& line, size_t name_bytes, size_t width);
// "1,234,567": counts on a progress line.
std::string with_thousands(uint64_t n);
// "410k/s", "1.2M/s", "85/s": a rate on a progress line.
std::string rate_text(double per_second);

}  // namespace seam
