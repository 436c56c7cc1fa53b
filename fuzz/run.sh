#!/usr/bin/env bash
# Coverage-guided fuzzing of annals (cargo-fuzz / libFuzzer): runs every target for
# a set time, then prints each target's executions and new corpus entries.
#
#   fuzz/run.sh [SECONDS_PER_TARGET]      (default 600)
#
# Needs a nightly toolchain (`rustup toolchain install nightly`) and cargo-fuzz
# (`cargo install cargo-fuzz`). The committed seeds in fuzz/corpus/<target>/ are
# read, never written: new inputs go to fuzz/corpus-run/<target>/ (ignored by git;
# fuzz/merge.sh then adds the few that reach new code to corpus/). Crashes land in
# fuzz/artifacts/<target>/ with the command to reproduce them; the script exits 1
# if any target crashed.
set -uo pipefail
cd "$(dirname "$0")"
SECONDS_PER_TARGET="${1:-600}"
TARGETS=(front_matter render_document)

if ! rustup toolchain list | grep -q '^nightly'; then
  echo "fuzz/run.sh: needs a nightly toolchain: rustup toolchain install nightly" >&2
  exit 2
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "fuzz/run.sh: needs cargo-fuzz: cargo install cargo-fuzz" >&2
  exit 2
fi

cargo +nightly fuzz build -O || exit 2
mkdir -p logs
status=0
for target in "${TARGETS[@]}"; do
  mkdir -p "corpus-run/$target" "artifacts/$target"
  echo "== $target for ${SECONDS_PER_TARGET} s"
  cargo +nightly fuzz run -O "$target" "corpus-run/$target" "corpus/$target" -- \
    -max_total_time="$SECONDS_PER_TARGET" \
    -dict="dict/$target.dict" \
    -max_len=65536 \
    -timeout=20 \
    -rss_limit_mb=4096 \
    -print_final_stats=1 \
    >"logs/$target.log" 2>&1
  code=$?
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "logs/$target.log" | grep -o '[0-9]*$')
  echo "   exit $code, ${runs:-?} executions, $(ls "corpus-run/$target" | wc -l) corpus entries (log: fuzz/logs/$target.log)"
  if [ "$code" -ne 0 ]; then
    status=1
    grep -E 'panicked|ERROR|SUMMARY|Test unit written' "logs/$target.log" | head -20
  fi
done
exit $status
