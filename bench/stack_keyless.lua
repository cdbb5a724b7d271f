-- The keyless benchmark stack: examples/bank's formats, a bank statement against the ERP's
-- cash receipts with no shared key, strategies in the order a consultant would declare them,
-- three rules, every verdict recorded. bench/generate_keyless.py writes its data.
stack "bench-cash"

param("deposit_days", { type = "integer", default = 3, min = 0, max = 30, unit = "days" })
param("fee_pct", { type = "number", default = "3", min = "0", max = "10" })

system "bank" {
  source = csv { path = "data/bank_statement.csv" },
  id = "ref",
  record_time = "date",
  amount = "amount",
  fields = {
    ref          = "Bank Ref",
    date         = time  { column = "Date", format = "%m/%d/%Y", zone = "America/New_York" },
    description  = "Description",
    counterparty = "Counterparty",
    amount       = money { column = "Amount", currency_column = "Currency" },
  },
}

system "erp" {
  source = ndjson { path = "data/erp_cash_receipts.ndjson" },
  id = "receipt",
  record_time = "deposited",
  amount = "amount",
  fields = {
    receipt   = "receipt",
    customer  = "customer",
    amount    = money { column = "amount", currency_column = "currency" },
    deposited = time  { column = "deposited", format = "%Y-%m-%d", zone = "America/New_York" },
  },
}

reconcile "cash_receipts" {
  left = "bank", right = "erp",
  system_of_record = "bank",
  match = {
    { name = "amount, date and payer",
      amount = { field = "amount" },
      time = { left = "date", right = "deposited", max = param "deposit_days", unit = "days", zone = "America/New_York" },
      reference = { left = "counterparty", right = "customer", similarity = 0.85, normalize = { ignore_case = true } } },
    { name = "amount and date",
      amount = { field = "amount" },
      time = { left = "date", right = "deposited", max = param "deposit_days", unit = "days", zone = "America/New_York" } },
    { name = "amount within fees",
      amount = { field = "amount", tolerance_pct = param "fee_pct", base = "larger" },
      time = { left = "date", right = "deposited", max = 2, unit = "days", zone = "America/New_York" } },
    cardinality = "one_to_one",
  },
  rules = {
    exists_in { "right", name = "receipt in the ERP" },
    exists_in { "left", name = "deposit in the bank" },
    amount_equal { field = "amount", name = "amount equal" },
  },
}
