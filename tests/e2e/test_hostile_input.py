"""Hostile input against a real gateway with budgets, limits, guardrails and the cache on: a table
of known attacks (invalid UTF-8, deep nesting, integers hundreds of digits long, 1e999), each a 400
naming the param, then a hypothesis fuzzer over the three data-plane routes and the admin API
asserting no 5xx, every 4xx in the surface's own error JSON, and no traceback in the log."""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import DEMO_KEY, sim_config
from tests.fixtures.http import Reply, call
from tests.fixtures.procs import Proc

ADMIN = "sk-admin-hostile"
AUTH = {"authorization": f"Bearer {DEMO_KEY}", "x-api-key": DEMO_KEY, "anthropic-version": "2023-06-01"}
ADMIN_AUTH = {"authorization": f"Bearer {ADMIN}"}
CHAT = "/v1/chat/completions"
EMBED = "/v1/embeddings"
MESSAGES = "/v1/messages"
BASE: dict[str, dict[str, Any]] = {
    CHAT: {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
    EMBED: {"model": "text-embedding-3-small", "input": "hi"},
    MESSAGES: {"model": "gpt-4o-mini", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]},
}
BIG = "9" * 300


@pytest.fixture(scope="module")
def gw(module_gateway) -> Proc:
    config = sim_config()
    config["auth"]["keys"][0].update(
        budgets=[{"period": "day", "max_tokens": 10**12, "max_cost_micros": 10**12}],
        limits={"rpm": 10**6, "tpm": 10**12},
        guardrails={
            "pii": "redact",
            "secrets": "block",
            "injection": "flag",
            "structured_output": "validate",
        },
    )
    config["admin"] = {"keys": [{"key": ADMIN, "name": "ops"}]}
    config["cache"] = {"enabled": True, "policy": {"deterministic_only": False}}
    config["logging"] = {"level": "info"}
    return module_gateway(config)


def deep(levels: int, leaf: str = "1") -> str:
    return '{"a":' * levels + leaf + "}" * levels


def with_raw(path: str, field: str, raw: str | bytes) -> bytes:
    """The route's valid body with ``field`` set to the raw JSON text ``raw``."""
    marker = "@@RAW@@"
    body = msgspec.json.encode({**BASE[path], field: marker})
    return body.replace(f'"{marker}"'.encode(), raw.encode() if isinstance(raw, str) else raw)


def assert_error_json(path: str, r: Reply) -> dict[str, Any]:
    """The surface's own error shape with a message; returns the error object."""
    assert r.headers["content-type"] == "application/json", r.headers
    body = r.json()
    if path == MESSAGES:
        assert body["type"] == "error" and set(body["error"]) == {"type", "message"}, body
    else:
        assert set(body["error"]) == {"message", "type", "param", "code"}, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"], body
    return body["error"]


def assert_no_traceback(gw: Proc) -> None:
    log = gw.log()
    assert "Traceback" not in log and '"unhandled error' not in log, log[-4000:]


def tools_deep(levels: int) -> str:
    return '[{"type":"function","function":{"name":"f","parameters":' + deep(levels) + "}}]"


