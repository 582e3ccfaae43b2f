"""``sluice tenants ...``, ``keys ...``, ``limits ...``, ``budgets ...``, ``spend ...``, ``plans ...``, ``prompts ...``, ``admins create``: the
admin operations against the configured store directly (no running gateway needed). Output is JSON."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click
import msgspec

from sluice.admin.prompts import DiffOut, EventOut, LabelOut, PromptAdmin, VersionIn, VersionOut
from sluice.admin.schemas import BudgetsOut, KeyOut, LimitsOut, PlanOfOut, SpendOut, TenantOut, UserOut
from sluice.admin.service import AdminService
from sluice.auth.invalidation import AuthCaches
from sluice.backend import build_backend
from sluice.errors import SluiceError
from sluice.policies import MAX_LIMIT, Budget, Limits, Plan, SpendPolicy
from sluice.settings import ConfigError, Settings, load_settings

T = TypeVar("T")
config_option = click.option(
    "--config",
    "-c",
    "config_path",
    type=click.Path(dir_okay=False),
    help="The gateway's YAML config (for its store).",
)


def _settings(config_path: str | None) -> Settings:
    try:
        return load_settings(config_path)
    except ConfigError as e:
        raise click.ClickException(str(e)) from None


def _run(config_path: str | None, op: Callable[[AdminService], Awaitable[Any]]) -> None:
    settings = _settings(config_path)

    async def main() -> Any:
        backend = build_backend(settings.state)
        invalidation = backend.invalidation(AuthCaches())  # tells running replicas, when distributed
        try:
            await backend.store.migrate()
            service = AdminService(
                backend.store,
                period_clock=settings.budgets.clock(),
                on_key_change=invalidation.key_changed,
                on_tenant_change=invalidation.tenant_changed,
                on_plan_change=invalidation.plan_changed,
            )
            return await op(service)
        finally:
            await backend.close()

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
    tenant_id: str,
    name: str,
    models: str | None,
    user_id: str | None,
    expires_in_days: float | None,
    config_path: str | None,
) -> None:
    """Prints the new key's secret once: store it now."""
    allowed = [m.strip() for m in models.split(",") if m.strip()] if models else None
    expires_at = int(time.time() + expires_in_days * 86400) if expires_in_days is not None else None

    async def op(s: AdminService) -> Any:
        key, secret = await s.create_key(
            tenant_id, name, user_id=user_id, allowed_models=allowed, expires_at=expires_at
        )
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
    """Revoke at once: running replicas refuse it at once when distributed, else within auth.key_cache_s."""

    async def op(s: AdminService) -> Any:
        return _dump(KeyOut.of(await s.revoke_key(tenant_id, key_id)))

    _run(config_path, op)


@click.group()
def limits() -> None:
    """Limits of a tenant, or of one of its users (--user) or keys (--key).

    A running gateway applies a change within auth.key_cache_s (at once through /admin)."""


user_option = click.option("--user", "user_id", help="A user of the tenant: that user's limits.")
key_option = click.option("--key", "key_id", help="A key of the tenant: that key's limits.")
count = click.IntRange(1, MAX_LIMIT)


@limits.command("set")
@click.argument("tenant_id")
@user_option
@key_option
@click.option("--rpm", type=count, help="Requests per minute.")
@click.option("--tpm", type=count, help="Tokens per minute, input and output.")
@click.option("--max-concurrent", type=count, help="Requests in flight at once.")
@click.option("--max-tokens", type=count, help="Cap on a request's max_tokens.")
@click.option("--max-input-tokens", type=count, help="Cap on a request's input tokens.")
@config_option
def limits_set(
    tenant_id: str, user_id: str | None, key_id: str | None, config_path: str | None, **values: int | None
) -> None:
    """Replace the limits: an option left out means no limit of that kind."""

    async def op(s: AdminService) -> Any:
        scoped = await s.set_limits(tenant_id, Limits(**values), user_id=user_id, key_id=key_id)
        return _dump(LimitsOut.of(tenant_id, scoped))

    _run(config_path, op)


