-- The benchmark stack: a storefront CSV against an ERP NDJSON (examples/refunds before it
-- moved to Shopify and NetSuite shapes), six rules, every verdict recorded.
stack "bench-refunds"

param("lag_minutes", { type = "integer", default = 30, min = 0, unit = "minutes" })

system "storefront" {
  source = csv { path = "data/storefront_refunds.csv" },
  id = "refund_id",
  fields = {
    refund_id = "Refund ID",
    amount    = money { column = "Amount", currency_column = "Currency" },
    at        = time  { column = "Created At", format = "iso8601" },
  },
}

system "erp" {
  source = ndjson { path = "data/erp_customer_refunds.ndjson" },
  id = "internal_id",
  fields = {
    internal_id  = "internalId",
    external_ref = extract { column = "memo", regex = "refund (R[0-9]+)" },
    amount       = money { column = "total", currency_column = "currency.refName" },
    posted_at    = time  { column = "tranDate", format = "%m/%d/%Y %I:%M %p", zone = "America/New_York" },
    reason_code  = "custbody_reason_code",
  },
}

reconcile "refunds_reach_erp" {
  left = "storefront", right = "erp",
  match = { left = "refund_id", right = "external_ref", cardinality = "one_to_one" },
  rules = {
    exists_in { "right", grace_minutes = param "lag_minutes", since = "at" },
    exists_in { "left" },
    amount_equal { field = "amount" },
    within { left = "at", right = "posted_at", minutes = param "lag_minutes" },
    unique { "right", name = "posted once" },
    present { "right.reason_code", name = "reason code kept" },
  },
}
