"""What embeds vector store chunks and search queries (``knowledge.embedding``): the bundled
local model in a worker thread, or a model alias of the config called through the gateway's own
pipeline (purpose ``knowledge-embedding``) and charged to the owner's tenant; and the token
count the chunker uses for that model."""

from __future__ import annotations

import asyncio
import logging
import threading

from sluice.knowledge import rerank
from sluice.knowledge.chunk import Count
from sluice.knowledge.vectors import Embed
from sluice.limits.tokenizer import Tokenizers
from sluice.limits.tokens import text_tokens
from sluice.pipeline.runner import OwnCalls
from sluice.settings import Settings
from sluice.types import ChatRequest, ChatResponse, EmbeddingRequest

log = logging.getLogger("sluice.knowledge")

PURPOSE = "knowledge-embedding"
RERANK = "knowledge-rerank"


def _tenant(owner: str) -> str | None:
    return owner.removeprefix("tenant:") if owner.startswith("tenant:") else None


def build_reranker(settings: Settings, own: OwnCalls) -> rerank.Rerank | None:
    """The rerank step (``knowledge.rerank``): the alias rates the best fused results, through
    the gateway's own pipeline (purpose ``knowledge-rerank``), charged to the searching tenant."""
    k = settings.knowledge
    if k.rerank is None:
        return None

    async def ask(request: ChatRequest, owner: str) -> ChatResponse:
        return await own.chat(RERANK, request, _tenant(owner))

    return rerank.build(ask, k.rerank, k.rerank_timeout_ms / 1000)


def build_embedder(settings: Settings, own: OwnCalls) -> tuple[Embed | None, Count, dict[str, str]]:
    """The embedder (None: full text only), the chunker's count, and what /health/ready says."""
    k = settings.knowledge
    if k.embedding == "none":
        return None, text_tokens, {"search": "full_text", "embedding": "none"}
    if k.embedding == "local":
        from sluice.cache.local_embed import LocalEmbedder, LocalEmbedderUnavailableError, available

        try:
            path = available()
        except LocalEmbedderUnavailableError as e:
            log.warning("vector store search is full text only: the local embedder is missing (%s)", e)
            return None, text_tokens, {"search": "full_text", "embedding": "local", "detail": str(e)}
        model: list[LocalEmbedder] = []
        loading = threading.Lock()

        def embed_in_thread(texts: list[str]) -> list[list[float]]:
            with loading:  # the weights are loaded by the first embedding, not at startup
                if not model:
                    model.append(LocalEmbedder(path))
            rows: list[list[float]] = model[0].embed(texts).tolist()
            return rows

        async def embed_local(texts: list[str], owner: str) -> list[list[float]]:
            return await asyncio.to_thread(embed_in_thread, texts)

        return embed_local, text_tokens, {"search": "hybrid", "embedding": "local"}
    alias = k.embedding

    async def embed_remote(texts: list[str], owner: str) -> list[list[float]]:
        request = EmbeddingRequest(model=alias, input=[*texts], dimensions=k.dimensions)
        response = await own.embed(PURPOSE, request, _tenant(owner))
        data = sorted(response.data, key=lambda d: d.index)
        return [d.embedding for d in data if isinstance(d.embedding, list)]

    tokenizers = Tokenizers(enabled=settings.limits.tokenizer == "tiktoken")
    return embed_remote, tokenizers.counter(alias), {"search": "hybrid", "embedding": alias}
