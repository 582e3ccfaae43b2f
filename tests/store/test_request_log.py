"""The request log on every backend: batches written whole, usage summed by the database exactly
as the records add up (checked against the same sums made here), pages newest first."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import pytest
from msgspec.structs import replace

from sluice.errors import ConflictError, StoreUnavailableError
from sluice.obs.record import RequestRecord
from sluice.store.protocols import Store
from sluice.store.records import Tenant, UsageDimension, UsageQuery, UsageRow

# 2100-01-01T00:00:00Z: past 2**31 seconds, and a day and an hour begin there.
MIDNIGHT_MS = 4_102_444_800_000
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
DIMENSIONS: tuple[UsageDimension, ...] = ("tenant", "user", "key", "model", "deployment", "day", "hour")


def rec(n: int, ts_ms: int = MIDNIGHT_MS, **fields: Any) -> RequestRecord:
    return RequestRecord(f"req-{n}", ts_ms, "chat", 200, 12.5, **fields)


def full(n: int = 1, **fields: Any) -> RequestRecord:
    """A record with every field set to something other than its default (but ``fields``)."""
    r = RequestRecord(
        id=f"req-{n}",
        ts_ms=MIDNIGHT_MS + n,
        endpoint="messages",
        status=429,
        latency_ms=1234.5678,
        tenant_id="t-a",
        user_id="usr_1",
        key_id="key_1",
        key_prefix="sk-sl-ab12cd",
        model="gpt-4o",
        deployment="openai/gpt-4o",
        error_type="rate_limit_exceeded",
        stream=True,
        ttft_ms=0.25,
        upstream_ms=1000.125,
        overhead_ms=2.5,
        input_tokens=2**31 + 1,
        output_tokens=7,
        cached_tokens=3,
        cost_micros=2**53 + 1,
        cache="semantic",
        saved_tokens=11,
        saved_micros=13,
        attempts=3,
        fallback=True,
        guardrail="redacted",
        prompt="héllo 名前 😀",
        answer="line\nbreak, 'quote' \"dq\"",
        prompt_name="support",
        prompt_version=3,
        experiment="exp_0a1b",
        arm=3,
    )
    return replace(r, **fields)


def varied(count: int, seed: int = 7) -> list[RequestRecord]:
    """Records spread over three days, crossing midnights and hours, with ids that sort differently
    by code point and by a locale (upper before lower case), some of them absent."""
    rng = random.Random(seed)
    return [
        RequestRecord(
            id=f"req-{i % 50}",  # client ids repeat
            ts_ms=MIDNIGHT_MS
            + rng.choice([-1, 0, 1, HOUR_MS - 1, HOUR_MS, DAY_MS - 1, DAY_MS, DAY_MS + 5 * HOUR_MS]),
            endpoint=rng.choice(["chat", "embeddings", "messages"]),
            status=rng.choice([200, 200, 200, 400, 429, 502]),
            latency_ms=rng.random() * 1000,
            tenant_id=rng.choice([None, "acme", "Zeta", "ünï"]),
            user_id=rng.choice([None, "usr_a", "usr_B"]),
            key_id=rng.choice([None, "key_1", "key_2"]),
            model=rng.choice([None, "gpt-4o", "gpt-4o-mini", "Claude"]),
            deployment=rng.choice([None, "sim/a", "sim/b"]),
            input_tokens=rng.randrange(0, 10_000),
            output_tokens=rng.randrange(0, 5_000),
            cached_tokens=rng.randrange(0, 100),
            cost_micros=rng.randrange(0, 2**40),
            saved_micros=rng.choice([0, 0, rng.randrange(1, 10**6)]),
        )
        for i in range(count)
    ]


def dimension(r: RequestRecord, dim: UsageDimension) -> str | None:
    at = datetime.fromtimestamp(r.ts_ms // 1000, UTC)
    return {
        "tenant": r.tenant_id,
        "user": r.user_id,
        "key": r.key_id,
        "model": r.model,
        "deployment": r.deployment,
        "day": at.strftime("%Y-%m-%d"),
        "hour": at.strftime("%Y-%m-%dT%H:00Z"),
    }[dim]


def summed(records: Iterable[RequestRecord], group_by: tuple[UsageDimension, ...]) -> list[UsageRow]:
    """The usage the store should report, summed here: NULLs first, ids by code point."""
    groups: dict[tuple[str | None, ...], list[int]] = {}
    for r in records:
        sums = groups.setdefault(tuple(dimension(r, d) for d in group_by), [0] * 7)
        for i, v in enumerate(
            (
                1,
                r.status >= 400,
                r.input_tokens,
                r.output_tokens,
                r.cached_tokens,
                r.cost_micros,
                r.saved_micros,
            )
        ):
            sums[i] += v
    order = sorted(groups, key=lambda k: [(v is not None, v or "") for v in k])
    fields = (
        "requests",
        "errors",
        "input_tokens",
        "output_tokens",
        "cached_tokens",
        "cost_micros",
        "saved_micros",
    )
    return [
        UsageRow(**dict(zip(group_by, k, strict=True)), **dict(zip(fields, groups[k], strict=True)))
        for k in order
    ]


async def write(store: Store, records: list[RequestRecord], batch: int = 100) -> None:
    for i in range(0, len(records), batch):
        await store.write_requests(records[i : i + batch])


async def everything(
    store: Store, tenant_id: str | None = None, page: int = 1000, **filters: Any
) -> list[tuple[int, RequestRecord]]:
    """Every logged request, a page at a time."""
    found: list[tuple[int, RequestRecord]] = []
    while True:
        before = found[-1][0] if found else None
        got = await store.list_requests(tenant_id, limit=page, before_seq=before, **filters)
        found += got
        if len(got) < page:
            return found


# --- writing ---------------------------------------------------------------------------------


async def test_records_round_trip_with_every_field(store: Store) -> None:
    records = [full(1), rec(2), full(3, tenant_id=None, stream=False, fallback=False, ttft_ms=None)]
    await store.write_requests(records)
    assert [r for _, r in await store.list_requests(None)] == records[::-1]


async def test_batches_append_in_order_and_repeated_ids_are_kept(store: Store) -> None:
    await store.write_requests([rec(1), rec(2)])
    await store.write_requests([])
    await store.write_requests([rec(1), rec(3)])
    listed = await store.list_requests(None)
    assert [r.id for _, r in listed] == ["req-3", "req-1", "req-2", "req-1"]
    seqs = [seq for seq, _ in listed]
    assert seqs == sorted(seqs, reverse=True) and len(set(seqs)) == 4


async def test_a_batch_is_written_whole_or_not_at_all(store: Store) -> None:
    await store.write_requests([rec(1)])
    with pytest.raises(ConflictError):
        await store.write_requests([rec(2), rec(3), replace(rec(4), endpoint=None)])  # NOT NULL
    assert [r.id for _, r in await store.list_requests(None)] == ["req-1"]
    await store.write_requests([rec(5)])  # the store is still usable
    assert len(await store.list_requests(None)) == 2


async def test_a_nul_character_does_not_lose_the_batch(store: Store, backend: str) -> None:
    await store.write_requests([rec(1), rec(2, model="gpt\x00", prompt="a\x00b")])
    (_, last), (_, first) = await store.list_requests(None)
    assert first == rec(1)
    # PostgreSQL text cannot hold NUL; SQLite keeps it.
    assert (last.model, last.prompt) == (("gpt", "ab") if backend == "postgres" else ("gpt\x00", "a\x00b"))


async def test_writing_to_an_unmigrated_store_is_unavailable(new_store: Callable[[], Store]) -> None:
    with pytest.raises(StoreUnavailableError):
        await new_store().write_requests([rec(1)])


# --- usage -----------------------------------------------------------------------------------


@pytest.mark.parametrize("dim", DIMENSIONS)
async def test_usage_by_each_dimension_sums_what_the_records_add_up_to(
    store: Store, dim: UsageDimension
) -> None:
    records = varied(300)
    await write(store, records)
    assert await store.usage(UsageQuery(group_by=(dim,))) == summed(records, (dim,))


async def test_usage_by_several_dimensions_and_the_total(store: Store) -> None:
    records = varied(300, seed=11)
    await write(store, records, batch=37)
    group_by: tuple[UsageDimension, ...] = ("tenant", "model", "day", "hour")
    rows = await store.usage(UsageQuery(group_by=group_by))
    assert rows == summed(records, group_by)
    (total,) = await store.usage(UsageQuery())
    assert total == summed(records, ())[0]
    assert total.cost_micros == sum(r.cost_micros for r in records) == sum(r.cost_micros for r in rows)


async def test_usage_is_exact_past_float_precision(store: Store) -> None:
    records = [replace(full(i), cost_micros=2**53 + 1, saved_micros=2**53 + 3) for i in range(3)]
    await store.write_requests(records)
    (total,) = await store.usage(UsageQuery())
    assert (total.cost_micros, total.saved_micros) == (3 * (2**53 + 1), 3 * (2**53 + 3))
    assert total.input_tokens == 3 * (2**31 + 1)


async def test_days_and_hours_begin_at_utc_boundaries(store: Store) -> None:
    await store.write_requests(
        [
            rec(1, MIDNIGHT_MS - 1, cost_micros=1),
            rec(2, MIDNIGHT_MS, cost_micros=10),
            rec(3, MIDNIGHT_MS + HOUR_MS - 1, cost_micros=100),
            rec(4, MIDNIGHT_MS + HOUR_MS, cost_micros=1000),
        ]
    )
    by_day = await store.usage(UsageQuery(group_by=("day",)))
    assert [(r.day, r.requests, r.cost_micros) for r in by_day] == [
        ("2099-12-31", 1, 1),
        ("2100-01-01", 3, 1110),
    ]
    by_hour = await store.usage(UsageQuery(group_by=("hour",)))
    assert [(r.hour, r.cost_micros) for r in by_hour] == [
        ("2099-12-31T23:00Z", 1),
        ("2100-01-01T00:00Z", 110),
        ("2100-01-01T01:00Z", 1000),
    ]


async def test_usage_filters_by_tenant_model_and_half_open_time(store: Store) -> None:
    records = varied(300, seed=3)
    await write(store, records)
    since, until = MIDNIGHT_MS, MIDNIGHT_MS + DAY_MS

    def kept(r: RequestRecord) -> bool:
        return r.tenant_id == "acme" and r.model == "gpt-4o" and since <= r.ts_ms < until

    query = UsageQuery(
        group_by=("key", "hour"), tenant_id="acme", since_ms=since, until_ms=until, model="gpt-4o"
    )
    assert await store.usage(query) == summed(filter(kept, records), ("key", "hour"))
    assert await store.usage(UsageQuery(group_by=("tenant",), since_ms=since)) == summed(
        (r for r in records if r.ts_ms >= since), ("tenant",)
    )


async def test_usage_of_nothing_is_no_rows(store: Store) -> None:
    assert await store.usage(UsageQuery()) == []
    await store.write_requests([rec(1, tenant_id="t-a")])
    assert await store.usage(UsageQuery(tenant_id="t-b")) == []
    assert await store.usage(UsageQuery(group_by=("day",), since_ms=MIDNIGHT_MS + 1)) == []


# --- listing ---------------------------------------------------------------------------------


async def test_pages_walk_every_request_newest_first(store: Store) -> None:
    records = varied(120)
    await write(store, records, batch=50)
    assert [r for _, r in await everything(store, page=7)] == records[::-1]
    first = await store.list_requests(None, limit=3)
    assert [r for _, r in first] == records[:-4:-1]


async def test_listing_filters_by_tenant_and_half_open_time(store: Store) -> None:
    records = varied(200, seed=5)
    await write(store, records)
    assert [r for _, r in await everything(store, "Zeta", page=9)] == [
        r for r in records[::-1] if r.tenant_id == "Zeta"
    ]
    since, until = MIDNIGHT_MS, MIDNIGHT_MS + HOUR_MS
    assert [r for _, r in await everything(store, "acme", page=4, since_ms=since, until_ms=until)] == [
        r for r in records[::-1] if r.tenant_id == "acme" and since <= r.ts_ms < until
    ]


# --- the tenant's payload policy -------------------------------------------------------------


async def test_a_tenants_log_payloads_is_kept_and_updated(store: Store) -> None:
    await store.create_tenant(Tenant("t-a", "A", 1))
    await store.create_tenant(Tenant("t-b", "B", 1, log_payloads=True))
    assert (await store.get_tenant("t-a")).log_payloads is None  # type: ignore[union-attr]
    assert (await store.get_tenant("t-b")).log_payloads is True  # type: ignore[union-attr]
    assert await store.update_tenant("t-a", log_payloads=False) == Tenant("t-a", "A", 1, log_payloads=False)
    assert await store.update_tenant("t-a", name="A2") == Tenant("t-a", "A2", 1, log_payloads=False)
    assert await store.update_tenant("t-a", log_payloads=True) == Tenant("t-a", "A2", 1, log_payloads=True)
    assert [t.log_payloads for t in await store.list_tenants()] == [True, True]
