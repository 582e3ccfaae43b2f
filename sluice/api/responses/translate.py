"""The Responses surface at its edge: a ``CreateResponse`` (and the stored conversation it
continues) -> ``ChatRequest``; a ``ChatResponse`` -> the ``response`` object.

The built-in ``file_search`` tool runs in the gateway: its options become ``sluice.retrieval``
(``pipeline/retrieval.py`` searches and puts the passages in the prompt), and the answer gets a
``file_search_call`` item before the message, whose text carries ``file_citation`` annotations.
The other built-in tools (web search, code interpreter...) and ``conversation`` need state or
tools the gateway does not run: each is a 400 naming it, never a silent answer without it.
``background`` runs the request as a background job (``background.py``).
"""

from __future__ import annotations

import os
import time
from typing import Any

import msgspec

from sluice.api.body import decode, validation_error
from sluice.api.responses.wire import (
    ITEM_TYPES,
    CreateResponse,
    FileSearchEcho,
    FileSearchTool,
    FunctionCallItem,
    FunctionCallOutputItem,
    FunctionTool,
    IncompleteDetails,
    InputFile,
    InputImage,
    InputItem,
    InputText,
    InputTokensDetails,
    MessageItem,
    NamedFunction,
    OutputFileSearchCall,
    OutputFunctionCall,
    OutputItem,
    OutputMessage,
    OutputPart,
    OutputText,
    OutputTextPart,
    OutputTokensDetails,
    ReasoningEcho,
    Refusal,
    RefusalPart,
    ResponseObject,
    ResponseUsage,
    TextEcho,
    TextFormat,
    ToolEcho,
)
from sluice.errors import InvalidRequestError
from sluice.pipeline.retrieval import Retrieval
from sluice.pipeline.validate import check_depth
from sluice.types import (
    ChatRequest,
    ChatResponse,
    ContentPart,
    FunctionCall,
    FunctionDef,
    ImageUrl,
    JsonSchemaFormat,
    Message,
    PromptRef,
    ResponseFormat,
    RetrievalOptions,
    SluiceOptions,
    StreamOptions,
    Tool,
    ToolCall,
    ToolChoice,
    ToolChoiceFunction,
    ToolChoiceNamed,
    Usage,
    encoder,
)

_request_decoder = msgspec.json.Decoder(CreateResponse)
_dict_decoder = msgspec.json.Decoder(dict[str, Any])

INCOMPLETE_REASONS = {"length": "max_output_tokens", "content_filter": "content_filter"}
"""Chat ``finish_reason`` -> the response's ``incomplete_details.reason``."""


def new_id(prefix: str) -> str:
    return f"{prefix}_{os.urandom(24).hex()}"


def new_response_id(now_ms: int) -> str:
    """``resp_`` and 48 hex digits like any id, the first 12 the Unix time in milliseconds it was
    made at (``minted_ms``), so a replica that does not find it yet can tell a response still on
    its way to the store from one that never was."""
    return f"resp_{now_ms & 0xFFFFFFFFFFFF:012x}{os.urandom(18).hex()}"


def minted_ms(response_id: str) -> int | None:
    """The time ``new_response_id`` put in an id; None for an id not of that shape."""
    digits = response_id[5:17]
    if not response_id.startswith("resp_") or len(response_id) != 53:
        return None
    try:
        return int(digits, 16)
    except ValueError:
        return None


# --- request -------------------------------------------------------------------------------


def decode_request(body: bytes) -> CreateResponse:
    """Decode and check what the gateway cannot serve. Raises ``InvalidRequestError`` naming the param."""
    req = decode(body, _request_decoder)
    for name in ("conversation", "context_management", "moderation"):
        value = getattr(req, name)
        if value is not msgspec.UNSET and bytes(value) != b"null":
            raise InvalidRequestError(f"{name}: not supported by this gateway.", param=name)
    if req.stream_options is not None and not req.stream:
        raise InvalidRequestError(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.", param="stream_options"
        )
    return req


def input_items(req: CreateResponse) -> list[InputItem]:
    """The request's ``input`` as items (a string is one user message)."""
    if req.input is None:
        return []
    if isinstance(req.input, str):
        return [MessageItem(role="user", content=req.input)]
    return [_item(raw, f"input[{i}]") for i, raw in enumerate(req.input) if raw.get("type") not in _SEARCHES]


