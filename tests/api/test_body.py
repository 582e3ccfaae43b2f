"""Reading a body: Content-Encoding undone with the limit on the decoded size; and the ``sluice``
request options typed (msgspec's own errors make a bad option a 400 naming it)."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib
from typing import Any

import msgspec
import pytest
from starlette.requests import Request

from sluice.api.body import decode, read_body
from sluice.errors import InvalidRequestError, PayloadTooLargeError, SluiceError, UnsupportedMediaTypeError
from sluice.types import CacheOptions, ChatRequest, EmbeddingRequest, SluiceOptions

CHAT = msgspec.json.Decoder(ChatRequest)
EMBED = msgspec.json.Decoder(EmbeddingRequest)


def chat(options: str) -> bytes:
    return b'{"model":"m","messages":[{"role":"user","content":"hi"}],"sluice":' + options.encode() + b"}"


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ("null", None),
        ("{}", SluiceOptions()),
        ('{"cache":"no-cache"}', SluiceOptions(cache="no-cache")),
        ('{"cache":"no-store"}', SluiceOptions(cache="no-store")),
        ('{"cache":60}', SluiceOptions(cache=60)),
        ('{"cache":{"ttl":60,"threshold":0.95}}', SluiceOptions(cache=CacheOptions(ttl=60, threshold=0.95))),
        ('{"cache":{"threshold":1}}', SluiceOptions(cache=CacheOptions(threshold=1.0))),
    ],
)
def test_options_decode_into_their_type(options: str, expected: SluiceOptions | None) -> None:
    assert decode(chat(options), CHAT).sluice == expected


@pytest.mark.parametrize(
    ("options", "param", "message"),
    [
        (
            '{"cache":"sometimes"}',
            "sluice.cache",
            "Invalid value for 'sluice.cache': Invalid enum value 'sometimes'.",
        ),
        ('{"cache":0}', "sluice.cache", "Invalid value for 'sluice.cache': Expected `int` >= 1."),
        (
            '{"cache":true}',
            "sluice.cache",
            "Invalid value for 'sluice.cache': Expected `int | str | object | null`, got `bool`.",
        ),
        (
            '{"cache":{"ttl":0}}',
            "sluice.cache.ttl",
            "Invalid value for 'sluice.cache.ttl': Expected `int` >= 1.",
        ),
        (
            '{"cache":{"ttl":"60"}}',
            "sluice.cache.ttl",
            "Invalid value for 'sluice.cache.ttl': Expected `int | null`, got `str`.",
        ),
        (
            '{"cache":{"threshold":0}}',
            "sluice.cache.threshold",
            "Invalid value for 'sluice.cache.threshold': Expected `float` > 0.0.",
        ),
        (
            '{"cache":{"threshold":1.5}}',
            "sluice.cache.threshold",
            "Invalid value for 'sluice.cache.threshold': Expected `float` <= 1.0.",
        ),
        (
            '{"cache":{"ttl":60,"tll":1}}',
            "sluice.cache.tll",
            "Unrecognized request argument supplied: sluice.cache.tll",
        ),
        ('{"cahce":"no-store"}', "sluice.cahce", "Unrecognized request argument supplied: sluice.cahce"),
        ('"no-store"', "sluice", "Invalid value for 'sluice': Expected `object | null`, got `str`."),
    ],
)
def test_a_bad_option_is_a_400_naming_it(options: str, param: str, message: str) -> None:
    with pytest.raises(InvalidRequestError) as e:
        decode(chat(options), CHAT)
    assert (e.value.status, e.value.param, e.value.message) == (400, param, message)


def test_embeddings_take_the_same_options() -> None:
    body = b'{"model":"e","input":"hi","sluice":{"cache":"no-store"}}'
    assert decode(body, EMBED).sluice == SluiceOptions(cache="no-store")
    with pytest.raises(InvalidRequestError) as e:
        decode(b'{"model":"e","input":"hi","sluice":{"x":1}}', EMBED)
    assert e.value.param == "sluice.x"


# --- Content-Encoding --------------------------------------------------------------------

BODY = b'{"model":"m","messages":[{"role":"user","content":"' + b"hello " * 2000 + b'"}]}'


def http_request(body: bytes, encoding: str | None, piece: int = 1000) -> Request:
    """A Starlette request whose body arrives in ``piece``-byte messages, as from a socket."""
    headers = [(b"content-length", str(len(body)).encode())]
    if encoding is not None:
        headers.append((b"content-encoding", encoding.encode()))
    messages = [
        {"type": "http.request", "body": body[i : i + piece], "more_body": i + piece < len(body)}
        for i in range(0, max(len(body), 1), piece)
    ]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    return Request({"type": "http", "method": "POST", "path": "/", "headers": headers}, receive)


def gzip_members(*parts: bytes) -> bytes:
    return b"".join(gzip.compress(p) for p in parts)


@pytest.mark.parametrize(
    ("encoding", "encoded"),
    [
        ("gzip", gzip.compress(BODY)),
        ("GZip", gzip.compress(BODY)),
        ("x-gzip", gzip.compress(BODY)),
        ("gzip", gzip_members(BODY[:5000], BODY[5000:])),  # two members, as `cat a.gz b.gz`
        ("deflate", zlib.compress(BODY)),  # RFC 9110's deflate: zlib
        ("deflate", zlib.compress(BODY)[2:-4]),  # raw deflate, which some clients send
        ("identity", BODY),
        (None, BODY),
    ],
)
async def test_encoded_bodies_are_decoded(encoding: str | None, encoded: bytes) -> None:
    assert await read_body(http_request(encoded, encoding), 1 << 20) == BODY


async def test_the_limit_applies_to_the_decoded_size() -> None:
    assert await read_body(http_request(gzip.compress(BODY), "gzip"), len(BODY)) == BODY
    with pytest.raises(PayloadTooLargeError) as info:
        await read_body(http_request(gzip.compress(BODY), "gzip"), len(BODY) - 1)
    assert info.value.message == f"Request body exceeds the limit of {len(BODY) - 1} bytes once decompressed."


async def test_a_compressed_bomb_is_a_413_without_inflating_it() -> None:
    """256 MiB of zeros is a ~250 KB deflate body; it is refused once 64 KiB + 1 bytes came out. The
    decoder never holds more than the limit: tracemalloc's peak stays far below the bomb."""
    bomb = zlib.compress(b"\0" * (1 << 28), 9)
    tracemalloc.start()
    try:
        with pytest.raises(PayloadTooLargeError):
            await read_body(http_request(bomb, "deflate", piece=65536), 65536)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20


