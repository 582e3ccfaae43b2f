"""OpenAI's legacy Completions API (``POST /v1/completions``) at its edge: each prompt becomes one
``ChatRequest`` (a single ``user`` message holding the prompt text), and the chat answers (or
chunks) come back as ``text_completion`` objects.

What is translated: ``max_tokens`` (16 when absent, Completions' own default), ``temperature``,
``top_p``, ``n``, ``stop``, ``seed``, the penalties, ``logit_bias``, ``user``, ``stream`` and
``stream_options``, the gateway's ``sluice`` options, and ``logprobs: k`` (asked as chat
``logprobs`` with ``top_logprobs: k``, answered in Completions' ``tokens`` / ``token_logprobs`` /
``top_logprobs`` / ``text_offset`` shape; a provider that has none refuses it). What is refused
with a 400 naming the parameter: token-array prompts (the gateway cannot detokenize for an
arbitrary model), ``echo: true``, ``best_of`` above 1, a non-empty ``suffix``, ``max_tokens: 0``,
an empty prompt list, more than ``MAX_PROMPTS`` prompts, and more than one prompt on a stream.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import Meta, Raw, Struct

from sluice.errors import InvalidRequestError
from sluice.types import (
    INT32_MAX,
    ChatChunk,
    ChatRequest,
    ChatResponse,
    ChunkBatch,
    Int64,
    LogitBias,
    Message,
    Penalty,
    Probability,
    SluiceOptions,
    StreamOptions,
    Temperature,
    Usage,
    encoder,
)

DEFAULT_MAX_TOKENS = 16
"""OpenAI's default for ``max_tokens`` on this endpoint (the spec's ``default: 16``)."""
MAX_PROMPTS = 16
"""A list prompt runs the pipeline once per prompt, concurrently: at most this many per request."""


class CompletionRequest(Struct, omit_defaults=True, forbid_unknown_fields=True):
    """``CreateCompletionRequest`` from OpenAI's OpenAPI spec, field by field."""

    model: str
    prompt: str | list[Any] | None
    best_of: Annotated[int, Meta(ge=0, le=20)] | None = None
    echo: bool | None = None
    frequency_penalty: Penalty | None = None
    logit_bias: dict[str, LogitBias] | None = None
    logprobs: Annotated[int, Meta(ge=0, le=5)] | None = None
    max_tokens: Annotated[int, Meta(ge=0, le=INT32_MAX)] | None = None
    n: Annotated[int, Meta(ge=1, le=128)] | None = None
    presence_penalty: Penalty | None = None
    seed: Int64 | None = None
    stop: str | Annotated[list[str], Meta(max_length=4)] | None = None
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    suffix: str | None = None
    temperature: Temperature | None = None
    top_p: Probability | None = None
    user: str | None = None
    sluice: SluiceOptions | None = None


completion_request_decoder = msgspec.json.Decoder(CompletionRequest)


class CompletionLogprobs(Struct):
    tokens: list[str]
    token_logprobs: list[float]
    top_logprobs: list[dict[str, float]]
    text_offset: list[int]


class CompletionChoice(Struct):
    """Every field always encoded: the spec requires ``logprobs`` and ``finish_reason``, null or not."""

    text: str
    index: int
    logprobs: CompletionLogprobs | None
    finish_reason: str | None


class Completion(Struct, omit_defaults=True):
    id: str
    object: str
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: Usage | None = None
    system_fingerprint: str | None = None


# --- request -----------------------------------------------------------------------------


def prompts(req: CompletionRequest) -> list[str]:
    """The prompt texts, one per choice group.

    Raises:
        InvalidRequestError: naming ``prompt`` (token arrays, an empty or too long list, a list
            on a stream), ``echo``, ``best_of``, ``suffix`` or ``max_tokens``.
    """
    if req.echo:
        raise InvalidRequestError("echo is not supported by this gateway.", param="echo")
    if req.best_of is not None and req.best_of > 1:
        raise InvalidRequestError("best_of greater than 1 is not supported by this gateway.", param="best_of")
    if req.suffix:
        raise InvalidRequestError("suffix (text insertion) is not supported by this gateway.", param="suffix")
    if req.max_tokens == 0:
        raise InvalidRequestError(
            "max_tokens must be at least 1 (echo is not supported).", param="max_tokens"
        )
    p = req.prompt
    if p is None:
        return [""]  # the spec's default, <|endoftext|>: a document's start, i.e. no text
    if isinstance(p, str):
        return [p]
    if not p:
        raise InvalidRequestError("prompt must not be an empty list.", param="prompt")
    if not all(isinstance(x, str) for x in p):
        raise InvalidRequestError(
            "prompt as token ids is not supported by this gateway; send the text.", param="prompt"
        )
    if len(p) > MAX_PROMPTS:
        raise InvalidRequestError(
            f"prompt may hold at most {MAX_PROMPTS} strings here; send several requests.", param="prompt"
        )
    if len(p) > 1 and req.stream:
        raise InvalidRequestError(
            "a list of prompts cannot be streamed by this gateway; send one request per prompt.",
            param="prompt",
        )
    return p


