// JSON: one document holding an array of records, at the top level or at `records`, a
// path of object keys ("data.transactions"), or one object: a bare top-level object, or
// the object `records` names. With no `records`, a top-level object holding exactly one
// array under data, items or records is an API list envelope. `records` may nest
// ("refunds[].transactions[]"): each record read here is then handed to NestedRecords.
// The array is walked with a small scanner that only tracks strings and brackets, so a
// record that is not valid JSON is rejected on its own with its line, and the records
// after it are still read.
//
// No byte of the records array, or after it, is passed over silently. Between records,
// anything that is not a record or a ',' (a stray '}' or ']', a ':') is rejected as one
// row holding that run of characters, and reading resumes at the next record. A ']' ends
// the array only when what follows is the end of the document: at the top level the end
// of the file, or one ']' followed only by whitespace at the end (so a stray ']' before it
// does not hide the records after it); under `records`, the rest of the objects holding
// the array. Content after the end of the document is rejected as one row; a file that
// ends before its document does, or names the records key twice, is an error naming file
// and line.
#include "connectors/connector.hpp"
#include "connectors/json_rows.hpp"
#include "engine/util/result.hpp"
#include "engine/util/text.hpp"

#include <algorithm>

namespace seam {
namespace {

constexpr size_t npos = std::string_view::npos;

class JsonConnector final : public Connector {
 public:
  JsonConnector(const ConnectorSpec& spec, const std::string& system) : system_(system) {
    path_ = spec.path;
    allow_empty_ = allows_empty(spec);
    text_ = load_file(spec, system, simdjson::SIMDJSON_PADDING);
    auto it = spec.options.find("records");
    const bool declared = it != spec.options.end();
    std::string why;
    auto path = split_records_path(declared ? it->second : "", why);
    if (!path) throw UserError(spec.loc.str() + ": " + why);
    records_ = path->envelope;
    envelope_is_object_ = path->envelope_is_object;
    std::string prefix = parent_prefix(spec.options, !path->inner.empty(), spec.loc.str());
    if (!path->inner.empty()) nested_ = NestedRecords(path->inner, prefix, it->second);
    for (size_t from = 0; !records_.empty() && from <= records_.size();) {
      size_t dot = records_.find('.', from);
      keys_.push_back(records_.substr(from, dot == std::string::npos ? std::string::npos : dot - from));
      from = dot == std::string::npos ? records_.size() + 1 : dot + 1;
    }
    last_ = text_.size();
    while (last_ > 0 && is_ws(text_[last_ - 1])) --last_;
    if (text_.compare(0, 3, "\xEF\xBB\xBF") == 0) pos_ = 3;  // a UTF-8 BOM, as CSV allows
    if (!declared) find_list_envelope(spec);
    find_records_array(spec);
  }

  std::optional<int> resolve(const std::string& column, std::string& why) override {
    return nested_.active() ? nested_.resolve(column, why) : json_.resolve(column, why);
  }

  bool next() override {
    from_nested_ = false;
    if (!nested_.active()) return single_ ? next_single() : next_in_array();
    for (;;) {
      if (in_nested_ && nested_.next()) {
        from_nested_ = true;
        ++rows_;
        return true;
      }
      in_nested_ = false;
      if (!(single_ ? next_single() : next_in_array())) return false;
      // A record read whole: its nested records come next, unless it is rejected itself.
      if (!malformed_.empty()) return true;
      in_nested_ = true;
    }
  }

  uint64_t line() const override { return from_nested_ ? nested_.line() : line_no_; }
  std::string_view raw() const override { return from_nested_ ? nested_.raw() : raw_; }
  const std::string& malformed() const override { return from_nested_ ? nested_.malformed() : malformed_; }
  const std::string& skip_reason() const override {
    static const std::string none;
    return from_nested_ ? nested_.skip_reason() : none;
  }
  std::optional<std::string_view> get(int handle) override {
    return from_nested_ ? nested_.get(handle) : json_.get(handle);
  }

