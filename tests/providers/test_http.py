import pytest

from sluice.errors import InvalidRequestError, UpstreamError
from sluice.obs.redact import Redactor
from sluice.providers.http import error_for_status, parse_retry_after, upstream_message


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            b'{"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}',
            "Rate limit reached",
        ),
        (b'{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}', "Overloaded"),
        (b'{"error": "model not loaded"}', "model not loaded"),
        (b'{"message": "bad gateway"}', "bad gateway"),
        (b"<html>502 Bad Gateway</html>", "<html>502 Bad Gateway</html>"),
    ],
)
def test_upstream_message_from_any_error_shape(body: bytes, message: str) -> None:
    assert upstream_message(body) == message


def test_statuses_map_once() -> None:
    e = error_for_status(400, b'{"error": {"message": "context too long"}}', {}, "openai")
    assert isinstance(e, InvalidRequestError) and e.message == "openai rejected the request: context too long"
    e = error_for_status(429, b'{"error": {"message": "slow down"}}', {"retry-after": "7"}, "openai")
    assert isinstance(e, UpstreamError) and e.is_retryable and e.retry_after_s == 7 and e.code == "429"
    e = error_for_status(401, b"{}", None, "openai")
    assert isinstance(e, UpstreamError) and not e.is_retryable and e.status == 502


def test_retry_after_forms() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("0.5") == 0.5
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past


KEY = "sk-proj-Upstream0123456789abcdef"


@pytest.mark.parametrize("status", [400, 401, 403, 429, 500, 503])
def test_the_upstreams_text_never_carries_a_configured_secret(status: int) -> None:
    opaque = "opaque-admin-secret-77"  # no credential shape: only the configured list knows it
    body = (
        f'{{"error": {{"message": "Incorrect API key provided: {KEY}. Header was Bearer {KEY}; '
        f'also {opaque}", "type": "invalid_request_error"}}}}'
    ).encode()
    e = error_for_status(status, body, {}, "openai", Redactor([KEY, opaque]))
    assert KEY not in e.message and opaque not in e.message and "Upstream0123" not in e.message
    assert e.message.startswith(("openai returned HTTP", "openai rejected the request"))


def test_credential_refusals_are_answered_in_the_gateways_words() -> None:
    for status in (401, 403):
        e = error_for_status(status, f'{{"error": {{"message": "bad key {KEY}"}}}}'.encode(), {}, "openai")
        assert isinstance(e, UpstreamError) and (e.status, e.code) == (502, str(status))
        assert e.message == (
            f"openai returned HTTP {status}: the provider refused the gateway's own credentials or account; "
            "this is the gateway's configuration, not your API key (the operator has the details in the gateway's log)"
        )


def test_other_errors_keep_the_upstreams_scrubbed_text() -> None:
    e = error_for_status(
        500, f'{{"error": {{"message": "boom with {KEY}"}}}}'.encode(), {}, "openai", Redactor([KEY])
    )
    assert e.message == "openai returned HTTP 500: boom with [REDACTED]"
