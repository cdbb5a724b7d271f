-- Tests for the gift card stack: `seam test examples/giftcards`. Fixture rows use the
-- exports' own fields, per system; a verdict a test does not list must pass or skip.

-- A Square gift card activity: the amount in cents, always positive, under <type>_activity_details.
local function event(id, type, card, cents, at, order, status)
  local details = { amount_money = { amount = cents, currency = "USD" } }
  if type == "REDEEM" then details.reference_id = order; details.status = status or "COMPLETED" end
  return { id = id, type = type, gift_card_id = card, created_at = at, gift_card_balance_money = { currency = "USD" },
           [type:lower() .. "_activity_details"] = details }
end
local function journal(doc, type, card, amount, at, ref)
  return { doc = doc, type = type, card = card, amount = amount, currency = "USD", posted_at = at,
           memo = "GiftCo " .. ref }
end

test "a card loaded and redeemed in both systems passes every rule" {
  records = {
    platform = { event("EV-1", "ACTIVATE", "GC-1", 4000, "2026-03-01T10:00:00Z"),
                 event("EV-2", "REDEEM", "GC-1", 1500, "2026-03-02T10:00:00Z", "O-1") },
    platform_loads = { event("EV-1", "ACTIVATE", "GC-1", 4000, "2026-03-01T10:00:00Z") },
    platform_redemptions = { event("EV-2", "REDEEM", "GC-1", 1500, "2026-03-02T10:00:00Z", "O-1") },
    erp = { journal("J1", "load", "GC-1", "40.00", "2026-03-01T10:05:00Z", "EV-1"),
            journal("J2", "redemption", "GC-1", "-15.00", "2026-03-02T10:05:00Z", "EV-2") },
    erp_loads = { journal("J1", "load", "GC-1", "40.00", "2026-03-01T10:05:00Z", "EV-1") },
    erp_redemptions = { journal("J2", "redemption", "GC-1", "-15.00", "2026-03-02T10:05:00Z", "EV-2") },
  },
  expect = {},
}

test "a load that never reached the ERP fails, and so do the card's ledger and balance" {
  records = {
    platform = { event("EV-1", "ACTIVATE", "GC-2", 5000, "2026-03-01T10:00:00Z"),
                 event("EV-2", "REDEEM", "GC-2", 2000, "2026-03-02T10:00:00Z", "O-2") },
    platform_loads = { event("EV-1", "ACTIVATE", "GC-2", 5000, "2026-03-01T10:00:00Z") },
    platform_redemptions = { event("EV-2", "REDEEM", "GC-2", 2000, "2026-03-02T10:00:00Z", "O-2") },
    erp = { journal("J2", "redemption", "GC-2", "-20.00", "2026-03-02T10:05:00Z", "EV-2") },
    erp_redemptions = { journal("J2", "redemption", "GC-2", "-20.00", "2026-03-02T10:05:00Z", "EV-2") },
  },
  expect = {
    { "EV-1", "load in the liability ledger", "fail", delta = "-50.00 USD" },
    { "GC-2", "ledgers agree", "fail", expected = "30.00 USD", actual = "-20.00 USD" },
    { "GC-2", "liability balance", "fail", delta = "-50.00 USD" },
  },
}

test "a redemption Square still holds as PENDING is in neither ledger yet" {
  records = {
    platform = { event("EV-1", "ACTIVATE", "GC-3", 3000, "2026-03-01T10:00:00Z"),
                 event("EV-2", "REDEEM", "GC-3", 1000, "2026-03-02T10:00:00Z", "O-3", "PENDING") },
    platform_loads = { event("EV-1", "ACTIVATE", "GC-3", 3000, "2026-03-01T10:00:00Z") },
    platform_redemptions = { event("EV-2", "REDEEM", "GC-3", 1000, "2026-03-02T10:00:00Z", "O-3", "PENDING") },
    erp = { journal("J1", "load", "GC-3", "30.00", "2026-03-01T10:05:00Z", "EV-1") },
    erp_loads = { journal("J1", "load", "GC-3", "30.00", "2026-03-01T10:05:00Z", "EV-1") },
  },
  expect = {},
}
