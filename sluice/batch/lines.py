"""A batch's input file, checked before anything runs: every line ``{custom_id, method, url,
body}``, ``url`` the batch's endpoint, ``custom_id`` unique, the body what the endpoint's own
route would accept (the surface's ``Check``), one model for the whole batch, and the line cap.
Problems are reported as OpenAI does, ``{code, message, param, line}`` with 1-based lines."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from sluice.errors import SluiceError
from sluice.store.records import NewBatchLine

Check = Callable[[str, bytes], str]
"""The surface's check of one request body for an endpoint: its model, or a ``SluiceError``
(what the interactive route would answer). CPU only: it runs in a worker thread."""

MAX_ERRORS = 100
"""Problems reported at most; a file with more says how many were left out."""
MAX_CUSTOM_ID_CHARS = 512


@dataclass(slots=True)
class Parsed:
    lines: list[NewBatchLine]
    model: str | None
    errors: list[dict[str, Any]]


def error(code: str, message: str, param: str | None = None, line: int | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "param": param, "line": line}


def parse(data: bytes, endpoint: str, check: Check, max_lines: int) -> Parsed:
    """The file's lines, or the problems that fail the batch. Blank lines are skipped."""
    out = Parsed([], None, [])
    seen: set[str] = set()
    count = 0
    for number, raw in enumerate(data.split(b"\n"), 1):
        if not raw.strip():
            continue
        count += 1
        if count > max_lines:
            out.errors.append(
                error(
                    "too_many_requests",
                    f"The file has more than {max_lines} requests, the most a batch may hold.",
                )
            )
            break
        problem = _line(raw, number, endpoint, check, seen, out)
        if problem is not None:
            out.errors.append(problem)
            if len(out.errors) >= MAX_ERRORS:
                out.errors.append(
                    error("too_many_errors", f"Stopped at line {number}: {MAX_ERRORS} problems found.")
                )
                break
    if count == 0 and not out.errors:
        out.errors.append(error("empty_file", "The input file has no requests.", "input_file_id"))
    return out


def _line(
    raw: bytes, number: int, endpoint: str, check: Check, seen: set[str], out: Parsed
) -> dict[str, Any] | None:
    try:
        item = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return error("invalid_json_line", "This line is not valid JSON.", None, number)
    if not isinstance(item, dict):
        return error("invalid_json_line", "This line is not a JSON object.", None, number)
    custom_id = item.get("custom_id")
    if not isinstance(custom_id, str) or not 1 <= len(custom_id) <= MAX_CUSTOM_ID_CHARS:
        return error(
            "invalid_custom_id",
            f"custom_id: a string of 1 to {MAX_CUSTOM_ID_CHARS} characters.",
            "custom_id",
            number,
        )
    if custom_id in seen:
        return error(
            "duplicate_custom_id",
            f"The custom_id '{custom_id}' is used on an earlier line.",
            "custom_id",
            number,
        )
    seen.add(custom_id)
    unknown = sorted(set(item) - {"custom_id", "method", "url", "body"})
    if unknown:
        return error("invalid_request", f"Unrecognized field '{unknown[0]}'.", unknown[0], number)
    if item.get("method") != "POST":
        return error("invalid_method", "method: 'POST' is the only method a batch accepts.", "method", number)
    if item.get("url") != endpoint:
        return error(
            "invalid_url",
            f"url: this batch's endpoint is '{endpoint}'; every line must name it.",
            "url",
            number,
        )
    body = item.get("body")
    if not isinstance(body, dict):
        return error("invalid_request", "body: a JSON object, the request.", "body", number)
    encoded = msgspec.json.encode(body)
    try:
        model = check(endpoint, encoded)
    except SluiceError as e:
        param = f"body.{e.param}" if e.param else "body"
        return error(e.code or "invalid_request", e.message, param, number)
    if out.model is None:
        out.model = model
    elif model != out.model:
        return error(
            "mismatched_model",
            f"Every request of a batch names one model: this line names '{model}', the first '{out.model}'.",
            "body.model",
            number,
        )
    out.lines.append(NewBatchLine(custom_id, number, "batch_req_" + os.urandom(12).hex(), encoded.decode()))
    return None