CASES = [
    (
        CHAT,
        b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"\xff\xfe"}]}',
        None,
        "not valid UTF-8",
    ),
    (EMBED, b'{"model":"text-embedding-3-small","input":"\xc3"}', None, "not valid UTF-8"),
    (MESSAGES, with_raw(MESSAGES, "system", b'"\xed\xa0\x80"'), None, "not valid UTF-8"),
    (CHAT, with_raw(CHAT, "tools", tools_deep(100_000)), None, "nested too deeply"),
    (CHAT, with_raw(CHAT, "tools", tools_deep(200)), "tools[0].function.parameters", "more than 64 levels"),
    (
        CHAT,
        with_raw(
            CHAT,
            "response_format",
            '{"type":"json_schema","json_schema":{"name":"x","schema":%s}}'.replace("%s", deep(100)),
        ),
        "response_format.json_schema.schema",
        "more than 64 levels",
    ),
    (
        CHAT,
        with_raw(
            CHAT,
            "response_format",
            '{"type":"json_schema","json_schema":{"name":"x","schema":{"$ref":"http://127.0.0.1:9/s.json"}}}',
        ),
        "response_format.json_schema.schema",
        "Retrieval is disabled",
    ),
    (
        CHAT,
        with_raw(
            CHAT,
            "response_format",
            '{"type":"json_schema","json_schema":{"name":"x","schema":{"pattern":"(?<n>a)\\\\k<"}}}',
        ),
        "response_format.json_schema.schema",
        "regex",
    ),
    (
        CHAT,
        with_raw(
            CHAT,
            "response_format",
            '{"type":"json_schema","json_schema":{"name":"x","schema":{"enum":["%s"]}}}' % ("x" * 300_000),
        ),
        "response_format.json_schema.schema",
        "at most 262144 are checked",
    ),
    (
        MESSAGES,
        with_raw(
            MESSAGES,
            "output_config",
            '{"format":{"type":"json_schema","schema":{"$ref":"file:///etc/passwd"}}}',
        ),
        None,
        "The response schema cannot be used to check answers: Resource 'file:///etc/passwd'",
    ),
    (
        CHAT,
        with_raw(CHAT, "sluice", deep(500)),
        "sluice.a",
        "Unrecognized request argument supplied: sluice.a",
    ),
    (
        EMBED,
        with_raw(EMBED, "sluice", deep(500)),
        "sluice.a",
        "Unrecognized request argument supplied: sluice.a",
    ),
    (CHAT, with_raw(CHAT, "sluice", '{"cahce":"no-store"}'), "sluice.cahce", "Unrecognized request argument"),
    (CHAT, with_raw(CHAT, "sluice", '{"cache":{"ttl":0}}'), "sluice.cache.ttl", ">= 1"),
    (CHAT, with_raw(CHAT, "audio", deep(50_000)), None, "nested too deeply"),
    (CHAT, with_raw(CHAT, "metadata", deep(50_000)), "metadata[...]", "Expected `str`"),
    (
        MESSAGES,
        with_raw(MESSAGES, "tools", '[{"name":"f","input_schema":%s}]'.replace("%s", deep(300))),
        "tools[0].input_schema",
        "more than 64",
    ),
    (
        MESSAGES,
        with_raw(
            MESSAGES,
            "output_config",
            '{"format":{"type":"json_schema","schema":%s}}'.replace("%s", deep(300)),
        ),
        "output_config.format.schema",
        "more than 64",
    ),
    (
        MESSAGES,
        with_raw(
            MESSAGES,
            "messages",
            '[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":%s}]}]'.replace(
                "%s", deep(300)
            ),
        ),
        "messages[0].content[0].input",
        "more than 64",
    ),
    (CHAT, with_raw(CHAT, "max_tokens", BIG), "max_tokens", "<= 2147483647"),
    (CHAT, with_raw(CHAT, "max_completion_tokens", BIG), "max_completion_tokens", "<= 2147483647"),
    (CHAT, with_raw(CHAT, "seed", BIG), "seed", "<= 9223372036854775807"),
    (CHAT, with_raw(CHAT, "n", BIG), "n", "<= 128"),
    (CHAT, with_raw(CHAT, "temperature", "1e999"), "temperature", "out of range"),
    (CHAT, with_raw(CHAT, "logit_bias", '{"50256": %s}'.replace("%s", BIG)), "logit_bias[...]", "<= 100"),
    (CHAT, with_raw(CHAT, "top_logprobs", "-" + BIG), "top_logprobs", ">= 0"),
    (EMBED, with_raw(EMBED, "dimensions", BIG), "dimensions", "<= 2147483647"),
    (EMBED, with_raw(EMBED, "input", "[[1, %s]]".replace("%s", BIG)), "input[0][1]", "<= 2147483647"),
    (MESSAGES, with_raw(MESSAGES, "max_tokens", BIG), "max_tokens", "<= 2147483647"),
    (MESSAGES, with_raw(MESSAGES, "top_k", BIG), "top_k", "<= 2147483647"),
    (CHAT, with_raw(CHAT, "audio", b'{"voice":"\xff"}'), None, "not valid UTF-8"),  # a pass-through field
]


@pytest.mark.parametrize(
    ("path", "body", "param", "message"), CASES, ids=[f"{c[0]}-{c[2] or c[3]}" for c in CASES]
)
def test_hostile_bodies_are_400_naming_the_param(
    gw: Proc, path: str, body: bytes, param: str | None, message: str | None
) -> None:
    r = call("POST", gw.base_url + path, body, AUTH)
    assert r.status == 400, r.body
    err = assert_error_json(path, r)
    if path != MESSAGES:  # Anthropic's error JSON has no param: its message names it
        assert err["param"] == param
    elif param is not None:
        assert param in err["message"]
    if message is not None:
        assert message in err["message"]
    assert_no_traceback(gw)


