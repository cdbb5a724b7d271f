#!/usr/bin/env python3
"""The docs show what the commands print: every command block in README.md and docs/*.md is
run on a scratch copy of the examples and its shown output compared with what seam prints.

A fenced block is checked when it holds `$ COMMAND` lines (each followed by the output it
shows) or when a marker comment just above it names the command whose output it shows:

    <!-- doc-test: run "seam run examples/refunds" -->        the block is that command's output
    <!-- doc-test: after "seam run examples/refunds" -->      commands to run first, output unchecked
    <!-- doc-test: in "examples" -->                          the folder the commands run in
    <!-- doc-test: skip "why" -->                             not checked, and why (it must say)
    <!-- doc-test: exact -->                                  the block is the whole output, not an excerpt

Markers combine in one comment, separated by ';'. A `$` block is checked with or without a
marker; one that cannot run here says why with `skip`, so docs cannot drift unnoticed.

Shown output is matched line by line, in order, as a subsequence of the real output (docs
abridge): a shown line matches a real one when they are equal after both are normalised
(times, digests and timings replaced by placeholders, trailing spaces dropped); `...` inside
a shown line stands for any text, and a line that is only `...` for any lines.
"""
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

FENCE = re.compile(r"^(\s*)```")
MARKER = re.compile(r"<!--\s*doc-test:(.*?)-->")


def normalise(line):
    line = line.rstrip()
    line = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "<TIME>", line)
    line = re.sub(r"\b[0-9a-f]{16,64}\b", "<HEX>", line)
    line = re.sub(r"\b\d+:<HEX>", "<HEAD>", line)
    line = re.sub(r"\d+(\.\d+)? (ms|s)\b", r"<N> \2", line)
    line = re.sub(r"\d+(\.\d+)? µs/call", "<N> µs/call", line)
    line = re.sub(r"\d+ rows/s", "<N> rows/s", line)
    return line


def matches(shown, real):
    if "..." not in shown:
        return shown == real
    parts = shown.split("...")
    if not real.startswith(parts[0]) or not real.endswith(parts[-1]):
        return False
    at = len(parts[0])
    for part in parts[1:-1]:
        found = real.find(part, at)
        if found < 0:
            return False
        at = found + len(part)
    return at <= len(real) - len(parts[-1])


def first_missing(shown_lines, real_lines):
    """The first shown line with no match after the previous one's, or None."""
    real = [normalise(l) for l in real_lines]
    at = 0
    for shown in shown_lines:
        s = normalise(shown)
        if s.strip() == "...":
            continue
        while at < len(real) and not matches(s, real[at]):
            at += 1
        if at == len(real):
            return shown
        at += 1
    return None


def parse_marker(text):
    opts = {}
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        word, _, rest = part.partition(" ")
        value = rest.strip()
        if value.startswith('"') and value.endswith('"'):
            value = value[1:-1]
        opts.setdefault(word, []).append(value)
    return opts


