"""What the distributed backend costs per request once warm, counted at the servers: with rate
limits and budgets on, exactly two Redis round trips (one to admit and reserve, one to settle)
and not a byte to PostgreSQL (keys and policies are cached, invalidated through Redis)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis

from tests.e2e.test_budgets import ADMIN, HEADERS, budgeted_config
from tests.fixtures.http import call
from tests.fixtures.procs import Proc
from tests.fixtures.tcpcount import counting_proxy

REQUESTS = 20


def redis_reads(r: redis.Redis) -> int:
    """Read events Redis processed: one per client write it took in (this INFO's own included)."""
    return int(r.info("stats")["total_reads_processed"])


def tenant_with_everything(gw: Proc) -> str:
    """Tenant limits, key limits and a key budget (all far from refusing); returns the key."""
    assert call("POST", gw.base_url + "/admin/tenants", {"id": "acme", "name": "Acme"}, HEADERS).status == 201
    limits = {"rpm": 100_000, "tpm": 100_000_000, "max_concurrent": 100}
    assert call("PUT", gw.base_url + "/admin/tenants/acme/limits", limits, HEADERS).status == 200
    key = call("POST", gw.base_url + "/admin/tenants/acme/keys", {"name": "app"}, HEADERS).json()
    assert (
        call(
            "PUT", gw.base_url + f"/admin/tenants/acme/keys/{key['id']}/limits", {"rpm": 10_000}, HEADERS
        ).status
        == 200
    )
    budget = {"period": "day", "max_cost_micros": 10**12, "max_tokens": 10**9}
    assert (
        call("PUT", gw.base_url + f"/admin/tenants/acme/keys/{key['id']}/budgets", budget, HEADERS).status
        == 200
    )
    return key["key"]


def test_two_redis_round_trips_and_no_database_query_per_request(
    gateway, postgres_clean: str, redis_clean: str
) -> None:
    pg = urlsplit(postgres_clean)
    assert pg.hostname is not None and pg.port is not None
    with counting_proxy(pg.hostname, pg.port) as proxy:
        through_proxy = urlunsplit(pg._replace(netloc=f"{pg.username}@127.0.0.1:{proxy.port}"))
        config = budgeted_config(
            state={"backend": "distributed", "postgres_dsn": through_proxy, "redis_url": redis_clean}
        )
        config["auth"]["key_cache_s"] = 600
        gw = gateway(config)
        key = tenant_with_everything(gw)
        headers = {"authorization": f"Bearer {key}"}

        def chat(**body: Any) -> None:
            payload = {
                "model": "gpt-4o-mini",
                "messages": [{"role": "user", "content": "hello there"}],
                "max_tokens": 20,
                **body,
            }
            r = call("POST", gw.base_url + "/v1/chat/completions", payload, headers)
            assert r.status == 200, r.body
            assert "x-ratelimit-remaining-requests" in r.headers or body.get("stream")

        chat()  # warm: the key is looked up once, the scripts loaded once
        chat(stream=True)
        r = redis.Redis.from_url(redis_clean, socket_timeout=5)
        reads, sent = redis_reads(r), proxy.sent
        for i in range(REQUESTS):
            chat(stream=i % 2 == 1)
        assert redis_reads(r) - reads - 1 == 2 * REQUESTS
        assert proxy.sent == sent, "no request reached PostgreSQL"
        assert (
            call(
                "GET", gw.base_url + "/admin/tenants/acme/keys", headers={"authorization": f"Bearer {ADMIN}"}
            ).status
            == 200
        )
        assert proxy.sent > sent, "the proxy does count: an admin read goes to the database"
