#!/usr/bin/env python3
"""Generate a synthetic document archive for benchmarking annals against Hugo.

    gen_corpus.py N OUTDIR [--seed S] [--jobs J]

writes the same N documents twice:

  OUTDIR/annals/   an annals site root: site.toml + content/documents/<year>/<id>.md
  OUTDIR/hugo/     an equivalent Hugo site: hugo.toml, content/documents/<id>.md, layouts/

and OUTDIR/.generator, a stamp naming the generator's hash, N and the seed (written
last, so its presence means the corpus is complete).

Deterministic: every document is a pure function of (seed, index) -- each one draws
from its own PRNG streams seeded with "<seed>:<index>:<stream>" -- and nothing reads
the clock. Documents are written one at a time, so memory does not grow with N;
cross-links and quoted references to other documents are computed from the other
document's index, not looked up in a table.
"""

from __future__ import annotations

import argparse
import bisect
import hashlib
import json
import os
import random
import re
import shutil
import sys
from itertools import accumulate
from operator import itemgetter
from pathlib import Path

# Bump when the output format changes in a way the stamp's file hash would not show.
GENERATOR_FORMAT = 1

YEARS = list(range(2000, 2025))
TYPES = ["note", "briefing", "letter", "minutes", "report"]
TYPE_WEIGHTS = [35, 20, 20, 10, 15]
MONTHS = [
    "January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December",
]

# --------------------------------------------------------------------------- vocabulary

FUNCTION_WORDS = """the of and to in a for on that is be by with as this are from at or
which it not will should its has have been an was their these also such other any all
may would can into more between within under where were those them they there than""".split()

POLICY_WORDS = """member states commission council parliament regulation directive proposal
framework security cooperation information exchange data protection law enforcement
authorities agency agencies border management migration asylum return external
internal operational strategic analysis assessment report implementation measures
access interoperability systems database databases biometric identity verification
surveillance interception encryption cybercrime terrorism counter-terrorism
radicalisation prevention threat threats risk risks capacity capabilities funding
budget programme projects research innovation technology technologies artificial
intelligence algorithms procurement contract contracts pilot deployment evaluation
monitoring oversight accountability transparency fundamental rights privacy
safeguards proportionality necessity legal basis article paragraph annex provisions
delegations presidency working party committee meeting discussion conclusions
recommendations guidelines standards requirements obligations competent national
judicial police customs prosecution investigation investigations criminal networks
organised crime trafficking smuggling firearms drugs money laundering financing
sanctions travel passenger records visa schengen entry exit registration
fingerprints facial recognition images network platforms providers online content
removal referral hotspot frontex europol eurojust interpol partners countries
third agreements negotiations mandate position compromise text amendments
consultation stakeholders industry experts workshop pilot results findings
statistics figures trends increase decrease quarter annual period timeline deadline
priorities objectives actions roadmap mechanism instrument exchange channels secure
communication training staff resources support coordination""".split()

ONSETS = ["b", "br", "c", "ch", "cl", "d", "dr", "f", "fl", "g", "gr", "h", "j", "k",
          "l", "m", "n", "p", "pl", "pr", "r", "s", "sc", "st", "t", "tr", "v", "w", "z"]
VOWELS = ["a", "e", "i", "o", "u", "a", "e", "i", "o", "ai", "ea", "io", "ou"]
CODAS = ["", "", "", "n", "r", "s", "l", "t", "m", "nd", "st", "rt", "ns"]
SUFFIXES = ["", "", "", "", "ation", "ity", "ment", "al", "ive", "ance", "ory", "ism", "ure"]


