"""Batches seen from outside: their cost in ``/admin/usage`` by tenant, user and key (a user's key,
a JWT), the batch metrics on ``/metrics`` (lines finished, batches ended, the queue's depth read
from the store, the same from two replicas on one PostgreSQL), and ``sluice batches
list|get|cancel|wait`` against a real gateway subprocess."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time
from typing import Any

import jwt
import msgspec
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.test_batches import AH, CHAT, chat_line, config, lines_of, sdk, tenant_key, upload, wait
from tests.fixtures.http import call
from tests.fixtures.procs import REPO, SLUICE, Proc

SECRET = "batch-ops-shared-secret-0123456789abcdef"


def metric(gw: Proc, name: str) -> dict[str, float]:
    """The samples of ``name`` on the gateway's /metrics, by their ``status`` or ``outcome`` label."""
    text = call("GET", gw.base_url + "/metrics").body.decode()
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name:
                out[s.labels.get("status", s.labels.get("outcome", ""))] = s.value
    return out


def usage(gw: Proc, group_by: str) -> list[dict[str, Any]]:
    return list(call("GET", f"{gw.base_url}/admin/usage?group_by={group_by}", headers=AH).json()["data"])


def test_batch_cost_in_usage_by_tenant_user_and_key_for_a_user_key_and_a_jwt(gateway) -> None:
    cfg = config()
    cfg["auth"]["jwt"] = {"algorithms": ["HS256"], "secret": SECRET, "audience": "sluice"}
    gw = gateway(cfg)
    tenant_key(gw, "acme")  # the tenant
    user = call("POST", gw.base_url + "/admin/tenants/acme/users", {"external_id": "bob"}, AH)
    assert user.status == 201, user.body
    user_id = user.json()["id"]
    made = call("POST", gw.base_url + "/admin/tenants/acme/keys", {"name": "bob-key", "user_id": user_id}, AH)
    assert made.status == 201, made.body
    bob_key, bob_key_id = made.json()["key"], made.json()["id"]
    now = int(time.time())
    token = jwt.encode(
        {"sub": "carol", "tenant": "acme", "aud": "sluice", "iat": now, "exp": now + 600}, SECRET, "HS256"
    )
    for key, n in ((bob_key, 3), (token, 2)):
        with sdk(gw, key) as c:
            b = c.batches.create(
                input_file_id=upload(c, [chat_line(f"u-{i}", f"q {i}") for i in range(n)]),
                endpoint=CHAT,
                completion_window="24h",
            )
            assert wait(c, b.id, {"completed", "failed"}).status == "completed"
    users = {
        u["external_id"]: u["id"]
        for u in call("GET", gw.base_url + "/admin/tenants/acme/users", headers=AH).json()["data"]
    }
    assert set(users) == {"bob", "carol"}  # carol: the JWT's user, made on first use
    rows = {(r["tenant"], r["user"], r["key"]): r for r in usage(gw, "tenant,user,key")}
    bob = rows[("acme", users["bob"], bob_key_id)]
    carol = rows[("acme", users["carol"], None)]
    assert (bob["requests"], carol["requests"]) == (3, 2)
    assert bob["cost_micros"] > 0 and carol["cost_micros"] > 0
    by_user = {r["user"]: r["requests"] for r in usage(gw, "user")}
    assert by_user[users["bob"]] == 3 and by_user[users["carol"]] == 2


def test_metrics_count_lines_and_batches_and_the_queue_drains(gateway) -> None:
    gw = gateway(config())
    key, _ = tenant_key(gw, "acme")
    with sdk(gw, key) as c:
        b = c.batches.create(
            input_file_id=upload(c, [chat_line(f"m-{i}", f"q {i}") for i in range(4)]),
            endpoint=CHAT,
            completion_window="24h",
        )
        assert wait(c, b.id, {"completed", "failed"}).status == "completed"
        bad = c.batches.create(
            input_file_id=upload(c, [chat_line("a", "x"), chat_line("a", "y")]),
            endpoint=CHAT,
            completion_window="24h",
        )
        assert wait(c, bad.id, {"failed", "completed"}).status == "failed"
    assert metric(gw, "sluice_batch_lines_finished_total") == {"completed": 4}
    assert metric(gw, "sluice_batches_finished_total") == {"completed": 1, "failed": 1}
    assert metric(gw, "sluice_batch_queue_lines") == {"pending": 0, "running": 0}
    assert set(metric(gw, "sluice_batches").values()) == {0}
    assert metric(gw, "sluice_batch_oldest_pending_seconds") == {"": 0}
    text = call("GET", gw.base_url + "/metrics").body.decode()
    assert "# TYPE sluice_webhook_failures_total counter" in text  # defined; the webhooks count into it


