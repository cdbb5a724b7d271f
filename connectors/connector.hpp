#pragma once
// A connector reads one source (a file today; an API or a database later) and hands
// out raw rows one at a time. It knows nothing of fields, types or rules: mapping
// turns raw text into typed values. To add a source kind: one file implementing
// Connector, plus one line in connectors/connector.cpp's registry.
#include <sys/stat.h>

#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/page_release.hpp"
#include "engine/spec/stack_spec.hpp"

namespace seam {

// An input file's bytes, read-only, with `padding` zero bytes readable past the end (for
// simdjson). The file is memory-mapped: no zeroed buffer, no copy. A small file's pages are
// mapped in one go; a large one's as they are read, so that they can leave once read
// (page_release.hpp). Read into memory instead when it cannot be mapped.
// Only regular files: a FIFO would block the run forever, a device (/dev/zero) would be
// read until memory runs out, a directory has no rows.
class InputBuffer {
 public:
  InputBuffer() = default;
  // Throws UserError when the file cannot be opened or read, or is not a regular file
  // once symlinks are followed (`what_it_is` says what it is instead).
  InputBuffer(const std::string& path, size_t padding);
  ~InputBuffer();
  InputBuffer(InputBuffer&& o) noexcept { *this = std::move(o); }
  InputBuffer& operator=(InputBuffer&& o) noexcept;
  InputBuffer(const InputBuffer&) = delete;
  InputBuffer& operator=(const InputBuffer&) = delete;
  std::string_view view() const { return {data_, size_}; }
  bool mapped() const { return map_ != nullptr; }

 private:
  const char* data_ = "";
  size_t size_ = 0;
  void* map_ = nullptr;  // the whole mapping, file and padding, when mapped
  size_t map_size_ = 0;
  std::string copy_;     // when read instead
};

// "is a FIFO", "is a directory"...: what a file that is not a regular file is, for
// messages; empty for a regular file.
std::string what_it_is(unsigned mode);

// Physical lines, whatever the line ends: LF, CRLF and a CR alone each end one line, so
// line numbers are those an editor shows even in a file that mixes them.
// The line ends in data[from, to): a CRLF counts at its LF, so the counts of adjacent
// ranges add up to the count of the whole.
uint64_t count_line_ends(std::string_view data, size_t from, size_t to);

// Finds line ends in data[0, end) for a reader that moves forward only. The next LF and
// the next CR are remembered, so a file with no LF at all (CR line ends) or no CR at all
// is searched once, not once per line.
class LineEnds {
 public:
  LineEnds(std::string_view data, size_t end) : data_(data), end_(end) {}
  // The line starting at `from` (from <= end, never less than the last call's): returns
  // where its text ends and sets `next` just past its line end (1 byte, 2 for CRLF), or
  // both to `end` for a last line with no line end.
  size_t line_end(size_t from, size_t& next);

 private:
  size_t find(char c, size_t& cache, size_t from);
  std::string_view data_;
  size_t end_;
  // The next LF / CR at or after the last search, end_ for none, SIZE_MAX before any search.
  size_t lf_ = SIZE_MAX, cr_ = SIZE_MAX;
};

class Connector {
 public:
  virtual ~Connector() = default;

  // A handle for a column (CSV header name) or path (NDJSON "a.b[0].c"), resolved once
  // before reading. Returns nullopt and fills `why` when the source can never have it.
  virtual std::optional<int> resolve(const std::string& column, std::string& why) = 0;

  // Advances to the next row; false at the end. A row that cannot be read at all has a
  // non-empty malformed() reason and is rejected whole: it still counts as read.
  virtual bool next() = 0;
  virtual uint64_t line() const = 0;           // where the row starts, 1-based
  virtual std::string_view raw() const = 0;    // the row's source text, for rejects
  virtual const std::string& malformed() const = 0;
  // Non-empty for a row the source itself leaves out (a report's title lines above its
  // header, a declared total row, an envelope holding no records): read and counted as
  // skipped, never mapped. Says why, for tests and messages.
  virtual const std::string& skip_reason() const {
    static const std::string none;
    return none;
  }

  // The cell's text, or nullopt when the row has no such column/key (or JSON null).
  // Valid until the next call to next().
  virtual std::optional<std::string_view> get(int handle) = 0;

  // The file the current row is from; before the first row, the declared path (for a
  // glob, the pattern).
  const std::string& path() const { return path_; }
  // SHA-256 of the bytes read, recorded with the run so a later replay can tell whether
  // the input changed.
  // Waits for the digest when it is still being computed (see load_file).
  // Empty for a source that reads no file (test fixtures).
  virtual std::string digest() const { return digest_.valid() ? digest_.get() : std::string(); }

  // A source whose path is a glob reads several files; each is counted and digested on
  // its own. Empty for a source of one file.
  struct InputFile {
    std::string path, digest;
  };
  virtual std::vector<InputFile> files() const { return {}; }
  // Which of files() the current row is from.
  virtual size_t file_no() const { return 0; }