def build_vocabulary(n_synthetic: int = 3600):
    """Return (words, cumulative Zipf weights); independent of --seed."""
    rng = random.Random("annals-bench-vocabulary")
    taken = set(FUNCTION_WORDS) | set(POLICY_WORDS)
    synthetic = []
    while len(synthetic) < n_synthetic:
        w = "".join(rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS)
                    for _ in range(rng.choice([1, 2, 2, 2, 3, 3])))
        w += rng.choice(SUFFIXES)
        if 3 <= len(w) <= 14 and w not in taken:
            taken.add(w)
            synthetic.append(w)
    # Function words take the top ranks, as in real text; policy words are spread
    # over ranks ~50-1000, the synthetic words fill the rest.
    policy = list(dict.fromkeys(POLICY_WORDS))
    rng.shuffle(policy)
    rest = synthetic[:]
    for k, w in enumerate(policy):
        pos = min(len(rest), int(k * 4.5 + rng.random() * 4))
        rest.insert(pos, w)
    words = FUNCTION_WORDS + rest
    weights = [1.0 / (r + 2.7) ** 1.05 for r in range(len(words))]
    return words, list(accumulate(weights)), policy


WORDS, CUM, POLICY = build_vocabulary()
FUNCTION_SET = frozenset(FUNCTION_WORDS)

TOPIC_DOMAINS = """data protection|migration|asylum|border management|counter-terrorism|
radicalisation|cybercrime|encryption|artificial intelligence|biometrics|facial recognition|
interoperability|passenger name records|visa policy|Schengen evaluation|return policy|
firearms|drug trafficking|human trafficking|migrant smuggling|money laundering|
terrorist financing|organised crime|law enforcement cooperation|judicial cooperation|
police databases|Schengen Information System|Eurodac|Entry/Exit System|ETIAS|
security research|drones|critical infrastructure|hybrid threats|online content|
terrorist content online|surveillance|lawful interception|data retention|
e-evidence|fundamental rights|external relations|readmission agreements|
information exchange|public order|crisis management|civil protection|
explosives|chemical threats|space and security|maritime surveillance""".replace("\n", "")
TOPIC_ASPECTS = ["funding", "legislation", "implementation", "research projects",
                 "statistics", "oversight", "pilot projects", "international cooperation"]

ORGANISATIONS = """Europol|Eurojust|Frontex|eu-LISA|ENISA|CEPOL|EUAA|FRA|EDPS|EDPB|EMCDDA|OLAF|
EPPO|EEAS|SatCen|European Defence Agency|EU INTCEN|European Commission|
Council of the European Union|European Parliament|Court of Justice of the European Union|
European Court of Auditors|European Ombudsman|DG Migration and Home Affairs|
DG Justice and Consumers|DG Communications Networks, Content and Technology|
DG Research and Innovation|Joint Research Centre|REA|EU Counter-Terrorism Coordinator|
LIBE Committee|COSI|Interpol|UNODC|UNHCR|IOM|OSCE|NATO|Council of Europe|FATF|
Five Eyes|Europol Innovation Lab|European Cybercrime Centre|
European Counter Terrorism Centre|European Migrant Smuggling Centre|ATLAS network|
Radicalisation Awareness Network|Internet Referral Unit|Clearview AI|Palantir|
Thales|Idemia|Atos|Indra|Leonardo|Airbus|Microsoft|Google|Meta|Telegram""".replace("\n", "").split("|")
COUNTRIES = ["Austria", "Belgium", "Bulgaria", "Croatia", "Cyprus", "Czechia", "Denmark",
             "Estonia", "Finland", "France", "Germany", "Greece", "Hungary", "Ireland",
             "Italy", "Latvia", "Lithuania", "Luxembourg", "Malta", "Netherlands",
             "Poland", "Portugal", "Romania", "Slovakia", "Slovenia", "Spain", "Sweden"]

BODIES = """EU Counter-Terrorism Coordinator|Presidency|General Secretariat of the Council|
Delegations|Commission services|DG Migration and Home Affairs|Europol|Eurojust|Frontex|
eu-LISA|Standing Committee on Operational Cooperation on Internal Security|
Permanent Representatives Committee|Working Party on JHA Information Exchange|
Law Enforcement Working Party|Terrorism Working Party|Working Party on Frontiers|
Strategic Committee on Immigration, Frontiers and Asylum|Justice and Home Affairs Council|
European Parliament LIBE Committee|European Data Protection Supervisor|
Fundamental Rights Agency|High Representative|Member States|Cabinet of the Commissioner|
Secretary-General of the Commission|Internal Audit Service|Legal Service|
Research Executive Agency|Joint Research Centre|ENISA""".replace("\n", "").split("|")

