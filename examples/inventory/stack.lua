-- Inventory drift: the ERP (system of record for stock), the WMS, the storefront, and the
-- 3PL. Stock is compared in eaches; the ERP counts some SKUs in cases.
stack "acme-retail-inventory"

param("drift_units", { type = "integer", default = 0, min = 0, unit = "each",
                       doc = "largest count difference accepted between the ERP and another system" })
param("po_lag_minutes", { type = "integer", default = 1440, min = 0, unit = "minutes",
                          doc = "how long a PO received in the ERP may take to show in the WMS" })
param("sell_days", { type = "integer", default = 7, min = 1, unit = "days",
                     doc = "the window average daily sell-through is measured over" })
param("cover_factor", { type = "number", default = 2, min = 0,
                        doc = "low stock: available under this many days of average sell-through" })

-- EA is the WMS's name for an each. Cases hold 6, except where a SKU ships in 12s.
units { base = "each", EA = 1, case = 6, per_sku = { ["SKU-300"] = { case = 12 }, ["SKU-400"] = { case = 12 } } }

system "erp_stock" {
  source = csv { path = "data/erp_stock.csv" },
  id = "sku",
  record_time = "counted_at",
  fields = { sku = "Item", on_hand = quantity { column = "On Hand", unit_column = "UoM", sku_column = "Item" },
             counted_at = time { column = "Counted At" } },
}
system "wms_stock" {
  source = ndjson { path = "data/wms_stock.ndjson" },
  id = "sku",
  fields = { sku = "sku", bin = "bin", on_hand = quantity { column = "qty", unit_column = "uom", sku_column = "sku" } },
}
system "storefront_stock" {
  source = json { path = "data/storefront_availability.json", records = "products" },
  id = "handle",
  fields = { handle = "handle", sku = "sku", on_hand = quantity { column = "available", unit = "each" },
             in_stock = "in_stock" },
}
system "wms_picks" {
  source = csv { path = "data/wms_movements.csv" },
  id = "movement",
  only = { field = "type", values = { "pick" } },
  fields = { movement = "Movement", sku = "SKU", order = "Order", type = "Type",
             qty = quantity { column = "Qty", unit = "each" }, at = time { column = "At" } },
}
-- Every movement, signed: receipts add, picks take away.
system "wms_ledger" {
  source = csv { path = "data/wms_movements.csv" },
  id = "movement",
  fields = { movement = "Movement", sku = "SKU", at = time { column = "At" },
             delta = function(row)
               local n = math.tointeger(tonumber(row["Qty"]))
               if row["Type"] == "pick" then return -n end
               return n
             end },
}
system "erp_ledger" {
  source = csv { path = "data/erp_item_ledger.csv" },
  id = "entry",
  fields = { entry = "Entry", sku = "Item", delta = integer { column = "Qty" }, posted_at = time { column = "Posted At" } },
}
system "order_lines" {
  source = csv { path = "data/storefront_order_lines.csv" },
  id = "line",
  fields = { line = function(row) return row["Order"] .. "/" .. row["SKU"] end, order = "Order", sku = "SKU",
             qty = quantity { column = "Qty", unit = "each" }, at = time { column = "Ordered At" } },
}
system "erp_receipts" {
  source = csv { path = "data/erp_po_receipts.csv" },
  id = "po",
  fields = { po = "PO", sku = "SKU", qty = quantity { column = "Qty", unit_column = "UoM", sku_column = "SKU" },
             received_at = time { column = "Received At" } },
}
system "wms_receipts" {
  source = ndjson { path = "data/wms_receipts.ndjson" },
  id = "receipt",
  fields = { receipt = "receipt", po = "po", qty = quantity { column = "qty", unit = "each" },
             received_at = time { column = "received_at" } },
}
system "tpl_shipments" {
  source = csv { path = "data/tpl_shipments.csv" },
  id = "shipment",
  fields = { shipment = "Shipment", order = "Order", confirmed_at = time { column = "Confirmed At" } },
}
system "storefront_fulfillments" {
  source = ndjson { path = "data/storefront_fulfillments.ndjson" },
  id = "order",
  fields = { order = "order", status = "status", updated_at = time { column = "updated_at" } },
}

-- One declaration, two reconciliations around the system of record: stock/wms_stock and
-- stock/storefront_stock.
reconcile "stock" {
  left = "erp_stock", right = { "wms_stock", "storefront_stock" },
  match = { left = "sku", right = "sku" },
  rules = {
    exists_in { "right", name = "listed", severity = "medium" },
    quantity_equal { field = "on_hand", tolerance = param "drift_units", name = "count drift", severity = "high" },
  },
}

-- The storefront must not show a product out of stock while the ERP holds it: custom
-- logic, in Lua.
reconcile "listing" {
  left = "erp_stock", right = "storefront_stock",
  match = { left = "sku", right = "sku" },
  rules = {
    rule("out of stock while the ERP holds stock", function(g)
      if not g.l or not g.r then return skip("no listing to judge") end
      if g.r.in_stock == "false" and g.l.on_hand > 0 then
        return fail(string.format("%s shows out of stock while the ERP holds %d", g.r._id, g.l.on_hand),
                    { expected = "in stock", actual = "out of stock" })
      end
      return pass()
    end, { severity = "high" }),
  },
}

-- An order decremented twice in the WMS (a webhook and a direct capture both picked it).
reconcile "picks" {
  left = "order_lines", right = "wms_picks", system_of_record = "order_lines",
  match = { left = { "order", "sku" }, right = { "order", "sku" }, cardinality = "one_to_many" },
  rules = {
    unique { "right", name = "decremented once", severity = "high" },
    quantity_equal { left = "qty", right = "qty", name = "picked as ordered" },
  },
}

-- SKU by SKU, the WMS's movements against the ERP's item ledger, in time order: the first
-- movement where they part ways is named.
reconcile "stock_ledgers" {
  left = "wms_ledger", right = "erp_ledger", system_of_record = "erp_ledger",
  match = { left = "sku", right = "sku", cardinality = "many_to_many" },
  rules = { ledger_equal { left_amount = "delta", right_amount = "delta", left_time = "at", right_time = "posted_at",
                           severity = "high" } },
}

-- A PO received in the ERP must show in the WMS within the lag, for the same quantity.
reconcile "po_receipts" {
  left = "erp_receipts", right = "wms_receipts",
  match = { left = "po", right = "po" },
  rules = {
    exists_in { "right", grace_minutes = param "po_lag_minutes", since = "received_at", name = "received in the WMS",
                severity = "high" },
    exists_in { "left", name = "received in the ERP" },
    quantity_equal { field = "qty", name = "received quantity" },
  },
}

-- A 3PL shipment confirmation must reach the storefront (the customer sees "shipped").
reconcile "shipments" {
  left = "tpl_shipments", right = "storefront_fulfillments", system_of_record = "tpl_shipments",
  match = { left = "order", right = "order" },
  rules = { exists_in { "right", name = "storefront updated", severity = "medium" } },
}

-- Low stock: the ERP's count against the storefront's recent sales.
reconcile "replenishment" {
  left = "order_lines", right = "erp_stock", system_of_record = "erp_stock",
  match = { left = "sku", right = "sku", cardinality = "many_to_one" },
  rules = {
    low_stock { stock = "right.on_hand", sales = "left.qty", sold_at = "left.at", days = param "sell_days",
                factor = param "cover_factor", severity = "medium" },
  },
}
