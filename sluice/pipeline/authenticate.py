"""Stage 2: who is calling. A missing or unknown key stops the request with a 401."""

from __future__ import annotations

from sluice.auth.principal import Principal
from sluice.auth.resolver import KeyResolver
from sluice.errors import AuthenticationError
from sluice.pipeline.context import RequestContext


class AuthenticateStage:
    def __init__(self, keys: KeyResolver) -> None:
        self._keys = keys

    async def __call__(self, ctx: RequestContext) -> None:
        ctx.principal = await self.principal(ctx.credential)

    async def principal(self, credential: str | None) -> Principal:
        if not credential:
            raise AuthenticationError(
                "You didn't provide an API key. Send it as 'Authorization: Bearer <key>'.", code="missing_api_key"
            )
        principal = await self._keys.lookup(credential)
        if principal is None:
            # Never echo the key back, not even a prefix of an unknown one.
            raise AuthenticationError("Incorrect API key provided.")
        return principal
