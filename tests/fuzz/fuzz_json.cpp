// Fuzz target: the bytes are the JSON document of a system shaped like examples/giftcards'
// platform (records at "export.events", an `only` filter), mapped and checked.
#include "tests/fuzz/fuzz_support.hpp"

using namespace seam;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const SystemSpec sys = [] {
    fuzz::quiet();
    std::string path = fuzz::write_input("input.json", nullptr, 0);
    SystemSpec s = fuzz::system("platform",
                                ConnectorSpec{"json", path, {{"records", "export.events"}, {"allow_empty", "true"}}, {}},
                                {fuzz::column("id", "id", true), fuzz::column("type", "type"),
                                 fuzz::column("card", "card"), fuzz::money("amount", "amount", "currency"),
                                 fuzz::time("at", "at", "iso8601")},
                                "id");
    s.only = {OnlyCondition{"type", {"load", "redemption"}, ""}};
    return s;
  }();
  fuzz::write_input("input.json", data, size);
  fuzz::map_checked(sys);
  return 0;
}