 private:
  // The one record of a document whose records path holds an object, or of a top-level
  // object that is no list envelope: the object, then what follows it.
  bool next_single() {
    if (single_state_ == 2) {
      check_not_empty(rows_, allow_empty_, "no record in its JSON document", system_);
      return false;
    }
    malformed_.clear();
    if (single_state_ == 1) {
      single_state_ = 2;
      size_t b = single_end_ - 1;
      Tail t;
      if (keys_.empty()) {
        t.at = skip_ws(single_end_);
        t.kind = t.at >= text_.size() ? Tail::End : Tail::Trailing;
      } else {
        t = tail_after(b);
      }
      if (t.kind == Tail::End) return next_single();
      if (t.kind != Tail::Trailing) throw_tail_error(b, t);
      line_no_ = line_of(t.at);
      raw_ = text_.substr(t.at, last_ - t.at);
      malformed_ = "content after the end of the JSON document (the record opened on line " +
                   std::to_string(array_line_) + " closes on line " + std::to_string(line_of(b)) +
                   "; expected only the end of the file, found " + found_at(t.at) + "); it is rejected whole as "
                   "this one row";
      ++rows_;
      return true;
    }
    single_state_ = 1;
    size_t start = pos_;
    line_no_ = line_of(start);
    size_t end = value_end(start);
    if (end == npos) {
      single_state_ = 2;
      done_ = true;
      malformed_ = "the record opened on line " + std::to_string(line_no_) + " is not closed by the end of the file "
                   "(unbalanced brackets or an unterminated string: a truncated export?); it is quarantined whole "
                   "as this one row";
      raw_ = text_.substr(start);
      ++rows_;
      return true;
    }
    single_end_ = end;
    raw_ = text_.substr(start, end - start);
    malformed_ = nested_.active() ? nested_.begin(raw_, line_no_) : json_.parse(raw_);
    ++rows_;
    return true;
  }

  // No records path declared and a top-level object: an API list envelope holds its
  // records in exactly one array under `data`, `items` or `records`. Looks at the
  // top-level keys only; a document that is no such envelope is read as one record.
  void find_list_envelope(const ConnectorSpec& spec) {
    size_t p = skip_ws(pos_);
    if (p >= text_.size() || text_[p] != '{') return;
    std::vector<std::string> found;
    p = skip_ws(p + 1);
    while (p < text_.size() && text_[p] == '"') {
      size_t key_end = string_end(p);
      if (key_end == npos) break;
      std::string key(text_.substr(p + 1, key_end - p - 2));
      p = skip_ws(key_end);
      if (p >= text_.size() || text_[p] != ':') break;
      p = skip_ws(p + 1);
      if ((key == "data" || key == "items" || key == "records") && p < text_.size() && text_[p] == '[' &&
          std::find(found.begin(), found.end(), key) == found.end())
        found.push_back(key);
      size_t v = value_end(p);
      if (v == npos || v == p) break;  // a broken document: the reading proper says where
      p = skip_ws(v);
      if (p < text_.size() && text_[p] == ',') p = skip_ws(p + 1);
    }
    if (found.size() > 1)
      throw UserError(spec.loc.str() + ": " + path_ + " (system '" + system_ + "'): the top-level object holds arrays "
                      "under both '" + found[0] + "' and '" + found[1] + "': which one holds the records is "
                      "ambiguous; declare records = \"" + found[0] + "\" (or the other)");
    if (found.size() == 1) {
      records_ = found[0];
      keys_ = {found[0]};
    }
  }