HEADINGS = ["Introduction", "Background", "State of play", "Legal framework",
            "Operational aspects", "Discussion", "Findings", "Financial implications",
            "Data protection aspects", "Cooperation with third countries",
            "Next steps", "Conclusions", "Recommendations", "Way forward"]
LINK_TEXTS = ["see the note", "see the note", "see the note", "the earlier briefing",
              "the Presidency's letter", "the previous report", "the minutes"]
LINK_LEADS = ["This builds on earlier work", "The issue was raised before",
              "Delegations were informed accordingly", "The figures were presented earlier",
              "A similar approach was proposed", "The Commission replied in writing"]
REDACTIONS = ["[redacted]", "[redacted]", "[redacted]", "[redacted: Article 4(1)(b)]",
              "[redacted: Article 4(1)(a)]", "[redacted: Article 4(2), first indent]",
              "[redacted: Article 4(3)]"]
EVENT_KINDS = ["Meeting of the {body}", "Workshop on {topic}", "Adoption of the {topic} package",
               "Visit of the {body} to {country}", "Expert meeting on {topic}",
               "Presentation to {body}", "Launch of the {topic} pilot",
               "Informal ministerial meeting in {country}"]


def build_pools():
    rng = random.Random("annals-bench-pools")
    domains = [d.strip() for d in TOPIC_DOMAINS.split("|")]
    combos = [f"{d} {a}" for d in domains for a in TOPIC_ASPECTS]
    rng.shuffle(combos)
    topics = domains + combos[: 150 - len(domains)]
    orgs = list(dict.fromkeys(o.strip() for o in ORGANISATIONS))
    orgs += [f"Ministry of the Interior ({c})" for c in COUNTRIES][: 80 - len(orgs)]
    return topics, orgs


TOPICS, ORGS = build_pools()


def zipf_cum(n, s=0.9):
    return list(accumulate(1.0 / (r + 1) ** s for r in range(n)))


TOPIC_CUM = zipf_cum(len(TOPICS))
ORG_CUM = zipf_cum(len(ORGS), 0.8)
BODY_CUM = zipf_cum(len(BODIES), 0.7)
YEAR_CUM = list(accumulate(1 + (y - 2000) / 12 for y in YEARS))

# --------------------------------------------------------------------------- per document


def doc_id(i: int) -> str:
    return f"doc-{i:06d}"


def sample_distinct(rng, pool, cum, k):
    out = []
    while len(out) < k:
        x = rng.choices(pool, cum_weights=cum)[0]
        if x not in out:
            out.append(x)
    return out


def date_of(seed, i):
    """(year, month|None, day|None) of document i."""
    rng = random.Random(f"{seed}:{i}:date")
    year = rng.choices(YEARS, cum_weights=YEAR_CUM)[0]
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    p = rng.random()
    if p < 0.85:
        return year, month, day
    if p < 0.96:
        return year, month, None
    return year, None, None


def references_of(seed, i):
    """The document's official references; unique to the document (they embed i)."""
    rng = random.Random(f"{seed}:{i}:ref")
    year = date_of(seed, i)[0]
    yy = year % 100
    kind = rng.random()
    if kind < 0.55:
        num = 1000 + (i * 7919) % 98999  # injective for i < 98999
        suffix = rng.choice(["", "", " EXT 1", " REV 1", " ADD 1", " COR 1", " EXT 2"])
        refs = [f"{num}/{yy:02d}{suffix}"]
    elif kind < 0.9:
        refs = [f"Ares({year}){1000000 + (i * 104729) % 8999999}"]
    else:
        refs = [f"{rng.choice(['COM', 'SWD'])}({year}) {i + 1} final"]
    if rng.random() < 0.1:
        refs.append(f"LIMITE {10000 + i}/{yy:02d}")
    return refs


def iso(d):
    y, m, dd = d
    return f"{y}" if m is None else f"{y}-{m:02d}" if dd is None else f"{y}-{m:02d}-{dd:02d}"


def display(d):
    y, m, dd = d
    return f"{y}" if m is None else f"{MONTHS[m - 1]} {y}" if dd is None else f"{dd} {MONTHS[m - 1]} {y}"


