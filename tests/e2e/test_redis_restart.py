"""A gateway whose Redis restarts (same port, empty): once /health/ready says ok again, the next
burst of concurrent requests all succeed, fail-closed or fail-open, and the budget counts each of
them exactly once (no reservation left charged, none skipped), with rate limits, budgets and the
exact cache all on Redis."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.e2e.test_budgets import PRICES, budgeted_config
from tests.e2e.test_hot_path_state import tenant_with_everything
from tests.fixtures.http import Reply, call
from tests.fixtures.procs import Proc
from tests.fixtures.services import restart_redis, start_redis

BURST = 30


def burst(gw: Proc, key: str, round_: int) -> list[Reply]:
    """``BURST`` concurrent requests, each a different cacheable prompt (so none is a cache hit)."""

    def one(i: int) -> Reply:
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"hello r{round_}n{i}"}],
                "max_tokens": 20, "temperature": 0}  # fmt: skip
        return call("POST", gw.base_url + "/v1/chat/completions", body, {"authorization": f"Bearer {key}"})

    with ThreadPoolExecutor(BURST) as pool:
        return list(pool.map(one, range(BURST)))


def spent(replies: list[Reply]) -> tuple[int, int]:
    """Tokens and micro-dollars the replies' usage adds up to, at the sim-pricey prices."""
    price = PRICES["sim-pricey"]
    usage = [r.json()["usage"] for r in replies]
    tokens = sum(u["total_tokens"] for u in usage)
    micros = sum(
        u["prompt_tokens"] * price["input_usd_per_mtok"]
        + u["completion_tokens"] * price["output_usd_per_mtok"]
        for u in usage
    )
    return tokens, micros


def budget_counters(r: redis.Redis) -> tuple[int, int]:
    [key] = r.keys("sluice:budget:*")  # the key's one daily budget
    t, c = r.hmget(key, "t", "c")
    return int(t or 0), int(c or 0)


def wait_for(what: Any, expected: Any, within_s: float = 5.0) -> Any:
    """Poll ``what()`` until it returns ``expected`` (settles finish after the answer is sent)."""
    deadline = time.monotonic() + within_s
    while (got := what()) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return got


@pytest.mark.parametrize("fail_open", [False, True], ids=["fail-closed", "fail-open"])
def test_after_redis_restarts_the_next_burst_all_succeeds(
    gateway, postgres_clean: str, tmp_path: Path, fail_open: bool
) -> None:
    server = start_redis(tmp_path)
    try:
        state = {"backend": "distributed", "postgres_dsn": postgres_clean, "redis_url": server.url}
        config = budgeted_config(state=state)
        config["limits"] = {"fail_open": fail_open}
        config["budgets"] = {"fail_open": fail_open}
        config["cache"] = {"enabled": True}
        gw = gateway(config)
        key = tenant_with_everything(gw)
        for round_ in range(2):
            replies = burst(gw, key, round_)  # fills the gateway's pool with connections
            assert [r.status for r in replies] == [200] * BURST, [r.body for r in replies if r.status != 200][
                :2
            ]
            server = restart_redis(server, tmp_path)
            deadline = time.monotonic() + 10
            while (ready := call("GET", gw.base_url + "/health/ready").json())["status"] != "ok":
                assert time.monotonic() < deadline, ready
                time.sleep(0.05)

            replies = burst(gw, key, round_ + 10)
            assert [r.status for r in replies] == [200] * BURST, [r.body for r in replies if r.status != 200][
                :2
            ]
            assert all(r.headers["x-sluice-cache"] == "miss" for r in replies)
            with redis.Redis.from_url(server.url, socket_timeout=5) as r:
                assert wait_for(lambda r=r: budget_counters(r), spent(replies)) == spent(replies)
    finally:
        server.stop()
