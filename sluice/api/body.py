"""Reading and decoding a request body: size-limited (after any gzip or deflate
Content-Encoding is undone), and every failure a clear 400, 413 or 415."""

from __future__ import annotations

import re
import zlib
from collections.abc import AsyncIterator
from typing import TypeVar

import msgspec
from starlette.requests import ClientDisconnect, Request

from sluice.errors import InvalidRequestError, PayloadTooLargeError, UnsupportedMediaTypeError

T = TypeVar("T")

_AT = re.compile(r"^(.*?)(?: - at `\$(.*)`)?$", re.S)
_UNKNOWN = re.compile(r"Object contains unknown field `([^`]*)`")


class ClientGone(Exception):
    """The client disconnected before its body arrived; there is no one to answer."""


_CODINGS = ("gzip", "x-gzip", "deflate")


async def read_body(request: Request, max_bytes: int) -> bytes:
    # One pass over the raw headers for both (ASGI lowercases names): the encoding costs nothing.
    declared = encoding = None
    for name, value in request.scope["headers"]:
        if name == b"content-length":
            declared = value
        elif name == b"content-encoding":
            encoding = value
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLargeError(f"Request body is {declared.decode()} bytes; the limit is {max_bytes}.")
    if encoding is not None:
        coding = encoding.decode("latin-1").strip().lower()
        if coding not in ("", "identity"):
            return await _inflate(_stream(request), coding, max_bytes)
    chunks = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_bytes:
                raise PayloadTooLargeError(f"Request body exceeds the limit of {max_bytes} bytes.")
            chunks.append(chunk)
    except ClientDisconnect:
        raise ClientGone from None
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def _stream(request: Request) -> AsyncIterator[bytes]:
    try:
        async for chunk in request.stream():
            yield chunk
    except ClientDisconnect:
        raise ClientGone from None


async def _inflate(chunks: AsyncIterator[bytes], coding: str, max_bytes: int) -> bytes:
    """Undo a gzip or deflate Content-Encoding as the body arrives, never holding more than
    ``max_bytes`` + 1 decoded bytes: a small compressed bomb is a 413 after reading that much."""
    if coding not in _CODINGS:
        raise UnsupportedMediaTypeError(
            f"Unsupported Content-Encoding {coding!r}; send the body as is, or with gzip or deflate.",
            param="content-encoding",
        )
    inflater = None
    wbits = 0
    out: list[bytes] = []
    size = 0
    try:
        async for chunk in chunks:
            if inflater is None:
                wbits = _window_bits(coding, chunk)
                inflater = zlib.decompressobj(wbits)
            pending = chunk
            while pending:
                # max_length >= 1 here, so zlib makes progress or leaves an unconsumed tail.
                piece = inflater.decompress(pending, max_bytes + 1 - size)
                size += len(piece)
                if size > max_bytes:
                    raise PayloadTooLargeError(
                        f"Request body exceeds the limit of {max_bytes} bytes once decompressed."
                    )
                out.append(piece)
                if inflater.eof:  # the end of a gzip member: another may follow (RFC 1952)
                    pending = inflater.unused_data
                    if pending:
                        inflater = zlib.decompressobj(wbits)
                else:
                    pending = inflater.unconsumed_tail
        if inflater is not None and not inflater.eof:
            raise zlib.error("the compressed body ended early")
    except zlib.error:
        raise InvalidRequestError(
            f"The request body is not valid {coding} data (Content-Encoding: {coding}).",
            param="content-encoding",
        ) from None
    return b"".join(out)


def _window_bits(coding: str, first: bytes) -> int:
    """zlib's window bits: 32 + 15 reads a gzip or zlib header, whichever it finds. HTTP's
    deflate is zlib (RFC 9110), but some clients send raw deflate (-15): told apart by the
    zlib header check (RFC 1950: method 8, header a multiple of 31)."""
    if coding == "deflate" and len(first) >= 2:
        is_zlib = first[0] & 0x0F == 8 and (first[0] << 8 | first[1]) % 31 == 0
        return 15 if is_zlib else -15
    return 32 + 15


def decode(body: bytes, decoder: msgspec.json.Decoder[T]) -> T:
    """Decode and validate; msgspec's error says what and where, which becomes the param."""
    if not body:
        raise InvalidRequestError("The request body is empty; send a JSON object.")
    try:
        # JSON is UTF-8 (RFC 8259). msgspec checks the strings it decodes but not the ones it
        # skips into a ``Raw`` (passed through upstream); ASCII checks at memory speed.
        body.decode()
    except UnicodeDecodeError as e:
        raise InvalidRequestError(
            f"The request body is not valid UTF-8 (byte 0x{body[e.start]:02x} at offset {e.start}); JSON must be UTF-8."
        ) from None
    try:
        return decoder.decode(body)
    except msgspec.ValidationError as e:
        raise validation_error(str(e)) from None
    except msgspec.DecodeError:
        raise InvalidRequestError(
            "We could not parse the JSON body of your request. The body must be a valid JSON object."
        ) from None
    except RecursionError:  # msgspec's own depth: the interpreter's recursion limit (~1000 levels)
        raise InvalidRequestError("The JSON body of your request is nested too deeply.") from None


def validation_error(text: str, prefix: str = "") -> InvalidRequestError:
    """msgspec's ``ValidationError`` text as a 400 naming the param; ``prefix`` is where the
    value that failed sits in the body (``input[2]``), when it was converted on its own."""
    unknown = _UNKNOWN.match(text)
    m = _AT.match(text)
    assert m is not None
    what, where = m.group(1), (m.group(2) or "").lstrip(".")
    if prefix:
        where = f"{prefix}{'.' if where and not where.startswith('[') else ''}{where}"
    if unknown:
        name = unknown.group(1)
        param = f"{where}.{name}" if where else name
        return InvalidRequestError(f"Unrecognized request argument supplied: {param}", param=param)
    if what.startswith("Object missing required field"):
        field = what.split("`")[1]
        param = f"{where}.{field}" if where else field
        return InvalidRequestError(f"Missing required parameter: '{param}'.", param=param)
    if where:
        return InvalidRequestError(f"Invalid value for '{where}': {what}.", param=where)
    return InvalidRequestError(f"Invalid request body: {what}.")
