// A large input's pages leave memory once its digest and its parse are both past them,
// and reading them again still gives the file's bytes.
#include <doctest/doctest.h>

#include <sys/mman.h>
#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "connectors/connector.hpp"
#include "connectors/page_release.hpp"
#include "engine/mapping/mapper.hpp"
#include "tests/support.hpp"

using namespace seam;
using seam::test::TempDir;
using seam::test::write_file;

namespace {

constexpr size_t kChunk = PageRelease::kChunkBytes;

// A file's bytes, mapped read-only the way InputBuffer maps them.
struct Mapped {
  explicit Mapped(const std::string& path, size_t size) : size(size) {
    int fd = ::open(path.c_str(), O_RDONLY);
    REQUIRE(fd >= 0);
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    REQUIRE(p != MAP_FAILED);
    data = static_cast<const char*>(p);
  }
  ~Mapped() { ::munmap(const_cast<char*>(data), size); }
  const char* data = nullptr;
  size_t size;
};

std::string numbered_bytes(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
  return s;
}

}  // namespace

TEST_CASE("page release: a chunk leaves only once every pass has read all of it") {
  TempDir dir;
  const size_t size = 3 * kChunk + 5000;  // three whole chunks and a partial one
  const std::string bytes = numbered_bytes(size);
  write_file(dir / "input.bin", bytes);
  Mapped m(dir / "input.bin", size);
  PageRelease release(m.data, size, 2);

  release.done(0, size);  // the digest, all of it
  CHECK(release.released() == 0);
  release.done(0, kChunk / 2);  // the parse, in pieces that cross chunk bounds
  CHECK(release.released() == 0);
  release.done(kChunk / 2, kChunk + 10);
  CHECK(release.released() == 1);
  release.done(kChunk + 10, 3 * kChunk);
  CHECK(release.released() == 3);
  release.done(3 * kChunk, size);  // the partial last chunk: its whole pages
  CHECK(release.released() == 4);
  // Given back is not gone: the pages come back from the file.
  CHECK(std::string_view(m.data, size) == bytes);
}

TEST_CASE("page release: passes may report in any order, and a chunk is released once") {
  TempDir dir;
  const size_t size = 2 * kChunk;
  write_file(dir / "input.bin", numbered_bytes(size));
  Mapped m(dir / "input.bin", size);
  PageRelease release(m.data, size, 2);
  release.done(kChunk, 2 * kChunk);  // the parse's second part first
  release.done(0, kChunk + 1);       // the digest, part way
  CHECK(release.released() == 0);
  release.done(0, kChunk);  // the parse's first part
  CHECK(release.released() == 1);
  release.done(kChunk + 1, 2 * kChunk);  // the digest, the rest
  CHECK(release.released() == 2);
}

TEST_CASE("page release: a large NDJSON input mapped in parts gives back every chunk, with the same records") {
  TempDir dir;
  std::string text;
  for (int i = 0; text.size() < 5 * kChunk + 10000; ++i)
    text += "{\"id\": \"E" + std::to_string(i) + "\", \"memo\": \"" + std::string(200, 'x') + "\"}\n";
  write_file(dir / "erp.ndjson", text);
  const size_t chunks = (text.size() + kChunk - 1) / kChunk;
  SystemSpec sys;
  sys.name = "erp";
  sys.id_field = "id";
  sys.source = ConnectorSpec{"ndjson", dir / "erp.ndjson", {}, {"stack.lua", 3}};
  FieldSpec id;
  id.name = "id";
  id.column = "id";
  sys.fields.push_back(id);
  const uint64_t before = PageRelease::released_in_process();
  MappedInput in = map_system(sys, nullptr, MapOptions{2, kChunk});
  // The digest and both parts have read every byte: every chunk leaves.
  CHECK(PageRelease::released_in_process() - before == chunks);
  REQUIRE(in.records.size() == in.stats.read);
  CHECK(in.records.id(0) == "E0");
  CHECK(in.records.id(in.records.size() - 1) == "E" + std::to_string(in.records.size() - 1));
  CHECK(in.stats.digest.size() == 64);
}

TEST_CASE("page release: a CSV read in parts gives back all but the header chunk, and a small one gives back none") {
  TempDir dir;
  std::string text = "id,amount\n";
  for (int i = 0; text.size() < 5 * kChunk + 10000; ++i) text += "S" + std::to_string(i) + "," + std::to_string(i % 977) + ".25\n";
  write_file(dir / "shop.csv", text);
  const size_t chunks = (text.size() + kChunk - 1) / kChunk;
  SystemSpec sys;
  sys.name = "shop";
  sys.id_field = "id";
  sys.source = ConnectorSpec{"csv", dir / "shop.csv", {}, {"stack.lua", 3}};
  FieldSpec id;
  id.name = "id";
  id.column = "id";
  sys.fields.push_back(id);
  uint64_t before = PageRelease::released_in_process();
  MappedInput in = map_system(sys, nullptr, MapOptions{2, kChunk});
  // The parse starts after the header: the header's chunk stays mapped until the input closes.
  CHECK(PageRelease::released_in_process() - before == chunks - 1);
  CHECK(in.records.size() == in.stats.read);
  CHECK(in.records.id(in.records.size() - 1) == "S" + std::to_string(in.records.size() - 1));

  write_file(dir / "small.csv", "id,amount\nS1,1.00\n");  // below 4 MB: mapped in one go, hashed when asked
  sys.source.path = dir / "small.csv";
  before = PageRelease::released_in_process();
  CHECK(map_system(sys, nullptr, MapOptions{2, 1}).records.size() == 1);
  CHECK(PageRelease::released_in_process() == before);
}
