"""The response cache for ``settings.cache``, built once: the stores the backend made, and the
semantic layer when an embedding model is available. A configured embedding model and the judge
are called through ``ModelCalls``, the pipeline's way for the gateway's own model calls, so their
tokens are priced, traced and recorded like a client's."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Protocol

from sluice.cache.embed import Batcher, EmbedBatch, Vector, unit
from sluice.cache.entries import ExactCache, SemanticIndex
from sluice.cache.semantic import SemanticLayer
from sluice.cache.service import ResponseCache
from sluice.cache.stats import CacheStats
from sluice.settings import Settings
from sluice.types import ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse, Message

JUDGE = "cache-judge"
EMBEDDING = "cache-embedding"
"""The scopes the judge's and the embedding model's calls are recorded under."""


class ModelCalls(Protocol):
    async def chat(self, purpose: str, request: ChatRequest, tenant_id: str | None) -> ChatResponse: ...

    async def embed(
        self, purpose: str, request: EmbeddingRequest, tenant_id: str | None
    ) -> EmbeddingResponse: ...


def build_cache(
    settings: Settings,
    exact: Callable[[], ExactCache],
    index: Callable[[int], SemanticIndex],
    calls: ModelCalls,
) -> ResponseCache | None:
    """None when caching is off. ``exact`` and ``index`` (given the embedding's dimensions) open
    the backend's stores."""
    c = settings.cache
    if not c.enabled:
        return None
    semantic, off = _semantic_layer(settings, index, calls)
    return ResponseCache(c, exact(), semantic, CacheStats(), semantic_off=off)


def _semantic_layer(
    settings: Settings, build_index: Callable[[int], SemanticIndex], calls: ModelCalls
) -> tuple[SemanticLayer | None, str]:
    s = settings.cache.semantic
    embed_batch: EmbedBatch
    if s.embedding == "local":
        from sluice.cache.local_embed import (
            DIMENSIONS,
            LocalEmbedder,
            LocalEmbedderUnavailableError,
            available,
        )

        try:
            path = available()
        except LocalEmbedderUnavailableError as e:
            return None, str(e)
        model: list[LocalEmbedder] = []
        loading = threading.Lock()

        def embed_in_thread(texts: list[str]) -> list[Vector]:
            with loading:  # the weights (~90 MiB) are loaded by the first embedding, not at startup
                if not model:
                    model.append(LocalEmbedder(path))
            return model[0].embed(texts).tolist()

        async def embed_local(texts: list[str]) -> list[Vector]:
            return await asyncio.to_thread(embed_in_thread, texts)

        embed_batch, dimensions = embed_local, DIMENSIONS
    else:
        alias = s.embedding
        if s.dimensions is None:
            return None, f"cache.semantic.dimensions is required with the embedding model {alias!r}"

        async def embed_remote(texts: list[str]) -> list[Vector]:
            # A batch mixes tenants' prompts: the gateway's own scope pays for it.
            request = EmbeddingRequest(model=alias, input=[*texts])
            response = await calls.embed(EMBEDDING, request, None)
            return [
                unit(d.embedding)
                for d in sorted(response.data, key=lambda d: d.index)
                if isinstance(d.embedding, list)
            ]

        embed_batch, dimensions = embed_remote, s.dimensions
    index = build_index(dimensions)

    async def judge(alias: str, cached: str, asked: str, tenant_id: str) -> bool:
        request = ChatRequest(
            model=alias,
            messages=[
                Message(role="system", content=_JUDGE_PROMPT),
                Message(role="user", content=f"Question A:\n{cached}\n\nQuestion B:\n{asked}"),
            ],
            temperature=0,
            max_tokens=3,
        )
        # The tenant whose lookup asked pays ("-": a static key's requests, which have no tenant).
        response = await calls.chat(JUDGE, request, None if tenant_id == "-" else tenant_id)
        return (response.choices[0].message.content or "").strip().upper().startswith("YES")

    batcher = Batcher(embed_batch, max_batch=s.batch_max, wait_s=s.batch_wait_ms / 1000)
    layer = SemanticLayer(
        index,
        batcher,
        candidates=s.candidates,
        lookup_timeout_s=s.lookup_timeout_ms / 1000,
        judge=judge,
        judge_timeout_s=s.judge_timeout_ms / 1000,
    )
    return layer, ""


_JUDGE_PROMPT = (
    "You decide whether a cached answer to question A may be served for question B. Reply YES only if "
    "both ask for exactly the same answer (same facts, numbers, names, direction, language and format); "
    "otherwise reply NO. Reply with YES or NO only."
)
