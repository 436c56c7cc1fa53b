#!/usr/bin/env python3
"""Measure one build, or report on many.

    measure.py run --results FILE --n N --tool T --case C --kind warmup|measured
                   [--clean PATH]... [--count DIR] [--log FILE] -- COMMAND...

Removes each --clean path (a glob; directories recursively), writes back the file
systems' dirty data (sync, untimed), runs COMMAND with its output sent to --log,
and waits for it with os.wait4 to read the child's own rusage: wall time
(time.perf_counter around fork/exec and wait), user+sys CPU time, and peak RSS
(ru_maxrss). Counts the HTML pages, files, folders and bytes under --count.
Appends one JSON line to --results and prints a one-line summary. Exits 1 if COMMAND failed (after printing
the end of its log), 0 otherwise; it never asserts anything about time.

    measure.py report --results FILE [--out FILE.md] [--note TEXT]...

Prints (and writes to --out) a Markdown report: the machine, the date, a table of
median figures per N and tool for clean full builds with the ratio annals/Hugo of
median wall time, and a table of the incremental cases.
"""

from __future__ import annotations

import argparse
import datetime as dt
import glob
import json
import os
import platform
import shutil
import statistics
import re
import subprocess
import sys
import time
from pathlib import Path


def remove(pattern: str):
    """Removes what `pattern` matches, or, with BENCH_TRASH set, moves it there.

    Moving instead of deleting matters on file systems without a journal (this
    project's benchmark machine): ext4 then skips, for every new inode, the inodes
    deleted in the last 60 seconds (360 while their inode table block is dirty),
    so a build started right after deleting the previous output spends most of
    its time in the kernel. run.sh empties the trash when the run ends, and
    starts timing only once the window has passed."""
    trash = os.environ.get("BENCH_TRASH")
    for p in glob.glob(pattern):
        path = Path(p)
        if trash and (path.exists() or path.is_symlink()):
            Path(trash).mkdir(parents=True, exist_ok=True)
            dest = Path(trash) / f"{path.name}.{time.time_ns()}"
            os.rename(path, dest)
        elif path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()


def count_output(root: str) -> dict:
    """What a build wrote: HTML pages, files, folders and bytes (apparent size).
    The two tools write different amounts for the same documents (annals also
    writes citation exports, search files and feeds per topic), and on a disk
    each file and folder costs the file system an inode: these say how much
    work each build's time bought."""
    pages = files = dirs = size = 0
    for folder, subdirs, names in os.walk(root):
        dirs += len(subdirs)
        for name in names:
            files += 1
            pages += name.endswith(".html")
            try:
                size += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                pass
    return {"pages": pages, "files": files, "dirs": dirs, "bytes": size}


STAGE_LINE = re.compile(r"^\s*([a-z]+)\s{2}.*?\s([0-9]+(?:\.[0-9]+)?) ms(?:\s+peak ([0-9]+) MB)?")


def stages(log_path) -> dict:
    """annals' stage lines in a build log: stage -> [seconds, peak MB so far]."""
    found = {}
    if not log_path or not log_path.exists():
        return found
    for line in log_path.read_text(errors="replace").splitlines():
        m = STAGE_LINE.match(line)
        if m:
            peak = int(m.group(3)) if m.group(3) else None
            found[m.group(1)] = [round(float(m.group(2)) / 1000, 4), peak]
    return found


