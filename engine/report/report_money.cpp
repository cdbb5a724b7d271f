#include "engine/report/report_money.hpp"

#include "engine/util/result.hpp"

namespace seam {

std::string per_currency(const std::map<CurrencyCode, int64_t>& sums) {
  std::string out;
  for (const auto& [cur, minor] : sums) out += (out.empty() ? "" : ", ") + readable_money(minor, cur);
  return out.empty() ? "none" : out;
}

void add_to(int64_t& total, int64_t v, const std::string& what) {
  if (!checked_accumulate(total, v))
    throw UserError(what + " exceeds " + int64_range_text() +
                    "; narrow the report (--reconcile, --key, --since/--until) so that each total fits");
}

std::string readable_amount(const std::string& text) {
  size_t start = !text.empty() && text[0] == '-' ? 1 : 0, end = start;
  while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
  const size_t digits = end - start;
  // Only seam's own shape: digits, then '.', ' ' or the end.
  if (digits <= 3 || (end < text.size() && text[end] != '.' && text[end] != ' ')) return text;
  std::string out = text.substr(0, start);
  for (size_t i = 0; i < digits; ++i) {
    if (i && (digits - i) % 3 == 0) out += ',';
    out += text[start + i];
  }
  return out + text.substr(end);
}

std::string readable_money(int64_t minor, CurrencyCode currency) {
  return readable_amount(format_money(minor, currency));
}

std::string count_at_stake(const std::string& delta) {
  size_t i = !delta.empty() && delta[0] == '-' ? 1 : 0, digits = i;
  while (digits < delta.size() && delta[digits] >= '0' && delta[digits] <= '9') ++digits;
  if (digits == i) return {};
  const std::string number = delta.substr(i, digits - i), rest = delta.substr(digits);
  if (rest.empty()) return number;
  if (rest[0] != ' ') return {};
  const std::string unit = rest.substr(1);
  if (unit.empty() || unit == "min" || unit == "days" || unit == "day") return {};
  for (char c : unit)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')) return {};
  return number + " " + unit;
}

std::string to_second(const std::string& iso) {
  // ISO 8601 as seam writes it: "YYYY-MM-DDTHH:MM:SS" then fraction digits, then "Z".
  if (iso.size() > 20 && iso[19] == '.' && iso.back() == 'Z') return iso.substr(0, 19) + "Z";
  return iso;
}

}  // namespace seam
