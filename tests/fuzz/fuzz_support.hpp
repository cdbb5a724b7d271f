#pragma once
// Shared by the fuzz targets (tests/fuzz/fuzz_*.cpp): a scratch folder for the input
// file, a small fixed system per connector, and the invariant every mapped input keeps.
// A target returns normally for any input seam handles, a UserError included (bad input
// is the user's to fix, and seam says so); it abort()s when an invariant breaks, so
// libFuzzer (or the replay driver, replay_main.cpp) reports the input.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "connectors/connector.hpp"
#include "engine/mapping/mapper.hpp"
#include "engine/util/result.hpp"

namespace seam::fuzz {

// A folder of this process's own under $TMPDIR (or /tmp), removed at exit. A fuzzer killed
// by a signal leaves it behind (seam-fuzz-XXXXXX): harmless, and small.
inline const std::string& scratch_dir() {
  static const std::string dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/seam-fuzz-XXXXXX";
    if (!::mkdtemp(tmpl.data())) {
      std::perror("seam fuzz: mkdtemp");
      std::abort();
    }
    static std::string to_remove;
    to_remove = tmpl;
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(to_remove, ec);
    });
    return tmpl;
  }();
  return dir;
}

// Writes the fuzzer's bytes as scratch/name (replacing the previous input); returns its path.
// Connectors read files by path, so the bytes go through a real file as they would in a run.
inline std::string write_input(const std::string& name, const uint8_t* data, size_t size) {
  std::string path = scratch_dir() + "/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  if (!out) {
    std::perror(("seam fuzz: writing " + path).c_str());
    std::abort();
  }
  return path;
}

// Logging off: a reject or a Lua print() per input is noise at thousands of inputs a second.
inline void quiet() { spdlog::set_level(spdlog::level::off); }

inline FieldSpec column(const char* name, const char* col, bool required = false) {
  FieldSpec f;
  f.name = name;
  f.kind = FieldKind::Column;
  f.column = col;
  f.required = required;
  f.loc = {"fuzz/stack.lua", 1};
  return f;
}
inline FieldSpec money(const char* name, const char* col, const char* currency_column) {
  FieldSpec f = column(name, col);
  f.kind = FieldKind::Money;
  f.currency_column = currency_column;
  return f;
}
inline FieldSpec time(const char* name, const char* col, const char* format, const char* zone = "") {
  FieldSpec f = column(name, col);
  f.kind = FieldKind::Time;
  f.time_format = format;
  f.zone = zone;
  return f;
}
inline FieldSpec extract(const char* name, const char* col, const char* regex) {
  FieldSpec f = column(name, col);
  f.kind = FieldKind::Extract;
  f.regex = regex;
  return f;
}

// A system as the stack loader leaves it (fields sorted by name).
inline SystemSpec system(const char* name, ConnectorSpec source, std::vector<FieldSpec> fields, const char* id_field) {
  SystemSpec s;
  s.name = name;
  s.source = std::move(source);
  s.source.loc = {"fuzz/stack.lua", 1};
  std::sort(fields.begin(), fields.end(), [](const FieldSpec& a, const FieldSpec& b) { return a.name < b.name; });
  s.fields = std::move(fields);
  s.id_field = id_field;
  s.loc = {"fuzz/stack.lua", 1};
  return s;
}

[[noreturn]] inline void broken(const std::string& what) {
  std::fprintf(stderr, "seam fuzz: invariant broken: %s\n", what.c_str());
  std::abort();
}

