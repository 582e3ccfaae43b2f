"""What the response cache stores and the two stores' protocols: the exact cache (one answer per
exact request key) and the semantic index (answers found by the similarity of their prompt).

Every entry belongs to one tenant (``-`` for the config's static keys) and one model alias, and
every lookup names both: no store ever returns another tenant's entry. ``partition`` is the hash
of everything a semantic match must share exactly (the model, the context before the last user
turn, the tools and the parameters that change the answer, the prompt version); only entries of
the same partition are compared by similarity.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import msgspec


class Entry(msgspec.Struct, frozen=True, kw_only=True):
    tenant_id: str
    model: str
    """The model alias the client named."""
    exact_key: str
    """Hex SHA-256 of the tenant, the alias, the prompt version and the normalised request."""
    partition: str
    """Hex SHA-256 of what a semantic hit must share exactly (see the module docstring)."""
    key_prefix: str
    """The visible prefix of the API key that made the entry (or the static key's name), for purges."""
    prompt: str
    """The last user turn as text: what the semantic layer embedded and verifies against."""
    response: bytes
    """The answer: an OpenAI chat completion as JSON, replayed as JSON or as SSE chunks."""
    prompt_tokens: int
    completion_tokens: int
    cost_micros: int
    """What the answer cost when it was made: what each hit saves."""
    created_at: float
    expires_at: float
    """Unix seconds; an expired entry is never returned."""


class ExactCache(Protocol):
    """Entries by exact key: in process backed by SQLite (embedded), or on Redis (distributed).
    Size-capped per tenant with least-recently-used eviction; every method raises
    ``StoreUnavailableError`` when its backend cannot be reached in time."""

    async def start(self) -> None:
        """Once, after the store's migrations ran: connect, and load what must be in memory."""
        ...

    async def get(self, tenant_id: str, exact_key: str, now: float) -> Entry | None:
        """The live entry, marked as just used; None when missing or expired."""
        ...

    async def put(self, entry: Entry, max_entries: int) -> None:
        """Store (replacing one with the same tenant and key); then evict the tenant's least
        recently used entries beyond ``max_entries``."""
        ...

    async def purge(self, tenant_id: str, model: str | None = None, key_prefix: str | None = None) -> int:
        """Delete the tenant's entries (only those of ``model`` / ``key_prefix`` when given); how many
        live ones (expired ones go too, uncounted)."""
        ...

    async def close(self) -> None: ...


class SemanticIndex(Protocol):
    """Entries with their prompt's embedding, searched by cosine similarity within one tenant,
    model and partition: in process with SQLite (embedded), or PostgreSQL with pgvector
    (distributed). Raises ``StoreUnavailableError`` when its backend cannot be reached."""

    async def start(self) -> None:
        """Once, after the store's migrations ran: connect; in process, rebuild the index."""
        ...

    async def search(
        self, tenant_id: str, model: str, partition: str, vector: Sequence[float], now: float, k: int
    ) -> list[tuple[Entry, float]]:
        """Up to ``k`` live entries of that tenant, model and partition, most similar first, each
        with its cosine similarity to ``vector`` (unit length)."""
        ...

    async def add(self, entry: Entry, vector: Sequence[float], max_entries: int) -> None:
        """Store the entry with its embedding (unit length), replacing one with the same tenant and
        exact key; evict the tenant's oldest beyond ``max_entries``."""
        ...

    async def purge(self, tenant_id: str, model: str | None = None, key_prefix: str | None = None) -> int: ...

    async def close(self) -> None: ...
