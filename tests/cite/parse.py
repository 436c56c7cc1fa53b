"""Parses annals' BibTeX and RIS exports with real parsers and prints what they read
as JSON, for tests/citations.rs to check. Takes pairs of arguments:

    .venv/bin/python parse.py KIND FILE [KIND FILE]...

and prints a JSON array with, for each pair, what was read from FILE:

    bib -> [{"type", "key", "fields": {...}, "raw": {...}}] (bibtexparser)
    ris -> [{tag name: value, ...}] (rispy)

BibTeX is read with bibtexparser 2: "fields" are LaTeX-decoded to Unicode (what a
reference manager shows), "raw" are as written without the enclosing braces. Any
block the parser could not read is an error (exit 1), never silently dropped.
"""

import json
import sys

import bibtexparser
import bibtexparser.middlewares as m
import rispy


def parse_bib(text):
    raw = bibtexparser.parse_string(text)
    decoded = bibtexparser.parse_string(
        text, append_middleware=[m.LatexDecodingMiddleware()]
    )
    if raw.failed_blocks or decoded.failed_blocks:
        sys.exit(f"bibtexparser could not read {len(raw.failed_blocks)} block(s): "
                 + repr([b.raw for b in raw.failed_blocks]))
    out = []
    for r, d in zip(raw.entries, decoded.entries):
        out.append({
            "type": d.entry_type,
            "key": d.key,
            "fields": {f.key: f.value for f in d.fields},
            "raw": {f.key: f.value for f in r.fields},
        })
    return out


def parse_ris(text):
    return rispy.loads(text, skip_unknown_tags=False, enforce_list_tags=True)


def main():
    args = sys.argv[1:]
    if not args or len(args) % 2:
        sys.exit("usage: parse.py KIND FILE [KIND FILE]...")
    results = []
    for kind, path in zip(args[::2], args[1::2]):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if kind == "bib":
            results.append(parse_bib(text))
        elif kind == "ris":
            results.append(parse_ris(text))
        else:
            sys.exit(f"unknown kind {kind}: bib or ris")
    json.dump(results, sys.stdout, ensure_ascii=False, indent=1, default=str)


main()
