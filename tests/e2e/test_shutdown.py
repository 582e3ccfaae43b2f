"""SIGTERM: in-flight streams finish within the grace period, then the process exits cleanly."""

from __future__ import annotations

import signal
import socket
import time

from tests.conftest import DEMO_KEY, sim_config


def test_sigterm_lets_an_in_flight_stream_finish(gateway) -> None:
    config = sim_config(chunk_delay_ms=60)
    config["server"] = {"graceful_shutdown_s": 10}
    gw = gateway(config)
    port = int(gw.base_url.rsplit(":", 1)[1])
    words = " ".join(f"w{i}" for i in range(12))  # 15 chunks, ~0.9 s of streaming
    body = f'{{"model":"gpt-4o-mini","stream":true,"messages":[{{"role":"user","content":"{words}"}}]}}'.encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
            + f"authorization: Bearer {DEMO_KEY}\r\ncontent-length: {len(body)}\r\n\r\n".encode() + body
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
