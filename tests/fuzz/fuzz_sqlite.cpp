// Fuzz target: the bytes are a database file, queried as examples/giftcards' ERP
// (the liability journal), mapped and checked. Most mutations break the file's format:
// SQLite refuses those (a UserError), so the seeds are real databases (scripts/fuzz.sh
// builds them from tests/fuzz/seeds/sqlite/*.sql) and the mutations that matter are in
// their records.
#include "tests/fuzz/fuzz_support.hpp"

using namespace seam;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const SystemSpec sys = [] {
    fuzz::quiet();
    std::string path = fuzz::write_input("input.db", nullptr, 0);
    ConnectorSpec src{"sqlite", path,
                      {{"query", "SELECT doc, type, card, amount, currency, posted_at, memo FROM liability_journal"},
                       {"allow_empty", "true"}},
                      {}};
    return fuzz::system("erp", src,
                        {fuzz::column("doc", "doc", true), fuzz::column("type", "type"), fuzz::column("card", "card"),
                         fuzz::money("amount", "amount", "currency"), fuzz::time("posted_at", "posted_at", "iso8601"),
                         fuzz::extract("ref", "memo", "GiftCo (EV-[0-9]+)")},
                        "doc");
  }();
  fuzz::write_input("input.db", data, size);
  fuzz::map_checked(sys);
  return 0;
}