def build_table(bits=16):
    """A lookup table in which each word fills a share of the 2**bits slots equal to
    its Zipf probability (at least one slot): sampling is one table index per word."""
    size = 1 << bits
    total = CUM[-1]
    table = []
    prev = 0.0
    for w, c in zip(WORDS, CUM):
        table += [w] * max(1, round((c - prev) / total * size))
        prev = c
    return (table + [WORDS[0]] * size)[:size]


TABLE = build_table()  # 65,536 slots: indexed by 16 random bits


def words(rng, k):
    """k (>= 2) words drawn from the Zipf distribution of the vocabulary."""
    return list(itemgetter(*memoryview(rng.randbytes(2 * k)).cast("H"))(TABLE))


def sentence(rng, lo=8, hi=22):
    w = words(rng, rng.randint(lo, hi))
    if len(w) > 9 and rng.random() < 0.4:
        w[rng.randint(3, len(w) - 4)] += ","
    w[0] = w[0][:1].upper() + w[0][1:]
    return " ".join(w) + "."


def phrase(rng, k):
    """A few content words (no function words), for titles and list items."""
    out = []
    while len(out) < k:
        out += [w for w in words(rng, 2 * k) if w not in FUNCTION_SET]
    return " ".join(out[:k])


def q(s: str) -> str:
    """A YAML (and JSON) double-quoted scalar."""
    return json.dumps(s, ensure_ascii=False)


def qlist(xs) -> str:
    return "[" + ", ".join(q(x) for x in xs) + "]"


def make_document(seed: int, i: int, n: int):
    """Returns (year, annals_text, hugo_text) for document i of n."""
    rng = random.Random(f"{seed}:{i}:meta")
    d = date_of(seed, i)
    year = d[0]
    refs = references_of(seed, i)
    dtype = rng.choices(TYPES, weights=TYPE_WEIGHTS)[0]
    topics = sample_distinct(rng, TOPICS, TOPIC_CUM, rng.choice([2, 2, 3, 3, 4]))
    orgs = sample_distinct(rng, ORGS, ORG_CUM, rng.choice([1, 1, 2]))
    senders = sample_distinct(rng, BODIES, BODY_CUM, 1 if rng.random() < 0.85 else 2)
    recipients = sample_distinct(rng, [b for b in BODIES if b not in senders],
                                 None, rng.choice([1, 1, 2]))
    t = topics[0]
    title = rng.choice([
        f"Note on {t}: {phrase(rng, 3)}",
        f"{t[:1].upper() + t[1:]} — {phrase(rng, 4)}",
        f"Letter from the {senders[0]} on {t}",
        f"Report on {t} and {topics[1]}",
        f"Briefing: {phrase(rng, 2)} in {t}",
        f"Minutes of the {senders[0]} meeting of {display(d)}",
    ])
    summary = sentence(rng, 18, 34)
    events = []
    for _ in range(rng.choices([0, 1, 2, 3], weights=[35, 35, 20, 10])[0]):
        ey = rng.choice([year - 1, year, year])
        p = rng.random()
        ed = (ey, rng.randint(1, 12), rng.randint(1, 28)) if p < 0.6 else \
             (ey, rng.randint(1, 12), None) if p < 0.9 else (ey, None, None)
        etitle = rng.choice(EVENT_KINDS).format(
            body=rng.choices(BODIES, cum_weights=BODY_CUM)[0],
            topic=rng.choices(TOPICS, cum_weights=TOPIC_CUM)[0],
            country=rng.choice(COUNTRIES))
        events.append((ed, etitle, sentence(rng, 8, 16) if rng.random() < 0.8 else None))
    events.sort(key=lambda e: (e[0][0], e[0][1] or 0, e[0][2] or 0))

    # cross-link targets: other documents, by index only
    targets = []
    if n > 1:
        for _ in range(rng.choice([1, 1, 2, 2, 3])):
            j = rng.randrange(n - 1)
            j = j + 1 if j >= i else j
            if j not in targets:
                targets.append(j)

    body = make_body(random.Random(f"{seed}:{i}:body"), seed, targets)

    ref_field = q(refs[0]) if len(refs) == 1 else qlist(refs)
    from_field = q(senders[0]) if len(senders) == 1 else qlist(senders)
    fm = [
        "---",
        f"id: {doc_id(i)}",
        f"title: {q(title)}",
        f"date: {iso(d)}",
        f"type: {dtype}",
        f"reference: {ref_field}",
        f"from: {from_field}",
        f"to: {qlist(recipients)}",
        "language: en",
        f"summary: {q(summary)}",
        f"topics: {qlist(topics)}",
        f"organisations: {qlist(orgs)}",
    ]
    if events:
        fm.append("events:")
        for ed, et, desc in events:
            item = f"  - {{ date: {iso(ed)}, title: {q(et)}"
            fm.append(item + (f", description: {q(desc)} }}" if desc else " }"))
    fm.append("---")
    annals = "\n".join(fm) + "\n\n" + body

    # Hugo: dates must be full; an imprecise date sorts at the start of its period
    # and keeps its display form in params.
    hdate = f"{year}-{d[1] or 1:02d}-{d[2] or 1:02d}"
    hfm = [
        "---",
        f"title: {q(title)}",
        f"date: {hdate}",
        f"topics: {qlist(topics)}",
        f"organisations: {qlist(orgs)}",
        f"types: {qlist([dtype])}",
        f"years: {qlist([str(year)])}",
        "params:",
        f"  id: {doc_id(i)}",
        f"  doctype: {dtype}",
        f"  date_iso: {q(iso(d))}",
        f"  date_display: {q(display(d))}",
        f"  references: {qlist(refs)}",
        f"  from: {qlist(senders)}",
        f"  to: {qlist(recipients)}",
        "  language: en",
        f"  summary: {q(summary)}",
    ]
    if events:
        hfm.append("  events:")
        for ed, et, desc in events:
            item = (f"    - {{ date: {q(iso(ed))}, display: {q(display(ed))}, "
                    f"title: {q(et)}")
            hfm.append(item + (f", description: {q(desc)} }}" if desc else " }"))
    hfm.append("---")
    hugo = "\n".join(hfm) + "\n\n" + DOC_LINK.sub(r"](/documents/\1/)", body)
    return year, annals, hugo


