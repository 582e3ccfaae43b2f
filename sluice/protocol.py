"""The HTTP/1 protocol uvicorn serves with: httptools, plus close-delimited bodies for HTTP/1.0.

uvicorn's httptools protocol frames every body without a Content-Length as chunked, whatever
the request's version; chunked transfer coding is HTTP/1.1 (RFC 9112 section 7), so an HTTP/1.0
client reads the chunk sizes as data. For those requests a body of unknown length (a stream) is
sent as is and ended by closing the connection, as HTTP/1.0 defines (uvicorn already closes it:
HTTP/1.0 connections are not kept alive).
"""

from __future__ import annotations

import sys
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle


class HttpToolsProtocol10(HttpToolsProtocol):
    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        if cycle.scope["http_version"] == "1.0":
            cycle.send = _close_delimited(cycle)  # type: ignore[method-assign]
        super()._start_asgi_task(cycle, app)


def _close_delimited(cycle: RequestResponseCycle) -> Any:
    """``cycle.send`` for an HTTP/1.0 request: a response without Content-Length is written as
    it comes, the length uvicorn tracks set to the last write's size so it ends cleanly."""
    send = cycle.send
    unbounded = False

    async def send_10(message: Any) -> None:
        nonlocal unbounded
        if message["type"] == "http.response.start" and not any(
            name.lower() == b"content-length" for name, _ in message.get("headers", ())
        ):
            unbounded = True
            cycle.chunked_encoding = False  # not None: uvicorn adds no transfer-encoding
            cycle.expected_content_length = sys.maxsize
        elif message["type"] == "http.response.body" and unbounded and not message.get("more_body", False):
            cycle.expected_content_length = len(message.get("body", b""))
        await send(message)

    return send_10
