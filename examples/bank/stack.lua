-- Cash: the bank statement (CSV, as the bank exports it) against the ERP's cash receipts
-- (NDJSON). They share no id. A receipt is found for each bank line by the invoice number
-- the payer wrote, else by amount and date and how alike the payer's name is, else by amount
-- and date alone, else by an amount within a processor's fees, else as several checks
-- deposited together whose receipts add up to the line: each strategy in turn, and a line
-- one strategy matched is not offered to the next. And the payment processor's payout
-- report against the bank: every payout it sent must have arrived.
stack "acme-retail-cash"

param("deposit_days", { type = "integer", default = 3, min = 0, max = 30, unit = "days",
                        doc = "longest normal delay between a receipt's deposit date and the bank's value date" })
param("fee_pct", { type = "number", default = "3", min = "0", max = "10",
                   doc = "largest processor fee, as a percent of the larger amount, for a payout to match its receipt" })

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
    invoice   = "invoice",
    amount    = money { column = "amount", currency_column = "currency" },
    deposited = time  { column = "deposited", format = "%Y-%m-%d", zone = "America/New_York" },
  },
}

-- The payment processor's payout report: what it says it sent to the bank.
system "payouts" {
  source = csv { path = "data/processor_payouts.csv" },
  id = "payout",
  record_time = "arrival",
  amount = "amount",
  fields = {
    payout     = "Payout ID",
    arrival    = time  { column = "Arrival Date", format = "%Y-%m-%d", zone = "America/New_York" },
    descriptor = "Statement Descriptor",
    amount     = money { column = "Amount", currency_column = "Currency" },
  },
}

reconcile "cash_receipts" {
  left = "bank", right = "erp",
  system_of_record = "bank",
  match = {
    -- "ACH CREDIT ACME CORP INV-00123" and "INV-123" are invoice 123.
    { name = "invoice number", left = "description", right = "invoice",
      normalize = { regex = "([0-9]+)", strip_leading_zeros = true } },
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
    -- One deposit of several checks: the receipts booked within a day that add up to it.
    { name = "checks deposited together", sum = "right", max_records = 5,
      amount = { field = "amount" },
      time = { left = "date", right = "deposited", max = 1, unit = "days", zone = "America/New_York" } },
    cardinality = "one_to_many",  -- a bank line, one receipt or several deposited together
  },
  rules = {
    exists_in { "right", name = "receipt in the ERP", severity = "high",
                doc = "money reached the bank and no receipt was booked: unapplied cash" },
    exists_in { "left", name = "deposit in the bank", severity = "high",
                doc = "a receipt booked with no money in the bank: a bounced payment, or a receipt booked twice" },
    amount_equal { field = "amount", name = "amount equal", severity = "medium",
                   doc = "the bank received another amount than the receipt says (fees, a keying error)" },
  },
}

-- Every payout the processor reports reached the bank: same amount, within a day, on a line
-- whose description holds the payout's statement descriptor ("STRIPE PAYOUT").
reconcile "payouts_reach_bank" {
  left = "payouts", right = "bank",
  match = {
    { name = "amount, date and descriptor",
      amount = { field = "amount" },
      time = { left = "arrival", right = "date", max = 1, unit = "days", zone = "America/New_York" },
      reference = { left = "descriptor", right = "description", contains = true, normalize = { ignore_case = true } } },
    cardinality = "one_to_one",
  },
  rules = {
    exists_in { "right", name = "payout in the bank", severity = "high",
                doc = "the processor says it paid out money the bank never received" },
  },
}