DOC_LINK = re.compile(r"\]\(doc:([a-z0-9-]+)\)")


def make_body(rng, seed, targets, target_len=None):
    target_len = target_len or rng.randint(3300, 4500)
    heads = rng.sample(HEADINGS[1:-3], rng.randint(2, 4))
    heads = [rng.choice(["Introduction", "Background"])] + heads + \
            [rng.choice(["Conclusions", "Next steps", "Way forward"])]
    nsec = len(heads)
    # paragraphs as lists of sentences, section by section, until the target length
    paras = [[] for _ in heads]  # per section: list of paragraphs (list of sentences)
    per_sec = (target_len - 900) / nsec  # ~900 bytes: list, table, footnotes
    for s in range(nsec):
        size = 0
        while size + 150 < per_sec or not paras[s]:
            p = [sentence(rng) for _ in range(rng.randint(2, 4))]
            paras[s].append(p)
            size += sum(len(x) + 1 for x in p) + 6
    flat = [(s, k) for s in range(nsec) for k in range(len(paras[s]))]

    def pick():
        s, k = rng.choice(flat)
        p = paras[s][k]
        return p, rng.randrange(len(p))

    # redactions: replace a word that is neither first nor last of a sentence
    for _ in range(rng.choices([0, 1, 2, 3, 4], weights=[10, 30, 30, 20, 10])[0]):
        p, si = pick()
        ws = p[si].split(" ")
        if len(ws) > 4:
            ws[rng.randint(1, len(ws) - 3)] = rng.choice(REDACTIONS)
            p[si] = " ".join(ws)
    # cross-links, sometimes quoting the target's official reference
    for j in targets:
        p, si = pick()
        lead = rng.choice(LINK_LEADS)
        if rng.random() < 0.4:
            lead += f", as set out in {references_of(seed, j)[0]}"
        p.insert(si + 1, f"{lead} ([{rng.choice(LINK_TEXTS)}](doc:{doc_id(j)})).")
    # footnote references at sentence ends
    nfoot = rng.randint(1, 3)
    for _ in range(nfoot):
        p, si = pick()
        p[si] += FOOTREF  # numbered in reading order below

    out = []
    list_sec = 1 if nsec > 2 else 0
    table_sec = rng.randrange(1, nsec)
    for s, head in enumerate(heads):
        out.append(f"## {s + 1}. {head}\n")
        for k, p in enumerate(paras[s]):
            out.append(f"{s + 1}.{k + 1}. " + " ".join(p) + "\n")
            if k == 0 and s == list_sec:
                out.append(sentence(rng, 6, 10)[:-1] + ":\n\n" + "\n".join(
                    f"- {phrase(rng, rng.randint(2, 6))};" for _ in range(rng.randint(3, 5))) + "\n")
            if k == 0 and s == table_sec:
                out.append(make_table(rng))
    out.append("\n".join(f"[^{f}]: {sentence(rng, 6, 16)}" for f in range(1, nfoot + 1)) + "\n")
    text = "\n".join(out)
    for f in range(1, nfoot + 1):
        text = text.replace(FOOTREF, f"[^{f}]", 1)
    return text


