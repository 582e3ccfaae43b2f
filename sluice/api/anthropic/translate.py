"""The Anthropic Messages surface at its edge: client bodies -> ``ChatRequest``, and the
gateway's ``ChatResponse`` or chunk stream -> Anthropic's Message JSON or SSE events.
"""

from __future__ import annotations

import base64

import msgspec
from msgspec import Raw, UnsetType

from sluice.api.body import decode
from sluice.errors import InvalidRequestError, UpstreamError
from sluice.knowledge.search import Found
from sluice.pipeline.retrieval import Retrieval
from sluice.pipeline.validate import check_depth
from sluice.providers.anthropic.wire import (
    Base64Source,
    CacheCreation,
    ContentBlock,
    ContentSource,
    DocumentBlock,
    ImageBlock,
    InputBlock,
    InputMessage,
    Message,
    MessagesRequest,
    OutputTokensDetails,
    RedactedThinkingBlock,
    TextBlock,
    ToolChoiceAny,
    ToolChoiceAuto,
    ToolChoiceNone,
    ToolDef,
    ToolResultBlock,
    ToolUseBlock,
    UrlSource,
    Usage,
    messages_request_decoder,
)
from sluice.providers.anthropic.wire import ThinkingBlock as WireThinking
from sluice.types import (
    CacheControl,
    ChatRequest,
    ChatResponse,
    ContentPart,
    FileInput,
    FunctionCall,
    FunctionDef,
    ImageUrl,
    JsonSchemaFormat,
    ResponseFormat,
    SluiceOptions,
    StreamOptions,
    ThinkingBlock,
    Tool,
    ToolCall,
    ToolChoice,
    ToolChoiceFunction,
    ToolChoiceNamed,
    encoder,
)
from sluice.types import Message as ChatMessage
from sluice.types import Usage as ChatUsage

STOP_REASONS = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}
"""OpenAI ``finish_reason`` -> Anthropic ``stop_reason``."""

_arguments_decoder = msgspec.json.Decoder(dict[str, Raw])


# --- request -----------------------------------------------------------------------------


def decode_messages_request(body: bytes) -> MessagesRequest:
    """Decode and validate a client body. Raises ``InvalidRequestError`` naming the param."""
    return decode(body, messages_request_decoder)


def to_chat_request(req: MessagesRequest) -> ChatRequest:
    """Translate a Messages request into the gateway's chat request.

    ``thinking`` and ``cache_control`` (top level and on blocks and tools) are carried: an
    Anthropic deployment gets them as sent, an OpenAI-type one gets ``thinking`` as
    ``reasoning_effort``. ``top_k``, ``service_tier``, ``speed``, ``diagnostics`` and
    ``output_config.effort`` are hints the answer does not depend on: dropped.

    Raises:
        InvalidRequestError: for what the gateway cannot serve (``container``,
            ``inference_geo``) or blocks in the wrong role.
    """
    if req.container is not None:
        raise InvalidRequestError("container: code execution containers are not supported", param="container")
    if req.inference_geo is not None:
        raise InvalidRequestError(
            "inference_geo: pinning the inference region is not supported", param="inference_geo"
        )
    messages: list[ChatMessage] = []
    if req.system:
        messages.append(_system(req.system))
    spans = []
    for i, m in enumerate(req.messages):
        start = len(messages)
        messages.extend(_messages(m, i))
        spans.append(range(start, len(messages)))
    for i, t in enumerate(req.tools or ()):
        check_depth(t.input_schema, f"tools[{i}].input_schema")
    if req.output_config is not None and req.output_config.format is not None:
        check_depth(req.output_config.format.schema, "output_config.format.schema")
    tools = [_tool(t) for t in req.tools] if req.tools else None
    no_parallel = bool(tools) and getattr(req.tool_choice, "disable_parallel_tool_use", None) is True
    return ChatRequest(
        model=req.model,
        messages=messages,
        stream=req.stream,
        # Usage arrives in the last chunk, for message_delta; Anthropic clients always get it.
        stream_options=StreamOptions(include_usage=True) if req.stream else None,
        max_tokens=req.max_tokens,
        temperature=req.temperature,
        top_p=req.top_p,
        stop=req.stop_sequences or None,
        tools=tools,
        tool_choice=_tool_choice(req) if tools else None,
        parallel_tool_calls=False if no_parallel else None,
        response_format=_response_format(req),
        user=req.metadata.user_id if req.metadata else None,
        thinking=req.thinking,
        cache_control=req.cache_control,
        sluice=_documents_remapped(req.sluice, spans),
    )


