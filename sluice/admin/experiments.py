"""``/admin/tenants/{tenant_id}/...experiments``: start an A/B test or a canary on a prompt's label,
list them, show one with its arms' quality (with 95% intervals), stop one, re-enable a rolled-back
one; and a prompt's quality per version. Starting moves the label to the candidate (the last
arm); stopping and rolling back move it back to the control, each through the registry's audited,
compare-and-set label move."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any, Literal

import msgspec
from fastapi import APIRouter, Query, Request
from msgspec.structs import replace
from pydantic import BaseModel, ConfigDict, Field

from sluice.admin.prompts import author
from sluice.admin.service import AdminService
from sluice.errors import ConflictError, InvalidRequestError, NotFoundError
from sluice.prompts import rules
from sluice.prompts.quality import summarize
from sluice.prompts.rollback import Labels, canary_arms
from sluice.store.protocols import Store
from sluice.store.records import Experiment, ExperimentArm, VersionQuality

_NAME = r"^[A-Za-z0-9._-]{1,64}$"


class ArmIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1, description="A version of the prompt.")
    weight: float = Field(
        1.0, ge=0, description="A/B: the arm's relative weight (a canary's are set by its ramp)."
    )


class ExperimentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str = Field("production", pattern=_NAME, description="The label requests ask for.")
    kind: Literal["ab", "canary"]
    arms: list[ArmIn] = Field(
        min_length=2,
        description="The control first (the version the label points at now); a canary: [control, candidate].",
    )
    unit: str = Field("user", pattern=r"^(user|key|attr:[A-Za-z0-9._-]{1,64})$")
    steps: list[float] = Field(
        [1.0, 5.0, 25.0, 100.0], description="A canary's ramp in percent, ending at 100."
    )
    min_requests: int = Field(100, ge=1, description="A canary step's least requests on the candidate.")
    min_seconds: int = Field(300, ge=0, description="A canary step's least duration.")
    rules: list[dict[str, Any]] = Field([], description="Rollback rules (docs/prompts.md).")
    shadow: bool = False
    shadow_scope: str | None = Field(None, pattern=r"^(tenant:[^/]+|key:[^/]+/[^/]+)$")


def experiment_routes(
    service: AdminService, store: Store, labels: Labels, clock: Callable[[], float] = time.time
) -> APIRouter:
    r = APIRouter()

    @r.post("/tenants/{tenant_id}/prompts/{name}/experiments", status_code=201)
    async def create(tenant_id: str, name: str, body: ExperimentIn, request: Request) -> dict[str, Any]:
        await service.tenant(tenant_id)
        e = _experiment(tenant_id, name, body, int(clock()))
        for i, arm in enumerate(e.arms):  # before anything is written: no experiment on a missing version
            if await store.get_prompt_version(tenant_id, name, arm.version) is None:
                raise NotFoundError(
                    f"The prompt `{name}` has no version {arm.version}.",
                    param=f"arms[{i}].version",
                    code="prompt_version_not_found",
                )
        try:
            await store.create_experiment(e)
        except ConflictError:
            raise InvalidRequestError(
                f"An experiment already runs on `{name}`'s label `{body.label}`.",
                param="label",
                code="experiment_running",
            ) from None
        if not await _move(
            labels, e, e.candidate, e.control, f"experiment {e.id} started", int(clock()), author(request)
        ):
            await store.update_experiment(replace(e, state="stopped", reason="label moved meanwhile"))
            raise InvalidRequestError(
                f"The label `{e.label}` of `{name}` does not point at the control, version {e.control}.",
                param="arms[0].version",
                code="label_not_at_control",
            )
        return msgspec.to_builtins(e)

    @r.get("/tenants/{tenant_id}/prompts/{name}/experiments")
    async def list_(tenant_id: str, name: str) -> dict[str, Any]:
        await service.tenant(tenant_id)
        return {"object": "list", "data": msgspec.to_builtins(await store.list_experiments(tenant_id, name))}

    @r.get("/tenants/{tenant_id}/experiments/{experiment_id}")
    async def get(tenant_id: str, experiment_id: str) -> dict[str, Any]:
        e = await _found(tenant_id, experiment_id)
        found = {q.version: q for q in await store.prompt_quality(tenant_id, e.name, experiment=e.id)}
        arms = [summarize(found.get(a.version, VersionQuality(a.version))) for a in e.arms]
        return {**msgspec.to_builtins(e), "quality": msgspec.to_builtins(arms)}

    @r.post("/tenants/{tenant_id}/experiments/{experiment_id}/stop")
    async def stop(tenant_id: str, experiment_id: str, request: Request) -> dict[str, Any]:
        e = await _found(tenant_id, experiment_id)
        stopped = replace(e, state="stopped", reason="stopped by an admin", updated_at=int(clock()))
        if not await store.update_experiment(stopped, expect_state="running"):
            raise _not_in(e, "running")
        await _move(
            labels, e, e.control, e.candidate, f"experiment {e.id} stopped", int(clock()), author(request)
        )
        return msgspec.to_builtins(stopped)

    @r.post("/tenants/{tenant_id}/experiments/{experiment_id}/reenable")
    async def reenable(tenant_id: str, experiment_id: str, request: Request) -> dict[str, Any]:
        """Run a rolled-back or stopped experiment again from its first step, on fresh requests."""
        e = await _found(tenant_id, experiment_id)
        if e.state not in ("rolled_back", "stopped"):
            raise _not_in(e, "rolled_back or stopped")
        now = int(clock())
        again = replace(e, state="running", reason="", step=0, step_started_at=now, updated_at=now)
        if e.kind == "canary":
            again = replace(again, arms=canary_arms(e, 0))
        try:
            if not await store.update_experiment(again, expect_state=e.state):
                raise _not_in(e, e.state)
        except ConflictError:
            raise InvalidRequestError(
                f"Another experiment runs on the label `{e.label}`.", param="label", code="experiment_running"
            ) from None
        if not await _move(
            labels, e, e.candidate, e.control, f"experiment {e.id} re-enabled", now, author(request)
        ):
            await store.update_experiment(replace(again, state="stopped", reason="label moved meanwhile"))
            raise InvalidRequestError(
                f"The label `{e.label}` no longer points at the control, version {e.control}.",
                param="label",
                code="label_not_at_control",
            )
        return msgspec.to_builtins(again)

    @r.get("/tenants/{tenant_id}/prompts/{name}/quality")
    async def quality(
        tenant_id: str,
        name: str,
        since: int | None = Query(None, ge=0, description="From this Unix second on."),
    ) -> dict[str, Any]:
        """Each version's quality over its logged requests, with 95% intervals."""
        await service.tenant(tenant_id)
        found = await store.prompt_quality(tenant_id, name, since=since)
        return {"object": "list", "data": msgspec.to_builtins([summarize(q) for q in found])}

    async def _found(tenant_id: str, experiment_id: str) -> Experiment:
        await service.tenant(tenant_id)
        e = await store.get_experiment(tenant_id, experiment_id)
        if e is None:
            raise NotFoundError(
                f"No experiment `{experiment_id}`.", param="experiment_id", code="experiment_not_found"
            )
        return e

    return r


