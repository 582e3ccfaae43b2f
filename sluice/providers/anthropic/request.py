"""Internal (OpenAI-shaped) chat request -> Anthropic Messages request.

System and developer messages become ``system``; tool calls and results become ``tool_use``
and ``tool_result`` blocks; consecutive turns of one role merge, as Anthropic requires.
Prompt-cache breakpoints (``cache_control`` on a part, a message or a tool, or OpenAI's
``prompt_cache_breakpoint``) become ``cache_control`` on the block they end; an assistant's
signed ``thinking_blocks`` go back ahead of its text; ``reasoning_effort`` becomes ``thinking``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any, Literal

import msgspec
from msgspec import Raw, UnsetType

from sluice.errors import InvalidRequestError
from sluice.providers.anthropic.wire import (
    Base64Source,
    DocumentBlock,
    ImageBlock,
    InputBlock,
    InputMessage,
    JsonOutputFormat,
    MessagesRequest,
    Metadata,
    OutputConfig,
    PlainTextSource,
    RedactedThinkingBlock,
    TextBlock,
    ThinkingBlock,
    ToolChoice,
    ToolChoiceAny,
    ToolChoiceAuto,
    ToolChoiceNone,
    ToolChoiceTool,
    ToolDef,
    ToolResultBlock,
    ToolUseBlock,
    UrlSource,
)
from sluice.providers.reasoning import thinking_for
from sluice.types import (
    CacheControl,
    ChatRequest,
    ContentPart,
    FunctionDef,
    Message,
    PromptCacheBreakpoint,
    ThinkingConfig,
    Tool,
    ToolChoiceNamed,
    file_input_decoder,
)

DEFAULT_MAX_TOKENS = 4096
"""Anthropic requires ``max_tokens``; OpenAI clients usually leave it out."""

_EMPTY_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}
_arguments_decoder = msgspec.json.Decoder(dict[str, Any])


def to_messages_request(request: ChatRequest, model: str) -> MessagesRequest:
    """Translate a chat request for the upstream ``model``.

    Raises:
        InvalidRequestError: for what Anthropic cannot do (``n`` > 1, logprobs, audio, a
            ``json_object`` response format) or a malformed message (tool arguments that are
            not a JSON object, an image URL that is neither ``data:`` nor http(s)).
    """
    _check_supported(request)
    system, messages = _messages(request.messages)
    user_id = request.user or request.safety_identifier
    temperature = request.temperature
    thinking = _thinking(request)
    max_tokens = request.output_token_limit or DEFAULT_MAX_TOKENS
    if thinking is not None and thinking.budget_tokens is not None and max_tokens <= thinking.budget_tokens:
        # Only without a client cap (thinking_for fits the budget under one): room for the answer too.
        max_tokens = thinking.budget_tokens + DEFAULT_MAX_TOKENS
    return MessagesRequest(
        model=model,
        messages=messages,
        max_tokens=max_tokens,
        system=system,
        stop_sequences=request.stop_sequences or None,
        stream=bool(request.stream),
        # Anthropic's range is 0-1, OpenAI's 0-2: clamp rather than refuse a valid request.
        temperature=None if temperature is None else min(temperature, 1.0),
        top_p=request.top_p,
        metadata=Metadata(user_id=user_id) if user_id else None,
        tools=[_tool(t) for t in request.tools] if request.tools else None,
        tool_choice=_tool_choice(request) if request.tools else None,
        output_config=_output_config(request),
        thinking=thinking,
        cache_control=request.cache_control,
    )


def _thinking(request: ChatRequest) -> ThinkingConfig | None:
    """The client's own ``thinking`` as given, else its ``reasoning_effort`` as a budget."""
    if request.thinking is not None:
        return request.thinking
    if request.reasoning_effort is None:
        return None
    return thinking_for(request.reasoning_effort, request.output_token_limit)


def _check_supported(request: ChatRequest) -> None:
    if request.n is not None and request.n > 1:
        raise InvalidRequestError("n > 1 is not supported by anthropic deployments", param="n")
    if request.logprobs or request.top_logprobs:
        raise InvalidRequestError("logprobs are not supported by anthropic deployments", param="logprobs")
    if _given(request.audio) or (request.modalities and "audio" in request.modalities):
        raise InvalidRequestError(
            "audio output is not supported by anthropic deployments", param="modalities"
        )
    if _given(request.functions) or _given(request.function_call):
        raise InvalidRequestError(
            "functions/function_call are not supported by anthropic deployments; use tools", param="functions"
        )
    if _given(request.web_search_options):
        raise InvalidRequestError(
            "web_search_options is not supported by anthropic deployments", param="web_search_options"
        )
    if request.logit_bias:  # token ids of another tokenizer: they would bias the wrong tokens
        raise InvalidRequestError("logit_bias is not supported by anthropic deployments", param="logit_bias")
    if _given(request.moderation):
        raise InvalidRequestError("moderation is not supported by anthropic deployments", param="moderation")


def _given(value: Raw | UnsetType) -> bool:
    """Whether the client set a pass-through field (JSON null counts as not set)."""
    return not isinstance(value, UnsetType) and bytes(value) != b"null"


