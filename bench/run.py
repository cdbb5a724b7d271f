#!/usr/bin/env python3
"""seam's benchmark: exactness against ground truth, speed against the tools data engineers use.

For each size it generates (once, cached) storefront refunds and ERP entries with known
faults (bench/generate.py), runs seam with bench/stack.lua (six rules, every verdict in
the audit log) and the peers in bench/peers on the same files (DuckDB and Polars from
Node.js, a pandas script, an SQL script in sqlite3), scores each tool's failures against
the truth, and prints the figures.

    bash bench/run.sh                           # installs the peers, then 100k, 1M and 5M
    bash bench/run.sh --with-10m                # and 10M
    python3 bench/run.py --sizes 100000 --no-peers
    python3 bench/run.py --sizes 100000 --peers duckdb,polars --repeat 5
    python3 bench/run.py --sizes 100000 --no-peers --keyless   # and the keyless case beside it
    python3 bench/run.py --sizes 100000 --no-peers --lua       # and the Lua case beside it
    python3 bench/run.py --smoke                # CI: small, seam only, exactness only; exit 1 if not exact

--keyless adds a second scenario at each size: as many bank lines against ~0.99 as many ERP
cash receipts with no shared key (bench/generate_keyless.py, bench/stack_keyless.lua: three
strategies, amount and date and payer, amount and date, amount within fees). seam alone runs
it, in the same rounds as the keyed run of the same size; its pairs (read from the audit
log's groups) and its one-sided records (the exists_in failures) are scored against the
truth exactly, and its wall, CPU and peak RSS are printed beside the keyed run's with the
ratio. --smoke always runs it too, at 2,000 bank lines.

--lua adds the keyed case again with Lua where a stack might still need it
(bench/stack_lua.lua: the ERP's refund reference read by a Lua mapping function, and the
reason-code check as a Lua rule), on the same data and truth; it must be exact too, and its
wall, CPU and peak RSS are printed beside the native run's with the ratio. --smoke always
runs it too.

Runs are interleaved: each of --repeat rounds (default 3) runs every tool once, always in
the order seam, duckdb, polars, pandas, sql, so a change in the machine's load falls on
every tool alike. Each tool's median run (by wall time) is reported; "x seam" is the
peer's median wall time over seam's, with the lowest and highest per-round ratio beside
it, and "cpu x" the same for CPU time (steadier than wall time on a busy machine). The
load average (/proc/loadavg) is printed before and after each size. A peer that is not
installed is skipped with a note (bench/run.sh installs them all), and so is a peer
whose peak memory at the previous size, scaled to this one, would not fit in the memory
available; a peer that fails is reported as failed and the others go on.
"""
import argparse
import csv
import importlib.util
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

import generate  # bench/generate.py, beside this file: its VERSION names the cache folders
import generate_keyless  # bench/generate_keyless.py: the same for the keyless data

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PEERS_DIR = os.path.join(HERE, "peers")
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
PEERS = ["duckdb", "polars", "pandas", "sql"]
NODE_PACKAGES = {"duckdb": ["@duckdb/node-api"], "polars": ["nodejs-polars", "nodejs-polars-linux-x64-gnu"]}
NODE_HINT = "bash scripts/setup.sh --bench installs it, or npm ci in bench/peers"
MEMORY_HEADROOM = 0.9  # share of MemAvailable a peer's scaled peak RSS may take


# A fresh interpreter starts the measured command and reports its rusage. Linux counts a
# forked child's peak RSS from the memory it had at fork time, so a command started
# straight from this (by then large) process would report at least this process's size.
_LAUNCHER = """
import json, os, subprocess, sys, time
cmd = json.loads(sys.argv[1])
start = time.perf_counter()
proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(proc.pid, 0)
wall = time.perf_counter() - start
with open(sys.argv[2], "w") as out:
    json.dump({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_kb": usage.ru_maxrss,
               "exit": os.waitstatus_to_exitcode(status)}, out)
"""


