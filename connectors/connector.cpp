#include "connectors/connector.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fnmatch.h>
#include <glob.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <map>
#include <mutex>
#include <set>
#include <optional>
#include <tuple>
#include <cstring>
#include <filesystem>
#include <future>
#include <utility>

#include "engine/util/digest.hpp"
#include "engine/util/result.hpp"
#include "engine/util/text.hpp"

namespace seam {

std::unique_ptr<Connector> make_csv_connector(const ConnectorSpec&, const std::string&);
std::unique_ptr<Connector> make_ndjson_connector(const ConnectorSpec&, const std::string&);
std::unique_ptr<Connector> make_json_connector(const ConnectorSpec&, const std::string&);
std::unique_ptr<Connector> make_sqlite_connector(const ConnectorSpec&, const std::string&);

const std::vector<ConnectorKind>& connector_kinds() {
  // The registry: one line per source kind.
  static const std::vector<ConnectorKind> kinds = {
      {"csv", {"delimiter", "allow_empty", "header_row", "header_contains", "skip_rows", "encoding"},
       make_csv_connector},
      {"ndjson", {"records", "parent_prefix", "allow_empty"}, make_ndjson_connector},
      {"json", {"records", "parent_prefix", "allow_empty"}, make_json_connector},
      {"sqlite", {"query", "allow_empty"}, make_sqlite_connector},
  };
  return kinds;
}

const ConnectorKind* find_connector_kind(const std::string& name) {
  for (const auto& k : connector_kinds())
    if (k.name == name) return &k;
  return nullptr;
}

namespace {

// A glob's files, in byte order of their paths (glob(3)'s own order follows the locale),
// read one after the other as one source.
class GlobConnector final : public Connector {
 public:
  GlobConnector(const ConnectorKind& kind, const ConnectorSpec& spec, const std::string& system) {
    path_ = spec.path;
    glob_t g{};
    int rc = ::glob(spec.path.c_str(), GLOB_NOSORT, nullptr, &g);
    std::vector<std::string> paths;
    if (rc == 0)
      for (size_t i = 0; i < g.gl_pathc; ++i) paths.emplace_back(g.gl_pathv[i]);
    ::globfree(&g);
    if (rc == GLOB_NOMATCH || (rc == 0 && paths.empty()))
      throw UserError("no input file matches " + spec.path + " (system '" + system + "', source declared at " +
                      spec.loc.str() + "): the path is a pattern (it holds *, ? or [); check the folder and the "
                      "file names, or escape the character with \\ if it is part of a file name");
    if (rc != 0)
      throw UserError("cannot list the files matching " + spec.path + " (system '" + system + "', source declared at " +
                      spec.loc.str() + "): " + (rc == GLOB_NOSPACE ? "out of memory" : "a folder cannot be read"));
    std::sort(paths.begin(), paths.end());
    base_ = glob_fixed_folder(spec.path);
    for (const auto& p : paths) {
      ConnectorSpec one = spec;
      one.path = p;
      parts_.push_back(kind.make(one, system));
    }
  }

  std::optional<int> resolve(const std::string& column, std::string& why) override {
    std::vector<int> handles;
    for (auto& part : parts_) {
      auto h = part->resolve(column, why);
      if (!h) {
        if (why.find(part->path()) == std::string::npos) why += " (in " + part->path() + ")";
        return std::nullopt;
      }
      handles.push_back(*h);
    }
    handles_.push_back(std::move(handles));
    return static_cast<int>(handles_.size() - 1);
  }

  bool next() override {
    for (; cur_ < parts_.size(); ++cur_) {
      if (parts_[cur_]->next()) {
        path_ = parts_[cur_]->path();
        return true;
      }
    }
    return false;
  }
  uint64_t line() const override { return part().line(); }
  std::string_view raw() const override { return part().raw(); }
  const std::string& malformed() const override { return part().malformed(); }
  const std::string& skip_reason() const override { return part().skip_reason(); }
  std::optional<std::string_view> get(int handle) override {
    return parts_[cur_]->get(handles_[static_cast<size_t>(handle)][cur_]);
  }
  size_t estimated_rows() const override {
    size_t n = 0;
    for (const auto& p : parts_) n += p->estimated_rows();
    return n;
  }
  // The files' digests in their order, hashed with their paths below the pattern's fixed
  // folder: what a replay compares, as for one file, whichever folder it runs from.
  std::string digest() const override {
    Sha256 h;
    for (const auto& f : files()) {
      h.field(std::string_view(f.path).substr(f.path.compare(0, base_.size(), base_) == 0 ? base_.size() : 0));
      h.field(f.digest);
    }
    return h.hex_final();
  }
  std::vector<InputFile> files() const override {
    std::vector<InputFile> out;
    for (const auto& p : parts_) out.push_back({p->path(), p->digest()});
    return out;
  }
  size_t file_no() const override { return std::min(cur_, parts_.size() - 1); }

