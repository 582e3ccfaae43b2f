"""Input-token counts for admission and budgets: the message framing OpenAI's cookbook
describes, with each text counted by a ``Count`` (tiktoken's for OpenAI models, from
``tokenizer.Tokenizers``) or, by default, estimated; settle corrects TPM and spend with the
upstream's actual usage.

The estimate: ASCII text is about 4 characters per token (OpenAI's rule of thumb for English
and code); other text counts UTF-8 bytes / 4, since CJK runs near one token per character,
which characters / 4 would undercount fourfold. Each piece is rounded up. On top: 4 tokens per
message (role and separators; ``name`` counted as text), 3 to prime the reply (OpenAI's
cookbook counts 3 + 1 for a name), tool definitions and a JSON schema as their JSON text, and
a fixed cost per image (765: a 1024x1024 image at high detail; 85 at low). Audio and files are
not estimated: their size says little about their tokens.
"""

from __future__ import annotations

from collections.abc import Callable

from sluice.types import ChatRequest, ContentPart, EmbeddingRequest, Message, encoder

PER_MESSAGE = 4
REPLY_PRIMING = 3
IMAGE_TOKENS = 765
IMAGE_TOKENS_LOW = 85


def text_tokens(text: str) -> int:
    """The estimate for one text."""
    size = len(text) if text.isascii() else len(text.encode())
    return -(-size // 4)


Count = Callable[[str], int]


def chat_input_tokens(request: ChatRequest, count: Count = text_tokens) -> int:
    total = REPLY_PRIMING + sum(_message_tokens(m, count) for m in request.messages)
    if request.tools:
        total += count(encoder.encode(request.tools).decode())
    rf = request.response_format
    if rf is not None and rf.json_schema is not None and rf.json_schema.schema is not None:
        total += count(encoder.encode(rf.json_schema.schema).decode())
    return total


def embedding_input_tokens(request: EmbeddingRequest, count: Count = text_tokens) -> int:
    """Texts counted like messages' text; token arrays are counted exactly."""
    items = request.input
    if isinstance(items, str):
        return count(items)
    if all(isinstance(x, int) for x in items):
        return len(items)  # one token array
    return sum(count(x) if isinstance(x, str) else len(x) if isinstance(x, list) else 1 for x in items)


def _message_tokens(m: Message, count: Count) -> int:
    total = PER_MESSAGE
    content = m.content
    if isinstance(content, str):
        total += count(content)
    elif content is not None:
        total += sum(_part_tokens(p, count) for p in content)
    if m.name:
        total += count(m.name)
    for call in m.tool_calls or ():
        total += count(call.function.name) + count(call.function.arguments)
    if m.tool_call_id:
        total += count(m.tool_call_id)
    return total


def _part_tokens(p: ContentPart, count: Count) -> int:
    if p.text is not None:
        return count(p.text)
    if p.image_url is not None:
        return IMAGE_TOKENS_LOW if p.image_url.detail == "low" else IMAGE_TOKENS
    return 0