def run(a) -> int:
    for pattern in a.clean:
        remove(pattern)
    # What earlier builds wrote is still in the page cache, to be written back
    # by the kernel's flusher threads some 30 s later: during the next builds,
    # on the same two cores (ext4 allocates a file's blocks only then). Runs
    # alternate between the tools, so each would pay for the other's output,
    # annals for Hugo's 200 MB and Hugo for annals' 430 MB. Written back first,
    # untimed, each build is measured on its own work.
    os.sync()
    log_path = Path(a.log) if a.log else None
    if log_path:
        log_path.parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "wb") if log_path else subprocess.DEVNULL
    error = None
    try:
        t0 = time.perf_counter()
        proc = subprocess.Popen(a.command, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        _pid, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        rc = proc.returncode
        cpu = ru.ru_utime + ru.ru_stime
        rss_mb = ru.ru_maxrss / 1024  # Linux: KiB
    except OSError as e:  # command not found, not executable, ...
        rc, wall, cpu, rss_mb, error = 127, 0.0, 0.0, 0.0, str(e)
    finally:
        if log_path:
            log.close()
    written = count_output(a.count) if (a.count and rc == 0 and os.path.isdir(a.count)) else {}
    pages = written.get("pages")
    rec = {"n": a.n, "tool": a.tool, "case": a.case, "kind": a.kind, "ok": rc == 0,
           "rc": rc, "wall_s": round(wall, 4), "cpu_s": round(cpu, 4),
           "rss_mb": round(rss_mb, 1), "pages": pages, "files": written.get("files"),
           "dirs": written.get("dirs"), "bytes": written.get("bytes"),
           "command": a.command, "log": str(log_path) if log_path else None}
    if a.tool == "annals" and rc == 0:
        rec["stages"] = stages(log_path)
    if a.results:
        with open(a.results, "a", encoding="utf-8") as f:
            f.write(json.dumps(rec) + "\n")
    label = f"{a.tool:<6} N={a.n:<7} {a.case:<16} {a.kind:<8}"
    if rc == 0:
        print(f"  {label} {wall:8.2f} s wall {cpu:8.2f} s CPU {rss_mb:8.0f} MB"
              + (f" {pages:>8} pages" if pages is not None else ""), flush=True)
        return 0
    print(f"  {label} FAILED (exit code {rc})"
          + (f": {error}" if error else f"; last lines of {log_path}:"), flush=True)
    if log_path and log_path.exists():
        lines = log_path.read_text(errors="replace").splitlines()
        for line in lines[-25:]:
            print(f"    | {line}", flush=True)
    return 1


# --------------------------------------------------------------------------- report


def machine() -> list[str]:
    model = "unknown"
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        for line in open("/proc/meminfo", encoding="utf-8"):
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        f"- Date: {dt.datetime.now(dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {nproc} CPUs (nproc), {model}, {mem} memory, "
        f"{platform.system()} {platform.release()}",
        f"- Load average at report time: {load}",
    ]


def med(xs):
    return statistics.median(xs) if xs else None


def fmt(x, digits=2):
    return "—" if x is None else f"{x:.{digits}f}"


def summarise(recs):
    ok = [r for r in recs if r["ok"]]
    failed = len(recs) - len(ok)
    pages = sorted({r["pages"] for r in ok if r["pages"] is not None})

    def written(key):  # the same in every run of a case; the median if not
        return med([r[key] for r in ok if r.get(key) is not None])

    return {
        "files": written("files"), "dirs": written("dirs"), "bytes": written("bytes"),
        "runs": len(ok), "failed": failed,
        "wall": med([r["wall_s"] for r in ok]),
        "wall_min": min((r["wall_s"] for r in ok), default=None),
        "wall_max": max((r["wall_s"] for r in ok), default=None),
        "cpu": med([r["cpu_s"] for r in ok]),
        "rss": med([r["rss_mb"] for r in ok]),
        "pages": "/".join(str(p) for p in pages) if pages else "—",
    }