def _experiment(tenant_id: str, name: str, body: ExperimentIn, now: int) -> Experiment:
    if len({a.version for a in body.arms}) != len(body.arms):
        raise InvalidRequestError("Each arm must be a different version.", param="arms")
    rules.validate(body.rules)
    arms = [ExperimentArm(a.version, a.weight) for a in body.arms]
    if body.kind == "canary":
        if len(arms) != 2:
            raise InvalidRequestError("A canary has two arms: [control, candidate].", param="arms")
        if (
            not body.steps
            or body.steps[-1] != 100.0
            or any(not 0 < s <= 100 or s <= p for p, s in zip([0.0, *body.steps], body.steps, strict=False))
        ):
            raise InvalidRequestError("steps must rise within (0, 100] and end at 100.", param="steps")
    elif sum(a.weight for a in arms) <= 0:
        raise InvalidRequestError("At least one arm needs a positive weight.", param="arms")
    if body.shadow and body.shadow_scope is None:
        raise InvalidRequestError("A shadow experiment names who pays: shadow_scope.", param="shadow_scope")
    e = Experiment(
        id="exp_" + secrets.token_hex(8),
        tenant_id=tenant_id,
        name=name,
        label=body.label,
        kind=body.kind,
        control=arms[0].version,
        arms=arms,
        unit=body.unit,
        salt=secrets.token_hex(16),
        steps=body.steps if body.kind == "canary" else [],
        min_requests=body.min_requests,
        min_seconds=body.min_seconds,
        rules=body.rules,
        shadow=body.shadow,
        shadow_scope=body.shadow_scope,
        step_started_at=now,
        created_at=now,
        updated_at=now,
    )
    return replace(e, arms=canary_arms(e, 0)) if e.kind == "canary" else e


async def _move(
    labels: Labels, e: Experiment, to: int, expect: int, reason: str, at: int, actor: str
) -> bool:
    moved = await labels.set_prompt_label(
        e.tenant_id, e.name, e.label, to, actor=actor, reason=reason, at=at, expect=expect
    )
    return moved is not None


def _not_in(e: Experiment, state: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"The experiment `{e.id}` is {e.state}, not {state}.", param="experiment_id", code="experiment_state"
    )
