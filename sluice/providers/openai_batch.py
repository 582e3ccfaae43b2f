"""OpenAI's Batch API as a ``BatchApi``: the lines uploaded as a JSONL file (``POST /files``,
purpose ``batch``, multipart), the batch created (``POST /batches``), polled (``GET
/batches/{id}``), its output and error files read (``GET /files/{id}/content``), cancelled
(``POST /batches/{id}/cancel``). Each line's body is what ``OpenAIProvider`` would send for it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import aiohttp
import msgspec

from sluice.errors import InvalidUpstreamResponseError
from sluice.obs.redact import Redactor
from sluice.providers.base import Target
from sluice.providers.batches import BatchRequest, Status, Submitted, UpstreamBatch, UpstreamResult
from sluice.providers.http import UpstreamClient
from sluice.providers.openai import OpenAIProvider
from sluice.types import (
    ChatRequest,
    ChatResponse,
    EmbeddingResponse,
    chat_response_decoder,
    embedding_response_decoder,
    encoder,
)


class _FileObject(msgspec.Struct):
    id: str


class _Counts(msgspec.Struct):
    completed: int = 0
    failed: int = 0


class _Errors(msgspec.Struct):
    data: list[dict[str, Any]] | None = None


class _Batch(msgspec.Struct):
    id: str
    status: str
    request_counts: _Counts | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None
    errors: _Errors | None = None


class _LineResponse(msgspec.Struct):
    status_code: int
    body: msgspec.Raw = msgspec.Raw(b"null")


class _LineError(msgspec.Struct):
    code: str | None = None
    message: str | None = None


class _Line(msgspec.Struct):
    custom_id: str
    response: _LineResponse | None = None
    error: _LineError | None = None


_batch_decoder = msgspec.json.Decoder(_Batch)
_file_decoder = msgspec.json.Decoder(_FileObject)
_line_decoder = msgspec.json.Decoder(_Line)
_error_decoder = msgspec.json.Decoder(dict[str, Any])

STATUSES: dict[str, Status] = {
    "validating": "in_progress",
    "in_progress": "in_progress",
    "finalizing": "in_progress",
    "cancelling": "cancelling",
    "completed": "completed",
    "failed": "failed",
    "expired": "expired",
    "cancelled": "cancelled",
}
"""OpenAI's batch statuses in ``BatchApi``'s: those before the end are all ``in_progress``."""
SKIPPED = {"batch_expired": "expired", "batch_cancelled": "cancelled"}
"""The error codes OpenAI gives lines it never ran."""


def _jsonl(endpoint: str, requests: Sequence[BatchRequest], target: Target) -> bytes:
    """The batch's input file: each line's body what ``OpenAIProvider`` would send for it."""
    head = b',"method":"POST","url":' + encoder.encode(endpoint) + b',"body":'
    lines = []
    for r in requests:
        req = r.request
        if isinstance(req, ChatRequest):
            body = OpenAIProvider._body(req, target)
        else:
            body = encoder.encode(msgspec.structs.replace(req, model=target.model, sluice=None))
        lines.append(b'{"custom_id":' + encoder.encode(r.wire_id) + head + body + b"}\n")
    return b"".join(lines)


class OpenAIBatches:
    name = "openai"
    endpoints = frozenset({"/v1/chat/completions", "/v1/embeddings"})

    def __init__(self, http: UpstreamClient, redactor: Redactor | None = None) -> None:
        self._http = http
        self._redact = (redactor or Redactor()).redact

    def wire_id(self, custom_id: str, line_no: int) -> str:
        return custom_id

    @staticmethod
    def _headers(target: Target, json: bool = True) -> dict[str, str]:
        h = {k: v for k, v in OpenAIProvider._headers(target).items() if json or k != "content-type"}
        return h

    async def _json(
        self, method: str, url: str, body: bytes | aiohttp.FormData | None, target: Target
    ) -> bytes:
        headers = self._headers(target, json=not isinstance(body, aiohttp.FormData))
        return await self._http.read(await self._http.send(method, url, body, headers))

    def _decode(self, decoder: msgspec.json.Decoder[Any], data: bytes, what: str) -> Any:
        try:
            return decoder.decode(data)
        except msgspec.DecodeError as e:
            raise InvalidUpstreamResponseError(
                f"{self.name} sent an invalid {what}: {self._redact(str(e))}"
            ) from e

    async def submit(
        self, endpoint: str, requests: Sequence[BatchRequest], target: Target, name: str
    ) -> Submitted:
        data = await asyncio.to_thread(_jsonl, endpoint, requests, target)  # CPU: off the event loop
        form = aiohttp.FormData()
        form.add_field("purpose", "batch")
        form.add_field("file", data, filename=f"{name}.jsonl", content_type="application/jsonl")
        uploaded = self._decode(
            _file_decoder, await self._json("POST", f"{target.base_url}/files", form, target), "file object"
        )
        create = {
            "input_file_id": uploaded.id,
            "endpoint": endpoint,
            "completion_window": "24h",
            "metadata": {"sluice_batch_id": name},
        }
        data = await self._json("POST", f"{target.base_url}/batches", encoder.encode(create), target)
        return Submitted(self._decode(_batch_decoder, data, "batch").id)

    async def status(self, batch_id: str, target: Target) -> UpstreamBatch:
        data = await self._json("GET", f"{target.base_url}/batches/{batch_id}", None, target)
        b: _Batch = self._decode(_batch_decoder, data, "batch")
        status = STATUSES.get(b.status)
        if status is None:
            raise InvalidUpstreamResponseError(f"{self.name} sent an unknown batch status")
        counts = b.request_counts or _Counts()
        errors = (b.errors.data or []) if b.errors is not None else []
        return UpstreamBatch(
            b.id, status, counts.completed, counts.failed, errors, b.output_file_id, b.error_file_id
        )

    async def results(self, endpoint: str, batch: UpstreamBatch, target: Target) -> list[UpstreamResult]:
        out: list[UpstreamResult] = []
        for file_id in (batch.output, batch.error_output):
            if file_id is None:
                continue
            data = await self._json("GET", f"{target.base_url}/files/{file_id}/content", None, target)
            out += await asyncio.to_thread(self._parse, endpoint, data)  # CPU: off the event loop
        return out

    def _parse(self, endpoint: str, data: bytes) -> list[UpstreamResult]:
        return [
            self._result(endpoint, self._decode(_line_decoder, raw, "batch result line"))
            for raw in data.splitlines()
            if raw.strip()
        ]

    def _result(self, endpoint: str, line: _Line) -> UpstreamResult:
        r = line.response
        if r is not None and r.status_code < 400:
            response: ChatResponse | EmbeddingResponse
            if endpoint == "/v1/embeddings":
                response = self._decode(embedding_response_decoder, r.body, "embedding response")
            else:
                response = self._decode(chat_response_decoder, r.body, "chat completion")
            return UpstreamResult(line.custom_id, r.status_code, response)
        if r is not None:
            try:
                error = _error_decoder.decode(r.body)
            except msgspec.DecodeError:
                error = {}
            detail = error.get("error")
            if not isinstance(detail, dict) or not isinstance(detail.get("message"), str):
                detail = {"message": "The upstream failed this request.", "type": "upstream_error"}
            # Upstream text is scrubbed of secrets, as for an interactive error.
            error = {
                "error": {
                    "message": self._redact(detail["message"]),
                    "type": detail.get("type"),
                    "param": detail.get("param"),
                    "code": detail.get("code"),
                }
            }
            return UpstreamResult(line.custom_id, r.status_code, error=error)
        e = line.error or _LineError()
        skipped = SKIPPED.get(e.code or "")
        if skipped == "expired":
            return UpstreamResult(line.custom_id, 0, skipped="expired")
        if skipped == "cancelled":
            return UpstreamResult(line.custom_id, 0, skipped="cancelled")
        message = self._redact(e.message or "The upstream failed this request.")
        error = {"error": {"message": message, "type": "upstream_error", "param": None, "code": e.code}}
        return UpstreamResult(line.custom_id, 502, error=error)

    async def cancel(self, batch_id: str, target: Target) -> None:
        await self._json("POST", f"{target.base_url}/batches/{batch_id}/cancel", b"", target)

    async def close(self) -> None:
        await self._http.close()
