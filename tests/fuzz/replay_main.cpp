// The fuzz targets without libFuzzer: runs LLVMFuzzerTestOneInput once on every file named
// (folders are read recursively, in name order, dot files left out), so the normal and
// sanitizer builds replay the seeds and the regression inputs as ctest tests. A broken
// invariant aborts, as it does under the fuzzer; a missing argument fails (a typo must
// not pass as "no inputs").
//   --timeout=N       an input still running after N seconds aborts (libFuzzer's -timeout),
//                     so a hang fails here too rather than when ctest gives up
//   --rss-limit-mb=N  the process growing past N MB aborts (libFuzzer's -rss_limit_mb), so
//                     an input that makes seam allocate without end fails before it hurts
//                     the machine (default 2048; 0 for none)
//   --expect-failure  for open findings: each input runs in a child process, and the replay
//                     passes only if every one of them still fails (crashes, aborts, hangs)
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

unsigned timeout_seconds = 0;
long rss_limit_mb = 2048;

// Polls the resident set size, as libFuzzer's rss thread does.
void watch_rss() {
  if (rss_limit_mb <= 0) return;
  std::thread([] {
    const long page = ::sysconf(_SC_PAGESIZE);
    for (;;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      long size = 0, resident = 0;
      if (FILE* f = std::fopen("/proc/self/statm", "r")) {
        if (std::fscanf(f, "%ld %ld", &size, &resident) != 2) resident = 0;
        std::fclose(f);
      }
      if (resident * page / (1 << 20) > rss_limit_mb) {
        std::fprintf(stderr, "replay: out of memory: the input above took more than %ld MB\n", rss_limit_mb);
        std::abort();
      }
    }
  }).detach();
}

void run_one(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::fprintf(stderr, "replay: %s (%zu bytes)\n", p.c_str(), bytes.size());
  if (timeout_seconds) {
    std::signal(SIGALRM, [](int) {
      const char msg[] = "replay: timeout: the input above is still running\n";
      (void)!::write(2, msg, sizeof msg - 1);
      std::abort();
    });
    ::alarm(timeout_seconds);
  }
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  ::alarm(0);
}

}  // namespace

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  std::vector<fs::path> inputs;
  bool expect_failure = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--timeout=", 10) == 0) {
      timeout_seconds = static_cast<unsigned>(std::atoi(argv[i] + 10));
      continue;
    }
    if (std::strncmp(argv[i], "--rss-limit-mb=", 15) == 0) {
      rss_limit_mb = std::atol(argv[i] + 15);
      continue;
    }
    if (std::strcmp(argv[i], "--expect-failure") == 0) {
      expect_failure = true;
      continue;
    }
    fs::path p = argv[i];
    if (fs::is_directory(p)) {
      std::vector<fs::path> in_dir;
      for (const auto& e : fs::recursive_directory_iterator(p))
        if (e.is_regular_file() && e.path().filename().string()[0] != '.') in_dir.push_back(e.path());
      std::sort(in_dir.begin(), in_dir.end());
      inputs.insert(inputs.end(), in_dir.begin(), in_dir.end());
    } else if (fs::is_regular_file(p)) {
      inputs.push_back(p);
    } else {
      std::fprintf(stderr, "replay: no such file or folder: %s\n", argv[i]);
      return 2;
    }
  }
  if (!expect_failure) {
    watch_rss();
    for (const auto& p : inputs) run_one(p);
    std::printf("replayed %zu inputs\n", inputs.size());
    return 0;
  }
  int passing = 0;
  for (const auto& p : inputs) {
    std::fflush(nullptr);
    pid_t child = ::fork();
    if (child == 0) {
      watch_rss();
      run_one(p);
      std::fflush(nullptr);
      ::_exit(0);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      ++passing;
      std::fprintf(stderr, "replay: %s no longer fails: the finding is fixed; move the input to regressions/\n", p.c_str());
    } else {
      std::fprintf(stderr, "replay: %s still fails (%s %d), as expected of an open finding\n", p.c_str(),
                   WIFSIGNALED(status) ? "signal" : "exit", WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    }
  }
  return passing ? 1 : 0;
}