def to_chat_request(req: CompletionRequest, prompt: str) -> ChatRequest:
    """One prompt as a chat request: a single ``user`` message with the prompt text."""
    return ChatRequest(
        model=req.model,
        messages=[Message(role="user", content=prompt)],
        stream=bool(req.stream),
        stream_options=req.stream_options,
        max_tokens=req.max_tokens or DEFAULT_MAX_TOKENS,
        temperature=req.temperature,
        top_p=req.top_p,
        n=req.n,
        stop=req.stop,
        seed=req.seed,
        user=req.user,
        frequency_penalty=req.frequency_penalty,
        presence_penalty=req.presence_penalty,
        logit_bias=req.logit_bias,
        logprobs=True if req.logprobs is not None else None,
        top_logprobs=req.logprobs,
        sluice=req.sluice,
    )


# --- response ----------------------------------------------------------------------------


class _TopLogprob(Struct):
    token: str
    logprob: float


class _TokenLogprob(Struct):
    token: str
    logprob: float
    top_logprobs: list[_TopLogprob] = []


class _ChatLogprobs(Struct):
    content: list[_TokenLogprob] | None = None


_chat_logprobs_decoder = msgspec.json.Decoder(_ChatLogprobs)


def completion_logprobs(raw: Raw | None, offset: int) -> CompletionLogprobs | None:
    """Chat ``logprobs.content`` in Completions' shape; ``offset`` is where the first token starts
    in prompt + completion (Completions counts ``text_offset`` from the prompt's start)."""
    if raw is None:
        return None
    try:
        content = _chat_logprobs_decoder.decode(raw).content
    except msgspec.DecodeError:
        return None  # a provider's odd logprobs do not fail the answer: they are optional data
    if content is None:
        return None
    out = CompletionLogprobs([], [], [], [])
    for t in content:
        out.tokens.append(t.token)
        out.token_logprobs.append(t.logprob)
        top = {x.token: x.logprob for x in t.top_logprobs}
        top.setdefault(t.token, t.logprob)  # the sampled token is always among them
        out.top_logprobs.append(top)
        out.text_offset.append(offset)
        offset += len(t.token)
    return out


def completion_id(chat_id: str) -> str:
    return chat_id if chat_id.startswith("cmpl-") else f"cmpl-{chat_id.removeprefix('chatcmpl-')}"


def to_completion(responses: list[ChatResponse], prompt_texts: list[str], n: int) -> bytes:
    """The ``text_completion`` for the answers to each prompt, in order: choice ``i * n + j`` is
    prompt ``i``'s ``j``-th; usage is summed over the prompts."""
    first = responses[0]
    choices: list[CompletionChoice] = []
    prompt_tokens = completion_tokens = 0
    has_usage = False
    for i, (resp, text) in enumerate(zip(responses, prompt_texts, strict=True)):
        for c in resp.choices:
            raw = c.logprobs if isinstance(c.logprobs, Raw) else None
            answer = c.message.content or c.message.refusal or ""
            choices.append(
                CompletionChoice(
                    answer, i * n + c.index, completion_logprobs(raw, len(text)), c.finish_reason
                )
            )
        if resp.usage is not None:
            has_usage = True
            prompt_tokens += resp.usage.prompt_tokens
            completion_tokens += resp.usage.completion_tokens
    usage = Usage(prompt_tokens, completion_tokens, prompt_tokens + completion_tokens) if has_usage else None
    body = Completion(
        completion_id(first.id),
        "text_completion",
        first.created,
        first.model,
        choices,
        usage=usage,
        system_fingerprint=first.system_fingerprint,
    )
    return encoder.encode(body)


class CompletionStreamEncoder:
    """Chat chunk batches -> ``text_completion`` SSE events (one prompt per stream). Chunks
    with nothing to say in this shape (the role-only first delta) are skipped; the usage chunk
    (no choices) is kept."""

    def __init__(self, prompt: str) -> None:
        self._offsets: dict[int, int] = {}
        self._prompt_len = len(prompt)

    def encode(self, batch: ChunkBatch) -> bytes:
        out: list[bytes] = []
        for chunk in batch:
            event = self._event(chunk)
            if event is not None:
                out.append(b"data: " + encoder.encode(event) + b"\n\n")
        return b"".join(out)

    def _event(self, chunk: ChatChunk) -> Completion | None:
        choices: list[CompletionChoice] = []
        for c in chunk.choices:
            text = c.delta.content or c.delta.refusal or ""
            if not text and c.finish_reason is None:
                continue
            offset = self._offsets.get(c.index, self._prompt_len)
            raw = c.logprobs if isinstance(c.logprobs, Raw) else None
            logprobs = completion_logprobs(raw, offset)
            if logprobs is not None:
                offset += sum(len(t) for t in logprobs.tokens)
            self._offsets[c.index] = offset
            choices.append(CompletionChoice(text, c.index, logprobs, c.finish_reason))
        if not choices and chunk.usage is None:
            return None
        return Completion(
            completion_id(chunk.id),
            "text_completion",
            chunk.created,
            chunk.model,
            choices,
            usage=chunk.usage,
            system_fingerprint=chunk.system_fingerprint,
        )
