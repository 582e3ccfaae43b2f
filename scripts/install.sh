#!/usr/bin/env bash
# Install Sluice into .venv at the repo root (idempotent). With --test, also what the test
# suite needs. Works on a fresh Debian with Python 3.11: only PyPI and Debian packages.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"

if ! "$PY" -m venv --help >/dev/null 2>&1 || ! "$PY" -c 'import ensurepip' >/dev/null 2>&1; then
  echo "== installing python3-venv (Debian)" >&2
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
extra=""
[ "${1:-}" = "--test" ] && extra="[test]"
echo "== pip install -e .${extra}" >&2
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extra}" 2>&1 | grep -v '^WARNING: Location' || true
.venv/bin/python -c 'import sluice' || { echo "install failed" >&2; exit 1; }
