#!/usr/bin/env bash
# What the per-request features cost, side by side in one run of ../shared/bench/compare.sh:
#   sluice             bench/sluice-bench.yaml             a static key, nothing metered
#   sluice-limits      bench/sluice-bench-limits.yaml      RPM, TPM, in-flight and max_tokens limits
#   sluice-budgets     bench/sluice-bench-budgets.yaml     those limits plus day and month budgets
#   sluice-cache       bench/sluice-bench-cache.yaml       the exact cache on: every request after the first is a hit
#   sluice-everything  bench/sluice-bench-everything.yaml  production-like, everything on: a store-backed tenant
#                      key (seeded by bench/seed-everything.sh) with RPM/TPM limits and day and month budgets on
#                      tenant and key, metrics, JSON request lines, the request log, the exact cache (misses),
#                      guardrails (injection flag, PII redact, secrets block, output PII redact)
# and thin-starlette as the floor. Embedded backend (in-process counters); no LiteLLM.
#   bench/run-features.sh [extra compare.sh options, e.g. --repeat 2]
# Knobs: CONCURRENCY ("1 10 100"), REQUESTS (3000), DURATION (40 s cap per cell), GATEWAYS (the names above
# to run, all by default; e.g. GATEWAYS="thin-starlette sluice sluice-everything").
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
B="${SLUICE_BENCH_HARNESS:-$ROOT/../shared/bench}"
[ -x "$ROOT/.venv/bin/sluice" ] || bash "$ROOT/scripts/install.sh"
"$B/peers/thin/install.sh" >/dev/null
S="$ROOT/.venv/bin/sluice serve --host 127.0.0.1"
WANT=" ${GATEWAYS:-thin-starlette sluice sluice-limits sluice-budgets sluice-cache sluice-everything} "
GW=()
add() {  # name start-command url key
  case "$WANT" in *" $1 "*) GW+=(--gw "$1" --start "$2" --url "$3" --key "$4") ;; esac
}
add thin-starlette 'peers/thin/start-starlette.sh 4101' http://127.0.0.1:4101 sk-thin-key
add sluice "$S --port 4200 --config $ROOT/bench/sluice-bench.yaml" http://127.0.0.1:4200 sk-bench
add sluice-limits "env SLUICE_BENCH_DB=/tmp/sluice-bench-l.db $S --port 4201 --config $ROOT/bench/sluice-bench-limits.yaml" \
  http://127.0.0.1:4201 sk-bench
add sluice-budgets "env SLUICE_BENCH_DB=/tmp/sluice-bench-b.db $S --port 4202 --config $ROOT/bench/sluice-bench-budgets.yaml" \
  http://127.0.0.1:4202 sk-bench
add sluice-cache "env SLUICE_BENCH_DB=/tmp/sluice-bench-c.db $S --port 4203 --config $ROOT/bench/sluice-bench-cache.yaml" \
  http://127.0.0.1:4203 sk-bench
case "$WANT" in *" sluice-everything "*)
  # A fresh store with the tenant, its key, their limits and budgets; the harness sends that key.
  EVERYTHING_KEY="$(SLUICE_BENCH_DB=/tmp/sluice-bench-everything.db "$ROOT/bench/seed-everything.sh")"
  add sluice-everything \
    "env SLUICE_BENCH_DB=/tmp/sluice-bench-everything.db $S --port 4208 --config $ROOT/bench/sluice-bench-everything.yaml" \
    http://127.0.0.1:4208 "$EVERYTHING_KEY" ;;
esac
[ ${#GW[@]} -gt 0 ] || { echo "GATEWAYS names none of the gateways above" >&2; exit 2; }
cd "$B"
exec ./compare.sh --concurrency "${CONCURRENCY:-1 10 100}" --modes "json stream" \
  --requests "${REQUESTS:-3000}" --duration "${DURATION:-40}" "$@" "${GW[@]}"