def blocks(path):
    """(line number, marker options, block lines with the fence's indent removed)"""
    lines = open(path, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent = len(m.group(1))
        start = i
        i += 1
        body = []
        while i < len(lines) and not FENCE.match(lines[i]):
            body.append(lines[i][indent:] if lines[i][:indent].strip() == "" else lines[i])
            i += 1
        i += 1
        opts = {}
        j = start - 1
        while j >= 0 and lines[j].strip() == "":
            j -= 1
        if j >= 0:
            mm = MARKER.search(lines[j])
            if mm:
                opts = parse_marker(mm.group(1))
        yield start + 1, opts, body


def run(command, cwd, seam):
    if " && " in command:  # a shell chain: each in turn while they succeed, outputs together
        out = []
        for part in command.split(" && "):
            lines, code = run_one(part.strip(), cwd, seam)
            out += lines
            if code != 0:
                break
        return out
    return run_one(command, cwd, seam)[0]


def run_one(command, cwd, seam):
    argv = shlex.split(command)
    if argv and argv[0] in ("seam", "./build/seam"):
        argv[0] = seam
    env = dict(os.environ, NO_COLOR="1", COLUMNS="400")
    env.pop("SEAM_NOW", None)
    p = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    return p.stdout.decode("utf-8", "replace").split("\n"), p.returncode


def self_test(seam, examples):
    """The checker fails on a drifted line and on an unmarked command, and passes the rest."""
    root = tempfile.mkdtemp(prefix="seam-docs-self-")
    try:
        os.symlink(examples, os.path.join(root, "examples"))
        os.mkdir(os.path.join(root, "docs"))
        fence = "`" * 3
        def doc(text):
            with open(os.path.join(root, "README.md"), "w", encoding="utf-8") as f:
                f.write(text)
            return subprocess.run([sys.executable, __file__, root, seam], stdout=subprocess.PIPE).returncode
        good = (f"<!-- doc-test: after \"seam run examples/refunds\" -->\n{fence}\n"
                f"$ seam trace R1013 --stack examples/refunds\nexceptions about R1013\n...\n"
                f"  FAIL    exists in right  [exists_in ... examples/refunds/stack.lua:53, high]\n{fence}\n")
        assert doc(good) == 0, "a true block fails"
        assert doc(good.replace("stack.lua:53", "stack.lua:52")) == 1, "a drifted line passes"
        assert doc(good.replace("exceptions about R1013\n", "exceptions about R1013\n  #1 open  x\n")) == 1
        assert doc(f"{fence}\n$ seam --version\n{fence}\n") == 0  # checked with no marker
        version = subprocess.run([seam, "--version"], stdout=subprocess.PIPE).stdout.decode().strip()
        exact = f"<!-- doc-test: run \"seam --version\"; exact -->\n{fence}\n{version}\n{fence}\n"
        assert doc(exact) == 0, "an exact block fails"
        assert doc(exact.replace(version, version + "\nmore")) == 1, "an exact block with an extra line passes"
        assert doc(f"<!-- doc-test: skip \"\" -->\n{fence}\n$ seam --version\n{fence}\n") == 1, "a skip needs a reason"
        print("the checker catches drift")
        return 0
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main():
    if sys.argv[1] == "--self-test":
        return self_test(os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3]))
    root, seam = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    docs = [os.path.join(root, "README.md")] + sorted(
        os.path.join(root, "docs", f) for f in os.listdir(os.path.join(root, "docs")) if f.endswith(".md"))
    failures, checked = [], 0
    for doc in docs:
        name = os.path.relpath(doc, root)
        for line_no, opts, body in blocks(doc):
            where = f"{name}:{line_no}"
            has_dollar = any(l.startswith("$ ") for l in body)
            if "skip" in opts:
                if not opts["skip"][0]:
                    failures.append(f"{where}: doc-test: skip must say why")
                continue
            if not has_dollar and "run" not in opts:
                continue  # not a command's output (a stack excerpt, a schema)
            # Each block on a fresh copy of the examples, so blocks do not depend on each other.
            scratch = tempfile.mkdtemp(prefix="seam-docs-")
            try:
                shutil.copytree(os.path.join(root, "examples"), os.path.join(scratch, "examples"),
                                ignore=shutil.ignore_patterns("seam.db*"))
                cwd = os.path.join(scratch, opts.get("in", [""])[0])
                for setup in opts.get("after", []):
                    for command in setup.split("&&"):
                        run(command.strip(), cwd, seam)
                steps = []  # (command, shown lines)
                if "run" in opts:
                    steps.append((opts["run"][0], [l for l in body if not l.startswith("$ ")]))
                else:
                    for l in body:
                        if l.startswith("$ "):
                            steps.append((re.sub(r"\s+#.*$", "", l[2:]).strip(), []))
                        elif steps:
                            steps[-1][1].append(l)
                for command, shown in steps:
                    checked += 1
                    real = run(command, cwd, seam)
                    if "exact" in opts:
                        trim = lambda ls: [normalise(l) for l in "\n".join(ls).strip("\n").split("\n")]
                        if trim(shown) != trim(real):
                            diff = next(((a, b) for a, b in zip(trim(shown), trim(real)) if a != b),
                                        ("(lengths differ)", f"{len(trim(shown))} shown, {len(trim(real))} printed"))
                            failures.append(f"{where}: `{command}` prints other than the whole block shown "
                                            f"(exact):\n    shown:   {diff[0]}\n    printed: {diff[1]}")
                        continue
                    missing = first_missing(shown, real)
                    if missing is not None:
                        failures.append(f"{where}: `{command}` does not print the line shown:\n    {missing}\n"
                                        f"  it printed:\n" + "\n".join("    " + l for l in real))
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
    for f in failures:
        print(f)
    print(f"{checked} documented commands checked, {len(failures)} failing")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
