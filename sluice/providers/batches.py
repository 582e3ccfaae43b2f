"""A provider's own batch API, the narrow interface the gateway forwards a batch through
(``sluice/batch/native.py``): submit a batch of requests, read its status, read its results,
cancel it. Implementations: ``OpenAIBatches`` (``providers/openai_batch.py``: ``/v1/files`` and
``/v1/batches``) and ``AnthropicBatches`` (``providers/anthropic/batch.py``: Message Batches).
Requests and results are the gateway's own types (``sluice.types``), as for ``Provider``; like a
provider, these know nothing of tenants or the store and fail with ``UpstreamError``,
``UpstreamTimeoutError`` or ``InvalidRequestError``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from sluice.errors import SluiceError
from sluice.providers.base import Target
from sluice.types import ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse

Status = Literal["in_progress", "cancelling", "completed", "failed", "expired", "cancelled"]
"""An upstream batch's status in OpenAI's words (Anthropic's ``canceling`` and ``ended`` mapped):
``failed`` (the upstream refused the batch as a whole) has ``errors`` and no results; the three
others after ``cancelling`` have results."""


@dataclass(frozen=True, slots=True)
class BatchRequest:
    """One line to forward: its id upstream (``BatchApi.wire_id``) and the request (the client's
    alias still in ``model``; the implementation sends the deployment's upstream model and no
    gateway options, exactly what the interactive call would send)."""

    wire_id: str
    request: ChatRequest | EmbeddingRequest


@dataclass(frozen=True, slots=True)
class Submitted:
    """What ``submit`` did: the upstream batch's id (None when no line could be sent), and the
    lines refused before sending (one the provider's API cannot take, as the interactive call
    would refuse it), by wire id."""

    id: str | None
    refused: list[tuple[str, SluiceError]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class UpstreamBatch:
    id: str
    status: Status
    completed: int = 0
    failed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    """Why the upstream failed the batch as a whole: ``{code, message, param, line}`` each."""
    output: str | None = None
    """Where its results are: OpenAI's output file id, Anthropic's ``results_url``."""
    error_output: str | None = None
    """OpenAI's error file id."""


@dataclass(frozen=True, slots=True)
class UpstreamResult:
    """One line's result, by its wire id: an answer (``response``, upstream model name still in
    it), an error answer (``status_code`` and OpenAI's error JSON ``error``), or none because the
    upstream never ran it (``skipped``: ``expired`` or ``cancelled``)."""

    wire_id: str
    status_code: int = 200
    response: ChatResponse | EmbeddingResponse | None = None
    error: dict[str, Any] | None = None
    skipped: Literal["expired", "cancelled"] | None = None


class BatchApi(Protocol):
    endpoints: frozenset[str]
    """The batch endpoints it takes (``/v1/chat/completions``, ``/v1/embeddings``)."""

    def wire_id(self, custom_id: str, line_no: int) -> str:
        """A line's id upstream: the client's ``custom_id`` where the API takes any string
        (OpenAI), ``line-<n>`` where it allows fewer (Anthropic: 64 of ``[A-Za-z0-9_-]``)."""
        ...

    async def submit(
        self, endpoint: str, requests: Sequence[BatchRequest], target: Target, name: str
    ) -> Submitted:
        """Send the batch (``name``: the gateway's batch id, kept upstream as metadata where the
        API has any)."""
        ...

    async def status(self, batch_id: str, target: Target) -> UpstreamBatch: ...

    async def results(self, endpoint: str, batch: UpstreamBatch, target: Target) -> list[UpstreamResult]:
        """Every line's result of a batch that ended (completed, expired or cancelled)."""
        ...

    async def cancel(self, batch_id: str, target: Target) -> None: ...

    async def close(self) -> None: ...
