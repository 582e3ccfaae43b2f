"""Signals on real gateways (one worker and several): SIGTERM, SIGINT, SIGQUIT and SIGHUP drain
(SIGHUP reloads the config with several workers), in-flight streams finish within the grace
period and are all in the request log, a drain refuses new connections at once, a stream the
grace period cuts ends with an error event and is logged as a shutdown; other signals are ignored."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import sqlite3
import threading
import time
from pathlib import Path

import msgspec
import pytest
import yaml

from tests.conftest import DEMO_KEY, sim_config
from tests.fixtures.procs import Proc
from tests.fixtures.wait import eventually


def test_sigterm_lets_an_in_flight_stream_finish(gateway) -> None:
    config = sim_config(chunk_delay_ms=60)
    config["server"] = {"graceful_shutdown_s": 10}
    gw = gateway(config)
    port = int(gw.base_url.rsplit(":", 1)[1])
    words = " ".join(f"w{i}" for i in range(12))  # 15 chunks, ~0.9 s of streaming
    body = (
        f'{{"model":"gpt-4o-mini","stream":true,"messages":[{{"role":"user","content":"{words}"}}]}}'.encode()
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
            + f"authorization: Bearer {DEMO_KEY}\r\ncontent-length: {len(body)}\r\n\r\n".encode()
            + body
        )
        received = s.recv(65536)
        assert b"200 OK" in received
        gw.popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        while b"data: [DONE]" not in received and time.monotonic() < deadline:
            piece = s.recv(65536)
            if not piece:
                break
            received += piece
    assert b"data: [DONE]" in received
    assert received.count(b'"content":"') >= 13  # every word arrived, none cut off
    # uvicorn re-raises the signal once it has shut down gracefully, so the exit status is
    # "terminated by SIGTERM", as an orchestrator expects; no traceback on the way out.
    assert gw.popen.wait(10) == -signal.SIGTERM
    assert "Traceback" not in gw.log()


# --- Signals under load: none ends the gateway abruptly, none loses a request ----------------

STREAM_WORDS = 24  # 27 chunks


def db_path(gw: Proc) -> Path:
    return gw.log_path.parent / f"gateway-{gw.base_url.rsplit(':', 1)[1]}.db"


def logged(gw: Proc) -> dict[str, tuple[int, str | None]]:
    with sqlite3.connect(db_path(gw)) as db:
        return {r[0]: (r[1], r[2]) for r in db.execute("SELECT id, status, error_type FROM request_log")}


class Stream(threading.Thread):
    """One streamed chat request on a raw socket, read to its end (or to the connection's)."""

    def __init__(
        self, port: int, rid: str, model: str = "gpt-4o-mini", path: str = "/v1/chat/completions"
    ) -> None:
        super().__init__(daemon=True)
        words = " ".join(f"w{i}" for i in range(STREAM_WORDS))
        body = msgspec.json.encode(
            {
                "model": model,
                "stream": True,
                "max_tokens": 64,
                "messages": [{"role": "user", "content": words}],
            }
        )
        self.request = (
            f"POST {path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
            f"authorization: Bearer {DEMO_KEY}\r\nx-api-key: {DEMO_KEY}\r\nanthropic-version: 2023-06-01\r\n"
            f"x-request-id: {rid}\r\ncontent-length: {len(body)}\r\n\r\n"
        ).encode() + body
        self.port = port
        self.rid = rid
        self.received = b""
        self.started = threading.Event()
        self.error: OSError | None = None

    def run(self) -> None:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=20) as s:
                s.sendall(self.request)
                while piece := s.recv(65536):
                    self.received += piece
                    if b'"content":"' in self.received or b"content_block_delta" in self.received:
                        self.started.set()
                    if self.received.endswith(b"0\r\n\r\n"):  # the chunked body's end
                        return
        except OSError as e:
            self.error = e
        finally:
            self.started.set()

    @property
    def complete(self) -> bool:
        return b"data: [DONE]" in self.received and self.received.count(b'"content":"') >= STREAM_WORDS


def start_streams(port: int, rids: list[str]) -> list[Stream]:
    streams = [Stream(port, rid) for rid in rids]
    for s in streams:
        s.start()
    for s in streams:
        assert s.started.wait(15) and s.error is None, s.rid
    return streams


