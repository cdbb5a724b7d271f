-- Tests for the gift card stack: `seam test examples/giftcards`. Fixture rows use the
-- exports' own fields, per system; a verdict a test does not list must pass or skip.

local function event(id, type, card, amount, at, order)
  return { id = id, type = type, card = card, amount = amount, currency = "USD", at = at, order = order }
end
local function journal(doc, type, card, amount, at, ref)
  return { doc = doc, type = type, card = card, amount = amount, currency = "USD", posted_at = at,
           memo = "GiftCo " .. ref }
end

test "a card loaded and redeemed in both systems passes every rule" {
  records = {
    platform = { event("EV-1", "load", "GC-1", "40.00", "2026-03-01T10:00:00Z"),
                 event("EV-2", "redemption", "GC-1", "-15.00", "2026-03-02T10:00:00Z", "O-1") },
    platform_loads = { event("EV-1", "load", "GC-1", "40.00", "2026-03-01T10:00:00Z") },
    platform_redemptions = { event("EV-2", "redemption", "GC-1", "-15.00", "2026-03-02T10:00:00Z", "O-1") },
    erp = { journal("J1", "load", "GC-1", "40.00", "2026-03-01T10:05:00Z", "EV-1"),
            journal("J2", "redemption", "GC-1", "-15.00", "2026-03-02T10:05:00Z", "EV-2") },
    erp_loads = { journal("J1", "load", "GC-1", "40.00", "2026-03-01T10:05:00Z", "EV-1") },
    erp_redemptions = { journal("J2", "redemption", "GC-1", "-15.00", "2026-03-02T10:05:00Z", "EV-2") },
  },
  expect = {},
}

test "a load that never reached the ERP fails, and so do the card's ledger and balance" {
  records = {
    platform = { event("EV-1", "load", "GC-2", "50.00", "2026-03-01T10:00:00Z"),
                 event("EV-2", "redemption", "GC-2", "-20.00", "2026-03-02T10:00:00Z", "O-2") },
    platform_loads = { event("EV-1", "load", "GC-2", "50.00", "2026-03-01T10:00:00Z") },
    platform_redemptions = { event("EV-2", "redemption", "GC-2", "-20.00", "2026-03-02T10:00:00Z", "O-2") },
    erp = { journal("J2", "redemption", "GC-2", "-20.00", "2026-03-02T10:05:00Z", "EV-2") },
    erp_redemptions = { journal("J2", "redemption", "GC-2", "-20.00", "2026-03-02T10:05:00Z", "EV-2") },
  },
  expect = {
    { "EV-1", "load in the liability ledger", "fail", delta = "-50.00 USD" },
    { "GC-2", "ledgers agree", "fail", expected = "30.00 USD", actual = "-20.00 USD" },
    { "GC-2", "liability balance", "fail", delta = "-50.00 USD" },
  },
}
