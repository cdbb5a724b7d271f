-- Gift card liability: the gift card platform's activity log (Square, JSON), the ERP's liability
-- journal (SQLite), the storefront's orders paid by gift card (NDJSON) and the payments
-- processor's captures (CSV). The ERP is the system of record for liability.
stack "acme-retail-giftcards"

local money_usd = function(column) return money { column = column, currency_column = "currency" } end

-- The platform is Square: a ListGiftCardActivities response, every card event in one array.
-- Square writes each amount in cents, always positive, under <type>_activity_details: the
-- type says which column holds it and whether it takes money off the card.
local amount_by_type = {
  ACTIVATE         = "activate_activity_details.amount_money.amount",
  LOAD             = "load_activity_details.amount_money.amount",
  REDEEM           = "redeem_activity_details.amount_money.amount",
  REFUND           = "refund_activity_details.amount_money.amount",
  ADJUST_INCREMENT = "adjust_increment_activity_details.amount_money.amount",
  ADJUST_DECREMENT = "adjust_decrement_activity_details.amount_money.amount",
}

local function platform(only)
  return {
    source = json { path = "data/platform_activity.json", records = "gift_card_activities" },
    id = "id",
    record_time = "at",
    amount = "amount",
    only = only,
    fields = {
      id = "id", type = "type", card = "gift_card_id",
      status = "redeem_activity_details.status",     -- PENDING, COMPLETED or CANCELED; redemptions only
      order = text { columns = { "redeem_activity_details.reference_id", "refund_activity_details.reference_id" } },
      amount = money { currency_column = "gift_card_balance_money.currency", minor_units = true,
                       column_by = { field = "type", columns = amount_by_type, negate = { "REDEEM", "ADJUST_DECREMENT" } } },
      at = time { column = "created_at", format = "iso8601" },
    },
  }
end
-- One file, read once, three ways: the card's ledger (a redemption counts once it has
-- COMPLETED), its loads, and its completed redemptions.
local redeemed = { field = "status", equals = "COMPLETED" }
system "platform" (platform({ any = { { field = "type", values = { "ACTIVATE", "LOAD", "REFUND", "ADJUST_INCREMENT",
                                                                    "ADJUST_DECREMENT" } }, redeemed } }))
system "platform_loads" (platform({ field = "type", values = { "ACTIVATE", "LOAD" } }))
system "platform_redemptions" (platform({ all = { { field = "type", equals = "REDEEM" }, redeemed } }))

local function erp(where)
  return {
    source = sqlite { path = "data/erp.db",
                      query = "SELECT doc, type, card, amount, currency, posted_at, memo FROM liability_journal" .. where },
    id = "doc",
    record_time = "posted_at",
    amount = "amount",
    fields = { doc = "doc", type = "type", card = "card", amount = money_usd("amount"),
               posted_at = time { column = "posted_at", format = "iso8601" },
               ref = extract { column = "memo", regex = "GiftCo (EV-[0-9]+)" } },
  }
end
system "erp" (erp(""))
system "erp_loads" (erp(" WHERE type = 'load'"))
system "erp_redemptions" (erp(" WHERE type = 'redemption'"))

system "storefront" {
  source = ndjson { path = "data/storefront_orders.ndjson" },
  id = "order",
  record_time = "created_at",
  fields = { order = "order", card = "paid.gift_card.number", gift_card_amount = money_usd("paid.gift_card.amount"),
             created_at = time { column = "created_at", format = "iso8601" } },
}

system "captures" {
  source = csv { path = "data/payment_captures.csv" },
  id = "capture_id",
  only = { field = "method", values = { "gift_card" } },   -- card captures are another hand-off
  fields = { capture_id = "Capture ID", order = "Order", method = "Method",
             amount = money { column = "Amount", currency_column = "Currency" },
             captured_at = time { column = "Captured At", format = "iso8601" } },
}

-- Every load must raise the ERP's liability, for the same amount. Load by load: the ERP's
-- memo names the platform event it posts, so a card with two loads, one of them lost, fails.
reconcile "loads_reach_erp" {
  left = "platform_loads", right = "erp_loads", system_of_record = "erp_loads",
  match = { left = "id", right = "ref" },
  rules = {
    exists_in { "right", name = "load in the liability ledger", severity = "critical",
                doc = "a card the platform loaded has no liability in the ERP: every later redemption on it looks like money from nowhere" },
    amount_equal { field = "amount", name = "loads add up", severity = "high" },
  },
}

-- Every redemption must lower it, once.
reconcile "redemptions_reach_erp" {
  left = "platform_redemptions", right = "erp_redemptions", system_of_record = "erp_redemptions",
  match = { left = "card", right = "card", cardinality = "many_to_many" },
  rules = {
    exists_in { "right", name = "redemption in the liability ledger", severity = "high" },
    amount_equal { field = "amount", name = "redemptions add up", severity = "high" },
    unique { "right.ref", name = "posted once", severity = "high" },
  },
}

-- Card by card, the two ledgers entry by entry and as balances. A card whose load never
-- reached the ERP (or reached it for another amount), or whose redemption was posted
-- twice, fails here too: those failures name the load (found through the card's platform
-- events, whose ids are the loads' keys) or the card's redemptions as their cause, so
-- report totals count that money once, where it went wrong.
local load_or_redemption = { { reconcile = "loads_reach_erp", via = "left.id" }, { reconcile = "redemptions_reach_erp" } }
reconcile "card_ledgers" {
  left = "platform", right = "erp", system_of_record = "erp",
  match = { left = "card", right = "card", cardinality = "many_to_many" },
  rules = {
    ledger_equal { amount = "amount", left_time = "at", right_time = "posted_at", severity = "high",
                   caused_by = load_or_redemption },
    amount_equal { field = "amount", name = "liability balance", severity = "critical", caused_by = load_or_redemption },
  },
}

-- A checkout paid by gift card must be a redemption on the platform and a capture at the processor.
reconcile "gift_card_checkouts" {
  left = "storefront", right = "platform_redemptions", system_of_record = "storefront",
  match = { left = "order", right = "order" },
  rules = { exists_in { "right", name = "redeemed on the platform", severity = "high" } },
}
reconcile "gift_card_captures" {
  left = "storefront", right = "captures", system_of_record = "storefront",
  match = { left = "order", right = "order" },
  rules = {
    exists_in { "right", name = "captured" },
    amount_equal { left = "gift_card_amount", right = "amount", name = "captured amount" },
  },
}