@limits.command("get")
@click.argument("tenant_id")
@user_option
@key_option
@config_option
def limits_get(tenant_id: str, user_id: str | None, key_id: str | None, config_path: str | None) -> None:
    """Print the limits."""

    async def op(s: AdminService) -> Any:
        return _dump(LimitsOut.of(tenant_id, await s.limits(tenant_id, user_id=user_id, key_id=key_id)))

    _run(config_path, op)


@limits.command("clear")
@click.argument("tenant_id")
@user_option
@key_option
@config_option
def limits_clear(tenant_id: str, user_id: str | None, key_id: str | None, config_path: str | None) -> None:
    """Remove the limits and print them. A tenant then gets the config's limits.defaults."""

    async def op(s: AdminService) -> Any:
        return _dump(LimitsOut.of(tenant_id, await s.clear_limits(tenant_id, user_id=user_id, key_id=key_id)))

    _run(config_path, op)


@click.group()
def budgets() -> None:
    """Token and USD budgets of a tenant, or of one of its users (--user) or keys (--key).

    A running gateway applies a change within auth.key_cache_s (at once through /admin)."""


@budgets.command("set")
@click.argument("tenant_id")
@click.argument("period", type=click.Choice(["day", "month"]))
@user_option
@key_option
@click.option("--max-tokens", type=count, help="Input and output tokens per period.")
@click.option("--max-cost-micros", type=count, help="Spend per period in micro-dollars (1 USD = 1000000).")
@click.option("--downgrade-to", help="At the limit, serve this cheaper model alias instead of refusing.")
@config_option
def budgets_set(
    tenant_id: str,
    period: str,
    user_id: str | None,
    key_id: str | None,
    downgrade_to: str | None,
    config_path: str | None,
    max_tokens: int | None,
    max_cost_micros: int | None,
) -> None:
    """Replace the period's budget: a cap left out means none; without --downgrade-to the limit is a 429."""
    on_exceed = "reject" if downgrade_to is None else "downgrade"
    values = {"period": period, "max_tokens": max_tokens, "max_cost_micros": max_cost_micros}
    try:
        budget = msgspec.convert({**values, "on_exceed": on_exceed, "downgrade_to": downgrade_to}, Budget)
    except msgspec.ValidationError as e:
        raise click.UsageError(str(e)) from None

    async def op(s: AdminService) -> Any:
        return _dump(
            BudgetsOut.of(tenant_id, await s.set_budget(tenant_id, budget, user_id=user_id, key_id=key_id))
        )

    _run(config_path, op)


@budgets.command("get")
@click.argument("tenant_id")
@user_option
@key_option
@config_option
def budgets_get(tenant_id: str, user_id: str | None, key_id: str | None, config_path: str | None) -> None:
    """Print the budgets."""

    async def op(s: AdminService) -> Any:
        return _dump(BudgetsOut.of(tenant_id, await s.budgets(tenant_id, user_id=user_id, key_id=key_id)))

    _run(config_path, op)


@budgets.command("clear")
@click.argument("tenant_id")
@user_option
@key_option
@config_option
def budgets_clear(tenant_id: str, user_id: str | None, key_id: str | None, config_path: str | None) -> None:
    """Remove every budget of the scope and print them."""

    async def op(s: AdminService) -> Any:
        return _dump(
            BudgetsOut.of(tenant_id, await s.clear_budgets(tenant_id, user_id=user_id, key_id=key_id))
        )

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


@click.group()
def prompts() -> None:
    """A tenant's prompt registry: versions, labels and their history."""


def _run_prompts(config_path: str | None, op: Callable[[PromptAdmin], Awaitable[Any]]) -> None:
    aliases = [a for a, m in _settings(config_path).models.items() if m.kind == "chat"]
    _run(config_path, lambda s: op(PromptAdmin(s, aliases)))


@prompts.command("create")
@click.argument("tenant_id")
@click.argument("name")
@click.argument("version_file", type=click.File("rb"))
@click.option("--author", default="cli", show_default=True, help="Who made it, for the record.")
@config_option
def prompts_create(
    tenant_id: str, name: str, version_file: Any, author: str, config_path: str | None
) -> None:
    """A new version from VERSION_FILE ('-': stdin): the admin API's JSON body (messages,
    variables, model, params, note)."""
    try:
        body = VersionIn.model_validate_json(version_file.read())
    except ValueError as e:
        raise click.ClickException(f"{version_file.name}: {e}") from None

    async def op(p: PromptAdmin) -> Any:
        return _dump(VersionOut.of(await p.create_version(tenant_id, name, body, author)))

    _run_prompts(config_path, op)


