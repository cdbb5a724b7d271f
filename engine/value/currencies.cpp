// The ISO 4217 minor-unit table, and the currencies a stack declares beyond it.
#include <algorithm>
#include <array>
#include <atomic>
#include <iterator>

#include "engine/value/money.hpp"

namespace seam {
namespace {

constexpr CurrencyCode code_of(const char (&iso)[4]) {
  return (static_cast<uint32_t>(iso[0]) << 16) | (static_cast<uint32_t>(iso[1]) << 8) | static_cast<uint32_t>(iso[2]);
}

struct Iso {
  CurrencyCode code;
  int8_t scale;
};

// ISO 4217 list one (current currencies and funds) with a numeric minor unit, sorted by
// code for a binary search. The codes whose minor unit is "N.A." (XXX, XTS, XAU, XDR and
// the other X- units) are left out on purpose: they are not money with a scale, so an
// amount in one is refused unless the stack declares it.
constexpr Iso kIso4217[] = {
    {code_of("AED"), 2}, {code_of("AFN"), 2}, {code_of("ALL"), 2}, {code_of("AMD"), 2}, {code_of("ANG"), 2},
    {code_of("AOA"), 2}, {code_of("ARS"), 2}, {code_of("AUD"), 2}, {code_of("AWG"), 2}, {code_of("AZN"), 2},
    {code_of("BAM"), 2}, {code_of("BBD"), 2}, {code_of("BDT"), 2}, {code_of("BGN"), 2}, {code_of("BHD"), 3},
    {code_of("BIF"), 0}, {code_of("BMD"), 2}, {code_of("BND"), 2}, {code_of("BOB"), 2}, {code_of("BOV"), 2},
    {code_of("BRL"), 2}, {code_of("BSD"), 2}, {code_of("BTN"), 2}, {code_of("BWP"), 2}, {code_of("BYN"), 2},
    {code_of("BZD"), 2}, {code_of("CAD"), 2}, {code_of("CDF"), 2}, {code_of("CHE"), 2}, {code_of("CHF"), 2},
    {code_of("CHW"), 2}, {code_of("CLF"), 4}, {code_of("CLP"), 0}, {code_of("CNY"), 2}, {code_of("COP"), 2},
    {code_of("COU"), 2}, {code_of("CRC"), 2}, {code_of("CUC"), 2}, {code_of("CUP"), 2}, {code_of("CVE"), 2},
    {code_of("CZK"), 2}, {code_of("DJF"), 0}, {code_of("DKK"), 2}, {code_of("DOP"), 2}, {code_of("DZD"), 2},
    {code_of("EGP"), 2}, {code_of("ERN"), 2}, {code_of("ETB"), 2}, {code_of("EUR"), 2}, {code_of("FJD"), 2},
    {code_of("FKP"), 2}, {code_of("GBP"), 2}, {code_of("GEL"), 2}, {code_of("GHS"), 2}, {code_of("GIP"), 2},
    {code_of("GMD"), 2}, {code_of("GNF"), 0}, {code_of("GTQ"), 2}, {code_of("GYD"), 2}, {code_of("HKD"), 2},
    {code_of("HNL"), 2}, {code_of("HTG"), 2}, {code_of("HUF"), 2}, {code_of("IDR"), 2}, {code_of("ILS"), 2},
    {code_of("INR"), 2}, {code_of("IQD"), 3}, {code_of("IRR"), 2}, {code_of("ISK"), 0}, {code_of("JMD"), 2},
    {code_of("JOD"), 3}, {code_of("JPY"), 0}, {code_of("KES"), 2}, {code_of("KGS"), 2}, {code_of("KHR"), 2},
    {code_of("KMF"), 0}, {code_of("KPW"), 2}, {code_of("KRW"), 0}, {code_of("KWD"), 3}, {code_of("KYD"), 2},
    {code_of("KZT"), 2}, {code_of("LAK"), 2}, {code_of("LBP"), 2}, {code_of("LKR"), 2}, {code_of("LRD"), 2},
    {code_of("LSL"), 2}, {code_of("LYD"), 3}, {code_of("MAD"), 2}, {code_of("MDL"), 2}, {code_of("MGA"), 2},
    {code_of("MKD"), 2}, {code_of("MMK"), 2}, {code_of("MNT"), 2}, {code_of("MOP"), 2}, {code_of("MRU"), 2},
    {code_of("MUR"), 2}, {code_of("MVR"), 2}, {code_of("MWK"), 2}, {code_of("MXN"), 2}, {code_of("MXV"), 2},
    {code_of("MYR"), 2}, {code_of("MZN"), 2}, {code_of("NAD"), 2}, {code_of("NGN"), 2}, {code_of("NIO"), 2},
    {code_of("NOK"), 2}, {code_of("NPR"), 2}, {code_of("NZD"), 2}, {code_of("OMR"), 3}, {code_of("PAB"), 2},
    {code_of("PEN"), 2}, {code_of("PGK"), 2}, {code_of("PHP"), 2}, {code_of("PKR"), 2}, {code_of("PLN"), 2},
    {code_of("PYG"), 0}, {code_of("QAR"), 2}, {code_of("RON"), 2}, {code_of("RSD"), 2}, {code_of("RUB"), 2},
    {code_of("RWF"), 0}, {code_of("SAR"), 2}, {code_of("SBD"), 2}, {code_of("SCR"), 2}, {code_of("SDG"), 2},
    {code_of("SEK"), 2}, {code_of("SGD"), 2}, {code_of("SHP"), 2}, {code_of("SLE"), 2}, {code_of("SLL"), 2},
    {code_of("SOS"), 2}, {code_of("SRD"), 2}, {code_of("SSP"), 2}, {code_of("STN"), 2}, {code_of("SVC"), 2},
    {code_of("SYP"), 2}, {code_of("SZL"), 2}, {code_of("THB"), 2}, {code_of("TJS"), 2}, {code_of("TMT"), 2},
    {code_of("TND"), 3}, {code_of("TOP"), 2}, {code_of("TRY"), 2}, {code_of("TTD"), 2}, {code_of("TWD"), 2},
    {code_of("TZS"), 2}, {code_of("UAH"), 2}, {code_of("UGX"), 0}, {code_of("USD"), 2}, {code_of("USN"), 2},
    {code_of("UYI"), 0}, {code_of("UYU"), 2}, {code_of("UYW"), 4}, {code_of("UZS"), 2}, {code_of("VED"), 2},
    {code_of("VES"), 2}, {code_of("VND"), 0}, {code_of("VUV"), 0}, {code_of("WST"), 2}, {code_of("XAF"), 0},
    {code_of("XCD"), 2}, {code_of("XCG"), 2}, {code_of("XOF"), 0}, {code_of("XPF"), 0}, {code_of("YER"), 2},
    {code_of("ZAR"), 2}, {code_of("ZMW"), 2}, {code_of("ZWG"), 2}, {code_of("ZWL"), 2},
};

constexpr bool sorted_by_code() {
  for (size_t i = 1; i < std::size(kIso4217); ++i)
    if (kIso4217[i - 1].code >= kIso4217[i].code) return false;
  return true;
}
static_assert(sorted_by_code(), "kIso4217 must stay sorted by code for the binary search");

// Declared currencies live for the process: amounts carry only their code, and every
// formatter (reports, the audit log's money text) must find the same scale. Each slot is
// published once with a release store, so mapping threads read it without a lock; a
// slot holds code << 8 | scale, 0 when free.
constexpr size_t kMaxDeclared = 64;
std::array<std::atomic<uint64_t>, kMaxDeclared> g_declared{};

}  // namespace

int iso_currency_scale(CurrencyCode code) {
  auto it = std::lower_bound(std::begin(kIso4217), std::end(kIso4217), code,
                             [](const Iso& e, CurrencyCode c) { return e.code < c; });
  return it != std::end(kIso4217) && it->code == code ? it->scale : -1;
}

int known_currency_scale(CurrencyCode code) {
  if (int s = iso_currency_scale(code); s >= 0) return s;
  for (const auto& slot : g_declared) {
    uint64_t v = slot.load(std::memory_order_acquire);
    if (v == 0) break;
    if ((v >> 8) == code) return static_cast<int>(v & 0xff);
  }
  return -1;
}

std::string declare_currency(CurrencyCode code, int scale) {
  const std::string name = currency_name(code);
  if (scale < 0 || scale > kMaxCurrencyScale)
    return "currency " + name + " must have 0 to " + std::to_string(kMaxCurrencyScale) + " decimals, found " +
           std::to_string(scale);
  if (int iso = iso_currency_scale(code); iso >= 0)
    return "currency " + name + " is in ISO 4217 already (" + std::to_string(iso) +
           " decimals); declare only codes ISO 4217 does not have";
  const uint64_t want = static_cast<uint64_t>(code) << 8 | static_cast<uint64_t>(scale);
  for (auto& slot : g_declared) {
    uint64_t expected = 0;
    if (slot.compare_exchange_strong(expected, want, std::memory_order_acq_rel)) return {};
    if ((expected >> 8) == code) {
      if (expected == want) return {};
      return "currency " + name + " is declared with " + std::to_string(expected & 0xff) +
             " decimals by a stack loaded earlier in this process; one code has one scale";
    }
  }
  return "more than " + std::to_string(kMaxDeclared) + " declared currencies";
}

int currency_scale(CurrencyCode code) {
  int s = known_currency_scale(code);
  return s >= 0 ? s : 2;
}

std::string unknown_currency_text(CurrencyCode code) {
  return "currency " + currency_name(code) +
         " is not in ISO 4217; if it is meant, declare it with its decimals: currencies { " + currency_name(code) +
         " = 8 }";
}

}  // namespace seam