_SEARCHES = frozenset({"file_search_call"})
"""Output items of the gateway's own searches, echoed back as input or stored with an answer: not
the model's turns (the next request searches again), so they are left out of the chat."""


def _item(raw: dict[str, Any], param: str) -> InputItem:
    kind = raw.get("type", "message")
    cls = ITEM_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise InvalidRequestError(
            f"{param}.type: input items of type {kind!r} are not supported by this gateway "
            f"(supported: {', '.join(ITEM_TYPES)}).",
            param=f"{param}.type",
        )
    try:
        return msgspec.convert(raw, cls)
    except msgspec.ValidationError as e:
        raise validation_error(str(e), param) from None


def decode_items(items: list[msgspec.Raw]) -> list[InputItem]:
    """Items as stored (input items and earlier output items, in wire JSON)."""
    decoded = (_dict_decoder.decode(raw) for raw in items)
    return [_item(d, "previous_response_id") for d in decoded if d.get("type") not in _SEARCHES]


def to_chat_request(req: CreateResponse, items: list[InputItem]) -> ChatRequest:
    """The chat request for ``items`` (the stored conversation, then this request's input)."""
    messages: list[Message] = []
    if req.instructions:
        messages.append(Message(role="system", content=req.instructions))
    for i, item in enumerate(items):
        _append(messages, item, i)
    if not messages and req.prompt is None and (req.sluice is None or req.sluice.prompt is None):
        raise InvalidRequestError("input: give at least one input item.", param="input")
    if req.sluice is not None and req.sluice.guardrails is not None and req.sluice.guardrails.documents:
        # Items and stored conversations do not map one to one onto messages: documents are
        # marked with the tag convention here (docs/guardrails.md).
        raise InvalidRequestError(
            "'sluice.guardrails.documents' is for chat completions and messages; on the Responses API, "
            "wrap retrieved content in <documents> tags.",
            param="sluice.guardrails.documents",
        )
    tools = [_tool(t, i) for i, t in enumerate(req.tools or ()) if t.get("type") != "file_search"] or None
    effort = req.reasoning.effort if req.reasoning is not None else None
    return ChatRequest(
        model=req.model,
        messages=messages,
        stream=bool(req.stream),
        stream_options=StreamOptions(include_usage=True) if req.stream else None,
        max_completion_tokens=req.max_output_tokens,
        temperature=req.temperature,
        top_p=req.top_p,
        tools=tools,
        tool_choice=_tool_choice(req.tool_choice) if tools else None,
        parallel_tool_calls=req.parallel_tool_calls if tools else None,
        response_format=_response_format(req),
        user=req.user,
        reasoning_effort=effort,
        verbosity=req.text.verbosity if req.text is not None else None,
        service_tier=req.service_tier,
        prompt_cache_key=req.prompt_cache_key,
        safety_identifier=req.safety_identifier,
        sluice=_with_retrieval(req, _with_prompt(req)),
    )


DEFAULT_FILE_SEARCH_RESULTS = 10


def file_search_tool(req: CreateResponse) -> tuple[int, FileSearchTool] | None:
    """The request's ``file_search`` tool (at most one) and its index in ``tools``."""
    found = None
    for i, raw in enumerate(req.tools or ()):
        if raw.get("type") != "file_search":
            continue
        if found is not None:
            raise InvalidRequestError("tools: at most one file_search tool.", param=f"tools[{i}]")
        try:  # convert, not the constructor: the field constraints are checked
            found = (i, msgspec.convert(raw, FileSearchTool))
        except msgspec.ValidationError as e:
            raise validation_error(str(e), f"tools[{i}]") from None
    return found


def _with_retrieval(req: CreateResponse, options: SluiceOptions | None) -> SluiceOptions | None:
    """The options with the ``file_search`` tool as ``sluice.retrieval``."""
    found = file_search_tool(req)
    if found is None:
        return options
    i, tool = found
    options = options or SluiceOptions()
    if options.retrieval is not None:
        raise InvalidRequestError(
            "Give a file_search tool or 'sluice.retrieval', not both.", param=f"tools[{i}]"
        )
    ranking = tool.ranking_options
    threshold = (
        ranking.score_threshold if ranking is not None and ranking.score_threshold is not None else 0.0
    )
    retrieval = RetrievalOptions(
        vector_store_ids=tool.vector_store_ids,
        max_results=tool.max_num_results or DEFAULT_FILE_SEARCH_RESULTS,
        filters=tool.filters,
        score_threshold=threshold,
        rerank=ranking is None or ranking.ranker != "none",
    )
    return msgspec.structs.replace(options, retrieval=retrieval)


