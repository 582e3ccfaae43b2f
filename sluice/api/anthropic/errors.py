"""Any ``SluiceError`` in Anthropic's error shape: ``{"type": "error", "error": {type, message}}``.

The status is the gateway's own; the ``type`` is Anthropic's name for that status. The SDK
picks its exception class from the status alone, so the type only has to read right.
"""

from __future__ import annotations

from sluice.errors import SluiceError
from sluice.providers.anthropic.wire import ErrorDetail, ErrorEvent
from sluice.types import encoder

_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    # A circuit open or no deployment free: "temporarily unable, retry" is what Anthropic
    # says with overloaded_error, and the SDK retries a 503 like a 529.
    503: "overloaded_error",
    504: "timeout_error",
    529: "overloaded_error",
}


def error_type(err: SluiceError) -> str:
    """Anthropic's error ``type`` for this error's status."""
    return _TYPES.get(err.status) or ("invalid_request_error" if err.status < 500 else "api_error")


def error_event(err: SluiceError) -> ErrorEvent:
    return ErrorEvent(error=ErrorDetail(type=error_type(err), message=err.message))


def render_error(err: SluiceError) -> tuple[int, bytes]:
    """The status and JSON body of an error response on the ``/v1/messages`` surface."""
    return err.status, encoder.encode(error_event(err))


def is_anthropic_path(path: str) -> bool:
    """Whether a path belongs to the Anthropic surface, whose misses (404, 405) answer in its shape."""
    return path == "/v1/messages" or path.startswith("/v1/messages/")
