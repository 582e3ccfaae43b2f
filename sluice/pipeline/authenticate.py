"""Who is calling, by API key or (when ``auth.jwt`` is set) JWT. A missing, unknown or
invalid credential stops the request with a 401."""

from __future__ import annotations

from sluice.auth.jwt import JwtVerifier
from sluice.auth.principal import Principal
from sluice.auth.resolver import KeyResolver
from sluice.errors import AuthenticationError
from sluice.pipeline.context import RequestContext
from sluice.pipeline.stage import Stage
from sluice.store.records import BatchCaller


class AuthenticateStage(Stage):
    name = "authenticate"

    def __init__(self, keys: KeyResolver, jwt: JwtVerifier | None = None) -> None:
        self._keys = keys
        self._jwt = jwt

    async def before(self, ctx: RequestContext) -> None:
        if ctx.caller is not None:
            ctx.principal = await self.caller(ctx.caller)
            return
        ctx.principal = await self.principal(ctx.credential)

    async def caller(self, caller: BatchCaller) -> Principal:
        """A batch's creator as they are now (looked up again, not from the key cache)."""
        principal = await self._keys.principal_of(caller)
        if principal is None:
            raise AuthenticationError(
                "The API key that created this batch is no longer valid (revoked, expired, or its "
                "tenant disabled)."
            )
        return principal

    async def principal(self, credential: str | None) -> Principal:
        if not credential:
            raise AuthenticationError(
                "You didn't provide an API key. Send it as 'Authorization: Bearer <key>'.",
                code="missing_api_key",
            )
        if self._jwt is not None and credential.count(".") == 2:  # header.payload.signature
            return await self._jwt.principal(credential)
        principal = await self._keys.lookup(credential)
        if principal is None:
            # Never echo the key back, not even a prefix of an unknown one.
            raise AuthenticationError("Incorrect API key provided.")
        return principal