def measure(cmd, cwd, env=None):
    """Runs cmd; wall and CPU seconds (all its threads) and peak RSS of that process alone."""
    with tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile(suffix=".json") as res:
        proc = subprocess.Popen([sys.executable, "-c", _LAUNCHER, json.dumps(cmd), res.name], cwd=cwd,
                                stdout=subprocess.DEVNULL, stderr=err, env=env)
        proc.wait()
        err.seek(0)
        stderr = err.read().decode(errors="replace")
        try:
            with open(res.name) as f:
                r = json.load(f)
        except (OSError, ValueError):
            r = {"wall": 0.0, "cpu": 0.0, "rss_kb": 0, "exit": proc.returncode or 1}
        # Timed in the launcher: its own start-up is not the command's.
        return {"wall": r["wall"], "cpu": r["cpu"], "rss_mb": r["rss_kb"] / 1024, "exit": r["exit"], "stderr": stderr}


def loadavg():
    """The 1, 5 and 15 minute load averages, as /proc/loadavg gives them."""
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "unknown"


def mem_available_mb():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


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


def prepare_keyless(size, seed, work):
    """Generated keyless data for one size and seed, cached like the keyed data."""
    d = os.path.join(work, f"k{generate_keyless.VERSION}-n{size}-s{seed}")
    if not os.path.exists(os.path.join(d, "truth.csv")):
        tmp = d + ".partial"
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        subprocess.run([sys.executable, os.path.join(HERE, "generate_keyless.py"), "--lines", str(size), "--seed",
                        str(seed), "--out", tmp], check=True)
        shutil.rmtree(d, ignore_errors=True)
        os.rename(tmp, d)
    shutil.copy(os.path.join(HERE, "stack_keyless.lua"), os.path.join(d, "stack.lua"))
    return d


def prepare_lua(d):
    """The keyed stack folder d again, with bench/stack_lua.lua: its data is d's, linked."""
    ld = d + "-lua"
    os.makedirs(ld, exist_ok=True)
    link, target = os.path.join(ld, "data"), os.path.abspath(os.path.join(d, "data"))
    if os.path.islink(link) and os.readlink(link) != target:
        os.remove(link)
    if not os.path.islink(link):
        os.symlink(target, link)
    shutil.copy(os.path.join(HERE, "stack_lua.lua"), os.path.join(ld, "stack.lua"))
    return ld


KEYLESS_CASES = ["exact", "reference", "fees", "bank_only", "erp_only"]
KEYLESS_RULES = {"bank_only": "receipt in the ERP", "erp_only": "deposit in the bank"}
KEYLESS_RULES_PER_GROUP = 3


def read_truth_keyless(d):
    """{"pairs": {(bank, erp): case}, "bank_only": set, "erp_only": set}."""
    truth = {"pairs": {}, "bank_only": set(), "erp_only": set()}
    with open(os.path.join(d, "truth.csv")) as f:
        for row in csv.DictReader(f):
            if row["case"] == "bank_only":
                truth["bank_only"].add(row["bank_id"])
            elif row["case"] == "erp_only":
                truth["erp_only"].add(row["erp_id"])
            else:
                truth["pairs"][(row["bank_id"], row["erp_id"])] = row["case"]
    return truth