  bool next_in_array() {
    if (done_) {
      check_not_empty(rows_, allow_empty_, "no records in its JSON array", system_);
      return false;
    }
    malformed_.clear();
    for (;;) {
      pos_ = skip_ws(pos_);
      if (pos_ >= text_.size()) throw_truncated_array();
      const char c = text_[pos_];
      if (c == ',' && need_comma_ && !comma_seen_) {
        comma_seen_ = true;
        ++pos_;
        continue;
      }
      if (c == ']') {
        Tail t = tail_after(pos_);
        if (t.kind == Tail::End) {
          done_ = true;
          return next_in_array();
        }
        if (t.kind == Tail::Trailing) return trailing_content(pos_, t);
        if (t.kind != Tail::Stray) throw_tail_error(pos_, t);
        stray_close_ = t;
        stray_close_line_ = line_of(pos_);
        return stray_run();
      }
      if (c == '}' || c == ',' || c == ':') return stray_run();
      break;
    }
    size_t start = pos_;
    line_no_ = line_of(start);
    size_t end = value_end(start);
    if (end == npos) return rest_is_broken(start);
    if (end == start) ++end;  // not reached (what stops a value is handled above), but never a row that reads nothing
    pos_ = end;
    raw_ = text_.substr(start, end - start);
    if (need_comma_ && !comma_seen_) {
      // Two records with no comma between them: keep reading, but do not accept this one.
      malformed_ = "expected ',' between records";
      if (stray_line_) malformed_ += " (this one follows the stray characters on line " + std::to_string(stray_line_) + ")";
    } else {
      malformed_ = nested_.active() ? nested_.begin(raw_, line_no_) : json_.parse(raw_);
    }
    need_comma_ = true;
    comma_seen_ = false;
    stray_line_ = 0;
    ++rows_;
    ++records_read_;
    return true;
  }

  // What follows a ']' at the level of the records array.
  struct Tail {
    enum Kind { End, Stray, Trailing, Truncated, Duplicate } kind = End;
    size_t at = 0;             // where the tail stops being what it should be
    std::string expected;      // what should have been there (Stray, Truncated)
    size_t level = 0;          // the records path key named twice (Duplicate)
  };

  static bool is_ws(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
  size_t skip_ws(size_t p) const {
    while (p < text_.size() && is_ws(text_[p])) ++p;
    return p;
  }
  // Just past the string whose opening quote is at p, or npos when it never ends.
  size_t string_end(size_t p) const {
    for (size_t i = p + 1; i < text_.size(); ++i) {
      if (text_[i] == '\\') ++i;
      else if (text_[i] == '"') return i + 1;
    }
    return npos;
  }
  // Just past one value at p: a string, a balanced object or array, or a scalar; npos when
  // a string or bracket never closes; p itself when no value starts there. No validation
  // beyond that: simdjson parses the record afterwards.
  size_t value_end(size_t p) const {
    if (p >= text_.size()) return npos;
    char c = text_[p];
    if (c == '"') return string_end(p);
    if (c != '{' && c != '[') {
      while (p < text_.size() && text_[p] != ',' && text_[p] != ']' && text_[p] != '}' && !is_ws(text_[p])) ++p;
      return p;
    }
    uint64_t depth = 0;
    while (p < text_.size()) {
      char ch = text_[p];
      if (ch == '"') {
        p = string_end(p);
        if (p == npos) return npos;
        continue;
      }
      if (ch == '{' || ch == '[') ++depth;
      else if ((ch == '}' || ch == ']') && --depth == 0) return p + 1;
      ++p;
    }
    return npos;
  }

  // Physical line of a byte offset (LF, CRLF or a lone CR end a line). Counted from the
  // last offset asked for, in either direction: a look ahead at what follows a ']' and the
  // return to reading records cost only the distance between them.
  uint64_t line_of(size_t offset) {
    offset = std::min(offset, text_.size());
    if (offset >= counted_to_) line_ += count_line_ends(text_, counted_to_, offset);
    else line_ -= count_line_ends(text_, offset, counted_to_);
    counted_to_ = offset;
    return line_;
  }

  // "'}' on line 4", "the end of the file (line 9)": what was found at p, for messages.
  std::string found_at(size_t p) {
    uint64_t line = line_of(p);
    if (p >= text_.size()) return "the end of the file (line " + std::to_string(line) + ")";
    auto c = static_cast<unsigned char>(text_[p]);
    std::string what;
    if (c >= 0x20 && c < 0x7f) what = std::string("'") + static_cast<char>(c) + "'";
    else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02X", c);
      what = std::string("byte ") + hex;
    }
    return what + " on line " + std::to_string(line);
  }

