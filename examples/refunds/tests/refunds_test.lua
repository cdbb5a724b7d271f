-- Tests for the refunds stack: `seam test examples/refunds`.
-- Fixture rows use the exports' own columns, so the stack's mappings are tested too.
-- A verdict a test does not list must pass or skip.

-- A storefront record is one refund transaction; `parent` holds the refund's own fields.
local function refund(id, order, at, amount)
  return { kind = "refund", status = "success", created_at = at, currency = "USD", amount = amount,
           authorization = "re_" .. id, parent = { id = id, order_id = order, note = "damaged" } }
end

-- ERP rows are the saved search's columns: New York local time, refunds booked negative.
local function posted(id, ref, order, amount, when)
  return { ["Internal ID"] = id, Memo = "Shopify refund " .. ref, ["Created From"] = "Sales Order #" .. order,
           Amount = "-" .. amount, Currency = "USD", Date = when, Status = "Refunded", ["Reason Code"] = "DAMAGED" }
end

-- Processor rows are Stripe refund objects: integer cents, lower-case currency, Unix seconds;
-- the id is the storefront transaction's authorization.
local function paid(id, cents, created)
  return { id = "re_" .. id, object = "refund", amount = cents, currency = "usd", created = created,
           status = "succeeded", charge = "ch_" .. id, metadata = { shopify_refund_id = id } }
end

test "a clean refund passes every rule" {
  records = {
    storefront = { refund("R1", 5001, "2026-03-10T10:05:00-04:00", "1249.99") },
    erp = { posted("CR-1", "R1", 5001, "1,249.99", "03/10/2026 10:12 am") },
    processor = { paid("R1", 124999, 1773151502) },
  },
  expect = {},
}

test "a refund posted 135 minutes late fails the lag rule only" {
  records = {
    storefront = { refund("R2", 5002, "2026-03-11T06:00:00-04:00", "18.00") },
    erp = { posted("CR-2", "R2", 5002, "18.00", "03/11/2026 8:15 am") },
    processor = { paid("R2", 1800, 1773223201) },
  },
  expect = { { "R2", "lag at -> posted_at", "fail", actual = "135 min", delta = "105 min" } },
}

test "ops can widen the lag window without touching the rule" {
  set = { lag_minutes = 200 },
  records = {
    storefront = { refund("R2", 5002, "2026-03-11T06:00:00-04:00", "18.00") },
    erp = { posted("CR-2", "R2", 5002, "18.00", "03/11/2026 8:15 am") },
    processor = { paid("R2", 1800, 1773223201) },
  },
  expect = {},
}

test "a refund posted twice breaks idempotency and doubles the order's refund" {
  records = {
    storefront = { refund("R3", 5003, "2026-03-12T13:00:00Z", "80.00") },
    erp = { posted("CR-3", "R3", 5003, "80.00", "03/12/2026 9:05 am"),
            posted("CR-4", "R3", 5003, "80.00", "03/12/2026 9:06 am") },
    processor = { paid("R3", 8000, 1773320402) },
  },
  expect = {
    { "R3", "posted once", "fail", message = "appears 2 times in erp: CR-3, CR-4" },
    { "5003", "order refunds add up", "fail", reconcile = "order_refund_totals", delta = "80.00 USD" },
  },
}

test "a refund still inside its lag window is pending, not missing" {
  as_of = "2026-03-24T18:10:00Z",
  records = { storefront = { refund("R4", 5004, "2026-03-24T18:00:00Z", "22.00") },
              processor = { paid("R4", 2200, 1774375200) } },
  expect = { { "R4", "exists in right", "pending", message = "expected by 2026-03-24T18:30:00Z" } },
}

test "once the window has passed it is missing, with the money at stake" {
  as_of = "2026-03-24T19:00:00Z",
  records = { storefront = { refund("R4", 5004, "2026-03-24T18:00:00Z", "22.00") },
              processor = { paid("R4", 2200, 1774375200) } },
  expect = { { "R4", "exists in right", "fail", delta = "-22.00 USD" } },
}

test "only the first of several partial refunds reached the ERP" {
  as_of = "2026-03-17T00:00:00Z",
  records = {
    storefront = { refund("R5", 5008, "2026-03-14T10:00:00Z", "20.00"),
                   refund("R6", 5008, "2026-03-16T12:00:00Z", "15.00") },
    erp = { posted("CR-5", "R5", 5008, "20.00", "03/14/2026 6:08 am") },
    processor = { paid("R5", 2000, 1773482403), paid("R6", 1500, 1773662402) },
  },
  expect = {
    { "R6", "exists in right", "fail" },
    { "5008", "order refunds add up", "fail", delta = "-15.00 USD" },
    { "5008", "each partial refund posted", "fail", expected = "2 refunds", actual = "1 refunds" },
  },
}

test "a status the ERP maps wrongly fails the status map" {
  records = {
    storefront = { refund("R7", 5007, "2026-03-13T11:00:00Z", "19.99") },
    erp = { (function()
      local row = posted("CR-7", "R7", 5007, "19.99", "03/13/2026 7:10 am")
      row.Status = "Pending Approval"
      row["Reason Code"] = "- None -"   -- and the reason code was dropped on the way
      return row
    end)() },
    processor = { paid("R7", 1999, 1773399602) },
  },
  expect = {
    { "R7", "status mapped", "fail", expected = "Refunded", actual = "Pending Approval" },
    { "R7", "reason code kept", "fail", actual = "empty" },
  },
}

test "a refund the storefront shows done that failed at the processor never reached the customer" {
  records = {
    storefront = { refund("R8", 5016, "2026-03-21T08:00:00Z", "12.00") },
    erp = { posted("CR-8", "R8", 5016, "12.00", "03/21/2026 4:09 am") },
    processor = { (function()
      local row = paid("R8", 1200, 1774080002)
      row.status, row.failure_reason = "failed", "expired_or_canceled_card"
      return row
    end)() },
  },
  expect = { { "re_R8", "status mapped", "fail", reconcile = "refunds_reach_processor",
               expected = "succeeded", actual = "failed" } },
}

test "a refund sent from the processor's dashboard has no storefront refund" {
  records = { processor = { (function()
    local row = paid("M1", 7500, 1774273260)
    row.metadata = {}   -- manual refunds carry none of the storefront's metadata
    return row
  end)() } },
  expect = { { "re_M1", "exists in left", "fail", reconcile = "refunds_reach_processor", delta = "75.00 USD" } },
}

test "the processor refunded a few cents less than the storefront shows" {
  records = {
    storefront = { refund("R9", 5020, "2026-03-24T09:15:00Z", "50.00") },
    erp = { posted("CR-9", "R9", 5020, "50.00", "03/24/2026 5:25 am") },
    processor = { paid("R9", 4985, 1774343702) },
  },
  expect = { { "re_R9", "amount equal", "fail", reconcile = "refunds_reach_processor", delta = "-0.15 USD" } },
}
