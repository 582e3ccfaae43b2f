"""The Redactor: configured secrets and credential shapes out of text that leaves the process."""

from __future__ import annotations

import io
import logging
import sys

import msgspec
import pytest

from sluice.obs.logging import JsonFormatter, TextFormatter
from sluice.obs.redact import MASK, Redactor, secret_values
from sluice.settings import Settings

UPSTREAM_KEY = "opaque-upstream-credential-4242"  # no known shape: only the configured list finds it


def test_configured_secrets_are_replaced_wherever_they_appear() -> None:
    r = Redactor([UPSTREAM_KEY, "jwt-hmac-secret"])
    text = f"Incorrect API key provided: {UPSTREAM_KEY}.x-{UPSTREAM_KEY}; signed with jwt-hmac-secret"
    assert r.redact(text) == f"Incorrect API key provided: {MASK}.x-{MASK}; signed with {MASK}"


def test_url_encoded_forms_and_dsn_passwords() -> None:
    r = Redactor(["a b/c+d=", "postgresql://app:p%40ss:w0rd@db.internal:5432/sluice"])
    assert r.redact("key=a%20b%2Fc%2Bd%3D in a query") == f"key={MASK} in a query"
    assert r.redact('password authentication failed, password "p@ss:w0rd"') == (
        f'password authentication failed, password "{MASK}"'
    )
    assert "p%40ss" not in r.redact("dsn postgresql://app:p%40ss:w0rd@db.internal:5432/sluice")


def test_a_secret_containing_another_goes_whole() -> None:
    r = Redactor(["abcd1234", "xx-abcd1234-yy"])
    assert r.redact("got xx-abcd1234-yy") == f"got {MASK}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Incorrect API key provided: sk-proj-Ab3dEf6hIj9kLmN0. You can find",
            f"Incorrect API key provided: {MASK}. You can find",
        ),
        ("masked: sk-proj-********************abcd", f"masked: {MASK}"),
        ("anthropic key sk-ant-api03-AbCdEf0123456789", f"anthropic key {MASK}"),
        ("Authorization: Bearer tok_0123456789abcdefXYZ", f"Authorization: Bearer {MASK}"),
        ("sent Bearer abcdefghij0123456789 upstream", f"sent Bearer {MASK} upstream"),
        ('{"x-api-key": "k-998877665544"}', f'{{"x-api-key": "{MASK}"}}'),
        ("api_key=hunter2hunter2&model=x", f"api_key={MASK}&model=x"),
        ("aws AKIAIOSFODNN7EXAMPLE id", f"aws {MASK} id"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl end", f"jwt {MASK} end"),
        ("github ghp_" + "a1" * 18 + " end", f"github {MASK} end"),
        ("redis://:s3cret@127.0.0.1:6379/0 refused", f"redis://:{MASK}@127.0.0.1:6379/0 refused"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY----- tail", f"{MASK} tail"),
    ],
)
def test_credential_shapes(text: str, expected: str) -> None:
    assert Redactor().redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "This model's maximum context length is 8192 tokens. However, you requested 9000 tokens.",
        "max_tokens=100 is too large",
        "Bearer token required",
        "task-manager-1234567890 failed",
        "http://127.0.0.1:8080/v1/chat/completions",
        "Overloaded",
        "",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert Redactor(["sk-configured-0001"]).redact(text) == text


def test_secret_values_walks_the_settings_tree() -> None:
    s = Settings.model_validate(
        {
            "auth": {
                "keys": [{"key": "sk-client-0001", "name": "a"}],
                "jwt": {"secret": "jwt-hmac-secret", "algorithms": ["HS256"]},
            },
            "admin": {"keys": [{"key": "admin-key-0001", "name": "ops"}]},
            "providers": {
                "up": {
                    "type": "openai",
                    "base_url": "http://127.0.0.1:1/v1",
                    "api_key": "opaque-up-1",
                    "headers": {"api-key": "azure-style-key-1", "x-trace-tag": "public"},
                },
            },
            "models": {
                "m": {
                    "deployments": [
                        {
                            "provider": "up",
                            "model": "m1",
                            "api_key": "opaque-dep-1",
                            "headers": {"Authorization": "Bearer dep-token-1"},
                        }
                    ]
                }
            },
        }
    )
    values = set(secret_values(s))
    assert {
        "sk-client-0001",
        "jwt-hmac-secret",
        "admin-key-0001",
        "opaque-up-1",
        "azure-style-key-1",
        "opaque-dep-1",
        "Bearer dep-token-1",
    } <= values
    assert "public" not in values


def _record(msg: str, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("sluice.test", logging.WARNING, __file__, 1, msg, None, None)
    for k, v in extra.items():
        setattr(record, k, v)
    return record


def test_json_log_lines_carry_no_secret() -> None:
    secret = 'quote"and\\backslash-secret'
    f = JsonFormatter(Redactor([UPSTREAM_KEY, secret]))
    line = f.format(
        _record(f"upstream said {UPSTREAM_KEY}", detail=f"got {secret}", nested={"k": UPSTREAM_KEY})
    )
    assert UPSTREAM_KEY not in line and "backslash-secret" not in line
    out = msgspec.json.decode(line)
    assert out["msg"] == f"upstream said {MASK}" and out["detail"] == f"got {MASK}"


def test_json_log_traceback_carries_no_secret() -> None:
    f = JsonFormatter(Redactor([UPSTREAM_KEY]))
    try:
        raise RuntimeError(f"connect failed with {UPSTREAM_KEY}")
    except RuntimeError:
        record = logging.LogRecord("sluice.test", logging.ERROR, __file__, 1, "boom", None, sys.exc_info())
    line = f.format(record)
    assert UPSTREAM_KEY not in line and MASK in msgspec.json.decode(line)["exc"]


def test_text_log_lines_carry_no_secret() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(TextFormatter(Redactor([UPSTREAM_KEY])))
    handler.emit(_record(f"upstream said {UPSTREAM_KEY}"))
    assert UPSTREAM_KEY not in stream.getvalue() and MASK in stream.getvalue()
