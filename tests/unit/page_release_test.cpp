// A large input's pages leave memory as each pass over it (its digest, its parse) goes
// past them, and reading them again still gives the file's bytes.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/mman.h>
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

const size_t kPage = static_cast<size_t>(::sysconf(_SC_PAGESIZE));

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

SystemSpec one_field_system(const std::string& name, const std::string& kind, const std::string& path) {
  SystemSpec sys;
  sys.name = name;
  sys.id_field = "id";
  sys.source = ConnectorSpec{kind, path, {}, {"stack.lua", 3}};
  FieldSpec id;
  id.name = "id";
  id.column = "id";
  sys.fields.push_back(id);
  return sys;
}

}  // namespace

TEST_CASE("page release: only the whole pages inside a finished range leave, and they read back the same") {
  TempDir dir;
  const size_t size = 3 * kPage + 100;
  const std::string bytes = numbered_bytes(size);
  write_file(dir / "input.bin", bytes);
  Mapped m(dir / "input.bin", size);
  CHECK(std::string_view(m.data, size) == bytes);  // every page mapped in
  PageRelease release(m.data, size);

  release.done(0, 10);  // inside the first page: nothing whole
  CHECK(release.released_bytes() == 0);
  release.done(10, 2 * kPage + 5);  // the second page is whole inside it
  CHECK(release.released_bytes() == kPage);
  release.done(0, size);  // the three whole pages; the last, partial one stays
  CHECK(release.released_bytes() == 4 * kPage);
  release.done(size, size + 50);
  CHECK(release.released_bytes() == 4 * kPage);
  CHECK(std::string_view(m.data, size) == bytes);  // given back is not gone
}

TEST_CASE("page release: a large NDJSON input mapped in parts gives its pages back, with the same records") {
  TempDir dir;
  std::string text;
  for (int i = 0; text.size() < (5u << 20); ++i)
    text += "{\"id\": \"E" + std::to_string(i) + "\", \"memo\": \"" + std::string(200, 'x') + "\"}\n";
  write_file(dir / "erp.ndjson", text);
  const SystemSpec sys = one_field_system("erp", "ndjson", dir / "erp.ndjson");
  const uint64_t before = PageRelease::released_in_process();
  MappedInput in = map_system(sys, nullptr, MapOptions{2, 1 << 20});
  const uint64_t released = PageRelease::released_in_process() - before;
  const uint64_t whole_pages = text.size() / kPage * kPage;
  // The digest gives back every whole page; each of the two parts every whole page of what
  // it reported read, every 4096 rows and at its end: at most a page lost at each report.
  const uint64_t reports = 2 * (in.stats.read / 4096 + 2);
  CHECK(released <= 2 * whole_pages);
  CHECK(released >= 2 * whole_pages - reports * kPage);
  REQUIRE(in.records.size() == in.stats.read);
  CHECK(in.records.id(0) == "E0");
  CHECK(in.records.id(in.records.size() - 1) == "E" + std::to_string(in.records.size() - 1));
  CHECK(in.stats.digest.size() == 64);
}

TEST_CASE("page release: a CSV read in parts gives back its pages, and a small one gives back none") {
  TempDir dir;
  std::string text = "id,amount\n";
  for (int i = 0; text.size() < (5u << 20); ++i) text += "S" + std::to_string(i) + "," + std::to_string(i % 977) + ".25\n";
  write_file(dir / "shop.csv", text);
  SystemSpec sys = one_field_system("shop", "csv", dir / "shop.csv");
  uint64_t before = PageRelease::released_in_process();
  MappedInput in = map_system(sys, nullptr, MapOptions{2, 1 << 20});
  const uint64_t released = PageRelease::released_in_process() - before;
  const uint64_t whole_pages = text.size() / kPage * kPage;
  const uint64_t reports = 2 * (in.stats.read / 4096 + 2);
  CHECK(released <= 2 * whole_pages);
  CHECK(released >= 2 * whole_pages - (reports + 1) * kPage);  // and the header's page
  CHECK(in.records.size() == in.stats.read);
  CHECK(in.records.id(in.records.size() - 1) == "S" + std::to_string(in.records.size() - 1));

  write_file(dir / "small.csv", "id,amount\nS1,1.00\n");  // below 4 MB: mapped in one go, hashed when asked
  sys.source.path = dir / "small.csv";
  before = PageRelease::released_in_process();
  CHECK(map_system(sys, nullptr, MapOptions{2, 1}).records.size() == 1);
  CHECK(PageRelease::released_in_process() == before);
}
