"""What the distributed backend costs per request on the hot path, counted at the servers.

Starts a real redis-server and PostgreSQL on loopback (as the tests do), a TCP forwarder that
counts every byte the gateway sends to PostgreSQL, and one gateway on the distributed backend
whose tenant key has tenant limits, key limits and a key budget. After a warm-up request it sends
REQUESTS JSON and REQUESTS streaming requests one at a time and prints, per request, the Redis
round trips (read events Redis processed), the Redis commands (EVALSHA calls) and the bytes sent
to PostgreSQL.

    .venv/bin/python bench/state_trips.py [REQUESTS]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import _Gateways  # noqa: E402
from tests.e2e.test_budgets import budgeted_config  # noqa: E402
from tests.e2e.test_hot_path_state import tenant_with_everything  # noqa: E402
from tests.fixtures.http import call  # noqa: E402
from tests.fixtures.services import start_postgres, start_redis  # noqa: E402
from tests.fixtures.tcpcount import counting_proxy  # noqa: E402


def evalsha_calls(r: redis.Redis) -> int:
    return int(r.info("commandstats").get("cmdstat_evalsha", {}).get("calls", 0))


def main(requests: int) -> None:
    with tempfile.TemporaryDirectory(prefix="sluice-trips-") as tmp:
        base = Path(tmp)
        for d in ("redis", "pg"):
            (base / d).mkdir()
        rs, pg = start_redis(base / "redis"), start_postgres(base / "pg")
        gateways = _Gateways(base)
        try:
            dsn = urlsplit(pg.url)
            assert dsn.hostname is not None and dsn.port is not None
            with counting_proxy(dsn.hostname, dsn.port) as proxy:
                through = urlunsplit(dsn._replace(netloc=f"{dsn.username}@127.0.0.1:{proxy.port}"))
                config = budgeted_config(
                    state={"backend": "distributed", "postgres_dsn": through, "redis_url": rs.url}
                )
                config["auth"]["key_cache_s"] = 600
                gw = gateways(config)
                headers = {"authorization": f"Bearer {tenant_with_everything(gw)}"}
                r = redis.Redis.from_url(rs.url, socket_timeout=5)
                print(
                    f"{'mode':<8} {'requests':>8} {'redis round trips/req':>22} {'redis EVALSHA/req':>18} {'postgres bytes/req':>19}"
                )
                for mode in ("json", "stream"):
                    body = {
                        "model": "gpt-4o-mini",
                        "messages": [{"role": "user", "content": "hello there"}],
                        "max_tokens": 20,
                        "stream": mode == "stream",
                    }
                    assert (
                        call("POST", gw.base_url + "/v1/chat/completions", body, headers).status == 200
                    )  # warm
                    reads, evals, sent = (
                        int(r.info("stats")["total_reads_processed"]),
                        evalsha_calls(r),
                        proxy.sent,
                    )
                    for _ in range(requests):
                        reply = call("POST", gw.base_url + "/v1/chat/completions", body, headers)
                        assert reply.status == 200, reply.body
                    trips = int(r.info("stats")["total_reads_processed"]) - reads - 2  # the two INFO calls
                    n_evals = evalsha_calls(r) - evals
                    print(
                        f"{mode:<8} {requests:>8} {trips / requests:>22.2f} {n_evals / requests:>18.2f} {(proxy.sent - sent) / requests:>19.1f}"
                    )
        finally:
            gateways.stop_all()
            pg.stop()
            rs.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
