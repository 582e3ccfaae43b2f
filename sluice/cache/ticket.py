"""One request's way through the response cache, from the plan to the kept answer."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sluice.cache.embed import Vector
from sluice.cache.key import Keys
from sluice.cache.semantic import Match
from sluice.policies import CachePolicy


@dataclass(slots=True)
class CacheTicket:
    tenant_id: str
    policy: CachePolicy
    keys: Keys
    looks_up: bool
    """False for ``no-cache``: answer fresh (the answer is still kept)."""
    ttl_s: int
    threshold: float
    emergency_only: bool = False
    """A request the policy would not cache (not deterministic), kept because its tenant has an
    emergency threshold, and looked up only in emergency mode (repeats answered whatever their
    temperature)."""
    vector: asyncio.Future[Vector] | None = None
    shadow: Match | None = None
