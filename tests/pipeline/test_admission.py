"""The admission stage alone: caps on output and input, the 429s it raises (exact messages, no
ids), the usage it asks a stream for, and what it does when the counters cannot be reached."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from sluice.auth.principal import Principal, ScopedLimits
from sluice.errors import InvalidRequestError, StoreUnavailableError
from sluice.limits.memory import MemoryCounterStore
from sluice.limits.redis import RedisCounterStore
from sluice.limits.tokens import chat_input_tokens
from sluice.pipeline.admission import Admission, RateLimitExceededError
from sluice.pipeline.context import RequestContext
from sluice.policies import Limits
from sluice.store.redis import BoundedRedis
from sluice.types import ChatRequest, EmbeddingRequest
from tests.fixtures.clock import Clock
from tests.fixtures.procs import free_port
from tests.limits.conftest import T0


def principal(tenant: Limits | None = None, key: Limits | None = None) -> Principal:
    limits = []
    if tenant is not None:
        limits.append(ScopedLimits("tenant", "acme", tenant))
    if key is not None:
        limits.append(ScopedLimits("key", "key_8f3a", key))
    return Principal("sk-...", tenant_id="acme", key_id="key_8f3a", limits=tuple(limits))


def ctx_for(p: Principal | None, **body: Any) -> RequestContext:
    request = msgspec.convert(
        {"model": "m", "messages": [{"role": "user", "content": "hello there"}], **body}, ChatRequest
    )
    ctx = RequestContext("req_1", "sk", request)
    ctx.principal = p
    return ctx


async def admit(stage: Admission, ctx: RequestContext) -> None:
    """Prepare, then commit, as the pipeline does."""
    pending = stage.prepare(ctx)
    if pending is not None:
        await stage.commit(ctx, pending)


@pytest.fixture
def clock() -> Clock:
    return Clock(T0 + 0.25)


@pytest.fixture
def stage(clock: Clock) -> Admission:
    return Admission(MemoryCounterStore(clock), fail_open=True)


async def test_a_principal_without_limits_costs_nothing(stage: Admission) -> None:
    ctx = ctx_for(Principal("demo"))
    request = ctx.request
    await admit(stage, ctx)
    assert ctx.request is request and ctx.quota is None and ctx.admission is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, (100, None)),  # no cap from the client: the limit becomes max_tokens
        ({"max_tokens": 500}, (100, None)),
        ({"max_completion_tokens": 500}, (None, 100)),
        ({"max_tokens": 500, "max_completion_tokens": 50}, (100, 50)),
        ({"max_tokens": 20}, (20, None)),
    ],
)
async def test_the_output_cap_is_clamped_or_set(
    stage: Admission, body: dict[str, Any], expected: tuple
) -> None:
    ctx = ctx_for(principal(tenant=Limits(max_tokens=300), key=Limits(max_tokens=100)), **body)
    await admit(stage, ctx)
    assert isinstance(ctx.request, ChatRequest)
    assert (ctx.request.max_tokens, ctx.request.max_completion_tokens) == expected
    assert ctx.admission is None  # caps alone count nothing


async def test_input_over_the_cap_is_a_400_naming_the_tightest_scope(stage: Admission) -> None:
    ctx = ctx_for(
        principal(tenant=Limits(max_input_tokens=50), key=Limits(max_input_tokens=8)),
        messages=[{"role": "user", "content": "x" * 40}],
    )
    with pytest.raises(InvalidRequestError) as e:
        await admit(stage, ctx)
    assert (e.value.status, e.value.param, e.value.code) == (400, "messages", "context_length_exceeded")
    assert e.value.message == (
        "This key's maximum input is 8 tokens. However, your messages resulted in about 17 tokens. "
        "Please reduce the length of the messages."
    )


async def test_embedding_input_is_capped_too(stage: Admission) -> None:
    ctx = RequestContext("req_1", "sk", EmbeddingRequest(model="e", input="y" * 40))
    ctx.principal = principal(key=Limits(max_input_tokens=5, tpm=100))
    with pytest.raises(InvalidRequestError) as e:
        await admit(stage, ctx)
    assert e.value.param == "input" and "about 10 tokens" in e.value.message


async def test_rpm_refusal_names_the_scope_kind_never_its_id(stage: Admission) -> None:
    p = principal(tenant=Limits(rpm=1), key=Limits(rpm=10))
    await admit(stage, ctx_for(p))
    with pytest.raises(RateLimitExceededError) as e:
        await admit(stage, ctx_for(p))
    err = e.value
    assert (err.status, err.type, err.code, err.retry_after_s) == (429, "requests", "rate_limit_exceeded", 61)
    assert err.message == (
        "Rate limit reached for this tenant on requests per min (RPM): Limit 1, Used 1, Requested 1. "
        "Please try again in 1m1s."
    )
    assert "acme" not in err.message and "key_8f3a" not in err.message
    assert err.quota.requests is not None and (err.quota.requests.limit, err.quota.requests.remaining) == (
        1,
        0,
    )


async def test_tpm_refusals(stage: Admission) -> None:
    p = principal(key=Limits(tpm=100))
    ctx = ctx_for(p, max_tokens=80)
    cost = chat_input_tokens(ctx.request) + 80  # type: ignore[arg-type]
    await admit(stage, ctx)
    with pytest.raises(RateLimitExceededError) as e:
        await admit(stage, ctx_for(p, max_tokens=80))
    assert e.value.type == "tokens"
    assert e.value.message == (
        f"Rate limit reached for this key on tokens per min (TPM): Limit 100, Used {cost}, Requested {cost}. "
        "Please try again in 1m1s."
    )
    with pytest.raises(RateLimitExceededError) as e:
        await admit(stage, ctx_for(p, max_tokens=500, n=2))
    assert e.value.retry_after_s is None
    assert e.value.message == (
        f"Request too large for this key on tokens per min (TPM): Limit 100, Requested {cost - 80 + 1000}. "
        "The input or output tokens must be reduced in order to run successfully."
    )


async def test_concurrency_refusal(stage: Admission) -> None:
    p = principal(key=Limits(max_concurrent=1))
    await admit(stage, ctx_for(p))
    with pytest.raises(RateLimitExceededError) as e:
        await admit(stage, ctx_for(p))
    assert (e.value.type, e.value.retry_after_s) == ("requests", 1)
    assert (
        e.value.message
        == "Too many concurrent requests for this key: Limit 1 in flight. Please try again when one has finished."
    )


async def test_a_tpm_limited_stream_asks_for_usage_it_will_hide(stage: Admission) -> None:
    ctx = ctx_for(principal(key=Limits(tpm=1000)), stream=True)
    await admit(stage, ctx)
    assert isinstance(ctx.request, ChatRequest) and ctx.request.includes_usage and ctx.strips_usage
    asked = ctx_for(
        principal(key=Limits(tpm=1000)),
        stream=True,
        stream_options={"include_usage": True, "include_obfuscation": False},
    )
    await admit(stage, asked)
    assert not asked.strips_usage
    other = ctx_for(
        principal(key=Limits(tpm=1000)), stream=True, stream_options={"include_obfuscation": False}
    )
    await admit(stage, other)
    assert isinstance(other.request, ChatRequest) and other.request.stream_options is not None
    assert (other.request.stream_options.include_usage, other.request.stream_options.include_obfuscation) == (
        True,
        False,
    )
    rpm_only = ctx_for(principal(key=Limits(rpm=10)), stream=True)
    await admit(stage, rpm_only)
    assert not rpm_only.strips_usage  # no TPM to correct: the stream is left as the client asked


async def test_settle_runs_once(stage: Admission) -> None:
    p = principal(key=Limits(max_concurrent=1))
    ctx = ctx_for(p)
    await admit(stage, ctx)
    await stage.settle(ctx, 10)
    await admit(stage, ctx_for(p))  # the slot was released
    await stage.settle(ctx, 10)  # a second settle of the same request is a no-op
    with pytest.raises(RateLimitExceededError):
        await admit(stage, ctx_for(p))


@pytest.mark.parametrize("fail_open", [True, False])
async def test_unreachable_counters_follow_the_policy(fail_open: bool) -> None:
    store = RedisCounterStore(BoundedRedis(f"redis://127.0.0.1:{free_port()}/0", timeout_s=0.2))
    stage = Admission(store, fail_open=fail_open)
    try:
        ctx = ctx_for(principal(key=Limits(rpm=1, max_tokens=10)))
        if fail_open:
            await admit(stage, ctx)
            assert ctx.admission is None and ctx.quota is None
            assert isinstance(ctx.request, ChatRequest) and ctx.request.max_tokens == 10  # caps still apply
        else:
            with pytest.raises(StoreUnavailableError) as e:
                await admit(stage, ctx)
            assert (e.value.status, e.value.message, e.value.retry_after_s) == (
                503,
                "Rate limits cannot be checked right now. Please retry shortly.",
                1,
            )
    finally:
        await store.close()
