"""The Responses stream out: chunk batches from any provider become the Responses API's SSE
events, each with its ``event:`` line and a ``sequence_number``: ``response.created`` and
``response.in_progress``; output items added, filled by deltas and done; then
``response.completed`` (or ``response.incomplete``), or ``error`` and ``response.failed``."""

from __future__ import annotations

from typing import Any

import msgspec

from sluice.api.responses.translate import (
    INCOMPLETE_REASONS,
    file_citations,
    file_search_call,
    finished,
    new_id,
)
from sluice.api.responses.wire import (
    OutputFunctionCall,
    OutputItem,
    OutputMessage,
    OutputPart,
    OutputTextPart,
    RefusalPart,
    ResponseError,
    ResponseObject,
)
from sluice.errors import SluiceError
from sluice.pipeline.retrieval import Retrieval
from sluice.types import ChatChunk, ChunkBatch, ToolCallDelta, Usage, encoder


class ResponsesStreamEncoder:
    """Turns the gateway's chunk batches into Responses stream events.

    One output item is open at a time: the assistant message (its text part, then a refusal
    part if one comes) or a function call; a new one closes the one before. The items sent are
    the ones the final response lists, with the same ids (the SDKs check that they match).
    """

    def __init__(
        self,
        base: ResponseObject,
        retrieval: Retrieval | None = None,
        *,
        search_call: bool = False,
        results: bool = False,
    ) -> None:
        """``retrieval``: what the retrieval stage found (the text's citations); ``search_call``:
        it ran for a ``file_search`` tool (its item first, ``results`` listed in it or not)."""
        self.base = base
        self._retrieval = retrieval
        self._search_call = search_call
        self._results = results
        self._annotations: list[msgspec.Raw] = []
        """The open text part's annotations so far."""
        self.final: ResponseObject | None = None
        """The finished response, once ``finish`` ran."""
        self._seq = 0
        self._output: list[OutputItem] = []
        self._open: OutputMessage | OutputFunctionCall | None = None
        self._part: list[str] | None = None
        """The open message part's text so far (its kind is the last part's type)."""
        self._calls: dict[int, OutputFunctionCall] = {}
        self._finish_reason: str | None = None
        self._usage: Usage | None = None
        self._started = False
        self._tail: bytes | None = None

    def _start(self) -> bytes:
        """``response.created`` and ``response.in_progress``, sent before anything else."""
        if self._started:
            return b""
        self._started = True
        out = self._event("response.created", response=self.base) + self._event(
            "response.in_progress", response=self.base
        )
        if self._retrieval is not None and self._search_call:
            out += self._searched(self._retrieval)
        return out

    def _searched(self, retrieval: Retrieval) -> bytes:
        """The ``file_search_call`` item: added, in progress, searching, completed, done (the
        search ran before the model was asked, so its events come at once)."""
        done = file_search_call(retrieval, self._results)
        added = msgspec.structs.replace(done, status="in_progress", results=None)
        at = len(self._output)
        where = {"item_id": done.id, "output_index": at}
        out = [self._event("response.output_item.added", output_index=at, item=added)]
        for phase in ("in_progress", "searching", "completed"):
            out.append(self._event(f"response.file_search_call.{phase}", **where))
        out.append(self._event("response.output_item.done", output_index=at, item=done))
        self._output.append(done)
        return b"".join(out)

    def encode(self, batch: ChunkBatch) -> bytes:
        """The SSE bytes for one batch (possibly empty)."""
        out = [self._start()]
        for chunk in batch:
            if chunk.usage is not None:
                self._usage = chunk.usage
            self._choices(chunk, out)
        return b"".join(out)

    def finish(self) -> bytes:
        """Close the open item; then ``response.completed``, or ``response.incomplete`` when cut.
        Once: a second call returns the same bytes (the answer may be stored in between)."""
        if self._tail is None:
            out = [self._start()]
            self._close(out)
            final = self.final = finished(self.base, self._output, self._finish_reason, self._usage)
            if self._retrieval is not None:
                report = msgspec.Raw(encoder.encode({"retrieval": self._retrieval.report()}))
                final = self.final = msgspec.structs.replace(final, sluice=report)
            kind = "response.incomplete" if final.status == "incomplete" else "response.completed"
            out.append(self._event(kind, response=final))
            self._tail = b"".join(out)
        return self._tail

    def error(self, err: SluiceError) -> bytes:
        """An ``error`` event and ``response.failed``, for a failure after the stream started."""
        code = err.code or err.type
        failed = msgspec.structs.replace(
            self.base, status="failed", output=self._output, error=ResponseError(code, err.message)
        )
        return (
            self._start()
            + self._event("error", code=code, message=err.message, param=err.param)
            + self._event("response.failed", response=failed)
        )

    def _choices(self, chunk: ChatChunk, out: list[bytes]) -> None:
        for choice in chunk.choices:
            delta = choice.delta
            if delta.content:
                self._text("output_text", delta.content, out)
            if delta.refusal:
                self._text("refusal", delta.refusal, out)
            for call in delta.tool_calls or ():
                self._tool_call(call, out)
            if delta.annotations is not msgspec.UNSET:
                self._annotate(out)
            if choice.finish_reason:
                self._finish_reason = choice.finish_reason

    def _annotate(self, out: list[bytes]) -> None:
        """The open text part's citations of retrieved passages (the gateway's annotations chunk
        comes before the one that finishes the answer), one ``annotation.added`` event each."""
        item, text, r = self._open, self._part, self._retrieval
        if r is None or text is None or not isinstance(item, OutputMessage):
            return
        if not isinstance(item.content[-1], OutputTextPart):
            return
        for annotation in file_citations(r, "".join(text)):
            out.append(
                self._event(
                    "response.output_text.annotation.added",
                    **self._where(item),
                    annotation_index=len(self._annotations),
                    annotation=annotation,
                )
            )
            self._annotations.append(annotation)

    def _text(self, kind: str, text: str, out: list[bytes]) -> None:
        item = self._open
        if not isinstance(item, OutputMessage):
            self._close(out)
            item = self._open = OutputMessage(id=new_id("msg"), status="in_progress", content=[])
            out.append(self._event("response.output_item.added", output_index=len(self._output), item=item))
        if self._part is None or item.content[-1].__struct_config__.tag != kind:
            self._close_part(out)
            part: OutputPart = OutputTextPart("") if kind == "output_text" else RefusalPart("")
            item.content.append(part)
            self._part = []
            self._annotations = []
            out.append(self._event("response.content_part.added", **self._where(item), part=part))
        self._part.append(text)
        if kind == "output_text":
            out.append(
                self._event("response.output_text.delta", **self._where(item), delta=text, logprobs=[])
            )
        else:
            out.append(self._event("response.refusal.delta", **self._where(item), delta=text))

    def _tool_call(self, call: ToolCallDelta, out: list[bytes]) -> None:
        fn = call.function
        item = self._calls.get(call.index)
        if item is None:
            self._close(out)
            name = fn.name if fn is not None and fn.name else ""
            item = OutputFunctionCall(
                id=new_id("fc"),
                call_id=call.id or new_id("call"),
                name=name,
                arguments="",
                status="in_progress",
            )
            self._calls[call.index] = self._open = item
            out.append(self._event("response.output_item.added", output_index=len(self._output), item=item))
        if fn is not None and fn.arguments:
            item.arguments += fn.arguments
            out.append(
                self._event(
                    "response.function_call_arguments.delta",
                    item_id=item.id,
                    output_index=self._index(item),
                    delta=fn.arguments,
                )
            )

    def _index(self, item: OutputItem) -> int:
        return len(self._output) if item is self._open else self._output.index(item)

    def _where(self, item: OutputMessage) -> dict[str, Any]:
        return {"item_id": item.id, "output_index": len(self._output), "content_index": len(item.content) - 1}

    def _close_part(self, out: list[bytes]) -> None:
        item, text = self._open, self._part
        if text is None or not isinstance(item, OutputMessage):
            return
        self._part = None
        joined = "".join(text)
        where = self._where(item)
        part: OutputPart
        if isinstance(item.content[-1], OutputTextPart):
            part = OutputTextPart(joined, self._annotations)
            out.append(self._event("response.output_text.done", **where, text=joined, logprobs=[]))
        else:
            part = RefusalPart(joined)
            out.append(self._event("response.refusal.done", **where, refusal=joined))
        item.content[-1] = part
        out.append(self._event("response.content_part.done", **where, part=part))

    def _close(self, out: list[bytes]) -> None:
        item = self._open
        if item is None:
            return
        self._close_part(out)
        cut = self._finish_reason in INCOMPLETE_REASONS
        item.status = "incomplete" if cut else "completed"
        if isinstance(item, OutputFunctionCall):
            out.append(
                self._event(
                    "response.function_call_arguments.done",
                    item_id=item.id,
                    output_index=len(self._output),
                    name=item.name,
                    arguments=item.arguments,
                )
            )
        out.append(self._event("response.output_item.done", output_index=len(self._output), item=item))
        self._output.append(item)
        self._open = None

    def _event(self, kind: str, **fields: Any) -> bytes:
        seq = self._seq
        self._seq += 1
        data = encoder.encode({"type": kind, "sequence_number": seq, **fields})
        return b"event: " + kind.encode() + b"\ndata: " + data + b"\n\n"
