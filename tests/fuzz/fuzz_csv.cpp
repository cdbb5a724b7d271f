// Fuzz target: the bytes are the CSV export of a flat storefront system (the benchmark's, as
// examples/refunds had it; its seed reaches every field), mapped and checked; then mapped
// again split into parts on three threads, which must give exactly what one reader gave.
#include "tests/fuzz/fuzz_support.hpp"

using namespace seam;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const SystemSpec sys = [] {
    fuzz::quiet();
    std::string path = fuzz::write_input("input.csv", nullptr, 0);
    SystemSpec s = fuzz::system("storefront", ConnectorSpec{"csv", path, {{"allow_empty", "true"}}, {}},
                                {fuzz::column("refund_id", "Refund ID", true),
                                 fuzz::extract("order_id", "Order", "#?([0-9]+)"),
                                 fuzz::money("amount", "Amount", "Currency"),
                                 fuzz::time("at", "Created At", "iso8601"),
                                 fuzz::column("kind", "Type")},
                                "refund_id");
    s.only = {OnlyCondition{"kind", {"full", "partial"}, ""}};  // some rows skipped, so the invariant counts them too
    return s;
  }();
  fuzz::write_input("input.csv", data, size);
  fuzz::map_whole_and_split(sys);
  return 0;
}
