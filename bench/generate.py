#!/usr/bin/env python3
"""Deterministic refund hand-off data with a known mix of faults, and the truth.

Writes, in the flat formats examples/refunds had before it moved to Shopify and NetSuite shapes:
  OUT/data/storefront_refunds.csv       storefront refunds (Shopify-like CSV)
  OUT/data/erp_customer_refunds.ndjson  ERP customer refunds (NetSuite-like NDJSON, New York time)
  OUT/truth.csv                         key,fault: every seeded fault, by refund id

Faults (shares of storefront refunds): about 2% never reach the ERP, 1% with the amount
off, 0.5% posted twice, 1% late beyond the lag window, 3% in partial-refund sequences
(half of which reach the ERP only in part), 0.5% with the reason code dropped; plus ERP
refunds, 0.5% as many, that no storefront refund explains. The same seed gives the same
bytes.

Keys: storefront refunds are R1000000, R1000001, ... (R followed by 1000000 + i, no leading
zero); ERP-only refunds are R0 followed by their number, so the two never collide at any
size (both still match the ERP memo's "refund (R[0-9]+)"). Their sales orders likewise
start with 0, unlike any storefront order.
"""
import argparse
import datetime as dt
import os
import random
import zoneinfo

# Bump when the bytes for a given size and seed change, so cached data is regenerated.
VERSION = 2
LAG_MINUTES = 30
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
START = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
SPAN_SECONDS = 30 * 24 * 3600
REASONS = ["damaged", "wrong_size", "not_as_described", "changed_mind", "late_delivery"]


def money(cents):
    text = f"{cents // 100}.{cents % 100:02d}"
    if cents >= 100000:  # exports group thousands: "1,249.99"
        whole = f"{cents // 100:,}"
        text = f'"{whole}.{cents % 100:02d}"'
    return text


def erp_time(t):
    local = t.astimezone(NEW_YORK)
    hour = local.hour % 12 or 12
    return f"{local.month:02d}/{local.day:02d}/{local.year} {hour}:{local.minute:02d} {'am' if local.hour < 12 else 'pm'}"


def erp_line(internal_id, ref, order, cents, posted, reason):
    reason_part = f',"custbody_reason_code":"{reason.upper()}"' if reason else ""
    return (f'{{"internalId":"CR-{internal_id}","memo":"Shopify refund {ref}",'
            f'"createdFrom":{{"refName":"Sales Order #{order}"}},"total":"{cents // 100}.{cents % 100:02d}",'
            f'"currency":{{"refName":"USD"}},"tranDate":"{erp_time(posted)}",'
            f'"status":{{"refName":"Refunded"}}{reason_part}}}\n')


def generate(n, seed, out):
    rng = random.Random(seed)
    os.makedirs(os.path.join(out, "data"), exist_ok=True)
    store = open(os.path.join(out, "data", "storefront_refunds.csv"), "w", newline="")
    erp = open(os.path.join(out, "data", "erp_customer_refunds.ndjson"), "w")
    truth = open(os.path.join(out, "truth.csv"), "w")
    store.write("Refund ID,Order,Created At,Amount,Currency,Status,Reason,Type\n")
    truth.write("key,fault\n")
    erp_rows = []
    next_erp = 1
    i = 0
    order = 500000
    # Faults that need the lag window to have passed stay out of the export's last hours.
    safe_until = SPAN_SECONDS - 6 * 3600

    def when(k):
        return START + dt.timedelta(seconds=k * SPAN_SECONDS // n)

    while i < n:
        order += 1
        u = rng.random()
        if 0.05 <= u < 0.08 and i + 3 <= n and (i * SPAN_SECONDS // n) < safe_until:
            # a partial-refund sequence on one order; half the time only the first reaches the ERP
            k = rng.randint(2, 3)
            in_part = rng.random() < 0.5
            for j in range(k):
                ref = f"R{1000000 + i}"
                t = when(i)
                cents = rng.randint(100, 20000)
                reason = rng.choice(REASONS)
                store.write(f"{ref},#{order},{t.strftime('%Y-%m-%dT%H:%M:%SZ')},{money(cents)},USD,succeeded,{reason},partial\n")
                if j > 0 and in_part:
                    truth.write(f"{ref},partial_missing\n")
                else:
                    erp_rows.append(erp_line(next_erp, ref, order, cents, t + dt.timedelta(minutes=rng.randint(1, LAG_MINUTES - 2)), reason))
                    next_erp += 1
                i += 1
            continue
        ref = f"R{1000000 + i}"
        t = when(i)
        cents = rng.randint(100, 50000)
        reason = rng.choice(REASONS)
        store.write(f"{ref},#{order},{t.strftime('%Y-%m-%dT%H:%M:%SZ')},{money(cents)},USD,succeeded,{reason},full\n")
        posted = t + dt.timedelta(minutes=rng.randint(1, LAG_MINUTES - 2))
        late_ok = (i * SPAN_SECONDS // n) < safe_until and i < n - 1  # the last refund stays clean
        if u < 0.02 and late_ok:
            truth.write(f"{ref},missing\n")
        else:
            erp_cents, erp_reason, copies = cents, reason, 1
            if 0.02 <= u < 0.03:
                erp_cents = cents + rng.choice([-1, 1]) * rng.randint(1, min(500, cents - 1))
                truth.write(f"{ref},amount_off\n")
            elif 0.03 <= u < 0.035:
                copies = 2
                truth.write(f"{ref},twice\n")
            elif 0.035 <= u < 0.045 and late_ok:
                posted = t + dt.timedelta(minutes=LAG_MINUTES + rng.randint(5, 600))
                truth.write(f"{ref},late\n")
            elif 0.045 <= u < 0.05:
                erp_reason = None
                truth.write(f"{ref},dropped_reason\n")
            for c in range(copies):
                erp_rows.append(erp_line(next_erp, ref, order, erp_cents, posted + dt.timedelta(minutes=c), erp_reason))
                next_erp += 1
        i += 1
    for k in range(n // 200):  # ERP refunds with no storefront refund (manual entries)
        ref = f"R0{k:07d}"  # leading zero: no storefront refund id has one
        t = START + dt.timedelta(seconds=rng.randrange(SPAN_SECONDS - 6 * 3600))
        erp_rows.append(erp_line(next_erp, ref, f"0{k:06d}", rng.randint(100, 50000), t, rng.choice(REASONS)))
        next_erp += 1
        truth.write(f"{ref},orphan\n")
    rng.shuffle(erp_rows)  # ERP exports come in their own order
    erp.writelines(erp_rows)
    for f in (store, erp, truth):
        f.close()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--refunds", type=int, required=True, help="storefront refunds to generate")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--out", required=True, help="folder to write data/ and truth.csv into")
    a = p.parse_args()
    generate(a.refunds, a.seed, a.out)