def _messages(messages: list[Message]) -> tuple[str | list[TextBlock] | None, list[InputMessage]]:
    """``system`` stays one string unless a breakpoint needs its blocks kept apart."""
    system: list[TextBlock] = []
    turns: list[tuple[Literal["user", "assistant"], list[InputBlock]]] = []
    for i, m in enumerate(messages):
        role: Literal["user", "assistant"]
        if m.role in ("system", "developer"):
            system.extend(_system_blocks(m, i))
            continue
        if m.role == "user":
            role, blocks = "user", _user_blocks(m, i)
        elif m.role == "assistant":
            role, blocks = "assistant", _assistant_blocks(m, i)
        elif m.role == "tool":
            role, blocks = "user", [_tool_result(m, i)]
        else:
            raise InvalidRequestError(
                f"{m.role} messages are not supported by anthropic deployments; use tool messages",
                param=f"messages[{i}].role",
            )
        if not blocks:
            continue
        if turns and turns[-1][0] == role:
            turns[-1][1].extend(blocks)
        else:
            turns.append((role, blocks))
    turned = [InputMessage(role=r, content=b) for r, b in turns]
    if any(b.cache_control is not None for b in system):
        return system, turned
    return ("\n\n".join(b.text for b in system) or None), turned


def _system_blocks(m: Message, i: int) -> list[TextBlock]:
    text = _text_of(m, i)  # only text parts
    if isinstance(m.content, list) and any(_cache_control(p) for p in m.content):
        blocks = [TextBlock(text=p.text, cache_control=_cache_control(p)) for p in m.content if p.text]
    else:
        blocks = [TextBlock(text=text)] if text else []
    _mark_last(blocks, m.cache_control)
    return blocks


def _cache_control(p: ContentPart) -> CacheControl | None:
    """A part's breakpoint: Anthropic's ``cache_control``, else OpenAI's ``prompt_cache_breakpoint``
    (whose lifetimes, 30 minutes and up, need Anthropic's 1-hour cache)."""
    if p.cache_control is not None:
        return p.cache_control
    return _from_breakpoint(p.prompt_cache_breakpoint)


def _from_breakpoint(bp: PromptCacheBreakpoint | None) -> CacheControl | None:
    return None if bp is None else CacheControl(type="ephemeral", ttl="1h")


def _mark_last(blocks: Sequence[InputBlock], cache_control: CacheControl | None) -> None:
    """A message-level breakpoint lands on the message's last block that can carry one."""
    if cache_control is not None:
        for b in reversed(blocks):
            if not isinstance(b, (ThinkingBlock, RedactedThinkingBlock)):
                b.cache_control = cache_control
                break


def _text_of(m: Message, i: int) -> str:
    """The text of a message whose parts may only be text (system, developer, tool)."""
    if m.content is None or isinstance(m.content, str):
        return m.content or ""
    texts = []
    for j, p in enumerate(m.content):
        if p.type == "refusal" and m.role == "assistant":
            texts.append(p.refusal or "")  # an earlier refusal, echoed back: what was said
        elif p.type != "text":
            raise InvalidRequestError(
                f"{m.role} messages may only contain text parts, got {p.type!r}",
                param=f"messages[{i}].content[{j}]",
            )
        else:
            texts.append(p.text or "")
    return "".join(texts)


def _user_blocks(m: Message, i: int) -> list[InputBlock]:
    blocks: list[InputBlock] = []
    if m.content is None or isinstance(m.content, str):
        if m.content:
            blocks.append(TextBlock(text=m.content))
    else:
        for j, p in enumerate(m.content):
            block = _part(p, f"messages[{i}].content[{j}]")
            if block is not None:
                blocks.append(block)
    _mark_last(blocks, m.cache_control)
    return blocks


def _part(p: ContentPart, param: str) -> TextBlock | ImageBlock | DocumentBlock | None:
    if p.type == "text":
        # Anthropic rejects empty text blocks; an empty part carries nothing anyway.
        return TextBlock(text=p.text, cache_control=_cache_control(p)) if p.text else None
    if p.type == "image_url" and p.image_url is not None:
        return ImageBlock(source=_image_source(p.image_url.url, param), cache_control=_cache_control(p))
    if p.type == "file" and not isinstance(p.file, UnsetType):
        return _document(p.file, f"{param}.file")
    raise InvalidRequestError(
        f"content parts of type {p.type!r} are not supported by anthropic deployments", param=param
    )


def _image_source(url: str, param: str) -> Base64Source | UrlSource:
    if url.startswith("data:"):
        header, sep, data = url[5:].partition(",")
        media_type, _, encoding = header.partition(";")
        if not sep or encoding != "base64" or not media_type:
            raise InvalidRequestError(
                "image data URLs must look like data:<media type>;base64,<data>", param=param
            )
        return Base64Source(media_type=media_type, data=data)
    if url.startswith(("https://", "http://")):
        return UrlSource(url=url)
    raise InvalidRequestError("image URLs must be http(s) or base64 data URLs", param=param)


