// Fuzz target: the bytes are the NDJSON export of a flat ERP system (the benchmark's, as
// examples/refunds had it: nested paths, a local time in a declared zone), mapped and checked; then mapped
// again split into parts on three threads, which must give exactly what one reader gave.
#include "tests/fuzz/fuzz_support.hpp"

using namespace seam;

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
  fuzz::map_whole_and_split(sys);
  return 0;
}