def run_seam_keyless(seam, d):
    """Runs seam on the keyless stack; its figures and what it found, read from the audit log."""
    for f in ("seam.db", "seam.db-wal", "seam.db-shm"):
        if os.path.exists(os.path.join(d, f)):
            os.remove(os.path.join(d, f))
    m = measure([seam, "run", ".", "--format", "json"], d)
    if m["exit"] not in (0, 1):
        sys.exit(f"seam (keyless) failed (exit {m['exit']}):\n{m['stderr']}")
    db = sqlite3.connect(os.path.join(d, "seam.db"))
    run_id = db.execute("SELECT max(id) FROM runs").fetchone()[0]
    names = dict(db.execute("SELECT strategy_no, name FROM run_strategies WHERE run_id = ?", (run_id,)))
    found = {"pairs": {}, "other_groups": [], "bank_only": set(), "erp_only": set(), "amount_equal": set()}
    groups = 0
    for left, right, strategy in db.execute("SELECT left_ids, right_ids, strategy_no FROM groups WHERE run_id = ?",
                                            (run_id,)):
        groups += 1
        left, right = json.loads(left), json.loads(right)
        if len(left) == 1 and len(right) == 1:
            found["pairs"][(left[0], right[0])] = names.get(strategy, str(strategy))
        elif left and right:
            found["other_groups"].append((left, right))
    for left, right, rule in db.execute("SELECT left_ids, right_ids, rule FROM failures WHERE run_id = ?", (run_id,)):
        left, right = json.loads(left), json.loads(right)
        if rule == KEYLESS_RULES["bank_only"]:
            found["bank_only"].update(left)
        elif rule == KEYLESS_RULES["erp_only"]:
            found["erp_only"].update(right)
        elif rule == "amount equal" and len(left) == 1 and len(right) == 1:
            found["amount_equal"].add((left[0], right[0]))
    db.close()
    m["db_mb"] = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d) if f.startswith("seam.db")) / 2**20
    m["verdicts"] = groups * KEYLESS_RULES_PER_GROUP
    return m, found


def score_keyless(found, truth):
    """Recall per case, precision per strategy and per exists_in rule; exact when all are 100%."""
    by_case = {c: [0, 0] for c in KEYLESS_CASES}
    for pair, case in truth["pairs"].items():
        by_case[case][0] += 1
        by_case[case][1] += pair in found["pairs"]
    for case in ("bank_only", "erp_only"):
        by_case[case] = [len(truth[case]), len(truth[case] & found[case])]
    by_strategy = {}
    for pair, strategy in found["pairs"].items():
        hit = by_strategy.setdefault(strategy, [0, 0])
        hit[0] += 1
        hit[1] += pair in truth["pairs"]
    for case in ("bank_only", "erp_only"):
        by_strategy[KEYLESS_RULES[case]] = [len(found[case]), len(found[case] & truth[case])]
    fees = {p for p, c in truth["pairs"].items() if c == "fees"}
    by_strategy["amount equal"] = [len(found["amount_equal"]), len(found["amount_equal"] & fees)]
    exact = (set(found["pairs"]) == set(truth["pairs"]) and not found["other_groups"]
             and found["bank_only"] == truth["bank_only"] and found["erp_only"] == truth["erp_only"]
             and found["amount_equal"] == fees)
    wrong = sorted(set(found["pairs"]) - set(truth["pairs"]))
    missed = sorted(set(truth["pairs"]) - set(found["pairs"]))
    return by_case, by_strategy, exact, wrong, missed


def print_exactness_keyless(size, m, truth):
    print(f"\nexactness of the keyless case at {size:,} bank lines (seam)")
    print(f"  {'case':<16} {'true':>8} {'found':>8} {'recall':>8}")
    for case in KEYLESS_CASES:
        n, hit = m["by_case"][case]
        print(f"  {case:<16} {n:>8} {hit:>8} {(100.0 * hit / n if n else 100.0):>7.1f}%")
    print(f"  {'strategy or rule':<26} {'pairs/fails':>11} {'true':>8} {'precision':>9}")
    for name, (n, hit) in m["by_strategy"].items():
        print(f"  {name:<26} {n:>11} {hit:>8} {(100.0 * hit / n if n else 100.0):>8.1f}%")
    if m["other_groups"]:
        print(f"  {len(m['other_groups'])} groups with more than one record on a side, e.g. {m['other_groups'][:3]}")
    partner = {}
    for b, e in truth["pairs"]:
        partner[b], partner[e] = e, b
    for b, e in m["wrong"][:10]:
        print(f"  wrong pair {b} {e} by {m['found_pairs'][(b, e)]!r}: truth pairs {b} with {partner.get(b, 'nothing')}"
              f" and {e} with {partner.get(e, 'nothing')}")
    for b, e in m["missed"][:10]:
        print(f"  missed pair {b} {e} ({truth['pairs'][(b, e)]})")


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


