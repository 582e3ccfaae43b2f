"""The Responses stream encoder on chunk batches, without the gateway: event order, ids that
match the final response, refusals, and a failure before any batch."""

from __future__ import annotations

from typing import Any

import msgspec

from sluice.api.responses.stream import ResponsesStreamEncoder
from sluice.api.responses.translate import decode_request, shell
from sluice.errors import UpstreamError
from sluice.types import ChatChunk, ChunkChoice, Delta


def _encoder() -> ResponsesStreamEncoder:
    req = decode_request(b'{"model": "m", "input": "hi", "stream": true}')
    return ResponsesStreamEncoder(shell(req, "resp_1", 1))


def _chunk(finish: str | None = None, **delta: Any) -> ChatChunk:
    return ChatChunk("c", "chat.completion.chunk", 1, "m", [ChunkChoice(0, Delta(**delta), finish)])


def _events(data: bytes) -> list[dict[str, Any]]:
    out = []
    for frame in data.split(b"\n\n"):
        if frame:
            event, body = frame.split(b"\n", 1)
            parsed = msgspec.json.decode(body.removeprefix(b"data: "))
            assert event == b"event: " + parsed["type"].encode()
            out.append(parsed)
    return out


def test_text_then_refusal_are_two_parts_of_one_message() -> None:
    enc = _encoder()
    data = enc.encode([_chunk(content="Hi"), _chunk(refusal="No.")]) + enc.finish()
    events = _events(data)
    assert [e["type"] for e in events] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.content_part.added",
        "response.refusal.delta",
        "response.refusal.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    final = events[-1]["response"]
    assert final["output"][0]["content"] == [
        {"type": "output_text", "text": "Hi", "annotations": [], "logprobs": []},
        {"type": "refusal", "refusal": "No."},
    ]
    assert final["output"][0]["id"] == events[2]["item"]["id"]


def test_length_cut_is_incomplete() -> None:
    enc = _encoder()
    events = _events(enc.encode([_chunk(content="Hel"), _chunk("length")]) + enc.finish())
    assert events[-1]["type"] == "response.incomplete"
    assert events[-1]["response"]["incomplete_details"] == {"reason": "max_output_tokens"}
    assert events[-1]["response"]["output"][0]["status"] == "incomplete"


def test_finish_is_sent_once() -> None:
    enc = _encoder()
    enc.encode([_chunk(content="x")])
    assert enc.finish() == enc.finish()
    assert enc.final is not None and enc.final.status == "completed"


def test_a_failure_before_any_batch_still_starts_the_response() -> None:
    events = _events(_encoder().error(UpstreamError("the upstream broke")))
    assert [e["type"] for e in events] == [
        "response.created",
        "response.in_progress",
        "error",
        "response.failed",
    ]
    assert events[2]["message"] == "the upstream broke" and events[2]["code"]
    assert events[3]["response"]["status"] == "failed"
    assert events[3]["response"]["error"]["message"] == "the upstream broke"
