"""Guardrails on a streamed answer without buffering it: a hold-back window releases text only up
to a boundary no finding can still cross, so redacting (or checking) a stream chunk by chunk gives
what redacting the whole answer at once gives; and placeholders turned back into originals.
"""

from __future__ import annotations

import re
import string
from collections.abc import AsyncIterator, Callable, Collection, Mapping
from typing import Protocol

import msgspec

from sluice.guardrails.pii import ALL, Kind, find, may_hold
from sluice.types import ChatChunk, ChunkBatch, ChunkChoice, Delta

# The text up to the last character that no finding can contain: anything but letters, digits and
# the punctuation of emails, numbers, keys and addresses ("._%+-@()/:~="). Whitespace is one, so
# a run without one (an email, a key, a JWT) is never split, however long; an item with spaces
# in it (a card, a phone, an IBAN) is found whole inside the window and the cut moves before it.
_UP_TO_LAST_BREAK = re.compile(r".*[^\w.%+\-@()/:~=]", re.DOTALL)
_PLACEHOLDER = re.compile(rf"\[(?:{'|'.join(Kind)})_\d+\]")
# What PII with spaces in it is made of (cards, phones, IBANs, a private key's BEGIN line): while
# the answer ends in a run of these, the run may still grow into a finding, so it stays held.
_SPACED_ITEM_CHARS = frozenset(string.digits + string.ascii_uppercase + " +-().:/")
# A private key is held whole until its END line; a PEM block of an 8192-bit RSA key is ~6.4 KB.
_KEY_CHARS = 8192
# Detectors look at most two characters past an item ("4111 ... 1111." is a card, "1111.5" not).
_LOOKAHEAD = 2


class Gate(Protocol):
    """Decides how much of a hold-back's due text may go out, and in what form."""

    def unsettled(self, text: str, floor: int) -> int:
        """Where the tail of ``text`` that more text could still turn into a match begins: at
        ``floor`` (the window) at the earliest, unless a match longer than any window is under
        way (a private key). As text is added it may move back only to where no match can
        reach past an earlier answer."""
        ...

    def release(self, text: str, start: int, cut: int) -> tuple[int, str]:
        """``text[:start]`` went out already (kept as context for look-behinds); ``text[start:cut]``
        is due, ending after a break or at the end of the answer (``cut == len(text)``); the rest
        is held. Returns ``end`` (``start <= end <= cut``: a match across ``cut`` moves it back)
        and what ``text[start:end]`` becomes."""
        ...


class DeltaFilter(Protocol):
    """Takes an answer's deltas in order and gives back what may be sent so far."""

    def feed(self, delta: str) -> str: ...

    def flush(self) -> str: ...


class HoldBack:
    """Holds back the tail of a stream that ``gate`` says may still become a match, and never
    more than ``window_chars`` characters besides the run without a break they start in; passes
    the text before it through ``gate``.

    The window must hold the longest match with spaces the gate looks for: a spaced 19-digit card
    is 23 characters, an IBAN in print format 42. ``context_chars`` of released text stay for the
    detectors' look-behinds ("Bearer ", "version ")."""

    def __init__(self, gate: Gate, window_chars: int = 64, context_chars: int = 64) -> None:
        self._gate = gate
        self._window = window_chars
        self._context = context_chars
        self._text = ""  # released context, then the held text
        self._start = 0  # where the held text begins
        self._scanned = 0  # _text[:_scanned] has been searched for breaks
        self._cut = 0  # just after the last break found
        self._tried = 0  # the cut last offered to the gate

    @property
    def held_chars(self) -> int:
        return len(self._text) - self._start

    def feed(self, delta: str) -> str:
        self._text += delta
        n = len(self._text)
        floor = max(self._start, n - self._window)
        limit = min(n - _LOOKAHEAD, self._gate.unsettled(self._text, floor))
        if limit > self._scanned:
            m = _UP_TO_LAST_BREAK.match(self._text, self._scanned, limit)
            if m is not None:
                self._cut = m.end()
            self._scanned = limit
        if self._cut <= max(self._start, self._tried):
            return ""
        self._tried = self._cut
        return self._release(self._cut)

    def flush(self) -> str:
        """The held rest, at the end of the answer."""
        return self._release(len(self._text))

    def _release(self, cut: int) -> str:
        end, out = self._gate.release(self._text, self._start, cut)
        drop = max(0, end - self._context)
        if drop:
            self._text = self._text[drop:]
            self._scanned = max(0, self._scanned - drop)
            self._cut = max(0, self._cut - drop)
            self._tried = max(0, self._tried - drop)
        self._start = end - drop
        return out


