"""The request line: one log line per finished request (logger ``sluice.access``), written in
batches, never a write per request.

A line is the RequestRecord's fields, every one present (null or 0 when unknown), after the
fields every Sluice log line has (ts, level, logger, msg). Records carry no secret by
construction: a key appears as its id and visible prefix, never the credential, and prompts or
answers only when the tenant's policy lets them, already PII-redacted.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import BinaryIO

import msgspec

from sluice.obs.record import RequestRecord

_encode = msgspec.json.Encoder().encode
LOGGER = "sluice.access"


def json_line(r: RequestRecord) -> bytes:
    ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(r.ts_ms // 1000)) + f".{r.ts_ms % 1000:03d}Z"
    head = b'{"ts":"' + ts.encode() + b'","level":"info","logger":"' + LOGGER.encode() + b'","msg":"request",'
    return head + _encode(r)[1:] + b"\n"


def text_line(r: RequestRecord) -> bytes:
    ts = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(r.ts_ms // 1000))
    cost = f"{r.cost_micros / 1_000_000:.6f}"
    return (
        f"{ts} INFO {LOGGER} {r.id} {r.endpoint} {r.model or '-'} -> {r.deployment or '-'} {r.status}"
        f"{' ' + r.error_type if r.error_type else ''} {r.latency_ms:.1f}ms overhead={r.overhead_ms:.2f}ms"
        f" tokens={r.input_tokens}+{r.output_tokens} cost=${cost} cache={r.cache or '-'} attempts={r.attempts}"
        f" tenant={r.tenant_id or '-'} key={r.key_prefix or '-'}\n"
    ).encode()


class AccessLog:
    """Buffers lines and writes them at most every ``flush_s`` (or when ``max_bytes`` are
    waiting), from the event loop: a handful of small writes per second."""

    def __init__(
        self,
        out: BinaryIO | None = None,
        *,
        fmt: str = "json",
        flush_s: float = 0.1,
        max_bytes: int = 256 * 1024,
    ) -> None:
        self._out = out
        self._line = json_line if fmt == "json" else text_line
        self._flush_s = flush_s
        self._max_bytes = max_bytes
        self._lines: list[bytes] = []
        self._size = 0
        self._timer: asyncio.TimerHandle | None = None

    def write(self, record: RequestRecord) -> None:
        line = self._line(record)
        self._lines.append(line)
        self._size += len(line)
        if self._size >= self._max_bytes:
            self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._flush_s, self.flush)

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._lines:
            return
        data = b"".join(self._lines)
        self._lines.clear()
        self._size = 0
        out = self._out or sys.stderr.buffer
        try:
            out.write(data)
            out.flush()
        except (OSError, ValueError):
            pass  # stderr closed or gone: nothing better to do with a log line
