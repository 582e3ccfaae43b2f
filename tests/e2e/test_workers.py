"""``sluice serve`` with two workers on one host (issue 19): what is shared and what is per worker,
as docs/operations.md tabulates it. Each request is sent on a keep-alive connection whose worker is
known (read from /proc: which worker holds the accepted socket), so a test can alternate between
the two workers deterministically instead of hoping the kernel spreads the connections.

- The request log (one SQLite file) loses nothing across workers, either worker's ``/metrics``
  counts both workers' requests, and SIGTERM to the parent drains both: a stream in flight on
  each runs to its end and has its row.
- Embedded without Redis: each worker enforces the whole rate limit and keeps its own exact cache,
  and the parent warns at startup.
- Embedded with ``state.redis_url``: one limit, one budget and one exact cache for both workers.
"""

from __future__ import annotations

import http.client
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import DEMO_KEY, sim_config
from tests.e2e.test_shutdown import all_workers
from tests.fixtures.clock import clear_of_utc_midnight
from tests.fixtures.procs import Proc
from tests.fixtures.wait import eventually

AUTH = {"authorization": f"Bearer {DEMO_KEY}", "content-type": "application/json"}
BUDGET_KEY = "sk-budgeted-worker-test"
CACHE_KEY = "sk-cache-worker-test"


def two_workers(**extra: Any) -> dict[str, Any]:
    config = sim_config(chunk_delay_ms=100)
    config["server"] = {"workers": 2, "graceful_shutdown_s": 20}
    config["cache"] = {"enabled": True, "policy": {"exact": True, "deterministic_only": False}}
    return {**config, **extra}


def _port(address: str) -> int:
    return int(address.rsplit(":", 1)[1], 16)


def owner(workers: list[int], server_port: int, client_port: int) -> int | None:
    """The worker holding the accepted end of the loopback connection from ``client_port``."""
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if _port(fields[1]) == server_port and _port(fields[2]) == client_port:
            inode = fields[9]
    if inode is None:
        return None
    for pid in workers:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    return None


class Pinned:
    """Keep-alive connections to a gateway of several workers, grouped by the worker that holds
    each; connections are opened (several at once, so the kernel hands them to both workers)
    until every worker holds at least ``per_worker``."""

    def __init__(self, gw: Proc, per_worker: int = 2) -> None:
        self.gw = gw
        self.port = int(gw.base_url.rsplit(":", 1)[1])
        self.workers = all_workers(gw.pid, 2)
        self.by_worker: dict[int, list[http.client.HTTPConnection]] = {pid: [] for pid in self.workers}
        self._all: list[http.client.HTTPConnection] = []
        for _ in range(20):
            if all(len(c) >= per_worker for c in self.by_worker.values()):
                return
            batch = [http.client.HTTPConnection("127.0.0.1", self.port, timeout=30) for _ in range(8)]
            threads = [threading.Thread(target=self._probe, args=(c,)) for c in batch]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            for c in batch:
                self._all.append(c)
                assert c.sock is not None
                pid = owner(self.workers, self.port, c.sock.getsockname()[1])
                if pid is not None:
                    self.by_worker[pid].append(c)
        raise AssertionError(
            f"connections did not reach both workers: { {p: len(c) for p, c in self.by_worker.items()} }"
        )

    @staticmethod
    def _probe(c: http.client.HTTPConnection) -> None:
        c.request("GET", "/health/live")
        r = c.getresponse()
        r.read()
        assert r.status == 200

    def alternate(self, n: int) -> Iterator[http.client.HTTPConnection]:
        """``n`` connections, taking turns between the workers."""
        a, b = (self.by_worker[pid] for pid in self.workers)
        for i in range(n):
            yield (a if i % 2 == 0 else b)[i // 2 % len(a if i % 2 == 0 else b)]

    def close(self) -> None:
        for c in self._all:
            c.close()


def chat(
    conn: http.client.HTTPConnection, key: str = DEMO_KEY, **body: Any
) -> tuple[int, dict[str, str], bytes]:
    payload = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello there"}], **body}
    headers = {**AUTH, "authorization": f"Bearer {key}"}
    conn.request("POST", "/v1/chat/completions", msgspec.json.encode(payload), headers)
    r = conn.getresponse()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()


def requests_counted(conn: http.client.HTTPConnection) -> float:
    conn.request("GET", "/metrics")
    r = conn.getresponse()
    text = r.read().decode()
    assert r.status == 200
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "sluice_requests_total"
    )


def rows(gw: Proc) -> int:
    port = gw.base_url.rsplit(":", 1)[1]
    with sqlite3.connect(gw.log_path.parent / f"gateway-{port}.db") as db:
        return int(db.execute("SELECT COUNT(*) FROM request_log").fetchone()[0])


@pytest.fixture
def pinned() -> Iterator[list[Pinned]]:
    made: list[Pinned] = []
    yield made
    for p in made:
        p.close()


