"""Internal request, response, chunk and usage types shared by every package.

They follow OpenAI's Chat Completions schema, the lingua franca of LLM APIs: the OpenAI
surface decodes straight into them (strictly: unknown fields are rejected), the Anthropic
surface and provider translate to and from them at their edges. ``msgspec`` structs keep
decoding and encoding to a few microseconds; fields left at their default are omitted on
encode, so an upstream sees only what the client sent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from typing import Annotated, Any, Literal, Protocol, TypeVar

import msgspec
from msgspec import UNSET, Meta, Raw, Struct, UnsetType

Role = Literal["system", "developer", "user", "assistant", "tool", "function"]
FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "function_call"]


class _Strict(Struct, omit_defaults=True, forbid_unknown_fields=True):
    """Inbound shapes: unknown fields are an error (a misspelt parameter must not be ignored)."""


class _Lenient(Struct, omit_defaults=True):
    """Upstream shapes: providers add fields over time; unknown ones are ignored. Fields
    OpenAI always sends (even as null) have no default, so they are always encoded."""


# --- request -----------------------------------------------------------------------------


class CacheControl(_Strict):
    """A prompt-cache breakpoint, as Anthropic spells it: ``{"type": "ephemeral", "ttl": "5m" | "1h"}``
    (the ttl defaults to 5m). Carried on content parts, messages and tools to an Anthropic
    deployment; never sent to an OpenAI-type one (see docs/compatibility.md)."""

    type: Literal["ephemeral"]
    ttl: str | None = None


class PromptCacheBreakpoint(_Strict):
    """OpenAI's explicit cache breakpoint on a content part: ``{"mode": "explicit", "ttl": ...}``."""

    mode: Literal["explicit"]
    ttl: str | None = None


class ThinkingBlock(_Lenient):
    """A block of the model's reasoning, in Anthropic's shape: ``thinking`` (its text and the
    ``signature`` that lets it be sent back) or ``redacted_thinking`` (opaque ``data``).

    On messages (``thinking_blocks``, as LiteLLM spells it) each is whole; in a stream a
    ``thinking`` item with only a ``signature`` ends the reasoning block its
    ``reasoning_content`` deltas filled, and a ``redacted_thinking`` item is a whole block.
    """

    type: Literal["thinking", "redacted_thinking"]
    thinking: str | None = None
    signature: str | None = None
    data: str | None = None


class ImageUrl(_Strict):
    url: str
    detail: str | None = None


class ContentPart(_Strict):
    """One part of a multi-part message: ``text``, ``image_url``, ``input_audio``, ``file`` or
    (in an assistant message) ``refusal``.

    Parts other than text and images are carried through untouched (``input_audio``, ``file``).
    docs/compatibility.md has the decision for each field.
    """

    type: str
    text: str | None = None
    image_url: ImageUrl | None = None
    input_audio: Raw | UnsetType = UNSET
    file: Raw | UnsetType = UNSET
    refusal: str | None = None
    cache_control: CacheControl | None = None
    prompt_cache_breakpoint: PromptCacheBreakpoint | None = None


class FileInput(_Strict):
    """The object of a ``file`` part. ``file_url`` is not OpenAI's: it carries an Anthropic
    ``document`` with a URL source to an Anthropic upstream (an OpenAI upstream refuses it)."""

    file_data: str | None = None
    file_id: str | None = None
    filename: str | None = None
    file_url: str | None = None


class FunctionCall(_Lenient):
    name: str
    arguments: str = ""


class ToolCall(_Lenient):
    id: str
    type: str
    function: FunctionCall


class Message(_Strict):
    role: Role
    content: str | list[ContentPart] | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None
    refusal: str | None = None
    function_call: Raw | UnsetType = UNSET
    audio: Raw | UnsetType = UNSET
    # Response-only: the SDK echoes it when a client appends ``completion.choices[0].message``.
    annotations: Raw | UnsetType = UNSET
    cache_control: CacheControl | None = None
    """A breakpoint after this message's last block (a gateway extension, as LiteLLM takes it)."""
    reasoning_content: str | None = None
    """The reasoning an answer carried, echoed back: accepted, never sent upstream."""
    thinking_blocks: list[ThinkingBlock] | None = None
    """An Anthropic model's signed reasoning, echoed back: sent to an Anthropic deployment."""


class FunctionDef(_Strict):
    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class Tool(_Strict):
    type: Literal["function"]
    function: FunctionDef
    cache_control: CacheControl | None = None


class ToolChoiceFunction(_Strict):
    name: str


class ToolChoiceNamed(_Strict):
    type: Literal["function"]
    function: ToolChoiceFunction


ToolChoice = Literal["none", "auto", "required"] | ToolChoiceNamed


