stack "fuzz"
include "periods"
param("lag", { type = "integer", default = 30, min = 0, max = 100 })
system "a" {
  source = csv { path = "a.csv", delimiter = ";" },
  id = "id",
  fields = { id = "ID", amount = money { column = "Amount", currency = "USD" },
             at = time { column = "At", format = "iso8601", zone = "Europe/Paris" },
             n = extract { column = "Ref", regex = "([0-9]+)" },
             up = function(row) return string.upper(row.Name or "") end },
}
system "b" { source = ndjson { path = "b.ndjson" }, fields = { id = "id", amount = money { column = "x.total", currency_column = "x.cur" } } }
reconcile "r" {
  left = "a", right = "b",
  match = { left = "id", right = "id", cardinality = "one_to_one" },
  rules = {
    exists_in { "right", grace_minutes = param "lag" },
    amount_equal { field = "amount", tolerance = "0.01" },
    rule("custom", function(g) if #g.left == 0 then return skip("none") end return pass() end),
  },
}