def test_a_300_digit_max_tokens_from_a_budgeted_tenant_is_a_400(gw: Proc) -> None:
    tenant = call("POST", gw.base_url + "/admin/tenants", {"name": "Budgeted"}, ADMIN_AUTH).json()
    key = call("POST", gw.base_url + f"/admin/tenants/{tenant['id']}/keys", {"name": "k"}, ADMIN_AUTH).json()[
        "key"
    ]
    r = call(
        "PUT",
        gw.base_url + f"/admin/tenants/{tenant['id']}/budgets",
        {"period": "month", "max_cost_micros": 10**9},
        ADMIN_AUTH,
    )
    assert r.status == 200, r.body
    headers = {"authorization": f"Bearer {key}", "x-api-key": key}
    for path in (CHAT, MESSAGES):
        r = call("POST", gw.base_url + path, with_raw(path, "max_tokens", BIG), headers)
        assert r.status == 400 and "max_tokens" in r.json()["error"]["message"], r.body
        r = call("POST", gw.base_url + path, with_raw(path, "max_tokens", "100"), headers)
        assert r.status == 200, r.body
    assert_no_traceback(gw)


ADMIN_CASES = [
    (
        "POST",
        "/admin/tenants/fuzz/keys",
        b'{"name":"k","expires_at":' + BIG.encode() + b"}",
        "expires_at",
        "less than or equal",
    ),
    (
        "POST",
        "/admin/tenants/fuzz/keys",
        b'{"name":"k","expires_at":-1}',
        "expires_at",
        "greater than or equal",
    ),
    (
        "POST",
        "/admin/tenants",
        b'{"name":"t","metadata":' + deep(900).encode() + b"}",
        "metadata",
        "more than 64 levels",
    ),
    (
        "PATCH",
        "/admin/tenants/fuzz",
        b'{"metadata":' + deep(50_000).encode() + b"}",
        None,
        "error parsing the body",
    ),
    ("POST", "/admin/tenants/fuzz/users", b'{"external_id":"\\ud800"}', None, "could not parse the JSON"),
    ("POST", "/admin/tenants", b'{"name":"\xff"}', None, "error parsing the body"),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "param", "message"), ADMIN_CASES, ids=[c[4] for c in ADMIN_CASES]
)
def test_hostile_admin_bodies_are_400(
    gw: Proc, method: str, path: str, body: bytes, param: str | None, message: str
) -> None:
    if call("GET", gw.base_url + "/admin/tenants/fuzz", None, ADMIN_AUTH).status == 404:
        assert (
            call("POST", gw.base_url + "/admin/tenants", {"id": "fuzz", "name": "Fuzz"}, ADMIN_AUTH).status
            == 201
        )
    r = call(method, gw.base_url + path, body, ADMIN_AUTH)
    assert r.status == 400, r.body
    err = assert_error_json(path, r)
    assert err["param"] == param and message in err["message"], err
    assert_no_traceback(gw)


# --- the fuzzer ---------------------------------------------------------------------------------

# Raw JSON texts a JSON library would never produce, and values at and past every edge.
RAW = st.sampled_from(
    [
        BIG,
        "-" + BIG,
        "1e999",
        "-1e999",
        "1e-999",
        "9223372036854775808",
        "-9223372036854775809",
        "18446744073709551616",
        "0.0",
        "-0",
        "2147483648",
        deep(2000),
        deep(900),
        "[" * 980 + "]" * 980,
        "[" * 5000 + "]" * 5000,
        deep(70),
        '"\\ud800"',
        '"\\u0000"',
    ]
).map(str.encode) | st.sampled_from([b'"\xff"', b'"\xc3"', b'"a\xed\xa0\x80"', b'"\xf4\x90\x80\x80"'])
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
FIELDS = {
    CHAT: [
        "model",
        "messages",
        "stream",
        "stream_options",
        "max_tokens",
        "max_completion_tokens",
        "temperature",
        "top_p",
        "n",
        "stop",
        "seed",
        "tools",
        "tool_choice",
        "response_format",
        "user",
        "logit_bias",
        "logprobs",
        "top_logprobs",
        "metadata",
        "audio",
        "prediction",
        "sluice",
        "functions",
        "function_call",
        "modalities",
    ],
    EMBED: ["model", "input", "encoding_format", "dimensions", "user", "sluice"],
    MESSAGES: [
        "model",
        "messages",
        "max_tokens",
        "system",
        "stop_sequences",
        "stream",
        "temperature",
        "top_p",
        "top_k",
        "metadata",
        "tools",
        "tool_choice",
        "output_config",
        "thinking",
        "container",
        "diagnostics",
    ],
}
# Nested places that hold free-form JSON or numbers: (route, field, a template with {} for the value).
NESTED = [
    (
        CHAT,
        "tools",
        '[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"x":%s}}}}]',
    ),
    (CHAT, "response_format", '{"type":"json_schema","json_schema":{"name":"x","schema":%s}}'),
    (CHAT, "messages", '[{"role":"user","content":[{"type":"text","text":%s}]}]'),
    (
        CHAT,
        "messages",
        '[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":%s}}]},'
        '{"role":"tool","tool_call_id":"c","content":"ok"}]',
    ),
    (CHAT, "logit_bias", '{"1": %s}'),
    (CHAT, "stream_options", '{"include_usage": %s}'),
    (EMBED, "input", "[[1, %s]]"),
    (MESSAGES, "tools", '[{"name":"f","input_schema":{"type":"object","properties":{"x":%s}}}]'),
    (
        MESSAGES,
        "messages",
        '[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":{"x":%s}}]},'
        '{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":%s}]}]',
    ),
    (MESSAGES, "metadata", '{"user_id": %s}'),
]