def missing_peer(name):
    """Why a peer cannot run on this machine, or None when it can."""
    if name in NODE_PACKAGES:
        if not shutil.which("node"):
            return f"Node.js is not installed ({NODE_HINT})"
        for pkg in NODE_PACKAGES[name]:
            if not os.path.isfile(os.path.join(PEERS_DIR, "node_modules", pkg, "package.json")):
                return f"bench/peers/node_modules has no {pkg} ({NODE_HINT})"
    elif name == "pandas" and importlib.util.find_spec("pandas") is None:
        return (f"{sys.executable} cannot import pandas (bash scripts/setup.sh --bench installs Debian's "
                "python3-pandas; bench/run.sh runs with /usr/bin/python3)")
    elif name == "sql" and not shutil.which("sqlite3"):
        return "the sqlite3 shell is not installed (bash scripts/setup.sh installs it)"
    return None


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


def run_peer(name, d):
    """Runs one peer on the stack folder d; its figures and failures (None if it failed)."""
    out = os.path.join(d, f"failures_{name}.csv")
    if os.path.exists(out):
        os.remove(out)
    env = None
    if name == "pandas":
        cmd = [sys.executable, os.path.join(PEERS_DIR, "reconcile_pandas.py"), d, out]
    elif name == "sql":
        shutil.copy(os.path.join(PEERS_DIR, "reconcile.sql"), os.path.join(d, "reconcile.sql"))
        cmd = ["sh", "-c", "sqlite3 :memory: < reconcile.sql"]  # writes failures_sql.csv
    else:
        cmd = ["node", os.path.join(PEERS_DIR, f"reconcile_{name}.mjs"), d, out]
        env = dict(os.environ)
        env.setdefault("POLARS_MAX_THREADS", "2")  # DuckDB's script sets 2 threads itself
    m = measure(cmd, d, env)
    if m["exit"] != 0 or not os.path.exists(out):
        return m, None
    with open(out) as f:
        return m, {(r["key"], r["rule"]) for r in csv.DictReader(f)}


