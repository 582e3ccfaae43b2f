"""Every mainstream client works unchanged (issue 15), through a gateway subprocess whose
upstreams are real aiohttp servers on loopback (OpenAI's and Anthropic's APIs on one port).

The openai SDK's multi-turn tool pattern appends ``completion.choices[0].message`` (and its
``model_dump()``) with the annotations and null fields OpenAI returns, to an OpenAI upstream and
through the Anthropic translation; the anthropic SDK gets stop sequences, documents, its
``request-id`` and its error shape on misses; bodies arrive gzip- or deflate-encoded; an
HTTP/1.0 client reads a stream without chunked framing.
"""

from __future__ import annotations

import asyncio
import gzip
import zlib
from collections.abc import AsyncIterator
from typing import Any

import anthropic
import msgspec
import openai
import pytest
from aiohttp import web

from tests.fixtures.aioserver import local_server
from tests.fixtures.http import call

KEY = "sk-wire-test-key-0001"
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]
ANNOTATIONS = [
    {
        "type": "url_citation",
        "url_citation": {"start_index": 0, "end_index": 4, "url": "https://w.example", "title": "W"},
    }
]
PDF = "JVBERi0xLjQK"


class Upstream:
    """Records each body it is sent. OpenAI: a tool call while the last message is the user's,
    else text with annotations and every nullable field null; ``vllm`` models report the
    matched stop string as vLLM does. Anthropic: the same turns; with stop_sequences, it
    stops on the first one."""

    def __init__(self) -> None:
        self.openai_bodies: list[dict[str, Any]] = []
        self.anthropic_bodies: list[dict[str, Any]] = []

    async def openai(self, request: web.Request) -> web.StreamResponse:
        body = msgspec.json.decode(await request.read())
        self.openai_bodies.append(body)
        last = body["messages"][-1]
        message: dict[str, Any] = {"role": "assistant", "refusal": None, "audio": None, "function_call": None}
        finish, stop = "stop", None
        if body.get("tools") and last["role"] == "user" and last["content"] == "weather?":
            call = {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'},
            }
            message.update(content=None, tool_calls=[call], annotations=[])
            finish = "tool_calls"
        else:
            message.update(content="Oslo: 4C", tool_calls=None, annotations=ANNOTATIONS)
            if body["model"] == "vllm" and body.get("stop"):
                stop = body["stop"][0]
        choice = {
            "index": 0,
            "message": message,
            "finish_reason": finish,
            "logprobs": None,
            "stop_reason": stop,
        }
        usage = {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
        if not body.get("stream"):
            resp = {
                "id": "chatcmpl-w",
                "object": "chat.completion",
                "created": 1,
                "model": body["model"],
                "choices": [choice],
                "usage": usage,
            }
            return web.json_response(resp)
        out = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await out.prepare(request)
        base = {"id": "chatcmpl-w", "object": "chat.completion.chunk", "created": 1, "model": body["model"]}
        for delta, fin, sr in (
            ({"role": "assistant", "content": "Oslo: 4C"}, None, None),
            ({}, finish, stop),
        ):
            c = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": fin, "stop_reason": sr}]}
            await out.write(b"data: " + msgspec.json.encode(c) + b"\n\n")
        await out.write(b"data: " + msgspec.json.encode({**base, "choices": [], "usage": usage}) + b"\n\n")
        await out.write(b"data: [DONE]\n\n")
        return out

    async def anthropic(self, request: web.Request) -> web.StreamResponse:
        body = msgspec.json.decode(await request.read())
        self.anthropic_bodies.append(body)
        last = body["messages"][-1]["content"]
        asks_weather = (
            any(b.get("text") == "weather?" for b in last) if isinstance(last, list) else last == "weather?"
        )
        stops = body.get("stop_sequences") or []
        if body.get("tools") and asks_weather:
            content = [
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Oslo"}}
            ]
            stop_reason, stop_sequence = "tool_use", None
        else:
            content = [{"type": "text", "text": "Oslo: 4C", "citations": None}]
            stop_reason, stop_sequence = ("stop_sequence", stops[0]) if stops else ("end_turn", None)
        usage = {"input_tokens": 5, "output_tokens": 3}
        msg = {
            "id": "msg_w",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": stop_sequence,
            "usage": usage,
        }
        if not body.get("stream"):
            return web.json_response(msg)
        out = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await out.prepare(request)
        events = [
            ("message_start", {"type": "message_start", "message": {**msg, "content": [], "stop_reason": None,
                                                                    "stop_sequence": None}}),
            ("content_block_start", {"type": "content_block_start", "index": 0,
                                     "content_block": {"type": "text", "text": ""}}),
            ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                     "delta": {"type": "text_delta", "text": "Oslo: 4C"}}),
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            ("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop_reason,
                                                                 "stop_sequence": stop_sequence},
                               "usage": {"output_tokens": 3}}),
            ("message_stop", {"type": "message_stop"}),
        ]  # fmt: skip
        for name, data in events:
            await out.write(f"event: {name}\ndata: ".encode() + msgspec.json.encode(data) + b"\n\n")
        return out


