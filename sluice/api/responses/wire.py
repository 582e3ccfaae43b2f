"""The Responses API's wire shapes (OpenAI's ``CreateResponse``, input and output items, the
``response`` object, list and delete answers), as msgspec structs.

The request's top level is strict like the rest of the gateway's inbound bodies (a misspelt
parameter is a 400 naming it). Input items are lenient: the SDKs and agent frameworks replay
the items of earlier answers as input, and those carry fields OpenAI adds over time (``status``,
``phase``, ``logprobs``...) that change nothing here.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import UNSET, Meta, Raw, Struct, UnsetType, field

from sluice.types import PositiveInt, Probability, SluiceOptions, Temperature

# --- request: input items ------------------------------------------------------------------


class _Item(Struct):
    """An input item: unknown fields are ignored (see the module's docstring). Every field is
    encoded (``type`` included) when the item is stored and listed."""


class InputText(_Item, tag="input_text", tag_field="type"):
    text: str


class InputImage(_Item, tag="input_image", tag_field="type"):
    image_url: str | None = None
    file_id: str | None = None
    detail: str | None = None


class InputFile(_Item, tag="input_file", tag_field="type"):
    file_id: str | None = None
    file_data: str | None = None
    file_url: str | None = None
    filename: str | None = None


class OutputText(_Item, tag="output_text", tag_field="type"):
    text: str
    annotations: list[dict[str, Any]] = field(default_factory=list)
    """Kept as sent (an earlier answer's citations, echoed back); never sent to the model."""


class Refusal(_Item, tag="refusal", tag_field="type"):
    refusal: str


ContentPart = InputText | InputImage | InputFile | OutputText | Refusal
ToolOutputPart = InputText | InputImage | InputFile


class MessageItem(_Item):
    """``type: message`` (optional on input): a user, system, developer or assistant turn."""

    role: Literal["user", "system", "developer", "assistant"]
    content: str | list[ContentPart]
    type: Literal["message"] = "message"
    id: str | None = None
    status: str | None = None


class FunctionCallItem(_Item):
    call_id: str
    name: str
    arguments: str
    type: Literal["function_call"] = "function_call"
    id: str | None = None
    status: str | None = None


class FunctionCallOutputItem(_Item):
    call_id: str
    output: str | list[ToolOutputPart]
    type: Literal["function_call_output"] = "function_call_output"
    id: str | None = None
    status: str | None = None


class ReasoningItem(_Item):
    """Earlier reasoning: other models cannot read it, so it is kept in the history and not sent."""

    type: Literal["reasoning"] = "reasoning"
    id: str | None = None
    summary: list[Raw] = field(default_factory=list)
    encrypted_content: str | None = None


InputItem = MessageItem | FunctionCallItem | FunctionCallOutputItem | ReasoningItem

ITEM_TYPES: dict[str, type[InputItem]] = {
    "message": MessageItem,
    "function_call": FunctionCallItem,
    "function_call_output": FunctionCallOutputItem,
    "reasoning": ReasoningItem,
}


# --- request: the body ---------------------------------------------------------------------


class _Strict(Struct, omit_defaults=True, forbid_unknown_fields=True):
    pass


class FunctionTool(_Strict):
    """``tools[i]`` after the surface checked its ``type`` is ``function``."""

    name: str
    type: Literal["function"] = "function"
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class HybridSearch(_Strict):
    embedding_weight: float
    text_weight: float


class FileSearchRanking(_Strict):
    ranker: Literal["auto", "default-2024-11-15", "none"] | None = None
    score_threshold: Annotated[float, Meta(ge=0, le=1)] | None = None
    hybrid_search: HybridSearch | None = None
    """Accepted; the gateway fuses its two rankings with equal weights (``knowledge/rank.py``)."""


class FileSearchTool(_Strict):
    """The built-in ``file_search`` tool: the gateway searches the caller's vector stores itself
    before the model answers (``pipeline/retrieval.py``)."""

    type: Literal["file_search"]
    vector_store_ids: Annotated[list[str], Meta(min_length=1, max_length=10)]
    max_num_results: Annotated[int, Meta(ge=1, le=50)] | None = None
    filters: dict[str, Any] | None = None
    ranking_options: FileSearchRanking | None = None


class NamedFunction(_Strict):
    type: Literal["function"]
    name: str


class TextFormat(_Strict):
    type: Literal["text", "json_object", "json_schema"]
    name: str | None = None
    schema: dict[str, Any] | None = None
    description: str | None = None
    strict: bool | None = None


class TextConfig(_Strict):
    format: TextFormat | None = None
    verbosity: Literal["low", "medium", "high"] | None = None


class ReasoningConfig(_Strict):
    effort: Literal["none", "minimal", "low", "medium", "high", "xhigh"] | None = None
    summary: Literal["auto", "concise", "detailed"] | None = None
    generate_summary: Literal["auto", "concise", "detailed"] | None = None
    mode: str | None = None
    context: str | None = None


class StreamOptions(_Strict):
    include_obfuscation: bool | None = None


Metadata = Annotated[dict[str, Annotated[str, Meta(max_length=512)]], Meta(max_length=16)]


class ResponsePrompt(_Strict):
    """``prompt: {id, version, variables}``: ``id`` is the registry's prompt name, ``version`` a
    version number or a label (the ``production`` label when absent); a variable is a string or an
    ``input_text`` object."""

    id: str
    version: str | None = None
    variables: dict[str, str | dict[str, Any]] | None = None


class CreateResponse(_Strict):
    """``POST /v1/responses``. ``tools`` and ``input`` items stay free-form here: the translation
    checks each by its ``type``, so a built-in tool or an unsupported item is a 400 naming it."""

    model: str
    input: str | list[dict[str, Any]] | None = None
    instructions: str | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: Literal["none", "auto", "required"] | dict[str, Any] | None = None
    text: TextConfig | None = None
    max_output_tokens: PositiveInt | None = None
    temperature: Temperature | None = None
    top_p: Probability | None = None
    parallel_tool_calls: bool | None = None
    reasoning: ReasoningConfig | None = None
    metadata: Metadata | None = None
    user: str | None = None
    safety_identifier: str | None = None
    prompt_cache_key: str | None = None
    prompt_cache_retention: str | None = None
    prompt_cache_options: Raw | UnsetType = UNSET
    service_tier: str | None = None
    store: bool | None = None
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    previous_response_id: str | None = None
    truncation: Literal["auto", "disabled"] | None = None
    include: list[str] | None = None
    top_logprobs: Annotated[int, Meta(ge=0, le=20)] | None = None
    max_tool_calls: PositiveInt | None = None
    background: bool | None = None
    conversation: Raw | UnsetType = UNSET
    prompt: ResponsePrompt | None = None
    """OpenAI's reusable prompt, served from the gateway's registry (``sluice.prompt``)."""
    context_management: Raw | UnsetType = UNSET
    moderation: Raw | UnsetType = UNSET
    sluice: SluiceOptions | None = None


# --- response ------------------------------------------------------------------------------


class OutputTextPart(Struct, tag="output_text", tag_field="type"):
    text: str
    annotations: list[Raw] = field(default_factory=list)
    logprobs: list[Raw] = field(default_factory=list)


class RefusalPart(Struct, tag="refusal", tag_field="type"):
    refusal: str


OutputPart = OutputTextPart | RefusalPart


class OutputMessage(Struct, tag="message", tag_field="type"):
    id: str
    status: str
    content: list[OutputPart]
    role: str = "assistant"


class OutputFunctionCall(Struct, tag="function_call", tag_field="type"):
    id: str
    call_id: str
    name: str
    arguments: str
    status: str


class OutputFileSearchCall(Struct, tag="file_search_call", tag_field="type"):
    """The gateway's search for the ``file_search`` tool; ``results`` only when the request's
    ``include`` asks for ``file_search_call.results`` (else null)."""

    id: str
    status: str
    queries: list[str]
    results: list[dict[str, Any]] | None = None


OutputItem = OutputMessage | OutputFunctionCall | OutputFileSearchCall


class InputTokensDetails(Struct):
    cached_tokens: int = 0


class OutputTokensDetails(Struct):
    reasoning_tokens: int = 0


class ResponseUsage(Struct):
    input_tokens: int
    input_tokens_details: InputTokensDetails
    output_tokens: int
    output_tokens_details: OutputTokensDetails
    total_tokens: int


class IncompleteDetails(Struct):
    reason: str


class ResponseError(Struct):
    code: str
    message: str


class ToolEcho(Struct, tag="function", tag_field="type"):
    """A function tool as the response object lists it (``strict`` and ``parameters`` always there)."""

    name: str
    parameters: dict[str, Any] | None
    strict: bool | None
    description: str | None = None


class FileSearchEcho(Struct, tag="file_search", tag_field="type"):
    vector_store_ids: list[str]
    filters: dict[str, Any] | None = None
    max_num_results: int | None = None
    ranking_options: dict[str, Any] | None = None


class TextEcho(Struct):
    format: TextFormat


class ReasoningEcho(Struct):
    effort: str | None = None
    summary: str | None = None


class ResponseObject(Struct):
    """The ``response`` object: fields OpenAI always sends are always encoded, null or not."""

    id: str
    created_at: int
    status: str
    model: str
    output: list[OutputItem]
    error: ResponseError | None = None
    incomplete_details: IncompleteDetails | None = None
    instructions: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    parallel_tool_calls: bool = True
    temperature: float | None = None
    top_p: float | None = None
    tool_choice: str | dict[str, Any] = "auto"
    tools: list[ToolEcho | FileSearchEcho] = field(default_factory=list)
    text: TextEcho = field(default_factory=lambda: TextEcho(TextFormat(type="text")))
    reasoning: ReasoningEcho = field(default_factory=ReasoningEcho)
    max_output_tokens: int | None = None
    max_tool_calls: int | None = None
    previous_response_id: str | None = None
    store: bool = True
    background: bool = False
    truncation: str = "disabled"
    service_tier: str | None = None
    top_logprobs: int | None = None
    user: str | None = None
    safety_identifier: str | None = None
    prompt_cache_key: str | None = None
    usage: ResponseUsage | None = None
    completed_at: int | None = None
    object: str = "response"
    sluice: Raw | UnsetType = UNSET
    """The gateway's own report (``{"retrieval": ...}``); never sent when unset."""


class DeletedResponse(Struct):
    id: str
    object: str = "response"
    deleted: bool = True


class ItemList(Struct):
    data: list[Raw]
    first_id: str | None
    last_id: str | None
    has_more: bool
    object: str = "list"
