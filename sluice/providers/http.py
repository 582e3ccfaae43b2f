"""The pooled upstream HTTP client and the translation of its failures, shared by the
providers that speak HTTP. aiohttp: in the bench, httpx cost ~10x more CPU per request."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from collections.abc import AsyncIterator, Mapping

import aiohttp
import msgspec

from sluice.errors import (
    SluiceError,
    StreamTruncatedError,
    UpstreamError,
    UpstreamTimeoutError,
    from_upstream_status,
)
from sluice.obs.redact import Redactor
from sluice.obs.tracing import TRACE_HEADERS

log = logging.getLogger("sluice.providers")

CLIENT_ERRORS = (aiohttp.ClientError, OSError, asyncio.TimeoutError)


def make_session(pool_size: int, connect_timeout_s: float = 5.0) -> aiohttp.ClientSession:
    """One keep-alive pool per provider. Timeouts beyond connect are the router's job."""
    connector = aiohttp.TCPConnector(
        limit=pool_size, limit_per_host=pool_size, keepalive_timeout=60, ttl_dns_cache=300
    )
    return aiohttp.ClientSession(
        connector=connector,
        auto_decompress=True,
        skip_auto_headers=("User-Agent",),
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=connect_timeout_s),
    )


class UpstreamClient:
    """A provider's pooled session, with its failures translated where they enter."""

    def __init__(
        self, provider: str, pool_size: int, connect_timeout_s: float, redactor: Redactor | None = None
    ) -> None:
        self._provider = provider
        self._redactor = redactor or Redactor()
        self._pool_size = pool_size
        self._connect_timeout_s = connect_timeout_s
        self._session: aiohttp.ClientSession | None = None

    async def post(
        self, url: str, body: bytes | aiohttp.FormData, headers: Mapping[str, str]
    ) -> aiohttp.ClientResponse:
        """POST and return the response once its status is known to be a success. It carries the
        W3C trace headers of the moment (``TRACE_HEADERS``), if any."""
        return await self.send("POST", url, body, headers)

    async def send(
        self, method: str, url: str, body: bytes | aiohttp.FormData | None, headers: Mapping[str, str]
    ) -> aiohttp.ClientResponse:
        """``post`` for any method (a batch API's GETs, a multipart upload)."""
        trace = TRACE_HEADERS.get()
        if trace is not None:
            headers = {**headers, **trace}
        if self._session is None:  # made on first use, inside the running loop it binds to
            self._session = make_session(self._pool_size, self._connect_timeout_s)
        try:
            resp = await self._session.request(method, url, data=body, headers=headers)
        except CLIENT_ERRORS as e:
            raise connection_error(e, self._provider) from e
        if resp.status >= 400:
            try:
                data = await resp.read()
            except CLIENT_ERRORS:
                data = b""
            finally:
                resp.release()
            raise error_for_status(resp.status, data, resp.headers, self._provider, self._redactor)
        return resp

    async def read(self, resp: aiohttp.ClientResponse) -> bytes:
        try:
            return await resp.read()
        except CLIENT_ERRORS as e:
            raise connection_error(e, self._provider) from e
        finally:
            resp.release()

    @staticmethod
    def finish(resp: aiohttp.ClientResponse, *, read_to_end: bool) -> None:
        """End a stream: a connection read to the end goes back to the pool; a half-read one
        is dropped, which is how the upstream learns the client left and stops generating."""
        if read_to_end:
            resp.release()
        else:
            resp.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds, from either of its forms (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class _ErrorDetail(msgspec.Struct):
    message: str | None = None


class _ErrorBody(msgspec.Struct):
    """OpenAI's ``{"error": {"message"}}``, Anthropic's ``{"type": "error", "error": {...}}``,
    or a bare ``{"error": "text"}`` / ``{"message": ...}`` from simpler servers."""

    error: _ErrorDetail | str | None = None
    message: str | None = None


_error_decoder = msgspec.json.Decoder(_ErrorBody)


def upstream_message(body: bytes) -> str:
    """The human message inside an upstream error body, if any; else the start of the body."""
    try:
        parsed = _error_decoder.decode(body)
    except msgspec.DecodeError:
        return body[:200].decode("utf-8", "replace")
    if isinstance(parsed.error, str):
        return parsed.error
    if parsed.error is not None and parsed.error.message:
        return parsed.error.message
    return parsed.message or body[:200].decode("utf-8", "replace")


def error_for_status(
    status: int,
    body: bytes,
    headers: Mapping[str, str] | None,
    provider: str,
    redactor: Redactor | None = None,
) -> SluiceError:
    """Map an upstream error response to the gateway's error, once, where it enters. The
    upstream's text is scrubbed of every configured secret and credential shape first (OpenAI's
    401 quotes the key it was sent), and logged: the client may get the gateway's own words."""
    retry_after = parse_retry_after(headers.get("retry-after")) if headers else None
    detail = (redactor or Redactor()).redact(upstream_message(body))
    level = logging.WARNING if status in (401, 403) else logging.INFO
    log.log(
        level,
        "upstream error",
        extra={"provider": provider, "upstream_status": status, "upstream_message": detail},
    )
    return from_upstream_status(status, provider, detail, retry_after)


def connection_error(exc: BaseException, provider: str) -> Exception:
    """Translate an aiohttp/OS failure. Decided by type, never by message text."""
    if isinstance(exc, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        return UpstreamTimeoutError(f"{provider} did not answer in time")
    return UpstreamError(f"{provider} unreachable: {type(exc).__name__}")


def stream_cut(exc: BaseException, provider: str) -> Exception:
    """Translate a failure while reading a stream that had started: a reset or an incomplete
    body is a truncated stream; a timeout stays a timeout."""
    if isinstance(exc, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        return connection_error(exc, provider)
    return StreamTruncatedError(f"{provider} stream was cut before its end: {type(exc).__name__}")


async def sse_events(response: aiohttp.ClientResponse) -> AsyncIterator[list[bytes]]:
    """Split an SSE body into the ``data:`` payloads of complete events, one list per read.

    Reads whatever the socket has (``iter_any``), so a burst of tokens becomes one list and
    one downstream write. Event types are not needed: both OpenAI and Anthropic put the type
    inside the JSON payload.
    """
    buf = b""
    async for piece in response.content.iter_any():
        buf = buf + piece if buf else piece
        if b"\n\n" not in buf and b"\r\n\r\n" not in buf:
            continue
        if b"\r\n" in buf:
            buf = buf.replace(b"\r\n", b"\n")
        *events, buf = buf.split(b"\n\n")
        out = []
        for event in events:
            for line in event.split(b"\n"):
                if line.startswith(b"data:"):
                    out.append(line[5:].lstrip(b" "))
        if out:
            yield out
    if buf.strip():
        for line in buf.split(b"\n"):
            if line.startswith(b"data:"):
                yield [line[5:].lstrip(b" ")]
