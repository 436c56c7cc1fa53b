#!/usr/bin/env bash
# Installs the real citation parsers tests/citations.rs checks annals' exports with:
# bibtexparser and rispy (Python, into tests/cite/.venv) and Citation.js (npm, into
# tests/cite/node_modules). Idempotent: does nothing when both are already installed
# for the current requirements.txt and package-lock.json.
#
# Needs: python3 with the venv module (Debian: python3-venv), node >= 20 with npm.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"

# The venv is rebuilt when requirements.txt changes (its hash is kept inside the venv).
want="$(sha256sum requirements.txt | cut -d' ' -f1)"
have="$(cat .venv/.requirements.sha256 2>/dev/null || true)"
if [ "$want" != "$have" ] || [ ! -x .venv/bin/python ]; then
  rm -rf .venv
  python3 -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
  echo "$want" > .venv/.requirements.sha256
fi

# npm ci when node_modules is missing or older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
