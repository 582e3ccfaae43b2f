"""Structured logs: one JSON object per line on stderr (or plain text for a terminal), for every
logger in the process (the gateway's, uvicorn's, asyncio's, asyncpg's, aiohttp's, the root), with
a traceback as the ``exc`` field, never as lines of its own, and every configured secret and
credential shape redacted from each line."""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Iterable
from types import TracebackType

import msgspec

from sluice.obs.redact import Redactor

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}
_encode = msgspec.json.Encoder(enc_hook=repr).encode
_ROUTED = (
    "sluice",
    "uvicorn",
    "uvicorn.error",
    "uvicorn.access",
    "asyncio",
    "asyncpg",
    "aiohttp",
    "aiosqlite",
    "redis",
)
"""Loggers that may have been given handlers of their own (uvicorn configures its): emptied, so
their records reach the root's one handler."""

log = logging.getLogger("sluice")


class JsonFormatter(logging.Formatter):
    def __init__(self, redactor: Redactor | None = None) -> None:
        super().__init__()
        self._redactor = redactor or Redactor()

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": _message(record),
        }
        for k, v in vars(record).items():
            if k not in _STANDARD:
                out[k] = v
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            out["exc"] = record.exc_text
        if record.stack_info:
            out["stack"] = record.stack_info
        # Each string field before encoding (JSON would escape a secret holding a quote or a
        # backslash past recognition), then the line, for strings nested in dicts and lists.
        redact = self._redactor.redact
        nested = False
        for k, v in out.items():
            if isinstance(v, str):
                out[k] = redact(v)
            elif not isinstance(v, (int, float, bool)) and v is not None:
                nested = True
        line = _encode(out).decode()
        return redact(line) if nested else line


class TextFormatter(logging.Formatter):
    def __init__(self, redactor: Redactor | None = None) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")
        self._redactor = redactor or Redactor()

    def format(self, record: logging.LogRecord) -> str:
        return self._redactor.redact(super().format(record))


def _message(record: logging.LogRecord) -> str:
    """The formatted message; a call whose arguments do not fit its format string (a library's
    bug) keeps both rather than making logging print its own plain-text error."""
    try:
        return record.getMessage()
    except (TypeError, ValueError):
        return f"{record.msg!s} {record.args!r}"


def setup_logging(level: str, fmt: str, secrets: Iterable[str] = ()) -> None:
    """One handler on the root logger; every other logger propagates to it. Warnings and uncaught
    exceptions (the main thread's and other threads') are logged through it too. ``secrets``
    (every configured one) never appear in a line."""
    redactor = Redactor(secrets)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(redactor) if fmt == "json" else TextFormatter(redactor))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in _ROUTED:
        routed = logging.getLogger(name)
        routed.handlers.clear()
        routed.propagate = True
    logging.captureWarnings(True)
    sys.excepthook = _uncaught
    threading.excepthook = _uncaught_in_thread


def _uncaught(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
    log.critical("uncaught exception", exc_info=(kind, error, tb))


def _uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is not None:
        thread = args.thread.name if args.thread is not None else None
        log.error(
            "uncaught exception in thread %s",
            thread,
            exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
        )