def _with_prompt(req: CreateResponse) -> SluiceOptions | None:
    """The request's ``sluice`` options, with OpenAI's ``prompt`` as the registry's prompt."""
    p = req.prompt
    if p is None:
        return req.sluice
    variables: dict[str, str | int | float | bool] = {}
    for name, value in (p.variables or {}).items():
        if isinstance(value, dict):
            if value.get("type") != "input_text" or not isinstance(value.get("text"), str):
                raise InvalidRequestError(
                    "prompt.variables: only strings and input_text variables are supported.",
                    param=f"prompt.variables.{name}",
                )
            value = value["text"]
        variables[name] = value
    label, version = (None, int(p.version)) if p.version and p.version.isdigit() else (p.version, None)
    try:  # convert, not the constructor: the field constraints are checked
        ref = msgspec.convert(
            {"name": p.id, "label": label, "version": version, "variables": variables}, PromptRef
        )
    except msgspec.ValidationError as e:
        raise validation_error(str(e).replace("`$.name`", "`$.id`"), "prompt") from None
    options = req.sluice or SluiceOptions()
    if options.prompt is not None:
        raise InvalidRequestError("Give 'prompt' or 'sluice.prompt', not both.", param="prompt")
    return msgspec.structs.replace(options, prompt=ref)


def _append(messages: list[Message], item: InputItem, i: int) -> None:
    if isinstance(item, MessageItem):
        messages.extend(_message(item, i))
    elif isinstance(item, FunctionCallItem):
        call = ToolCall(id=item.call_id, type="function", function=FunctionCall(item.name, item.arguments))
        last = messages[-1] if messages else None
        if last is not None and last.role == "assistant":  # parallel calls: one assistant turn
            last.tool_calls = [*(last.tool_calls or ()), call]
        else:
            messages.append(Message(role="assistant", tool_calls=[call]))
    elif isinstance(item, FunctionCallOutputItem):
        if isinstance(item.output, str):
            messages.append(Message(role="tool", tool_call_id=item.call_id, content=item.output))
            return
        text = "\n\n".join(p.text for p in item.output if isinstance(p, InputText))
        messages.append(Message(role="tool", tool_call_id=item.call_id, content=text))
        media = [
            _part(p, f"input[{i}].output[{j}]")
            for j, p in enumerate(item.output)
            if not isinstance(p, InputText)
        ]
        if media:
            messages.append(Message(role="user", content=media))
    # reasoning items: earlier reasoning, which other models cannot read.


def _message(item: MessageItem, i: int) -> list[Message]:
    if isinstance(item.content, str):
        return [Message(role=item.role, content=item.content)]
    if item.role == "assistant":
        texts = [p.text for p in item.content if isinstance(p, (OutputText, InputText))]
        refusals = [p.refusal for p in item.content if isinstance(p, Refusal)]
        if len(texts) + len(refusals) != len(item.content):
            raise InvalidRequestError(
                "assistant messages may only hold output_text and refusal parts", param=f"input[{i}].content"
            )
        return [Message(role="assistant", content="".join(texts) or None, refusal="".join(refusals) or None)]
    parts = [_part(p, f"input[{i}].content[{j}]") for j, p in enumerate(item.content)]
    if all(p.type == "text" for p in parts):
        return [Message(role=item.role, content="".join(p.text or "" for p in parts))]
    return [Message(role=item.role, content=parts)]


def _part(p: Any, param: str) -> ContentPart:
    if isinstance(p, (InputText, OutputText)):
        return ContentPart(type="text", text=p.text)
    if isinstance(p, InputImage):
        if p.image_url is None:
            raise InvalidRequestError(
                f"{param}: images by file_id are not supported; send image_url (a URL or a data URL).",
                param=f"{param}.file_id",
            )
        return ContentPart(type="image_url", image_url=ImageUrl(url=p.image_url, detail=p.detail))
    if isinstance(p, InputFile):
        if p.file_url is not None:
            raise InvalidRequestError(
                f"{param}: files by file_url are not supported; send file_data or file_id.",
                param=f"{param}.file_url",
            )
        file = {
            k: v
            for k, v in (("file_id", p.file_id), ("file_data", p.file_data), ("filename", p.filename))
            if v
        }
        return ContentPart(type="file", file=msgspec.Raw(msgspec.json.encode(file)))
    raise InvalidRequestError(f"{param}: refusal parts are only allowed in assistant messages", param=param)