def _document(file: Raw, param: str) -> DocumentBlock:
    """An OpenAI ``file`` part as an Anthropic ``document``: ``file_data`` as a base64 (or
    ``data:`` URL) PDF, or ``data:text/plain`` text; ``file_url`` (the Anthropic surface's URL
    documents). Uploaded files (``file_id``) live in OpenAI's file store, which Anthropic cannot read."""
    try:
        f = file_input_decoder.decode(file)
    except msgspec.DecodeError as e:
        raise InvalidRequestError(f"Invalid value for '{param}': {e}", param=param) from None
    if f.file_url is not None:
        return DocumentBlock(source=UrlSource(url=f.file_url), title=f.filename)
    if f.file_data is None:
        raise InvalidRequestError(
            "file parts need file_data on anthropic deployments (uploaded file ids are OpenAI's)",
            param=f"{param}.file_id" if f.file_id is not None else f"{param}.file_data",
        )
    media_type, data = "application/pdf", f.file_data
    if data.startswith("data:"):
        header, sep, data = data[5:].partition(",")
        media_type, _, encoding = header.partition(";")
        if not sep or encoding != "base64" or not media_type:
            raise InvalidRequestError(
                "file_data data URLs must look like data:<media type>;base64,<data>",
                param=f"{param}.file_data",
            )
    if media_type == "text/plain":
        try:
            text = base64.b64decode(data, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise InvalidRequestError(
                "text/plain file_data must be base64 UTF-8", param=f"{param}.file_data"
            ) from None
        return DocumentBlock(source=PlainTextSource(media_type="text/plain", data=text), title=f.filename)
    return DocumentBlock(source=Base64Source(media_type=media_type, data=data), title=f.filename)


def _assistant_blocks(m: Message, i: int) -> list[InputBlock]:
    blocks: list[InputBlock] = _thinking_blocks(m)
    text = _text_of(m, i) or m.refusal
    if isinstance(m.content, list) and any(_cache_control(p) for p in m.content):
        blocks.extend(TextBlock(text=p.text, cache_control=_cache_control(p)) for p in m.content if p.text)
    elif text:
        blocks.append(TextBlock(text=text))
    for j, call in enumerate(m.tool_calls or ()):
        param = f"messages[{i}].tool_calls[{j}].function.arguments"
        blocks.append(
            ToolUseBlock(
                id=call.id, name=call.function.name, input=_arguments(call.function.arguments, param)
            )
        )
    _mark_last(blocks, m.cache_control)
    return blocks


def _thinking_blocks(m: Message) -> list[InputBlock]:
    """The assistant's signed reasoning, as Anthropic returned it. Unsigned reasoning (another
    provider's ``reasoning_content``) cannot be verified by Anthropic: it is left out."""
    blocks: list[InputBlock] = []
    for b in m.thinking_blocks or ():
        if b.type == "thinking" and b.signature:
            blocks.append(ThinkingBlock(thinking=b.thinking or "", signature=b.signature))
        elif b.type == "redacted_thinking" and b.data:
            blocks.append(RedactedThinkingBlock(data=b.data))
    return blocks


def _arguments(arguments: str, param: str) -> dict[str, Any]:
    if not arguments.strip():
        return {}
    try:
        return _arguments_decoder.decode(arguments)
    except (msgspec.DecodeError, RecursionError):  # RecursionError: nested past msgspec's depth
        raise InvalidRequestError("tool call arguments must be a JSON object", param=param) from None


def _tool_result(m: Message, i: int) -> ToolResultBlock:
    if not m.tool_call_id:
        raise InvalidRequestError("tool messages need a tool_call_id", param=f"messages[{i}].tool_call_id")
    return ToolResultBlock(tool_use_id=m.tool_call_id, content=_text_of(m, i), cache_control=m.cache_control)


def _tool(t: Tool) -> ToolDef:
    # ``strict`` is not forwarded: Anthropic accepts it only on models with structured outputs.
    f: FunctionDef = t.function
    return ToolDef(
        name=f.name,
        description=f.description,
        input_schema=f.parameters or _EMPTY_SCHEMA,
        cache_control=t.cache_control,
    )


def _tool_choice(request: ChatRequest) -> ToolChoice | None:
    choice = request.tool_choice
    no_parallel = True if request.parallel_tool_calls is False else None
    if choice == "none":
        return ToolChoiceNone()
    if choice == "required":
        return ToolChoiceAny(disable_parallel_tool_use=no_parallel)
    if isinstance(choice, ToolChoiceNamed):
        return ToolChoiceTool(name=choice.function.name, disable_parallel_tool_use=no_parallel)
    if choice == "auto" or no_parallel:
        return ToolChoiceAuto(disable_parallel_tool_use=no_parallel)
    return None


def _output_config(request: ChatRequest) -> OutputConfig | None:
    fmt = request.response_format
    if fmt is None or fmt.type == "text":
        return None
    if fmt.type == "json_object" or fmt.json_schema is None or fmt.json_schema.schema is None:
        raise InvalidRequestError(
            "anthropic deployments support response_format json_schema with a schema, not json_object",
            param="response_format",
        )
    return OutputConfig(format=JsonOutputFormat(type="json_schema", schema=fmt.json_schema.schema))