@pytest.mark.parametrize(
    ("encoding", "encoded", "error", "status", "message"),
    [
        ("br", b"\x8b\x00", UnsupportedMediaTypeError, 415,
         "Unsupported Content-Encoding 'br'; send the body as is, or with gzip or deflate."),
        ("gzip, gzip", gzip.compress(gzip.compress(BODY)), UnsupportedMediaTypeError, 415,
         "Unsupported Content-Encoding 'gzip, gzip'; send the body as is, or with gzip or deflate."),
        ("gzip", b"\x1f\x8b not gzip at all", InvalidRequestError, 400,
         "The request body is not valid gzip data (Content-Encoding: gzip)."),
        ("gzip", gzip.compress(BODY)[:-20], InvalidRequestError, 400,
         "The request body is not valid gzip data (Content-Encoding: gzip)."),
        ("gzip", gzip.compress(BODY) + b"trailing junk", InvalidRequestError, 400,
         "The request body is not valid gzip data (Content-Encoding: gzip)."),
        ("deflate", b"plain text, not deflate", InvalidRequestError, 400,
         "The request body is not valid deflate data (Content-Encoding: deflate)."),
    ],
)  # fmt: skip
async def test_bad_encodings(
    encoding: str, encoded: bytes, error: type[SluiceError], status: int, message: str
) -> None:
    with pytest.raises(error) as info:
        await read_body(http_request(encoded, encoding), 1 << 20)
    assert (info.value.status, info.value.message, info.value.param) == (status, message, "content-encoding")