def _documents_remapped(options: SluiceOptions | None, spans: list[range]) -> SluiceOptions | None:
    """``sluice.guardrails.documents`` names Anthropic messages; the chat request may hold more
    (a system prompt first, a turn's tool results as messages of their own): each index becomes
    those of the messages its message became."""
    if options is None or options.guardrails is None or not options.guardrails.documents:
        return options
    indexes: list[int] = []
    for k, i in enumerate(options.guardrails.documents):
        if i >= len(spans):
            raise InvalidRequestError(
                f"'sluice.guardrails.documents' names message {i}, but there are {len(spans)} messages.",
                param=f"sluice.guardrails.documents[{k}]",
            )
        indexes.extend(spans[i])
    guardrails = msgspec.structs.replace(options.guardrails, documents=indexes)
    return msgspec.structs.replace(options, guardrails=guardrails)


def _joined_text(content: str | list[TextBlock]) -> str:
    return content if isinstance(content, str) else "\n\n".join(b.text for b in content)


def _system(content: str | list[TextBlock]) -> ChatMessage:
    """One system message: its text joined, or its blocks as parts when a breakpoint is among them."""
    if isinstance(content, list) and any(b.cache_control is not None for b in content):
        parts = [ContentPart(type="text", text=b.text, cache_control=b.cache_control) for b in content]
        return ChatMessage(role="system", content=parts)
    return ChatMessage(role="system", content=_joined_text(content))


def _messages(m: InputMessage, i: int) -> list[ChatMessage]:
    if isinstance(m.content, str):
        return [ChatMessage(role=m.role, content=m.content)]
    if m.role == "system":
        blocks = [b for b in m.content if isinstance(b, TextBlock)]
        if len(blocks) != len(m.content):
            raise InvalidRequestError(
                "system messages may only hold text blocks", param=f"messages[{i}].content"
            )
        return [_system(blocks)]
    if m.role == "user":
        return _user_messages(m.content, i)
    return _assistant_messages(m.content, i)


def _user_messages(blocks: list[InputBlock], i: int) -> list[ChatMessage]:
    """Tool results become ``tool`` messages, which OpenAI wants right after the assistant's
    calls; the rest of the turn (and any images inside tool results) follows as one user message."""
    tools: list[ChatMessage] = []
    parts: list[ContentPart] = []
    for j, b in enumerate(blocks):
        if isinstance(b, TextBlock):
            parts.append(ContentPart(type="text", text=b.text, cache_control=b.cache_control))
        elif isinstance(b, ImageBlock):
            parts.append(_image_part(b))
        elif isinstance(b, DocumentBlock):
            parts.extend(_document_parts(b))
        elif isinstance(b, ToolResultBlock):
            text, images = _tool_result(b)
            tools.append(
                ChatMessage(
                    role="tool", tool_call_id=b.tool_use_id, content=text, cache_control=b.cache_control
                )
            )
            parts.extend(images)
        else:
            raise InvalidRequestError(
                f"{b.__struct_config__.tag} blocks are not allowed in user messages",
                param=f"messages[{i}].content[{j}]",
            )
    if not parts:
        return tools
    if len(parts) == 1 and parts[0].type == "text" and parts[0].cache_control is None:
        return [*tools, ChatMessage(role="user", content=parts[0].text)]
    return [*tools, ChatMessage(role="user", content=parts)]


def _image_part(b: ImageBlock) -> ContentPart:
    src = b.source
    url = src.url if isinstance(src, UrlSource) else f"data:{src.media_type};base64,{src.data}"
    return ContentPart(type="image_url", image_url=ImageUrl(url=url), cache_control=b.cache_control)


def _document_parts(b: DocumentBlock) -> list[ContentPart]:
    """A document as OpenAI ``file`` part: a PDF's (or text's) bytes as a ``data:`` URL, a URL as
    ``file_url`` (which only an Anthropic upstream reads). ``title`` becomes the ``filename``;
    ``context`` and ``citations`` have no OpenAI counterpart and are dropped. A document of
    content blocks is those blocks."""
    src = b.source
    if isinstance(src, ContentSource):
        if isinstance(src.content, str):
            return [ContentPart(type="text", text=src.content)]
        return [
            ContentPart(type="text", text=c.text) if isinstance(c, TextBlock) else _image_part(c)
            for c in src.content
        ]
    if isinstance(src, UrlSource):
        file = FileInput(file_url=src.url, filename=b.title)
    elif isinstance(src, Base64Source):
        file = FileInput(file_data=f"data:{src.media_type};base64,{src.data}", filename=b.title)
    else:
        data = base64.b64encode(src.data.encode()).decode()
        file = FileInput(file_data=f"data:text/plain;base64,{data}", filename=b.title)
    return [ContentPart(type="file", file=Raw(encoder.encode(file)))]