@prompts.command("list")
@click.argument("tenant_id")
@click.argument("name", required=False)
@config_option
def prompts_list(tenant_id: str, name: str | None, config_path: str | None) -> None:
    """The tenant's prompt names, or, given NAME, that prompt's versions."""

    async def op(p: PromptAdmin) -> Any:
        if name is None:
            return await p.prompts(tenant_id)
        return [_dump(VersionOut.of(v)) for v in await p.versions(tenant_id, name)]

    _run_prompts(config_path, op)


@prompts.command("show")
@click.argument("tenant_id")
@click.argument("name")
@click.argument("version", type=click.IntRange(min=1))
@config_option
def prompts_show(tenant_id: str, name: str, version: int, config_path: str | None) -> None:
    async def op(p: PromptAdmin) -> Any:
        return _dump(VersionOut.of(await p.version(tenant_id, name, version)))

    _run_prompts(config_path, op)


@prompts.command("diff")
@click.argument("tenant_id")
@click.argument("name")
@click.argument("from_version", type=click.IntRange(min=1))
@click.argument("to_version", type=click.IntRange(min=1))
@config_option
def prompts_diff(
    tenant_id: str, name: str, from_version: int, to_version: int, config_path: str | None
) -> None:
    """What changed from one version to another, as a unified diff (in the JSON's ``diff``)."""

    async def op(p: PromptAdmin) -> Any:
        text = await p.diff(tenant_id, name, from_version, to_version)
        return _dump(DiffOut(name=name, from_version=from_version, to_version=to_version, diff=text))

    _run_prompts(config_path, op)


@prompts.command("label")
@click.argument("tenant_id")
@click.argument("name")
@click.argument("label")
@click.argument("version", type=click.IntRange(min=1))
@click.option("--reason", default="", help="Why, for the history.")
@click.option("--author", default="cli", show_default=True, help="Who moved it, for the history.")
@config_option
def prompts_label(
    tenant_id: str, name: str, label: str, version: int, reason: str, author: str, config_path: str | None
) -> None:
    """Point LABEL at VERSION (creating the label)."""

    async def op(p: PromptAdmin) -> Any:
        return _dump(LabelOut.of(await p.set_label(tenant_id, name, label, version, author, reason)))

    _run_prompts(config_path, op)


@prompts.command("unlabel")
@click.argument("tenant_id")
@click.argument("name")
@click.argument("label")
@click.option("--reason", default="", help="Why, for the history.")
@click.option("--author", default="cli", show_default=True, help="Who deleted it, for the history.")
@config_option
def prompts_unlabel(
    tenant_id: str, name: str, label: str, reason: str, author: str, config_path: str | None
) -> None:
    """Delete LABEL; prints the label as it was."""

    async def op(p: PromptAdmin) -> Any:
        return _dump(LabelOut.of(await p.delete_label(tenant_id, name, label, author, reason)))

    _run_prompts(config_path, op)


@prompts.command("history")
@click.argument("tenant_id")
@click.argument("name")
@config_option
def prompts_history(tenant_id: str, name: str, config_path: str | None) -> None:
    """Every label change of the prompt, oldest first."""

    async def op(p: PromptAdmin) -> Any:
        return [_dump(EventOut.of(e)) for e in await p.history(tenant_id, name)]

    _run_prompts(config_path, op)


@click.group()
def spend() -> None:
    """Spend policies of a tenant, or of one of its users (--user), and a tenant's emergency mode.

    A running gateway applies a change at once when distributed (Redis), else within auth.key_cache_s."""