 private:
  const Connector& part() const { return *parts_[std::min(cur_, parts_.size() - 1)]; }
  std::vector<std::unique_ptr<Connector>> parts_;
  std::string base_;  // the pattern's folders before its first wildcard
  std::vector<std::vector<int>> handles_;  // per handle given out: each file's own
  size_t cur_ = 0;
};

}  // namespace

bool is_glob(const std::string& path) { return path.find_first_of("*?[") != std::string::npos; }

std::string glob_fixed_folder(const std::string& pattern) {
  size_t wild = pattern.find_first_of("*?[");
  size_t slash = pattern.rfind('/', wild);
  return slash == std::string::npos ? "" : pattern.substr(0, slash + 1);
}

std::unique_ptr<Connector> open_connector(const ConnectorSpec& spec, const std::string& system) {
  const ConnectorKind* kind = find_connector_kind(spec.kind);
  if (!kind) throw UserError(spec.loc.str() + ": unknown connector '" + spec.kind + "'");
  for (const auto& [name, value] : spec.options) {
    bool known = false;
    for (const auto& o : kind->options) known = known || o == name;
    if (!known)
      throw UserError(spec.loc.str() + ": connector " + spec.kind + " has no option '" + name + "'" +
                      (did_you_mean(name, kind->options).empty() ? ""
                                                                 : " (did you mean '" + did_you_mean(name, kind->options) + "'?)"));
  }
  if (is_glob(spec.path)) return std::make_unique<GlobConnector>(*kind, spec, system);
  return kind->make(spec, system);
}

size_t Connector::count_lines(std::string_view data) {
  auto newlines = [](std::string_view d) {
    size_t n = 0;
    for (const char* p = d.data(); (p = static_cast<const char*>(std::memchr(p, '\n', d.data() + d.size() - p))); ++p)
      ++n;
    return n;
  };
  constexpr size_t kSample = size_t{1} << 20;
  if (data.size() <= 8 * kSample) return newlines(data);
  size_t sampled = newlines(data.substr(0, kSample));
  return sampled * (data.size() / kSample) * 9 / 8 + 16;  // an eighth spare: rows vary in length
}

void Connector::check_not_empty(uint64_t rows, bool allow_empty, const std::string& what,
                                const std::string& system) const {
  if (rows == 0 && !allow_empty)
    throw UserError("input file has " + what + ": " + path_ + " (system '" + system +
                    "'); set allow_empty = true on the source if that is expected");
}

bool allows_empty(const ConnectorSpec& spec) {
  auto it = spec.options.find("allow_empty");
  return it != spec.options.end() && it->second == "true";
}

std::string what_it_is(unsigned mode) {
  if (S_ISREG(mode)) return "";
  if (S_ISFIFO(mode)) return "is a FIFO (a named pipe)";
  if (S_ISDIR(mode)) return "is a directory";
  if (S_ISCHR(mode)) return "is a character device";
  if (S_ISBLK(mode)) return "is a block device";
  if (S_ISSOCK(mode)) return "is a socket";
  return "is not a file";
}

uint64_t count_line_ends(std::string_view data, size_t from, size_t to) {
  uint64_t n = 0;
  for (size_t k = from; k < to; ++k)
    n += data[k] == '\n' || (data[k] == '\r' && (k + 1 >= data.size() || data[k + 1] != '\n'));
  return n;
}

size_t LineEnds::find(char c, size_t& cache, size_t from) {
  if (cache == SIZE_MAX || cache < from) {
    const void* hit = from < end_ ? std::memchr(data_.data() + from, c, end_ - from) : nullptr;
    cache = hit ? static_cast<size_t>(static_cast<const char*>(hit) - data_.data()) : end_;
  }
  return cache;
}

size_t LineEnds::line_end(size_t from, size_t& next) {
  size_t lf = find('\n', lf_, from), cr = find('\r', cr_, from);
  if (cr < lf) {
    next = cr + 1 == lf && lf < end_ ? lf + 1 : cr + 1;
    return cr;
  }
  next = lf < end_ ? lf + 1 : end_;
  return lf;
}

namespace {
// From this size a file is hashed on a thread of its own (below it, a thread costs more
// than it saves), and its pages come in as they are read and leave once read (page_release.hpp)
// instead of being mapped in one go.
constexpr size_t kLargeInput = 4 << 20;
}  // namespace

InputBuffer::InputBuffer(const std::string& path, size_t padding) {
  // O_NONBLOCK: opening a FIFO with no writer would otherwise wait forever, before the
  // check below could refuse it. It changes nothing for a regular file.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw UserError("cannot open " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    throw UserError("cannot read " + path + ": " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw UserError(path + " " + what_it_is(st.st_mode) + ", not a regular file");
  }
  if (st.st_size > 0) {
    const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    size_ = static_cast<size_t>(st.st_size);
    map_size_ = (size_ + padding + page - 1) / page * page;
    // Reserve file + padding as zeroed anonymous memory, then lay the file over its start:
    // the padding never reaches past the file's last page into memory that is not there.
    void* region = ::mmap(nullptr, map_size_, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    const int populate = size_ < kLargeInput ? MAP_POPULATE : 0;
    if (region != MAP_FAILED &&
        ::mmap(region, size_, PROT_READ, MAP_PRIVATE | MAP_FIXED | populate, fd, 0) != MAP_FAILED) {
      ::close(fd);
      if (!populate) ::madvise(region, size_, MADV_WILLNEED);  // read ahead into the page cache
      map_ = region;
      data_ = static_cast<const char*>(region);
      return;
    }
    if (region != MAP_FAILED) ::munmap(region, map_size_);
    map_size_ = 0;
    size_ = 0;
  }
  // Empty (or a file the kernel reports as empty, like those in /proc), or not mappable: read it.
  char buf[1 << 16];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      throw UserError("cannot read " + path + ": " + std::strerror(err));
    }
    copy_.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  size_ = copy_.size();
  copy_.reserve(size_ + padding);
  copy_.append(padding, '\0');
  data_ = copy_.data();
}