def report(a) -> int:
    recs = []
    if os.path.exists(a.results):
        with open(a.results, encoding="utf-8") as f:
            recs = [json.loads(line) for line in f if line.strip()]
    measured = [r for r in recs if r["kind"] == "measured"]
    out = ["# annals benchmark", ""] + machine() + [f"- {n}" for n in a.note] + [""]

    out += ["## Clean full builds", "",
            "Median of the measured runs (a warm-up of each tool first; annals and Hugo "
            "interleaved; output, caches and staging folders removed before each run). "
            "CPU = user + sys of the build process; RSS = its peak resident set. "
            "Wall range in brackets. Files, folders and MB (apparent size) are what the "
            "build wrote: the same documents make more and larger files in annals, which "
            "also writes citation exports, search files and feeds per topic.", "",
            "| N | tool | median wall s | median CPU s | median peak RSS MB | pages "
            "| files | folders | MB written | runs | annals/Hugo wall |",
            "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    ns = sorted({r["n"] for r in measured if r["case"] == "full"})
    any_failed = any(not r["ok"] for r in recs)
    for n in ns:
        rows = {}
        for tool in ("annals", "hugo"):
            rs = [r for r in measured if r["n"] == n and r["tool"] == tool and r["case"] == "full"]
            if rs:
                rows[tool] = summarise(rs)
        for tool, s in rows.items():
            ratio = "—"
            if tool == "annals" and "hugo" in rows and s["wall"] and rows["hugo"]["wall"]:
                ratio = f"{s['wall'] / rows['hugo']['wall']:.2f}"
            runs = f"{s['runs']}" + (f" ({s['failed']} FAILED)" if s["failed"] else "")
            wall = fmt(s["wall"])
            if s["runs"] > 1:
                wall += f" ({s['wall_min']:.2f}–{s['wall_max']:.2f})"
            mb = None if s["bytes"] is None else s["bytes"] / 1e6
            out.append(f"| {n} | {tool} | {wall} | {fmt(s['cpu'])} | {fmt(s['rss'], 0)} "
                       f"| {s['pages']} | {fmt(s['files'], 0)} | {fmt(s['dirs'], 0)} "
                       f"| {fmt(mb, 0)} | {runs} | {ratio} |")
    if not ns:
        out.append("| — | no full build was measured | | | | | | | | | |")

    # annals' own stage lines: where a clean build spends its time (the search
    # index on its own among them).
    staged = [r for r in measured if r["tool"] == "annals" and r["case"] == "full"
              and r["ok"] and r.get("stages")]
    if staged:
        order = ["load", "parse", "link", "prepare", "search", "render", "generate", "publish"]
        names = sorted({k for r in staged for k in r["stages"]},
                       key=lambda k: (order.index(k) if k in order else 99, k))
        out += ["", "## annals clean builds by stage", "",
                "Median seconds per stage, from the stage lines of the measured clean "
                "builds above, with its share of the median wall time; peak RSS is the "
                "process's peak at the end of the stage. `search` is the search index on "
                "its own (the per-document analysis it assembles from is made in `link`, "
                "from the body that stage renders anyway); `render` includes the feeds, "
                "exports and bibliography, made alongside the pages, and `generate` copies "
                "the originals.", "",
                "| N | " + " | ".join(names) + " |",
                "| ---: | " + " | ".join("---:" for _ in names) + " |"]
        for n in sorted({r["n"] for r in staged}):
            rs = [r for r in staged if r["n"] == n]
            wall = med([r["wall_s"] for r in rs])
            cells = []
            for k in names:
                secs = med([r["stages"][k][0] for r in rs if k in r["stages"]])
                peaks = [r["stages"][k][1] for r in rs
                         if k in r["stages"] and r["stages"][k][1] is not None]
                cell = fmt(secs)
                if secs is not None and wall:
                    cell += f" ({100 * secs / wall:.0f}%)"
                if peaks:
                    cell += f", {med(peaks):.0f} MB"
                cells.append(cell)
            out.append(f"| {n} | " + " | ".join(cells) + " |")

    inc = [r for r in measured if r["case"] != "full" and r["tool"] == "annals"]
    # cases with a measured run or a failed one (setup-only steps are not listed)
    inc_cases = {(r["n"], r["case"]) for r in recs if r["case"] != "full" and r["tool"] == "annals"
                 and (r["kind"] == "measured" or not r["ok"])}
    if inc_cases:
        out += ["", "## Incremental annals builds", "",
                "After a clean full build, output kept; each edit is applied, the build "
                "measured, then the edit is undone and the site rebuilt (not measured). "
                "`first-body-edit` is the first edit after the clean build, which has no "
                "spare site to stage into and links every unchanged file into a new one; "
                "`body-edit` the edits after it.", "",
                "| N | case | median wall s | median CPU s | median peak RSS MB | pages | runs |",
                "| ---: | --- | ---: | ---: | ---: | ---: | ---: |"]
        order = ["no-op", "first-body-edit", "body-edit", "topics-edit", "template-edit"]
        cases = sorted(inc_cases,
                       key=lambda c: (c[0], order.index(c[1]) if c[1] in order else 99, c[1]))
        for n, case in cases:
            s = summarise([r for r in inc if r["n"] == n and r["case"] == case])
            failed = sum(1 for r in recs if r["n"] == n and r["case"] == case and not r["ok"])
            runs = f"{s['runs']}" + (f" ({failed} FAILED)" if failed else "")
            out.append(f"| {n} | {case} | {fmt(s['wall'])} | {fmt(s['cpu'])} "
                       f"| {fmt(s['rss'], 0)} | {s['pages']} | {runs} |")
    failures = [r for r in recs if not r["ok"]]
    if failures:
        out += ["", "## Failed builds", ""]
        for r in failures:
            out.append(f"- N={r['n']} {r['tool']} {r['case']} ({r['kind']}): exit code "
                       f"{r['rc']}, log `{r['log']}`")
    text = "\n".join(out) + "\n"
    print(text)
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(text, encoding="utf-8")
    return 1 if any_failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--results")
    r.add_argument("--n", type=int, required=True)
    r.add_argument("--tool", required=True)
    r.add_argument("--case", default="full")
    r.add_argument("--kind", default="measured", choices=["warmup", "measured", "setup"])
    r.add_argument("--clean", action="append", default=[])
    r.add_argument("--count")
    r.add_argument("--log")
    r.add_argument("command", nargs=argparse.REMAINDER)
    p = sub.add_parser("report")
    p.add_argument("--results", required=True)
    p.add_argument("--out")
    p.add_argument("--note", action="append", default=[])
    a = ap.parse_args()
    if a.cmd == "run":
        if a.command and a.command[0] == "--":
            a.command = a.command[1:]
        if not a.command:
            ap.error("run: no command given after --")
        sys.exit(run(a))
    sys.exit(report(a))


if __name__ == "__main__":
    main()
