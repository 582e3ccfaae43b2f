"""The real `openai` SDK's Responses API (``client.responses``) against a gateway on loopback
serving the in-process sim model: create, stream, tools, structured output, stored follow-ups."""

from __future__ import annotations

import json
from collections.abc import Iterator

import openai
import pytest

from tests.conftest import DEMO_KEY, sim_config
from tests.fixtures.http import call
from tests.fixtures.procs import Proc

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "strict": True,
}


@pytest.fixture(scope="module")
def gw(module_gateway) -> Proc:
    return module_gateway(sim_config())


@pytest.fixture(scope="module")
def client(gw: Proc) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{gw.base_url}/v1", api_key=DEMO_KEY, max_retries=0, timeout=10) as c:
        yield c


def test_create_text(client: openai.OpenAI) -> None:
    raw = client.responses.with_raw_response.create(
        model="gpt-4o-mini", input="What is a sluice?", instructions="Be brief.", metadata={"app": "t"}
    )
    r = raw.parse()
    assert r.object == "response" and r.id.startswith("resp_")
    assert r.status == "completed" and r.error is None and r.incomplete_details is None
    assert r.output_text == "Simulated reply to: What is a sluice?"
    [msg] = r.output
    assert msg.type == "message" and msg.role == "assistant" and msg.id.startswith("msg_")
    assert msg.content[0].type == "output_text" and msg.content[0].annotations == []
    assert r.model == "gpt-4o-mini" and r.instructions == "Be brief." and r.metadata == {"app": "t"}
    assert r.usage is not None and r.usage.output_tokens == 7
    assert r.usage.total_tokens == r.usage.input_tokens + 7
    assert r.usage.input_tokens_details.cached_tokens == 0
    assert r.usage.output_tokens_details.reasoning_tokens == 0
    assert r.store is True and r.tool_choice == "auto" and r.tools == [] and r.parallel_tool_calls is True
    assert raw.headers["x-sluice-model"] == "sim/sim-mini"


def test_input_items_with_roles_and_parts(client: openai.OpenAI) -> None:
    r = client.responses.create(
        model="gpt-4o-mini",
        input=[
            {"role": "developer", "content": "You answer in one line."},
            {"role": "user", "content": [{"type": "input_text", "text": "first"}]},
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "ok"}]},
            {"role": "user", "content": [{"type": "input_text", "text": "second question"}]},
        ],
        store=False,
    )
    assert r.output_text == "Simulated reply to: second question"
    assert r.store is False


def test_max_output_tokens_is_incomplete(client: openai.OpenAI) -> None:
    r = client.responses.create(model="gpt-4o-mini", input="tell me a long story", max_output_tokens=2)
    assert r.status == "incomplete"
    assert r.incomplete_details is not None and r.incomplete_details.reason == "max_output_tokens"
    assert r.max_output_tokens == 2
    assert r.output[0].type == "message" and r.output[0].status == "incomplete"


