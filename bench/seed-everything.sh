#!/usr/bin/env bash
# Seeds a fresh store for bench/sluice-bench-everything.yaml and prints the tenant key's secret
# (the only line on stdout): tenant "bench" with tenant limits and a day and a month budget, and
# its key "bench-app" with key limits and a day and a month budget, all far from refusing. Uses
# the admin CLI against the same store the gateway then opens.
#   SLUICE_BENCH_DB=/tmp/x.db bench/seed-everything.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DB="${SLUICE_BENCH_DB:?set SLUICE_BENCH_DB to the store file the gateway will use}"
CFG="$ROOT/bench/sluice-bench-everything.yaml"
rm -f "$DB" "$DB-wal" "$DB-shm"
export SLUICE_BENCH_DB="$DB" MOCK_API_BASE="${MOCK_API_BASE:-http://127.0.0.1:9100/v1}"
# This checkout's code (and migrations), not whichever one the shared virtualenv's `sluice` imports.
SLUICE=(env PYTHONPATH="$ROOT" "$ROOT/.venv/bin/python" -m sluice)
sl() { "${SLUICE[@]}" "$@" --config "$CFG" >/dev/null; }
sl tenants create Bench --id bench
KEY_JSON=$("${SLUICE[@]}" keys create bench bench-app --config "$CFG")
read -r KEY_ID SECRET < <(printf '%s' "$KEY_JSON" | "$ROOT/.venv/bin/python" -c \
  'import json, sys; k = json.load(sys.stdin); print(k["id"], k["key"])')
sl limits set bench --rpm 100000000 --tpm 1000000000000
sl limits set bench --key "$KEY_ID" --rpm 100000000 --tpm 1000000000000
for period in day month; do
  sl budgets set bench "$period" --max-tokens 1000000000000 --max-cost-micros 1000000000000000
  sl budgets set bench "$period" --key "$KEY_ID" --max-tokens 1000000000000 --max-cost-micros 1000000000000000
done
printf '%s\n' "$SECRET"