def _tool(raw: dict[str, Any], i: int) -> Tool:
    kind = raw.get("type")
    if kind != "function":
        raise InvalidRequestError(
            f"tools[{i}].type: {kind!r} tools are not supported by this gateway; only function tools are.",
            param=f"tools[{i}].type",
        )
    try:
        t = msgspec.convert(raw, FunctionTool)
    except msgspec.ValidationError as e:
        raise validation_error(str(e), f"tools[{i}]") from None
    check_depth(t.parameters, f"tools[{i}].parameters")
    return Tool(
        type="function",
        function=FunctionDef(
            name=t.name, description=t.description, parameters=t.parameters, strict=t.strict
        ),
    )


def _tool_choice(choice: str | dict[str, Any] | None) -> ToolChoice | None:
    if choice is None or isinstance(choice, str):
        return choice  # type: ignore[return-value]  # the decoder allowed only none, auto, required
    if choice.get("type") == "file_search":
        return None  # the gateway's search runs before every answer of a file_search request
    if choice.get("type") != "function":
        raise InvalidRequestError(
            f"tool_choice: {choice.get('type')!r} is not supported by this gateway; "
            "use none, auto, required or a function.",
            param="tool_choice.type",
        )
    try:
        named = msgspec.convert(choice, NamedFunction)
    except msgspec.ValidationError as e:
        raise validation_error(str(e), "tool_choice") from None
    return ToolChoiceNamed(type="function", function=ToolChoiceFunction(name=named.name))


def _response_format(req: CreateResponse) -> ResponseFormat | None:
    fmt = req.text.format if req.text is not None else None
    if fmt is None or fmt.type == "text":
        return None
    if fmt.type == "json_object":
        return ResponseFormat(type="json_object")
    if fmt.name is None:
        raise InvalidRequestError("Missing required parameter: 'text.format.name'.", param="text.format.name")
    if fmt.schema is None:
        raise InvalidRequestError(
            "Missing required parameter: 'text.format.schema'.", param="text.format.schema"
        )
    check_depth(fmt.schema, "text.format.schema")
    return ResponseFormat(
        type="json_schema",
        json_schema=JsonSchemaFormat(
            name=fmt.name, schema=fmt.schema, description=fmt.description, strict=fmt.strict
        ),
    )


# --- response ------------------------------------------------------------------------------


def shell(req: CreateResponse, response_id: str, created_at: int) -> ResponseObject:
    """The response object before any output: the request's parameters echoed, ``in_progress``."""
    tools: list[ToolEcho | FileSearchEcho] = []
    for i, raw in enumerate(req.tools or ()):
        if raw.get("type") == "file_search":
            fs = msgspec.convert(raw, FileSearchTool)  # checked by to_chat_request
            ranking = None if fs.ranking_options is None else msgspec.to_builtins(fs.ranking_options)
            tools.append(FileSearchEcho(fs.vector_store_ids, fs.filters, fs.max_num_results, ranking))
            continue
        t = _tool(raw, i)
        tools.append(
            ToolEcho(
                name=t.function.name,
                parameters=t.function.parameters,
                strict=t.function.strict,
                description=t.function.description,
            )
        )
    fmt = req.text.format if req.text is not None and req.text.format is not None else TextFormat(type="text")
    reasoning = req.reasoning
    return ResponseObject(
        id=response_id,
        created_at=created_at,
        status="in_progress",
        model=req.model,
        output=[],
        instructions=req.instructions,
        metadata=req.metadata or {},
        parallel_tool_calls=req.parallel_tool_calls is not False,
        temperature=req.temperature,
        top_p=req.top_p,
        tool_choice=req.tool_choice or "auto",
        tools=tools,
        text=TextEcho(fmt),
        reasoning=ReasoningEcho(reasoning.effort, reasoning.summary) if reasoning else ReasoningEcho(),
        max_output_tokens=req.max_output_tokens,
        max_tool_calls=req.max_tool_calls,
        previous_response_id=req.previous_response_id,
        store=req.store is not False,
        truncation=req.truncation or "disabled",
        service_tier=req.service_tier,
        top_logprobs=req.top_logprobs,
        user=req.user,
        safety_identifier=req.safety_identifier,
        prompt_cache_key=req.prompt_cache_key,
    )


