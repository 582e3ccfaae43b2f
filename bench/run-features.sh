#!/usr/bin/env bash
# What the per-request features cost, side by side in one run of ../shared/bench/compare.sh:
#   sluice          bench/sluice-bench.yaml          a static key, nothing metered
#   sluice-limits   bench/sluice-bench-limits.yaml   RPM, TPM, in-flight and max_tokens limits
#   sluice-budgets  bench/sluice-bench-budgets.yaml  those limits plus day and month budgets
#   sluice-cache    bench/sluice-bench-cache.yaml    the exact cache on: every request after the first is a hit
# and thin-starlette as the floor. Embedded backend (in-process counters); no LiteLLM.
#   bench/run-features.sh [extra compare.sh options, e.g. --repeat 2]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
B="${SLUICE_BENCH_HARNESS:-$ROOT/../shared/bench}"
[ -x "$ROOT/.venv/bin/sluice" ] || bash "$ROOT/scripts/install.sh"
"$B/peers/thin/install.sh" >/dev/null
S="$ROOT/.venv/bin/sluice serve --host 127.0.0.1"
cd "$B"
exec ./compare.sh --concurrency "${CONCURRENCY:-1 10 100}" --modes "json stream" \
  --requests "${REQUESTS:-3000}" --duration "${DURATION:-40}" "$@" \
  --gw thin-starlette --start 'peers/thin/start-starlette.sh 4101' --url http://127.0.0.1:4101 --key sk-thin-key \
  --gw sluice --start "$S --port 4200 --config $ROOT/bench/sluice-bench.yaml" --url http://127.0.0.1:4200 --key sk-bench \
  --gw sluice-limits --start "env SLUICE_BENCH_DB=/tmp/sluice-bench-l.db $S --port 4201 --config $ROOT/bench/sluice-bench-limits.yaml" \
     --url http://127.0.0.1:4201 --key sk-bench \
  --gw sluice-budgets --start "env SLUICE_BENCH_DB=/tmp/sluice-bench-b.db $S --port 4202 --config $ROOT/bench/sluice-bench-budgets.yaml" \
     --url http://127.0.0.1:4202 --key sk-bench \
  --gw sluice-cache --start "env SLUICE_BENCH_DB=/tmp/sluice-bench-c.db $S --port 4203 --config $ROOT/bench/sluice-bench-cache.yaml" \
     --url http://127.0.0.1:4203 --key sk-bench
