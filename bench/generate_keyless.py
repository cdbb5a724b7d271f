#!/usr/bin/env python3
"""Deterministic keyless cash data: bank lines against ERP cash receipts with no shared key.

Writes, in the formats of examples/bank:
  OUT/data/bank_statement.csv        bank lines (Bank Ref B1, B2, ... in date order)
  OUT/data/erp_cash_receipts.ndjson  ERP receipts (E1, E2, ... in the ERP's own order)
  OUT/truth.csv                      bank_id,erp_id,case,strategy: every true pair, and every
                                     record with no partner (the other id empty)

Cases (shares of bank lines):
  bank_only  about 2%: money in the bank, no receipt (unapplied cash)
  fees       about 1%: a processor payout; the ERP books the gross, the bank receives the net
             (a fee of 1.0-2.9% of the gross, within 3% of the larger amount), 0-2 days apart
  reference  about 1%, in couples: two bank lines of the same amount on the same day and two
             receipts of that amount on the same day, so amount and date alone cannot tell
             which is which; the payer names can ("ACME FOODS CORP" and "Acme Foods Corporation")
  exact      the rest: the same amount, 0-3 days apart; 60% with the payer named on both
             sides (as the bank abbreviates it), 40% a check or cash deposit with no payer
  erp_only   receipts, 1% as many as bank lines, with no bank line (bounced, booked twice)

Amounts collide as they do in real data: about half are price points (50.00, 99.99, whole
dollars, x.99, x.50), the rest spread over 1.00-20,000.00.

No genuine ambiguity. The strategies of bench/stack_keyless.lua are, in order: (1) equal
amount, dates at most 3 days apart, payer names at least 0.85 alike (Jaro-Winkler after
ignoring case); (2) equal amount, at most 3 days apart; (3) amounts within 3% of the larger,
at most 2 days apart. A true pair's strategy is the first that admits it, and its score is
(amount difference, days apart, then for (1) less alike is worse). Every record is placed
so that any pair other than a true one that a strategy admits, among records still unmatched
when that strategy runs, is strictly worse than the true pair of one of its records formed
by the same strategy; in particular no unmatched record admits any other unmatched record.
Then, and only then, taking pairs best first within each strategy gives exactly the truth,
whatever the tie-breaking. A placement that breaks this (the same amount nearby, as close in
time) is drawn again, so amounts still collide inside each other's windows, only not as
closely as the true partner. The same seed gives the same bytes.
"""
import argparse
import datetime as dt
import json
import math
import os
import random

# Bump when the bytes for a given size and seed change, so cached data is regenerated.
VERSION = 2
START = dt.date(2026, 1, 1)
WINDOW = 3        # days: strategies (1) and (2)
FEE_WINDOW = 2    # days: strategy (3)
FEE_PCT = 3       # percent of the larger amount: strategy (3)
SIMILARITY = 850  # permille: strategy (1)
INF = 99

FIRST = ("Acme Allied Apex Atlas Beacon Birch Blue Bright Cascade Cedar Central Citadel Coastal Copper "
         "Crescent Crown Delta Eagle Echo Elm Empire Evergreen Falcon Frontier Galaxy Garnet Globex Golden "
         "Granite Harbor Hawk Heritage Highland Horizon Initech Iron Jade Juniper Keystone Lakeside Liberty "
         "Lighthouse Lotus Magnolia Maple Meridian Metro Midwest Monarch Nova Oak Omega Orchid Pacific "
         "Palmetto Pendant Phoenix Pinnacle Pioneer Polar Prairie Premier Quantum Radiant Redwood Ridge "
         "River Rocky Royal Sabini Sapphire Sequoia Sierra Silver Soylent Spruce Sterling Summit Sunrise "
         "Tidewater Titan Umbrella Union Valley Vanguard Vertex Willow Zenith").split()
SECOND = ("Foods Holdings Supply Logistics Manufacturing Dental Medical Hardware Textiles Electric Plumbing "
          "Roofing Bakery Motors Software Consulting Farms Printing Packaging Freight Pharmacy Studios "
          "Builders Marine Optics Labs Energy Trading Furniture Outfitters").split()
SUFFIX = [("Corporation", "CORP"), ("Incorporated", "INC"), ("Company", "CO"), ("Limited", "LTD"),
          ("LLC", "LLC"), ("Group", "GRP"), ("Partners", "PTNRS")]
PROCESSORS = ["STRIPE", "PAYPAL", "SQUARE", "ADYEN"]
COMMON = [5000, 9999, 10000, 2500, 1999, 4999, 25000, 50000, 1000, 2000, 7500, 15000, 20000, 2999, 999,
          100000, 12500, 3500, 4500, 14999]


