#include "cli/init.hpp"

#include <cctype>
#include <filesystem>
#include <fstream>

#include "engine/util/result.hpp"

namespace seam::cli {
namespace {

// The scaffold's texts; "@NAME@" is the stack's name. Its data holds one seeded failure
// (INV-1004 posted for another amount) so the first `seam run` shows what a finding is.
constexpr const char* kStack = R"SEAM(-- @NAME@: a starting point. Two systems, each read from its CSV export, and one
-- reconciliation between them. Edit the systems to read your own exports, the match to say
-- how their records pair, and the rules to say what must agree (README.md says where).
stack "@NAME@"

-- A threshold ops can change without touching a rule: seam params, --set lag_days=7,
-- or thresholds.lua beside this file.
param("lag_days", { type = "integer", default = 5, min = 0, max = 60, unit = "days",
                    doc = "longest normal delay between an invoice and its posting in the ledger" })

-- What was billed: one row per invoice.
system "billing" {
  source = csv { path = "data/billing_invoices.csv" },
  id = "invoice",
  record_time = "issued_at",
  amount = "amount",
  fields = {
    invoice   = "Invoice",          -- field = "Column in the export"
    customer  = "Customer",
    amount    = money { column = "Amount", currency_column = "Currency" },
    issued_at = time { column = "Issued At", format = "iso8601" },
  },
}

-- What the books say: one ledger entry per invoice posted.
system "ledger" {
  source = csv { path = "data/ledger_entries.csv" },
  id = "entry",
  record_time = "posted_at",
  amount = "amount",
  fields = {
    entry     = "Entry",
    invoice   = "Invoice",
    amount    = money { column = "Amount", currency_column = "Currency" },
    posted_at = time { column = "Posted At", format = "iso8601" },
  },
}

-- Every invoice billed must reach the ledger once, for the same amount, within lag_days.
reconcile "invoices_reach_ledger" {
  left = "billing", right = "ledger", system_of_record = "ledger",
  match = { left = "invoice", right = "invoice" },
  rules = {
    exists_in { "right", name = "posted in the ledger", severity = "high",
                doc = "an invoice billed that the books never recorded" },
    amount_equal { field = "amount", name = "amounts agree", severity = "high" },
    within { left = "issued_at", right = "posted_at", days = param "lag_days", direction = "after",
             name = "posted in time", severity = "medium" },
    unique { "right", name = "posted once", severity = "high" },
  },
}
)SEAM";

constexpr const char* kBilling = R"SEAM(Invoice,Customer,Amount,Currency,Issued At
INV-1001,Acme Corp,1200.00,USD,2026-03-02T10:00:00Z
INV-1002,Globex,450.50,USD,2026-03-03T11:30:00Z
INV-1003,Initech,89.99,USD,2026-03-04T09:15:00Z
INV-1004,Umbrella,2300.00,USD,2026-03-05T14:00:00Z
INV-1005,Hooli,75.00,USD,2026-03-06T16:45:00Z
)SEAM";

constexpr const char* kLedger = R"SEAM(Entry,Invoice,Amount,Currency,Posted At
JE-501,INV-1001,1200.00,USD,2026-03-03T08:00:00Z
JE-502,INV-1002,450.50,USD,2026-03-04T08:00:00Z
JE-503,INV-1003,89.99,USD,2026-03-05T08:00:00Z
JE-504,INV-1004,2030.00,USD,2026-03-06T08:00:00Z
JE-505,INV-1005,75.00,USD,2026-03-07T08:00:00Z
)SEAM";

constexpr const char* kTest = R"SEAM(-- Tests for @NAME@: `seam test .` runs them on fixture rows, in the exports' own columns,
-- through the stack's real mappings, match and rules. A verdict a test does not list must
-- pass or skip.

local function invoice(id, amount, at)
  return { Invoice = id, Customer = "Acme Corp", Amount = amount, Currency = "USD", ["Issued At"] = at }
end
local function entry(id, invoice_id, amount, at)
  return { Entry = id, Invoice = invoice_id, Amount = amount, Currency = "USD", ["Posted At"] = at }
end

