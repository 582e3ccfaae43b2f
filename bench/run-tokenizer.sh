#!/usr/bin/env bash
# What counting input tokens with tiktoken costs, side by side in one run of compare.sh:
#   sluice                    bench/sluice-bench.yaml                    nothing metered
#   sluice-budgets            bench/sluice-bench-budgets.yaml            limits + budgets, tiktoken (default)
#   sluice-budgets-estimate   bench/sluice-bench-budgets-estimate.yaml   the same, limits.tokenizer: estimate
#   bench/run-tokenizer.sh [extra compare.sh options, e.g. --repeat 2]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
B="${SLUICE_BENCH_HARNESS:-$ROOT/../shared/bench}"
[ -x "$ROOT/.venv/bin/sluice" ] || bash "$ROOT/scripts/install.sh"
S="$ROOT/.venv/bin/sluice serve --host 127.0.0.1"
cd "$B"
exec ./compare.sh --concurrency "${CONCURRENCY:-1 10 100}" --modes "json stream" \
  --requests "${REQUESTS:-3000}" --duration "${DURATION:-40}" "$@" \
  --gw sluice --start "$S --port 4200 --config $ROOT/bench/sluice-bench.yaml" --url http://127.0.0.1:4200 --key sk-bench \
  --gw sluice-budgets --start "env SLUICE_BENCH_DB=/tmp/sluice-bench-b.db $S --port 4202 --config $ROOT/bench/sluice-bench-budgets.yaml" \
     --url http://127.0.0.1:4202 --key sk-bench \
  --gw sluice-budgets-estimate --start "env SLUICE_BENCH_DB=/tmp/sluice-bench-e.db $S --port 4204 --config $ROOT/bench/sluice-bench-budgets-estimate.yaml" \
     --url http://127.0.0.1:4204 --key sk-bench
