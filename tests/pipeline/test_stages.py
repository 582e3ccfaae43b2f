"""The runner's contract with a stage (pipeline/stage.py), on the real sim provider: before hooks
in list order, answer and stream hooks as layers (the first stage outermost), ``ask`` through
the layers beneath, an early answer seen only by the stages above it, settle once in reverse
order whatever happened, and every call's usage summed into what settles."""

from __future__ import annotations

import random

import msgspec
import pytest

from sluice.auth.principal import Principal
from sluice.errors import InvalidRequestError, NotFoundError, PermissionDeniedError
from sluice.pipeline.context import RequestContext
from sluice.pipeline.resolve import ResolveStage
from sluice.pipeline.runner import Pipeline
from sluice.pipeline.stage import Ask, Stage
from sluice.providers.sim import SimProvider
from sluice.routing.router import Router
from sluice.routing.table import build_routes
from sluice.settings import Settings
from sluice.types import ChatRequest, ChatResponse, ChunkBatch, ChunkStream
from tests.fixtures.stages import Given


class Recording(Stage):
    """Notes each hook it runs in ``log``; ``answers`` makes its before answer early."""

    def __init__(self, name: str, log: list[str], *, answers: ChatResponse | None = None) -> None:
        self.label = name
        self.log = log
        self._answers = answers

    name = "recording"

    async def before(self, ctx: RequestContext) -> ChatResponse | None:
        self.log.append(f"before {self.label}")
        return self._answers

    async def answer(self, ctx: RequestContext, response: ChatResponse, ask: Ask) -> ChatResponse:
        self.log.append(f"answer {self.label}")
        return response

    def stream(self, ctx: RequestContext, chunks: ChunkStream) -> ChunkStream:
        self.log.append(f"stream {self.label}")
        return chunks

    async def settle(self, ctx: RequestContext) -> None:
        self.log.append(f"settle {self.label}")


class AskAgain(Stage):
    """Asks once more (on ``alias``) when the answer does not say ``want``."""

    name = "ask again"

    def __init__(self, want: str, alias: str | None = None) -> None:
        self._want, self._alias = want, alias

    async def answer(self, ctx: RequestContext, response: ChatResponse, ask: Ask) -> ChatResponse:
        if self._want in (response.choices[0].message.content or ""):
            return response
        assert isinstance(ctx.request, ChatRequest)
        return await ask(ctx.request, self._alias)


class Fails(Stage):
    name = "fails"

    async def before(self, ctx: RequestContext) -> None:
        raise InvalidRequestError("no", param="messages")


def router() -> Router:
    settings = Settings(
        providers={"sim": {"type": "sim"}},
        models={
            "m": {"deployments": [{"provider": "sim", "model": "x"}]},
            "other": {"deployments": [{"provider": "sim", "model": "y"}]},
        },
    )
    return Router(
        build_routes(settings, {"sim": SimProvider(settings.providers["sim"], rng=random.Random(1))})
    )


def ctx(**body: object) -> RequestContext:
    request = msgspec.convert(
        {"model": "m", "messages": [{"role": "user", "content": "hi"}], **body}, ChatRequest
    )
    return RequestContext("req_1", "sk", request)


def pipeline(*stages: Stage, principal: Principal | None = None) -> Pipeline:
    r = router()
    return Pipeline([Given(principal or Principal("k")), ResolveStage(r), *stages], r)


async def test_hooks_run_in_list_order_as_layers_and_settle_in_reverse() -> None:
    log: list[str] = []
    p = pipeline(Recording("a", log), Recording("b", log))
    await p.chat(ctx())
    assert log == ["before a", "before b", "answer b", "answer a", "settle b", "settle a"]


async def test_an_early_answer_is_seen_only_by_the_stages_above_it() -> None:
    log: list[str] = []
    early = ChatResponse(id="x", object="chat.completion", created=1, model="m", choices=[])
    c = ctx()
    p = pipeline(Recording("a", log), Recording("b", log, answers=early), Recording("c", log))
    assert await p.chat(c) is early
    assert log == ["before a", "before b", "answer a", "settle c", "settle b", "settle a"]
    assert c.calls == 0 and c.attempts == []  # the model was not asked


async def test_a_stream_passes_through_each_layer_and_settles_when_it_ends() -> None:
    log: list[str] = []
    p = pipeline(Recording("a", log), Recording("b", log))
    c = ctx(stream=True, stream_options={"include_usage": True})
    chunks = await p.stream(c)
    assert log == ["before a", "before b", "stream b", "stream a"]
    batches: list[ChunkBatch] = [b async for b in chunks]
    assert batches and log[-2:] == ["settle b", "settle a"]
    assert c.usage is not None and c.usage.total_tokens > 0  # read from the stream, for settle


async def test_settle_runs_once_in_reverse_even_when_a_stage_refuses() -> None:
    log: list[str] = []
    p = pipeline(Recording("a", log), Fails(), Recording("b", log))
    with pytest.raises(InvalidRequestError):
        await p.chat(ctx())
    assert log == ["before a", "settle b", "settle a"]  # each stage settles only what it took


async def test_ask_goes_through_the_layers_beneath_and_every_call_is_charged() -> None:
    log: list[str] = []
    c = ctx()
    p = pipeline(AskAgain("never"), Recording("inner", log))
    response = await p.chat(c)
    assert log == ["before inner", "answer inner", "answer inner", "settle inner"]  # the re-ask passed it too
    assert c.calls == 2 and len(c.attempts) == 2
    one = response.usage
    assert one is not None and c.usage == one  # the answer's usage is both calls', as settled
    assert one.total_tokens == 2 * (await pipeline().chat(ctx())).usage.total_tokens  # type: ignore[union-attr]


async def test_ask_on_another_alias_is_held_to_the_models_the_caller_may_use() -> None:
    allowed = pipeline(AskAgain("never", "other"))
    c = ctx()
    await allowed.chat(c)
    assert [a.alias for a in c.attempts] == ["m", "other"]
    limited = pipeline(AskAgain("never", "other"), principal=Principal("k", allowed_models=frozenset({"m"})))
    with pytest.raises(PermissionDeniedError):
        await limited.chat(ctx())
    with pytest.raises(NotFoundError):
        await pipeline(AskAgain("never", "nope")).chat(ctx())