  std::string holder(size_t level) const { return "the object holding '" + keys_[level] + "'"; }

  // What follows the ']' at b decides whether it closes the records array. Looks ahead
  // only as far as needed to decide.
  Tail tail_after(size_t b) {
    Tail t;
    size_t p = skip_ws(b + 1);
    if (keys_.empty()) {
      t.at = p;
      if (p >= text_.size()) return t;
      // A ']' at the very end can still close the array: this one is stray, and the
      // records after it are read. A ',' after it says the same.
      t.expected = "only whitespace up to the end of the file";
      if (text_[last_ - 1] == ']' && last_ - 1 > b) {
        t.kind = Tail::Stray;
        // Counted once: a file of many stray brackets must not be counted to its end for each.
        if (!last_line_) last_line_ = 1 + count_line_ends(text_, 0, last_ - 1);
        t.expected += " (the file ends in a ']' on line " + std::to_string(last_line_) +
                      ", taken as the end of the array)";
        return t;
      }
      if (text_[p] == ',') {
        t.kind = Tail::Stray;
        return t;
      }
      t.kind = Tail::Trailing;
      return t;
    }
    auto fail = [&](Tail::Kind kind, size_t at, std::string expected) {
      t.kind = at >= text_.size() ? Tail::Truncated : kind;
      t.at = at;
      t.expected = std::move(expected);
      return t;
    };
    for (size_t level = keys_.size(); level-- > 0;) {
      for (;;) {
        p = skip_ws(p);
        std::string expect = "',' or the '}' that closes " + holder(level);
        if (p >= text_.size() || (text_[p] != '}' && text_[p] != ',')) return fail(Tail::Stray, p, expect);
        if (text_[p++] == '}') break;
        p = skip_ws(p);
        if (p >= text_.size() || text_[p] != '"') return fail(Tail::Stray, p, "a key in quotes in " + holder(level));
        size_t key_end = string_end(p);
        if (key_end == npos) return fail(Tail::Truncated, text_.size(), "the end of a key in " + holder(level));
        std::string_view key = text_.substr(p + 1, key_end - p - 2);
        size_t key_at = p;
        p = skip_ws(key_end);
        if (p >= text_.size() || text_[p] != ':') return fail(Tail::Stray, p, "':' after a key in " + holder(level));
        p = skip_ws(p + 1);
        if (key == keys_[level]) {
          t.kind = Tail::Duplicate;
          t.at = key_at;
          t.level = level;
          return t;
        }
        size_t v = value_end(p);
        if (v == npos) return fail(Tail::Truncated, text_.size(), "the end of a value in " + holder(level));
        if (v == p) return fail(Tail::Stray, p, "a value in " + holder(level));
        p = v;
      }
    }
    t.at = skip_ws(p);
    t.kind = t.at >= text_.size() ? Tail::End : Tail::Trailing;
    return t;
  }

  [[noreturn]] void throw_tail_error(size_t b, const Tail& t) {
    std::string closed = std::string(single_ ? "the record" : "the records array") + " opened on line " +
                         std::to_string(array_line_) + " closes on line " + std::to_string(line_of(b));
    if (t.kind == Tail::Duplicate) {
      uint64_t again = line_of(t.at);
      throw UserError(path_ + " (system '" + system_ + "'): key '" + keys_[t.level] + "' appears twice in " +
                      holder_text(t.level) + ", on line " + std::to_string(key_lines_[t.level]) + " and again on line " +
                      std::to_string(again) + ": which one holds the records is ambiguous (JSON readers disagree: "
                      "some take the first, some the last); keep one of them");
    }
    throw UserError(path_ + " (system '" + system_ + "') ends at line " + std::to_string(line_of(t.at)) +
                    " before its JSON document does: a truncated export? (" + closed + "; expected " + t.expected +
                    ")");
  }
  std::string holder_text(size_t level) const {
    return level == 0 ? "the top-level object" : "'" + join(keys_, ".", level) + "'";
  }