class JsonSchemaFormat(_Strict):
    name: str
    schema: dict[str, Any] | None = None
    description: str | None = None
    strict: bool | None = None


class ResponseFormat(_Strict):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaFormat | None = None


class StreamOptions(_Strict):
    include_usage: bool | None = None
    include_obfuscation: bool | None = None


# JSON integers have no size limit and msgspec decodes any: every integer a client sends has an
# upper bound, so a 300-digit max_tokens is a 400 naming it, not an overflow in a budget or a store.
INT32_MAX = 2**31 - 1
Temperature = Annotated[float, Meta(ge=0, le=2)]
Probability = Annotated[float, Meta(ge=0, le=1)]
PositiveInt = Annotated[int, Meta(ge=1, le=INT32_MAX)]
Penalty = Annotated[float, Meta(ge=-2, le=2)]
Int64 = Annotated[int, Meta(ge=-(2**63), le=2**63 - 1)]
TokenId = Annotated[int, Meta(ge=0, le=INT32_MAX)]
LogitBias = Annotated[float, Meta(ge=-100, le=100)]


class ThinkingConfig(_Strict):
    """Anthropic's extended thinking: ``{"type": "enabled", "budget_tokens": N}``, ``disabled``,
    ``adaptive``; ``display`` is ``summarized`` or ``omitted``."""

    type: str
    budget_tokens: PositiveInt | None = None
    display: str | None = None


class CacheOptions(_Strict):
    """``{"ttl": seconds, "threshold": similarity}``: this request's TTL and semantic threshold."""

    ttl: PositiveInt | None = None
    threshold: Annotated[float, Meta(gt=0, le=1)] | None = None


class PromptRef(_Strict):
    """A prompt of the registry to run (``"sluice": {"prompt": {...}}``): its ``label``
    (``production`` when neither is given) or a pinned ``version``; the template's
    ``variables``; ``attributes`` an experiment may assign by (``unit: attr:<name>``)."""

    name: Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
    label: Annotated[str, Meta(min_length=1, max_length=64)] | None = None
    version: PositiveInt | None = None
    variables: dict[str, str | int | float | bool] = {}
    attributes: dict[str, str] = {}


class RetrievalOptions(_Strict):
    """``"sluice": {"retrieval": {...}}``: answer from the caller's vector stores. The best
    ``max_results`` passages over all the stores join the prompt as numbered context; ``filters``,
    ``score_threshold`` and ``rerank`` are the vector store search's."""

    vector_store_ids: Annotated[list[str], Meta(min_length=1, max_length=10)]
    max_results: Annotated[int, Meta(ge=1, le=50)] = 5
    filters: dict[str, Any] | None = None
    score_threshold: Annotated[float, Meta(ge=0, le=1)] = 0.0
    rerank: bool = True
    """False: skip the configured rerank step (``knowledge.rerank``) and keep the fused order."""


class GuardrailOptions(_Strict):
    """``"sluice": {"guardrails": {...}}``: how the input guardrails read this request."""

    documents: Annotated[list[Annotated[int, Meta(ge=0, le=INT32_MAX)]], Meta(max_length=1024)] = []
    """Indexes into ``messages`` of the messages that are retrieved content (documents, search
    results, pasted pages), whatever their role: each is scanned whole for prompt injection as a
    document, not as the application's instructions or the user's own words."""


class SluiceOptions(_Strict):
    """The gateway's own options in a request body (``extra_body={"sluice": {...}}``); never sent
    upstream. Strict like the rest of the body: a misspelt option is a 400 naming it."""

    cache: Literal["no-cache", "no-store"] | PositiveInt | CacheOptions | None = None
    """``no-cache``: answer fresh (the answer is still kept); ``no-store``: neither look up nor
    keep; seconds: keep this answer that long; or a ``CacheOptions``."""
    prompt: PromptRef | None = None
    """Run a prompt of the registry: its rendered messages come before the request's own."""
    retrieval: RetrievalOptions | None = None
    """Retrieve passages from the caller's vector stores into the prompt (``pipeline/retrieval.py``)."""
    background: bool | None = None
    """A chat completion only: run it as a background job (202 with the job; ``GET
    /v1/sluice/jobs/{id}`` polls it)."""
    guardrails: GuardrailOptions | None = None
    """How the input guardrails read the request: which messages are retrieved documents."""
    route: str | None = None
    """For an ``auto`` alias: the tier to use (``fast``, ``balanced``, ``strong``,
    ``long_context``) instead of the one its features would choose (``routing/auto.py``)."""