def finished(
    base: ResponseObject, output: list[OutputItem], finish_reason: str | None, usage: Usage | None
) -> ResponseObject:
    """``base`` with its output, final status and usage."""
    reason = INCOMPLETE_REASONS.get(finish_reason or "stop")
    return msgspec.structs.replace(
        base,
        status="incomplete" if reason else "completed",
        incomplete_details=IncompleteDetails(reason) if reason else None,
        output=output,
        usage=response_usage(usage),
        completed_at=int(time.time()),
    )


def file_search_call(retrieval: Retrieval, results: bool) -> OutputFileSearchCall:
    """The ``file_search_call`` item for what the retrieval stage found; ``results`` (the
    passages the model saw) when the request's ``include`` asks for them."""
    return OutputFileSearchCall(
        id=new_id("fs"),
        status="completed",
        queries=[retrieval.query] if retrieval.query else [],
        results=[
            {
                "file_id": p.hit.file_id,
                "filename": p.hit.filename,
                "score": p.score,
                "text": p.hit.text,
                "attributes": p.hit.attributes,
            }
            for p in retrieval.passages
        ]
        if results
        else None,
    )


def file_citations(retrieval: Retrieval, text: str) -> list[msgspec.Raw]:
    """Each ``[n]`` marker in ``text`` naming a passage as an ``output_text`` annotation
    ``{"type": "file_citation", "file_id", "filename", "index"}`` (``index``: the marker's offset)."""
    return [
        msgspec.Raw(
            encoder.encode(
                {"type": "file_citation", "file_id": p.hit.file_id, "filename": p.hit.filename, "index": at}
            )
        )
        for at, _, p in retrieval.citations(text)
    ]


def to_response(
    resp: ChatResponse,
    base: ResponseObject,
    retrieval: Retrieval | None = None,
    *,
    search_call: bool = False,
    results: bool = False,
) -> ResponseObject:
    """``retrieval``: what the retrieval stage found (the text's citations); ``search_call``: it
    ran for a ``file_search`` tool (a ``file_search_call`` item first); ``results``: list the
    passages in that item (``include``)."""
    output: list[OutputItem] = []
    if retrieval is not None and search_call:
        output.append(file_search_call(retrieval, results))
    finish_reason = None
    if resp.choices:
        choice = resp.choices[0]
        finish_reason = choice.finish_reason
        msg = choice.message
        status = "incomplete" if finish_reason in INCOMPLETE_REASONS else "completed"
        parts: list[OutputPart] = []
        if msg.content:
            cited = file_citations(retrieval, msg.content) if retrieval is not None else []
            parts.append(OutputTextPart(msg.content, cited))
        if msg.refusal:
            parts.append(RefusalPart(msg.refusal))
        if parts:
            output.append(OutputMessage(id=new_id("msg"), status=status, content=parts))
        for call in msg.tool_calls or ():
            output.append(
                OutputFunctionCall(
                    id=new_id("fc"),
                    call_id=call.id,
                    name=call.function.name,
                    arguments=call.function.arguments,
                    status="completed",
                )
            )
    done = finished(base, output, finish_reason, resp.usage)
    return done if resp.sluice is msgspec.UNSET else msgspec.structs.replace(done, sluice=resp.sluice)


def response_usage(usage: Usage | None) -> ResponseUsage | None:
    if usage is None:
        return None
    details = usage.prompt_tokens_details
    done = usage.completion_tokens_details
    reasoning = OutputTokensDetails(done.reasoning_tokens) if done is not None else OutputTokensDetails()
    return ResponseUsage(
        input_tokens=usage.prompt_tokens,
        input_tokens_details=InputTokensDetails(details.cached_tokens if details else 0),
        output_tokens=usage.completion_tokens,
        output_tokens_details=reasoning,
        total_tokens=usage.total_tokens,
    )
