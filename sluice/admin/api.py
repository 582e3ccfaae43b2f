"""``/admin``: tenants, users, keys and their limits over HTTP, for admin credentials only (but
``/admin/usage``, which a tenant key may read for its own tenant). The app is mounted at
``/admin``, so its paths here are relative; OpenAPI docs at ``/admin/docs``."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Mapping, Sequence

import msgspec
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response

from sluice.admin.budgets import budgets_routes
from sluice.admin.limits import limits_routes
from sluice.admin.plans import plan_routes
from sluice.admin.schemas import (
    KeyCreate,
    KeyCreated,
    KeyOut,
    KeyUpdate,
    ListOf,
    TenantCreate,
    TenantOut,
    TenantUpdate,
    UserCreate,
    UserOut,
)
from sluice.admin.service import AdminService
from sluice.admin.spend import spend_routes
from sluice.admin.usage import requests_routes, usage_routes
from sluice.api.body import decode
from sluice.api.context import bearer, request_id
from sluice.api.render import error_response
from sluice.auth.principal import Principal
from sluice.errors import AuthenticationError, InvalidRequestError, PermissionDeniedError, SluiceError
from sluice.pipeline.validate import check_depth
from sluice.store.protocols import Store


class AdminAuth:
    """Admin credentials: the config's bootstrap keys and the store's; a valid tenant key is a 403.
    An admin caller's name (for audit trails such as a prompt's history) is put on the request as
    ``request.state.admin_name``."""

    def __init__(
        self,
        static_sha256: Mapping[str, str],
        store: Store,
        data_plane: Callable[[str], Awaitable[Principal | None]],
    ) -> None:
        """``static_sha256``: the config's admin keys, SHA-256 (hex) to name."""
        self._static = static_sha256
        self._store = store
        self._data_plane = data_plane

    async def __call__(self, request: Request) -> None:
        if await self.caller(request) is not None:
            raise PermissionDeniedError("This key is not an admin credential.", code="admin_required")

    async def caller(self, request: Request) -> Principal | None:
        """None for an admin credential, the Principal of a valid data-plane key; 401 otherwise."""
        token = bearer(request)
        if not token:
            raise AuthenticationError(
                "An admin credential is required: send 'Authorization: Bearer <admin key>'."
            )
        d = hashlib.sha256(token.encode()).hexdigest()
        if d in self._static:
            request.state.admin_name = self._static[d]
            return None
        admin = await self._store.admin_by_secret_sha256(d)
        if admin is not None and admin.revoked_at is None:
            request.state.admin_name = admin.name
            return None
        principal = await self._data_plane(token)
        if principal is not None:
            return principal
        raise AuthenticationError("Incorrect admin credential provided.")


_any_json = msgspec.json.Decoder()


async def plain_json(request: Request) -> None:
    """Admin bodies pass the data plane's edge too: FastAPI's parser (the stdlib's) takes what the
    store cannot keep, such as lone surrogates (``"\\ud800"``) and nesting its serializer refuses."""
    body = await request.body()
    if not body:
        return
    value = decode(body, _any_json)
    for name, v in value.items() if isinstance(value, dict) else ():
        check_depth(v, name)


def build_admin(service: AdminService, auth: AdminAuth, extra: Sequence[APIRouter] = ()) -> FastAPI:
    api = FastAPI(
        title="Sluice admin API",
        docs_url="/docs",
        openapi_url="/openapi.json",
        redoc_url=None,
        dependencies=[Depends(plain_json)],
        redirect_slashes=False,  # a redirect would point at the client's Host header
    )
    r = APIRouter(dependencies=[Depends(auth)])

    @r.post("/tenants", status_code=201)
    async def create_tenant(body: TenantCreate) -> TenantOut:
        return TenantOut.of(await service.create_tenant(body.name, body.id, body.metadata))

    @r.get("/tenants")
    async def list_tenants() -> ListOf:
        return ListOf(data=[TenantOut.of(t) for t in await service.list_tenants()])

    @r.get("/tenants/{tenant_id}")
    async def get_tenant(tenant_id: str) -> TenantOut:
        return TenantOut.of(await service.tenant(tenant_id))

    @r.patch("/tenants/{tenant_id}")
    async def update_tenant(tenant_id: str, body: TenantUpdate) -> TenantOut:
        return TenantOut.of(await service.update_tenant(tenant_id, **body.model_dump(exclude_none=True)))

    @r.post("/tenants/{tenant_id}/users", status_code=201)
    async def create_user(tenant_id: str, body: UserCreate) -> UserOut:
        return UserOut.of(await service.create_user(tenant_id, body.external_id, body.metadata))

    @r.get("/tenants/{tenant_id}/users")
    async def list_users(tenant_id: str) -> ListOf:
        return ListOf(data=[UserOut.of(u) for u in await service.list_users(tenant_id)])

    @r.post("/tenants/{tenant_id}/keys", status_code=201)
    async def create_key(tenant_id: str, body: KeyCreate) -> KeyCreated:
        key, secret = await service.create_key(
            tenant_id,
            body.name,
            user_id=body.user_id,
            allowed_models=body.allowed_models,
            metadata=body.metadata,
            expires_at=body.expires_at,
        )
        return KeyCreated(**KeyOut.of(key).model_dump(), key=secret)

    @r.get("/tenants/{tenant_id}/keys")
    async def list_keys(tenant_id: str) -> ListOf:
        return ListOf(data=[KeyOut.of(k) for k in await service.list_keys(tenant_id)])

    @r.get("/tenants/{tenant_id}/keys/{key_id}")
    async def get_key(tenant_id: str, key_id: str) -> KeyOut:
        return KeyOut.of(await service.key(tenant_id, key_id))

    @r.patch("/tenants/{tenant_id}/keys/{key_id}")
    async def update_key(tenant_id: str, key_id: str, body: KeyUpdate) -> KeyOut:
        return KeyOut.of(await service.update_key(tenant_id, key_id, **body.model_dump(exclude_none=True)))

    @r.delete("/tenants/{tenant_id}/keys/{key_id}")
    async def revoke_key(tenant_id: str, key_id: str) -> KeyOut:
        """Revoke: the key stops working at once; the record stays for the audit trail."""
        return KeyOut.of(await service.revoke_key(tenant_id, key_id))

    api.include_router(r)
    api.include_router(limits_routes(service), dependencies=[Depends(auth)])
    api.include_router(budgets_routes(service), dependencies=[Depends(auth)])
    api.include_router(spend_routes(service), dependencies=[Depends(auth)])
    api.include_router(plan_routes(service), dependencies=[Depends(auth)])
    api.include_router(requests_routes(service), dependencies=[Depends(auth)])
    api.include_router(usage_routes(service, auth.caller))  # checks its callers itself
    for router in extra:
        api.include_router(router, dependencies=[Depends(auth)])

    @api.exception_handler(SluiceError)
    async def sluice_error(request: Request, exc: SluiceError) -> Response:
        return error_response(exc, request_id(request))

    @api.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0]
        param = ".".join(str(p) for p in first["loc"][1:]) or None
        err = InvalidRequestError(f"Invalid value for '{param}': {first['msg']}.", param=param)
        return error_response(err, request_id(request))

    return api
