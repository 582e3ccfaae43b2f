import pytest

from sluice.errors import InvalidRequestError, UpstreamError
from sluice.providers.http import error_for_status, parse_retry_after, upstream_message


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}', "Rate limit reached"),
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
