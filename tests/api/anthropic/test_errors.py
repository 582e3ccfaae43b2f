"""Every gateway error in Anthropic's error shape, exactly, and as the real SDK reads it."""

from __future__ import annotations

import anthropic
import msgspec
import pytest

from sluice.api.anthropic.errors import render_error
from sluice.errors import (
    AuthenticationError,
    BudgetExceededError,
    GuardrailError,
    InternalError,
    InvalidRequestError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    SluiceError,
    UnavailableError,
    UpstreamError,
    UpstreamTimeoutError,
)
from tests.api.anthropic.conftest import Canned, CannedServer

CASES = [
    (
        InvalidRequestError("max_tokens: Field required", param="max_tokens"),
        400,
        "invalid_request_error",
        anthropic.BadRequestError,
    ),
    (GuardrailError("Blocked by policy"), 400, "invalid_request_error", anthropic.BadRequestError),
    (AuthenticationError("Invalid API key"), 401, "authentication_error", anthropic.AuthenticationError),
    (
        PermissionDeniedError("Model not allowed for this key"),
        403,
        "permission_error",
        anthropic.PermissionDeniedError,
    ),
    (NotFoundError("Unknown model claude-9"), 404, "not_found_error", anthropic.NotFoundError),
    (
        PayloadTooLargeError("Request body too large"),
        413,
        "request_too_large",
        anthropic.ContentTooLargeError,
    ),
    (RateLimitError("Too many requests", retry_after_s=3), 429, "rate_limit_error", anthropic.RateLimitError),
    (BudgetExceededError("Monthly budget spent"), 429, "rate_limit_error", anthropic.RateLimitError),
    (
        InternalError("Internal server error (request id r1)."),
        500,
        "api_error",
        anthropic.InternalServerError,
    ),
    (
        UpstreamError("anthropic returned HTTP 500: boom", upstream_status=500),
        502,
        "api_error",
        anthropic.InternalServerError,
    ),
    (UnavailableError("No deployment available"), 503, "overloaded_error", anthropic.ServiceUnavailableError),
    (
        UpstreamTimeoutError("anthropic did not answer in time"),
        504,
        "timeout_error",
        anthropic.GatewayTimeoutError,
    ),
]


@pytest.mark.parametrize(("err", "status", "type_", "_sdk_class"), CASES)
def test_render_error_exact(err: SluiceError, status: int, type_: str, _sdk_class: type) -> None:
    assert render_error(err) == (
        status,
        msgspec.json.encode({"type": "error", "error": {"type": type_, "message": err.message}}),
    )


@pytest.mark.parametrize(("err", "status", "type_", "sdk_class"), CASES)
async def test_the_sdk_raises_its_class_for_each_error(
    canned: CannedServer,
    sdk: anthropic.AsyncAnthropic,
    err: SluiceError,
    status: int,
    type_: str,
    sdk_class: type,
) -> None:
    code, body = render_error(err)
    canned.reply = Canned(status=code, body=body)
    with pytest.raises(sdk_class) as info:
        await sdk.messages.create(model="m", max_tokens=1, messages=[{"role": "user", "content": "x"}])
    assert (info.value.status_code, info.value.type, info.value.api_message) == (status, type_, err.message)