def jaro_winkler_permille(a, b):
    """seam's similarity (engine/match/candidates.cpp), the same integer arithmetic."""
    if a == b:
        return 1000
    if not a or not b:
        return 0
    window = max(len(a), len(b)) // 2
    window = window - 1 if window else 0
    a_hit, b_hit = [False] * len(a), [False] * len(b)
    m = 0
    for i, ch in enumerate(a):
        for j in range(max(0, i - window), min(len(b), i + window + 1)):
            if not b_hit[j] and ch == b[j]:
                a_hit[i] = b_hit[j] = True
                m += 1
                break
    if m == 0:
        return 0
    half, j = 0, 0
    for i, ch in enumerate(a):
        if not a_hit[i]:
            continue
        while not b_hit[j]:
            j += 1
        if ch != b[j]:
            half += 1
        j += 1
    t = half // 2
    la, lb = len(a), len(b)
    den = 3 * la * lb * m
    num = m * lb * m + m * la * m + (m - t) * la * lb
    prefix = 0
    while prefix < 4 and prefix < la and prefix < lb and a[prefix] == b[prefix]:
        prefix += 1
    return (10 * num + prefix * (den - num)) * 1000 // (10 * den)


class Rec:
    __slots__ = ("side", "day", "cents", "ref", "s", "score", "partner", "case", "name", "desc", "id")

    def __init__(self, side, day, cents, name, ref, case, desc=""):
        self.side, self.day, self.cents, self.name, self.case, self.desc = side, day, cents, name, case, desc
        self.ref = ref.strip().lower() if ref else ""  # the stack's normalize = { ignore_case = true }
        self.s, self.score, self.partner, self.id = INF, None, None, None


def admits(b, e):
    """[(strategy, score)] for every strategy that admits the pair bank b, ERP e."""
    lag = abs(e.day - b.day)
    out = []
    if b.cents == e.cents and lag <= WINDOW:
        if b.ref and e.ref:
            sim = jaro_winkler_permille(b.ref, e.ref)
            if sim >= SIMILARITY:
                out.append((1, (0, lag, -sim)))
        out.append((2, (0, lag)))
    delta = abs(b.cents - e.cents)
    if 100 * delta <= FEE_PCT * max(b.cents, e.cents) and lag <= FEE_WINDOW:
        out.append((3, (delta, lag)))
    return out


class World:
    def __init__(self):
        self.by_amount = {}  # (side, cents) -> {day: [Rec]}
        self.left_over = {}  # (side, day, bucket) -> [Rec]: records strategy (3) still sees

    @staticmethod
    def bucket(cents):
        # wider than the 3% reach (a ratio up to 1 / 0.97), so a pair is at most one bucket apart
        return int(math.log(cents) / math.log(1.0 + 1.5 * FEE_PCT / 100.0))

    def candidates(self, r):
        """Records on the other side that some strategy could pair with r."""
        other = "E" if r.side == "B" else "B"
        days = self.by_amount.get((other, r.cents))
        if days:
            for d in range(r.day - WINDOW, r.day + WINDOW + 1):
                yield from days.get(d, ())
        if r.s >= 3:
            k = self.bucket(r.cents)
            for d in range(r.day - FEE_WINDOW, r.day + FEE_WINDOW + 1):
                for bk in (k - 1, k, k + 1):
                    for x in self.left_over.get((other, d, bk), ()):
                        if x.cents != r.cents or abs(x.day - r.day) > WINDOW:  # not seen above
                            yield x

    def fits(self, recs):
        """True when adding recs (their pairs set) keeps every wrong pair strictly worse."""
        seen = set()
        for r in recs:
            others = list(self.candidates(r)) + [x for x in recs if x.side != r.side]
            for x in others:
                if x is r.partner:
                    continue
                b, e = (r, x) if r.side == "B" else (x, r)
                if (id(b), id(e)) in seen:
                    continue
                seen.add((id(b), id(e)))
                for s, score in admits(b, e):
                    if s > min(b.s, e.s):
                        continue  # one of them is taken by an earlier strategy
                    if not ((b.s == s and score > b.score) or (e.s == s and score > e.score)):
                        return False
        return True

    def add(self, recs):
        for r in recs:
            self.by_amount.setdefault((r.side, r.cents), {}).setdefault(r.day, []).append(r)
            if r.s >= 3:
                self.left_over.setdefault((r.side, r.day, self.bucket(r.cents)), []).append(r)


def pair(b, e):
    found = admits(b, e)
    assert found, (b.cents, e.cents, b.day, e.day)
    s, score = found[0]
    for r, p in ((b, e), (e, b)):
        r.s, r.score, r.partner = s, score, p