def attempt(port: int) -> tuple[str, float]:
    """One new connection during a drain: refused, answered, or dropped (accepted, then reset or
    closed or left unanswered): the last is the defect."""
    t0 = time.monotonic()
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
    except ConnectionRefusedError:
        return "refused", time.monotonic() - t0
    except OSError:
        return "dropped", time.monotonic() - t0
    with s:
        try:
            s.settimeout(5)
            s.sendall(b"GET /health/live HTTP/1.1\r\nhost: x\r\n\r\n")
            reply = s.recv(4096)
        except OSError:
            reply = b""
    return ("answered" if reply.startswith(b"HTTP/1.1 ") else "dropped"), time.monotonic() - t0


@pytest.mark.parametrize("workers", [1, 2])
def test_a_drain_refuses_new_connections_at_once(gateway, workers: int) -> None:
    config = sim_config(chunk_delay_ms=150)  # each stream ~4 s: the drain outlasts the attempts below
    config["server"] = {"graceful_shutdown_s": 20, "workers": workers}
    gw = gateway(config)
    port = int(gw.base_url.rsplit(":", 1)[1])
    streams = start_streams(port, [f"drain-{i}" for i in range(4)])
    gw.popen.send_signal(signal.SIGTERM)
    # The drain is under way once the port refuses (a connection racing the listener's close is not the point).
    eventually(lambda: attempt(port)[0] == "refused", 10, "the port refusing connections")
    outcomes = []
    for _ in range(10):
        outcomes.append(attempt(port))
        time.sleep(0.1)
    still_streaming = sum(not s.complete for s in streams)
    for s in streams:
        s.join(20)
    assert [o for o, _ in outcomes if o == "dropped"] == [], outcomes
    assert max(t for _, t in outcomes) < 2.0, outcomes  # a bound on a hang, not a speed claim
    assert still_streaming > 0, "the drain ended before the attempts: the test proved nothing"
    assert any(o == "refused" for o, _ in outcomes), outcomes
    assert all(s.complete for s in streams), [s.received[-200:] for s in streams if not s.complete]
    assert gw.popen.wait(20) in (0, -signal.SIGTERM)
    rows = logged(gw)
    assert all(rows.get(s.rid) == (200, None) for s in streams), rows
    assert "Traceback" not in gw.log()


def test_sighup_with_one_worker_drains_like_sigterm(gateway) -> None:
    config = sim_config(chunk_delay_ms=60)
    config["server"] = {"graceful_shutdown_s": 20}
    gw = gateway(config)
    port = int(gw.base_url.rsplit(":", 1)[1])
    answered = [call(gw.base_url, f"json-{i}") for i in range(3)]
    streams = start_streams(port, [f"hup-{i}" for i in range(3)])
    gw.popen.send_signal(signal.SIGHUP)
    for s in streams:
        s.join(20)
    assert all(s.complete for s in streams), [s.received[-200:] for s in streams if not s.complete]
    assert gw.popen.wait(20) == -signal.SIGTERM  # a clean stop, as on SIGTERM
    rows = logged(gw)
    assert {rid: rows.get(rid) for rid in answered + [s.rid for s in streams]} == {
        rid: (200, None) for rid in answered + [s.rid for s in streams]
    }
    assert "SIGHUP: draining" in gw.log() and "Traceback" not in gw.log()