def _tool_result(b: ToolResultBlock) -> tuple[str, list[ContentPart]]:
    if b.content is None or isinstance(b.content, str):
        return b.content or "", []
    texts = [c.text for c in b.content if isinstance(c, TextBlock)]
    more: list[ContentPart] = []
    for c in b.content:
        if isinstance(c, ImageBlock):
            more.append(_image_part(c))
        elif isinstance(c, DocumentBlock):
            more.extend(_document_parts(c))
    return "\n\n".join(texts), more


def _assistant_messages(blocks: list[InputBlock], i: int) -> list[ChatMessage]:
    """Text, tool calls and the signed reasoning (``thinking_blocks``, which an Anthropic
    deployment gets back as sent). A breakpoint on a tool_use block marks the message's end."""
    texts: list[TextBlock] = []
    calls: list[ToolCall] = []
    thinking: list[ThinkingBlock] = []
    marked: CacheControl | None = None
    for j, b in enumerate(blocks):
        if isinstance(b, TextBlock):
            texts.append(b)
        elif isinstance(b, ToolUseBlock):
            check_depth(b.input, f"messages[{i}].content[{j}].input")
            arguments = encoder.encode(b.input).decode()
            calls.append(
                ToolCall(id=b.id, type="function", function=FunctionCall(name=b.name, arguments=arguments))
            )
            marked = b.cache_control or marked
        elif isinstance(b, WireThinking):
            thinking.append(ThinkingBlock(type="thinking", thinking=b.thinking, signature=b.signature))
        elif isinstance(b, RedactedThinkingBlock):
            thinking.append(ThinkingBlock(type="redacted_thinking", data=b.data))
        else:
            raise InvalidRequestError(
                f"{b.__struct_config__.tag} blocks are not allowed in assistant messages",
                param=f"messages[{i}].content[{j}]",
            )
    if not texts and not calls and not thinking:
        return []
    content: str | list[ContentPart] | None = "".join(b.text for b in texts) if texts else None
    if any(b.cache_control is not None for b in texts):
        content = [ContentPart(type="text", text=b.text, cache_control=b.cache_control) for b in texts]
    return [
        ChatMessage(
            role="assistant",
            content=content,
            tool_calls=calls or None,
            thinking_blocks=thinking or None,
            cache_control=marked,
        )
    ]


def _tool(t: ToolDef) -> Tool:
    return Tool(
        type="function",
        function=FunctionDef(name=t.name, description=t.description, parameters=t.input_schema),
        cache_control=t.cache_control,
    )


def _tool_choice(req: MessagesRequest) -> ToolChoice | None:
    choice = req.tool_choice
    if choice is None:
        return None
    if isinstance(choice, ToolChoiceAuto):
        return "auto"
    if isinstance(choice, ToolChoiceAny):
        return "required"
    if isinstance(choice, ToolChoiceNone):
        return "none"
    return ToolChoiceNamed(type="function", function=ToolChoiceFunction(name=choice.name))


def _response_format(req: MessagesRequest) -> ResponseFormat | None:
    """Structured output: Anthropic guarantees the schema, which is OpenAI's ``strict``."""
    fmt = req.output_config.format if req.output_config else None
    if fmt is None:
        return None
    return ResponseFormat(
        type="json_schema", json_schema=JsonSchemaFormat(name="output", schema=fmt.schema, strict=True)
    )


# --- response ----------------------------------------------------------------------------


def message_id(chat_id: str) -> str:
    """An Anthropic-looking id for a chat completion id (kept as is when it already is one)."""
    return chat_id if chat_id.startswith("msg_") else f"msg_{chat_id.removeprefix('chatcmpl-')}"


def matched_stop(finish_reason: str | None, stop_reason: str | int | None, stops: list[str]) -> str | None:
    """The client's stop sequence that ended the answer, if the provider said which (Anthropic's
    ``stop_sequence``, vLLM's ``stop_reason``); OpenAI does not say, so its stops read as end_turn."""
    if finish_reason == "stop" and isinstance(stop_reason, str) and stop_reason in stops:
        return stop_reason
    return None


