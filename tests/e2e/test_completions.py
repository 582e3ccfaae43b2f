"""OpenAI's legacy Completions API (``POST /v1/completions``) with the real `openai` SDK and raw
requests shaped like LangChain's ``OpenAI`` LLM, against a gateway serving the in-process sim."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import msgspec
import openai
import pytest
from aiohttp import web

from tests.conftest import DEMO_KEY, sim_config
from tests.fixtures.aioserver import local_server
from tests.fixtures.http import call
from tests.fixtures.procs import Proc
from tests.fixtures.wait import eventually


@pytest.fixture(scope="module")
def gw(module_gateway) -> Proc:
    config = sim_config()
    config["auth"]["keys"].append(
        {"key": "sk-only-embed", "name": "embed", "models": ["text-embedding-3-small"]}
    )
    config["auth"]["keys"].append({"key": "sk-two-a-minute", "name": "two", "limits": {"rpm": 2}})
    config["request_log"] = {"flush_ms": 10}
    return module_gateway(config)


@pytest.fixture(scope="module")
def client(gw: Proc) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{gw.base_url}/v1", api_key=DEMO_KEY, max_retries=0, timeout=10) as c:
        yield c


def db_rows(gw: Proc, rid_prefix: str) -> list[tuple[str, str, int, str | None]]:
    port = gw.base_url.rsplit(":", 1)[1]
    with sqlite3.connect(Path(gw.log_path.parent / f"gateway-{port}.db")) as db:
        return list(
            db.execute(
                "SELECT id, endpoint, status, model FROM request_log WHERE id LIKE ? ORDER BY id",
                (rid_prefix + "%",),
            )
        )


def test_completion_json(gw: Proc, client: openai.OpenAI) -> None:
    raw = client.completions.with_raw_response.create(
        model="gpt-4o-mini",
        prompt="What is a sluice?",
        max_tokens=50,
        extra_headers={"x-request-id": "cmpl-json-1"},
    )
    r = raw.parse()
    assert r.object == "text_completion" and r.id.startswith("cmpl-")
    assert len(r.choices) == 1
    c = r.choices[0]
    assert c.text == "Simulated reply to: What is a sluice?"
    assert c.index == 0 and c.logprobs is None and c.finish_reason == "stop"
    assert r.model == "sim-mini"
    assert r.usage is not None and r.usage.completion_tokens == 7
    assert r.usage.total_tokens == r.usage.prompt_tokens + 7
    assert raw.headers["x-sluice-model"] == "sim/sim-mini"
    assert raw.headers["x-request-id"] == "cmpl-json-1"
    rows = eventually(lambda: db_rows(gw, "cmpl-json-1"), what="the request log row")
    assert rows == [("cmpl-json-1", "completions", 200, "gpt-4o-mini")]


def test_max_tokens_defaults_to_16(client: openai.OpenAI) -> None:
    prompt = " ".join(f"w{i}" for i in range(40))
    r = client.completions.create(model="gpt-4o-mini", prompt=prompt)
    assert r.choices[0].finish_reason == "length"
    assert r.usage is not None and r.usage.completion_tokens == 16
    assert len(r.choices[0].text.split()) == 16


def test_completion_stream_with_usage(client: openai.OpenAI) -> None:
    stream = client.completions.create(
        model="gpt-4o-mini",
        prompt="count to three",
        max_tokens=50,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert all(c.object == "text_completion" for c in chunks)
    text = "".join(c.choices[0].text for c in chunks if c.choices)
    assert text == "Simulated reply to: count to three"
    finals = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finals == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 6


def test_stream_ends_with_done_and_no_usage_unless_asked(gw: Proc) -> None:
    r = call(
        "POST",
        gw.base_url + "/v1/completions",
        {"model": "gpt-4o-mini", "prompt": "hi there", "stream": True},
        {"authorization": f"Bearer {DEMO_KEY}"},
    )
    assert r.status == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = [e for e in r.body.decode().split("\n\n") if e.startswith("data: ")]
    assert events[-1] == "data: [DONE]"
    assert b'"usage"' not in r.body and b"chat.completion" not in r.body


def test_list_prompt_one_choice_per_prompt_in_order(gw: Proc, client: openai.OpenAI) -> None:
    prompts = ["first one", "second", "the third prompt"]
    raw = client.completions.with_raw_response.create(
        model="gpt-4o-mini",
        prompt=prompts,
        n=2,
        max_tokens=50,
        extra_headers={"x-request-id": "cmpl-list-1"},
    )
    r = raw.parse()
    assert [c.index for c in r.choices] == list(range(6))
    assert [c.text for c in r.choices] == [f"Simulated reply to: {p}" for p in prompts for _ in range(2)]
    assert r.usage is not None and r.usage.completion_tokens == 2 * (5 + 4 + 6)
    assert raw.headers["x-sluice-attempts"] == "3"
    rows = eventually(lambda: len(db_rows(gw, "cmpl-list-1")) == 3 and db_rows(gw, "cmpl-list-1"))
    assert [(i, e, s) for i, e, s, _ in rows] == [
        ("cmpl-list-1", "completions", 200),
        ("cmpl-list-1-1", "completions", 200),
        ("cmpl-list-1-2", "completions", 200),
    ]


def test_list_prompt_fails_whole_when_one_prompt_is_refused(gw: Proc) -> None:
    """Each prompt is admitted on its own: under 2 requests a minute, the third of three is
    refused, so the request is; every prompt is still in the request log."""
    r = call(
        "POST",
        gw.base_url + "/v1/completions",
        {"model": "gpt-4o-mini", "prompt": ["a", "b", "c"]},
        {"authorization": "Bearer sk-two-a-minute", "x-request-id": "cmpl-limited"},
    )
    assert r.status == 429 and r.json()["error"]["code"] == "rate_limit_exceeded"
    rows = eventually(lambda: len(db_rows(gw, "cmpl-limited")) == 3 and db_rows(gw, "cmpl-limited"))
    # The request's own row has its answer's status; a refused prompt run as its own row has 429.
    assert sorted(s for _, _, s, _ in rows) in ([200, 200, 429], [200, 429, 429])
    assert next(s for i, _, s, _ in rows if i == "cmpl-limited") == 429


def test_langchain_style_request(gw: Proc) -> None:
    """The body LangChain's ``OpenAI`` LLM sends: prompts as a list, explicit defaults and nulls."""
    body = {
        "model": "gpt-4o-mini",
        "prompt": ["Tell me a joke"],
        "temperature": 0.7,
        "top_p": 1,
        "frequency_penalty": 0,
        "presence_penalty": 0,
        "n": 1,
        "logit_bias": {},
        "seed": None,
        "logprobs": None,
        "max_tokens": 256,
        "best_of": 1,
        "echo": False,
        "suffix": None,
        "stream": False,
    }
    r = call("POST", gw.base_url + "/completions", body, {"authorization": f"Bearer {DEMO_KEY}"})
    assert r.status == 200, r.body
    out = r.json()
    assert out["object"] == "text_completion"
    assert out["choices"] == [
        {"text": "Simulated reply to: Tell me a joke", "index": 0, "logprobs": None, "finish_reason": "stop"}
    ]


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"prompt": [1212, 318, 257]}, "prompt"),
        ({"prompt": [[1212, 318], [257]]}, "prompt"),
        ({"prompt": []}, "prompt"),
        ({"prompt": [f"p{i}" for i in range(17)]}, "prompt"),
        ({"prompt": ["a", "b"], "stream": True}, "prompt"),
        ({"echo": True}, "echo"),
        ({"best_of": 3}, "best_of"),
        ({"suffix": "end."}, "suffix"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"logprobs": 6}, "logprobs"),
        ({"stream_options": {"include_usage": True}}, "stream_options"),
        ({"messages": [{"role": "user", "content": "x"}]}, "messages"),
    ],
)
def test_refusals_name_the_param(gw: Proc, extra: dict[str, object], param: str) -> None:
    body = {"model": "gpt-4o-mini", "prompt": "hello", **extra}
    r = call("POST", gw.base_url + "/v1/completions", body, {"authorization": f"Bearer {DEMO_KEY}"})
    assert r.status == 400, r.body
    err = r.json()["error"]
    assert err["type"] == "invalid_request_error" and err["param"] == param