@st.composite
def hostile_values(draw: st.DrawFn) -> bytes:
    return draw(RAW) if draw(st.booleans()) else msgspec.json.encode(draw(VALUES))


@st.composite
def data_plane_requests(draw: st.DrawFn) -> tuple[str, bytes]:
    kind = draw(st.sampled_from(["field", "nested", "bytes"]))
    if kind == "field":
        path = draw(st.sampled_from(list(FIELDS)))
        return path, with_raw(path, draw(st.sampled_from(FIELDS[path])), draw(hostile_values()))
    if kind == "nested":
        path, field, template = draw(st.sampled_from(NESTED))
        value = draw(hostile_values())
        return path, with_raw(path, field, template.encode().replace(b"%s", value))
    path = draw(st.sampled_from(list(FIELDS)))
    body = msgspec.json.encode(BASE[path])
    at = draw(st.integers(0, len(body)))
    return path, body[:at] + draw(st.binary(max_size=8)) + body[at + draw(st.integers(0, 3)) :]


FUZZ = settings(
    max_examples=200,
    deadline=10_000,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@FUZZ
@given(request=data_plane_requests(), stream=st.booleans())
def test_fuzzed_data_plane_requests_never_get_a_5xx(
    gw: Proc, request: tuple[str, bytes], stream: bool
) -> None:
    path, body = request
    if stream and path != EMBED:
        body = re.sub(rb"^\{", b'{"stream":true,', body) if b'"stream"' not in body else body
    r = call("POST", gw.base_url + path, body, AUTH)
    assert r.status < 500, (body[:300], r.status, r.body[:300])
    if r.status >= 400:
        assert_error_json(path, r)


ADMIN_BODIES = [
    ("POST", "/admin/tenants", ["id", "name", "metadata"]),
    ("PATCH", "/admin/tenants/fuzz", ["name", "disabled", "log_payloads", "metadata"]),
    ("POST", "/admin/tenants/fuzz/users", ["external_id", "metadata"]),
    ("POST", "/admin/tenants/fuzz/keys", ["name", "user_id", "allowed_models", "metadata", "expires_at"]),
    ("PUT", "/admin/tenants/fuzz/limits", ["rpm", "tpm", "max_concurrent", "max_tokens", "max_input_tokens"]),
    (
        "PUT",
        "/admin/tenants/fuzz/budgets",
        ["period", "max_tokens", "max_cost_micros", "on_exceed", "downgrade_to"],
    ),
    ("PUT", "/admin/tenants/fuzz/cache", ["exact", "semantic", "ttl_s", "max_entries", "threshold"]),
    (
        "PUT",
        "/admin/tenants/fuzz/guardrails",
        ["pii", "secrets", "deny", "deny_patterns", "injection_threshold"],
    ),
    ("POST", "/admin/tenants/fuzz/cache/purge", ["model", "key_prefix"]),
]
ADMIN_VALID = {"name": "n", "external_id": "u", "period": "day"}


@st.composite
def admin_requests(draw: st.DrawFn) -> tuple[str, str, bytes]:
    method, path, fields = draw(st.sampled_from(ADMIN_BODIES))
    field = draw(st.sampled_from(fields))
    marker = "@@RAW@@"
    body = msgspec.json.encode({**{k: v for k, v in ADMIN_VALID.items() if k in fields}, field: marker})
    return method, path, body.replace(f'"{marker}"'.encode(), draw(hostile_values()))


@FUZZ
@given(request=admin_requests())
def test_fuzzed_admin_requests_never_get_a_5xx(gw: Proc, request: tuple[str, str, bytes]) -> None:
    if call("GET", gw.base_url + "/admin/tenants/fuzz", None, ADMIN_AUTH).status == 404:
        assert (
            call("POST", gw.base_url + "/admin/tenants", {"id": "fuzz", "name": "Fuzz"}, ADMIN_AUTH).status
            == 201
        )
    method, path, body = request
    r = call(method, gw.base_url + path, body, ADMIN_AUTH)
    assert r.status < 500, (method, path, body[:300], r.status, r.body[:300])
    if r.status >= 400:
        assert_error_json(path, r)


def test_the_fuzzed_gateway_logged_no_traceback(gw: Proc) -> None:
    """Runs after the fuzzers (file order): every refusal above was one log line at most."""
    assert_no_traceback(gw)
