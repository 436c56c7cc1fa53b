#!/usr/bin/env bash
# How annals' clean build time grows with the archive: SMALL and LARGE documents
# (default 10000 and 100000), built alternately, RUNS times each, with the
# median wall time of each and the ratio LARGE/SMALL (issue 9's target: at most
# 11x for ten times the documents). Asserts nothing about time.
#
#   bench/scale.sh [SMALL LARGE]
#
# Environment:
#   RUNS=3           clean builds of each size, after one warm-up of each
#   SEED=1           corpus seed
#   SCALE_DIR=/dev/shm/annals-scale   corpora and outputs; a memory-backed
#                    folder keeps the disk's own costs out (the default when
#                    /dev/shm exists, else bench/.corpus/scale)
#   DROP_CACHES=1    as root: sync and drop the page cache before each build,
#                    so that every build starts with the same free memory (a
#                    large build otherwise pays the kernel for reclaiming what
#                    earlier builds left cached, and the ratio measures that);
#                    0 to leave the cache as it is
#
# Writes bench/results/scale.md (and the raw runs to bench/results/scale.jsonl).
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=bench/common.sh
. "$BENCH/common.sh"
RESULTS="$RESULTS_DIR/scale.jsonl"
REPORT="$RESULTS_DIR/scale.md"
SMALL="${1:-10000}"
LARGE="${2:-100000}"
RUNS="${RUNS:-3}"
SEED="${SEED:-1}"
DROP_CACHES="${DROP_CACHES:-1}"
if [ -d /dev/shm ]; then SCALE_DIR="${SCALE_DIR:-/dev/shm/annals-scale}"; else SCALE_DIR="${SCALE_DIR:-$BENCH/.corpus/scale}"; fi

die() { printf 'bench/scale.sh: error: %s\n' "$*" >&2; exit 2; }
case "$SMALL$LARGE$RUNS$SEED" in *[!0-9]*) die "sizes, RUNS and SEED must be whole numbers" ;; esac
[ "$RUNS" -ge 1 ] || die "RUNS must be at least 1"

setup_python

echo "== cargo build --release ($REPO)"
mkdir -p "$RESULTS_DIR" "$SCALE_DIR"
(cd "$REPO" && cargo build --release) >"$RESULTS_DIR/cargo-build.log" 2>&1 \
  || { tail -n 30 "$RESULTS_DIR/cargo-build.log"; die "cargo build --release failed"; }

for n in "$SMALL" "$LARGE"; do
  c="$SCALE_DIR/$n"
  want="$("$PY" "$BENCH/gen_corpus.py" "$n" "$c" --seed "$SEED" --stamp)"
  if [ -f "$c/.generator" ] && [ "$(cat "$c/.generator")" = "$want" ]; then
    echo "== N=$n: reusing the corpus in $c"
  else
    echo "== N=$n: generating the corpus in $c"
    "$PY" "$BENCH/gen_corpus.py" "$n" "$c" --seed "$SEED" >/dev/null
  fi
done

settle() {  # the same memory state before every build (see DROP_CACHES)
  if [ "$DROP_CACHES" = 1 ] && [ -w /proc/sys/vm/drop_caches ]; then
    sync
    echo 3 >/proc/sys/vm/drop_caches
  fi
}
dropping="no"
if [ "$DROP_CACHES" = 1 ] && [ -w /proc/sys/vm/drop_caches ]; then dropping="yes"; fi

: >"$RESULTS"
build() {  # build N KIND RUN: one clean build, its output removed after it
  local n="$1" c="$SCALE_DIR/$1"
  rm -rf "$c/out" "$c/.out.annals-"* "$c/annals/.annals-cache"
  settle
  "$PY" "$BENCH/measure.py" run --results "$RESULTS" --n "$n" --tool annals --case full \
    --kind "$2" --count "$c/out" --log "$c/build-$2-$3.log" -- \
    "$ANNALS" build --root "$c/annals" --output "$c/out"
  # Not left to take memory from the next build.
  rm -rf "$c/out" "$c/.out.annals-"* "$c/annals/.annals-cache"
}
echo "== clean builds, alternating (drop the page cache before each: $dropping)"
build "$SMALL" warmup 0
build "$LARGE" warmup 0
for ((i = 1; i <= RUNS; i++)); do
  build "$SMALL" measured "$i"
  build "$LARGE" measured "$i"
done

"$PY" - "$RESULTS" "$REPORT" "$SMALL" "$LARGE" "$dropping" "$SCALE_DIR" <<'EOF'
import json, statistics, sys, datetime, os, subprocess
results, report, small, large, dropping, folder = sys.argv[1:]
runs = [json.loads(l) for l in open(results) if l.strip()]
def measured(n):
    return [r for r in runs if r["n"] == int(n) and r["kind"] == "measured" and r["ok"]]
lines = ["# annals: clean build time against archive size", "",
         f"- Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
         f"- Machine: {os.cpu_count()} CPUs, Linux {os.uname().release}",
         f"- annals at {subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True).stdout.strip() or '?'}",
         f"- Corpora and outputs in {folder}; page cache dropped before each build: {dropping}",
         "", "| N | runs | median wall s | walls | median CPU s | median peak RSS MB | pages |",
         "| ---: | ---: | ---: | --- | ---: | ---: | ---: |"]
medians = {}
for n in (small, large):
    rs = measured(n)
    if not rs:
        lines.append(f"| {n} | 0 | failed | | | | |")
        continue
    wall = statistics.median(r["wall_s"] for r in rs)
    medians[n] = wall
    walls = ", ".join(f"{r['wall_s']:.2f}" for r in rs)
    lines.append(f"| {n} | {len(rs)} | {wall:.2f} | {walls} | "
                 f"{statistics.median(r['cpu_s'] for r in rs):.2f} | "
                 f"{statistics.median(r['rss_mb'] for r in rs):.0f} | {rs[0]['pages']} |")
if len(medians) == 2:
    lines += ["", f"**{large} / {small} documents: {medians[large] / medians[small]:.1f}x the wall time** "
              f"(median over median; for {int(large) / int(small):g}x the documents)."]
text = "\n".join(lines) + "\n"
open(report, "w").write(text)
print(text)
EOF