class ChatRequest(_Strict):
    """A chat completion request. ``model`` is the alias the client asked for; providers send
    the deployment's upstream model name instead. ``sluice`` holds gateway options
    (``extra_body={"sluice": {...}}``) and is never sent upstream."""

    model: str
    messages: list[Message]
    """At least one, unless ``sluice.prompt`` brings them (``ValidateStage`` checks)."""
    stream: bool | None = False  # nullable in OpenAI's spec; null reads as false
    stream_options: StreamOptions | None = None
    max_tokens: PositiveInt | None = None
    max_completion_tokens: PositiveInt | None = None
    temperature: Temperature | None = None
    top_p: Probability | None = None
    n: Annotated[int, Meta(ge=1, le=128)] | None = None
    stop: str | Annotated[list[str], Meta(max_length=4)] | None = None
    seed: Int64 | None = None
    tools: list[Tool] | None = None
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None
    user: str | None = None
    frequency_penalty: Penalty | None = None
    presence_penalty: Penalty | None = None
    logit_bias: dict[str, LogitBias] | None = None
    logprobs: bool | None = None
    top_logprobs: Annotated[int, Meta(ge=0, le=20)] | None = None
    reasoning_effort: str | None = None
    verbosity: str | None = None
    service_tier: str | None = None
    metadata: dict[str, str] | None = None
    store: bool | None = None
    modalities: list[str] | None = None
    audio: Raw | UnsetType = UNSET
    prediction: Raw | UnsetType = UNSET
    web_search_options: Raw | UnsetType = UNSET
    prompt_cache_key: str | None = None
    prompt_cache_retention: str | None = None
    prompt_cache_options: Raw | UnsetType = UNSET
    thinking: ThinkingConfig | None = None
    cache_control: CacheControl | None = None
    safety_identifier: str | None = None
    moderation: Raw | UnsetType = UNSET
    functions: Raw | UnsetType = UNSET
    function_call: Raw | UnsetType = UNSET
    sluice: SluiceOptions | None = None

    @property
    def output_token_limit(self) -> int | None:
        """The client's cap on generated tokens, whichever of the two fields it used."""
        return self.max_completion_tokens or self.max_tokens

    @property
    def stop_sequences(self) -> list[str]:
        s = self.stop
        if s is None:
            return []
        return [s] if isinstance(s, str) else s

    @property
    def includes_usage(self) -> bool:
        return self.stream_options is not None and bool(self.stream_options.include_usage)

    @property
    def has_cache_breakpoints(self) -> bool:
        """Whether the request marks prompt-cache breakpoints (which an Anthropic deployment
        writes to its cache at a premium)."""
        if self.cache_control is not None or any(t.cache_control is not None for t in self.tools or ()):
            return True
        for m in self.messages:
            if m.cache_control is not None:
                return True
            if isinstance(m.content, list) and any(
                p.cache_control is not None or p.prompt_cache_breakpoint is not None for p in m.content
            ):
                return True
        return False


# --- response ----------------------------------------------------------------------------


class PromptTokensDetails(Struct):
    """``cached_tokens`` were read from the provider's prompt cache, ``cache_write_tokens``
    written to it; both are part of ``prompt_tokens``."""

    cached_tokens: int = 0
    audio_tokens: int = 0
    cache_write_tokens: int | UnsetType = UNSET


class CompletionTokensDetails(Struct):
    """``reasoning_tokens`` are part of ``completion_tokens`` (and priced as output)."""

    reasoning_tokens: int = 0
    audio_tokens: int | UnsetType = UNSET
    accepted_prediction_tokens: int | UnsetType = UNSET
    rejected_prediction_tokens: int | UnsetType = UNSET
    text_tokens: int | UnsetType = UNSET


class CacheCreation(Struct):
    """Anthropic's split of the prompt-cache writes by lifetime (they are priced apart)."""

    ephemeral_5m_input_tokens: int = 0
    ephemeral_1h_input_tokens: int = 0


class Usage(_Lenient):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    prompt_tokens_details: PromptTokensDetails | None = None
    completion_tokens_details: CompletionTokensDetails | None = None
    cache_creation: CacheCreation | UnsetType = UNSET

    @property
    def cached_tokens(self) -> int:
        d = self.prompt_tokens_details
        return d.cached_tokens if d is not None else 0

    @property
    def cache_write_tokens(self) -> int:
        d = self.prompt_tokens_details
        return d.cache_write_tokens if d is not None and isinstance(d.cache_write_tokens, int) else 0

    @property
    def reasoning_tokens(self) -> int:
        d = self.completion_tokens_details
        return d.reasoning_tokens if d is not None else 0


class ResponseMessage(_Lenient):
    """``refusal`` is unset when the upstream left it out (vLLM, the sim, a translation); the
    OpenAI surface sends it as null then, as OpenAI's schema requires (``api/openai/routes.py``)."""

    role: str
    content: str | None
    tool_calls: list[ToolCall] | None = None
    refusal: str | UnsetType | None = UNSET
    annotations: Raw | UnsetType = UNSET
    audio: Raw | UnsetType = UNSET
    function_call: Raw | UnsetType = UNSET
    reasoning_content: str | None = None
    thinking_blocks: list[ThinkingBlock] | None = None