  [[noreturn]] void throw_truncated_array() {
    std::string note;
    if (stray_close_line_)
      note = " (the ']' on line " + std::to_string(stray_close_line_) + " does not close it: a ']' closing it would "
             "be followed by " + stray_close_.expected + ", found " + found_at(stray_close_.at) + ")";
    throw UserError(path_ + " (system '" + system_ + "') ends at line " + std::to_string(line_of(text_.size())) +
                    " inside its records array (opened on line " + std::to_string(array_line_) + "), after " +
                    std::to_string(records_read_) + (records_read_ == 1 ? " record" : " records") +
                    ": a truncated export? (expected ']')" + note);
  }

  // A run of characters between records that are neither a record nor a ',' between two:
  // one rejected row, so a run of a million stray brackets is one row, not a million.
  bool stray_run() {
    const size_t start = pos_;
    line_no_ = line_of(start);
    std::string opened = "the records array opened on line " + std::to_string(array_line_);
    if (text_[start] == ']')
      malformed_ = "stray ']' in " + opened + ": a ']' closing it would be followed by " + stray_close_.expected +
                   ", found " + found_at(stray_close_.at) + "; reading goes on after it";
    else
      malformed_ = std::string("stray '") + text_[start] + "' in " + opened +
                   " (expected a record, ',' between records or the ']' that closes the array)";
    for (bool at_first = true;; at_first = false) {
      size_t p = skip_ws(pos_);
      if (p >= text_.size()) break;
      char c = text_[p];
      if (c == ',') {
        comma_seen_ = true;  // a record after the run still has its comma
      } else if (c == ']' && !at_first) {
        Tail t = tail_after(p);
        if (t.kind != Tail::Stray) break;
        stray_close_ = t;
        stray_close_line_ = line_of(p);
      } else if (c != '}' && c != ':' && c != ']') {
        break;
      }
      pos_ = p + 1;
    }
    raw_ = text_.substr(start, pos_ - start);
    stray_line_ = line_no_;
    ++rows_;
    return true;
  }

  // Content after the end of the JSON document, quarantined whole as one row.
  bool trailing_content(size_t b, const Tail& t) {
    done_ = true;
    line_no_ = line_of(t.at);
    raw_ = text_.substr(t.at, last_ - t.at);
    malformed_ = "content after the end of the JSON document (the records array opened on line " +
                 std::to_string(array_line_) + " closes on line " + std::to_string(line_of(b)) +
                 "; expected only whitespace up to the end of the file, found " + found_at(t.at) +
                 "); it is rejected whole as this one row";
    ++rows_;
    return true;
  }

  // A record whose brackets or strings never close: the structure after it cannot be
  // trusted, so everything from its start to the end is quarantined as one row.
  bool rest_is_broken(size_t start) {
    done_ = true;
    malformed_ = "a record is not closed (unbalanced brackets or an unterminated string); the rest of the file "
                 "is quarantined as this one row";
    raw_ = text_.substr(start);
    ++rows_;
    return true;
  }

