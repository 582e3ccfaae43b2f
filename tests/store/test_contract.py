"""The Store contract, run against every backend: the same calls give the same records."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from msgspec.structs import replace

from sluice.errors import ConflictError
from sluice.obs.record import RequestRecord
from sluice.policies import Budget, Limits, Plan, SpendPolicy
from sluice.store.migrations import pending
from sluice.store.protocols import Store
from sluice.store.records import (
    AdminCredential,
    ApiKey,
    Experiment,
    ExperimentArm,
    Feedback,
    FileQuota,
    FileUsage,
    PromptLabel,
    PromptLabelEvent,
    PromptMessage,
    PromptVersion,
    StoredFile,
    StoredResponse,
    StoredSpend,
    Tenant,
    User,
    VersionQuality,
)

# Past 2**31: times must not fit in a 32-bit column by accident.
T0 = 4_102_444_800

METADATA: dict[str, Any] = {
    "plan": "pro",
    "limits": {"rpm": 60, "ratio": 0.5, "on": True, "off": None},
    "tags": ["a", "b"],
    "名前": "é",
}


def tenant(tenant_id: str = "t-a", created_at: int = T0, **fields: Any) -> Tenant:
    return Tenant(tenant_id, f"Tenant {tenant_id}", created_at, **fields)


def key(key_id: str, tenant_id: str = "t-a", created_at: int = T0, **fields: Any) -> ApiKey:
    return ApiKey(key_id, tenant_id, f"key {key_id}", f"sk-{key_id}", f"sha-{key_id}", created_at, **fields)


# --- migrations ------------------------------------------------------------------------------


async def test_migrate_applies_every_migration_then_nothing(
    backend: str, new_store: Callable[[], Store]
) -> None:
    store = new_store()
    assert await store.migrate() == [name for name, _ in pending(backend, set())]
    assert await store.migrate() == []
    assert await new_store().migrate() == []


async def test_migrated_store_is_empty_and_answers(store: Store) -> None:
    await store.ping()
    assert await store.migrate() == []
    assert await store.list_tenants() == []


# --- tenants ---------------------------------------------------------------------------------


async def test_tenant_round_trips(store: Store) -> None:
    t = tenant(disabled=True, metadata=METADATA)
    assert await store.create_tenant(t) == t
    assert await store.get_tenant("t-a") == Tenant("t-a", "Tenant t-a", T0, True, METADATA)
    assert await store.get_tenant("t-missing") is None


async def test_tenant_defaults(store: Store) -> None:
    await store.create_tenant(Tenant("t-a", "A", T0))
    assert await store.get_tenant("t-a") == Tenant("t-a", "A", T0, False, {})


async def test_tenants_list_by_created_at_then_id_in_code_point_order(store: Store) -> None:
    for t in (tenant("a", T0 + 1), tenant("z", T0), tenant("B", T0 + 1), tenant("a-2", T0 + 1)):
        await store.create_tenant(t)
    assert [t.id for t in await store.list_tenants()] == ["z", "B", "a", "a-2"]


async def test_duplicate_tenant_id_conflicts(store: Store) -> None:
    await store.create_tenant(tenant())
    with pytest.raises(ConflictError):
        await store.create_tenant(tenant(metadata={"other": 1}))
    assert await store.list_tenants() == [tenant()]


async def test_update_tenant_changes_only_what_is_given(store: Store) -> None:
    await store.create_tenant(tenant(metadata=METADATA))
    assert await store.update_tenant("t-a") == tenant(metadata=METADATA)
    assert await store.update_tenant("t-a", name="Renamed") == Tenant("t-a", "Renamed", T0, False, METADATA)
    assert await store.update_tenant("t-a", disabled=True) == Tenant("t-a", "Renamed", T0, True, METADATA)
    assert await store.update_tenant("t-a", disabled=False, metadata={}) == Tenant(
        "t-a", "Renamed", T0, False, {}
    )
    assert await store.get_tenant("t-a") == Tenant("t-a", "Renamed", T0, False, {})


async def test_each_policy_is_set_and_cleared_on_its_own(store: Store) -> None:
    await store.create_tenant(tenant())
    cache, guardrails = {"ttl_s": 60}, {"pii": "redact", "reversible": True}
    assert (await store.set_policy("t-a", "cache", cache)).cache_policy == cache
    t = await store.set_policy("t-a", "guardrails", guardrails)
    assert (t.cache_policy, t.guardrail_policy) == (cache, guardrails)
    assert (t.policy("cache"), t.policy("guardrails")) == (cache, guardrails)
    t = await store.set_policy("t-a", "cache", None)
    assert (t.cache_policy, t.guardrail_policy) == (None, guardrails)
    assert (await store.get_tenant("t-a")).guardrail_policy == guardrails
    assert await store.set_policy("t-missing", "guardrails", guardrails) is None


async def test_update_missing_tenant_is_none(store: Store) -> None:
    assert await store.update_tenant("t-missing", name="x") is None
    assert await store.list_tenants() == []


# --- users -----------------------------------------------------------------------------------


async def test_users_are_unique_per_tenant_by_external_id(store: Store) -> None:
    await store.create_tenant(tenant("t-a"))
    await store.create_tenant(tenant("t-b"))
    alice = User("u-1", "t-a", "alice", T0, {"team": "red"})
    assert await store.create_user(alice) == alice
    with pytest.raises(ConflictError):
        await store.create_user(User("u-2", "t-a", "alice", T0))
    other = User("u-3", "t-b", "alice", T0)
    assert await store.create_user(other) == other

    assert await store.get_user("t-a", "u-1") == alice
    assert await store.user_by_external_id("t-a", "alice") == alice
    assert await store.user_by_external_id("t-b", "alice") == User("u-3", "t-b", "alice", T0, {})
    assert await store.list_users("t-a") == [alice]


async def test_users_are_tenant_scoped_and_ordered(store: Store) -> None:
    await store.create_tenant(tenant("t-a"))
    await store.create_tenant(tenant("t-b"))
    for u in (User("u-b", "t-a", "b", T0 + 1), User("u-a", "t-a", "a", T0 + 1), User("u-c", "t-a", "c", T0)):
        await store.create_user(u)
    assert [u.id for u in await store.list_users("t-a")] == ["u-c", "u-a", "u-b"]
    assert await store.list_users("t-b") == []
    assert await store.get_user("t-b", "u-a") is None
    assert await store.user_by_external_id("t-b", "a") is None


async def test_ensure_user_gives_one_row_to_concurrent_first_sights(
    store: Store, new_store: Callable[[], Store]
) -> None:
    """Requests of one process (one store) and of another worker or replica (a second store on the
    same database) first seeing the same users at once: one row each, the same user to every caller."""
    await store.create_tenant(tenant())
    other = new_store()
    calls = [
        s.ensure_user(User(f"u-{n}-{i}", "t-a", f"ext-{i % 10}", T0 + n))
        for n, s in enumerate((store, other, store))
        for i in range(15)
    ]
    users = await asyncio.gather(*calls)
    by_external = {u.external_id: u for u in await store.list_users("t-a")}
    assert sorted(by_external) == [f"ext-{i}" for i in range(10)]
    assert all(u == by_external[u.external_id] for u in users)
    first = User("u-x", "t-a", "ext-0", T0 + 9, {"team": "red"})
    assert await store.ensure_user(first) == by_external["ext-0"]  # already there: unchanged
    alice = User("u-alice", "t-a", "alice", T0, {"team": "red"})
    assert await other.ensure_user(alice) == alice == await store.user_by_external_id("t-a", "alice")
    with pytest.raises(ConflictError):
        await store.ensure_user(User("u-1", "t-missing", "alice", T0))


async def test_user_of_missing_tenant_conflicts(store: Store) -> None:
    with pytest.raises(ConflictError):
        await store.create_user(User("u-1", "t-missing", "alice", T0))


# --- API keys --------------------------------------------------------------------------------


async def test_key_round_trips_and_is_found_by_secret(store: Store) -> None:
    await store.create_tenant(tenant())
    await store.create_user(User("u-1", "t-a", "alice", T0))
    k = key(
        "k-1", user_id="u-1", allowed_models=["gpt-4o-mini", "claude"], metadata=METADATA, expires_at=T0 + 60
    )
    assert await store.create_key(k) == k
    expected = ApiKey(
        "k-1",
        "t-a",
        "key k-1",
        "sk-k-1",
        "sha-k-1",
        T0,
        "u-1",
        ["gpt-4o-mini", "claude"],
        METADATA,
        T0 + 60,
        None,
    )
    assert await store.key_by_secret_sha256("sha-k-1") == expected
    assert await store.get_key("t-a", "k-1") == expected
    assert await store.key_by_secret_sha256("sha-missing") is None


async def test_key_defaults_and_empty_model_list_round_trip(store: Store) -> None:
    await store.create_tenant(tenant())
    await store.create_key(key("k-any"))
    await store.create_key(key("k-none", allowed_models=[]))
    assert await store.get_key("t-a", "k-any") == ApiKey(
        "k-any", "t-a", "key k-any", "sk-k-any", "sha-k-any", T0
    )
    none = await store.get_key("t-a", "k-none")
    assert none is not None
    assert none.allowed_models == []


async def test_keys_are_tenant_scoped_and_ordered(store: Store) -> None:
    await store.create_tenant(tenant("t-a"))
    await store.create_tenant(tenant("t-b"))
    for k in (
        key("k-b", created_at=T0 + 1),
        key("k-a", created_at=T0 + 1),
        key("k-c"),
        key("k-other", "t-b"),
    ):
        await store.create_key(k)
    assert [k.id for k in await store.list_keys("t-a")] == ["k-c", "k-a", "k-b"]
    assert await store.list_keys("t-b") == [key("k-other", "t-b")]
    assert await store.list_keys("t-missing") == []
    assert await store.get_key("t-b", "k-a") is None
    assert await store.get_key("t-a", "k-other") is None


async def test_revoke_sets_revoked_at_once(store: Store) -> None:
    await store.create_tenant(tenant())
    await store.create_key(key("k-1"))
    assert await store.revoke_key("t-a", "k-1", T0 + 10) == key("k-1", revoked_at=T0 + 10)
    assert await store.revoke_key("t-a", "k-1", T0 + 99) == key("k-1", revoked_at=T0 + 10)
    assert await store.key_by_secret_sha256("sha-k-1") == key("k-1", revoked_at=T0 + 10)


async def test_revoke_is_tenant_scoped(store: Store) -> None:
    await store.create_tenant(tenant("t-a"))
    await store.create_tenant(tenant("t-b"))
    await store.create_key(key("k-1", "t-a"))
    assert await store.revoke_key("t-b", "k-1", T0 + 10) is None
    assert await store.revoke_key("t-a", "k-missing", T0 + 10) is None
    assert await store.get_key("t-a", "k-1") == key("k-1", "t-a")


async def test_update_key_changes_only_what_is_given(store: Store) -> None:
    await store.create_tenant(tenant())
    original = key("k-1", allowed_models=["a"], metadata={"x": 1}, expires_at=T0 + 60)
    await store.create_key(original)
    assert await store.update_key("t-a", "k-1") == original
    renamed = replace(original, name="renamed")
    assert await store.update_key("t-a", "k-1", name="renamed") == renamed
    updated = replace(renamed, allowed_models=["b", "c"], metadata=METADATA, expires_at=T0 + 120)
    assert (
        await store.update_key(
            "t-a", "k-1", allowed_models=["b", "c"], metadata=METADATA, expires_at=T0 + 120
        )
        == updated
    )
    assert await store.get_key("t-a", "k-1") == updated


async def test_update_key_is_tenant_scoped(store: Store) -> None:
    await store.create_tenant(tenant("t-a"))
    await store.create_tenant(tenant("t-b"))
    await store.create_key(key("k-1", "t-a"))
    assert await store.update_key("t-b", "k-1", name="stolen") is None
    assert await store.update_key("t-a", "k-missing", name="x") is None
    assert await store.get_key("t-a", "k-1") == key("k-1", "t-a")


async def test_stored_key_is_usable_until_expiry_or_revocation(store: Store) -> None:
    await store.create_tenant(tenant())
    await store.create_key(key("k-exp", expires_at=T0 + 60))
    await store.create_key(key("k-forever"))
    expiring = await store.key_by_secret_sha256("sha-k-exp")
    assert expiring is not None
    assert [expiring.is_usable(t) for t in (T0, T0 + 59, T0 + 60)] == [True, True, False]

    revoked = await store.revoke_key("t-a", "k-forever", T0 + 5)
    assert revoked is not None
    assert [revoked.is_usable(t) for t in (T0, T0 + 10)] == [False, False]


async def test_duplicate_secret_conflicts_even_across_tenants(store: Store) -> None:
    await store.create_tenant(tenant("t-a"))
    await store.create_tenant(tenant("t-b"))
    await store.create_key(key("k-1", "t-a"))
    with pytest.raises(ConflictError) as conflict:
        await store.create_key(ApiKey("k-2", "t-b", "copy", "sk-x", "sha-k-1", T0))
    assert "sha-k-1" not in conflict.value.message  # the message never quotes a secret's hash
    assert await store.list_keys("t-b") == []


async def test_key_of_missing_tenant_or_user_conflicts(store: Store) -> None:
    with pytest.raises(ConflictError):
        await store.create_key(key("k-1", "t-missing"))
    await store.create_tenant(tenant())
    with pytest.raises(ConflictError):
        await store.create_key(key("k-1", user_id="u-missing"))
    assert await store.create_key(key("k-1")) == key("k-1")  # a conflict leaves the store usable


# --- admin credentials -----------------------------------------------------------------------


async def test_admin_credentials(store: Store) -> None:
    admin = AdminCredential("a-1", "ops", "sk-admin-", "sha-admin", T0)
    assert await store.create_admin(admin) == admin
    assert await store.admin_by_secret_sha256("sha-admin") == AdminCredential(
        "a-1", "ops", "sk-admin-", "sha-admin", T0, None
    )
    assert await store.admin_by_secret_sha256("sha-missing") is None
    with pytest.raises(ConflictError):
        await store.create_admin(AdminCredential("a-2", "copy", "sk-admin-", "sha-admin", T0))


# --- limits ----------------------------------------------------------------------------------

BIG = 2**40  # past 2**31: counts must not fit in a 32-bit column by accident


async def two_tenants_with_a_user_and_key(store: Store) -> None:
    for t in ("t-a", "t-b"):
        await store.create_tenant(tenant(t))
    await store.create_user(User("u-1", "t-a", "alice", T0))
    await store.create_key(key("k-1", user_id="u-1"))


async def test_limits_round_trip_and_a_set_replaces_every_field(store: Store) -> None:
    await store.create_tenant(tenant())
    full = Limits(rpm=60, tpm=BIG, max_concurrent=4, max_tokens=1024, max_input_tokens=8000)
    assert await store.set_limits("t-a", "tenant", "t-a", full, T0) == full
    assert await store.get_limits("t-a", "tenant", "t-a") == full
    assert await store.set_limits("t-a", "tenant", "t-a", Limits(tpm=5), T0 + 1) == Limits(tpm=5)
    assert await store.get_limits("t-a", "tenant", "t-a") == Limits(tpm=5)


async def test_limits_with_no_field_set_are_a_row(store: Store) -> None:
    await store.create_tenant(tenant())
    assert await store.get_limits("t-a", "tenant", "t-a") is None
    assert await store.set_limits("t-a", "tenant", "t-a", Limits(), T0) == Limits()
    assert await store.get_limits("t-a", "tenant", "t-a") == Limits()
    assert await store.limits_for("t-a", None, None) == {"tenant": Limits()}


async def test_limits_for_gathers_the_tenant_user_and_key(store: Store) -> None:
    await two_tenants_with_a_user_and_key(store)
    await store.create_key(key("k-2"))
    assert await store.limits_for("t-a", "u-1", "k-1") == {}
    await store.set_limits("t-a", "tenant", "t-a", Limits(rpm=100), T0)
    await store.set_limits("t-a", "user", "u-1", Limits(rpm=10), T0)
    await store.set_limits("t-a", "key", "k-1", Limits(max_tokens=256), T0)
    await store.set_limits("t-a", "key", "k-2", Limits(rpm=1), T0)
    await store.set_limits("t-b", "tenant", "t-b", Limits(rpm=7), T0)
    assert await store.limits_for("t-a", "u-1", "k-1") == {
        "tenant": Limits(rpm=100),
        "user": Limits(rpm=10),
        "key": Limits(max_tokens=256),
    }
    assert await store.limits_for("t-a", None, "k-2") == {"tenant": Limits(rpm=100), "key": Limits(rpm=1)}
    assert await store.limits_for("t-a", "u-1", None) == {"tenant": Limits(rpm=100), "user": Limits(rpm=10)}
    assert await store.limits_for("t-b", None, None) == {"tenant": Limits(rpm=7)}


async def test_limits_match_on_kind_as_well_as_id(store: Store) -> None:
    await store.create_tenant(tenant())
    await store.set_limits("t-a", "user", "same", Limits(rpm=1), T0)
    await store.set_limits("t-a", "key", "same", Limits(rpm=2), T0)
    assert await store.get_limits("t-a", "user", "same") == Limits(rpm=1)
    assert await store.limits_for("t-a", "same", None) == {"user": Limits(rpm=1)}
    assert await store.limits_for("t-a", None, "same") == {"key": Limits(rpm=2)}
    assert await store.limits_for("t-a", "t-a", "t-a") == {}  # a tenant's row only as the tenant


async def test_limits_are_tenant_scoped(store: Store) -> None:
    await two_tenants_with_a_user_and_key(store)
    await store.set_limits("t-a", "user", "u-1", Limits(rpm=10), T0)
    await store.set_limits("t-a", "key", "k-1", Limits(rpm=20), T0)
    assert await store.get_limits("t-b", "user", "u-1") is None
    assert await store.limits_for("t-b", "u-1", "k-1") == {}
    assert await store.delete_limits("t-b", "key", "k-1") is False
    with pytest.raises(ConflictError):
        await store.set_limits("t-b", "key", "k-1", Limits(rpm=99_999), T0 + 1)
    assert await store.limits_for("t-a", "u-1", "k-1") == {"user": Limits(rpm=10), "key": Limits(rpm=20)}


async def test_delete_limits(store: Store) -> None:
    await two_tenants_with_a_user_and_key(store)
    await store.set_limits("t-a", "key", "k-1", Limits(rpm=20), T0)
    await store.set_limits("t-a", "user", "u-1", Limits(rpm=10), T0)
    assert await store.delete_limits("t-a", "key", "k-1") is True
    assert await store.delete_limits("t-a", "key", "k-1") is False
    assert await store.get_limits("t-a", "key", "k-1") is None
    assert await store.limits_for("t-a", "u-1", "k-1") == {"user": Limits(rpm=10)}


async def test_limits_of_missing_tenant_conflict(store: Store) -> None:
    with pytest.raises(ConflictError):
        await store.set_limits("t-missing", "tenant", "t-missing", Limits(rpm=1), T0)
    assert await store.get_limits("t-missing", "tenant", "t-missing") is None


# --- budgets ---------------------------------------------------------------------------------

DAY = Budget("day", max_tokens=BIG, max_cost_micros=5_000_000)
MONTH = Budget("month", max_cost_micros=100_000_000, on_exceed="downgrade", downgrade_to="cheap")


async def test_budgets_round_trip_one_per_period_and_a_set_replaces_that_period(store: Store) -> None:
    await store.create_tenant(tenant())
    assert await store.get_budgets("t-a", "tenant", "t-a") == []
    assert await store.set_budget("t-a", "tenant", "t-a", MONTH, T0) == MONTH
    assert await store.set_budget("t-a", "tenant", "t-a", DAY, T0) == DAY
    assert await store.get_budgets("t-a", "tenant", "t-a") == [DAY, MONTH]
    assert await store.set_budget("t-a", "tenant", "t-a", Budget("day", max_tokens=7), T0 + 1) == Budget(
        "day", max_tokens=7
    )
    assert await store.get_budgets("t-a", "tenant", "t-a") == [Budget("day", max_tokens=7), MONTH]


async def test_budgets_for_gathers_the_tenant_user_and_key(store: Store) -> None:
    await two_tenants_with_a_user_and_key(store)
    await store.create_key(key("k-2"))
    assert await store.budgets_for("t-a", "u-1", "k-1") == {}
    await store.set_budget("t-a", "tenant", "t-a", MONTH, T0)
    await store.set_budget("t-a", "tenant", "t-a", DAY, T0)
    await store.set_budget("t-a", "user", "u-1", Budget("day", max_tokens=10), T0)
    await store.set_budget("t-a", "key", "k-2", Budget("month", max_tokens=1), T0)
    await store.set_budget("t-b", "tenant", "t-b", Budget("day", max_tokens=3), T0)
    assert await store.budgets_for("t-a", "u-1", "k-1") == {
        "tenant": [DAY, MONTH],
        "user": [Budget("day", max_tokens=10)],
    }
    assert await store.budgets_for("t-a", None, "k-2") == {
        "tenant": [DAY, MONTH],
        "key": [Budget("month", max_tokens=1)],
    }
    assert await store.budgets_for("t-b", "u-1", "k-2") == {"tenant": [Budget("day", max_tokens=3)]}


async def test_budgets_are_tenant_scoped(store: Store) -> None:
    await two_tenants_with_a_user_and_key(store)
    await store.set_budget("t-a", "key", "k-1", DAY, T0)
    assert await store.get_budgets("t-b", "key", "k-1") == []
    assert await store.delete_budgets("t-b", "key", "k-1") == 0
    for period in ("day", "month"):  # neither the same period's row nor a new one under another tenant
        with pytest.raises(ConflictError):
            await store.set_budget("t-b", "key", "k-1", Budget(period, max_tokens=99_999), T0 + 1)  # type: ignore[arg-type]
    with pytest.raises(ConflictError):
        await store.set_budget("t-missing", "tenant", "t-missing", DAY, T0)
    assert await store.budgets_for("t-a", None, "k-1") == {"key": [DAY]}


async def test_delete_budgets(store: Store) -> None:
    await two_tenants_with_a_user_and_key(store)
    await store.set_budget("t-a", "key", "k-1", DAY, T0)
    await store.set_budget("t-a", "key", "k-1", MONTH, T0)
    await store.set_budget("t-a", "user", "u-1", DAY, T0)
    assert await store.delete_budgets("t-a", "key", "k-1") == 2
    assert await store.delete_budgets("t-a", "key", "k-1") == 0
    assert await store.budgets_for("t-a", "u-1", "k-1") == {"user": [DAY]}


# --- uploaded files ------------------------------------------------------------------------

ROOMY = FileQuota(max_bytes=10**12, max_files=10**6)


def a_file(
    file_id: str,
    owner: str = "tenant:t-a",
    size: int = 10,
    created_at: int = T0,
    purpose: str = "assistants",
    **fields: Any,
) -> StoredFile:
    return StoredFile(owner, file_id, size, created_at, f"{file_id}.txt", purpose, **fields)


async def test_files_are_scoped_by_owner(store: Store) -> None:
    mine = a_file("file-1", expires_at=T0 + 3600)
    assert await store.add_file(mine, ROOMY) is None
    assert await store.add_file(a_file("file-2", "tenant:t-b"), ROOMY) is None
    assert await store.get_file("tenant:t-a", "file-1") == mine
    assert await store.get_file("tenant:t-b", "file-1") is None
    assert await store.get_file("key:demo", "file-1") is None
    assert await store.list_files("tenant:t-b", purpose=None, order="asc", after=None, limit=10) == [
        a_file("file-2", "tenant:t-b")
    ]
    assert await store.list_files("tenant:t-b", purpose=None, order="asc", after="file-1", limit=10) == []
    assert await store.delete_file("tenant:t-b", "file-1") is False
    with pytest.raises(ConflictError):
        await store.add_file(mine, ROOMY)
    assert await store.delete_file("tenant:t-a", "file-1") is True
    assert await store.delete_file("tenant:t-a", "file-1") is False
    assert await store.get_file("tenant:t-a", "file-1") is None
    assert await store.file_usage("tenant:t-a") == FileUsage(bytes=0, files=0)
    assert await store.file_usage("tenant:t-b") == FileUsage(bytes=10, files=1)


async def test_files_list_pages_in_order_with_purpose(store: Store) -> None:
    # Two share a second: the id breaks the tie, so paging never skips or repeats one.
    files = [a_file(f"file-{i}", created_at=T0 + i // 2) for i in range(6)]
    files.append(a_file("file-b", purpose="batch", created_at=T0 + 9))
    for f in files:
        assert await store.add_file(f, ROOMY) is None
    assistants = files[:6]
    for order, expected in (("asc", assistants), ("desc", assistants[::-1])):
        seen: list[StoredFile] = []
        after = None
        while page := await store.list_files(
            "tenant:t-a", purpose="assistants", order=order, after=after, limit=4
        ):
            seen += page
            after = page[-1].id
        assert seen == expected
    assert await store.list_files("tenant:t-a", purpose="batch", order="desc", after=None, limit=10) == [
        files[6]
    ]
    assert len(await store.list_files("tenant:t-a", purpose=None, order="desc", after=None, limit=10)) == 7


async def test_file_quota_refuses_and_stores_nothing(store: Store) -> None:
    quota = FileQuota(max_bytes=25, max_files=3)
    assert await store.add_file(a_file("file-1"), quota) is None
    assert await store.add_file(a_file("file-2"), quota) is None
    assert await store.add_file(a_file("file-3"), quota) == "bytes"  # 30 > 25
    assert await store.add_file(a_file("file-3", size=5), quota) is None  # 25: at the cap is within it
    assert await store.add_file(a_file("file-4", size=0), quota) == "files"
    assert await store.get_file("tenant:t-a", "file-4") is None
    assert await store.file_usage("tenant:t-a") == FileUsage(bytes=25, files=3)
    assert await store.add_file(a_file("file-4", "tenant:t-b", size=25), quota) is None  # per owner


async def test_file_quota_holds_under_concurrent_adds(new_store: Callable[[], Store]) -> None:
    # Two stores on one database: two processes (SQLite) or replicas (PostgreSQL) at once.
    first, second = new_store(), new_store()
    await first.migrate()
    quota = FileQuota(max_bytes=10**9, max_files=7)
    results = await asyncio.gather(
        *((first if i % 2 else second).add_file(a_file(f"file-{i}"), quota) for i in range(20))
    )
    assert results.count(None) == 7 and results.count("files") == 13
    assert await first.file_usage("tenant:t-a") == FileUsage(bytes=70, files=7)
    by_bytes = FileQuota(max_bytes=55, max_files=10**6)
    results = await asyncio.gather(
        *(
            (first if i % 2 else second).add_file(a_file(f"file-{i}", "tenant:t-b"), by_bytes)
            for i in range(20)
        )
    )
    assert results.count(None) == 5 and results.count("bytes") == 15
    assert await second.file_usage("tenant:t-b") == FileUsage(bytes=50, files=5)


async def test_file_blobs_round_trip_in_parts_per_owner(store: Store) -> None:
    parts = [bytes(range(256)) * 4096, b"\x00tail"]  # binary, NUL included; 1 MiB then a short part
    upload = bytearray(b"".join(parts))  # as the route passes them: views of the upload's buffer
    views = [memoryview(upload)[: len(parts[0])], memoryview(upload)[len(parts[0]) :]]
    await store.put_blob("tenant:t-a", "file-1", views)  # type: ignore[attr-defined]
    got = [p async for p in store.read_blob("tenant:t-a", "file-1")]  # type: ignore[attr-defined]
    assert got == parts
    assert [p async for p in store.read_blob("tenant:t-b", "file-1")] == []  # type: ignore[attr-defined]
    await store.delete_blob("tenant:t-b", "file-1")  # type: ignore[attr-defined]
    assert [p async for p in store.read_blob("tenant:t-a", "file-1")] == parts  # type: ignore[attr-defined]
    await store.delete_blob("tenant:t-a", "file-1")  # type: ignore[attr-defined]
    assert [p async for p in store.read_blob("tenant:t-a", "file-1")] == []  # type: ignore[attr-defined]


# --- stored responses ------------------------------------------------------------------------


async def test_stored_responses_are_scoped_by_owner(store: Store) -> None:
    payload = bytes(range(256)) * 4  # binary, NUL included: sealed payloads are opaque bytes
    mine = StoredResponse("tenant:t-a", "resp_1", T0, payload, True)
    await store.put_responses([mine, StoredResponse("tenant:t-b", "resp_2", T0, b"{}", False)])
    assert await store.get_response("tenant:t-a", "resp_1") == mine
    assert await store.get_response("tenant:t-b", "resp_1") is None
    assert await store.get_response("key:demo", "resp_1") is None
    assert await store.delete_response("tenant:t-b", "resp_1") is False
    assert await store.get_response("tenant:t-a", "resp_1") == mine
    with pytest.raises(ConflictError):  # the whole batch is refused
        await store.put_responses([StoredResponse("tenant:t-a", "resp_3", T0, b"{}", False), mine])
    assert await store.get_response("tenant:t-a", "resp_3") is None
    assert await store.delete_response("tenant:t-a", "resp_1") is True
    assert await store.delete_response("tenant:t-a", "resp_1") is False
    assert await store.get_response("tenant:t-a", "resp_1") is None
    assert await store.get_response("tenant:t-b", "resp_2") == StoredResponse(
        "tenant:t-b", "resp_2", T0, b"{}", False
    )


# --- the prompt registry ---------------------------------------------------------------------


def prompt(tenant_id: str = "t-a", name: str = "support", n: int = 0, **fields: Any) -> PromptVersion:
    messages = [
        PromptMessage("system", "You help {company}'s customers. {{literal}} é"),
        PromptMessage("user", "{q}"),
    ]
    return PromptVersion(tenant_id, name, 0, messages, ["company", "q"], T0 + n, "ops", **fields)


async def test_prompt_versions_are_numbered_per_prompt_and_round_trip(store: Store) -> None:
    await store.create_tenant(tenant())
    params = {"temperature": 0.2, "response_format": {"type": "json_object"}, "stop": ["\n"]}
    first = await store.create_prompt_version(prompt(model="gpt-4o-mini", params=params, note="first"))
    assert first == replace(prompt(model="gpt-4o-mini", params=params, note="first"), version=1)
    second = await store.create_prompt_version(replace(prompt(n=1), version=7))  # the given number is ignored
    assert second.version == 2 and second.model is None and second.params == {} and second.note == ""
    other = await store.create_prompt_version(prompt(name="billing"))
    assert other.version == 1
    assert await store.get_prompt_version("t-a", "support", 1) == first
    assert await store.get_prompt_version("t-a", "support", 2) == second
    assert await store.get_prompt_version("t-a", "support", 3) is None
    assert await store.list_prompt_versions("t-a", "support") == [first, second]
    assert await store.list_prompt_versions("t-a", "missing") == []


async def test_prompts_list_in_code_point_order(store: Store) -> None:
    await store.create_tenant(tenant())
    assert await store.list_prompts("t-a") == []
    for name in ("b", "a.2", "B", "a", "b"):
        await store.create_prompt_version(prompt(name=name))
    assert await store.list_prompts("t-a") == ["B", "a", "a.2", "b"]


async def test_prompt_of_missing_tenant_conflicts(store: Store) -> None:
    with pytest.raises(ConflictError):
        await store.create_prompt_version(prompt("t-missing"))


async def test_concurrent_creates_get_distinct_consecutive_versions(
    store: Store, new_store: Callable[[], Store]
) -> None:
    """Two callers of one process and one of another replica (a second store on the same
    database) creating versions of one prompt at once: every number once, 1 to 30."""
    await store.create_tenant(tenant())
    other = new_store()
    made = await asyncio.gather(
        *(s.create_prompt_version(prompt(n=i)) for i in range(10) for s in (store, other, store))
    )
    assert sorted(v.version for v in made) == list(range(1, 31))
    stored = await store.list_prompt_versions("t-a", "support")
    assert [v.version for v in stored] == list(range(1, 31))
    assert sorted(stored, key=lambda v: v.version) == sorted(made, key=lambda v: v.version)


async def test_labels_move_and_every_move_is_in_the_history(store: Store) -> None:
    await store.create_tenant(tenant())
    for i in range(3):
        await store.create_prompt_version(prompt(n=i))
    made = await store.set_prompt_label("t-a", "support", "production", 1, "ops", "launch", T0 + 10)
    assert made == PromptLabel("t-a", "support", "production", 1, T0 + 10)
    await store.set_prompt_label("t-a", "support", "staging", 3, "dev", "", T0 + 11)
    moved = await store.set_prompt_label("t-a", "support", "production", 2, "ops", "better", T0 + 12)
    assert moved == PromptLabel("t-a", "support", "production", 2, T0 + 12)
    assert await store.get_prompt_labels("t-a", "support") == [
        moved,
        PromptLabel("t-a", "support", "staging", 3, T0 + 11),
    ]
    gone = await store.set_prompt_label("t-a", "support", "staging", None, "dev", "done", T0 + 13)
    assert gone == PromptLabel("t-a", "support", "staging", 3, T0 + 11)  # as it was
    assert await store.get_prompt_labels("t-a", "support") == [moved]
    assert await store.set_prompt_label("t-a", "support", "staging", None, "dev", "again", T0 + 14) is None
    assert await store.prompt_history("t-a", "support") == [
        PromptLabelEvent("t-a", "support", "production", None, 1, "ops", "launch", T0 + 10),
        PromptLabelEvent("t-a", "support", "staging", None, 3, "dev", "", T0 + 11),
        PromptLabelEvent("t-a", "support", "production", 1, 2, "ops", "better", T0 + 12),
        PromptLabelEvent("t-a", "support", "staging", 3, None, "dev", "done", T0 + 13),
    ]


async def test_label_compare_and_set(store: Store) -> None:
    await store.create_tenant(tenant())
    for i in range(3):
        await store.create_prompt_version(prompt(n=i))
    assert (
        await store.set_prompt_label("t-a", "support", "prod", 1, "a", "", T0, expect=2) is None
    )  # none yet
    assert await store.set_prompt_label("t-a", "support", "prod", 1, "a", "", T0, expect=None) is not None
    assert await store.set_prompt_label("t-a", "support", "prod", 2, "b", "", T0 + 1, expect=None) is None
    assert await store.set_prompt_label("t-a", "support", "prod", 2, "b", "", T0 + 1, expect=3) is None
    won = await store.set_prompt_label("t-a", "support", "prod", 2, "b", "", T0 + 1, expect=1)
    assert won == PromptLabel("t-a", "support", "prod", 2, T0 + 1)
    assert await store.set_prompt_label("t-a", "support", "prod", None, "c", "", T0 + 2, expect=1) is None
    assert await store.get_prompt_labels("t-a", "support") == [won]
    assert [(e.from_version, e.to_version) for e in await store.prompt_history("t-a", "support")] == [
        (None, 1),
        (1, 2),
    ]  # a failed compare-and-set leaves no event


async def test_concurrent_compare_and_sets_have_one_winner(
    store: Store, new_store: Callable[[], Store]
) -> None:
    """A rollback raced by every replica: exactly one moves the label and writes the event."""
    await store.create_tenant(tenant())
    for i in range(2):
        await store.create_prompt_version(prompt(n=i))
    await store.set_prompt_label("t-a", "support", "prod", 2, "ops", "", T0)
    other = new_store()
    results = await asyncio.gather(
        *(
            s.set_prompt_label("t-a", "support", "prod", 1, f"replica-{i}", "rollback", T0 + 1, expect=2)
            for i, s in enumerate((store, other) * 6)
        )
    )
    assert [r for r in results if r is not None] == [PromptLabel("t-a", "support", "prod", 1, T0 + 1)]
    history = await store.prompt_history("t-a", "support")
    assert [(e.from_version, e.to_version) for e in history] == [(None, 2), (2, 1)]


async def test_label_to_a_missing_version_conflicts_and_leaves_no_event(store: Store) -> None:
    await store.create_tenant(tenant())
    await store.create_prompt_version(prompt())
    with pytest.raises(ConflictError):
        await store.set_prompt_label("t-a", "support", "prod", 2, "ops", "", T0)
    with pytest.raises(ConflictError):
        await store.set_prompt_label("t-a", "other", "prod", 1, "ops", "", T0)
    assert await store.get_prompt_labels("t-a", "support") == []
    assert await store.prompt_history("t-a", "support") == []
    assert await store.prompt_history("t-a", "other") == []


async def test_prompts_are_tenant_scoped(store: Store) -> None:
    await store.create_tenant(tenant("t-a"))
    await store.create_tenant(tenant("t-b"))
    mine = await store.create_prompt_version(prompt("t-a"))
    await store.set_prompt_label("t-a", "support", "prod", 1, "ops", "", T0)
    assert await store.list_prompts("t-b") == []
    assert await store.get_prompt_version("t-b", "support", 1) is None
    assert await store.list_prompt_versions("t-b", "support") == []
    assert await store.get_prompt_labels("t-b", "support") == []
    assert await store.prompt_history("t-b", "support") == []
    with pytest.raises(ConflictError):  # another tenant's version is no version of this tenant's prompt
        await store.set_prompt_label("t-b", "support", "prod", 1, "ops", "", T0)
    assert await store.set_prompt_label("t-b", "support", "prod", None, "ops", "", T0) is None
    theirs = await store.create_prompt_version(prompt("t-b", note="b's own"))
    assert theirs.version == 1  # numbered on its own
    assert await store.get_prompt_version("t-a", "support", 1) == mine
    assert await store.get_prompt_labels("t-a", "support") == [PromptLabel("t-a", "support", "prod", 1, T0)]
    assert len(await store.prompt_history("t-a", "support")) == 1


# --- experiments and feedback ----------------------------------------------------------------


def experiment(exp_id: str = "exp_1", tenant_id: str = "t-a", **fields: Any) -> Experiment:
    base = Experiment(
        exp_id,
        tenant_id,
        "support",
        "production",
        "canary",
        1,
        [ExperimentArm(1, 99.0), ExperimentArm(2, 1.0)],
        salt="s4lt",
        steps=[1.0, 5.0, 25.0, 100.0],
        rules=[{"metric": "error_rate", "ratio": 2.0, "min_requests": 100}],
        created_at=T0,
        updated_at=T0,
    )
    return replace(base, **fields)


def prompt_request(n: int, tenant_id: str = "t-a", version: int = 1, **fields: Any) -> RequestRecord:
    r = RequestRecord(
        f"req-{n}",
        T0 * 1000 + n,
        "chat",
        200,
        float(n),
        tenant_id,
        prompt_name="support",
        prompt_version=version,
    )
    return replace(r, **fields)


async def test_experiment_round_trips_and_lists(store: Store) -> None:
    e = experiment(shadow=True, shadow_scope="tenant:t-a", unit="attr:account")
    assert await store.create_experiment(e) == e
    assert await store.get_experiment("t-a", "exp_1") == e
    other = experiment("exp_2", name="billing", created_at=T0 + 1)
    await store.create_experiment(other)
    assert await store.list_experiments("t-a") == [e, other]
    assert await store.list_experiments("t-a", "billing") == [other]
    assert await store.running_experiments() == [e, other]


async def test_experiments_are_tenant_scoped(store: Store) -> None:
    await store.create_experiment(experiment())
    assert await store.get_experiment("t-b", "exp_1") is None
    assert await store.list_experiments("t-b") == []
    # The same id and label in another tenant is another experiment.
    b = experiment(tenant_id="t-b")
    await store.create_experiment(b)
    assert await store.get_experiment("t-b", "exp_1") == b
    assert not await store.update_experiment(replace(b, tenant_id="t-c", state="stopped"))
    assert (await store.get_experiment("t-a", "exp_1")) == experiment()


async def test_one_running_experiment_per_label(store: Store) -> None:
    await store.create_experiment(experiment())
    with pytest.raises(ConflictError):
        await store.create_experiment(experiment("exp_2"))
    await store.create_experiment(experiment("exp_3", label="staging"))
    assert await store.update_experiment(experiment(state="stopped", updated_at=T0 + 5))
    await store.create_experiment(experiment("exp_2"))  # the label is free again
    assert [e.id for e in await store.running_experiments()] == ["exp_2", "exp_3"]  # created together: by id


async def test_update_experiment_is_compare_and_set(store: Store) -> None:
    await store.create_experiment(experiment())
    rolled = experiment(state="rolled_back", reason="error_rate", updated_at=T0 + 9)
    assert await store.update_experiment(rolled, expect_state="running")
    assert not await store.update_experiment(experiment(state="stopped"), expect_state="running")
    assert await store.get_experiment("t-a", "exp_1") == rolled
    back = experiment(updated_at=T0 + 10)
    assert await store.update_experiment(back, expect_state="rolled_back")
    # A step advances only from the step it was read at: of two racing replicas, one wins.
    step1 = replace(back, step=1, step_started_at=T0 + 11)
    assert await store.update_experiment(step1, expect_step=0)
    assert not await store.update_experiment(replace(back, step=1, step_started_at=T0 + 12), expect_step=0)
    assert await store.get_experiment("t-a", "exp_1") == step1
    assert not await store.update_experiment(experiment("exp_missing"))


async def test_racing_rollbacks_have_one_winner(store: Store) -> None:
    await store.create_experiment(experiment())
    tries = [experiment(state="rolled_back", reason=f"replica {i}") for i in range(8)]
    won = await asyncio.gather(*(store.update_experiment(e) for e in tries))
    assert sum(won) == 1
    assert (await store.get_experiment("t-a", "exp_1")) == tries[won.index(True)]


async def test_feedback_only_for_the_tenants_own_prompt_requests(store: Store) -> None:
    await store.write_requests(
        [
            prompt_request(1),
            prompt_request(2, tenant_id="t-b"),
            RequestRecord("req-3", T0, "chat", 200, 1.0, "t-a"),
        ]
    )
    up = Feedback("t-a", "req-1", 1.0, T0, "great", ["tone", "名前"])
    assert await store.put_feedback(up)
    assert await store.get_feedback("t-a", "req-1") == up
    assert not await store.put_feedback(Feedback("t-a", "req-2", 0.0, T0))  # t-b's request
    assert not await store.put_feedback(Feedback("t-b", "req-1", 0.0, T0))  # t-a's request
    assert not await store.put_feedback(Feedback("t-a", "req-missing", 0.0, T0))
    assert not await store.put_feedback(Feedback("t-a", "req-3", 0.0, T0))  # no stored prompt
    assert await store.get_feedback("t-b", "req-1") is None
    down = Feedback("t-a", "req-1", 0.0, T0 + 1)
    assert await store.put_feedback(down)  # rated again: the last rating counts
    assert await store.get_feedback("t-a", "req-1") == down


async def test_prompt_quality_sums_per_version(store: Store) -> None:
    records = [
        prompt_request(1, cost_micros=100, input_tokens=10, output_tokens=5, cache="miss"),
        prompt_request(2, cost_micros=300, status=502, error_type="upstream_error", cache="hit"),
        prompt_request(3, status=400, error_type="content_policy_violation"),
        prompt_request(4, stream=True, ttft_ms=7.0, error_type="upstream_error"),  # broke mid-stream
        prompt_request(5, version=2, status=502, error_type="invalid_structured_output"),
        prompt_request(6, version=2, experiment="exp_1", arm=2),
        prompt_request(7, tenant_id="t-b"),
        prompt_request(8, prompt_name="other"),
        replace(prompt_request(9), ts_ms=(T0 - 100) * 1000),
    ]
    await store.write_requests(records)
    assert await store.put_feedback(Feedback("t-a", "req-1", 1.0, T0))
    assert await store.put_feedback(Feedback("t-a", "req-2", 0.5, T0))
    assert await store.put_feedback(Feedback("t-b", "req-7", 0.0, T0))
    v1, v2 = await store.prompt_quality("t-a", "support", since=T0 - 10)
    assert v1 == VersionQuality(
        1,
        requests=4,
        errors=2,
        input_tokens=10,
        output_tokens=5,
        cost_micros=400,
        cost_sq=100_000.0,
        cache_lookups=2,
        cache_hits=1,
        guardrail_refusals=1,
        feedback_count=2,
        feedback_sum=1.5,
        feedback_sq=1.25,
        latency_ms=[4.0, 3.0, 2.0, 1.0],
        ttft_ms=[7.0],
    )
    assert (v2.version, v2.requests, v2.errors, v2.structured_failures) == (2, 2, 1, 1)
    assert [q.requests for q in await store.prompt_quality("t-a", "support")] == [5, 2]
    (arm,) = await store.prompt_quality("t-a", "support", experiment="exp_1")
    assert (arm.version, arm.requests) == (2, 1)
    assert await store.prompt_quality("t-c", "support") == []


async def test_spend_policies_round_trip_per_tenant_and_user_and_keep_an_operators_end(store: Store) -> None:
    await two_tenants_with_a_user_and_key(store)
    tenant_policy = SpendPolicy(emergency_at_micros=BIG, emergency_to="mini", emergency_max_input_tokens=100)
    user_policy = SpendPolicy(downgrade_at_micros=5, downgrade_to="mini")
    assert await store.spend_policies_for("t-a", "u-1") == {}
    assert not await store.end_emergency("t-a", "d2030-01-02", T0)  # no policy: nothing to end
    await store.set_spend_policy("t-a", "tenant", "t-a", tenant_policy, T0)
    await store.set_spend_policy("t-a", "user", "u-1", user_policy, T0)
    await store.set_spend_policy("t-b", "tenant", "t-b", user_policy, T0)
    assert await store.end_emergency("t-a", "d2030-01-02", T0 + 1)
    await store.set_spend_policy("t-a", "tenant", "t-a", tenant_policy, T0 + 2)  # a new policy keeps the end
    assert await store.spend_policies_for("t-a", "u-1") == {
        "tenant": StoredSpend(tenant_policy, "d2030-01-02"),
        "user": StoredSpend(user_policy),
    }
    assert await store.spend_policies_for("t-a", None) == {
        "tenant": StoredSpend(tenant_policy, "d2030-01-02")
    }
    assert await store.get_spend_policy("t-b", "user", "u-1") is None  # tenant-scoped
    assert await store.delete_spend_policy("t-a", "user", "u-1") == 1
    assert await store.get_spend_policy("t-a", "user", "u-1") is None


async def test_plans_round_trip_and_a_plan_in_use_is_not_deleted(store: Store) -> None:
    await two_tenants_with_a_user_and_key(store)
    free = Plan(
        limits=Limits(rpm=60), budgets=(DAY,), models=("mini",), spend=SpendPolicy(emergency_at_micros=9)
    )
    pro = Plan(limits=Limits(rpm=600))
    assert await store.put_plan("free", free, T0)
    assert not await store.put_plan("free", pro, T0, only_new=True)  # seeding never overwrites
    assert await store.put_plan("pro", pro, T0)
    assert await store.list_plans() == {"free": free, "pro": pro}
    assert await store.plans_for("t-a", "u-1") == {}
    await store.set_plan_of("t-a", None, "free")
    await store.set_plan_of("t-a", "u-1", "pro")
    assert await store.plan_of("t-a", None) == "free" and await store.plan_of("t-a", "u-1") == "pro"
    assert await store.plans_for("t-a", "u-1") == {"tenant": free, "user": pro}
    assert await store.plans_for("t-b", "u-1") == {}  # tenant-scoped
    with pytest.raises(ConflictError):
        await store.delete_plan("pro")
    await store.set_plan_of("t-a", "u-1", None)
    assert await store.delete_plan("pro") and not await store.delete_plan("pro")
    assert await store.get_plan("pro") is None and await store.get_plan("free") == free