  struct Loaded;  // a file's bytes and digest, shared by the connectors reading it

 protected:
  // Reads the whole input file and records its digest; throws UserError naming the file,
  // the system and the stack line when it is missing or empty (an empty input is an
  // error, never a silent zero).
  // At the end of a source that yielded no row: an error unless the source allows empty
  // (`what` says what was missing: "a header but no rows", "no JSON rows").
  void check_not_empty(uint64_t rows, bool allow_empty, const std::string& what, const std::string& system) const;
  // `padding`: bytes of spare capacity the parser may read past the end (simdjson's).
  // The bytes stay owned here; the digest of a large file is computed on its own thread
  // while the caller parses it (the core that mapped a smaller input is idle by then).
  // Several systems reading the same file at once (one export split by `only`) share one
  // read and one digest of it: connectors of one file that exist at the same time hold
  // the same bytes.
  std::string_view load_file(const ConnectorSpec& spec, const std::string& system, size_t padding = 0);
  // Rows to expect, for reserving record storage once: the newlines in `data`, counted in
  // a small input and estimated from the first megabyte of a large one (a pass over every
  // byte cost more than the reservation saves).
  static size_t count_lines(std::string_view data);

 public:
  virtual size_t estimated_rows() const { return 0; }

  // Independent readers over consecutive, disjoint parts of an input not read yet, each
  // starting on a row boundary, so one large input can be mapped on several threads.
  // At most `parts`, none smaller than `min_part_bytes`; empty when the source cannot be
  // split (nested records, a CSV whose rows start nowhere near the split points) or is too
  // small for two parts. A part counts its lines from 1 (the caller adds the lines_seen()
  // of the parts before it; a CSV's first part counts from the line after its header, whose
  // lines are its own), may hold no row, and reads this connector's bytes: this connector
  // must outlive its parts. A CSV connector split gives no more rows: its next() then only
  // checks the whole input for emptiness.
  virtual std::vector<std::unique_ptr<Connector>> split(size_t parts, size_t min_part_bytes) { return {}; }
  // Lines passed so far, blank ones included; at the end, every line of the input or part.
  virtual uint64_t lines_seen() const { return 0; }

  // Says the rows before the current one are read: the input's pages that every pass has
  // now gone past leave memory (see page_release.hpp). The mapper calls it every few
  // thousand rows and after the last; a reader that never calls it keeps every page.
  void release_read();

 protected:
  // Where the current row starts in the input's text (after the last row, the end of what
  // this reader reads): everything before it is read. 0 for a reader that cannot tell.
  virtual size_t consumed() const { return 0; }
  // A part reading `this` connector's text from `begin` reports its reading as its own pass's.
  void share_release(Connector& part, size_t begin) const;
  // This connector reads a copy of the file (converted to UTF-8, say) or no longer reads
  // at all (split into parts): it reports nothing.
  void stop_release() { release_.reset(); }


  std::string path_;

 private:
  static std::shared_ptr<const Loaded> load_shared(const std::string& path, const struct ::stat* st, size_t padding);
  std::shared_ptr<const Loaded> input_;  // declared before digest_: destroyed after the hashing ends
  std::shared_future<std::string> digest_;
  std::shared_ptr<PageRelease> release_;  // null when this reader's pages are not given back
  size_t released_to_ = 0;                // what this reader has reported read
};

// While one lives, the files it names stay loaded once read, so the systems that declare
// one export each (split by `only`) read and digest it once even when they are read one
// after the other. Files are named as sources declare them (resolved paths).
class SharedInputs {
 public:
  explicit SharedInputs(std::vector<std::string> paths);
  ~SharedInputs();
  SharedInputs(const SharedInputs&) = delete;
  SharedInputs& operator=(const SharedInputs&) = delete;

 private:
  std::vector<std::string> paths_;
};

// How many times input files have been read from disk by this process (for tests: a file
// several systems share is read once).
uint64_t input_file_reads();

// The source's `allow_empty = true` option: an empty input is then a valid zero rows.
bool allows_empty(const ConnectorSpec& spec);

using ConnectorFactory = std::function<std::unique_ptr<Connector>(const ConnectorSpec&, const std::string& system)>;

struct ConnectorKind {
  std::string name;
  std::vector<std::string> options;  // accepted option names besides `path`
  ConnectorFactory make;
};

const std::vector<ConnectorKind>& connector_kinds();
const ConnectorKind* find_connector_kind(const std::string& name);
// Throws UserError for an unknown kind or option.
std::unique_ptr<Connector> open_connector(const ConnectorSpec& spec, const std::string& system);

// A source path holding *, ? or [ is a glob pattern; its fixed folder is the part before
// the folder its first wildcard is in ("exports/2026/refunds-*.json" -> "exports/2026/",
// "" when there is none): where its files are, whatever they are called.
bool is_glob(const std::string& path);
std::string glob_fixed_folder(const std::string& pattern);

}  // namespace seam