class Choice(_Lenient):
    """``stop_reason`` is vLLM's field (the stop string or token id that ended the answer, absent
    otherwise); an Anthropic upstream's ``stop_sequence`` lands there too, so the Anthropic
    surface can report which sequence matched."""

    index: int
    message: ResponseMessage
    finish_reason: str | None
    logprobs: Raw | UnsetType = UNSET
    stop_reason: str | int | None = None


class ChatResponse(_Lenient):
    id: str
    object: str
    created: int
    model: str
    choices: list[Choice]
    usage: Usage | None = None
    system_fingerprint: str | None = None
    service_tier: str | None = None
    sluice: Raw | UnsetType = UNSET
    """The gateway's own report on the answer (``{"retrieval": ...}``), set by a stage."""


# --- streaming ---------------------------------------------------------------------------


class FunctionCallDelta(_Lenient):
    name: str | None = None
    arguments: str | None = None


class ToolCallDelta(_Lenient):
    index: int
    id: str | None = None
    type: str | None = None
    function: FunctionCallDelta | None = None


class Delta(_Lenient):
    role: str | None = None
    content: str | None = None
    annotations: Raw | UnsetType = UNSET
    """The gateway's citations of retrieved passages, on the chunk before the finishing one."""
    tool_calls: list[ToolCallDelta] | None = None
    refusal: str | None = None
    reasoning_content: str | None = None
    thinking_blocks: list[ThinkingBlock] | None = None


class ChunkChoice(_Lenient):
    index: int
    delta: Delta
    finish_reason: str | None
    logprobs: Raw | UnsetType = UNSET
    stop_reason: str | int | None = None  # as in ``Choice``


class ChatChunk(_Lenient):
    """One ``chat.completion.chunk``. The last one of a stream that asked for usage carries
    ``usage`` and no choices."""

    id: str
    object: str
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: Usage | None = None
    system_fingerprint: str | None = None
    service_tier: str | None = None
    sluice: Raw | UnsetType = UNSET
    """As ``ChatResponse.sluice``, on the chunk that carries the gateway's annotations."""


# A stream yields batches: every chunk that arrived in one upstream read. The client then
# gets one write per read instead of one per token, which keeps per-chunk cost to parsing.
ChunkBatch = list[ChatChunk]

T_co = TypeVar("T_co", covariant=True)


class ClosingIterator(Protocol[T_co]):
    """An async iterator its reader closes, read to the end or not: an async generator, or a class
    with ``aclose`` (a stream that holds a connection, a span)."""

    def __aiter__(self) -> AsyncIterator[T_co]: ...

    def __anext__(self) -> Awaitable[T_co]: ...

    def aclose(self) -> Awaitable[object]: ...


ChunkStream = ClosingIterator[ChunkBatch]
"""A chat stream: batches of chunks, closed by whoever reads it (which releases the upstream)."""


# --- embeddings --------------------------------------------------------------------------


class EmbeddingRequest(_Strict):
    model: str
    input: str | Annotated[list[str | TokenId | list[TokenId]], Meta(min_length=1)]
    encoding_format: Literal["float", "base64"] | None = None
    dimensions: PositiveInt | None = None
    user: str | None = None
    sluice: SluiceOptions | None = None


class Embedding(_Lenient):
    object: str
    index: int
    embedding: list[float] | str


class EmbeddingUsage(_Lenient):
    prompt_tokens: int
    total_tokens: int


class EmbeddingResponse(_Lenient):
    object: str
    data: list[Embedding]
    model: str
    usage: EmbeddingUsage | None = None


# --- errors ------------------------------------------------------------------------------


class ErrorDetail(Struct):
    message: str
    type: str
    param: str | None
    code: str | None


class ErrorBody(Struct):
    """OpenAI's error shape: ``{"error": {"message", "type", "param", "code"}}``."""

    error: ErrorDetail


# --- shared codecs -----------------------------------------------------------------------
# Built once: msgspec encoders/decoders are reusable and thread-safe.

encoder = msgspec.json.Encoder()
chat_request_decoder = msgspec.json.Decoder(ChatRequest)
file_input_decoder = msgspec.json.Decoder(FileInput)
embedding_request_decoder = msgspec.json.Decoder(EmbeddingRequest)
chat_response_decoder = msgspec.json.Decoder(ChatResponse)
chat_chunk_decoder = msgspec.json.Decoder(ChatChunk)
embedding_response_decoder = msgspec.json.Decoder(EmbeddingResponse)