InputBuffer::~InputBuffer() {
  if (map_) ::munmap(map_, map_size_);
}

InputBuffer& InputBuffer::operator=(InputBuffer&& o) noexcept {
  if (this == &o) return *this;
  if (map_) ::munmap(map_, map_size_);
  map_ = std::exchange(o.map_, nullptr);
  map_size_ = std::exchange(o.map_size_, 0);
  size_ = std::exchange(o.size_, 0);
  copy_ = std::move(o.copy_);
  data_ = map_ ? static_cast<const char*>(map_) : size_ ? copy_.data() : "";
  o.data_ = "";
  return *this;
}

struct Connector::Loaded {
  std::once_flag once;
  InputBuffer buffer;
  std::shared_future<std::string> digest;
  std::exception_ptr error;
  // Set for a large mapped file one parse reads beside its digest (not a file several
  // systems read one after the other: each would fault every page in again).
  std::shared_ptr<PageRelease> release;
};

void Connector::release_read() {
  if (!release_) return;
  const size_t to = consumed();
  if (to <= released_to_) return;
  release_->done(released_to_, to);
  released_to_ = to;
}

void Connector::share_release(Connector& part, size_t begin) const {
  part.release_ = release_;
  part.released_to_ = begin;
}

namespace {

// The same file, unchanged, with the same padding: one read and one digest for every
// connector open on it at the same time (the entries die with the last of them).
struct FileKey {
  dev_t dev;
  ino_t ino;
  off_t size;
  int64_t mtime_ns;
  size_t padding;
  bool operator<(const FileKey& o) const {
    return std::tie(dev, ino, size, mtime_ns, padding) < std::tie(o.dev, o.ino, o.size, o.mtime_ns, o.padding);
  }
};

std::atomic<uint64_t> file_reads{0};
std::mutex cache_mutex;
std::map<FileKey, std::weak_ptr<Connector::Loaded>> cache;
std::multiset<std::string> pinned_paths;                               // SharedInputs' files
std::vector<std::pair<std::string, std::shared_ptr<void>>> pinned;    // their loads, kept alive

}  // namespace

uint64_t input_file_reads() { return file_reads.load(); }

SharedInputs::SharedInputs(std::vector<std::string> paths) : paths_(std::move(paths)) {
  std::lock_guard lock(cache_mutex);
  for (const auto& p : paths_) pinned_paths.insert(p);
}

