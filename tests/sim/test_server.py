"""The standalone sim server (``sluice sim``), driven with the real openai SDK."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import openai
import pytest

from sluice.sim import model
from sluice.types import embedding_request_decoder
from tests.fixtures.procs import Proc, free_port, running
from tests.fixtures.wait import eventually


@pytest.fixture
def base(sim_server: Proc) -> str:
    """The session's sim server, with zeroed counters."""
    status, _, _ = post(sim_server.base_url, "/sim/reset")
    assert status == 200
    return sim_server.base_url


_CLIENTS: dict[tuple[str, float], openai.OpenAI] = {}


def client(base: str, timeout_s: float = 5.0) -> openai.OpenAI:
    """One SDK client per (server, timeout), closed when the module's tests are done."""
    key = (base, timeout_s)
    if key not in _CLIENTS:
        _CLIENTS[key] = openai.OpenAI(base_url=f"{base}/v1", api_key="x", max_retries=0, timeout=timeout_s)
    return _CLIENTS[key]


@pytest.fixture(autouse=True, scope="module")
def _close_clients() -> Iterator[None]:
    yield
    for c in _CLIENTS.values():
        c.close()
    _CLIENTS.clear()


def post(
    base: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(base + path, data=body, headers=headers or {}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as r:
            return r.status, dict(r.headers), msgspec.json.decode(r.read())
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), msgspec.json.decode(e.read())


def get(base: str, path: str) -> Any:
    with urllib.request.urlopen(base + path, timeout=5) as r:
        return msgspec.json.decode(r.read())


def stats_when(base: str, ready: Any, timeout_s: float = 5.0) -> dict[str, Any]:
    """Poll /sim/stats until ``ready(stats)``; the server counts a disconnect asynchronously."""

    def stats() -> dict[str, Any] | None:
        s = get(base, "/sim/stats")
        return s if ready(s) else None

    return eventually(stats, timeout_s, "the sim's stats")


MESSAGES = [{"role": "user", "content": "hello there"}]


def test_chat_completion(base: str) -> None:
    response = client(base).chat.completions.create(model="sim-x", messages=MESSAGES)
    assert response.id.startswith("chatcmpl-sim-")
    assert (response.object, response.model, response.system_fingerprint) == (
        "chat.completion",
        "sim-x",
        "fp_sluice_sim",
    )
    assert response.choices[0].message.content == "Simulated reply to: hello there"
    assert response.choices[0].finish_reason == "stop"
    assert response.usage is not None
    assert (response.usage.prompt_tokens, response.usage.completion_tokens, response.usage.total_tokens) == (
        5,
        5,
        10,
    )
    assert get(base, "/sim/stats")["by_path"] == {"/v1/chat/completions": 1}


def test_streaming_with_usage(base: str) -> None:
    stream = client(base).chat.completions.create(
        model="sim-x", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert (
        "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        == "Simulated reply to: hello there"
    )
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 10
    assert {c.id for c in chunks} == {chunks[0].id}
    stats = stats_when(base, lambda s: s["streams_completed"] == 1)
    assert (stats["streams_started"], stats["streams_completed"], stats["streams_cancelled"]) == (1, 1, 0)


def test_tool_call(base: str) -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
                },
            },
        }
    ]
    messages = [{"role": "user", "content": "Paris"}]
    response = client(base).chat.completions.create(model="m", messages=messages, tools=tools)
    choice = response.choices[0]
    assert choice.finish_reason == "tool_calls"
    [call] = choice.message.tool_calls or []
    assert (call.function.name, call.function.arguments) == ("get_weather", '{"city":"Paris","days":1}')
    streamed = client(base).chat.completions.create(model="m", messages=messages, tools=tools, stream=True)
    deltas = [c.choices[0].delta for c in streamed]
    assert (
        "".join(d.tool_calls[0].function.arguments for d in deltas if d.tool_calls) == call.function.arguments
    )


def test_embeddings_match_the_model(base: str) -> None:
    # The SDK asks for base64 and decodes it, so this checks the float32 encoding end to end.
    response = client(base).embeddings.create(model="emb", input=["hello world", "bye"], dimensions=32)
    expected = model.embed(
        embedding_request_decoder.decode(b'{"model":"emb","input":["hello world","bye"],"dimensions":32}'),
        "emb",
        256,
    )
    assert [d.embedding for d in response.data] == [d.embedding for d in expected.data]
    assert response.usage.prompt_tokens == 3


def test_models_and_health(base: str) -> None:
    assert [m.id for m in client(base).models.list()] == ["sim"]
    assert get(base, "/health") == {"status": "ok", "simulated": True}