def print_exactness(size, m):
    print(f"\nexactness at {size:,} refunds (seam)")
    print(f"  {'fault':<16} {'seeded':>8} {'found':>8} {'recall':>8}")
    for fault, (n, hit) in sorted(m["by_fault"].items()):
        print(f"  {fault:<16} {n:>8} {hit:>8} {100.0 * hit / n:>7.1f}%")
    print(f"  {'rule':<22} {'failures':>8} {'true':>8} {'precision':>9}")
    for rule, (n, hit) in sorted(m["by_rule"].items()):
        print(f"  {rule:<22} {n:>8} {hit:>8} {(100.0 * hit / n if n else 100.0):>8.1f}%")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="100000,1000000,5000000", help="storefront refunds per run, comma-separated")
    p.add_argument("--with-10m", action="store_true", help="add 10,000,000 refunds to --sizes")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--repeat", type=int, default=3, help="interleaved rounds per size; each tool's median is reported")
    p.add_argument("--peers", default=",".join(PEERS), help=f"peers to run, comma-separated (of {','.join(PEERS)})")
    p.add_argument("--no-peers", action="store_true", help="run seam alone")
    p.add_argument("--smoke", action="store_true", help="CI: one small size, seam only, exactness only")
    p.add_argument("--keyless", action="store_true",
                   help="also run seam on the keyless case (bank lines against ERP receipts) at each size")
    p.add_argument("--lua", action="store_true",
                   help="also run seam on the keyed case with a Lua mapping function and a Lua rule at each size")
    p.add_argument("--seam", default=os.path.join(ROOT, "build", "seam"))
    p.add_argument("--work", default=os.path.join(HERE, "work"), help="where generated data is kept")
    a = p.parse_args()
    sizes = [2000] if a.smoke else [int(s) for s in a.sizes.split(",") if s.strip()]
    if a.with_10m and not a.smoke and 10_000_000 not in sizes:
        sizes.append(10_000_000)
    peers = [] if (a.no_peers or a.smoke) else [s.strip() for s in a.peers.split(",") if s.strip()]
    unknown = [x for x in peers if x not in PEERS]
    if unknown:
        p.error(f"unknown peer {', '.join(unknown)} (peers: {', '.join(PEERS)})")
    peers = [x for x in PEERS if x in peers]  # always the same order
    notes = []
    for name in list(peers):
        why = missing_peer(name)
        if why:
            peers.remove(name)
            notes.append(f"{name} skipped: {why}")
            print(f"note: {notes[-1]}", flush=True)
    repeat = 1 if a.smoke else max(1, a.repeat)
    keyless = a.keyless or a.smoke
    lua = a.lua or a.smoke

    results = []  # (size, tool, median run, exact in every run, records, per-round walls)
    absent = []   # (size, tool, "skipped" or "failed"): in the table too, the reason in the notes
    loads = []    # (size, before, after)
    last_rss = {}  # tool -> (size, peak RSS MB) at the last size it ran
    all_exact = True
    for size in sizes:
        d = prepare(size, a.seed, a.work)
        truth = read_truth(d)
        truth_pairs = set(truth)
        records = count_lines(os.path.join(d, "data", "storefront_refunds.csv")) - 1 + \
            count_lines(os.path.join(d, "data", "erp_customer_refunds.ndjson"))
        tools = ["seam"]
        records_of = {"seam": records}
        if keyless:
            kd = prepare_keyless(size, a.seed, a.work)
            ktruth = read_truth_keyless(kd)
            records_of["keyless"] = count_lines(os.path.join(kd, "data", "bank_statement.csv")) - 1 + \
                count_lines(os.path.join(kd, "data", "erp_cash_receipts.ndjson"))
            tools.append("keyless")
        if lua:
            lua_dir = prepare_lua(d)
            records_of["lua"] = records
            tools.append("lua")
        available = mem_available_mb()
        for name in peers:
            if name in last_rss and available:
                at, rss = last_rss[name]
                need = rss * size / at
                if need > MEMORY_HEADROOM * available:
                    absent.append((size, name, "skipped"))
                    notes.append(f"{name} skipped at {size:,}: {rss:,.0f} MB at {at:,} scales to {need:,.0f} MB, "
                                 f"more than {MEMORY_HEADROOM:.0%} of the {available:,.0f} MB available")
                    print(f"note: {notes[-1]}", flush=True)
                    continue
            tools.append(name)
        runs = {t: [] for t in tools}
        failed = set()
        before = loadavg()
        if not a.smoke:
            print(f"\n{size:,} refunds, {records:,} records: {repeat} round(s) of {' '.join(tools)}; "
                  f"load average before {before}", flush=True)
        for r in range(repeat):
            line = []
            for t in tools:
                if t in failed:
                    continue
                if t == "keyless":
                    m, found = run_seam_keyless(a.seam, kd)
                    by_case, by_strategy, exact, wrong, missed = score_keyless(found, ktruth)
                    m.update(exact=exact, by_case=by_case, by_strategy=by_strategy, wrong=wrong, missed=missed,
                             other_groups=found["other_groups"], found_pairs=found["pairs"])
                    runs[t].append(m)
                    line.append(f"{t} {m['wall']:.2f}s")
                    continue
                if t == "lua":
                    m, found = run_seam(a.seam, lua_dir)
                else:
                    m, found = run_seam(a.seam, d) if t == "seam" else run_peer(t, d)
                if found is None:
                    failed.add(t)
                    absent.append((size, t, "failed"))
                    tail = m["stderr"].strip().splitlines()[-3:]
                    notes.append(f"{t} failed at {size:,} (exit {m['exit']}, peak RSS {m['rss_mb']:,.0f} MB): "
                                 + " | ".join(tail))
                    print(f"note: {notes[-1]}", flush=True)
                    continue
                by_fault, by_rule, exact = score(found, truth)
                m.update(exact=exact, false=len(found - truth_pairs), missed=len(truth_pairs - found))
                if t in ("seam", "lua"):
                    m.update(by_fault=by_fault, by_rule=by_rule)
                runs[t].append(m)
                line.append(f"{t} {m['wall']:.2f}s")
            if not a.smoke:
                print(f"  round {r + 1}: " + ", ".join(line), flush=True)
        after = loadavg()
        loads.append((size, before, after))
        if not a.smoke:
            print(f"  load average after {after}", flush=True)
        for t in tools:
            if t in failed or not runs[t]:
                continue
            med = sorted(runs[t], key=lambda m: m["wall"])[len(runs[t]) // 2]
            exact = all(m["exact"] for m in runs[t])
            results.append((size, t, med, exact, records_of.get(t, records), [m["wall"] for m in runs[t]]))
            last_rss[t] = (size, max(m["rss_mb"] for m in runs[t]))
            if t == "seam":
                all_exact &= exact
                print_exactness(size, med)
            elif t == "lua":
                all_exact &= exact
                print(f"\nthe Lua case (bench/stack_lua.lua) at {size:,} refunds: {'exact' if exact else 'NOT exact'}")
                if not exact:
                    bad = next(m for m in runs[t] if not m["exact"])
                    print(f"  {bad['false']} false, {bad['missed']} missed")
                    print_exactness(size, bad)
            elif t == "keyless":
                all_exact &= exact
                print_exactness_keyless(size, next((m for m in runs[t] if not m["exact"]), med), ktruth)
            elif not exact:
                bad = next(m for m in runs[t] if not m["exact"])
                notes.append(f"{t} NOT exact at {size:,}: {bad['false']} false, {bad['missed']} missed")
                print(f"note: {notes[-1]}", flush=True)

    if a.smoke:
        print("\nbench smoke: seam is exact" if all_exact else "\nbench smoke: seam is NOT exact")
        print(f"{1 if all_exact else 0} passed, {0 if all_exact else 1} failed")
        return 0 if all_exact else 1

    print(f"\nmedian of {repeat} interleaved round(s) per tool; {os.cpu_count()} cores; "
          f"x seam = peer's median wall / seam's (lowest-highest per-round ratio); cpu x = the same for CPU time")
    print(f"{'refunds':>10} {'tool':<7} {'wall s':>7} {'cpu s':>7} {'RSS MB':>7} {'records/s':>11} "
          f"{'verdicts/s':>11} {'DB MB':>7} {'exact':>6} {'x seam':>7}  {'rounds':<11} {'cpu x':>6}")
    seam = {size: (m, walls) for size, t, m, _, _, walls in results if t == "seam"}
    rows = [row for row in results if row[1] != "lua"] + [(size, name, None, False, 0, []) for size, name, _ in absent]
    order = {name: i for i, name in enumerate(["seam", "keyless"] + PEERS)}
    rows.sort(key=lambda row: (row[0], order[row[1]]))
    for size, name, m, exact, records, walls in rows:
        if m is None:
            state = next(why for at, t, why in absent if at == size and t == name)
            print(f"{size:>10,} {name:<7} {state + ' (see the notes)':>30}")
            continue
        verdicts = f"{m['verdicts'] / m['wall']:>11,.0f}" if "verdicts" in m else f"{'-':>11}"
        db = f"{m['db_mb']:>7.1f}" if "db_mb" in m else f"{'-':>7}"
        ratio, spread, cpu_ratio = f"{'':>7}", "", ""
        if name != "seam" and size in seam:
            seam_m, seam_walls = seam[size]
            ratio = f"{m['wall'] / seam_m['wall']:>6.1f}x"
            cpu_ratio = f"{m['cpu'] / seam_m['cpu']:>5.1f}x"
            per_round = [w / s for w, s in zip(walls, seam_walls)]
            if len(per_round) > 1:
                spread = f"{min(per_round):.1f}-{max(per_round):.1f}x"
        print(f"{size:>10,} {name:<7} {m['wall']:>7.2f} {m['cpu']:>7.2f} {m['rss_mb']:>7.0f} "
              f"{records / m['wall']:>11,.0f} {verdicts} {db} {'yes' if exact else 'NO':>6} {ratio}  {spread:<11} {cpu_ratio}")
    keyless_rows = [(size, m, walls) for size, t, m, _, _, walls in results if t == "keyless"]
    if keyless_rows:
        print("\nkeyless case (N bank lines against ~0.99 N ERP receipts, no shared key, 3 strategies, 3 rules) "
              "beside the keyed run (N refunds, 1 key, 6 rules), seam's median runs:")
        print(f"{'N':>10} {'keyed wall':>10} {'cpu':>6} {'RSS MB':>7} {'keyless wall':>12} {'cpu':>6} {'RSS MB':>7} "
              f"{'wall x':>7} {'cpu x':>6} {'RSS x':>6}  rounds")
        for size, m, walls in keyless_rows:
            k, kwalls = seam[size]
            per_round = [w / s for w, s in zip(walls, kwalls)]
            print(f"{size:>10,} {k['wall']:>10.2f} {k['cpu']:>6.2f} {k['rss_mb']:>7.0f} {m['wall']:>12.2f} "
                  f"{m['cpu']:>6.2f} {m['rss_mb']:>7.0f} {m['wall'] / k['wall']:>6.2f}x {m['cpu'] / k['cpu']:>5.2f}x "
                  f"{m['rss_mb'] / k['rss_mb']:>5.2f}x  {min(per_round):.2f}-{max(per_round):.2f}x")
    lua_rows = [(size, m, walls) for size, t, m, _, _, walls in results if t == "lua"]
    if lua_rows:
        print("\nLua case (bench/stack_lua.lua: one Lua mapping function, one Lua rule) beside the native run, "
              "seam's median runs:")
        print(f"{'N':>10} {'native wall':>11} {'cpu':>6} {'RSS MB':>7} {'Lua wall':>9} {'cpu':>6} {'RSS MB':>7} "
              f"{'wall x':>7} {'cpu x':>6} {'RSS x':>6}  rounds")
        for size, m, walls in lua_rows:
            k, kwalls = seam[size]
            per_round = [w / s for w, s in zip(walls, kwalls)]
            print(f"{size:>10,} {k['wall']:>11.2f} {k['cpu']:>6.2f} {k['rss_mb']:>7.0f} {m['wall']:>9.2f} "
                  f"{m['cpu']:>6.2f} {m['rss_mb']:>7.0f} {m['wall'] / k['wall']:>6.2f}x {m['cpu'] / k['cpu']:>5.2f}x "
                  f"{m['rss_mb'] / k['rss_mb']:>5.2f}x  {min(per_round):.2f}-{max(per_round):.2f}x")
    print("\nload average (1, 5, 15 min) before and after each size:")
    for size, before, after in loads:
        print(f"  {size:>10,}: {before}  ->  {after}")
    sizes_run = sorted(seam)
    for size in sizes_run[1:]:
        growth = (seam[size][0]["wall"] / size) / (seam[sizes_run[0]][0]["wall"] / sizes_run[0])
        print(f"seam per-record cost at {size:,} vs {sizes_run[0]:,}: {growth:.2f}x")
    if notes:
        print("\nnotes:")
        for n in notes:
            print(f"  {n}")
    return 0 if all_exact else 1


if __name__ == "__main__":
    sys.exit(main())