def test_sighup_with_workers_reloads_the_config_without_dropping_a_stream(gateway) -> None:
    config = sim_config(chunk_delay_ms=60)
    config["server"] = {"graceful_shutdown_s": 20, "workers": 2}
    gw = gateway(config)
    port = int(gw.base_url.rsplit(":", 1)[1])
    assert call(gw.base_url, "before", model="reloaded-alias", expect=404)
    path = gw.log_path.parent / f"gateway-{port}.yaml"
    changed = yaml.safe_load(path.read_text())
    changed["models"]["reloaded-alias"] = changed["models"]["gpt-4o-mini"]
    path.write_text(yaml.safe_dump(changed))
    streams = start_streams(port, [f"hup-{i}" for i in range(4)])
    old = all_workers(gw.pid, 2)
    gw.popen.send_signal(signal.SIGHUP)
    for s in streams:
        s.join(20)
    assert all(s.complete for s in streams), [s.received[-200:] for s in streams if not s.complete]
    # Both workers are replaced one after the other, each new one ready before an old one drains:
    # the port answers throughout, and once the old ones are gone, only with the new configuration.
    statuses = []
    deadline = time.monotonic() + 60
    while set(workers(gw.pid)) & set(old) and time.monotonic() < deadline:
        statuses.append(call_status(gw.base_url, "reloaded-alias"))
        time.sleep(0.2)
    assert not set(workers(gw.pid)) & set(old) and len(workers(gw.pid)) == 2
    statuses += [call_status(gw.base_url, "reloaded-alias") for _ in range(6)]
    assert set(statuses) <= {200, 404} and statuses[-6:] == [200] * 6, statuses
    assert gw.popen.poll() is None
    eventually(lambda: all(s.rid in logged(gw) for s in streams), 10, "every stream in the request log")
    rows = logged(gw)
    assert {s.rid: rows.get(s.rid) for s in streams} == {s.rid: (200, None) for s in streams}
    assert "Traceback" not in gw.log()


def test_sighup_with_a_broken_config_file_keeps_the_workers_serving(gateway) -> None:
    config = sim_config()
    config["server"] = {"workers": 2}
    gw = gateway(config)
    port = int(gw.base_url.rsplit(":", 1)[1])
    before = all_workers(gw.pid, 2)
    (gw.log_path.parent / f"gateway-{port}.yaml").write_text("models: {broken: {deployments: 7}}\n")
    gw.popen.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 30
    while "aborting the restart" not in gw.log() and time.monotonic() < deadline:
        assert call_status(gw.base_url, "gpt-4o-mini") == 200
        time.sleep(0.2)
    assert "aborting the restart" in gw.log()
    assert workers(gw.pid) == before
    assert [call_status(gw.base_url, "gpt-4o-mini") for _ in range(4)] == [200] * 4


def test_other_signals_are_ignored_and_sigquit_drains(gateway) -> None:
    config = sim_config(chunk_delay_ms=60)
    config["server"] = {"graceful_shutdown_s": 20}
    gw = gateway(config)
    port = int(gw.base_url.rsplit(":", 1)[1])
    for sig in (signal.SIGUSR1, signal.SIGUSR2, signal.SIGPIPE, signal.SIGTTIN, signal.SIGTTOU):
        gw.popen.send_signal(sig)
    logged_sigs = ("SIGUSR1", "SIGUSR2", "SIGTTIN", "SIGTTOU")  # SIGPIPE: ignored by Python, silently
    eventually(lambda: all(f"{name} ignored" in gw.log() for name in logged_sigs), 10, "the signals handled")
    assert gw.popen.poll() is None
    answered = call(gw.base_url, "after-signals")
    streams = start_streams(port, ["quit-0", "quit-1"])
    gw.popen.send_signal(signal.SIGQUIT)
    for s in streams:
        s.join(20)
    assert all(s.complete for s in streams)
    assert gw.popen.wait(20) == -signal.SIGTERM
    rows = logged(gw)
    assert [rows.get(rid) for rid in (answered, "quit-0", "quit-1")] == [(200, None)] * 3
    assert "SIGUSR1 ignored" in gw.log() and "Traceback" not in gw.log()


def test_workers_ignore_signals_sent_to_them_and_the_parent_decides(gateway) -> None:
    """A signal sent to the whole process group (a closed terminal, ``kill -HUP -PGID``) reaches the
    workers too: none of them ends a worker; SIGQUIT to the parent drains every worker."""
    config = sim_config(chunk_delay_ms=60)
    config["server"] = {"graceful_shutdown_s": 20, "workers": 2}
    gw = gateway(config)
    port = int(gw.base_url.rsplit(":", 1)[1])
    before = all_workers(gw.pid, 2)
    streams = start_streams(port, [f"w-{i}" for i in range(4)])
    for pid in before:
        for sig in (signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2, signal.SIGTTIN, signal.SIGTTOU):
            os.kill(pid, sig)
    names = ("SIGHUP", "SIGUSR1", "SIGUSR2", "SIGTTIN", "SIGTTOU")
    eventually(
        lambda: all(gw.log().count(f"{n} ignored") >= len(before) for n in names),
        10,
        "each worker's log lines",
    )
    assert workers(gw.pid) == before
    gw.popen.send_signal(signal.SIGQUIT)
    for s in streams:
        s.join(20)
    assert all(s.complete for s in streams)
    assert gw.popen.wait(20) in (0, -signal.SIGTERM)
    rows = logged(gw)
    assert {s.rid: rows.get(s.rid) for s in streams} == {s.rid: (200, None) for s in streams}
    assert "Traceback" not in gw.log()


