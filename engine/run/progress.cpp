#include "engine/run/progress.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace seam {
namespace {

// SEAM_PROGRESS_AFTER_MS changes the wait, so a test on a terminal sees every phase
// without a slow run.
std::chrono::milliseconds progress_delay() {
  static const std::chrono::milliseconds delay = [] {
    const char* env = std::getenv("SEAM_PROGRESS_AFTER_MS");
    return std::chrono::milliseconds(env && *env ? std::strtoll(env, nullptr, 10) : 1000);
  }();
  return delay;
}

// Often enough to see it move, rarely enough to cost nothing.
constexpr std::chrono::milliseconds kRedraw{250};

// Read at each draw: the terminal may have been resized.
size_t stderr_width() {
  struct winsize ws {};
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0) return 80;
  return ws.ws_col;
}

}  // namespace

std::string fit_line(const std::string& line, size_t name_bytes, size_t width) {
  const size_t room = width ? width - 1 : 0;  // the last column would wrap on some terminals
  if (line.size() <= room) return line;
  const size_t name_at = 6;  // "seam: "
  const size_t rest = line.size() - name_at - name_bytes;
  if (room < name_at + rest + 4) {  // not even a bit of the name fits: cut the line
    size_t cut = room;
    while (cut && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;  // not inside a UTF-8 character
    return line.substr(0, cut);
  }
  size_t keep = room - name_at - rest - 3;
  while (keep && (static_cast<unsigned char>(line[name_at + keep]) & 0xC0) == 0x80) --keep;
  while (keep && (line[name_at + keep - 1] == ' ' || line[name_at + keep - 1] == ',')) --keep;  // "platform,..."
  return line.substr(0, name_at + keep) + "..." + line.substr(name_at + name_bytes);
}

namespace {

}  // namespace

std::string with_thousands(uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string rate_text(double per_second) {
  char buf[32];
  if (per_second >= 1e6) std::snprintf(buf, sizeof buf, "%.1fM/s", per_second / 1e6);
  else if (per_second >= 1e4) std::snprintf(buf, sizeof buf, "%.0fk/s", per_second / 1e3);
  else std::snprintf(buf, sizeof buf, "%.0f/s", per_second);
  return buf;
}

Progress::Progress(bool on) : on_(on) {
  if (on_) ticker_ = std::thread([this] { tick(); });
}

Progress::~Progress() { clear(); }

void Progress::phase(const std::string& name, const char* unit, uint64_t total) {
  if (!on_) return;
  std::lock_guard lock(mutex_);
  if (stopped_) return;
  name_ = name;
  unit_ = unit ? unit : "";
  counted_ = unit != nullptr;
  total_ = total;
  done_.store(0, std::memory_order_relaxed);
  phase_started_ = std::chrono::steady_clock::now();
  if (phase_started_ - started_ >= progress_delay()) draw_locked();
}

void Progress::draw_locked() {
  const auto now = std::chrono::steady_clock::now();
  const double seconds = std::chrono::duration<double>(now - phase_started_).count();
  std::string line = "seam: " + name_;  // fit_line shortens the name, the figures stay
  if (counted_) {
    const uint64_t done = done_.load(std::memory_order_relaxed);
    line += ": " + with_thousands(done) + (total_ ? "/" + with_thousands(total_) : "") + " " + unit_;
    // A rate over a few milliseconds says nothing.
    if (done && seconds >= 0.1) line += ", " + rate_text(static_cast<double>(done) / seconds);
  }
  char elapsed[32];
  std::snprintf(elapsed, sizeof elapsed, counted_ ? ", %.1f s" : "... %.1f s", seconds);
  line += elapsed;
  // \033[K clears what a longer line before left ("0/957,318 groupsoups").
  std::fprintf(stderr, "\r\033[K%s", fit_line(line, name_.size(), stderr_width()).c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::tick() {
  std::unique_lock lock(mutex_);
  while (!stopped_) {
    wake_.wait_for(lock, kRedraw);
    if (!stopped_ && !name_.empty() && std::chrono::steady_clock::now() - started_ >= progress_delay()) draw_locked();
  }
}

void Progress::clear() {
  if (!on_) return;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
    if (drawn_) {
      std::fprintf(stderr, "\r\033[K");
      std::fflush(stderr);
    }
  }
  wake_.notify_all();
  if (ticker_.joinable()) ticker_.join();
}

}  // namespace seam