@pytest.fixture
async def upstream() -> AsyncIterator[tuple[Upstream, str]]:
    u = Upstream()
    async with local_server("/v1/chat/completions", u.openai, **{"/v1/messages": u.anthropic}) as base:
        yield u, base


@pytest.fixture
def gw(upstream: tuple[Upstream, str], gateway: Any) -> Any:
    _, base = upstream
    return gateway(
        {
            "auth": {"keys": [{"key": KEY, "name": "app"}]},
            "server": {"max_body_bytes": 65536},
            "providers": {
                "oa": {"type": "openai", "base_url": f"{base}/v1", "api_key": "sk-up"},
                "an": {"type": "anthropic", "base_url": base, "api_key": "sk-an"},
                "sim": {"type": "sim"},
            },
            "models": {
                "oa-chat": {"deployments": [{"provider": "oa", "model": "gpt-4o"}]},
                "vllm-chat": {"deployments": [{"provider": "oa", "model": "vllm"}]},
                "an-chat": {"deployments": [{"provider": "an", "model": "claude-haiku-4-5"}]},
                "sim-chat": {"deployments": [{"provider": "sim", "model": "sim-mini"}]},
            },
            "routing": {"retries": {"max_attempts": 1}},
            "logging": {"level": "warning"},
        }
    )


def oa(gw: Any) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{gw.base_url}/v1", api_key=KEY, max_retries=0, timeout=15)


def an(gw: Any) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=gw.base_url, api_key=KEY, max_retries=0, timeout=15)


# --- the openai SDK's multi-turn pattern -------------------------------------------------


