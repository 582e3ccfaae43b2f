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
if [ "${1:-}" = "--test" ]; then
  # The tests start their own redis-server and PostgreSQL on loopback: they need the binaries only.
  have_pg_bins() {
    local d
    command -v initdb >/dev/null && command -v pg_ctl >/dev/null && command -v postgres >/dev/null && return 0
    for d in /usr/lib/postgresql/*/bin; do
      [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ] && return 0
    done
    return 1
  }
  if ! command -v redis-server >/dev/null || ! have_pg_bins; then
    echo "== installing redis-server and postgresql (Debian)" >&2
    apt-get update -q
    pkgs=(redis-server postgresql)
    if apt-cache show --no-all-versions postgresql-15-pgvector 2>/dev/null | grep '^Package:' >/dev/null; then
      pkgs+=(postgresql-15-pgvector)
    fi
    # Keep the packages' init scripts from starting system services (policy-rc.d: 101 = deny).
    policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      policy=/usr/sbin/policy-rc.d
      printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy"
      trap 'rm -f "$policy"' EXIT
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${pkgs[@]}"
    if [ -n "$policy" ]; then rm -f "$policy"; trap - EXIT; fi
    command -v redis-server >/dev/null && have_pg_bins || { echo "redis-server or PostgreSQL missing after install" >&2; exit 1; }
  fi
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
extra=""
[ "${1:-}" = "--test" ] && extra="[test]"
echo "== pip install -e .${extra}" >&2
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extra}" 2>&1 | grep -v '^WARNING: Location' || true
.venv/bin/python -c 'import sluice' || { echo "install failed" >&2; exit 1; }
