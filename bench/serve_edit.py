#!/usr/bin/env python3
"""Time from saving a document to its reloaded page in `annals serve`.

    bench/serve_edit.py ANNALS ROOT [EDITS]

Starts `annals serve` on ROOT (an annals archive, e.g. bench/.corpus/10000/annals)
with a port of its own and a throw-away output folder, then edits the body of one
document EDITS times (default 5), each time after the previous rebuild has
finished. For each edit it measures what an open page goes through: from just
before the file is written until the page's long poll (`__annals/events`) has
answered and a fresh GET of the page returns the new text ("to page"), and until
the terminal reports the rebuilt site ("to full site": search index, feeds and
exports included). A real browser adds its own reload on top (local requests of
a page and its stylesheet, a few ms). Prints each edit and the medians; the
edited file is restored at the end.
"""

import json
import os
import queue
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request


def get(url, timeout=60):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode("utf-8", "replace")


def resident(pid):
    """The serving process's resident memory now and at its peak, in MB (Linux)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            fields = dict(l.split(":", 1) for l in f if ":" in l)
        mb = lambda k: int(fields[k].split()[0]) // 1024
        return f"resident {mb('VmRSS')} MB, peak {mb('VmHWM')} MB"
    except (OSError, KeyError, ValueError):
        return "resident memory unknown"


def pick_document(root):
    """A document that links to others, so that an edit also updates their
    "Referenced by" passages: the first file (in path order) with a doc: link."""
    docs = os.path.join(root, "content", "documents")
    for folder, dirs, files in sorted(os.walk(docs)):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(".md"):
                path = os.path.join(folder, name)
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                if "](doc:" in text:
                    return path, text
    sys.exit("no document with a doc: link under " + docs)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    annals, root = sys.argv[1], os.path.abspath(sys.argv[2])
    edits = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    path, original = pick_document(root)
    doc_id = re.search(r"^id:\s*(\S+)", original, re.M).group(1).strip("'\"")
    output = tempfile.mkdtemp(prefix="annals-serve-bench-")
    proc = subprocess.Popen(
        [annals, "serve", "--root", root, "--port", "0", "--output", output],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put(l.rstrip("\n")) for l in proc.stdout], daemon=True
    ).start()

    def wait_lines(pattern, timeout=600):
        """The lines printed up to and including the first matching `pattern`."""
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                sys.exit("timed out waiting for: " + pattern)
            seen.append(line)
            if re.search(pattern, line):
                return seen

    results = []
    memory = "resident memory unknown"
    try:
        base = wait_lines(r"^serving http://")[-1].split()[1]
        page = f"{base}documents/{doc_id}/"
        for n in range(1, edits + 1):
            version = json.loads(get(base + "__annals/events"))["version"]
            marker = f"Benchmark edit {n} of {os.getpid()}."
            body = original.rstrip("\n") + f"\n\n{marker}\n"
            start = time.monotonic()
            with open(path, "w", encoding="utf-8") as f:
                f.write(body)
            json.loads(get(f"{base}__annals/events?since={version}"))
            html = get(page)
            to_page = time.monotonic() - start
            # The lines up to the rebuilt site say whether a preview came first.
            seen = wait_lines(r"\] rebuilt ")
            to_site = time.monotonic() - start
            if marker not in html:
                # Woken by something else than the edit's pages: count until
                # the page shows it.
                if marker not in get(page):
                    sys.exit("the edited page never showed the edit")
                to_page = to_site
            previewed = [l for l in seen if "] previewed " in l]
            how = (
                "preview " + re.search(r" in (\d+ ms)", previewed[0]).group(1)
                if previewed
                else "no preview"
            )
            results.append((to_page, to_site))
            print(
                f"edit {n}: to page {to_page * 1000:7.1f} ms ({how}), "
                f"to full site {to_site:5.2f} s",
                flush=True,
            )
        memory = resident(proc.pid)
    finally:
        with open(path, "w", encoding="utf-8") as f:
            f.write(original)
        proc.terminate()
        proc.wait()
        shutil.rmtree(output, ignore_errors=True)
    pages = [r[0] * 1000 for r in results]
    sites = [r[1] for r in results]
    print(
        f"median of {len(results)}: to page {statistics.median(pages):.1f} ms "
        f"(range {min(pages):.1f}-{max(pages):.1f}), "
        f"to full site {statistics.median(sites):.2f} s "
        f"(range {min(sites):.2f}-{max(sites):.2f}); serve {memory}"
    )


if __name__ == "__main__":
    main()
