"""msgspec structs of the Anthropic Messages API, shared by the ``anthropic`` provider and the
inbound ``POST /v1/messages`` surface. Request shapes are strict (the surface decodes client
bodies with them); response and stream shapes are lenient (Anthropic adds fields over time).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, Raw, Struct, UnsetType

from sluice.types import CacheControl, SluiceOptions, ThinkingConfig


class _Strict(Struct, omit_defaults=True, forbid_unknown_fields=True):
    """Request shapes: a misspelt or unsupported field is an error, never silently dropped."""


class _Lenient(Struct, omit_defaults=True):
    """Response shapes: unknown fields are ignored."""


# --- request -----------------------------------------------------------------------------


class Base64Source(_Strict, tag_field="type", tag="base64"):
    media_type: str
    data: str


class UrlSource(_Strict, tag_field="type", tag="url"):
    url: str


class PlainTextSource(_Strict, tag_field="type", tag="text"):
    media_type: Literal["text/plain"]
    data: str


class TextBlock(_Strict, tag_field="type", tag="text"):
    text: str
    cache_control: CacheControl | None = None
    citations: Raw | UnsetType = UNSET


class ImageBlock(_Strict, tag_field="type", tag="image"):
    source: Base64Source | UrlSource
    cache_control: CacheControl | None = None


class CitationsConfig(_Strict):
    enabled: bool | None = None


class ContentSource(_Strict, tag_field="type", tag="content"):
    content: str | list[TextBlock | ImageBlock]


class DocumentBlock(_Strict, tag_field="type", tag="document"):
    """A document: a PDF (base64 or URL), plain text, or content blocks. ``title``, ``context``
    and ``citations`` are Anthropic's own (docs/compatibility.md says where they go)."""

    source: Base64Source | UrlSource | PlainTextSource | ContentSource
    title: str | None = None
    context: str | None = None
    citations: CitationsConfig | None = None
    cache_control: CacheControl | None = None


class ToolUseBlock(_Strict, tag_field="type", tag="tool_use"):
    """``caller`` and ``toolset_name`` are accepted because SDKs echo response blocks back
    with every field (``block.model_dump()`` sends them as null)."""

    id: str
    name: str
    input: dict[str, Any]
    cache_control: CacheControl | None = None
    caller: dict[str, Any] | None = None
    toolset_name: str | None = None


class ToolResultBlock(_Strict, tag_field="type", tag="tool_result"):
    tool_use_id: str
    content: str | list[TextBlock | ImageBlock | DocumentBlock] | None = None
    is_error: bool | None = None
    cache_control: CacheControl | None = None


class ThinkingBlock(_Strict, tag_field="type", tag="thinking"):
    thinking: str
    signature: str | None = None


class RedactedThinkingBlock(_Strict, tag_field="type", tag="redacted_thinking"):
    data: str


InputBlock = (
    TextBlock
    | ImageBlock
    | DocumentBlock
    | ToolUseBlock
    | ToolResultBlock
    | ThinkingBlock
    | RedactedThinkingBlock
)


class InputMessage(_Strict):
    role: Literal["user", "assistant", "system"]
    content: str | list[InputBlock]


class ToolDef(_Strict, kw_only=True):
    name: str
    description: str | None = None
    input_schema: dict[str, Any]
    type: Literal["custom"] | None = None
    strict: bool | None = None
    cache_control: CacheControl | None = None


class ToolChoiceAuto(_Strict, tag_field="type", tag="auto"):
    disable_parallel_tool_use: bool | None = None


class ToolChoiceAny(_Strict, tag_field="type", tag="any"):
    disable_parallel_tool_use: bool | None = None


class ToolChoiceTool(_Strict, tag_field="type", tag="tool"):
    name: str
    disable_parallel_tool_use: bool | None = None


class ToolChoiceNone(_Strict, tag_field="type", tag="none"):
    pass


ToolChoice = ToolChoiceAuto | ToolChoiceAny | ToolChoiceTool | ToolChoiceNone


class Metadata(_Strict):
    user_id: str | None = None


class JsonOutputFormat(_Strict):
    type: Literal["json_schema"]
    schema: dict[str, Any]


class OutputConfig(_Strict):
    effort: str | None = None
    format: JsonOutputFormat | None = None


class MessagesRequest(_Strict, kw_only=True):
    """``POST /v1/messages``. Fields the gateway cannot serve (``container``,
    ``inference_geo``) are declared so the surface can refuse them by name."""

    model: str
    messages: Annotated[list[InputMessage], Meta(min_length=1)]
    max_tokens: Annotated[int, Meta(ge=1, le=2**31 - 1)]  # every client integer is bounded (see sluice.types)
    system: str | list[TextBlock] | None = None
    stop_sequences: list[str] | None = None
    stream: bool = False
    temperature: Annotated[float, Meta(ge=0, le=1)] | None = None
    top_p: Annotated[float, Meta(ge=0, le=1)] | None = None
    top_k: Annotated[int, Meta(ge=0, le=2**31 - 1)] | None = None
    metadata: Metadata | None = None
    tools: list[ToolDef] | None = None
    tool_choice: ToolChoice | None = None
    output_config: OutputConfig | None = None
    thinking: ThinkingConfig | None = None
    service_tier: str | None = None
    speed: str | None = None
    cache_control: CacheControl | None = None
    diagnostics: dict[str, Any] | None = None
    container: dict[str, Any] | str | None = None
    inference_geo: str | None = None
    sluice: SluiceOptions | None = None
    """The gateway's own options (``extra_body={"sluice": {...}}``), as on chat completions;
    never sent upstream (the provider never sets it)."""