def test_injected_error_with_retry_after(base: str) -> None:
    headers = {"x-sim-error-rate": "1", "x-sim-error-status": "503", "x-sim-retry-after-s": "2"}
    with pytest.raises(openai.InternalServerError) as e:
        client(base).chat.completions.create(model="m", messages=MESSAGES, extra_headers=headers)
    assert e.value.status_code == 503
    assert e.value.response.headers["retry-after"] == "2"
    assert e.value.response.json() == {
        "error": {
            "message": "Simulated failure: HTTP 503 injected by the sim model.",
            "type": "server_error",
            "param": None,
            "code": None,
        }
    }
    assert get(base, "/sim/stats")["failures_injected"] == 1


def test_injected_rate_limit(base: str) -> None:
    headers = {"x-sim-error-rate": "1", "x-sim-error-status": "429", "x-sim-retry-after-s": "0.5"}
    with pytest.raises(openai.RateLimitError) as e:
        client(base).chat.completions.create(model="m", messages=MESSAGES, extra_headers=headers, stream=True)
    assert e.value.response.headers["retry-after"] == "0.5"
    assert e.value.code == "rate_limit_exceeded"
    stats = get(base, "/sim/stats")
    assert (stats["failures_injected"], stats["streams_started"]) == (1, 0)


def test_fail_first_then_answer_and_reset(base: str) -> None:
    headers = {"x-sim-fail-first": "2", "x-sim-error-status": "500"}
    sdk = client(base)
    for _ in range(2):
        with pytest.raises(openai.InternalServerError):
            sdk.chat.completions.create(model="m", messages=MESSAGES, extra_headers=headers)
    assert sdk.chat.completions.create(model="m", messages=MESSAGES, extra_headers=headers).choices
    assert get(base, "/sim/stats")["failures_injected"] == 2
    status, _, zeroed = post(base, "/sim/reset")
    assert (status, zeroed["requests"], zeroed["failures_injected"], zeroed["by_path"]) == (200, 0, 0, {})
    with pytest.raises(openai.InternalServerError):
        sdk.chat.completions.create(model="m", messages=MESSAGES, extra_headers=headers)


def test_bad_bodies_and_headers_are_400(base: str) -> None:
    status, _, body = post(base, "/v1/chat/completions", b"{not json", {"content-type": "application/json"})
    assert status == 400
    assert body["error"]["type"] == "invalid_request_error"
    assert body["error"]["message"].startswith("Invalid request body: ")
    with pytest.raises(openai.BadRequestError):
        client(base).chat.completions.create(model="m", messages=[])
    with pytest.raises(openai.BadRequestError) as e:
        client(base).chat.completions.create(
            model="m", messages=MESSAGES, extra_headers={"x-sim-error-rate": "2"}
        )
    assert e.value.message.endswith("x-sim-error-rate: Input should be less than or equal to 1")


def test_latency_header_delays_the_answer(base: str) -> None:
    start = time.monotonic()
    client(base).chat.completions.create(
        model="m", messages=MESSAGES, extra_headers={"x-sim-latency-ms": "100"}
    )
    assert time.monotonic() - start >= 0.1


def test_a_hang_is_cut_by_the_client_timeout(base: str) -> None:
    start = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        client(base, timeout_s=0.3).chat.completions.create(
            model="m", messages=MESSAGES, extra_headers={"x-sim-hang-rate": "1"}
        )
    assert time.monotonic() - start < 2
    assert client(base).chat.completions.create(model="m", messages=MESSAGES).choices


def test_a_client_disconnect_mid_stream_counts_as_cancelled(base: str) -> None:
    stream = client(base).chat.completions.create(
        model="m", messages=MESSAGES, stream=True, extra_headers={"x-sim-chunk-delay-ms": "200"}
    )
    chunks = iter(stream)
    assert next(chunks).choices[0].delta.role == "assistant"
    assert next(chunks).choices[0].delta.content == "Simulated"
    stream.close()
    stats = stats_when(base, lambda s: s["streams_cancelled"] == 1)
    assert (stats["streams_started"], stats["streams_completed"], stats["streams_cancelled"]) == (1, 0, 1)


@pytest.fixture(scope="module")
def flagged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A sim server configured by CLI flags: every request fails unless a header says otherwise."""
    port = free_port()
    log: Path = tmp_path_factory.mktemp("sim-flags") / "sim.log"
    flags = ["--error-rate", "1", "--error-status", "429", "--retry-after-s", "1", "--chunks", "3"]
    with running(["sim", "--port", str(port), *flags], log, "/health", port) as proc:
        yield proc.base_url


def test_cli_flags_set_the_behaviour_and_headers_override_it(flagged: str) -> None:
    with pytest.raises(openai.RateLimitError) as e:
        client(flagged).chat.completions.create(model="m", messages=MESSAGES)
    assert e.value.response.headers["retry-after"] == "1"
    stream = client(flagged).chat.completions.create(
        model="m", messages=MESSAGES, stream=True, extra_headers={"x-sim-error-rate": "0"}
    )
    contents = [c.choices[0].delta.content for c in stream]
    assert contents == ["", "Simulated ", "reply to: ", "hello there", None]
