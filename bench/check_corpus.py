#!/usr/bin/env python3
"""Sanity-check a corpus made by gen_corpus.py.

    check_corpus.py OUTDIR

For the annals copy: every file's front matter parses as YAML with only allowed keys
and the required ones, ids are unique and match the file name, `doc:` links point at
existing ids. For the Hugo copy: the same ids exist, bodies are the annals bodies with
`doc:` links rewritten. Prints a one-line summary; exits 1 on any problem.
Needs PyYAML (`pip install pyyaml`; run.sh's venv has it).
"""

import re
import sys
from collections import Counter
from pathlib import Path

import yaml

ALLOWED = {"id", "title", "date", "type", "reference", "from", "to", "language",
           "summary", "topics", "organisations", "events"}
REQUIRED = {"id", "title", "date"}
ID_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
LINK_RE = re.compile(r"\]\(doc:([^)#\s]+)\)")
DATE_RE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def split(text, path):
    if not text.startswith("---\n"):
        raise ValueError(f"{path}: no front matter")
    end = text.index("\n---\n", 4)
    return text[4:end], text[end + 5:]


def main():
    out = Path(sys.argv[1])
    problems = []
    ids = set()
    links = []
    counts = Counter()
    topics, orgs = Counter(), Counter()
    bodies = 0
    for path in sorted((out / "annals" / "content" / "documents").rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        fm_text, body = split(text, path)
        fm = yaml.safe_load(fm_text)
        bad = set(fm) - ALLOWED
        if bad:
            problems.append(f"{path}: unknown keys {sorted(bad)}")
        if REQUIRED - set(fm):
            problems.append(f"{path}: missing {sorted(REQUIRED - set(fm))}")
        i = fm["id"]
        if not ID_RE.match(i) or path.stem != i:
            problems.append(f"{path}: bad id {i!r}")
        if i in ids:
            problems.append(f"{path}: duplicate id {i}")
        ids.add(i)
        if not DATE_RE.match(str(fm["date"])):
            problems.append(f"{path}: bad date {fm['date']!r}")
        if path.parent.name != str(fm["date"])[:4]:
            problems.append(f"{path}: not in its year folder")
        for e in fm.get("events", []) or []:
            if set(e) - {"date", "title", "description"} or not DATE_RE.match(str(e["date"])):
                problems.append(f"{path}: bad event {e}")
        counts[fm["type"]] += 1
        topics.update(fm["topics"])
        orgs.update(fm["organisations"])
        links += [(i, t) for t in LINK_RE.findall(body)]
        bodies += len(body.encode())
        hugo = out / "hugo" / "content" / "documents" / f"{i}.md"
        if not hugo.exists():
            problems.append(f"{hugo}: missing")
        else:
            _, hbody = split(hugo.read_text(encoding="utf-8"), hugo)
            if LINK_RE.sub(lambda m: f"](/documents/{m.group(1)}/)", body) != hbody:
                problems.append(f"{hugo}: body differs from the annals copy")
    for src, dst in links:
        if dst not in ids:
            problems.append(f"{src}: link to missing id {dst}")
        if dst == src:
            problems.append(f"{src}: links to itself")
    n = len(ids)
    hugo_n = len(list((out / "hugo" / "content" / "documents").glob("doc-*.md")))
    if hugo_n != n:
        problems.append(f"hugo has {hugo_n} documents, annals {n}")
    for p in problems[:20]:
        print(p)
    print(f"check_corpus: {n} documents, {len(links)} cross-links, "
          f"{len(topics)} topics, {len(orgs)} organisations, types {dict(counts)}, "
          f"mean body {bodies / max(n, 1):.0f} B; {len(problems)} problems")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
