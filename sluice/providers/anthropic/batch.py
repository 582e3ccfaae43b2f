"""Anthropic's Message Batches API as a ``BatchApi``, for batches of chat completions: each line
translated as ``AnthropicProvider`` would translate it (``to_messages_request``) and sent as
``{custom_id, params}`` (``POST /v1/messages/batches``); polled (``GET
/v1/messages/batches/{id}``); its results read from its results route (JSONL of ``{custom_id,
result: {type: succeeded | errored | canceled | expired}}``), each answer translated back to a chat
completion (``to_chat_response``); cancelled (``POST /v1/messages/batches/{id}/cancel``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from sluice.errors import InvalidUpstreamResponseError, SluiceError
from sluice.obs.redact import Redactor
from sluice.providers.anthropic.provider import API_VERSION, DEFAULT_BASE_URL
from sluice.providers.anthropic.request import to_messages_request
from sluice.providers.anthropic.response import to_chat_response
from sluice.providers.anthropic.wire import Message
from sluice.providers.base import Target
from sluice.providers.batches import BatchRequest, Status, Submitted, UpstreamBatch, UpstreamResult
from sluice.providers.http import UpstreamClient
from sluice.types import ChatRequest, encoder

PATH = "/v1/messages/batches"

ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 503,
}
"""An errored request's HTTP status, from its error's type (Anthropic's own table)."""
OPENAI_TYPE = {400: "invalid_request_error", 401: "invalid_request_error", 403: "permission_error"}


class _Counts(msgspec.Struct):
    processing: int = 0
    succeeded: int = 0
    errored: int = 0
    canceled: int = 0
    expired: int = 0


class _Batch(msgspec.Struct):
    id: str
    processing_status: str
    request_counts: _Counts = msgspec.field(default_factory=_Counts)
    results_url: str | None = None
    cancel_initiated_at: str | None = None


class _ErrorDetail(msgspec.Struct):
    type: str = "api_error"
    message: str = ""


class _ErrorResponse(msgspec.Struct):
    error: _ErrorDetail = msgspec.field(default_factory=_ErrorDetail)


class _Result(msgspec.Struct):
    type: str
    message: Message | None = None
    error: _ErrorResponse | None = None


class _Line(msgspec.Struct):
    custom_id: str
    result: _Result


_batch_decoder = msgspec.json.Decoder(_Batch)
_line_decoder = msgspec.json.Decoder(_Line)


def _requests(
    requests: Sequence[BatchRequest], target: Target
) -> tuple[list[bytes], list[tuple[str, SluiceError]]]:
    """Each line as ``{custom_id, params}``, translated as ``AnthropicProvider`` would; the lines
    the translation refuses."""
    parts: list[bytes] = []
    refused: list[tuple[str, SluiceError]] = []
    for r in requests:
        assert isinstance(r.request, ChatRequest)
        try:
            params = to_messages_request(r.request, target.model)
        except SluiceError as e:  # what the interactive call would refuse (n > 1, logprobs...)
            refused.append((r.wire_id, e))
            continue
        parts.append(
            b'{"custom_id":' + encoder.encode(r.wire_id) + b',"params":' + encoder.encode(params) + b"}"
        )
    return parts, refused


class AnthropicBatches:
    name = "anthropic"
    endpoints = frozenset({"/v1/chat/completions"})

    def __init__(
        self,
        http: UpstreamClient,
        *,
        clock: Callable[[], float] = time.time,
        redactor: Redactor | None = None,
    ) -> None:
        """The deployment's ``Target`` carries its base URL (Anthropic's when none), key and headers."""
        self._http = http
        self._base_url = DEFAULT_BASE_URL
        self._clock = clock
        self._redact = (redactor or Redactor()).redact

    def wire_id(self, custom_id: str, line_no: int) -> str:
        return f"line-{line_no}"

    def _url(self, target: Target, path: str) -> str:
        return f"{(target.base_url or self._base_url).rstrip('/')}{path}"

    def _request_headers(self, target: Target) -> dict[str, str]:
        h = {
            "content-type": "application/json",
            "anthropic-version": API_VERSION,
            **target.headers,
        }
        if target.api_key:
            h["x-api-key"] = target.api_key
        return h

    async def _call(self, method: str, url: str, body: bytes | None, target: Target) -> bytes:
        return await self._http.read(await self._http.send(method, url, body, self._request_headers(target)))

    def _batch(self, data: bytes) -> _Batch:
        try:
            return _batch_decoder.decode(data)
        except msgspec.DecodeError as e:
            raise InvalidUpstreamResponseError(
                f"{self.name} sent an invalid message batch: {self._redact(str(e))}"
            ) from e

    async def submit(
        self, endpoint: str, requests: Sequence[BatchRequest], target: Target, name: str
    ) -> Submitted:
        parts, refused = await asyncio.to_thread(_requests, requests, target)  # CPU: off the event loop
        if not parts:
            return Submitted(None, refused)
        body = b'{"requests":[' + b",".join(parts) + b"]}"
        data = await self._call("POST", self._url(target, PATH), body, target)
        return Submitted(self._batch(data).id, refused)

    async def status(self, batch_id: str, target: Target) -> UpstreamBatch:
        b = self._batch(await self._call("GET", self._url(target, f"{PATH}/{batch_id}"), None, target))
        c = b.request_counts
        status: Status
        if b.processing_status == "in_progress":
            status = "in_progress"
        elif b.processing_status == "canceling":
            status = "cancelling"
        elif b.processing_status == "ended":
            if b.cancel_initiated_at is not None:
                status = "cancelled"
            elif c.expired:
                status = "expired"
            else:
                status = "completed"
        else:
            raise InvalidUpstreamResponseError(f"{self.name} sent an unknown batch status")
        return UpstreamBatch(b.id, status, c.succeeded, c.errored, output=b.results_url)

    async def results(self, endpoint: str, batch: UpstreamBatch, target: Target) -> list[UpstreamResult]:
        # The documented results route of the deployment's own base URL, never the URL the batch
        # names: the API key is sent to where the deployment says, nowhere else.
        data = await self._call("GET", self._url(target, f"{PATH}/{batch.id}/results"), None, target)
        return await asyncio.to_thread(self._parse, data, int(self._clock()))  # CPU: off the event loop

    def _parse(self, data: bytes, created: int) -> list[UpstreamResult]:
        out = []
        for raw in data.splitlines():
            if not raw.strip():
                continue
            try:
                line = _line_decoder.decode(raw)
            except msgspec.DecodeError as e:
                raise InvalidUpstreamResponseError(
                    f"{self.name} sent an invalid batch result: {self._redact(str(e))}"
                ) from e
            out.append(self._result(line, created))
        return out

    def _result(self, line: _Line, created: int) -> UpstreamResult:
        r = line.result
        if r.type == "succeeded" and r.message is not None:
            return UpstreamResult(line.custom_id, 200, to_chat_response(r.message, created))
        if r.type == "expired":
            return UpstreamResult(line.custom_id, 0, skipped="expired")
        if r.type == "canceled":
            return UpstreamResult(line.custom_id, 0, skipped="cancelled")
        detail = r.error.error if r.error is not None else _ErrorDetail()
        status = ERROR_STATUS.get(detail.type, 500)
        error: dict[str, Any] = {
            "error": {
                "message": self._redact(detail.message or "The upstream failed this request."),
                "type": OPENAI_TYPE.get(status, "upstream_error"),
                "param": None,
                "code": detail.type,
            }
        }
        return UpstreamResult(line.custom_id, status, error=error)

    async def cancel(self, batch_id: str, target: Target) -> None:
        await self._call("POST", self._url(target, f"{PATH}/{batch_id}/cancel"), b"", target)

    async def close(self) -> None:
        await self._http.close()
