"""The Provider protocol: the one narrow interface between the gateway and a model API.

A provider turns internal requests (``sluice.types``) into its wire format, sends them over
its own pooled upstream client and turns the answer back. It knows nothing of tenants, keys,
limits, caches or the store. Every failure leaves it as ``UpstreamError`` (with the upstream
status, for the retry policy), ``UpstreamTimeoutError``, or ``InvalidRequestError`` when the
upstream rejected the request itself (a 400 or 422: retrying or falling back cannot help).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from sluice.types import ChatRequest, ChatResponse, ChunkStream, EmbeddingRequest, EmbeddingResponse


@dataclass(frozen=True, slots=True)
class Target:
    """Where one deployment's calls go: resolved once at startup from the config."""

    model: str
    """The upstream model name (the client's alias is replaced by it)."""
    base_url: str = ""
    api_key: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    """Extra headers sent with every call (e.g. an API version or an org id)."""


class Provider(Protocol):
    """A model API. Implementations: ``OpenAIProvider``, ``AnthropicProvider``, ``SimProvider``."""

    async def chat(self, request: ChatRequest, target: Target) -> ChatResponse:
        """One non-streaming completion."""
        ...

    async def stream(self, request: ChatRequest, target: Target) -> ChunkStream:
        """Start a streaming completion. Returns once the upstream accepted the request (errors
        before that raise, so they can be retried); the iterator yields batches of chunks and
        releases the upstream connection when closed, which cancels the upstream request."""
        ...

    async def embed(self, request: EmbeddingRequest, target: Target) -> EmbeddingResponse:
        """Embeddings for one or more inputs."""
        ...

    async def close(self) -> None:
        """Release the pooled upstream client."""
        ...
