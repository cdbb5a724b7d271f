#!/usr/bin/env python3
"""seam's benchmark: exactness against ground truth, speed against the tools consultants use.

For each size it generates (once, cached) storefront refunds and ERP entries with known
faults (bench/generate.py), runs seam with bench/stack.lua (six rules, every verdict in
the audit log), a pandas script and an SQL script on the same files, scores each tool's
failures against the truth, and prints the figures.

    python3 bench/run.py                        # 10k, 100k, 1M with peers
    python3 bench/run.py --sizes 100000 --no-peers
    python3 bench/run.py --smoke                # CI: small, exactness only; exit 1 if not exact

Each tool runs --repeat times (default 3) per size and the median run is reported.
"""
import argparse
import csv
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

import generate  # bench/generate.py, beside this file: its VERSION names the cache folders

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RULE_OF = {
    "missing": "exists in right",
    "partial_missing": "exists in right",
    "amount_off": "amount equal",
    "twice": "posted once",
    "late": "lag at -> posted_at",
    "dropped_reason": "reason code kept",
    "orphan": "exists in left",
}
RULES_PER_GROUP = 6


def measure(cmd, cwd):
    """Runs cmd; wall and CPU seconds and peak RSS of that process alone."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024,
                "exit": proc.returncode, "stderr": err.read().decode(errors="replace")}


def prepare(size, seed, work):
    """Generated data for one size and seed, kept under work/ by generator version, size and seed."""
    d = os.path.join(work, f"g{generate.VERSION}-n{size}-s{seed}")
    if not os.path.exists(os.path.join(d, "truth.csv")):
        tmp = d + ".partial"  # an interrupted generation is never taken for a finished one
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        subprocess.run([sys.executable, os.path.join(HERE, "generate.py"), "--refunds", str(size), "--seed",
                        str(seed), "--out", tmp], check=True)
        shutil.rmtree(d, ignore_errors=True)
        os.rename(tmp, d)
    shutil.copy(os.path.join(HERE, "stack.lua"), os.path.join(d, "stack.lua"))
    return d


def read_truth(d):
    with open(os.path.join(d, "truth.csv")) as f:
        return {(row["key"], RULE_OF[row["fault"]]): row["fault"] for row in csv.DictReader(f)}


def count_lines(path):
    with open(path, "rb") as f:
        return sum(1 for _ in f)


def score(found, truth):
    """Recall per fault type, precision per rule; exact when both are 100% everywhere."""
    by_fault = {}
    for pair, fault in truth.items():
        hit = by_fault.setdefault(fault, [0, 0])
        hit[0] += 1
        hit[1] += pair in found
    by_rule = {}
    for pair in found:
        hit = by_rule.setdefault(pair[1], [0, 0])
        hit[0] += 1
        hit[1] += pair in truth
    for rule in set(RULE_OF.values()):
        by_rule.setdefault(rule, [0, 0])
    exact = found == set(truth)
    return by_fault, by_rule, exact


def median_of(repeat, run_once):
    """Runs a tool `repeat` times; the run with the median wall time (figures stay consistent)."""
    runs = sorted((run_once() for _ in range(repeat)), key=lambda r: r[0]["wall"])
    return runs[len(runs) // 2]


def run_seam(seam, d):
    for f in ("seam.db", "seam.db-wal", "seam.db-shm"):
        if os.path.exists(os.path.join(d, f)):
            os.remove(os.path.join(d, f))
    m = measure([seam, "run", ".", "--format", "json"], d)
    if m["exit"] not in (0, 1):
        sys.exit(f"seam failed (exit {m['exit']}):\n{m['stderr']}")
    db = sqlite3.connect(os.path.join(d, "seam.db"))
    found = set(db.execute("SELECT DISTINCT group_key, rule FROM failures WHERE run_id = (SELECT max(id) FROM runs)"))
    groups = db.execute("SELECT groups_count FROM runs ORDER BY id DESC LIMIT 1").fetchone()[0]
    db.close()
    m["db_mb"] = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d) if f.startswith("seam.db")) / 2**20
    m["verdicts"] = groups * RULES_PER_GROUP
    return m, found


def run_pandas(d):
    out = os.path.join(d, "failures_pandas.csv")
    m = measure([sys.executable, os.path.join(HERE, "peers", "reconcile_pandas.py"), d, out], d)
    if m["exit"] != 0:
        sys.exit(f"pandas peer failed:\n{m['stderr']}")
    with open(out) as f:
        return m, {(r["key"], r["rule"]) for r in csv.DictReader(f)}


def run_sql(d):
    with open(os.path.join(HERE, "peers", "reconcile.sql")) as script:
        sql = script.read()
    path = os.path.join(d, "reconcile.sql")
    with open(path, "w") as f:
        f.write(sql)
    m = measure(["sh", "-c", "sqlite3 :memory: < reconcile.sql"], d)
    if m["exit"] != 0:
        sys.exit(f"SQL peer failed:\n{m['stderr']}")
    with open(os.path.join(d, "failures_sql.csv")) as f:
        return m, {(r["key"], r["rule"]) for r in csv.DictReader(f)}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="10000,100000,1000000", help="storefront refunds per run, comma-separated")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--repeat", type=int, default=3, help="runs per tool and size; the median is reported")
    p.add_argument("--no-peers", action="store_true", help="skip the pandas and SQL scripts")
    p.add_argument("--smoke", action="store_true", help="CI: one small size, no peers, exactness only")
    p.add_argument("--seam", default=os.path.join(ROOT, "build", "seam"))
    p.add_argument("--work", default=os.path.join(HERE, "work"), help="where generated data is kept")
    a = p.parse_args()
    sizes = [2000] if a.smoke else [int(s) for s in a.sizes.split(",")]
    peers = not (a.no_peers or a.smoke)

    results = []
    all_exact = True
    for size in sizes:
        d = prepare(size, a.seed, a.work)
        truth = read_truth(d)
        records = count_lines(os.path.join(d, "data", "storefront_refunds.csv")) - 1 + \
            count_lines(os.path.join(d, "data", "erp_customer_refunds.ndjson"))
        repeat = 1 if a.smoke else max(1, a.repeat)
        tools = [("seam",) + median_of(repeat, lambda: run_seam(a.seam, d))]
        if peers:
            tools.append(("pandas",) + median_of(repeat, lambda: run_pandas(d)))
            tools.append(("sql",) + median_of(repeat, lambda: run_sql(d)))
        for name, m, found in tools:
            by_fault, by_rule, exact = score(found, truth)
            results.append((size, name, m, exact, records))
            if name == "seam":
                all_exact &= exact
                print(f"\nexactness at {size:,} refunds (seam)")
                print(f"  {'fault':<16} {'seeded':>8} {'found':>8} {'recall':>8}")
                for fault, (n, hit) in sorted(by_fault.items()):
                    print(f"  {fault:<16} {n:>8} {hit:>8} {100.0 * hit / n:>7.1f}%")
                print(f"  {'rule':<22} {'failures':>8} {'true':>8} {'precision':>9}")
                for rule, (n, hit) in sorted(by_rule.items()):
                    print(f"  {rule:<22} {n:>8} {hit:>8} {(100.0 * hit / n if n else 100.0):>8.1f}%")
            elif not exact:
                print(f"  note: {name} at {size:,}: {len(found - set(truth))} false, {len(set(truth) - found)} missed")

    if a.smoke:
        print("\nbench smoke: seam is exact" if all_exact else "\nbench smoke: seam is NOT exact")
        print(f"{1 if all_exact else 0} passed, {0 if all_exact else 1} failed")
        return 0 if all_exact else 1

    print(f"\n{'refunds':>9} {'tool':<7} {'wall s':>7} {'cpu s':>7} {'RSS MB':>7} {'records/s':>11} "
          f"{'verdicts/s':>11} {'DB MB':>7} {'exact':>6} {'x seam':>7}")
    seam_wall = {}
    for size, name, m, exact, records in results:
        if name == "seam":
            seam_wall[size] = m["wall"]
    for size, name, m, exact, records in results:
        verdicts = f"{m['verdicts'] / m['wall']:>11,.0f}" if "verdicts" in m else f"{'-':>11}"
        db = f"{m['db_mb']:>7.1f}" if "db_mb" in m else f"{'-':>7}"
        ratio = f"{m['wall'] / seam_wall[size]:>6.1f}x" if name != "seam" else f"{'':>7}"
        print(f"{size:>9,} {name:<7} {m['wall']:>7.2f} {m['cpu']:>7.2f} {m['rss_mb']:>7.0f} "
              f"{records / m['wall']:>11,.0f} {verdicts} {db} {'yes' if exact else 'NO':>6} {ratio}")
    if 100000 in seam_wall and 1000000 in seam_wall:
        growth = (seam_wall[1000000] / 1000000) / (seam_wall[100000] / 100000)
        print(f"\nseam per-record cost at 1M vs 100k: {growth:.2f}x")
    return 0 if all_exact else 1


if __name__ == "__main__":
    sys.exit(main())