@spend.command("set")
@click.argument("tenant_id")
@user_option
@click.option(
    "--downgrade-at-micros", type=count, help="Spend today (micro-dollars) from which a user is downgraded."
)
@click.option(
    "--downgrade-to", help="The cheaper model alias a user past --downgrade-at-micros is served from."
)
@click.option(
    "--emergency-at-micros", type=count, help="Tenants: spend today from which emergency mode starts."
)
@click.option(
    "--emergency-to", help="Tenants: the cheap alias served in emergency mode (--downgrade-to when unset)."
)
@click.option("--emergency-max-input-tokens", type=count, help="Tenants: the input cap in emergency mode.")
@config_option
def spend_set(
    tenant_id: str,
    user_id: str | None,
    config_path: str | None,
    **fields: Any,
) -> None:
    """Replace the scope's spend policy: a field left out is unset (a user's then follows its tenant's)."""
    try:
        policy = msgspec.convert(fields, SpendPolicy)
    except msgspec.ValidationError as e:
        raise click.UsageError(str(e)) from None

    async def op(s: AdminService) -> Any:
        return _dump(SpendOut.of(tenant_id, await s.set_spend_policy(tenant_id, policy, user_id=user_id)))

    _run(config_path, op)


@spend.command("get")
@click.argument("tenant_id")
@user_option
@config_option
def spend_get(tenant_id: str, user_id: str | None, config_path: str | None) -> None:
    """Print the spend policy."""

    async def op(s: AdminService) -> Any:
        return _dump(SpendOut.of(tenant_id, await s.spend_policy(tenant_id, user_id=user_id)))

    _run(config_path, op)


@spend.command("clear")
@click.argument("tenant_id")
@user_option
@config_option
def spend_clear(tenant_id: str, user_id: str | None, config_path: str | None) -> None:
    """Remove the scope's spend policy and print it."""

    async def op(s: AdminService) -> Any:
        return _dump(SpendOut.of(tenant_id, await s.clear_spend_policy(tenant_id, user_id=user_id)))

    _run(config_path, op)


@spend.command("end-emergency")
@click.argument("tenant_id")
@config_option
def spend_end_emergency(tenant_id: str, config_path: str | None) -> None:
    """End the tenant's emergency mode for the rest of the UTC day."""

    async def op(s: AdminService) -> Any:
        return {"tenant_id": tenant_id, "ended_for": await s.end_emergency(tenant_id)}

    _run(config_path, op)


@click.group()
def plans() -> None:
    """Plans (named tiers of default limits, budgets, models and spend policy), and who is on them.

    A running gateway applies a change at once when distributed (Redis), else within auth.key_cache_s."""


@plans.command("set")
@click.argument("name")
@click.argument("plan_json")
@config_option
def plans_set(name: str, plan_json: str, config_path: str | None) -> None:
    """Create or replace plan NAME from PLAN_JSON, e.g. '{"limits": {"rpm": 60}, "models": ["gpt-4o-mini"]}'."""
    try:
        plan = msgspec.json.decode(plan_json, type=Plan)
    except (msgspec.ValidationError, msgspec.DecodeError) as e:
        raise click.UsageError(str(e)) from None

    async def op(s: AdminService) -> Any:
        return {"name": name, "plan": msgspec.to_builtins(await s.put_plan(name, plan))}

    _run(config_path, op)


@plans.command("list")
@config_option
def plans_list(config_path: str | None) -> None:
    async def op(s: AdminService) -> Any:
        return [{"name": n, "plan": msgspec.to_builtins(p)} for n, p in (await s.plans()).items()]

    _run(config_path, op)


@plans.command("delete")
@click.argument("name")
@config_option
def plans_delete(name: str, config_path: str | None) -> None:
    """Delete a plan no tenant or user is on."""

    async def op(s: AdminService) -> Any:
        return {"name": name, "plan": msgspec.to_builtins(await s.delete_plan(name))}

    _run(config_path, op)


@plans.command("assign")
@click.argument("tenant_id")
@click.argument("name", required=False)
@user_option
@config_option
def plans_assign(tenant_id: str, name: str | None, user_id: str | None, config_path: str | None) -> None:
    """Put the tenant (or --user) on plan NAME; without NAME, on no plan."""

    async def op(s: AdminService) -> Any:
        return _dump(PlanOfOut.of(tenant_id, await s.set_plan_of(tenant_id, name, user_id=user_id)))

    _run(config_path, op)
