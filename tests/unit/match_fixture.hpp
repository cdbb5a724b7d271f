#pragma once
// Records for matching tests (candidates, sums, pairing): two systems with an amount, a
// time, an id and a reference, filled from short literals.
#include "engine/mapping/records.hpp"
#include "engine/value/money.hpp"
#include "engine/value/time.hpp"

namespace seam::test {

constexpr TimeUs kT0 = 1'773'483'720LL * kMicrosPerSecond;  // 2026-03-14T10:22:00Z

enum MatchField { kAmount = 0, kAt = 1, kId = 2, kRef = 3 };

inline SystemSpec match_system(const char* name) {
  SystemSpec s;
  s.name = name;
  s.id_field = "id";
  for (auto [n, k] : {std::pair{"amount", FieldKind::Money}, std::pair{"at", FieldKind::Time},
                      std::pair{"id", FieldKind::Column}, std::pair{"ref", FieldKind::Column}}) {
    FieldSpec f;
    f.name = n;
    f.kind = k;
    s.fields.push_back(f);
  }
  return s;
}

struct Line {
  const char* id;
  int64_t cents;
  TimeUs at = 0;  // µs after kT0
  const char* ref = "";
  const char* currency = "USD";
};

// Appends `l` as the next record (its line: position + 2, as under a CSV header).
inline void add_line(RecordSet& rs, const Line& l) {
  Value* v = rs.begin_record();
  v[kAmount] = Value::of_money(l.cents, pack_currency(l.currency));
  v[kAt] = Value::of_time(kT0 + l.at);
  v[kId] = Value::of_text(l.id);
  v[kRef] = *l.ref ? Value::of_text(l.ref) : Value::empty();
  rs.commit_record(rs.size() + 2, l.id);
}

}  // namespace seam::test