FOOTREF = "\x00footnote\x00"


def make_table(rng):
    first = rng.choice(["Member State", "Agency", "Project", "Quarter"])
    cols = rng.sample(["2018", "2019", "2020", "Budget (EUR)", "Requests", "Hits",
                       "Staff", "Change"], 3)
    rows = []
    for _ in range(rng.randint(3, 6)):
        label = rng.choice(COUNTRIES) if first == "Member State" else phrase(rng, 2)
        cells = [str(rng.randint(0, 99999)) if c != "Change" else f"{rng.randint(-40, 90):+d}%"
                 for c in cols]
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join([f"| {first} | " + " | ".join(cols) + " |",
                      "| --- | " + " | ".join("---:" for _ in cols) + " |"] + rows) + "\n"


# --------------------------------------------------------------------------- sites

ANNALS_SITE = """title = "Synthetic archive"
description = "Generated for benchmarking"
base_url = "https://example.org/archive/"
language = "en"
"""

HUGO_CONFIG = """baseURL = "https://example.org/archive/"
title = "Synthetic archive"
# Print term names as written, as annals does (Hugo would title-case them).
capitalizeListTitles = false
# Hugo's defaults are kept: it also writes RSS (index.xml) for the home page, the
# section, each taxonomy and each term, and a sitemap.xml; annals writes neither.

[params]
description = "Generated for benchmarking"

[taxonomies]
topic = "topics"
organisation = "organisations"
type = "types"
year = "years"
"""

