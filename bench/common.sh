# Sourced by bench/run.sh and bench/scale.sh, which set BENCH (this folder)
# first: where the repository, the benchmark's Python and the annals binary
# are, and `setup_python` (the scripts define `die` before calling it).
REPO="$(dirname "$BENCH")"
VENV="$BENCH/.venv"
RESULTS_DIR="$BENCH/results"
TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$REPO/$TARGET_DIR" ;; esac
ANNALS="$TARGET_DIR/release/annals"

# Sets PY to the benchmark's own Python, a virtualenv in VENV made on first
# use, with PyYAML for the corpus generator.
setup_python() {
  command -v python3 >/dev/null || die "python3 is required"
  if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV" || die "could not create $VENV (on Debian: apt-get install python3-venv)"
  fi
  PY="$VENV/bin/python"
  "$PY" -c 'import yaml' 2>/dev/null || "$PY" -m pip install --quiet --disable-pip-version-check pyyaml \
    || die "pip install pyyaml failed"
}
