#!/usr/bin/env python3
"""A synthetic archive for measuring the search index: `gen_corpus.py N OUTDIR`
writes OUTDIR/annals/ (site.toml + content/documents/) with N documents.

Words follow a Zipf distribution over a vocabulary that grows with the corpus, as
real text does; documents carry topics, organisations, types, senders,
recipients, a language (mostly English), references, numbered paragraphs and
redactions. Deterministic for a given N.
"""
import os
import random
import sys

COMMON = """the of and to in a is that for on be by with as this are it from or at
an which not will have has should member states data information commission council
european union security police access document request protection border agency
system systems law enforcement cooperation national report meeting working party
group presidency delegation proposal regulation article paragraph measures
framework management technology research project projects development support
within between also their these may can shall other under such all any more new
use used operational exchange authorities internal external biometric identity
travel migration asylum visa europol frontex eu lisa interoperability database
databases network networks analysis risk threat terrorism crime criminal
investigation investigations court justice fundamental rights privacy
surveillance artificial intelligence facial recognition automated processing
personal retention encryption communications telecommunications service
providers cross border evidence platform platforms innovation hub funding
programme horizon pilot procurement contract industry""".split()

SYLLABLES = ["ka", "ro", "mi", "sen", "tor", "va", "lin", "dra", "pe", "qui", "mon",
             "tel", "ar", "bis", "cor", "den", "el", "fa", "gor", "hal", "is", "jun",
             "ke", "lo", "mar", "nov", "os", "pra", "rus", "sta", "tri", "ul", "ver"]

TOPICS = ["Data protection", "Migration", "Border control", "Artificial intelligence",
          "Biometrics", "Encryption", "Interoperability", "Terrorism", "Cybercrime",
          "Surveillance", "Research funding", "Procurement", "Facial recognition",
          "Data retention", "Travel data", "Drones", "Predictive policing",
          "Information exchange", "Fundamental rights", "Law enforcement cooperation"]
ORGS = ["Europol", "Frontex", "eu-LISA", "European Commission", "Council of the EU",
        "European Parliament", "EDPS", "Eurojust", "FRA", "ENISA", "CEPOL", "EASO",
        "Interpol", "OLAF", "EEAS", "JRC", "DG HOME", "DG JUST", "COSI", "LEWP"]
TYPES = ["note", "briefing", "letter", "minutes", "report", "agenda", "presentation",
         "opinion", "contract", "email"]
PEOPLE = ["Council Secretariat", "Presidency", "Commission services", "Europol",
          "Frontex", "eu-LISA", "Member State delegations", "COSI", "LEWP", "CATS",
          "Standing Committee", "Working Party on Information Exchange", "EDPS",
          "European Parliament LIBE", "DG HOME", "DG JUST", "JHA Counsellors"]
LANGS = ["en"] * 16 + ["fr", "de", "es", "nl"]


def vocabulary(rng, size):
    words = list(COMMON)
    seen = set(words)
    while len(words) < size:
        w = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        w += rng.choice(["", "", "s", "ed", "ing", "ation", "al", "ity"])
        if w not in seen:
            seen.add(w)
            words.append(w)
    return words


def zipf_sampler(rng, n, s=1.07):
    weights = [1.0 / (k + 1) ** s for k in range(n)]
    total = sum(weights)
    cum = []
    acc = 0.0
    for w in weights:
        acc += w / total
        cum.append(acc)
    import bisect

    def sample():
        return min(bisect.bisect_left(cum, rng.random()), n - 1)
    return sample


def main():
    n = int(sys.argv[1])
    out = os.path.join(sys.argv[2], "annals")
    rng = random.Random(n)
    vocab = vocabulary(rng, 8000 + int(40 * n ** 0.8))
    sample = zipf_sampler(rng, len(vocab))
    docs = os.path.join(out, "content", "documents")
    os.makedirs(docs, exist_ok=True)
    with open(os.path.join(out, "site.toml"), "w") as f:
        f.write('title = "Synthetic archive"\nbase_url = "https://example.org/archive/"\n'
                'language = "en"\n')

    def sentence():
        words = [vocab[sample()] for _ in range(rng.randint(8, 24))]
        return " ".join(words).capitalize() + "."

    for i in range(n):
        year = rng.randint(2010, 2024)
        month = rng.randint(1, 12)
        day = rng.randint(1, 28)
        prec = rng.random()
        date = f"{year}" if prec < 0.05 else f"{year}-{month:02d}" if prec < 0.15 else f"{year}-{month:02d}-{day:02d}"
        paras = []
        for p in range(rng.randint(4, 30)):
            text = " ".join(sentence() for _ in range(rng.randint(1, 5)))
            if rng.random() < 0.1:
                cut = text.split(" ")
                k = rng.randrange(len(cut))
                cut[k] = "[redacted]"
                text = " ".join(cut)
            if rng.random() < 0.3:
                text = f"{p + 1}. {text}"
            paras.append(text)
            if rng.random() < 0.08:
                paras.append("## " + " ".join(vocab[sample()] for _ in range(3)).capitalize())
        title = " ".join(vocab[sample()] for _ in range(rng.randint(4, 10))).capitalize()
        topics = rng.sample(TOPICS, rng.randint(1, 3))
        orgs = rng.sample(ORGS, rng.randint(1, 3))
        fm = [
            "---",
            f"id: doc-{i:06d}",
            f'title: "{title}"',
            f"date: {date}",
            f"type: {rng.choice(TYPES)}",
            f'reference: "{rng.randint(1000, 99999)}/{year % 100:02d}"',
            f'from: "{rng.choice(PEOPLE)}"',
            f'to: ["{rng.choice(PEOPLE)}"]',
            f"language: {rng.choice(LANGS)}",
            "topics: [" + ", ".join(f'"{t}"' for t in topics) + "]",
            "organisations: [" + ", ".join(f'"{o}"' for o in orgs) + "]",
            "---",
        ]
        folder = os.path.join(docs, str(year))
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"doc-{i:06d}.md"), "w") as f:
            f.write("\n".join(fm) + "\n\n" + "\n\n".join(paras) + "\n")


if __name__ == "__main__":
    main()