  // Moves pos_ just inside the records array, or throws naming what was found instead.
  void find_records_array(const ConnectorSpec& spec) {
    auto fail = [&](const std::string& what) {
      throw UserError(spec.loc.str() + ": " + path_ + " (system '" + system_ + "'): " + what);
    };
    std::string where = "the top level";
    for (size_t level = 0; level < keys_.size(); ++level) {
      const std::string& key = keys_[level];
      pos_ = skip_ws(pos_);
      if (pos_ >= text_.size() || text_[pos_] != '{') fail("expected an object at " + where + " holding '" + key + "'");
      ++pos_;
      bool found = false;
      std::vector<std::string> keys;
      for (;;) {
        pos_ = skip_ws(pos_);
        if (pos_ < text_.size() && text_[pos_] == '}') break;
        if (pos_ >= text_.size() || text_[pos_] != '"')
          fail("malformed JSON object at " + where + " (expected a key in quotes, found " + found_at(pos_) + ")");
        size_t k = pos_ + 1;
        size_t end = string_end(pos_);
        if (end == npos) fail("unterminated string at " + where + " (a key opened on line " + std::to_string(line_of(pos_)) + ")");
        std::string name(text_.substr(k, end - 1 - k));
        uint64_t key_line = line_of(pos_);
        pos_ = skip_ws(end);
        if (pos_ >= text_.size() || text_[pos_] != ':')
          fail("malformed JSON object at " + where + " (expected ':' after the key '" + name + "', found " +
               found_at(pos_) + ")");
        pos_ = skip_ws(pos_ + 1);
        if (name == key) {
          key_lines_.push_back(key_line);
          found = true;
          break;
        }
        keys.push_back(name);
        size_t v = value_end(pos_);
        if (v == npos || v == pos_)
          fail("malformed JSON value in " + where + " (the value of '" + name + "' on line " +
               std::to_string(line_of(pos_)) + ")");
        pos_ = skip_ws(v);
        if (pos_ < text_.size() && text_[pos_] == ',') ++pos_;
      }
      if (!found)
        fail("records path '" + records_ + "' not found: " + where + " has no key '" + key + "'" +
             (keys.empty() ? std::string() : " (keys: " + join(keys, ", ", keys.size()) + ")"));
      where = "'" + join(keys_, ".", level + 1) + "'";
    }
    pos_ = skip_ws(pos_);
    if (envelope_is_object_ && (pos_ >= text_.size() || text_[pos_] != '{'))
      fail(records_.empty() ? "records '{}...' expects one object at the top level"
                            : "records path '" + records_ + "' does not hold an object, as its '{}' says");
    if (pos_ < text_.size() && text_[pos_] == '{') {
      single_ = true;  // one record: `{"refund": {...}}` under records = "refund", or a bare object
      array_line_ = line_of(pos_);
      return;
    }
    if (pos_ >= text_.size() || text_[pos_] != '[')
      fail(records_.empty() ? "expected a JSON array of records or one object at the top level (or declare records = "
                                                "\"path.to.array\")"
                            : "records path '" + records_ + "' does not hold an array or an object");
    array_line_ = line_of(pos_);
    ++pos_;
  }

  // The first n of v, joined.
  static std::string join(const std::vector<std::string>& v, const std::string& sep, size_t n) {
    std::string out;
    for (size_t i = 0; i < n && i < v.size(); ++i) out += (i ? sep : "") + v[i];
    return out;
  }

  std::string system_, records_;
  std::vector<std::string> keys_;         // records_ split at '.'
  std::vector<uint64_t> key_lines_;       // where each of keys_ was found
  bool allow_empty_ = false;
  std::string_view text_;  // the file's bytes, with SIMDJSON_PADDING readable bytes beyond size()
  size_t last_ = 0;        // just past the last byte that is not whitespace
  uint64_t last_line_ = 0;  // the line of that byte, once needed
  JsonRows json_;
  NestedRecords nested_;      // records = "a[].b[]": the rows inside each record
  bool in_nested_ = false;    // the record last read whole has rows left in nested_
  bool from_nested_ = false;  // the row last given is one of them
  bool single_ = false;       // the records path holds one object, not an array
  bool envelope_is_object_ = false;  // records = "x{}...": it must
  int single_state_ = 0;      // 0 before it, 1 after it, 2 after what follows it
  size_t single_end_ = 0;
  size_t pos_ = 0, counted_to_ = 0;
  uint64_t line_ = 1, line_no_ = 0, array_line_ = 1;
  uint64_t rows_ = 0, records_read_ = 0;  // rows given; of them, values of the array (not stray characters)
  bool done_ = false;
  bool need_comma_ = false;   // a record was read: the next needs a ',' before it
  bool comma_seen_ = false;   // a ',' since the last record
  uint64_t stray_line_ = 0;   // the stray characters since the last record, if any
  Tail stray_close_;          // the last ']' found not to close the array, and why
  uint64_t stray_close_line_ = 0;
  std::string_view raw_;
  std::string malformed_;
};

}  // namespace

std::unique_ptr<Connector> make_json_connector(const ConnectorSpec& spec, const std::string& system) {
  return std::make_unique<JsonConnector>(spec, system);
}

}  // namespace seam
