-- Refund hand-off: storefront (Shopify Admin REST refunds, NDJSON) → ERP (a NetSuite saved
-- search, CSV) and → payments processor (Stripe's refunds, JSON, in cents). Every storefront
-- refund must reach the ERP once, for the same amount, with a status the ERP maps correctly, its
-- reason code, inside the lag window and in the same accounting month; and reach the customer.
stack "acme-retail-refunds"; accounting_zone "America/New_York"   -- the books are kept in New York

include "periods"   -- seam's rules/periods.lua: same_month { ... }

param("lag_minutes", { type = "integer", default = 30, min = 0, max = 10080, unit = "minutes",
                       doc = "longest normal delay between a storefront refund and its ERP entry" })
param("amount_tolerance", { type = "money", default = "0.00", min = "0",
                            doc = "largest amount difference accepted as equal (rounding)" })

system "storefront" {
  -- Shopify Admin REST refunds, one per line; the money moves in each refund's transactions.
  source = ndjson { path = "data/storefront_refunds.ndjson", records = "transactions[]" },
  id = "refund_id",
  record_time = "at",     -- what --since/--until and report periods go by
  amount = "amount",      -- the money report totals add up
  fields = {
    refund_id = "parent.id", order_id = "parent.order_id",   -- the enclosing refund's fields
    amount    = money { column = "amount", currency_column = "currency" },   -- "1249.99"
    at        = time  { column = "created_at", format = "iso8601" },          -- the shop's offset
    status    = "status",
    authorization = "authorization",   -- the gateway's reference for the money sent back; a match key (processor leg), so required
    reason    = "parent.note",
  },
}

system "erp" {
  -- A NetSuite saved search exported to CSV: title rows, a total per status and a grand total.
  source = csv { path = "data/erp_customer_refunds.csv", header_contains = { "Internal ID", "Amount" },
                 skip_rows = { { column = "Internal ID", starts_with = "Total" } } },
  id = "internal_id", record_time = "posted_at", amount = "amount",
  fields = {
    internal_id  = "Internal ID",
    -- The integration writes the storefront refund id into the memo: "Shopify refund R1001".
    external_ref = extract { column = "Memo", regex = "refund (R[0-9]+)" },
    order_id     = extract { column = "Created From", regex = "#([0-9]+)" },
    amount       = money { column = "Amount", currency_column = "Currency", negate = true },  -- booked "-1,249.99"
    -- NetSuite exports local time without an offset: the account's zone is declared here.
    posted_at    = time  { column = "Date", format = "%m/%d/%Y %I:%M %p", zone = "America/New_York" },
    status       = "Status",
    reason_code  = text { column = "Reason Code", null_if = { "- None -" } },   -- NetSuite's empty list value
  },
}

reconcile "refunds_reach_erp" {
  left = "storefront", right = "erp",
  system_of_record = "storefront",   -- the refund happened where the customer was paid back
  match = { left = "refund_id", right = "external_ref", cardinality = "one_to_one" },
  rules = {
    exists_in { "right", grace_minutes = param "lag_minutes", since = "at", severity = "high" },
    exists_in { "left", severity = "medium",
                doc = "an ERP refund with no storefront refund: manual entry, or a key typo" },
    amount_equal { field = "amount", tolerance = param "amount_tolerance", severity = "high" },
    value_map { field = "status", map = { success = "Refunded", pending = "Pending Approval" } },
    within { left = "at", right = "posted_at", minutes = param "lag_minutes", severity = "low" },
    unique { "right", name = "posted once", severity = "high",
             doc = "the same storefront refund posted twice in the ERP (idempotency failure)" },
    present { "right.reason_code", name = "reason code kept" },
    same_month { left = "at", right = "posted_at", zone = "America/New_York" },   -- the books' zone
  },
}

-- Order level: partial refunds add up. The integration that posts only the first of
-- several partial refunds shows here as an order whose ERP total falls short. A refund
-- that already fails at refund level is the order's root cause: found through the order's
-- storefront refunds, so report totals count that money once, as the refund's.
local refund_failure = { reconcile = "refunds_reach_erp", via = "left.refund_id" }
reconcile "order_refund_totals" {
  left = "storefront", right = "erp",
  match = { left = "order_id", right = "order_id", cardinality = "many_to_many" },
  rules = {
    amount_equal { field = "amount", tolerance = param "amount_tolerance", name = "order refunds add up",
                   caused_by = refund_failure },
    rule("each partial refund posted", function(g)
      -- Custom logic in Lua: the ERP must hold at least as many refunds as the storefront.
      if #g.left == 0 or #g.right == 0 then return skip("one side has no refunds for this order") end
      if #g.right < #g.left then
        return fail(string.format("order %s has %d storefront refunds but %d in the ERP", g.key, #g.left, #g.right),
                    { expected = #g.left .. " refunds", actual = #g.right .. " refunds" })
      end
      return pass()
    end, { severity = "high", caused_by = refund_failure }),
  },
}

system "processor" {
  -- Stripe's GET /v1/refunds response as it comes: {"object": "list", "data": [...]}, whose
  -- one array under "data" holds the refunds (newest first). Amounts are integer cents with
  -- a lower-case currency, times Unix seconds.
  source = json { path = "data/stripe_refunds.json" },
  id = "id", record_time = "created", amount = "amount",
  fields = {
    id             = "id",                         -- "re_...": the storefront transaction's authorization
    amount         = money { column = "amount", currency_column = "currency", minor_units = true },  -- 124999, "usd"
    created        = time  { column = "created", format = "unix" },                                   -- 1773156603
    status         = "status",                     -- succeeded, pending, failed, canceled
    failure_reason = "failure_reason",             -- why a failed refund never reached the card
    charge         = "charge", payment_intent = "payment_intent",
    reason         = "reason",                     -- null unless the refund gave one
    shopify_refund = "metadata.shopify_refund_id", -- set by the storefront's app; absent on manual refunds
  },
}

-- Money level: every storefront refund paid back by card must be a refund at the processor,
-- for the same cents, that succeeded. Shopify shows what it asked the gateway for; Stripe
-- shows what the card got. Declared last so the other reconciliations' exception ids stay.
reconcile "refunds_reach_processor" {
  left = "storefront", right = "processor",
  system_of_record = "processor",   -- whether the customer got the money is the processor's to say
  match = { left = "authorization", right = "id", cardinality = "one_to_one" },
  rules = {
    -- Shopify creates the Stripe refund itself, in the same request: no lag to wait for.
    exists_in { "right", severity = "high" },
    exists_in { "left", severity = "high",
                doc = "money sent back from the processor's dashboard, with no storefront refund behind it" },
    amount_equal { field = "amount", severity = "high",
                   doc = "cents are exact at the processor: no rounding tolerance" },
    value_map { field = "status", map = { success = "succeeded", pending = "pending" }, severity = "high",
                doc = "a refund the storefront shows done that failed at the processor never reached the customer" },
    within { left = "at", right = "created", minutes = 5, severity = "low" },
  },
}