SharedInputs::~SharedInputs() {
  std::lock_guard lock(cache_mutex);
  for (const auto& p : paths_) {
    pinned_paths.erase(pinned_paths.find(p));
    if (!pinned_paths.count(p))
      std::erase_if(pinned, [&](const auto& e) { return e.first == p; });
  }
}

std::shared_ptr<const Connector::Loaded> Connector::load_shared(const std::string& path, const struct ::stat* st,
                                                                size_t padding) {
  std::shared_ptr<Loaded> loaded;
  bool shared = false;
  if (st) {
    FileKey key{st->st_dev, st->st_ino, st->st_size,
                int64_t{st->st_mtim.tv_sec} * 1000000000 + st->st_mtim.tv_nsec, padding};
    std::lock_guard lock(cache_mutex);
    auto& slot = cache[key];
    loaded = slot.lock();
    if (!loaded) {
      for (auto it = cache.begin(); it != cache.end();)
        it = it->second.expired() && &it->second != &slot ? cache.erase(it) : std::next(it);
      loaded = std::make_shared<Loaded>();
      slot = loaded;
      for (const auto& p : pinned_paths)
        if (p == path || ::fnmatch(p.c_str(), path.c_str(), FNM_PATHNAME) == 0) {
          pinned.emplace_back(p, loaded);
          shared = true;
          break;
        }
    }
  } else {
    loaded = std::make_shared<Loaded>();
  }
  // Outside the lock: other files are read meanwhile; a second reader of this one waits here.
  std::call_once(loaded->once, [&] {
    try {
      loaded->buffer = InputBuffer(path, padding);
      ++file_reads;
      std::string_view bytes = loaded->buffer.view();
      if (bytes.size() < kLargeInput) {
        loaded->digest = std::async(std::launch::deferred, [bytes] { return sha256_hex(bytes); }).share();
      } else {
        if (loaded->buffer.mapped() && !shared)
          loaded->release = std::make_shared<PageRelease>(bytes.data(), bytes.size());
        loaded->digest = std::async(std::launch::async, [bytes, release = loaded->release] {
                           constexpr size_t kStep = size_t{1} << 20;
                           Sha256 h;
                           for (size_t at = 0; at < bytes.size(); at += kStep) {
                             const size_t n = std::min(kStep, bytes.size() - at);
                             h.update(bytes.substr(at, n));
                             if (release) release->done(at, at + n);
                           }
                           return h.hex_final();
                         }).share();
      }
    } catch (...) {
      loaded->error = std::current_exception();
    }
  });
  if (loaded->error) std::rethrow_exception(loaded->error);
  return loaded;
}

std::string_view Connector::load_file(const ConnectorSpec& spec, const std::string& system, size_t padding) {
  struct stat st {};
  bool stated = ::stat(spec.path.c_str(), &st) == 0;
  if (!stated && (errno == ENOENT || errno == ENOTDIR))
    throw UserError("input file not found: " + spec.path + " (system '" + system + "', source declared at " +
                    spec.loc.str() + ")");
  // Checked before opening, with the system's name in the message; InputBuffer checks the
  // opened file again, in case the path changed in between.
  std::string kind = stated ? what_it_is(st.st_mode) : "";
  if (!kind.empty()) {
    std::error_code ec;
    std::string target = std::filesystem::is_symlink(spec.path, ec)
                             ? " (a symlink to " + std::filesystem::read_symlink(spec.path, ec).string() + ")"
                             : "";
    throw UserError("input of system '" + system + "' " + spec.path + target + " " + kind +
                    ", not a regular file (source declared at " + spec.loc.str() +
                    "); seam reads only regular files: export the data to a file and declare that file");
  }
  try {
    input_ = load_shared(spec.path, stated ? &st : nullptr, padding);
  } catch (const UserError& e) {
    throw UserError(std::string(e.what()) + " (system '" + system + "', source declared at " + spec.loc.str() + ")");
  }
  std::string_view bytes = input_->buffer.view();
  if (trim(bytes).empty() && !allows_empty(spec))
    throw UserError("input file is empty: " + spec.path + " (system '" + system +
                    "'); an empty export usually means a failed export. Set allow_empty = true on the source if "
                    "an empty file is expected");
  digest_ = input_->digest;
  release_ = input_->release;
  released_to_ = 0;
  return bytes;
}


}  // namespace seam