// Rows are accounted for: every row read is accepted, rejected or skipped, and every
// reject says where it was (line >= 1) and what it was (its raw text).
inline void check_accounted(const MappedInput& in) {
  const InputStats& s = in.stats;
  auto counts = "read " + std::to_string(s.read) + ", accepted " + std::to_string(s.accepted) + ", rejected " +
                std::to_string(s.rejected) + ", skipped " + std::to_string(s.skipped);
  if (s.read != s.accepted + s.rejected + s.skipped) broken("rows read != accepted + rejected + skipped: " + counts);
  if (in.records.size() != s.accepted) broken(std::to_string(in.records.size()) + " records kept but " + counts);
  if (in.rejects.size() != s.rejected) broken(std::to_string(in.rejects.size()) + " rejects listed but " + counts);
  for (size_t r = 0; r < in.rejects.size(); ++r) {
    const Reject& rej = in.rejects[r];
    if (rej.line < 1) broken("reject " + std::to_string(r) + " (" + rej.reason + ") has line 0");
    if (rej.raw.empty()) broken("reject " + std::to_string(r) + " at line " + std::to_string(rej.line) + " (" + rej.reason + ") has no raw text");
    if (rej.reason.empty()) broken("reject " + std::to_string(r) + " at line " + std::to_string(rej.line) + " has no reason");
  }
  for (size_t r = 0; r < in.records.size(); ++r)
    if (in.records.line(r) < 1) broken("record " + std::to_string(r) + " has line 0");
}

// A row takes at least one byte of input: a connector that yields more rows than the input
// has bytes (plus one) is reading the same bytes again, and would without end. Read through
// the connector alone first, so such an input aborts at once with that said, instead of
// after the rejects it piles up have taken gigabytes (a libFuzzer OOM much later).
inline void check_rows_bounded(const SystemSpec& sys, size_t input_size) {
  try {
    auto c = open_connector(sys.source, sys.name);
    uint64_t rows = 0;
    while (c->next())
      if (++rows > input_size + 1)
        broken("the " + sys.source.kind + " connector yields more rows than its " + std::to_string(input_size) +
               "-byte input has bytes (endless loop at line " + std::to_string(c->line()) + ": " + c->malformed() + ")");
  } catch (const UserError&) {
  }
}

// Maps the system's input and checks it; a UserError (the input is not readable as
// declared) is a fine outcome. Returns the mapped input, or nothing after a UserError.
inline std::optional<MappedInput> map_checked(const SystemSpec& sys, const MapOptions& options = {}) {
  std::error_code ec;
  check_rows_bounded(sys, static_cast<size_t>(std::filesystem::file_size(sys.source.path, ec)));
  try {
    MappedInput in = map_system(sys, nullptr, options);
    check_accounted(in);
    return in;
  } catch (const UserError&) {
    return std::nullopt;
  }
}

// What a reader of a mapped input sees, in order: records' lines and ids, rejects, counts.
inline std::vector<std::string> describe(const MappedInput& in) {
  std::vector<std::string> out;
  for (size_t r = 0; r < in.records.size(); ++r)
    out.push_back(std::to_string(in.records.line(r)) + " " + std::string(in.records.id(r)));
  for (const auto& rej : in.rejects) out.push_back("reject " + std::to_string(rej.line) + " " + rej.reason + " [" + rej.raw + "]");
  out.push_back(std::to_string(in.stats.read) + " " + std::to_string(in.stats.accepted) + " " +
                std::to_string(in.stats.rejected) + " " + std::to_string(in.stats.skipped) + " " + in.stats.digest);
  return out;
}

// Maps the input whole, checked, then split into parts on three threads, which must give
// exactly what one reader gave (or be refused alike).
inline void map_whole_and_split(const SystemSpec& sys) {
  auto whole = map_checked(sys);
  auto split = map_checked(sys, MapOptions{3, 1});
  if (whole.has_value() != split.has_value())
    broken(std::string("read whole the input ") + (whole ? "maps" : "is refused") + ", read in parts it " +
           (split ? "maps" : "is refused"));
  if (whole && describe(*whole) != describe(*split)) {
    for (const auto& l : describe(*whole)) std::fprintf(stderr, "whole: %s\n", l.c_str());
    for (const auto& l : describe(*split)) std::fprintf(stderr, "split: %s\n", l.c_str());
    broken("the input read in three parts maps differently from the input read whole");
  }
}

}  // namespace seam::fuzz
