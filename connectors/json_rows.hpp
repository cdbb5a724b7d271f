#pragma once
// What the NDJSON and JSON connectors share: field paths ("customer.id",
// "lines[0].amount") resolved once, each row parsed with simdjson, and a field read as
// text. A missing key or JSON null reads as missing, not as empty. A number reads as the
// exact text the file has for it ("1234567890123456.78", "12.50", "1e2"), never as a
// double printed back: money must see the digits of the file.
#include <simdjson.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace seam {

class JsonRows {
 public:
  // A handle for `path`, or nullopt with `why` filled when the path cannot be valid.
  std::optional<int> resolve(const std::string& path, std::string& why);
  // Parses one row, which must be followed by SIMDJSON_PADDING readable bytes; returns
  // why it is malformed, or "" when it is a JSON object.
  std::string parse(std::string_view text);
  // The field's text in the row last parsed. Valid until the next parse.
  std::optional<std::string_view> get(int handle);

  struct Step {
    std::string key;
    int64_t index = -1;  // >= 0 for "[N]"
  };
  static std::optional<std::vector<Step>> split_path(const std::string& path);
  // Where the value at `steps` starts in `s`, JSON text simdjson has validated; npos if absent.
  static size_t find_value(std::string_view s, const std::vector<Step>& steps);

 private:
  // The source text of the value at `steps` in the row last parsed, found as the parsed
  // document found it (first matching key, escapes in keys decoded); nullopt if absent.
  std::optional<std::string_view> source_text(const std::vector<Step>& steps) const;
  std::string_view text_;  // the row last parsed
  simdjson::dom::parser parser_;
  simdjson::dom::element doc_;
  std::vector<std::vector<Step>> paths_;
  std::vector<std::string> scratch_;
};

// A `records` option split where records nest: "refunds[].transactions[]" is the array
// "refunds" (the envelope, read as the JSON connector reads any records array) and, in
// each of its elements, the array "transactions". "response.refunds" has no nesting.
// "refund{}.transactions[]" marks the envelope as one object (itself enclosing the records).
struct RecordsPath {
  std::string envelope;
  std::vector<std::string> inner;
  bool envelope_is_object = false;
};
// nullopt with `why` filled when the text is not such a path.
std::optional<RecordsPath> split_records_path(const std::string& records, std::string& why);

// The `parent_prefix` option ("parent" when not declared); throws UserError at `loc` for
// one that is empty or holds '.' or '[', or one declared where records do not nest.
std::string parent_prefix(const std::map<std::string, std::string>& options, bool nested, const std::string& loc);

// Records nested in arrays inside each record a connector reads: with records =
// "refunds[].transactions[]" every transaction is a row, and the refund holding it is
// reachable through a prefix ("parent.id"; "parent.parent.order_id" two levels up).
// Every element is accounted for: one that is not an object is rejected with its own
// line; a record whose array is empty is one skipped row; one with no such array (or a
// non-array there) is rejected whole.
class NestedRecords {
 public:
  NestedRecords() = default;
  // `levels`: the array's path inside each enclosing object, outermost first ("transactions";
  // "detail.lines", "parts"). `prefix`: the word that climbs one level ("parent").
  NestedRecords(const std::vector<std::string>& levels, std::string prefix, std::string records);
  bool active() const { return !arrays_.empty(); }
  std::optional<int> resolve(const std::string& column, std::string& why);
  // Starts on a record of the source (followed by SIMDJSON_PADDING readable bytes) that
  // starts on `line`. Returns why it is rejected whole, or "" when next() has its rows.
  std::string begin(std::string_view text, uint64_t line);
  // The next row inside the record given to begin(); false once it has no more.
  bool next();
  uint64_t line() const { return line_; }
  std::string_view raw() const { return raw_; }
  const std::string& malformed() const { return malformed_; }
  const std::string& skip_reason() const { return skip_reason_; }
  std::optional<std::string_view> get(int handle);

 private:
  struct Level {
    std::string_view text;  // the object at this level
    uint64_t line = 0;      // where it starts
    size_t cursor = 0;      // the next element of its array (levels above the innermost)
    bool any = false;       // its array had an element
  };
  std::string start_array(size_t level);
  std::vector<std::string> names_;                  // levels' paths, for messages
  std::vector<std::vector<JsonRows::Step>> arrays_;  // level k's array, inside level k's object
  std::vector<JsonRows> rows_;                      // one parser per level: arrays_.size() + 1
  std::vector<Level> levels_;
  std::vector<std::pair<size_t, int>> handles_;     // level, handle there
  std::string prefix_, records_;
  size_t depth_ = 0;      // the level whose array is being walked
  uint64_t line_ = 0;
  std::string_view raw_;
  std::string malformed_, skip_reason_;
};

}  // namespace seam
