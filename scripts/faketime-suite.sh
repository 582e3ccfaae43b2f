#!/usr/bin/env bash
# The time-sensitive part of the suite at chosen instants: budgets and their UTC days and months,
# rate limits, keys and their expiry, JWT, cache TTLs, usage by period, the CLI. Each run starts
# `pytest` under libfaketime with the clock moved to the instant, and everything the tests start
# (PostgreSQL, gateways, the sim) inherits the same fake clock, as the same offset from the real
# one, so all of them agree as they would on one NTP-synced host. redis-server gets the same
# offset from scripts/faketime/shift_clock.c instead (libfaketime cannot load into a program
# linked with jemalloc). The clock keeps running: an instant two seconds before midnight crosses
# it while the tests run.
#
#   bash scripts/faketime-suite.sh                  # the default instants below
#   bash scripts/faketime-suite.sh '2030-06-30 23:59:59'        # others (UTC)
#   TZ=Europe/Berlin bash scripts/faketime-suite.sh ...         # the host in another time zone
#   FAKETIME_TESTS="tests/budgets" bash scripts/faketime-suite.sh   # another selection
#
# Prints one line per instant ('<instant>: N passed, N failed') and exits non-zero if any failed.
# Outside the default test command: it runs the selection once per instant (a few minutes each).
set -euo pipefail
cd "$(dirname "$0")/.."

instants=("$@")
if [ "${#instants[@]}" -eq 0 ]; then
  instants=(
    "2026-12-31 23:59:58"   # a day, a month and a year end two seconds in
    "2027-02-28 23:59:59"   # the last second of February in a common year
    "2028-02-29 12:00:00"   # a leap day
    "2031-01-01 00:00:00"   # a new year and decade, and past every date the tests' data names
    "TZ=America/New_York 2027-03-14 06:59:58"   # US daylight saving begins 2 s in (07:00 UTC)
    "TZ=Europe/Berlin 2027-10-31 00:59:58"      # EU daylight saving ends 2 s in (01:00 UTC)
  )
fi
# Budgets, limits, keys, JWT, caches, usage and the request log, the CLI; and the end-to-end tests
# of each through a running gateway (the two-replica budget test on Redis and PostgreSQL included).
read -r -a tests <<<"${FAKETIME_TESTS:-tests/budgets tests/limits tests/auth tests/cache tests/admin tests/store \
tests/test_cli.py tests/e2e/test_budgets.py tests/e2e/test_jwt.py tests/e2e/test_rate_limits.py tests/e2e/test_cache.py \
tests/e2e/test_request_log.py tests/e2e/test_invalidation.py tests/e2e/test_distributed_store.py}"

[ -x .venv/bin/python ] || bash scripts/install.sh --test
lib=$(dpkg -L libfaketime 2>/dev/null | grep '/libfaketime\.so\.1$' | head -1 || true)
if [ -z "$lib" ]; then
  echo "== installing faketime (Debian)" >&2
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q faketime >&2
  lib=$(dpkg -L libfaketime | grep '/libfaketime\.so\.1$' | head -1)
fi

# redis-server's clock shift: built here (gcc is on the machine; Debian's build-essential if not).
command -v gcc >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q gcc libc6-dev >&2; }
shim_dir=$(mktemp -d)
trap 'rm -rf "$shim_dir"' EXIT
gcc -O2 -shared -fPIC -o "$shim_dir/shift_clock.so" scripts/faketime/shift_clock.c

failed=0
summary=()
for spec in "${instants[@]}"; do
  tz="UTC"
  at="$spec"
  if [[ "$spec" == TZ=* ]]; then
    tz="${spec%% *}"
    tz="${tz#TZ=}"
    at="${spec#* }"
  fi
  target=$(date -u -d "$at UTC" +%s)
  offset=$((target - $(date -u +%s)))
  echo "== $at UTC (TZ=$tz): the clock moved by ${offset} s" >&2
  log=$(mktemp)
  set +e
  # FAKETIME as an offset ('+N' seconds): every process that starts later gets the same offset, so
  # the clocks of pytest, Redis, PostgreSQL and the gateways agree. The monotonic clock moves by
  # the same offset (harmless: only differences of it are used; and libfaketime 0.9.10's
  # FAKETIME_DONT_FAKE_MONOTONIC breaks Python's time.sleep with EINVAL).
  env TZ="$tz" LD_PRELOAD="$lib" FAKETIME="$(printf '%+d' "$offset")" \
    SLUICE_TEST_REDIS_PRELOAD="$shim_dir/shift_clock.so" SHIFT_CLOCK_S="$offset" \
    .venv/bin/python -m pytest -q -p no:cacheprovider "${tests[@]}" 2>&1 | tee "$log" | tail -n 25
  code=${PIPESTATUS[0]}
  set -e
  line=$(grep -E '^[=]* ?[0-9]+ (passed|failed)' "$log" | tail -1 | sed -E 's/^=+ //; s/ in [0-9.]+s.*//; s/ =+$//')
  rm -f "$log"
  summary+=("$at UTC (TZ=$tz): ${line:-no result} (exit $code)")
  [ "$code" -eq 0 ] || failed=1
done
echo
printf '%s\n' "${summary[@]}"
exit "$failed"
