"""Exact input-token counts for OpenAI models with tiktoken, without a network.

tiktoken downloads its encodings on first use, which a gateway without internet access cannot
do, so the two that current OpenAI models use ship inside this package
(``encodings/{cl100k_base,o200k_base}.tiktoken.gz``, OpenAI's files byte for byte: each is checked
against the SHA-256 tiktoken itself pins before use). Which encoding a deployment's model uses is
tiktoken's own mapping (``gpt-4o*``, ``gpt-4.1*``, ``o1``/``o3``/``o4``: o200k_base; ``gpt-4``,
``gpt-3.5``, ``text-embedding-3-*``: cl100k_base); any other model (Anthropic's, local ones, the
simulator) is estimated (``tokens.text_tokens``).

An encoding costs memory (o200k_base: ~50 MiB resident, see docs/benchmarks.md) and ~0.4 s to build, so it is
built only when a request first needs a count for its model (only requests under limits or
budgets are counted), in a thread, off the event loop; requests counted before it is ready are
estimated.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import logging
import threading
from importlib import resources
from typing import Any

from sluice.limits.tokens import Count, text_tokens

log = logging.getLogger("sluice.limits")

# From tiktoken_ext.openai_public (tiktoken 0.14.0): the files' hashes and split patterns.
_ENCODINGS = {
    "cl100k_base": (
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s""",
    ),
    "o200k_base": (
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        "|".join(
            [
                r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
                r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
                r"""\p{N}{1,3}""",
                r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
                r"""\s*[\r\n]+""",
                r"""\s+(?!\S)""",
                r"""\s+""",
            ]
        ),
    ),
}


def encoding_for(model: str) -> str | None:
    """The bundled encoding tiktoken uses for ``model``, or None (then the count is estimated)."""
    from tiktoken.model import encoding_name_for_model

    try:
        name = encoding_name_for_model(model)
    except KeyError:
        return None
    return name if name in _ENCODINGS else None


def load_encoding(name: str) -> Any:
    """A ``tiktoken.Encoding`` from the bundled file (ValueError when its hash is wrong)."""
    import tiktoken

    expected_hash, pat_str = _ENCODINGS[name]
    data = gzip.decompress(
        resources.files("sluice.limits").joinpath(f"encodings/{name}.tiktoken.gz").read_bytes()
    )
    if hashlib.sha256(data).hexdigest() != expected_hash:
        raise ValueError(f"the bundled {name} encoding does not match tiktoken's hash")
    ranks = {
        base64.b64decode(token): int(rank)
        for token, rank in (line.split() for line in data.splitlines() if line)
    }
    encoding = tiktoken.Encoding(name, pat_str=pat_str, mergeable_ranks=ranks, special_tokens={})
    # tiktoken keeps the ranks in Python too, for ``token_byte_values`` only (unused here): ~27 MiB.
    encoding._mergeable_ranks = {}
    return encoding


class Tokenizers:
    """One ``Count`` per model: tiktoken's when the model has a bundled encoding and it is built,
    else the estimate. ``enabled`` False (``limits.tokenizer: estimate``) always estimates."""

    def __init__(self, *, enabled: bool = True) -> None:
        self._enabled = enabled
        self._counters: dict[str, Count] = {}
        self._by_model: dict[str, str | None] = {}
        self._ready: dict[str, Count] = {}
        self._loading: set[str] = set()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def counter(self, model: str) -> Count:
        """The ``Count`` for ``model``. Cheap to ask for on every request: nothing is resolved or
        built until it first counts something (only requests under limits or budgets count)."""
        if not self._enabled:
            return text_tokens
        count = self._counters.get(model)
        if count is None:
            count = self._counters[model] = functools.partial(self._count, model)
        return count

    def _count(self, model: str, text: str) -> int:
        try:
            name = self._by_model[model]
        except KeyError:
            name = self._by_model[model] = encoding_for(model)
        if name is None:
            return text_tokens(text)
        count = self._ready.get(name)
        if count is not None:
            return count(text)
        self._start_loading(name)
        return text_tokens(text)

    def wait_ready(self, timeout_s: float = 30.0) -> None:
        """Block until the encodings being built are ready (for tests and benchmarks)."""
        for t in list(self._threads):
            t.join(timeout_s)

    def _start_loading(self, name: str) -> None:
        with self._lock:
            if name in self._loading:
                return
            self._loading.add(name)
            thread = threading.Thread(
                target=self._load, args=(name,), name=f"sluice-tokenizer-{name}", daemon=True
            )
            self._threads.append(thread)
        thread.start()

    def _load(self, name: str) -> None:
        try:
            encode = load_encoding(name).encode_ordinary
        except Exception:  # a broken install must not take requests down: they stay estimated
            log.exception("tokenizer %s could not be loaded; counting by estimate", name)
            return

        def count(text: str) -> int:
            return len(encode(text))

        self._ready[name] = count
        log.info("tokenizer %s ready", name)
