"""``/admin/tenants/{tenant_id}/prompts``: a tenant's prompt registry. Versions (created, listed,
read, compared), labels (moved, deleted, listed) and their audit history. ``PromptAdmin`` holds
the operations, shared by these routes and ``sluice prompts`` (admin/cli.py).

A version's model alias is checked against the config's chat aliases when it is created; an
alias removed from the config later makes requests naming the prompt fail with the data plane's
404, as a request naming that alias would."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Collection
from typing import Annotated, Any, Literal

import msgspec
from fastapi import APIRouter, Path, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field

from sluice.admin.service import AdminService
from sluice.api.body import validation_error
from sluice.errors import InvalidRequestError, NotFoundError
from sluice.prompts.diff import diff
from sluice.prompts.params import PARAMS, check_params
from sluice.prompts.render import CompiledPrompt
from sluice.store.records import PromptLabel, PromptLabelEvent, PromptMessage, PromptVersion

NAME = r"^[A-Za-z0-9._-]{1,64}$"
"""A prompt's name, and a label's."""
_NAME = re.compile(NAME)
_VARIABLE = r"^[A-Za-z_][A-Za-z0-9_]*$"
_MAX_CONTENT = 200_000
"""Characters in one message's template."""


class PromptAdmin:
    """The registry's operations: tenant checked (404), input checked (400), the time taken here."""

    def __init__(
        self, service: AdminService, chat_aliases: Collection[str], clock: Callable[[], float] = time.time
    ) -> None:
        self._service = service
        self._store = service.store
        self._aliases = frozenset(chat_aliases)
        self._clock = clock

    async def create_version(self, tenant_id: str, name: str, body: VersionIn, author: str) -> PromptVersion:
        _check_name(name, "name")
        await self._service.tenant(tenant_id)
        if body.model is not None and body.model not in self._aliases:
            raise InvalidRequestError(
                f"`{body.model}` is not a chat model alias of this gateway's config.",
                param="model",
                code="model_not_found",
            )
        try:
            params = check_params(body.params)
        except msgspec.ValidationError as e:
            raise validation_error(str(e), prefix="params") from None
        v = PromptVersion(
            tenant_id,
            name,
            0,
            [PromptMessage(m.role, m.content) for m in body.messages],
            body.variables,
            int(self._clock()),
            author,
            body.model,
            params,
            body.note,
        )
        CompiledPrompt(v)  # the templates and variables checked: 400 naming where
        return await self._store.create_prompt_version(v)

    async def versions(self, tenant_id: str, name: str) -> list[PromptVersion]:
        await self._service.tenant(tenant_id)
        found = await self._store.list_prompt_versions(tenant_id, name)
        if not found:
            raise _no_prompt(name)
        return found

    async def version(self, tenant_id: str, name: str, version: int) -> PromptVersion:
        await self._service.tenant(tenant_id)
        found = await self._store.get_prompt_version(tenant_id, name, version)
        if found is None:
            raise NotFoundError(
                f"The prompt `{name}` has no version {version}.",
                param="version",
                code="prompt_version_not_found",
            )
        return found

    async def diff(self, tenant_id: str, name: str, a: int, b: int) -> str:
        return diff(await self.version(tenant_id, name, a), await self.version(tenant_id, name, b))

    async def prompts(self, tenant_id: str) -> list[str]:
        await self._service.tenant(tenant_id)
        return await self._store.list_prompts(tenant_id)

    async def set_label(
        self, tenant_id: str, name: str, label: str, version: int, actor: str, reason: str
    ) -> PromptLabel:
        _check_name(label, "label")
        await self.version(tenant_id, name, version)
        moved = await self._store.set_prompt_label(
            tenant_id, name, label, version, actor, reason, int(self._clock())
        )
        assert moved is not None  # no compare-and-set asked for
        return moved

    async def delete_label(
        self, tenant_id: str, name: str, label: str, actor: str, reason: str
    ) -> PromptLabel:
        await self._service.tenant(tenant_id)
        gone = await self._store.set_prompt_label(
            tenant_id, name, label, None, actor, reason, int(self._clock())
        )
        if gone is None:
            raise NotFoundError(
                f"The prompt `{name}` has no label `{label}`.", param="label", code="prompt_label_not_found"
            )
        return gone

    async def labels(self, tenant_id: str, name: str) -> list[PromptLabel]:
        await self.versions(tenant_id, name)
        return await self._store.get_prompt_labels(tenant_id, name)

    async def history(self, tenant_id: str, name: str) -> list[PromptLabelEvent]:
        await self.versions(tenant_id, name)
        return await self._store.prompt_history(tenant_id, name)


def _check_name(value: str, param: str) -> None:
    """The routes' path patterns check this too; the CLI has only this."""
    if _NAME.fullmatch(value) is None:
        raise InvalidRequestError(f"Invalid {param}: it must match {NAME}.", param=param)


def _no_prompt(name: str) -> NotFoundError:
    return NotFoundError(f"No prompt `{name}`.", param="name", code="prompt_not_found")


# --- bodies ------------------------------------------------------------------------------------


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class MessageIn(_In):
    role: Literal["system", "developer", "user", "assistant"]
    content: str = Field(
        max_length=_MAX_CONTENT,
        description="The template: literal text and {variable} slots; write {{ and }} for literal braces.",
    )


