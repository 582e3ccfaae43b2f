#!/usr/bin/env bash
# Sluice beside LiteLLM and the minimal pass-through proxy, with ../shared/bench/compare.sh:
# JSON and streaming, concurrency 1, 10 and 100, each gateway pinned to one core.
#   bench/run.sh [extra compare.sh options, e.g. --repeat 2]
# Prints the table (also in $BENCH_OUT/<timestamp>/summary.md). Loopback only.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
B="${SLUICE_BENCH_HARNESS:-$ROOT/../shared/bench}"
[ -x "$ROOT/.venv/bin/sluice" ] || bash "$ROOT/scripts/install.sh"
"$B/peers/thin/install.sh" >/dev/null
"$B/peers/litellm/install.sh" >/dev/null
cd "$B"
exec ./compare.sh --concurrency "${CONCURRENCY:-1 10 100}" --modes "json stream" \
  --requests "${REQUESTS:-2000}" --duration "${DURATION:-40}" "$@" \
  --gw thin-starlette --start 'peers/thin/start-starlette.sh 4101' --url http://127.0.0.1:4101 --key sk-thin-key \
  --gw litellm --start 'peers/litellm/start.sh 4000' --url http://127.0.0.1:4000 --key sk-bench-master-key \
  --gw sluice --start "$ROOT/.venv/bin/sluice serve --config $ROOT/bench/sluice-bench.yaml --host 127.0.0.1 --port 4200" \
     --url http://127.0.0.1:4200 --key sk-bench \
     --version-cmd "$ROOT/.venv/bin/sluice --version"
