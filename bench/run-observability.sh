#!/usr/bin/env bash
# What the observability stack costs, side by side in one run of ../shared/bench/compare.sh:
#   sluice-obs-off  bench/sluice-bench-obs-off.yaml  no metrics, no request line, no request log
#   sluice-obs      bench/sluice-bench-obs.yaml      Prometheus metrics, a JSON request line per
#                                                    request, the request log in SQLite (tracing off)
#   sluice-tracing  bench/sluice-bench-tracing.yaml  obs-off with OpenTelemetry tracing on (not exported)
# Embedded backend. The request-log writer's own capacity is measured by bench/log_writer.py.
#   bench/run-observability.sh [extra compare.sh options, e.g. --repeat 2]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
B="${SLUICE_BENCH_HARNESS:-$ROOT/../shared/bench}"
[ -x "$ROOT/.venv/bin/sluice" ] || bash "$ROOT/scripts/install.sh"
S="$ROOT/.venv/bin/sluice serve --host 127.0.0.1"
cd "$B"
exec ./compare.sh --concurrency "${CONCURRENCY:-1 10 100}" --modes "json stream" \
  --requests "${REQUESTS:-3000}" --duration "${DURATION:-40}" "$@" \
  --gw sluice-obs-off --start "env SLUICE_BENCH_DB=/tmp/sluice-bench-off.db $S --port 4205 --config $ROOT/bench/sluice-bench-obs-off.yaml" \
     --url http://127.0.0.1:4205 --key sk-bench \
  --gw sluice-obs --start "env SLUICE_BENCH_DB=/tmp/sluice-bench-obs.db $S --port 4206 --config $ROOT/bench/sluice-bench-obs.yaml" \
     --url http://127.0.0.1:4206 --key sk-bench \
  --gw sluice-tracing --start "env SLUICE_BENCH_DB=/tmp/sluice-bench-tr.db $S --port 4207 --config $ROOT/bench/sluice-bench-tracing.yaml" \
     --url http://127.0.0.1:4207 --key sk-bench