def test_the_request_log_loses_nothing_across_workers_and_sigterm_drains_both(gateway, pinned) -> None:
    gw = gateway(two_workers())
    conns = Pinned(gw, per_worker=3)
    pinned.append(conns)
    sent = 0
    lock = threading.Lock()

    def send(c: http.client.HTTPConnection, n: int) -> None:
        nonlocal sent
        for i in range(n):
            status, _, _ = chat(c, messages=[{"role": "user", "content": f"question {id(c)} {i}"}])
            assert status == 200
            with lock:
                sent += 1

    threads = [threading.Thread(target=send, args=(c, 10)) for c in conns.alternate(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sent == 60
    # Metrics are shared (prometheus_client's multiprocess mode): either worker's scrape counts all 60.
    for c in conns.alternate(2):
        assert requests_counted(c) == 60
    # A stream in flight on each worker (20 words, 100 ms apart), then SIGTERM to the parent.
    streams = []
    for c in conns.alternate(2):
        body = {
            "model": "gpt-4o-mini",
            "stream": True,
            "messages": [{"role": "user", "content": " ".join(["word"] * 17)}],
        }
        c.request("POST", "/v1/chat/completions", msgspec.json.encode(body), AUTH)
        r = c.getresponse()
        assert r.status == 200
        assert r.readline().startswith(b"data: ")
        streams.append(r)
    gw.popen.send_signal(15)
    for r in streams:
        rest = r.read()
        assert rest.rstrip().endswith(b"data: [DONE]"), rest[-200:]
    assert gw.popen.wait(30) is not None
    assert rows(gw) == sent + 2


def test_embedded_without_redis_each_worker_enforces_the_whole_limit_and_the_parent_warns(
    gateway, pinned
) -> None:
    config = two_workers()
    config["auth"]["keys"][0]["limits"] = {"rpm": 2}
    gw = gateway(config)
    conns = Pinned(gw)
    pinned.append(conns)
    assert "2 workers on the embedded backend without state.redis_url" in gw.log()
    statuses = [
        chat(c, temperature=0, messages=[{"role": "user", "content": f"q{i}"}])[0]
        for i, c in enumerate(conns.alternate(6))
    ]
    # Two per worker, four in all: the limit of 2 RPM is each worker's.
    assert statuses == [200, 200, 200, 200, 429, 429]


def test_embedded_without_redis_the_exact_cache_is_per_worker(gateway, pinned) -> None:
    gw = gateway(two_workers())
    conns = Pinned(gw, per_worker=1)
    pinned.append(conns)
    a, b = conns.alternate(2)
    assert chat(a, temperature=0)[1]["x-sluice-cache"] == "miss"
    assert chat(a, temperature=0)[1]["x-sluice-cache"] == "hit"  # kept in worker a's memory
    assert chat(b, temperature=0)[1]["x-sluice-cache"] == "miss"


def test_embedded_with_redis_both_workers_share_one_limit_one_budget_and_one_exact_cache(
    gateway, pinned, redis_clean: str
) -> None:
    clear_of_utc_midnight()
    config = two_workers(state={"redis_url": redis_clean})
    config["auth"]["keys"][0]["limits"] = {"rpm": 3}
    # The sim answers "hello there" with 5 input and 5 output tokens; with max_tokens 5 each
    # request reserves at most 15 and is charged 10: a day's 45 tokens admit exactly four (asked
    # with no-store: a cache hit would cost nothing).
    config["auth"]["keys"].append(
        {"key": BUDGET_KEY, "name": "budgeted", "budgets": [{"period": "day", "max_tokens": 45}]}
    )
    config["auth"]["keys"].append({"key": CACHE_KEY, "name": "cached"})
    gw = gateway(config)
    assert "without state.redis_url" not in gw.log()
    conns = Pinned(gw)
    pinned.append(conns)
    limited = [
        chat(c, messages=[{"role": "user", "content": f"q{i}"}])[0] for i, c in enumerate(conns.alternate(6))
    ]
    assert limited == [200, 200, 200, 429, 429, 429]
    budgeted = [
        chat(c, key=BUDGET_KEY, max_tokens=5, sluice={"cache": "no-store"})[0] for c in conns.alternate(6)
    ]
    assert budgeted == [200, 200, 200, 200, 429, 429]
    a, b = conns.alternate(2)
    question = {"temperature": 0, "messages": [{"role": "user", "content": "cached once"}]}
    assert chat(a, key=CACHE_KEY, **question)[1]["x-sluice-cache"] == "miss"
    eventually(lambda: chat(a, key=CACHE_KEY, **question)[1]["x-sluice-cache"] == "hit", what="a's hit")
    assert chat(b, key=CACHE_KEY, **question)[1]["x-sluice-cache"] == "hit"  # kept in Redis by worker a


def respond(conn: http.client.HTTPConnection, **body: Any) -> dict[str, Any]:
    payload = {"model": "gpt-4o-mini", "input": "remember the number 7", **body}
    conn.request("POST", "/v1/responses", msgspec.json.encode(payload), AUTH)
    r = conn.getresponse()
    data = r.read()
    assert r.status == 200, data
    out: dict[str, Any] = msgspec.json.decode(data)
    return out


def test_a_stored_response_continues_at_once_on_the_other_worker(gateway, pinned) -> None:
    """The answer is stored behind the request (the client does not wait on the database): the
    other worker, which has not got it yet, waits for it rather than answering 404."""
    gw = gateway(two_workers())
    conns = Pinned(gw, per_worker=1)
    pinned.append(conns)
    for i in range(10):
        a, b = conns.alternate(2) if i % 2 == 0 else reversed(list(conns.alternate(2)))
        first = respond(a)
        follow = respond(b, previous_response_id=first["id"], input="which number?")
        assert follow["previous_response_id"] == first["id"]
        b.request("GET", f"/v1/responses/{first['id']}", headers=AUTH)
        r = b.getresponse()
        assert r.status == 200 and msgspec.json.decode(r.read())["id"] == first["id"]
