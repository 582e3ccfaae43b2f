"""Every failure is OpenAI-style error JSON with the right status: exact bodies, raw HTTP."""

from __future__ import annotations

import pytest

from tests.conftest import DEMO_KEY, sim_config
from tests.fixtures.http import call
from tests.fixtures.procs import Proc

AUTH = {"authorization": f"Bearer {DEMO_KEY}"}
OK_BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture(scope="module")
def gw(module_gateway) -> Proc:
    config = sim_config()
    config["server"] = {"max_body_bytes": 2048}
    return module_gateway(config)


def error(message: str, type_: str, param: str | None, code: str | None) -> dict:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def post(gw: Proc, body, headers=AUTH, path="/v1/chat/completions"):
    return call("POST", gw.base_url + path, body, headers)


def test_malformed_json(gw: Proc) -> None:
    r = post(gw, b'{"model": "gpt-4o-mini", "messages": [')
    assert r.status == 400
    assert r.json() == error(
        "We could not parse the JSON body of your request. The body must be a valid JSON object.",
        "invalid_request_error",
        None,
        None,
    )
    assert r.headers["content-type"] == "application/json"
    assert r.headers["x-request-id"].startswith("req_")


@pytest.mark.parametrize(
    ("body", "message", "param"),
    [
        ({"messages": [{"role": "user", "content": "hi"}]}, "Missing required parameter: 'model'.", "model"),
        ({"model": "gpt-4o-mini"}, "Missing required parameter: 'messages'.", "messages"),
        (
            {**OK_BODY, "temperature": "hot"},
            "Invalid value for 'temperature': Expected `float | null`, got `str`.",
            "temperature",
        ),
        ({**OK_BODY, "n": 0}, "Invalid value for 'n': Expected `int` >= 1.", "n"),
        (
            {"model": "gpt-4o-mini", "messages": []},
            "Invalid value for 'messages': Expected `array` of length >= 1.",
            "messages",
        ),
        (
            {"model": "gpt-4o-mini", "messages": [{"role": "robot", "content": "x"}]},
            "Invalid value for 'messages[0].role': Invalid enum value 'robot'.",
            "messages[0].role",
        ),
        ({**OK_BODY, "frobnicate": True}, "Unrecognized request argument supplied: frobnicate", "frobnicate"),
        (
            {**OK_BODY, "stream_options": {"include_usage": True}},
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            "stream_options",
        ),
        (
            {"model": "gpt-4o-mini", "messages": [{"role": "tool", "content": "x"}]},
            "Messages with role 'tool' must have a 'tool_call_id'.",
            "messages.[0].tool_call_id",
        ),
    ],
)
def test_invalid_bodies_are_400_with_the_param(gw: Proc, body: dict, message: str, param: str) -> None:
    r = post(gw, body)
    assert (r.status, r.json()) == (400, error(message, "invalid_request_error", param, None))


def test_empty_body(gw: Proc) -> None:
    r = post(gw, b"")
    assert (
        r.status == 400 and r.json()["error"]["message"] == "The request body is empty; send a JSON object."
    )


def test_missing_and_wrong_key_are_401(gw: Proc) -> None:
    r = post(gw, OK_BODY, headers={})
    assert r.status == 401
    assert r.json() == error(
        "You didn't provide an API key. Send it as 'Authorization: Bearer <key>'.",
        "invalid_request_error",
        None,
        "missing_api_key",
    )
    r = post(gw, OK_BODY, headers={"authorization": "Bearer sk-not-a-key-123"})
    assert r.status == 401
    assert r.json() == error("Incorrect API key provided.", "invalid_request_error", None, "invalid_api_key")
    assert b"sk-not-a-key" not in r.body


def test_unknown_model_is_404(gw: Proc) -> None:
    r = post(gw, {**OK_BODY, "model": "nope"})
    assert (r.status, r.json()) == (
        404,
        error(
            "The model `nope` does not exist or you do not have access to it.",
            "invalid_request_error",
            "model",
            "model_not_found",
        ),
    )


def test_body_over_the_limit_is_413(gw: Proc) -> None:
    big = {**OK_BODY, "messages": [{"role": "user", "content": "x" * 4000}]}
    r = post(gw, big)
    assert r.status == 413
    assert (
        r.json()["error"]["type"] == "invalid_request_error"
        and r.json()["error"]["code"] == "request_too_large"
    )


def test_unknown_path_and_method(gw: Proc) -> None:
    r = call("GET", gw.base_url + "/v1/nothing-here")
    assert (r.status, r.json()) == (
        404,
        error("Unknown path /v1/nothing-here.", "invalid_request_error", None, "unknown_url"),
    )
    r = call("GET", gw.base_url + "/v1/chat/completions")
    assert r.status == 405 and r.json()["error"]["code"] == "method_not_allowed"


def test_model_not_allowed_for_key_is_403(module_gateway) -> None:
    config = sim_config()
    config["auth"]["keys"].append(
        {"key": "sk-embed-only", "name": "embedder", "models": ["text-embedding-3-small"]}
    )
    gw = module_gateway(config)
    r = post(gw, OK_BODY, headers={"authorization": "Bearer sk-embed-only"})
    assert (r.status, r.json()) == (
        403,
        error(
            "This key may not use the model `gpt-4o-mini`.", "permission_error", "model", "model_not_allowed"
        ),
    )
