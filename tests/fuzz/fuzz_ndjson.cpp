// Fuzz target: the bytes are the NDJSON export of a flat ERP system (the benchmark's, as
// examples/refunds had it: nested paths, a local time in a declared zone), mapped and checked; then mapped
// again split into parts on three threads, which must give exactly what one reader gave.
#include "tests/fuzz/fuzz_support.hpp"

using namespace seam;

namespace {

std::vector<std::string> describe(const MappedInput& in) {
  std::vector<std::string> out;
  for (size_t r = 0; r < in.records.size(); ++r)
    out.push_back(std::to_string(in.records.line(r)) + " " + std::string(in.records.id(r)));
  for (const auto& rej : in.rejects) out.push_back("reject " + std::to_string(rej.line) + " " + rej.reason + " [" + rej.raw + "]");
  out.push_back(std::to_string(in.stats.read) + " " + std::to_string(in.stats.accepted) + " " +
                std::to_string(in.stats.rejected) + " " + std::to_string(in.stats.skipped) + " " + in.stats.digest);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const SystemSpec sys = [] {
    fuzz::quiet();
    std::string path = fuzz::write_input("input.ndjson", nullptr, 0);
    SystemSpec s = fuzz::system("erp", ConnectorSpec{"ndjson", path, {{"allow_empty", "true"}}, {}},
                                {fuzz::column("internal_id", "internalId", true),
                                 fuzz::extract("external_ref", "memo", "refund (R[0-9]+)"),
                                 fuzz::money("amount", "total", "currency.refName"),
                                 fuzz::time("posted_at", "tranDate", "%m/%d/%Y %I:%M %p", "America/New_York"),
                                 fuzz::column("status", "status.refName")},
                                "internal_id");
    s.only = {OnlyCondition{"status", {"Refunded", "Pending Approval"}, ""}};
    return s;
  }();
  fuzz::write_input("input.ndjson", data, size);
  auto whole = fuzz::map_checked(sys);
  auto split = fuzz::map_checked(sys, MapOptions{3, 1});
  if (whole.has_value() != split.has_value())
    fuzz::broken(std::string("read whole the input ") + (whole ? "maps" : "is refused") + ", read in parts it " +
                 (split ? "maps" : "is refused"));
  if (whole && describe(*whole) != describe(*split)) {
    for (const auto& l : describe(*whole)) std::fprintf(stderr, "whole: %s\n", l.c_str());
    for (const auto& l : describe(*split)) std::fprintf(stderr, "split: %s\n", l.c_str());
    fuzz::broken("the input read in three parts maps differently from the input read whole");
  }
  return 0;
}