def test_stream_events_and_final_response(client: openai.OpenAI) -> None:
    with client.responses.stream(model="gpt-4o-mini", input="count to three") as stream:
        events = list(stream)
        final = stream.get_final_response()
    kinds = [e.type for e in events]
    assert kinds[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert kinds[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas == final.output_text == "Simulated reply to: count to three"
    assert final.status == "completed" and final.usage is not None and final.usage.output_tokens > 0
    assert events[0].response.id == final.id


def test_stream_with_create(client: openai.OpenAI) -> None:
    stream = client.responses.create(model="gpt-4o-mini", input="hello", stream=True)
    events = list(stream)
    assert events[-1].type == "response.completed"
    assert events[-1].response.output_text == "Simulated reply to: hello"


def test_tool_call_round_trip(client: openai.OpenAI) -> None:
    first = client.responses.create(model="gpt-4o-mini", input="weather in Paris?", tools=[WEATHER])
    [fc] = [o for o in first.output if o.type == "function_call"]
    assert fc.name == "get_weather" and fc.id.startswith("fc_") and fc.call_id
    assert isinstance(json.loads(fc.arguments), dict)
    assert first.tools[0].name == "get_weather"
    second = client.responses.create(
        model="gpt-4o-mini",
        tools=[WEATHER],
        input=[
            {"role": "user", "content": "weather in Paris?"},
            fc.model_dump(exclude_none=True),
            {"type": "function_call_output", "call_id": fc.call_id, "output": "22C and sunny"},
        ],
    )
    assert second.output_text == "Tool result received: 22C and sunny"


def test_tool_call_stream(client: openai.OpenAI) -> None:
    with client.responses.stream(model="gpt-4o-mini", input="weather in Oslo?", tools=[WEATHER]) as stream:
        events = list(stream)
        final = stream.get_final_response()
    kinds = [e.type for e in events]
    assert "response.function_call_arguments.delta" in kinds
    done = next(e for e in events if e.type == "response.function_call_arguments.done")
    [fc] = final.output
    assert fc.type == "function_call" and done.arguments == fc.arguments and done.item_id == fc.id
    assert isinstance(json.loads(fc.arguments), dict)


def test_previous_response_id_follow_up(client: openai.OpenAI) -> None:
    first = client.responses.create(model="gpt-4o-mini", input="weather in Rome?", tools=[WEATHER])
    [fc] = [o for o in first.output if o.type == "function_call"]
    second = client.responses.create(
        model="gpt-4o-mini",
        tools=[WEATHER],
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": fc.call_id, "output": "18C"}],
    )
    assert second.output_text == "Tool result received: 18C"
    assert second.previous_response_id == first.id
    items = client.responses.input_items.list(second.id, order="asc")
    kinds = [i.type for i in items.data]
    assert kinds == ["message", "function_call", "function_call_output"]
    assert items.data[1].call_id == fc.call_id


def test_stream_is_stored(client: openai.OpenAI) -> None:
    with client.responses.stream(model="gpt-4o-mini", input="remember me") as stream:
        final = stream.get_final_response()
    got = client.responses.retrieve(final.id)
    assert got.output_text == final.output_text and got.id == final.id
    follow = client.responses.create(model="gpt-4o-mini", input="and now?", previous_response_id=final.id)
    assert follow.output_text == "Simulated reply to: and now?"
    assert [i.type for i in client.responses.input_items.list(follow.id).data] == [
        "message",
        "message",
        "message",
    ]


def test_retrieve_delete_and_input_items(client: openai.OpenAI) -> None:
    r = client.responses.create(
        model="gpt-4o-mini",
        input=[{"role": "user", "content": f"item {i}"} for i in range(5)],
    )
    got = client.responses.retrieve(r.id)
    assert got.model_dump() == r.model_dump()
    page = client.responses.input_items.list(r.id, limit=2)
    assert [i.content[0].text for i in page.data] == ["item 4", "item 3"]
    assert page.has_more is True and page.first_id == page.data[0].id and page.last_id == page.data[1].id
    rest = client.responses.input_items.list(r.id, limit=10, after=page.last_id)
    assert [i.content[0].text for i in rest.data] == ["item 2", "item 1", "item 0"]
    assert rest.has_more is False
    all_ids = [i.id for i in client.responses.input_items.list(r.id)]  # the SDK's auto-paging
    assert len(all_ids) == 5 and len(set(all_ids)) == 5
    deleted = client.responses.delete(r.id)
    assert deleted is None  # the SDK returns nothing; the JSON is checked below
    with pytest.raises(openai.NotFoundError) as e:
        client.responses.retrieve(r.id)
    assert e.value.status_code == 404


def test_delete_body_matches_openai(gw: Proc, client: openai.OpenAI) -> None:
    r = client.responses.create(model="gpt-4o-mini", input="to delete")
    auth = {"authorization": f"Bearer {DEMO_KEY}"}
    res = call("DELETE", f"{gw.base_url}/v1/responses/{r.id}", headers=auth)
    assert res.status == 200 and res.json() == {"id": r.id, "object": "response", "deleted": True}
    again = call("DELETE", f"{gw.base_url}/v1/responses/{r.id}", headers=auth)
    assert again.status == 404 and again.json()["error"]["code"] == "response_not_found"


def test_store_false_is_not_retrievable(client: openai.OpenAI) -> None:
    r = client.responses.create(model="gpt-4o-mini", input="ephemeral", store=False)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(r.id)
    with pytest.raises(openai.NotFoundError) as e:
        client.responses.create(model="gpt-4o-mini", input="x", previous_response_id=r.id)
    assert e.value.body["param"] == "previous_response_id"


def test_json_schema_format(client: openai.OpenAI) -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name", "age"],
        "additionalProperties": False,
    }
    r = client.responses.create(
        model="gpt-4o-mini",
        input="a person",
        text={"format": {"type": "json_schema", "name": "person", "schema": schema, "strict": True}},
    )
    data = json.loads(r.output_text)
    assert set(data) == {"name", "age"} and isinstance(data["age"], int)
    assert r.text is not None and r.text.format.type == "json_schema"


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"background": True, "store": False}, "store"),
        ({"background": True, "stream": True}, "stream"),
        ({"tools": [{"type": "web_search"}]}, "tools[0].type"),
        ({"tools": [WEATHER, {"type": "code_interpreter", "container": {"type": "auto"}}]}, "tools[1].type"),
        ({"extra_body": {"conversation": "conv_1"}}, "conversation"),
        ({"input": [{"type": "item_reference", "id": "x"}]}, "input[0].type"),
        ({"input": [{"role": "user", "content": [{"type": "input_text"}]}]}, "input[0].content[0].text"),
        ({"input": [{"role": "critic", "content": "hi"}]}, "input[0].role"),
        ({"text": {"format": {"type": "json_schema", "schema": {}}}}, "text.format.name"),
        ({"temperature": 3}, "temperature"),
        ({"extra_body": {"bogus": 1}}, "bogus"),
        ({"tool_choice": {"type": "web_search_preview"}, "tools": [WEATHER]}, "tool_choice.type"),
    ],
)
def test_bad_input_is_a_400_naming_the_param(client: openai.OpenAI, kwargs: dict, param: str) -> None:
    kwargs = {"model": "gpt-4o-mini", "input": "hi", **kwargs}
    with pytest.raises(openai.BadRequestError) as e:
        client.responses.create(**kwargs)
    assert e.value.status_code == 400
    assert e.value.body["param"] == param, e.value.body
    assert e.value.body["type"] == "invalid_request_error"


def test_unknown_key_is_401(gw: Proc) -> None:
    with openai.OpenAI(base_url=f"{gw.base_url}/v1", api_key="sk-wrong", max_retries=0, timeout=10) as c:
        with pytest.raises(openai.AuthenticationError):
            c.responses.create(model="gpt-4o-mini", input="hi")
        with pytest.raises(openai.AuthenticationError):
            c.responses.retrieve("resp_123")
