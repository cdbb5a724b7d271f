-- Accounting-period rules shipped with seam. include "periods" in a stack to use them.

-- same_month { left = "at", right = "posted_at", zone = "America/New_York" }: the right
-- record is booked in the same calendar month as the left one happened, in the zone the
-- books are kept in (UTC when no zone is given). A refund made at 23:50 on the last day
-- of the month and booked ten minutes later is inside any lag window but lands in the
-- next period: a cut-off problem for month-end close.
function same_month(opts)
  local left, right, zone = opts.left, opts.right, opts.zone or "UTC"
  return rule(opts.name or "same accounting month", function(g)
    if not g.l then return skip("no left record") end
    if not g.r then return skip("no right record") end
    local a, b = g.l[left], g.r[right]
    if a == nil or b == nil then return skip("no time to compare") end
    local ay, am = a:date_in(zone)
    for _, r in ipairs(g.right) do
      local by, bm = r[right]:date_in(zone)
      if ay ~= by or am ~= bm then
        return fail(string.format("%s %s is booked in %04d-%02d but %s %s happened in %04d-%02d (%s)",
                                  r._system, r._id, by, bm, g.l._system, g.l._id, ay, am, zone),
                    { expected = string.format("%04d-%02d", ay, am), actual = string.format("%04d-%02d", by, bm) })
      end
    end
    return pass()
  end, { severity = opts.severity or "medium", doc = "left and right fall in the same calendar month (" .. zone .. ")" })
end
