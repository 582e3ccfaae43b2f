"""The error hierarchy: every failure the gateway reports is one of these.

    SluiceError                      status, type, code, safe message, optional param
    ├── InvalidRequestError          400 invalid_request_error
    │   ├── GuardrailError           400 content_policy_violation
    │   └── ParseError               400 invalid_file / unsupported_file (a file that cannot become text)
    ├── AuthenticationError          401 invalid_api_key
    ├── PermissionDeniedError        403 permission_error
    ├── NotFoundError                404 model_not_found
    ├── ConflictError                409 conflict (an id or key that exists already)
    ├── PayloadTooLargeError         413 request_too_large
    ├── UnsupportedMediaTypeError    415 unsupported_content_encoding
    ├── RateLimitError               429 rate_limit_exceeded (+ Retry-After)
    ├── BudgetExceededError          429 insufficient_quota
    ├── QuotaExceededError           429 insufficient_quota / quota_exceeded (a count of stored things, not money)
    ├── InternalError                500 server_error (details only in logs)
    ├── UpstreamError                502 upstream_error (the provider's status kept for retries)
    │   ├── InvalidUpstreamResponseError 502 invalid_upstream_response (a body or stream event off the protocol)
    │   ├── StreamTruncatedError     502 upstream_stream_truncated (the stream broke before its terminator)
    │   └── StructuredOutputError    502 invalid_structured_output (the answer broke the schema, repaired once)
    ├── UnavailableError             503 service_unavailable / circuit_open
    │   ├── StoreUnavailableError    503 store_unavailable (the database did not answer)
    │   │   └── ObjectStoreUnavailableError 503 object_store_unavailable (files' bytes: S3 failed)
    │   └── ShuttingDownError        503 server_shutting_down (a stream outlived the shutdown's grace period)
    └── UpstreamTimeoutError         504 timeout / upstream_timeout

Surfaces render these (``api/render.py`` for OpenAI, ``api/anthropic/errors.py`` for
Anthropic); foreign exceptions are translated once, where they enter.
"""

from __future__ import annotations


class SluiceError(Exception):
    """Base class: carries everything a surface needs to render the error."""

    status: int = 500
    type: str = "server_error"
    code: str | None = None

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code
        self.retry_after_s = retry_after_s


class InvalidRequestError(SluiceError):
    status = 400
    type = "invalid_request_error"
    code: str | None = None


class GuardrailError(InvalidRequestError):
    code = "content_policy_violation"


class ParseError(InvalidRequestError):
    """A file that cannot become text: ``unsupported_file`` (a type the parser does not read) or
    ``invalid_file`` (corrupt, encrypted, or over the parse budget). The code and message are what a
    vector store file's ``last_error`` shows."""

    code = "invalid_file"


class AuthenticationError(SluiceError):
    status = 401
    type = "invalid_request_error"
    code = "invalid_api_key"


class PermissionDeniedError(SluiceError):
    status = 403
    type = "permission_error"
    code = "permission_denied"


class NotFoundError(SluiceError):
    status = 404
    type = "invalid_request_error"
    code = "model_not_found"


class ConflictError(SluiceError):
    status = 409
    type = "invalid_request_error"
    code = "conflict"


class PayloadTooLargeError(SluiceError):
    status = 413
    type = "invalid_request_error"
    code = "request_too_large"


class UnsupportedMediaTypeError(SluiceError):
    status = 415
    type = "invalid_request_error"
    code = "unsupported_content_encoding"


class RateLimitError(SluiceError):
    status = 429
    type = "requests"
    code = "rate_limit_exceeded"


class BudgetExceededError(SluiceError):
    status = 429
    type = "insufficient_quota"
    code = "insufficient_quota"


class QuotaExceededError(SluiceError):
    status = 429
    type = "insufficient_quota"
    code = "quota_exceeded"


class InternalError(SluiceError):
    status = 500
    type = "server_error"
    code = None


class UpstreamError(SluiceError):
    """An upstream call failed. ``upstream_status`` is the provider's HTTP status (None for a
    connection failure); ``is_retryable`` says whether another attempt may succeed."""

    status = 502
    type = "upstream_error"
    code: str | None = "upstream_error"

    def __init__(
        self,
        message: str,
        *,
        upstream_status: int | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message, retry_after_s=retry_after_s)
        self.upstream_status = upstream_status
        if upstream_status is not None:
            self.code = str(upstream_status)

    @property
    def is_retryable(self) -> bool:
        s = self.upstream_status
        return s is None or s == 408 or s == 409 or s == 429 or s >= 500


class InvalidUpstreamResponseError(UpstreamError):
    """The upstream answered with a success status but a body or stream event its protocol does
    not allow (malformed JSON, a payload that is not a chunk). Retryable: another attempt or
    deployment may answer properly."""

    code = "invalid_upstream_response"


class StreamTruncatedError(UpstreamError):
    """A stream ended before its protocol's terminator (``data: [DONE]``, ``message_stop``):
    the connection was reset or closed early. Before the first byte it is retried like any
    connection failure; after it, the client gets an error event, never a finished answer."""

    code = "upstream_stream_truncated"


class StructuredOutputError(UpstreamError):
    """The answer did not match the request's ``json_schema``, even after one repair attempt."""

    code = "invalid_structured_output"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.code = "invalid_structured_output"

    @property
    def is_retryable(self) -> bool:
        return False


class UnavailableError(SluiceError):
    status = 503
    type = "service_unavailable"
    code = "circuit_open"


class StoreUnavailableError(UnavailableError):
    code = "store_unavailable"


class ObjectStoreUnavailableError(StoreUnavailableError):
    code = "object_store_unavailable"


class ShuttingDownError(UnavailableError):
    code = "server_shutting_down"


class UpstreamTimeoutError(SluiceError):
    status = 504
    type = "timeout"
    code = "upstream_timeout"

    @property
    def is_retryable(self) -> bool:
        return True


def from_upstream_status(
    status: int, source: str, detail: str, retry_after_s: float | None = None
) -> SluiceError:
    """The error for an upstream's HTTP error status, decided once for every provider.

    400 and 422 mean the upstream refused the request itself: retrying or falling back cannot
    help, so the client gets a 400 with the upstream's message. Anything else is an
    ``UpstreamError`` keeping the status for the retry policy (429 and 5xx retry). 401 and 403
    are the gateway's own credential problem: they surface as 502 in the gateway's words, since
    the upstream's text is about a credential the client neither has nor can fix.

    ``detail`` is the upstream's text, already scrubbed of secrets by the caller.
    """
    if status in (400, 422):
        return InvalidRequestError(f"{source} rejected the request: {detail}", code="upstream_rejected")
    if status in (401, 403):
        detail = (
            "the provider refused the gateway's own credentials or account; this is the gateway's "
            "configuration, not your API key (the operator has the details in the gateway's log)"
        )
    return UpstreamError(
        f"{source} returned HTTP {status}: {detail}", upstream_status=status, retry_after_s=retry_after_s
    )
