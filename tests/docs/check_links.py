#!/usr/bin/env python3
"""The reference is split over README.md and docs/*.md, so a link can point at a file or a
heading that moved. Every relative link in them must lead to a file that exists and, with a
`#anchor`, to a heading of that file (anchors as GitHub makes them: lower case, punctuation
dropped, spaces as hyphens). Every `docs/NAME.md` that the sources name (an error message, a
comment, the manual) must exist too.

    check_links.py ROOT          check the tree at ROOT
    check_links.py --self-test   the checker fails on a broken file, anchor or named doc
"""
import glob
import os
import re
import shutil
import sys
import tempfile

LINK = re.compile(r"\]\(([^)\s]+)\)")
NAMED_DOC = re.compile(r"\bdocs/[a-z][a-z0-9-]*\.md\b")


def slug(heading):
    heading = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return heading.replace(" ", "-")


def prose(path):
    """(line number, line) outside fenced blocks: a fence holds code, not links."""
    fenced = False
    for n, line in enumerate(open(path, encoding="utf-8").read().split("\n"), 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced:
            yield n, line


def anchors(path):
    return {slug(l.lstrip("#")) for _, l in prose(path) if re.match(r"#{1,6} ", l)}


def check(root):
    problems = []
    docs = [os.path.join(root, "README.md")] + sorted(glob.glob(os.path.join(root, "docs", "*.md")))
    for doc in docs:
        where = os.path.relpath(doc, root)
        for n, line in prose(doc):
            for target in LINK.findall(line):
                if re.match(r"[a-z]+:", target):
                    continue  # https:, mailto:
                path, _, anchor = target.partition("#")
                to = os.path.normpath(os.path.join(os.path.dirname(doc), path)) if path else doc
                if not os.path.exists(to):
                    problems.append(f"{where}:{n}: link {target}: no file {os.path.relpath(to, root)}")
                elif anchor and to.endswith(".md") and anchor not in anchors(to):
                    problems.append(f"{where}:{n}: link {target}: no heading #{anchor} in "
                                    f"{os.path.relpath(to, root)}")
    for folder in ("cli", "engine", "bindings", "connectors", "rules", "scripts"):
        for source in sorted(glob.glob(os.path.join(root, folder, "**", "*"), recursive=True)):
            if not os.path.isfile(source):
                continue
            text = open(source, encoding="utf-8", errors="replace").read()
            for n, line in enumerate(text.split("\n"), 1):
                for named in NAMED_DOC.findall(line):
                    if not os.path.exists(os.path.join(root, named)):
                        problems.append(f"{os.path.relpath(source, root)}:{n}: names {named}, which does not exist")
    return problems


def self_test():
    root = tempfile.mkdtemp(prefix="seam-links-self-")
    try:
        os.makedirs(os.path.join(root, "docs"))
        os.makedirs(os.path.join(root, "cli"))
        def tree(readme, doc="# A doc\n\n## Root causes: `caused_by`\n", source="// see docs/a.md\n"):
            for name, text in (("README.md", readme), ("docs/a.md", doc), ("cli/x.cpp", source)):
                with open(os.path.join(root, name), "w", encoding="utf-8") as f:
                    f.write(text)
            return check(root)
        good = "[a](docs/a.md#root-causes-caused_by), [web](https://example.com)\n```\n[not](a/link.md)\n```\n"
        assert tree(good) == [], tree(good)
        assert tree(good.replace("docs/a.md#", "docs/b.md#")) == [
            "README.md:1: link docs/b.md#root-causes-caused_by: no file docs/b.md"]
        assert tree(good.replace("#root-causes", "#root-cause")) == [
            "README.md:1: link docs/a.md#root-cause-caused_by: no heading #root-cause-caused_by in docs/a.md"]
        assert tree(good, source="// see docs/gone.md\n") == ["cli/x.cpp:1: names docs/gone.md, which does not exist"]
        assert tree(good, doc="# A doc\n\n[back](../README.md#nowhere)\n") == [
            "README.md:1: link docs/a.md#root-causes-caused_by: no heading #root-causes-caused_by in docs/a.md",
            "docs/a.md:3: link ../README.md#nowhere: no heading #nowhere in README.md"]
        print("the link checker catches broken links")
        return 0
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main():
    if sys.argv[1] == "--self-test":
        return self_test()
    problems = check(os.path.abspath(sys.argv[1]))
    for p in problems:
        print(p)
    print(f"{len(problems)} broken links")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
