"""The Store contract, run against every backend: the same calls give the same records."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from msgspec.structs import replace

from sluice.errors import ConflictError
from sluice.store.migrations import pending
from sluice.store.protocols import Store
from sluice.store.records import AdminCredential, ApiKey, Tenant, User

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


async def test_migrate_applies_every_migration_then_nothing(backend: str, new_store: Callable[[], Store]) -> None:
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
    assert await store.update_tenant("t-a", disabled=False, metadata={}) == Tenant("t-a", "Renamed", T0, False, {})
    assert await store.get_tenant("t-a") == Tenant("t-a", "Renamed", T0, False, {})


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


async def test_user_of_missing_tenant_conflicts(store: Store) -> None:
    with pytest.raises(ConflictError):
        await store.create_user(User("u-1", "t-missing", "alice", T0))


# --- API keys --------------------------------------------------------------------------------


async def test_key_round_trips_and_is_found_by_secret(store: Store) -> None:
    await store.create_tenant(tenant())
    await store.create_user(User("u-1", "t-a", "alice", T0))
    k = key("k-1", user_id="u-1", allowed_models=["gpt-4o-mini", "claude"], metadata=METADATA, expires_at=T0 + 60)
    assert await store.create_key(k) == k
    expected = ApiKey(
        "k-1", "t-a", "key k-1", "sk-k-1", "sha-k-1", T0, "u-1", ["gpt-4o-mini", "claude"], METADATA, T0 + 60, None
    )
    assert await store.key_by_secret_sha256("sha-k-1") == expected
    assert await store.get_key("t-a", "k-1") == expected
    assert await store.key_by_secret_sha256("sha-missing") is None


async def test_key_defaults_and_empty_model_list_round_trip(store: Store) -> None:
    await store.create_tenant(tenant())
    await store.create_key(key("k-any"))
    await store.create_key(key("k-none", allowed_models=[]))
    assert await store.get_key("t-a", "k-any") == ApiKey("k-any", "t-a", "key k-any", "sk-k-any", "sha-k-any", T0)
    none = await store.get_key("t-a", "k-none")
    assert none is not None
    assert none.allowed_models == []


async def test_keys_are_tenant_scoped_and_ordered(store: Store) -> None:
    await store.create_tenant(tenant("t-a"))
    await store.create_tenant(tenant("t-b"))
    for k in (key("k-b", created_at=T0 + 1), key("k-a", created_at=T0 + 1), key("k-c"), key("k-other", "t-b")):
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
    assert await store.update_key("t-a", "k-1", allowed_models=["b", "c"], metadata=METADATA, expires_at=T0 + 120) == updated
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
