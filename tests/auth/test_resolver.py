"""KeyResolver on a real SQLite store: the Principal carries its tenant's, user's and key's
limits, from one cached lookup, and a change through the admin service shows at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from sluice.admin.service import AdminService
from sluice.auth.invalidation import AuthCaches, LocalInvalidation
from sluice.auth.keys import KeyRing
from sluice.auth.principal import ScopedLimits
from sluice.auth.resolver import KeyResolver
from sluice.policies import Budget, Limits, Plan, SpendPolicy
from sluice.settings import ApiKeySettings
from sluice.store.protocols import Store
from sluice.store.sqlite.store import SqliteStore
from tests.fixtures.clock import Clock

CACHE_S = 10.0
UNLIMITED = Limits()
NO_STATIC_KEYS = KeyRing([])


class CountingStore:
    """Passes every call to a real store, counting them; the answer of the method named by
    ``hold`` waits, once read, until ``release`` is set (``held`` tells it is waiting)."""

    def __init__(self, inner: Store) -> None:
        self._inner = inner
        self.queries = 0
        self.hold: str | None = None
        self.held = asyncio.Event()
        self.release = asyncio.Event()

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        method = getattr(self._inner, name)

        async def counted(*args: Any) -> Any:
            self.queries += 1
            answer = await method(*args)
            if name == self.hold:
                self.held.set()
                await self.release.wait()
            return answer

        return counted


class World:
    """A migrated store with tenants ``t-a`` (user ``alice``, whose key is ``secret``) and ``t-b``."""

    def __init__(self, store: Store, counting: CountingStore, clock: Clock) -> None:
        self.store = store
        self.counting = counting
        self.clock = clock
        self.admin = AdminService(store)
        self.user_id = ""
        self.key_id = ""
        self.secret = ""

    async def seed(self) -> None:
        await self.admin.create_tenant("A", "t-a")
        await self.admin.create_tenant("B", "t-b")
        self.user_id = (await self.admin.create_user("t-a", "alice")).id
        key, self.secret = await self.admin.create_key("t-a", "alice's", user_id=self.user_id)
        self.key_id = key.id

    def resolver(self, defaults: Limits = UNLIMITED, static: KeyRing = NO_STATIC_KEYS) -> KeyResolver:
        """A resolver on the counting store, told of every change the admin service makes."""
        resolver = KeyResolver(static, self.counting, CACHE_S, self.clock, default_tenant_limits=defaults)  # type: ignore[arg-type]
        told = LocalInvalidation(AuthCaches(resolver))
        self.admin = AdminService(
            self.store,
            on_key_change=told.key_changed,
            on_tenant_change=told.tenant_changed,
            on_plan_change=told.plan_changed,
        )
        return resolver


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    store = SqliteStore(str(tmp_path / "sluice.db"))
    await store.migrate()
    w = World(store, CountingStore(store), Clock(1_000.0))
    await w.seed()
    yield w
    await store.close()


async def limits_of(resolver: KeyResolver, secret: str) -> tuple[ScopedLimits, ...]:
    principal = await resolver.lookup(secret)
    assert principal is not None
    return principal.limits


async def test_principal_carries_tenant_user_and_key_limits(world: World) -> None:
    resolver = world.resolver(defaults=Limits(rpm=1))
    await world.admin.set_limits("t-a", Limits(rpm=100, tpm=10_000))
    await world.admin.set_limits("t-a", Limits(rpm=10), user_id=world.user_id)
    await world.admin.set_limits("t-a", Limits(max_tokens=256, max_concurrent=2), key_id=world.key_id)
    await world.admin.set_limits("t-b", Limits(rpm=5))
    principal = await resolver.lookup(world.secret)
    assert principal is not None
    assert (principal.tenant_id, principal.user_id, principal.key_id) == ("t-a", world.user_id, world.key_id)
    assert principal.limits == (
        ScopedLimits("tenant", "t-a", Limits(rpm=100, tpm=10_000)),
        ScopedLimits("user", world.user_id, Limits(rpm=10)),
        ScopedLimits("key", world.key_id, Limits(max_tokens=256, max_concurrent=2)),
    )


async def test_config_defaults_apply_only_when_the_tenant_has_no_row(world: World) -> None:
    resolver = world.resolver(defaults=Limits(rpm=60, tpm=1_000))
    assert await limits_of(resolver, world.secret) == (
        ScopedLimits("tenant", "t-a", Limits(rpm=60, tpm=1_000)),
    )
    await world.admin.set_limits("t-a", Limits(tpm=5))
    assert await limits_of(resolver, world.secret) == (ScopedLimits("tenant", "t-a", Limits(tpm=5)),)
    await world.admin.set_limits("t-a", Limits())  # a row that limits nothing: the tenant is unlimited
    assert await limits_of(resolver, world.secret) == ()
    await world.admin.clear_limits("t-a")
    assert await limits_of(resolver, world.secret) == (
        ScopedLimits("tenant", "t-a", Limits(rpm=60, tpm=1_000)),
    )


async def test_no_defaults_and_no_rows_mean_no_limits(world: World) -> None:
    resolver = world.resolver()
    assert await limits_of(resolver, world.secret) == ()
    await world.admin.set_limits("t-a", Limits(), user_id=world.user_id)
    assert await limits_of(resolver, world.secret) == ()


async def test_the_cache_serves_a_second_lookup_without_a_query(world: World) -> None:
    resolver = world.resolver()
    await world.admin.set_limits("t-a", Limits(rpm=7), key_id=world.key_id)
    expected = (ScopedLimits("key", world.key_id, Limits(rpm=7)),)
    assert await limits_of(resolver, world.secret) == expected
    assert (
        world.counting.queries == 6
    )  # the key, its tenant, every scope's limits in one query, budgets in one more, spend policies and plans in one more each
    world.clock.now += CACHE_S - 0.1
    assert await limits_of(resolver, world.secret) == expected
    assert world.counting.queries == 6
    world.clock.now += 0.1
    assert await limits_of(resolver, world.secret) == expected
    assert world.counting.queries == 12


async def test_limits_for_a_caller_without_a_key(world: World) -> None:
    resolver = world.resolver(defaults=Limits(rpm=60))
    await world.admin.set_limits("t-a", Limits(rpm=10), user_id=world.user_id)
    user = ScopedLimits("user", world.user_id, Limits(rpm=10))
    assert await resolver.limits_for("t-a", world.user_id, None) == (
        ScopedLimits("tenant", "t-a", Limits(rpm=60)),
        user,
    )
    assert world.counting.queries == 4  # limits, budgets, spend policies, plans
    assert await resolver.limits_for("t-a", world.user_id, None) == (
        ScopedLimits("tenant", "t-a", Limits(rpm=60)),
        user,
    )
    assert world.counting.queries == 4
    assert await resolver.limits_for("t-a", None, None) == (ScopedLimits("tenant", "t-a", Limits(rpm=60)),)
    assert world.counting.queries == 8
    # Tenant-scoped: t-a's user id means nothing under t-b.
    assert await resolver.limits_for("t-b", world.user_id, None) == (
        ScopedLimits("tenant", "t-b", Limits(rpm=60)),
    )
    world.clock.now += CACHE_S
    await resolver.limits_for("t-a", world.user_id, None)
    assert world.counting.queries == 16


async def test_a_change_through_the_admin_service_shows_at_once(world: World) -> None:
    resolver = world.resolver()
    assert await limits_of(resolver, world.secret) == ()
    assert await resolver.limits_for("t-a", world.user_id, None) == ()
    await world.admin.set_limits("t-a", Limits(rpm=3), user_id=world.user_id)
    user = ScopedLimits("user", world.user_id, Limits(rpm=3))
    assert await limits_of(resolver, world.secret) == (user,)
    assert await resolver.limits_for("t-a", world.user_id, None) == (user,)
    await world.admin.set_limits("t-a", Limits(rpm=1), key_id=world.key_id)
    assert await limits_of(resolver, world.secret) == (user, ScopedLimits("key", world.key_id, Limits(rpm=1)))
    await world.admin.clear_limits("t-a", user_id=world.user_id)
    assert await limits_of(resolver, world.secret) == (ScopedLimits("key", world.key_id, Limits(rpm=1)),)


async def test_a_lookup_that_read_before_a_change_is_not_cached(world: World) -> None:
    resolver = world.resolver()
    world.counting.hold = "limits_for"
    lookup = asyncio.create_task(resolver.lookup(world.secret))
    await world.counting.held.wait()  # the lookup has read the old (no) limits
    await world.admin.set_limits("t-a", Limits(rpm=2))
    world.counting.hold = None
    world.counting.release.set()
    stale = await lookup
    assert stale is not None and stale.limits == ()  # answered as read...
    assert await limits_of(resolver, world.secret) == (
        ScopedLimits("tenant", "t-a", Limits(rpm=2)),
    )  # ...not kept


async def test_static_keys_carry_their_own_limits_without_a_query(world: World) -> None:
    static = KeyRing(
        [
            ApiKeySettings(key=SecretStr("sk-limited"), name="demo", limits=Limits(rpm=30, max_tokens=100)),
            ApiKeySettings(key=SecretStr("sk-free"), name="free"),
        ]
    )
    resolver = world.resolver(defaults=Limits(rpm=1), static=static)
    assert await limits_of(resolver, "sk-limited") == (
        ScopedLimits("key", "demo", Limits(rpm=30, max_tokens=100)),
    )
    assert await limits_of(resolver, "sk-free") == ()
    assert world.counting.queries == 0


async def test_a_disabled_tenant_key_resolves_to_nothing(world: World) -> None:
    resolver = world.resolver()
    await world.admin.update_tenant("t-a", disabled=True)
    assert await resolver.lookup(world.secret) is None
    assert await resolver.lookup("sk-unknown") is None


async def test_bounded_staleness_drops_every_entry_and_caches_briefly_until_lifted(world: World) -> None:
    resolver = world.resolver()
    await resolver.lookup(world.secret)
    per_lookup = world.counting.queries
    resolver.bound_staleness(1.0)
    await resolver.lookup(world.secret)  # dropped: read again
    assert world.counting.queries == 2 * per_lookup
    world.clock.now += 1.0
    await resolver.lookup(world.secret)
    assert world.counting.queries == 3 * per_lookup
    resolver.bound_staleness(None)
    await resolver.lookup(world.secret)  # lifting keeps what is cached
    assert world.counting.queries == 3 * per_lookup
    world.clock.now += 1.0
    await resolver.lookup(world.secret)  # the brief entry expired; this one is kept for CACHE_S
    assert world.counting.queries == 4 * per_lookup
    world.clock.now += CACHE_S - 1.0
    await resolver.lookup(world.secret)
    assert world.counting.queries == 4 * per_lookup


async def test_a_plan_under_the_tenants_and_users_own_field_by_field_and_its_change_at_once(
    world: World,
) -> None:
    resolver = world.resolver(defaults=Limits(rpm=5))
    day, month = Budget("day", max_cost_micros=100), Budget("month", max_cost_micros=1000)
    pro = Plan(
        limits=Limits(rpm=60, max_input_tokens=800),
        budgets=(day, month),
        models=("mini", "big"),
        spend=SpendPolicy(emergency_at_micros=90, emergency_to="mini"),
    )
    await world.admin.put_plan("pro", pro)
    await world.admin.put_plan("seat", Plan(models=("mini",), spend=SpendPolicy(downgrade_at_micros=7)))
    await world.admin.set_plan_of("t-a", "pro")
    await world.admin.set_plan_of("t-a", "seat", user_id=world.user_id)
    await world.admin.set_limits("t-a", Limits(rpm=1000))
    await world.admin.set_budget("t-a", Budget("day", max_cost_micros=50))
    await world.admin.set_spend_policy("t-a", SpendPolicy(emergency_to="tiny"))
    principal = await resolver.lookup(world.secret)
    assert principal is not None and principal.allowed_models == frozenset({"mini"})  # both plans narrow
    tenant, user = principal.limits
    assert tenant == ScopedLimits(
        "tenant",
        "t-a",
        Limits(rpm=1000, max_input_tokens=800),  # its own rpm, the plan's input cap
        (Budget("day", max_cost_micros=50), month),  # its own day, the plan's month
        SpendPolicy(emergency_at_micros=90, emergency_to="tiny"),  # its own alias, the plan's threshold
        models=frozenset({"mini", "big"}),
    )
    assert user == ScopedLimits(
        "user", world.user_id, Limits(), (), SpendPolicy(downgrade_at_micros=7), models=frozenset({"mini"})
    )
    # The plan edited: the cached principal is forgotten at once.
    await world.admin.put_plan("seat", Plan(models=("mini", "big")))
    principal = await resolver.lookup(world.secret)
    assert principal is not None and principal.allowed_models == frozenset({"mini", "big"})
    # Off its plan, a tenant with no limits of its own has the config's defaults again.
    await world.admin.set_plan_of("t-a", None)
    await world.admin.clear_limits("t-a")
    assert (await resolver.limits_for("t-a", None, None))[0].limits == Limits(rpm=5)