def test_the_queue_gauges_are_read_from_the_store_the_same_on_two_replicas(
    gateway, postgres_clean: str, redis_clean: str
) -> None:
    cfg = config({"latency_ms": 30_000}, tenant_concurrency=1, drain_s=0.2)
    cfg["state"] = {"backend": "distributed", "postgres_dsn": postgres_clean, "redis_url": redis_clean}
    runner = gateway(cfg)
    idle = gateway({**cfg, "batches": {**cfg["batches"], "workers": False}})  # runs no line itself
    key, _ = tenant_key(runner, "acme")
    with sdk(runner, key) as c:
        b = c.batches.create(
            input_file_id=upload(c, [chat_line(f"g-{i}", f"q {i}") for i in range(5)]),
            endpoint=CHAT,
            completion_window="24h",
        )
        wait(c, b.id, {"in_progress"})
    deadline = time.monotonic() + 20
    while metric(runner, "sluice_batch_queue_lines").get("running") != 1:  # one line runs (30 s)
        assert time.monotonic() < deadline
        time.sleep(0.2)
    time.sleep(1.1)  # past the gauges' once-a-second read
    for gw in (runner, idle):
        assert metric(gw, "sluice_batch_queue_lines") == {"pending": 4, "running": 1}
        assert metric(gw, "sluice_batches")["in_progress"] == 1
        assert 0 <= metric(gw, "sluice_batch_oldest_pending_seconds")[""] < 60


def cli(gw: Proc, key: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SLUICE_API_KEY": key}
    return subprocess.run(
        [*SLUICE, "batches", *args, "--base-url", gw.base_url],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_list_get_cancel_wait_and_exit_codes(gateway) -> None:
    gw = gateway(config({"latency_ms": 300}, tenant_concurrency=1))
    key, _ = tenant_key(gw, "acme")
    with sdk(gw, key) as c:
        done = c.batches.create(
            input_file_id=upload(c, [chat_line(f"w-{i}", f"q {i}") for i in range(3)]),
            endpoint=CHAT,
            completion_window="24h",
        )
        slow = c.batches.create(
            input_file_id=upload(c, [chat_line(f"s-{i}", f"q {i}") for i in range(100)]),
            endpoint=CHAT,
            completion_window="24h",
        )
    r = cli(gw, key, "wait", done.id, "--interval", "0.1", "--timeout", "30")
    assert r.returncode == 0, r.stderr
    assert f"{done.id} completed: 3 completed, 0 failed of 3 output_file_id=" in r.stdout
    progress = r.stderr.splitlines()  # not a terminal: plain lines, one per change
    assert progress[-1] == f"{done.id} completed 3/3 (failed 0)"
    assert all(line.startswith(done.id + " ") for line in progress)

    got = cli(gw, key, "get", done.id)
    assert got.returncode == 0 and msgspec.json.decode(got.stdout)["request_counts"]["completed"] == 3

    table = cli(gw, key, "list").stdout.splitlines()
    assert table[0].split() == ["ID", "STATUS", "ENDPOINT", "DONE/TOTAL", "FAILED", "CREATED"]
    assert [row.split()[:4] for row in table[1:]][1] == [done.id, "completed", CHAT, "3/3"]
    assert table[1].split()[0] == slow.id  # newest first

    cancelled = cli(gw, key, "cancel", slow.id)
    assert cancelled.returncode == 0 and msgspec.json.decode(cancelled.stdout)["status"] == "cancelling"
    r = cli(gw, key, "wait", slow.id, "--interval", "0.1", "--timeout", "30")
    assert r.returncode == 1 and f"{slow.id} cancelled:" in r.stdout

    again = cli(gw, key, "cancel", slow.id)  # the gateway's error: its message, exit 1
    assert again.returncode == 1 and "409" in again.stderr
    other, _ = tenant_key(gw, "globex")
    missing = cli(gw, other, "get", done.id)  # another tenant's batch is a 404
    assert missing.returncode == 1 and "404" in missing.stderr
    assert cli(gw, key, "get").returncode == 2  # usage error: no batch id
    assert cli(gw, "", "list", "--limit", "0").returncode == 2
    with sdk(gw, key) as c:
        assert lines_of(c, c.batches.retrieve(done.id).output_file_id)[0]["custom_id"] == "w-0"


def test_cli_wait_draws_a_progress_bar_on_a_terminal(gateway) -> None:
    gw = gateway(config({"latency_ms": 100}, tenant_concurrency=2))
    key, _ = tenant_key(gw, "acme")
    with sdk(gw, key) as c:
        b = c.batches.create(
            input_file_id=upload(c, [chat_line(f"t-{i}", f"q {i}") for i in range(10)]),
            endpoint=CHAT,
            completion_window="24h",
        )
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [*SLUICE, "batches", "wait", b.id, "--interval", "0.1", "--timeout", "30", "--base-url", gw.base_url],
        cwd=REPO,
        env={**os.environ, "SLUICE_API_KEY": key},
        stdout=subprocess.PIPE,
        stderr=follower,
    )
    os.close(follower)
    seen = b""
    try:
        deadline = time.monotonic() + 45
        while proc.poll() is None and time.monotonic() < deadline:
            if select.select([leader], [], [], 0.2)[0]:
                try:
                    seen += os.read(leader, 4096)
                except OSError:  # the terminal closed with the process
                    break
        assert proc.wait(timeout=15) == 0
        assert proc.stdout is not None and f"{b.id} completed" in proc.stdout.read().decode()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(leader)
        if proc.stdout is not None:
            proc.stdout.close()
    assert b"10/10" in seen and b"100%" in seen and b"#" in seen, seen[-400:]