@pytest.mark.parametrize("model", ["oa-chat", "an-chat"])
async def test_appending_the_sdks_message_objects_works(
    model: str, upstream: tuple[Upstream, str], gw: Any
) -> None:
    u, _ = upstream
    messages: list[Any] = [{"role": "user", "content": "weather?"}]
    async with oa(gw) as client:
        first = await client.chat.completions.create(model=model, messages=messages, tools=TOOLS)  # type: ignore[arg-type]
        call = first.choices[0].message.tool_calls[0]  # type: ignore[index]
        messages.append(first.choices[0].message)  # the object itself, as the cookbook does
        messages.append({"role": "tool", "tool_call_id": call.id, "content": "4C"})
        second = await client.chat.completions.create(model=model, messages=messages, tools=TOOLS)  # type: ignore[arg-type]
        assert second.choices[0].message.content == "Oslo: 4C"
        messages.append(second.choices[0].message.model_dump())  # every field, nulls included
        messages.append({"role": "user", "content": "thanks"})
        third = await client.chat.completions.create(model=model, messages=messages, tools=TOOLS)  # type: ignore[arg-type]
        assert third.choices[0].finish_reason == "stop"
        stream = await client.chat.completions.create(model=model, messages=messages, stream=True)  # type: ignore[arg-type]
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
        assert text == "Oslo: 4C"
    if model == "oa-chat":
        sent = u.openai_bodies[2]["messages"]
        assert sent[1]["tool_calls"][0]["id"] == "call_1"
        assert sent[3]["annotations"] == ANNOTATIONS  # forwarded: OpenAI's API accepts its own output
        assert "refusal" not in sent[3] and "tool_calls" not in sent[3]  # nulls are not forwarded
    else:
        sent = u.anthropic_bodies[2]["messages"]
        assert [m["role"] for m in sent] == ["user", "assistant", "user", "assistant", "user"]
        assert sent[1]["content"] == [
            {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Oslo"}}
        ]
        assert sent[3]["content"] == [{"type": "text", "text": "Oslo: 4C"}]  # annotations dropped


# --- the Anthropic surface -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "stop", "expected"),
    [
        ("an-chat", "###", ("stop_sequence", "###")),  # Anthropic's own stop_sequence, passed through
        ("vllm-chat", "###", ("stop_sequence", "###")),  # vLLM's stop_reason
        ("oa-chat", "###", ("end_turn", None)),  # OpenAI does not say which stop matched
        ("sim-chat", "reply", ("stop_sequence", "reply")),  # the sim cuts "Simulated reply to: ..."
    ],
)
async def test_stop_sequence_json_and_stream(
    model: str, stop: str, expected: tuple[str, Any], gw: Any
) -> None:
    async with an(gw) as client:
        kwargs: dict[str, Any] = dict(
            model=model,
            max_tokens=50,
            stop_sequences=[stop, "never"],
            messages=[{"role": "user", "content": "hi"}],
        )
        msg = await client.messages.create(**kwargs)
        assert (msg.stop_reason, msg.stop_sequence) == expected
        async with client.messages.stream(**kwargs) as stream:
            final = await stream.get_final_message()
        assert (final.stop_reason, final.stop_sequence) == expected
        assert final.content[0].text == msg.content[0].text  # type: ignore[union-attr]


async def test_documents_reach_an_anthropic_upstream_and_an_openai_one_as_files(
    upstream: tuple[Upstream, str], gw: Any
) -> None:
    u, _ = upstream
    docs: list[Any] = [
        {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": PDF},
         "title": "Report"},
        {"type": "document", "source": {"type": "url", "url": "https://a.example/r.pdf"}},
        {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "plain words"}},
        {"type": "text", "text": "Summarise."},
    ]  # fmt: skip
    async with an(gw) as client:
        await client.messages.create(
            model="an-chat", max_tokens=50, messages=[{"role": "user", "content": docs}]
        )
        await client.messages.create(
            model="oa-chat", max_tokens=50, messages=[{"role": "user", "content": [docs[0], docs[3]]}]
        )
    assert u.anthropic_bodies[0]["messages"][0]["content"] == [
        {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": PDF},
         "title": "Report"},
        {"type": "document", "source": {"type": "url", "url": "https://a.example/r.pdf"}},
        {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "plain words"}},
        {"type": "text", "text": "Summarise."},
    ]  # fmt: skip
    assert u.openai_bodies[0]["messages"][0]["content"] == [
        {"type": "file", "file": {"file_data": f"data:application/pdf;base64,{PDF}", "filename": "Report"}},
        {"type": "text", "text": "Summarise."},
    ]


async def test_answers_carry_request_id(gw: Any) -> None:
    async with an(gw) as client:
        msg = await client.messages.create(
            model="sim-chat", max_tokens=20, messages=[{"role": "user", "content": "hi"}]
        )
        assert msg._request_id is not None and msg._request_id.startswith("req")
        async with client.messages.stream(
            model="sim-chat", max_tokens=20, messages=[{"role": "user", "content": "hi"}]
        ) as stream:
            await stream.get_final_message()
            assert stream.request_id == stream.response.headers["x-request-id"]


@pytest.mark.parametrize(
    ("method", "path", "status", "kind"),
    [
        ("GET", "/v1/messages", 405, "invalid_request_error"),
        ("POST", "/v1/messages/nope", 404, "not_found_error"),
        ("GET", "/v1/messages/batches/x/y", 404, "not_found_error"),
    ],
)
async def test_misses_under_v1_messages_answer_in_anthropics_shape(
    method: str, path: str, status: int, kind: str, gw: Any
) -> None:
    r = await asyncio.to_thread(call, method, f"{gw.base_url}{path}", None, {"x-api-key": KEY})
    assert r.status == status
    body = r.json()
    assert body["type"] == "error" and body["error"]["type"] == kind
    assert path in body["error"]["message"]
    other = await asyncio.to_thread(call, "GET", f"{gw.base_url}/v1/nope")
    assert other.json()["error"]["code"] == "unknown_url"


