#include "connectors/connector.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
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
      {"csv", {"delimiter", "allow_empty"}, make_csv_connector},
      {"ndjson", {"allow_empty"}, make_ndjson_connector},
      {"json", {"records", "allow_empty"}, make_json_connector},
      {"sqlite", {"query", "allow_empty"}, make_sqlite_connector},
  };
  return kinds;
}

const ConnectorKind* find_connector_kind(const std::string& name) {
  for (const auto& k : connector_kinds())
    if (k.name == name) return &k;
  return nullptr;
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
    if (region != MAP_FAILED &&
        ::mmap(region, size_, PROT_READ, MAP_PRIVATE | MAP_FIXED | MAP_POPULATE, fd, 0) != MAP_FAILED) {
      ::close(fd);
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
    input_ = InputBuffer(spec.path, padding);
  } catch (const UserError& e) {
    throw UserError(std::string(e.what()) + " (system '" + system + "', source declared at " + spec.loc.str() + ")");
  }
  std::string_view bytes = input_.view();
  if (trim(bytes).empty() && !allows_empty(spec))
    throw UserError("input file is empty: " + spec.path + " (system '" + system +
                    "'); an empty export usually means a failed export. Set allow_empty = true on the source if "
                    "an empty file is expected");
  constexpr size_t kHashAside = 4 << 20;  // below this, a thread costs more than it saves
  auto policy = bytes.size() >= kHashAside ? std::launch::async : std::launch::deferred;
  digest_ = std::async(policy, [bytes] { return sha256_hex(bytes); }).share();
  return bytes;
}

}  // namespace seam