HUGO_LAYOUTS = {
    "baseof.html": """<!DOCTYPE html>
<html lang="{{ site.Language.Lang }}">
<head><meta charset="utf-8"><title>{{ block "title" . }}{{ .Title }} · {{ site.Title }}{{ end }}</title></head>
<body>
<header><a href="{{ site.Home.RelPermalink }}">{{ site.Title }}</a>
<nav><ul><li><a href="{{ "documents/" | relURL }}">Documents</a></li>
<li><a href="{{ "topics/" | relURL }}">Topics</a></li>
<li><a href="{{ "organisations/" | relURL }}">Organisations</a></li>
<li><a href="{{ "types/" | relURL }}">Document types</a></li>
<li><a href="{{ "years/" | relURL }}">Timeline</a></li></ul></nav></header>
<main id="main">{{ block "main" . }}{{ end }}</main>
</body>
</html>
""",
    "_partials/doclist.html": """{{ if . }}<ol class="document-list">
{{ range . }}  <li><time datetime="{{ .Params.date_iso }}">{{ .Params.date_display }}</time> <span class="doc-type">{{ .Params.doctype }}</span> <span class="doc-ref">{{ delimit .Params.references " · " }}</span> <a href="{{ .RelPermalink }}">{{ .Title }}</a></li>
{{ end }}</ol>{{ else }}<p class="empty">No documents.</p>{{ end }}
""",
    "home.html": """{{ define "title" }}{{ site.Title }}{{ end }}
{{ define "main" }}
<h1>{{ site.Title }}</h1>
<p class="lead">{{ site.Params.description }}</p>
{{ $docs := where site.RegularPages "Section" "documents" }}
<p>{{ len $docs }} documents. <a href="{{ "years/" | relURL }}">Browse the timeline</a> or <a href="{{ "documents/" | relURL }}">all documents</a>.</p>
<h2>Latest documents</h2>
{{ partial "doclist.html" (first 10 $docs) }}
{{ range $name, $terms := site.Taxonomies }}{{ if ne $name "years" }}
<h2><a href="{{ printf "%s/" $name | relURL }}">{{ $name | title }}</a></h2>
<ul class="term-cloud">{{ range $terms.Alphabetical }}<li><a href="{{ .Page.RelPermalink }}">{{ .Page.LinkTitle }}</a> <span class="count">{{ .Count }}</span></li>
{{ end }}</ul>{{ end }}{{ end }}
<h2><a href="{{ "years/" | relURL }}">Timeline</a></h2>
<ul class="year-list">{{ range site.Taxonomies.years.Alphabetical }}<li><a href="{{ .Page.RelPermalink }}">{{ .Page.LinkTitle }}</a> <span class="count">{{ .Count }}</span></li>
{{ end }}</ul>
{{ end }}
""",
    "section.html": """{{ define "main" }}
<h1>Documents</h1>
<p>{{ len .Pages }} documents, newest first.</p>
{{ partial "doclist.html" .Pages }}
{{ end }}
""",
    "page.html": """{{ define "main" }}
<article class="document">
<p class="document-kicker"><span class="doc-type">{{ .Params.doctype }}</span> <span class="doc-ref">{{ delimit .Params.references " · " }}</span></p>
<h1>{{ .Title }}</h1>
<dl class="document-meta">
<dt>Date</dt><dd><time datetime="{{ .Params.date_iso }}">{{ .Params.date_display }}</time> · <a href="{{ printf "years/%d/" .Date.Year | relURL }}">on the timeline</a></dd>
{{ with .Params.from }}<dt>From</dt><dd>{{ delimit . ", " }}</dd>{{ end }}
{{ with .Params.to }}<dt>To</dt><dd>{{ delimit . ", " }}</dd>{{ end }}
<dt>Reference</dt><dd>{{ range $i, $r := .Params.references }}{{ if $i }}, {{ end }}<span class="doc-ref">{{ $r }}</span>{{ end }}</dd>
<dt>Language</dt><dd>{{ .Params.language }}</dd>
<dt>Topics</dt><dd><ul class="inline-terms">{{ range .GetTerms "topics" }}<li><a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a></li>{{ end }}</ul></dd>
<dt>Organisations</dt><dd><ul class="inline-terms">{{ range .GetTerms "organisations" }}<li><a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a></li>{{ end }}</ul></dd>
</dl>
{{ with .Params.summary }}<p class="summary">{{ . }}</p>{{ end }}
<div class="document-body">
{{ .Content }}
</div>
{{ with .Params.events }}<section class="document-events"><h2>Events mentioned</h2><ol>
{{ range . }}<li><time datetime="{{ .date }}">{{ .display }}</time> — {{ .title }}{{ with .description }}: {{ . }}{{ end }}</li>
{{ end }}</ol></section>{{ end }}
<footer class="permalink"><p>Permanent link: <a href="{{ .RelPermalink }}">{{ .Permalink }}</a></p></footer>
</article>
{{ end }}
""",
    "taxonomy.html": """{{ define "main" }}
<h1>{{ .Title }}</h1>
<ul class="term-list">
{{ range .Data.Terms.Alphabetical }}<li><a href="{{ .Page.RelPermalink }}">{{ .Page.LinkTitle }}</a> <span class="count">{{ .Count }} documents</span></li>
{{ end }}</ul>
{{ end }}
""",
    "term.html": """{{ define "main" }}
<p class="breadcrumb"><a href="{{ .Parent.RelPermalink }}">{{ .Parent.Title }}</a></p>
<h1>{{ .Title }}</h1>
<p>{{ len .Pages }} documents, newest first.</p>
{{ partial "doclist.html" .Pages }}
{{ end }}
""",
    # The per-year page is the term page of a "years" taxonomy (the cheapest correct
    # method: Hugo groups the pages once while building its taxonomies).
    "years/term.html": """{{ define "main" }}
<p class="breadcrumb"><a href="{{ "years/" | relURL }}">Timeline</a></p>
<h1>{{ .Title }}</h1>
<p>{{ len .Pages }} documents.</p>
{{ range .Pages.GroupByDate "January 2006" "asc" }}
<h2 id="{{ .Key | anchorize }}">{{ .Key }}</h2>
{{ partial "doclist.html" .Pages }}
{{ end }}
{{ end }}
""",
}

