"""The ``sluice`` request options are typed: msgspec's own errors make a bad option a 400 naming it."""

from __future__ import annotations

import msgspec
import pytest

from sluice.api.body import decode
from sluice.errors import InvalidRequestError
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
