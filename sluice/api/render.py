"""OpenAI-style error JSON for any SluiceError: ``{"error": {message, type, param, code}}``."""

from __future__ import annotations

from starlette.responses import Response

from sluice.api.context import rate_limit_headers
from sluice.errors import SluiceError
from sluice.pipeline.admission import RateLimitExceededError
from sluice.types import ErrorBody, ErrorDetail, encoder


def error_body(err: SluiceError) -> bytes:
    return encoder.encode(ErrorBody(ErrorDetail(err.message, err.type, err.param, err.code)))


def error_headers(err: SluiceError, request_id: str) -> dict[str, str]:
    headers = {"x-request-id": request_id}
    if err.retry_after_s is not None:
        headers["retry-after"] = str(max(1, round(err.retry_after_s)))
    if isinstance(err, RateLimitExceededError):
        headers.update(rate_limit_headers(err.quota))
    return headers


def error_response(err: SluiceError, request_id: str) -> Response:
    return Response(
        error_body(err), err.status, error_headers(err, request_id), media_type="application/json"
    )