# --- response ----------------------------------------------------------------------------


class CacheCreation(_Lenient):
    ephemeral_5m_input_tokens: int = 0
    ephemeral_1h_input_tokens: int = 0


class OutputTokensDetails(_Lenient):
    thinking_tokens: int = 0


class Usage(_Lenient, kw_only=True):
    """``input_tokens`` excludes the cache reads and writes, which are counted apart."""

    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    cache_creation: CacheCreation | None = None
    output_tokens_details: OutputTokensDetails | None = None


class ContentBlock(_Lenient):
    """A response block. One lenient shape for every ``type`` (text, tool_use, thinking,
    redacted_thinking, and blocks this gateway never asks for); ``input`` stays raw JSON."""

    type: str
    text: str | None = None
    id: str | None = None
    name: str | None = None
    input: Raw | UnsetType = UNSET
    thinking: str | None = None
    signature: str | None = None
    data: str | None = None
    citations: list[Raw] | None = None


class Message(Struct, kw_only=True):
    """The response ``Message``. Every field is always encoded (``stop_reason: null`` included)."""

    id: str
    type: str = "message"
    role: str = "assistant"
    model: str
    content: list[ContentBlock]
    stop_reason: str | None = None
    stop_sequence: str | None = None
    usage: Usage
    sluice: Raw | UnsetType = UNSET
    """The gateway's own report (``{"retrieval": ...}``); never sent when unset."""


class ErrorDetail(_Lenient):
    type: str
    message: str


# --- streaming: decoding -----------------------------------------------------------------
# Upstream events decode into one generic shape: Anthropic may add event and delta types at
# any time (its versioning policy says so), and a tagged union would reject an unknown tag.


class EventDelta(_Lenient):
    type: str | None = None
    text: str | None = None
    partial_json: str | None = None
    thinking: str | None = None
    signature: str | None = None
    stop_reason: str | None = None
    stop_sequence: str | None = None


class DeltaUsage(_Lenient, kw_only=True):
    """``message_delta`` usage: cumulative counts; input and cache counts may be absent."""

    input_tokens: int | None = None
    output_tokens: int
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    cache_creation: CacheCreation | None = None
    output_tokens_details: OutputTokensDetails | None = None


class StreamEvent(_Lenient):
    type: str
    message: Message | None = None
    index: int | None = None
    content_block: ContentBlock | None = None
    delta: EventDelta | None = None
    usage: DeltaUsage | None = None
    error: ErrorDetail | None = None


# --- streaming: encoding -----------------------------------------------------------------
# The events the inbound surface writes, one exact shape each (the tag is the ``type``).


class MessageStartEvent(Struct, tag_field="type", tag="message_start"):
    message: Message


class ContentBlockStartEvent(Struct, tag_field="type", tag="content_block_start"):
    index: int
    content_block: ContentBlock


class TextDelta(Struct, tag_field="type", tag="text_delta"):
    text: str


class InputJsonDelta(Struct, tag_field="type", tag="input_json_delta"):
    partial_json: str


class ThinkingDelta(Struct, tag_field="type", tag="thinking_delta"):
    thinking: str


class SignatureDelta(Struct, tag_field="type", tag="signature_delta"):
    signature: str


class CitationsDelta(Struct, tag_field="type", tag="citations_delta"):
    citation: Raw


class ContentBlockDeltaEvent(Struct, tag_field="type", tag="content_block_delta"):
    index: int
    delta: TextDelta | InputJsonDelta | ThinkingDelta | SignatureDelta | CitationsDelta


class ContentBlockStopEvent(Struct, tag_field="type", tag="content_block_stop"):
    index: int


class MessageDeltaBody(Struct):
    stop_reason: str | None
    stop_sequence: str | None = None


class MessageDeltaEvent(Struct, tag_field="type", tag="message_delta"):
    delta: MessageDeltaBody
    usage: DeltaUsage


class MessageStopEvent(Struct, tag_field="type", tag="message_stop"):
    pass


class ErrorEvent(Struct, tag_field="type", tag="error"):
    """The ``error`` stream event; also the body of every error response."""

    error: ErrorDetail


# --- shared codecs -----------------------------------------------------------------------

messages_request_decoder = msgspec.json.Decoder(MessagesRequest)
message_decoder = msgspec.json.Decoder(Message)
stream_event_decoder = msgspec.json.Decoder(StreamEvent)


# --- count_tokens ------------------------------------------------------------------------


class CountTokensRequest(_Strict, kw_only=True):
    """``POST /v1/messages/count_tokens``: a Messages request's input, without ``max_tokens``
    or sampling. Forwarded to an Anthropic upstream as decoded (the model name replaced)."""

    model: str
    messages: Annotated[list[InputMessage], Meta(min_length=1)]
    system: str | list[TextBlock] | None = None
    tools: list[ToolDef] | None = None
    tool_choice: ToolChoice | None = None
    thinking: ThinkingConfig | None = None
    output_config: OutputConfig | None = None


class TokenCount(_Lenient):
    input_tokens: int


count_tokens_request_decoder = msgspec.json.Decoder(CountTokensRequest)
token_count_decoder = msgspec.json.Decoder(TokenCount)
