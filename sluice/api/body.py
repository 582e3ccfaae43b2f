"""Reading and decoding a request body: size-limited, and every failure a clear 400 or 413."""

from __future__ import annotations

import re
from typing import TypeVar

import msgspec
from starlette.requests import ClientDisconnect, Request

from sluice.errors import InvalidRequestError, PayloadTooLargeError

T = TypeVar("T")

_AT = re.compile(r"^(.*?)(?: - at `\$(.*)`)?$", re.S)
_UNKNOWN = re.compile(r"Object contains unknown field `([^`]*)`")


class ClientGone(Exception):
    """The client disconnected before its body arrived; there is no one to answer."""


async def read_body(request: Request, max_bytes: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLargeError(f"Request body is {declared} bytes; the limit is {max_bytes}.")
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
