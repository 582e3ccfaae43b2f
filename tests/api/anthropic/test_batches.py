"""A Message Batch's create body checked up front, its results file and its object, without an app."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sluice.api.anthropic.batches import parse, results_jsonl, wire
from sluice.errors import InvalidRequestError
from sluice.store.records import BatchCaller, FinishedLine, LineResult, StoredBatch


def body(*requests: dict[str, Any]) -> bytes:
    return json.dumps({"requests": list(requests)}).encode()


def req(custom_id: str, model: str = "m", **params: Any) -> dict[str, Any]:
    p = {"model": model, "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}], **params}
    return {"custom_id": custom_id, "params": p}


def test_lines_keep_the_params_as_sent_in_request_order() -> None:
    lines, model = parse(body(req("a"), req("b-2_x")), 10)
    assert [(x.custom_id, x.line_no) for x in lines] == [("a", 1), ("b-2_x", 2)]
    assert json.loads(lines[0].body)["max_tokens"] == 8 and model == "m"
    assert parse(body(req("a"), req("b", model="n")), 10)[1] is None  # several models: none recorded


@pytest.mark.parametrize(
    ("requests", "param"),
    [
        ([req("a"), req("a")], "requests.1.custom_id"),
        ([req("a b")], "requests.0.custom_id"),
        ([req("")], "requests.0.custom_id"),
        (
            [
                req("a"),
                {"custom_id": "b", "params": {"model": "m", "messages": [{"role": "user", "content": "x"}]}},
            ],
            "requests.1.params.max_tokens",
        ),
        ([req("a", stream=True)], "requests.0.params.stream"),
        ([req("a", max_tokens="8")], "requests.0.params.max_tokens"),
        ([], "requests"),
        ([req("a"), req("b"), req("c")], "requests"),
    ],
)
def test_the_first_bad_request_is_a_400_naming_it(requests: list[dict[str, Any]], param: str) -> None:
    with pytest.raises(InvalidRequestError) as e:
        parse(body(*requests), 2)
    assert e.value.param == param and e.value.status == 400
    assert e.value.message.startswith(param) or param == "requests"


def test_results_map_each_outcome_to_anthropics_result_types() -> None:
    message = '{"id":"msg_1","type":"message"}'
    error = '{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}'
    lines = [
        FinishedLine("ok", 1, "x1", LineResult("completed", 200, "req_1", message)),
        FinishedLine("limited", 2, "x2", LineResult("failed", 429, "req_2", error)),
        FinishedLine("late", 3, "x3", LineResult("failed", error_code="batch_expired", error_message="e")),
        FinishedLine("stopped", 4, "x4", LineResult("failed", error_code="cancelled", error_message="c")),
        FinishedLine(
            "died", 5, "x5", LineResult("failed", error_code="server_error", error_message="3 tries")
        ),
    ]
    out = [json.loads(x) for x in results_jsonl(lines).splitlines()]
    assert out[0] == {"custom_id": "ok", "result": {"type": "succeeded", "message": json.loads(message)}}
    assert out[1] == {"custom_id": "limited", "result": {"type": "errored", "error": json.loads(error)}}
    assert out[2] == {"custom_id": "late", "result": {"type": "expired"}}
    assert out[3] == {"custom_id": "stopped", "result": {"type": "canceled"}}
    assert out[4] == {
        "custom_id": "died",
        "result": {
            "type": "errored",
            "error": {"type": "error", "error": {"type": "api_error", "message": "3 tries"}},
        },
    }


def test_the_object_counts_sum_to_the_requests_and_times_are_rfc3339() -> None:
    b = StoredBatch(
        "tenant:t", "msgbatch_1", "/v1/messages", "", "24h", "cancelled", BatchCaller("k"), 0, 86_400,
        total=10, completed=3, failed=7, expired=0, cancelled=5, cancelling_at=60, cancelled_at=90, kind="anthropic",
    )  # fmt: skip
    w = wire(b, "http://gw")
    assert (
        w.processing_status == "ended" and w.results_url == "http://gw/v1/messages/batches/msgbatch_1/results"
    )
    c = w.request_counts
    assert (c.processing, c.succeeded, c.errored, c.canceled, c.expired) == (0, 3, 2, 5, 0)
    assert (w.created_at, w.expires_at, w.cancel_initiated_at, w.ended_at) == (
        "1970-01-01T00:00:00Z",
        "1970-01-02T00:00:00Z",
        "1970-01-01T00:01:00Z",
        "1970-01-01T00:01:30Z",
    )
    live = wire(
        StoredBatch("o", "m", "/v1/messages", "", "24h", "cancelling", BatchCaller("k"), 0, 1, total=4), "x"
    )
    assert (
        live.processing_status == "canceling"
        and live.results_url is None
        and live.request_counts.processing == 4
    )
