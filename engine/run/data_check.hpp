#pragma once
// `seam check --data`: what only the inputs can show, read from the first rows of each
// input through its own connector and mapped as a run maps them. A declared column that no
// sampled row holds, or a system whose every sampled row is rejected, would make a run fail
// every record: those are errors. What the sample holds (currencies, units, status-like
// values) is listed, with the value maps that do not cover it as warnings.
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engine/script/script_host.hpp"
#include "engine/spec/stack_spec.hpp"

namespace seam {

// A problem only data shows, at the stack line that declares what is wrong.
struct DataError {
  SourceLoc loc;
  std::string message;
  std::string str() const { return loc.str() + ": error: " + message; }
};

// One system's sample: how many rows were read and what they hold, one line per field
// worth showing ("amount: currencies USD (17)").
struct SampleSummary {
  std::string system, path;
  uint64_t read = 0, accepted = 0, rejected = 0, skipped = 0;
  bool whole = true;   // every row of the input was read (it holds no more than the sample)
  bool mapped = true;  // false when a declared column is not in the input: rows were counted, not mapped
  std::vector<std::string> lines;
};

struct DataCheck {
  std::vector<DataError> errors;
  std::vector<Warning> warnings;
  std::vector<SampleSummary> samples;  // in declaration order
};

// Reads at most `sample_rows` rows of each system's input (0: all of them). Throws
// UserError when an input cannot be opened or is empty, as a run would.
DataCheck check_data(const StackSpec& spec, ScriptHost* host, uint64_t sample_rows);

// The JSON paths that hold a value (not null) in one JSON object, named as the JSON
// connectors name them ("a.b", "lines[0].qty"); added to `out`, at most `cap` in all.
// Text that is not well-formed JSON adds what was read before the fault.
// `nulls`, when given, collects the paths seen holding null.
void json_value_paths(std::string_view json, std::set<std::string>& out, size_t cap = 10'000,
                      std::set<std::string>* nulls = nullptr);

// The candidate with the fewest edits from `word` (the first of equals); empty when there
// are none.
std::string nearest_name(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace seam
