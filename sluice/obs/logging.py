"""Structured logs: one JSON object per line on stderr (or plain text for a terminal), with every
configured secret and credential shape redacted from each line."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable

import msgspec

from sluice.obs.redact import Redactor

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}
_encode = msgspec.json.Encoder(enc_hook=repr).encode


class JsonFormatter(logging.Formatter):
    def __init__(self, redactor: Redactor | None = None) -> None:
        super().__init__()
        self._redactor = redactor or Redactor()

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for k, v in vars(record).items():
            if k not in _STANDARD:
                out[k] = v
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
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


def setup_logging(level: str, fmt: str, secrets: Iterable[str] = ()) -> None:
    """Log ``sluice.*`` to stderr; ``secrets`` (every configured one) never appear in a line."""
    redactor = Redactor(secrets)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(redactor) if fmt == "json" else TextFormatter(redactor))
    root = logging.getLogger("sluice")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