HUGO_CONTENT = {
    "_index.md": '---\ntitle: "Synthetic archive"\n---\n',
    "documents/_index.md": '---\ntitle: "Documents"\n---\n',
}


def script_hash() -> str:
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


def stamp_text(n, seed) -> str:
    return f"annals-bench-corpus format={GENERATOR_FORMAT} script={script_hash()} n={n} seed={seed}\n"


def write_text(path: Path, text: str):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def prepare(outdir: Path):
    stamp = outdir / ".generator"
    for sub in ("annals", "hugo"):
        p = outdir / sub
        if p.exists():
            if not stamp.exists() and any(p.iterdir()):
                sys.exit(f"gen_corpus: {p} exists and was not made by this generator; "
                         "remove it or choose another OUTDIR")
    if stamp.exists():
        stamp.unlink()
    for sub in ("annals", "hugo"):
        shutil.rmtree(outdir / sub, ignore_errors=True)


def generate_range(seed, n, lo, hi, outdir: Path):
    annals_docs = outdir / "annals" / "content" / "documents"
    hugo_docs = outdir / "hugo" / "content" / "documents"
    made_years = set()
    nbytes = 0
    for i in range(lo, hi):
        year, a, h = make_document(seed, i, n)
        if year not in made_years:
            (annals_docs / str(year)).mkdir(parents=True, exist_ok=True)
            made_years.add(year)
        write_text(annals_docs / str(year) / f"{doc_id(i)}.md", a)
        write_text(hugo_docs / f"{doc_id(i)}.md", h)
        nbytes += len(a)
    return nbytes


def _worker(args):
    return generate_range(*args)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n", type=int, help="number of documents")
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                    help="worker processes (output does not depend on it)")
    ap.add_argument("--stamp", action="store_true",
                    help="print the stamp a corpus made with these arguments would carry, and exit")
    a = ap.parse_args(argv)
    if a.stamp:
        sys.stdout.write(stamp_text(a.n, a.seed))
        return
    if a.n < 1:
        ap.error("N must be at least 1")
    if a.n > 999_999:
        ap.error("N must be below 1,000,000 (ids are doc-NNNNNN)")
    outdir = a.outdir
    outdir.mkdir(parents=True, exist_ok=True)
    prepare(outdir)

    root = outdir / "annals"
    (root / "content" / "documents").mkdir(parents=True)
    write_text(root / "site.toml", ANNALS_SITE)
    hugo = outdir / "hugo"
    (hugo / "content" / "documents").mkdir(parents=True)
    write_text(hugo / "hugo.toml", HUGO_CONFIG)
    for rel, text in HUGO_LAYOUTS.items():
        p = hugo / "layouts" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        write_text(p, text)
    for rel, text in HUGO_CONTENT.items():
        write_text(hugo / "content" / rel, text)

    jobs = max(1, min(a.jobs, a.n // 500 or 1))
    if jobs == 1:
        nbytes = generate_range(a.seed, a.n, 0, a.n, outdir)
    else:
        import multiprocessing as mp
        step = -(-a.n // (jobs * 8))
        chunks = [(a.seed, a.n, lo, min(a.n, lo + step), outdir) for lo in range(0, a.n, step)]
        with mp.Pool(jobs) as pool:
            nbytes = sum(pool.imap_unordered(_worker, chunks))
    write_text(outdir / ".generator", stamp_text(a.n, a.seed))
    print(f"gen_corpus: {a.n} documents ({nbytes / a.n / 1024:.1f} KiB average annals file) "
          f"in {outdir}/annals and {outdir}/hugo")


if __name__ == "__main__":
    main()
