#pragma once
// Normalized records of one system: a row-major table of typed Values whose text lives
// in one arena, so a million records cost a few large allocations, not millions.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/spec/stack_spec.hpp"
#include "engine/util/prefetch.hpp"
#include "engine/util/text.hpp"
#include "engine/value/value.hpp"

namespace seam {

struct Reject {
  std::string system, path;
  uint64_t line = 0;
  std::string reason, raw;
};

struct FileCounts {
  std::string path, digest;
  uint64_t read = 0, accepted = 0, rejected = 0, skipped = 0;
};

struct InputStats {
  std::string system, path, digest;
  uint64_t read = 0, accepted = 0, rejected = 0;
  uint64_t skipped = 0;  // read and left out: by the system's `only` filter or the source's own skips
  uint64_t skipped_by_source = 0;  // of them, the source's (title rows, skip_rows, empty nested arrays)
  // A source whose path is a glob: each file's own counts and digest, in reading order
  // (path is then the pattern, digest that of the files' digests). Empty for one file.
  std::vector<FileCounts> files = {};
};

class RecordSet {
 public:
  explicit RecordSet(const SystemSpec& system)
      : system_(&system), width_(system.fields.size()), id_field_(system.field_index(system.id_field)) {}
  RecordSet(RecordSet&&) = default;
  RecordSet& operator=(RecordSet&&) = default;

  const SystemSpec& system() const { return *system_; }
  size_t size() const { return lines_.size(); }
  size_t width() const { return width_; }
  const Value& get(size_t rec, size_t field) const { return values_[rec * width_ + field]; }
  // The record's id (its declared id field, else "line N"), as verdicts name it.
  std::string_view id(size_t rec) const {
    return own_ids_ ? ids_[rec] : get(rec, static_cast<size_t>(id_field_)).text();
  }
  uint64_t line(size_t rec) const { return lines_[rec]; }
  // Evaluation visits records in match order, which for at least one side is not their
  // order in memory: asking for them a few groups ahead hides the cache misses.
  void prefetch_id(size_t rec) const {
    seam::prefetch(own_ids_ ? static_cast<const void*>(&ids_[rec]) : &values_[rec * width_ + id_field_]);
  }
  void prefetch(size_t rec) const {
    prefetch_bytes(values_.data() + rec * width_, width_ * sizeof(Value));
    std::string_view i = id(rec);
    prefetch_bytes(i.data(), i.size());
  }

  // Building: begin a record, fill its values, then commit or drop it.
  Value* begin_record() {
    values_.resize(values_.size() + width_);
    return &values_[values_.size() - width_];
  }
  // `id` is the text of the record's id field (nearly always: then it is not stored twice,
  // 16 bytes a record), or text of its own in the arena ("line 7", an integer id's digits).
  void commit_record(uint64_t line, std::string_view id) {
    if (!own_ids_ && !is_id_field_text(lines_.size(), id)) own_ids();
    lines_.push_back(line);
    if (own_ids_) ids_.push_back(id);
  }
  void drop_record() { values_.resize(values_.size() - width_); }
  StringArena& arena() { return arena_; }
  // Appends the records of `more` (same system), their lines shifted by `line_offset`:
  // how the parts of one input mapped on several threads become one record set.
  void append(RecordSet&& more, uint64_t line_offset) {
    if (more.own_ids_ && !own_ids_) own_ids();
    if (own_ids_ && !more.own_ids_) more.own_ids();
    values_.insert(values_.end(), more.values_.begin(), more.values_.end());
    lines_.reserve(lines_.size() + more.lines_.size());
    for (uint64_t l : more.lines_) lines_.push_back(l + line_offset);
    ids_.insert(ids_.end(), more.ids_.begin(), more.ids_.end());
    arena_.absorb(std::move(more.arena_));
  }
  void reserve(size_t n) {
    values_.reserve(n * width_);
    lines_.reserve(n);
  }

 private:
  // Whether `id` is record rec's id field's text itself (the same bytes, not equal ones).
  bool is_id_field_text(size_t rec, std::string_view id) const {
    if (id_field_ < 0) return false;
    const Value& v = get(rec, static_cast<size_t>(id_field_));
    return v.kind == ValueKind::Text && v.text().data() == id.data() && v.text().size() == id.size();
  }
  // From now on each record's id is stored: those so far are their id fields' text.
  void own_ids() {
    ids_.reserve(lines_.capacity());
    for (size_t r = ids_.size(); r < lines_.size(); ++r) ids_.push_back(get(r, static_cast<size_t>(id_field_)).text());
    own_ids_ = true;
  }

  const SystemSpec* system_;
  size_t width_;
  int id_field_;  // -1: the system declares no id (records are named by line)
  std::vector<Value> values_;
  std::vector<uint64_t> lines_;
  bool own_ids_ = false;               // ids_ holds every record's id
  std::vector<std::string_view> ids_;  // only when some id is not its id field's text
  StringArena arena_;
};

}  // namespace seam