def generate(n, seed, out):
    rng = random.Random(seed)
    days = max(60, min(365, n // 2740))
    companies = [f"{f} {s} {x[0]}" for f in FIRST for s in SECOND for x in SUFFIX]
    full_suffix = {x[0]: x[1] for x in SUFFIX}

    def company():
        return rng.choice(companies)

    def bank_name(full):
        # as a bank prints it: upper case, suffix abbreviated or dropped, sometimes cut at 22
        words = full.split()
        style = rng.random()
        if style < 0.5:
            words[-1] = full_suffix[words[-1]]
        elif style < 0.7:
            words = words[:-1]
        name = " ".join(words).upper()
        return name[:22].rstrip() if rng.random() < 0.2 else name

    def amount(uniform=False):
        u = rng.random()
        if not uniform and u < 0.2:
            return rng.choice(COMMON)
        if not uniform and u < 0.5:
            whole = int(math.exp(rng.uniform(math.log(5), math.log(2000))))
            return whole * 100 + rng.choice([0, 0, 99, 50, 95])
        return int(math.exp(rng.uniform(math.log(100), math.log(2_000_000))))

    def lag(top):
        return rng.choices(range(top + 1), weights=[45, 30, 15, 10][:top + 1])[0]

    def place(make):
        """Draws a case's records until they fit; amounts turn uniform after a few tries."""
        for attempt in range(1000):
            recs = make(attempt >= 10)
            if world.fits(recs):
                world.add(recs)
                return recs
        raise RuntimeError("cannot place a record without ambiguity")

    def exact(uniform):
        d, c = rng.randrange(days), amount(uniform)
        full = company()
        if rng.random() < 0.6:
            bn = bank_name(full)
            b = Rec("B", d, c, bn, bn, "exact", rng.choice(["ACH CREDIT ", "WIRE IN ", "ACH DEP "]) + bn)
        else:
            b = Rec("B", d, c, "", "", "exact", rng.choice(["MOBILE DEPOSIT", "CHECK DEPOSIT", "BRANCH DEPOSIT",
                                                            "REMOTE DEPOSIT"]) + f" {rng.randint(1000, 9999)}")
        e = Rec("E", d + lag(WINDOW), c, full, full, "exact")
        pair(b, e)
        return [b, e]

    def fees(uniform):
        d = rng.randrange(days)
        gross = amount(uniform)
        gross = max(gross, 1000)
        net = gross - max(1, round(gross * rng.uniform(0.010, 0.029)))
        p = rng.choice(PROCESSORS)
        full = company()
        b = Rec("B", d, net, p, p, "fees", f"{p} PAYOUT {rng.randint(100000, 999999)}")
        e = Rec("E", d + lag(FEE_WINDOW), gross, full, full, "fees")
        pair(b, e)
        return [b, e]

    def reference(uniform):
        d, c = rng.randrange(days), amount(uniform)
        de = d + lag(WINDOW)
        recs = []
        while True:
            f1, f2 = company(), company()
            n1, n2 = bank_name(f1), bank_name(f2)
            l1, l2, g1, g2 = n1.lower(), n2.lower(), f1.lower(), f2.lower()
            if (jaro_winkler_permille(l1, g1) >= SIMILARITY and jaro_winkler_permille(l2, g2) >= SIMILARITY
                    and jaro_winkler_permille(l1, g2) < SIMILARITY and jaro_winkler_permille(l2, g1) < SIMILARITY):
                break
        for bn, full in ((n1, f1), (n2, f2)):
            b = Rec("B", d, c, bn, bn, "reference", "ACH CREDIT " + bn)
            e = Rec("E", de, c, full, full, "reference")
            pair(b, e)
            recs += [b, e]
        return recs

    def bank_only(uniform):
        bn = bank_name(company()) if rng.random() < 0.5 else ""
        return [Rec("B", rng.randrange(days), amount(uniform), bn, bn, "bank_only",
                    ("ACH CREDIT " + bn) if bn else f"DEPOSIT {rng.randint(1000, 9999)}")]

    def erp_only(uniform):
        full = company()
        return [Rec("E", rng.randrange(days), amount(uniform), full, full, "erp_only")]

    world = World()
    n_bank_only, n_fees, n_ref = n * 2 // 100, n // 100, (n // 100) // 2
    n_exact = n - n_bank_only - n_fees - 2 * n_ref
    plan = ["exact"] * n_exact + ["fees"] * n_fees + ["reference"] * n_ref + ["bank_only"] * n_bank_only + \
        ["erp_only"] * (n // 100)
    rng.shuffle(plan)
    makers = {"exact": exact, "fees": fees, "reference": reference, "bank_only": bank_only, "erp_only": erp_only}
    bank, erp = [], []
    for case in plan:
        for r in place(makers[case]):
            (bank if r.side == "B" else erp).append(r)

    bank.sort(key=lambda r: r.day)  # a statement is in date order (stable: placement order within a day)
    for i, r in enumerate(bank):
        r.id = f"B{i + 1}"
    rng.shuffle(erp)  # the ERP exports in its own order
    for i, r in enumerate(erp):
        r.id = f"E{i + 1}"

    def money(c):
        return f"{c // 100}.{c % 100:02d}"

    os.makedirs(os.path.join(out, "data"), exist_ok=True)
    with open(os.path.join(out, "data", "bank_statement.csv"), "w", newline="") as f:
        f.write("Bank Ref,Date,Description,Counterparty,Amount,Currency\n")
        for r in bank:
            day = START + dt.timedelta(days=r.day)
            f.write(f"{r.id},{day.strftime('%m/%d/%Y')},{r.desc},{r.name},{money(r.cents)},USD\n")
    with open(os.path.join(out, "data", "erp_cash_receipts.ndjson"), "w") as f:
        for r in erp:
            day = START + dt.timedelta(days=r.day)
            f.write(json.dumps({"receipt": r.id, "customer": r.name, "amount": money(r.cents), "currency": "USD",
                                "deposited": day.isoformat()}, separators=(",", ":")) + "\n")
    with open(os.path.join(out, "truth.csv"), "w") as f:
        f.write("bank_id,erp_id,case,strategy\n")
        for r in bank:
            f.write(f"{r.id},{r.partner.id if r.partner else ''},{r.case},{r.s if r.partner else ''}\n")
        for r in erp:
            if not r.partner:
                f.write(f",{r.id},{r.case},\n")


def check(out):
    """Checks the written files against the no-ambiguity condition, from scratch: the same
    amount by a dictionary, amounts within fees by a sorted list (not the generator's buckets)."""
    import bisect
    import csv
    recs, truth = {}, {}
    with open(os.path.join(out, "data", "bank_statement.csv")) as f:
        for row in csv.DictReader(f):
            day = (dt.datetime.strptime(row["Date"], "%m/%d/%Y").date() - START).days
            cents = int(row["Amount"].replace(".", ""))
            recs[row["Bank Ref"]] = Rec("B", day, cents, row["Counterparty"], row["Counterparty"], "")
    with open(os.path.join(out, "data", "erp_cash_receipts.ndjson")) as f:
        for line in f:
            o = json.loads(line)
            day = (dt.date.fromisoformat(o["deposited"]) - START).days
            recs[o["receipt"]] = Rec("E", day, int(o["amount"].replace(".", "")), o["customer"], o["customer"], "")
    for r_id, r in recs.items():
        r.id = r_id
    with open(os.path.join(out, "truth.csv")) as f:
        for row in csv.DictReader(f):
            if row["bank_id"] and row["erp_id"]:
                pair(recs[row["bank_id"]], recs[row["erp_id"]])
                assert str(recs[row["bank_id"]].s) == row["strategy"], row
    erp_by_amount, left_over = {}, []
    for r in recs.values():
        if r.side == "E":
            erp_by_amount.setdefault(r.cents, []).append(r)
            if r.s >= 3:
                left_over.append((r.cents, r.id))
    left_over.sort()
    bad = 0
    for b in recs.values():
        if b.side != "B":
            continue
        others = [e for e in erp_by_amount.get(b.cents, ()) if abs(e.day - b.day) <= WINDOW]
        if b.s >= 3:
            lo = bisect.bisect_left(left_over, (b.cents * (100 - FEE_PCT) // 100 - 1, ""))
            hi = bisect.bisect_right(left_over, (b.cents * 100 // (100 - FEE_PCT) + 1, "~"))
            others += [recs[i] for _, i in left_over[lo:hi]]
        for e in set(others):
            if e is b.partner:
                continue
            for s, score in admits(b, e):
                if s <= min(b.s, e.s) and not ((b.s == s and score > b.score) or (e.s == s and score > e.score)):
                    bad += 1
                    print(f"ambiguous: {b.id} {e.id} by strategy {s} {score}; true pairs {b.s} {b.score}, {e.s} {e.score}")
    print(f"checked {len(recs)} records: {bad} ambiguous pairs")
    return bad == 0


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lines", type=int, required=True, help="bank lines to generate")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--out", required=True, help="folder to write data/ and truth.csv into")
    p.add_argument("--check", action="store_true", help="then check the files for ambiguity from scratch")
    a = p.parse_args()
    generate(a.lines, a.seed, a.out)
    if a.check and not check(a.out):
        raise SystemExit(1)
