#!/usr/bin/env bash
# Adds to the committed seeds (fuzz/corpus/<target>/) the smallest set of inputs
# from the last run (fuzz/corpus-run/<target>/) that covers every code edge the run
# reached and the seeds did not: libFuzzer's set-cover merge over edges only (no
# hit counts, no comparison operands), so the committed corpus stays a few hundred
# small files.
#
#   fuzz/merge.sh [TARGET…]      (default: every target; run fuzz/run.sh first)
set -euo pipefail
cd "$(dirname "$0")"
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(front_matter render_document)
bin=target/x86_64-unknown-linux-gnu/release
for target in "${TARGETS[@]}"; do
  if [ ! -x "$bin/$target" ] || [ ! -d "corpus-run/$target" ]; then
    echo "fuzz/merge.sh: run fuzz/run.sh first (no $bin/$target or corpus-run/$target)" >&2
    exit 2
  fi
  before=$(ls "corpus/$target" | wc -l)
  "$bin/$target" -set_cover_merge=1 -use_counters=0 -use_cmp=0 \
    -max_len=65536 -timeout=20 -rss_limit_mb=4096 \
    "corpus/$target" "corpus-run/$target" >"logs/$target-merge.log" 2>&1
  echo "$target: $before -> $(ls "corpus/$target" | wc -l) seeds"
done