def citation(offset_n_found: tuple[int, int, Found]) -> Raw:
    """A retrieved passage cited in the answer as Anthropic's ``char_location`` citation: the
    passage as the document (``document_index``: its number less one, ``document_title``: the
    file's name, ``file_id``), the whole passage as ``cited_text``."""
    _, n, found = offset_n_found
    text = found.hit.text
    return Raw(
        encoder.encode(
            {
                "type": "char_location",
                "cited_text": text,
                "document_index": n - 1,
                "document_title": found.hit.filename,
                "start_char_index": 0,
                "end_char_index": len(text),
                "file_id": found.hit.file_id,
            }
        )
    )


def to_messages_response(
    resp: ChatResponse, model: str, stops: list[str] | None = None, retrieval: Retrieval | None = None
) -> bytes:
    """The Anthropic Message JSON for a chat response; ``model`` is the alias the client asked
    for, ``stops`` its ``stop_sequences``; ``retrieval``: the passages the answer may cite (its
    text block then carries the citations, and the message the gateway's ``sluice`` report).

    Raises:
        UpstreamError: when the model produced tool arguments that are not a JSON object
            (Anthropic's ``input`` must be one).
    """
    blocks: list[ContentBlock] = []
    stop_reason = "end_turn"
    stop_sequence = None
    if resp.choices:
        choice = resp.choices[0]
        msg = choice.message
        stop_reason = STOP_REASONS.get(choice.finish_reason or "stop", "end_turn")
        stop_sequence = matched_stop(choice.finish_reason, choice.stop_reason, stops or [])
        if stop_sequence is not None:
            stop_reason = "stop_sequence"
        blocks.extend(_thinking_out(msg.thinking_blocks, msg.reasoning_content))
        text = msg.content or msg.refusal
        if text:
            cited = None
            if retrieval is not None and msg.content:
                cited = [citation(c) for c in retrieval.citations(msg.content)] or None
            blocks.append(ContentBlock(type="text", text=text, citations=cited))
        if msg.refusal and not msg.content:
            stop_reason = "refusal"
        for call in msg.tool_calls or ():
            input_ = tool_input(call.function.arguments)
            blocks.append(ContentBlock(type="tool_use", id=call.id, name=call.function.name, input=input_))
    message = Message(
        id=message_id(resp.id),
        model=model,
        content=blocks,
        stop_reason=stop_reason,
        stop_sequence=stop_sequence,
        usage=usage_of(resp.usage),
        sluice=resp.sluice,
    )
    return encoder.encode(message)


def _thinking_out(blocks: list[ThinkingBlock] | None, reasoning: str | None) -> list[ContentBlock]:
    """The answer's reasoning as Anthropic blocks: the signed blocks as they came, else another
    provider's ``reasoning_content`` as one unsigned thinking block."""
    if blocks:
        return [
            ContentBlock(type="redacted_thinking", data=b.data or "")
            if b.type == "redacted_thinking"
            else ContentBlock(type="thinking", thinking=b.thinking or "", signature=b.signature or "")
            for b in blocks
        ]
    return [ContentBlock(type="thinking", thinking=reasoning, signature="")] if reasoning else []


def usage_of(usage: ChatUsage | None) -> Usage:
    """Anthropic's usage for the gateway's: ``input_tokens`` without the cache reads and writes
    (OpenAI's ``prompt_tokens`` counts them), which are reported apart; reasoning as thinking."""
    if usage is None:
        return Usage(
            input_tokens=0, output_tokens=0, cache_creation_input_tokens=0, cache_read_input_tokens=0
        )
    read, written = usage.cached_tokens, usage.cache_write_tokens
    split = usage.cache_creation
    details = usage.completion_tokens_details
    return Usage(
        input_tokens=max(usage.prompt_tokens - read - written, 0),
        output_tokens=usage.completion_tokens,
        cache_creation_input_tokens=written,
        cache_read_input_tokens=read,
        cache_creation=(
            None
            if isinstance(split, UnsetType)
            else CacheCreation(split.ephemeral_5m_input_tokens, split.ephemeral_1h_input_tokens)
        ),
        output_tokens_details=None if details is None else OutputTokensDetails(details.reasoning_tokens),
    )


def tool_input(arguments: str) -> Raw:
    if not arguments.strip():
        return Raw(b"{}")
    try:
        _arguments_decoder.decode(arguments)
    except msgspec.DecodeError:
        raise UpstreamError("the model produced tool arguments that are not a JSON object") from None
    return Raw(arguments)