class Redactor:
    """A gate that replaces PII and secrets with ``[KIND_n]`` as ``pii.redact`` does, numbering
    placeholders over the whole stream: the same value gets the same placeholder throughout."""

    def __init__(self, *, reversible: bool = False, kinds: Collection[Kind] = ALL) -> None:
        self._reversible = reversible
        self._kinds = kinds
        self._placeholders: dict[tuple[Kind, str], str] = {}
        self._numbers: dict[Kind, int] = {}
        self._taken: set[str] = set()  # placeholders the answer wrote itself
        self.findings: dict[Kind, int] = {}
        self.originals: dict[str, str] = {}

    def unsettled(self, text: str, floor: int) -> int:
        if Kind.PRIVATE_KEY in self._kinds and (begin := self._key_in_progress(text)) != -1:
            # Held from the run it begins in, whole: a growing key must not lose to a shorter
            # finding it overlaps ("...KEY=sk-...-----BEGIN").
            m = _UP_TO_LAST_BREAK.match(text, 0, begin)
            return m.end() if m else 0
        i = len(text)
        while i > floor and text[i - 1] in _SPACED_ITEM_CHARS:
            i -= 1
        return i

    @staticmethod
    def _key_in_progress(text: str) -> int:
        """Where a private key without its END line yet begins (-1 when none), unless it has
        gone on for longer than any key: then it was cut off and the window suffices."""
        begin = text.rfind("-----BEGIN ")
        if begin == -1 or len(text) - begin > _KEY_CHARS:
            return -1
        label_end = text.find("-----", begin + 11)
        if label_end != -1 and "PRIVATE KEY" not in text[begin:label_end]:
            return -1  # a certificate or a public key
        end = text.find("-----END ", begin)
        return begin if end == -1 or text.find("-----", end + 9) == -1 else -1

    def release(self, text: str, start: int, cut: int) -> tuple[int, str]:
        if "[" in text:  # the context too: a cut may fall inside a placeholder ("[" is a break)
            self._taken.update(_PLACEHOLDER.findall(text))
        # Only findings from ``start`` on count, and each holds its evidence in its own span.
        hits = [f for f in find(text, self._kinds) if f.start >= start] if may_hold(text[start:]) else []
        parts: list[str] = []
        pos = start
        for kind, s, e in hits:
            if e > cut:
                cut = min(cut, s)
                break
            parts += (text[pos:s], self._placeholder(kind, text[s:e]))
            pos = e
        parts.append(text[pos:cut])
        return cut, "".join(parts)

    def _placeholder(self, kind: Kind, value: str) -> str:
        self.findings[kind] = self.findings.get(kind, 0) + 1
        placeholder = self._placeholders.get((kind, value))
        if placeholder is None:
            n = self._numbers.get(kind, 0) + 1
            while (placeholder := f"[{kind}_{n}]") in self._taken:
                n += 1
            self._numbers[kind] = n
            self._placeholders[kind, value] = placeholder
            if self._reversible:
                self.originals[placeholder] = value
        return placeholder


class Restorer:
    """Puts originals back for placeholders in a streamed answer (``Redacted.originals`` of the
    prompt), holding back only a tail that could be the start of one (``[EMA``)."""

    def __init__(self, originals: Mapping[str, str]) -> None:
        self._originals = originals
        keys = sorted(originals, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, keys))) if keys else None
        self._longest = len(keys[0]) if keys else 0
        self._held = ""

    @property
    def held_chars(self) -> int:
        return len(self._held)

    def feed(self, delta: str) -> str:
        if self._pattern is None:
            return delta
        text = self._held + delta
        # A placeholder holds no brackets but its own, so a partial one starts at the last "[".
        i = text.rfind("[", max(0, len(text) - self._longest + 1))
        cut = len(text) if i == -1 or "]" in text[i:] else i
        self._held = text[cut:]
        return self._restore(text[:cut])

    def flush(self) -> str:
        text, self._held = self._held, ""
        return self._restore(text)

    def _restore(self, text: str) -> str:
        if self._pattern is None or "[" not in text:
            return text
        return self._pattern.sub(lambda m: self._originals[m.group()], text)


async def filter_chunks(
    batches: AsyncIterator[ChunkBatch], make: Callable[[], DeltaFilter]
) -> AsyncIterator[ChunkBatch]:
    """``batches`` with each choice's ``delta.content`` passed through its own filter from
    ``make``. Released text goes out in the chunk it arrived with (held text in a later one, as
    ``""`` meanwhile); the held rest goes into the chunk with the choice's ``finish_reason``, or
    into one more chunk if the stream ends without one."""
    filters: dict[int, DeltaFilter] = {}
    finished: set[int] = set()
    last: ChatChunk | None = None
    async for batch in batches:
        for chunk in batch:
            for choice in chunk.choices:
                f = filters.get(choice.index)
                if f is None:
                    f = filters[choice.index] = make()
                content = choice.delta.content
                if content:
                    content = f.feed(content)
                if choice.finish_reason is not None and choice.index not in finished:
                    finished.add(choice.index)
                    if tail := f.flush():
                        content = (content or "") + tail
                choice.delta.content = content
            last = chunk
        yield batch
    tails = [(i, f.flush()) for i, f in filters.items() if i not in finished]
    choices = [ChunkChoice(index=i, delta=Delta(content=t), finish_reason=None) for i, t in tails if t]
    if choices and last is not None:
        yield [msgspec.structs.replace(last, choices=choices, usage=None)]
