"""``sluice tenants ...``, ``sluice keys ...``, ``sluice admins create``: the admin operations
against the configured store directly (no running gateway needed). Output is JSON."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click
import msgspec

from sluice.admin.schemas import KeyOut, TenantOut, UserOut
from sluice.admin.service import AdminService
from sluice.errors import SluiceError
from sluice.settings import ConfigError, load_settings
from sluice.store.factory import build_store

T = TypeVar("T")
config_option = click.option(
    "--config", "-c", "config_path", type=click.Path(dir_okay=False), help="The gateway's YAML config (for its store)."
)


def _run(config_path: str | None, op: Callable[[AdminService], Awaitable[Any]]) -> None:
    try:
        settings = load_settings(config_path)
    except ConfigError as e:
        raise click.ClickException(str(e)) from None

    async def main() -> Any:
        store = build_store(settings.state)
        try:
            await store.migrate()
            return await op(AdminService(store))
        finally:
            await store.close()

    try:
        result = asyncio.run(main())
    except SluiceError as e:
        raise click.ClickException(f"{e.message} ({e.status} {e.code})") from None
    click.echo(msgspec.json.format(msgspec.json.encode(result), indent=2))


def _dump(model: Any) -> Any:
    return model.model_dump() if hasattr(model, "model_dump") else model


@click.group()
def tenants() -> None:
    """Create, list and disable tenants."""


@tenants.command("create")
@click.argument("name")
@click.option("--id", "tenant_id", help="A slug (generated when omitted).")
@config_option
def tenants_create(name: str, tenant_id: str | None, config_path: str | None) -> None:
    async def op(s: AdminService) -> Any:
        return _dump(TenantOut.of(await s.create_tenant(name, tenant_id)))

    _run(config_path, op)


@tenants.command("list")
@config_option
def tenants_list(config_path: str | None) -> None:
    async def op(s: AdminService) -> Any:
        return [_dump(TenantOut.of(t)) for t in await s.list_tenants()]

    _run(config_path, op)


@tenants.command("disable")
@click.argument("tenant_id")
@config_option
def tenants_disable(tenant_id: str, config_path: str | None) -> None:
    async def op(s: AdminService) -> Any:
        return _dump(TenantOut.of(await s.update_tenant(tenant_id, disabled=True)))

    _run(config_path, op)


@tenants.command("add-user")
@click.argument("tenant_id")
@click.argument("external_id")
@config_option
def tenants_add_user(tenant_id: str, external_id: str, config_path: str | None) -> None:
    async def op(s: AdminService) -> Any:
        return _dump(UserOut.of(await s.create_user(tenant_id, external_id)))

    _run(config_path, op)


@click.group()
def keys() -> None:
    """Create, list and revoke a tenant's API keys."""


@keys.command("create")
@click.argument("tenant_id")
@click.argument("name")
@click.option("--models", help="Comma-separated aliases the key may use (default: all).")
@click.option("--user", "user_id", help="A user of the tenant the key acts for.")
@click.option("--expires-in-days", type=float, help="The key stops working after this long.")
@config_option
def keys_create(
    tenant_id: str, name: str, models: str | None, user_id: str | None, expires_in_days: float | None, config_path: str | None
) -> None:
    """Prints the new key's secret once: store it now."""
    allowed = [m.strip() for m in models.split(",") if m.strip()] if models else None
    expires_at = int(time.time() + expires_in_days * 86400) if expires_in_days is not None else None

    async def op(s: AdminService) -> Any:
        key, secret = await s.create_key(tenant_id, name, user_id=user_id, allowed_models=allowed, expires_at=expires_at)
        return {**_dump(KeyOut.of(key)), "key": secret}

    _run(config_path, op)


@keys.command("list")
@click.argument("tenant_id")
@config_option
def keys_list(tenant_id: str, config_path: str | None) -> None:
    async def op(s: AdminService) -> Any:
        return [_dump(KeyOut.of(k)) for k in await s.list_keys(tenant_id)]

    _run(config_path, op)


@keys.command("revoke")
@click.argument("tenant_id")
@click.argument("key_id")
@config_option
def keys_revoke(tenant_id: str, key_id: str, config_path: str | None) -> None:
    """Revoke at once; a running gateway stops accepting it within auth.key_cache_s."""

    async def op(s: AdminService) -> Any:
        return _dump(KeyOut.of(await s.revoke_key(tenant_id, key_id)))

    _run(config_path, op)


@click.group()
def admins() -> None:
    """Admin credentials for /admin."""


@admins.command("create")
@click.argument("name")
@config_option
def admins_create(name: str, config_path: str | None) -> None:
    """Prints the new admin credential once: store it now."""

    async def op(s: AdminService) -> Any:
        admin, secret = await s.create_admin(name)
        return {"id": admin.id, "name": admin.name, "prefix": admin.prefix, "key": secret}

    _run(config_path, op)