# --- HTTP edges ----------------------------------------------------------------------------

CHAT = msgspec.json.encode({"model": "sim-chat", "messages": [{"role": "user", "content": "hi"}]})


@pytest.mark.parametrize(
    ("encoding", "body", "status", "code"),
    [
        ("gzip", gzip.compress(CHAT), 200, None),
        ("deflate", zlib.compress(CHAT), 200, None),
        ("br", CHAT, 415, "unsupported_content_encoding"),
        ("gzip", b"\x1f\x8b\x08corrupt", 400, None),
        (
            "gzip",
            gzip.compress(b" " * (10 << 20)),
            413,
            "request_too_large",
        ),  # 10 KB of gzip, 10 MB of spaces
    ],
)
async def test_encoded_request_bodies(
    encoding: str, body: bytes, status: int, code: str | None, gw: Any
) -> None:
    headers = {"authorization": f"Bearer {KEY}", "content-encoding": encoding}
    r = await asyncio.to_thread(call, "POST", f"{gw.base_url}/v1/chat/completions", body, headers)
    assert r.status == status, r.body
    if status == 200:
        assert r.json()["choices"][0]["message"]["content"]
    else:
        error = r.json()["error"]
        param = None if status == 413 else "content-encoding"
        assert (error["type"], error["param"]) == ("invalid_request_error", param)
        assert code is None or error["code"] == code
    messages = b'{"model":"sim-chat","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}'
    compress = gzip.compress if encoding == "gzip" else zlib.compress
    encoded = compress(messages) if status == 200 else body
    a = await asyncio.to_thread(
        call, "POST", f"{gw.base_url}/v1/messages", encoded, {"x-api-key": KEY, "content-encoding": encoding}
    )
    assert a.status == status
    if status == 200:
        assert a.json()["type"] == "message"
    else:
        assert a.json()["type"] == "error" and a.json()["error"]["message"] == r.json()["error"]["message"]


async def http10(gw: Any, path: str, body: bytes, headers: str) -> tuple[bytes, bytes]:
    host, port = gw.base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(
            f"POST {path} HTTP/1.0\r\nHost: {host}\r\nContent-Type: application/json\r\n{headers}"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(-1), 15)  # to EOF: the server closes, as 1.0 says
    finally:
        writer.close()
    head, _, rest = raw.partition(b"\r\n\r\n")
    return head.lower(), rest


async def test_a_stream_to_an_http_1_0_client_is_close_delimited(gw: Any) -> None:
    body = msgspec.json.encode(
        {"model": "sim-chat", "stream": True, "messages": [{"role": "user", "content": "hi there"}]}
    )
    head, rest = await http10(gw, "/v1/chat/completions", body, f"Authorization: Bearer {KEY}\r\n")
    assert head.startswith(b"http/1.1 200")
    assert b"transfer-encoding" not in head and b"content-length" not in head
    assert b"connection: close" in head
    events = [e for e in rest.split(b"\n\n") if e.startswith(b"data: ")]
    assert events[-1] == b"data: [DONE]"
    chunks = [msgspec.json.decode(e[6:]) for e in events[:-1]]
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    body = msgspec.json.encode(
        {
            "model": "sim-chat",
            "stream": True,
            "max_tokens": 20,
            "messages": [{"role": "user", "content": "hi"}],
        }
    )
    head, rest = await http10(gw, "/v1/messages", body, f"x-api-key: {KEY}\r\n")
    assert b"transfer-encoding" not in head
    assert rest.rstrip().endswith(b'data: {"type":"message_stop"}')
    # A JSON answer keeps its Content-Length.
    head, rest = await http10(gw, "/v1/chat/completions", CHAT, f"Authorization: Bearer {KEY}\r\n")
    assert b"content-length: %d" % len(rest) in head
    assert msgspec.json.decode(rest)["object"] == "chat.completion"