class VersionIn(_In):
    messages: list[MessageIn] = Field(min_length=1, max_length=100)
    variables: list[Annotated[str, Field(pattern=_VARIABLE)]] = Field(
        default_factory=list, max_length=100, description="Exactly the slots the messages use."
    )
    model: str | None = Field(
        None, min_length=1, description="A chat model alias, used when a request names none."
    )
    params: dict[str, Any] = Field(
        default_factory=dict,
        description=f"Applied where a request does not set them: {', '.join(PARAMS)}; typed as in a chat request.",
    )
    note: str = Field("", max_length=2000)


class LabelIn(_In):
    version: int = Field(ge=1, le=2**53)
    reason: str = Field("", max_length=2000, description="Why, for the history.")


class MessageOut(BaseModel):
    role: str
    content: str


class VersionOut(BaseModel):
    tenant_id: str
    name: str
    version: int
    messages: list[MessageOut]
    variables: list[str]
    model: str | None
    params: dict[str, Any]
    note: str
    author: str
    created_at: int

    @classmethod
    def of(cls, v: PromptVersion) -> VersionOut:
        fields = msgspec.structs.asdict(v)
        fields["messages"] = [MessageOut(role=m.role, content=m.content) for m in v.messages]
        return cls(**fields)


class LabelOut(BaseModel):
    tenant_id: str
    name: str
    label: str
    version: int
    updated_at: int

    @classmethod
    def of(cls, label: PromptLabel) -> LabelOut:
        return cls(**msgspec.structs.asdict(label))


class EventOut(BaseModel):
    label: str
    from_version: int | None = Field(description="None: the label was created.")
    to_version: int | None = Field(description="None: the label was deleted.")
    actor: str
    reason: str
    at: int

    @classmethod
    def of(cls, e: PromptLabelEvent) -> EventOut:
        return cls(**{k: getattr(e, k) for k in cls.model_fields})


class DiffOut(BaseModel):
    name: str
    from_version: int
    to_version: int
    diff: str = Field(description="A unified diff; empty when the versions are alike.")


class Listed(BaseModel):
    object: Literal["list"] = "list"
    data: list[Any]


# --- routes ------------------------------------------------------------------------------------

Name = Annotated[str, Path(pattern=NAME, description="[A-Za-z0-9._-]{1,64}")]
Version = Annotated[int, Path(ge=1, le=2**53)]


def author(request: Request) -> str:
    """The admin credential's name, which ``AdminAuth`` put on the request."""
    return str(request.state.admin_name)


def prompt_routes(service: AdminService, chat_aliases: Collection[str]) -> APIRouter:
    prompts = PromptAdmin(service, chat_aliases)
    r = APIRouter()
    base = "/tenants/{tenant_id}/prompts/{name}"

    @r.get("/tenants/{tenant_id}/prompts")
    async def list_prompts(tenant_id: str) -> Listed:
        """The names of the tenant's prompts."""
        return Listed(data=await prompts.prompts(tenant_id))

    @r.post(base + "/versions", status_code=status.HTTP_201_CREATED)
    async def create_version(tenant_id: str, name: Name, body: VersionIn, request: Request) -> VersionOut:
        """A new, immutable version: the next number of this prompt (1 for a new prompt)."""
        return VersionOut.of(await prompts.create_version(tenant_id, name, body, author(request)))

    @r.get(base + "/versions")
    async def list_versions(tenant_id: str, name: Name) -> Listed:
        return Listed(data=[VersionOut.of(v) for v in await prompts.versions(tenant_id, name)])

    @r.get(base + "/versions/{version}")
    async def get_version(tenant_id: str, name: Name, version: Version) -> VersionOut:
        return VersionOut.of(await prompts.version(tenant_id, name, version))

    @r.get(base + "/diff")
    async def diff_versions(
        tenant_id: str,
        name: Name,
        a: Annotated[int, Query(alias="from", ge=1, le=2**53)],
        b: Annotated[int, Query(alias="to", ge=1, le=2**53)],
    ) -> DiffOut:
        """What changed from one version to another, as a unified diff."""
        return DiffOut(
            name=name, from_version=a, to_version=b, diff=await prompts.diff(tenant_id, name, a, b)
        )

    @r.put(base + "/labels/{label}")
    async def set_label(tenant_id: str, name: Name, label: Name, body: LabelIn, request: Request) -> LabelOut:
        """Point the label at a version (creating it), recorded in the history."""
        moved = await prompts.set_label(tenant_id, name, label, body.version, author(request), body.reason)
        return LabelOut.of(moved)

    @r.delete(base + "/labels/{label}")
    async def delete_label(
        tenant_id: str,
        name: Name,
        label: Name,
        request: Request,
        reason: Annotated[str, Query(max_length=2000)] = "",
    ) -> LabelOut:
        """Delete the label, recorded in the history; the answer is the label as it was."""
        return LabelOut.of(await prompts.delete_label(tenant_id, name, label, author(request), reason))

    @r.get(base + "/labels")
    async def list_labels(tenant_id: str, name: Name) -> Listed:
        return Listed(data=[LabelOut.of(x) for x in await prompts.labels(tenant_id, name)])

    @r.get(base + "/history")
    async def history(tenant_id: str, name: Name) -> Listed:
        """Every label change of the prompt, oldest first."""
        return Listed(data=[EventOut.of(e) for e in await prompts.history(tenant_id, name)])

    return r