def test_sdk_errors(gw: Proc, client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as nf:
        client.completions.create(model="davinci-002", prompt="hi")
    assert nf.value.body["param"] == "model"
    with openai.OpenAI(base_url=f"{gw.base_url}/v1", api_key="sk-only-embed", max_retries=0) as c:
        with pytest.raises(openai.PermissionDeniedError):
            c.completions.create(model="gpt-4o-mini", prompt="hi")
    with openai.OpenAI(base_url=f"{gw.base_url}/v1", api_key="sk-wrong", max_retries=0) as c:
        with pytest.raises(openai.AuthenticationError):
            c.completions.create(model="gpt-4o-mini", prompt="hi")
    with pytest.raises(openai.BadRequestError) as bad:
        client.completions.create(model="gpt-4o-mini", prompt="hi", extra_body={"sluice": {"cach": 1}})
    assert bad.value.body["param"] == "sluice.cach"
    r = call("POST", gw.base_url + "/v1/completions", b'{"model": "gpt-4o-mini", "prompt": ', {})
    assert r.status == 400 and r.json()["error"]["type"] == "invalid_request_error"


class OpenAIUpstream:
    """An OpenAI-compatible chat upstream that answers with logprobs and notes each body it got."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    async def chat(self, request: web.Request) -> web.StreamResponse:
        body = msgspec.json.decode(await request.read())
        self.bodies.append(body)
        tokens = [
            {
                "token": "Hi",
                "logprob": -0.1,
                "bytes": [72, 105],
                "top_logprobs": [{"token": "Hi", "logprob": -0.1}, {"token": "Hey", "logprob": -2.5}],
            },
            {
                "token": " you",
                "logprob": -0.3,
                "bytes": None,
                "top_logprobs": [{"token": " you", "logprob": -0.3}],
            },
        ]
        base = {
            "id": "chatcmpl-up1",
            "created": int(time.time()),
            "model": "up-model",
        }  # as an upstream stamps it
        if not body.get("stream"):
            choice = {
                "index": 0,
                "message": {"role": "assistant", "content": "Hi you"},
                "finish_reason": "stop",
                "logprobs": {"content": tokens, "refusal": None},
            }
            usage = {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
            return web.json_response(
                {**base, "object": "chat.completion", "choices": [choice], "usage": usage}
            )
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await resp.prepare(request)
        for t, finish in ((tokens[0], None), (tokens[1], "stop")):
            chunk = {
                **base,
                "object": "chat.completion.chunk",
                "choices": [
                    {
                        "index": 0,
                        "delta": {"content": t["token"]},
                        "finish_reason": finish,
                        "logprobs": {"content": [t]},
                    }
                ],
            }
            await resp.write(b"data: " + msgspec.json.encode(chunk) + b"\n\n")
        await resp.write(b"data: [DONE]\n\n")
        return resp


@pytest.fixture
async def openai_upstream() -> AsyncIterator[tuple[OpenAIUpstream, str]]:
    u = OpenAIUpstream()
    async with local_server("/v1/chat/completions", u.chat) as base:
        yield u, base


async def test_logprobs_forwarded_and_translated(
    openai_upstream: tuple[OpenAIUpstream, str], gateway
) -> None:
    u, base = openai_upstream
    gw = gateway(
        {
            "auth": {"keys": [{"key": DEMO_KEY, "name": "demo"}]},
            "providers": {"up": {"type": "openai", "base_url": f"{base}/v1", "api_key": "sk-up"}},
            "models": {"instruct": {"deployments": [{"provider": "up", "model": "up-model"}]}},
            "logging": {"level": "warning"},
        }
    )
    expected = {
        "tokens": ["Hi", " you"],
        "token_logprobs": [-0.1, -0.3],
        "top_logprobs": [{"Hi": -0.1, "Hey": -2.5}, {" you": -0.3}],
        "text_offset": [5, 7],  # counted from the prompt's start: "Hello" is 5 characters
    }
    async with openai.AsyncOpenAI(
        base_url=f"{gw.base_url}/v1", api_key=DEMO_KEY, max_retries=0, timeout=10
    ) as client:
        r = await client.completions.create(model="instruct", prompt="Hello", logprobs=2, user="u-1")
        assert r.choices[0].text == "Hi you" and r.choices[0].logprobs is not None
        assert r.choices[0].logprobs.model_dump() == expected
        assert r.id == "cmpl-up1"
        stream = await client.completions.create(model="instruct", prompt="Hello", logprobs=2, stream=True)
        chunks = [c async for c in stream]
    streamed = [c.choices[0].logprobs for c in chunks if c.choices]
    assert [lp.tokens for lp in streamed if lp] == [["Hi"], [" you"]]
    assert [lp.text_offset for lp in streamed if lp] == [[5], [7]]
    sent = u.bodies[0]
    assert sent["messages"] == [{"role": "user", "content": "Hello"}]
    assert sent["logprobs"] is True and sent["top_logprobs"] == 2 and sent["max_tokens"] == 16
    assert sent["user"] == "u-1" and sent["model"] == "up-model"