test "an invoice posted the next day for its amount passes every rule" {
  records = {
    billing = { invoice("INV-1", "100.00", "2026-03-02T10:00:00Z") },
    ledger = { entry("JE-1", "INV-1", "100.00", "2026-03-03T08:00:00Z") },
  },
  expect = {},
}

test "an invoice posted for another amount fails the amount rule only" {
  records = {
    billing = { invoice("INV-2", "2300.00", "2026-03-05T14:00:00Z") },
    ledger = { entry("JE-2", "INV-2", "2030.00", "2026-03-06T08:00:00Z") },
  },
  expect = { { "INV-2", "amounts agree", "fail", delta = "-270.00 USD" } },
}

test "an invoice the ledger never recorded fails" {
  records = {
    billing = { invoice("INV-3", "50.00", "2026-03-05T14:00:00Z") },
    ledger = {},
  },
  expect = { { "INV-3", "posted in the ledger", "fail" } },
}
)SEAM";

constexpr const char* kReadme = R"SEAM(# @NAME@

A seam stack made by `seam init`: two systems, `billing` and `ledger`, each read from a CSV
export in `data/`, and one reconciliation between them, `invoices_reach_ledger`.

    seam check .      # is the stack valid? (--data: against its inputs too)
    seam test .       # the tests in tests/ pass?
    seam run .        # reconcile; finds the one failure seeded in data/ (INV-1004)
    seam exceptions   # what is open, across runs (reads ./seam.db)

What to edit, in `stack.lua`:

1. Each `system`: `source` points at your export (csv, ndjson, json, sqlite), `fields` maps
   each field to the export's column, `id` names the field that identifies a record.
2. The `reconcile`: `match` names the fields that pair a record with its counterpart,
   `rules` say what must agree (exists_in, amount_equal, within, unique, and more: see
   seam's docs/rules.md).
3. The `param`: a threshold ops can change (`seam params .`, `--set lag_days=7`).

Then replace the rows in `data/` with your exports and change `tests/@NAME@_test.lua` to
cover the cases that matter to you: a test lists the verdicts it expects.
)SEAM";

std::string with_name(std::string text, const std::string& name) {
  for (size_t at = text.find("@NAME@"); at != std::string::npos; at = text.find("@NAME@", at + name.size()))
    text.replace(at, 6, name);
  return text;
}

// The folder's name, as a stack name and a file name: letters, digits, '.', '_' and '-'.
std::string stack_name_of(const std::filesystem::path& dir) {
  std::filesystem::path p = std::filesystem::absolute(dir).lexically_normal();
  if (!p.has_filename()) p = p.parent_path();
  std::string name = p.filename().string();
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') c = '-';
  return name.empty() || name == "." || name == ".." ? "my-stack" : name;
}

}  // namespace

std::vector<ScaffoldFile> scaffold_files(const std::string& name) {
  return {{"stack.lua", with_name(kStack, name)},
          {"data/billing_invoices.csv", kBilling},
          {"data/ledger_entries.csv", kLedger},
          {"tests/" + name + "_test.lua", with_name(kTest, name)},
          {"README.md", with_name(kReadme, name)}};
}

std::vector<std::string> init_stack(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path root(dir);
  if (fs::exists(root, ec)) {
    if (!fs::is_directory(root, ec))
      throw UserError("cannot make a stack in " + dir + ": it is a file, not a folder (give a new or empty folder)");
    if (!fs::is_empty(root, ec))
      throw UserError("cannot make a stack in " + dir +
                      ": the folder is not empty, and seam init overwrites nothing (give a new or empty folder)");
  }
  std::vector<std::string> written;
  for (const auto& f : scaffold_files(stack_name_of(root))) {
    const fs::path path = root / f.path;
    fs::create_directories(path.parent_path(), ec);
    if (ec) throw UserError("cannot create " + path.parent_path().string() + ": " + ec.message());
    std::ofstream out(path, std::ios::binary);
    out << f.text;
    out.close();
    if (!out) throw UserError("cannot write " + path.string());
    written.push_back(f.path);
  }
  return written;
}

}  // namespace seam::cli
