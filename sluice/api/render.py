"""OpenAI-style error JSON for any SluiceError: ``{"error": {message, type, param, code}}``."""

from __future__ import annotations

import msgspec
from starlette.responses import Response

from sluice.errors import SluiceError


class _ErrorDetail(msgspec.Struct):
    message: str
    type: str
    param: str | None
    code: str | None


class _ErrorBody(msgspec.Struct):
    error: _ErrorDetail


_encode = msgspec.json.Encoder().encode


def error_body(err: SluiceError) -> bytes:
    return _encode(_ErrorBody(_ErrorDetail(err.message, err.type, err.param, err.code)))


def error_headers(err: SluiceError, request_id: str) -> dict[str, str]:
    headers = {"x-request-id": request_id}
    if err.retry_after_s is not None:
        headers["retry-after"] = str(max(1, round(err.retry_after_s)))
    return headers


def error_response(err: SluiceError, request_id: str) -> Response:
    return Response(error_body(err), err.status, error_headers(err, request_id), media_type="application/json")
