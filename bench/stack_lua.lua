-- bench/stack.lua with Lua where a stack might still need it: the ERP's refund reference
-- read by a Lua mapping function instead of extract, and "reason code kept" as a Lua rule
-- instead of present. Same data, same six rules, the same verdicts expected.
stack "bench-refunds-lua"

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
    external_ref = function(row)
      local memo = row["memo"]
      return memo and memo:match("refund (R%d+)")
    end,
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
    rule("reason code kept", function(g)
      if #g.right == 0 then return skip("no erp record") end
      for _, r in ipairs(g.right) do
        local code = r.reason_code
        if code == nil or code == "" then return fail(r._system .. " " .. r._id .. " has no reason_code") end
      end
      return pass()
    end),
  },
}
