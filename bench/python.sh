# Sourced by bench/run.sh and bench/scale.sh (which define VENV and die): sets
# PY to the benchmark's own Python, a virtualenv in VENV made on first use,
# with PyYAML for the corpus generator.
command -v python3 >/dev/null || die "python3 is required"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV" || die "could not create $VENV (on Debian: apt-get install python3-venv)"
fi
PY="$VENV/bin/python"
"$PY" -c 'import yaml' 2>/dev/null || "$PY" -m pip install --quiet --disable-pip-version-check pyyaml \
  || die "pip install pyyaml failed"