def test_a_client_leaving_a_stream_is_still_logged_as_a_disconnect(gateway) -> None:
    config = sim_config(chunk_delay_ms=100)
    config["request_log"] = {"flush_ms": 20}
    gw = gateway(config)
    port = int(gw.base_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(Stream(port, "left").request)
        assert b"200 OK" in s.recv(65536)
    eventually(lambda: "left" in logged(gw), 10, "the stream in the request log")
    assert logged(gw)["left"] == (200, "client_disconnected")


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/messages"])
def test_a_stream_cut_by_the_grace_period_ends_with_an_error_and_is_logged_as_a_shutdown(
    gateway, path: str
) -> None:
    config = sim_config(chunk_delay_ms=200)  # ~5 s of streaming, a 1 s grace period
    config["server"] = {"graceful_shutdown_s": 1}
    gw = gateway(config)
    port = int(gw.base_url.rsplit(":", 1)[1])
    stream = Stream(port, "cut", path=path)
    stream.start()
    assert stream.started.wait(15) and stream.error is None
    gw.popen.send_signal(signal.SIGTERM)
    stream.join(20)
    assert gw.popen.wait(20) == -signal.SIGTERM
    events = stream.received.split(b"\r\n\r\n", 1)[1]
    if path == "/v1/chat/completions":
        assert b'"code":"server_shutting_down"' in events and b"data: [DONE]" not in events
    else:
        assert (
            b"event: error" in events
            and b'"type":"overloaded_error"' in events
            and b"message_stop" not in events
        )
    assert stream.received.endswith(b"0\r\n\r\n")  # the body was ended, not cut
    assert logged(gw)["cut"] == (503, "server_shutting_down")
    assert "Traceback" not in gw.log()


def workers(parent: int) -> list[int]:
    """The PIDs of the worker processes ``parent`` spawned (read from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == parent and b"spawn_main" in cmdline:
            found.append(int(stat.parent.name))
    return sorted(found)


def catches(pid: int, sig: signal.Signals) -> bool:
    """Has ``pid`` installed a handler for ``sig`` (its SigCgt mask in /proc)?"""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = next(int(line.split()[1], 16) for line in status.splitlines() if line.startswith("SigCgt:"))
    return bool(caught >> (sig - 1) & 1)


def all_workers(parent: int, n: int) -> list[int]:
    """The ``n`` workers, once all have started and installed their signal handlers (the first may
    answer before the others run; a worker still importing has the default handlers, which a
    signal would end: the supervisor then starts another, but the test wants the same PIDs)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = workers(parent)
        if len(found) == n and all(catches(pid, signal.SIGHUP) for pid in found):
            break
        time.sleep(0.1)
    assert len(found) == n and all(catches(pid, signal.SIGHUP) for pid in found), found
    time.sleep(0.2)
    assert workers(parent) == found
    return found


def call(base_url: str, rid: str, model: str = "gpt-4o-mini", expect: int = 200) -> str:
    assert call_status(base_url, model, rid) == expect
    return rid


def call_status(base_url: str, model: str, rid: str | None = None) -> int:
    host, port = base_url.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        body = msgspec.json.encode({"model": model, "messages": [{"role": "user", "content": "hi"}]})
        headers = {"authorization": f"Bearer {DEMO_KEY}", "content-type": "application/json"}
        if rid is not None:
            headers["x-request-id"] = rid
        conn.request("POST", "/v1/chat/completions", body, headers)
        r = conn.getresponse()
        r.read()
        return r.status
    finally:
        conn.close()
