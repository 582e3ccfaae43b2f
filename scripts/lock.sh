#!/usr/bin/env bash
# Regenerate the hash-locked requirements/*.lock files from pyproject.toml's pins (the only place
# versions are chosen): run it after changing a pin, commit what it writes. Resolution is
# universal (every platform, Python 3.11+), with a sha256 for every file of every pinned release.
# Versions already in a lock are kept unless a pin moves them; `--upgrade` re-resolves the
# unpinned transitive packages to their newest releases. Needs PyPI; the tool is uv, pinned
# under the test extra. scripts/install.sh installs from these files with --require-hashes.
#   test.lock      everything the test suite needs (all extras); resolved first
#   runtime.lock   the gateway alone; semantic.lock: with the semantic extra. Both are
#                  constrained by test.lock, so each package is at the version the tests ran
#   bench.lock     the test lock and the bench extra (comparison detectors), for the benchmarks
#   build.lock     pip and the build backend (pyproject.toml [build-system]) for the project itself
#   no-deps.lock   [tool.sluice] no-deps: wheels installed without their declared dependencies
set -euo pipefail
cd "$(dirname "$0")/.."
UV="${UV:-.venv/bin/uv}"
[ -x "$UV" ] || UV=uv
upgrade=()
[ "${1:-}" = "--upgrade" ] && upgrade=(--upgrade)
compile() {
  local out="$1"
  shift
  "$UV" pip compile --quiet --generate-hashes --universal --python-version 3.11 \
    --custom-compile-command "bash scripts/lock.sh" "${upgrade[@]}" -o "requirements/$out" "$@"
  echo "== requirements/$out" >&2
}
# The two lists that are not a project's dependencies, one requirement a line on stdin.
listed() { python3 -c 'import sys, tomllib; p = tomllib.load(open("pyproject.toml", "rb")); print("\n".join(eval(sys.argv[1])))' "$1"; }
compile test.lock pyproject.toml --extra test
compile runtime.lock pyproject.toml -c requirements/test.lock
compile semantic.lock pyproject.toml --extra semantic -c requirements/test.lock
compile bench.lock pyproject.toml --extra test --extra bench -c requirements/test.lock
listed '["pip", *p["build-system"]["requires"]]' | compile build.lock -
listed 'p["tool"]["sluice"]["no-deps"]' | compile no-deps.lock - --no-deps
