"""A file's bytes to plain text: text and code, Markdown, HTML, JSON and JSON Lines, PDF (pypdf) and
DOCX (python-docx), within a ``ParseBudget``; anything else, or anything over the budget, is a
``ParseError`` whose code and message a vector store file's ``last_error`` can show.

CPU-bound and blocking: the ingest worker calls it in a worker thread, never on the event loop. The
budget is checked before a library unpacks anything (input bytes, a DOCX's declared unpacked size,
a PDF's page count, pypdf's own decompression limits) and between pages and paragraphs (the
deadline and the text size), so a zip bomb or a pathological PDF fails with a reason instead of
exhausting memory or holding a worker.
"""

from __future__ import annotations

import io
import re
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import PurePosixPath
from typing import Any

import msgspec

from sluice.errors import ParseError

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

# Plain text read as is: OpenAI's file_search list of text types, less the binary office formats.
_TEXT_SUFFIXES = frozenset(
    ".txt .text .md .markdown .c .cc .cpp .h .hpp .cs .css .go .java .js .ts .php .py .rb .rs .sh .tex .csv"
    " .xml .yaml .yml .toml .ini .log .sql".split()
)
_KIND_BY_SUFFIX = {".html": "html", ".htm": "html", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_KIND_BY_SUFFIX |= {".pdf": "pdf", ".docx": "docx"}
_KIND_BY_TYPE = {
    "text/html": "html",
    "application/xhtml+xml": "html",
    "application/json": "json",
    "application/jsonl": "jsonl",
    "application/x-ndjson": "jsonl",
    "application/pdf": "pdf",
    DOCX_TYPE: "docx",
}
_HEADING_STYLE = re.compile(r"Heading ?([1-6])")


@dataclass(frozen=True, slots=True)
class ParseBudget:
    """What one parse may use. ``max_unpacked_bytes`` bounds what a container may inflate to (a
    DOCX's parts, each PDF stream); the deadline is checked between pages and paragraphs."""

    max_bytes: int = 64 * 1024 * 1024
    max_unpacked_bytes: int = 256 * 1024 * 1024
    max_text_chars: int = 8 * 1024 * 1024
    max_pages: int = 5000
    deadline_s: float = 60.0


class _Meter:
    """The running checks of one parse: elapsed time and the text produced so far."""

    def __init__(self, budget: ParseBudget, clock: Callable[[], float]) -> None:
        self._budget = budget
        self._clock = clock
        self._deadline = clock() + budget.deadline_s
        self._chars = 0

    def check(self, added_chars: int = 0) -> None:
        self._chars += added_chars
        if self._chars > self._budget.max_text_chars:
            raise ParseError(f"the file's text is over {self._budget.max_text_chars} characters")
        if self._clock() > self._deadline:
            raise ParseError(f"parsing took longer than {self._budget.deadline_s:g}s")


def kind_of(filename: str, content_type: str | None = None) -> str:
    """``text``, ``html``, ``json``, ``jsonl``, ``pdf`` or ``docx``: by the media type when it names
    one, else by the file name's suffix; ``ParseError`` (``unsupported_file``) otherwise."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media in _KIND_BY_TYPE:
        return _KIND_BY_TYPE[media]
    suffix = PurePosixPath(filename.lower()).suffix
    if suffix in _KIND_BY_SUFFIX:
        return _KIND_BY_SUFFIX[suffix]
    if suffix in _TEXT_SUFFIXES or media.startswith("text/"):
        return "text"
    raise ParseError(
        f"files of type {media or suffix or 'unknown'} are not supported", code="unsupported_file"
    )


def parse(
    data: bytes,
    filename: str,
    content_type: str | None = None,
    *,
    budget: ParseBudget | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> str:
    """The text of a file. Markdown stays as written; HTML's and DOCX's headings become lines
    starting with ``#`` (one per level), so the chunker and a reader see the document's outline."""
    budget = budget or ParseBudget()
    kind = kind_of(filename, content_type)
    if len(data) > budget.max_bytes:
        raise ParseError(f"the file is over {budget.max_bytes} bytes")
    meter = _Meter(budget, clock)
    if kind == "pdf":
        text = _pdf(data, budget, meter)
    elif kind == "docx":
        text = _docx(data, budget, meter)
    else:
        text = _decode(data)
        if kind == "html":
            text = _html(text, meter)
        elif kind == "json":
            _check_json(text)
        elif kind == "jsonl":
            for n, line in enumerate(text.splitlines(), 1):
                if line.strip():
                    _check_json(line, f" on line {n}")
    meter.check(len(text))
    return text


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as e:
        raise ParseError(
            f"the file is not {encoding.removesuffix('-sig').upper()} text (byte {e.start})"
        ) from None
    if "\x00" in text:
        raise ParseError("the file is binary, not text (it contains NUL characters)")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _check_json(text: str, where: str = "") -> None:
    try:
        msgspec.json.decode(text)
    except msgspec.DecodeError as e:
        raise ParseError(f"the file is not valid JSON{where}: {e}") from None


class _HtmlText(HTMLParser):
    """Text of an HTML page: block elements start lines, headings become ``#`` lines, and script,
    style and the head's metadata are dropped (the title is kept as the first heading)."""

    _SKIP = frozenset({"script", "style", "noscript", "template", "svg", "head"})
    _BLOCK = frozenset(
        "p div br li ul ol tr table section article header footer nav aside main blockquote pre dt dd"
        " figure figcaption hr form fieldset details summary address".split()
    )
    _HEADING = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}

    def __init__(self, meter: _Meter) -> None:
        super().__init__(convert_charrefs=True)
        self._meter = meter
        self._lines: list[str] = []
        self._line: list[str] = []
        self._skip = 0
        self._in_title = False
        self._title: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in self._SKIP:
            self._skip += 1
        elif tag in self._BLOCK or tag in self._HEADING:
            self._end_line()
            if tag in self._HEADING:
                self._line.append("#" * self._HEADING[tag] + " ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in self._SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in self._BLOCK or tag in self._HEADING:
            self._end_line()

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self._title.append(data)
        elif not self._skip:
            self._line.append(data)

    def _end_line(self) -> None:
        line = " ".join("".join(self._line).split())
        self._line = []
        if line and line.strip("# "):
            self._lines.append(line)
            self._meter.check(len(line))

    def text(self) -> str:
        self._end_line()
        title = " ".join("".join(self._title).split())
        if title and not (self._lines and self._lines[0].lstrip("# ") == title):
            self._lines.insert(0, "# " + title)
        return "\n\n".join(self._lines)


def _html(text: str, meter: _Meter) -> str:
    parser = _HtmlText(meter)
    parser.feed(text)
    parser.close()
    return parser.text()


def _pdf(data: bytes, budget: ParseBudget, meter: _Meter) -> str:
    import pypdf  # imported by the first PDF, not at startup

    limit = budget.max_unpacked_bytes
    limits: dict[str, Any] = {
        name: limit
        for name in (
            "maximum_declared_stream_length",
            "array_based_stream_maximum_output_length",
            "jbig2_maximum_output_length",
            "lzw_maximum_output_length",
            "run_length_maximum_output_length",
            "zlib_maximum_output_length",
            "brotli_maximum_output_length",
            "image_maximum_buffer_size",
            "stream_decoding_work_maximum_length",
        )
    }
    pages: list[str] = []
    try:
        with pypdf.apply_configuration(pypdf.Configuration(disable_legacy_handling=True, **limits)):
            reader = pypdf.PdfReader(io.BytesIO(data))
            if reader.is_encrypted and not reader.decrypt(""):
                raise ParseError("the PDF is encrypted with a password")
            if len(reader.pages) > budget.max_pages:
                raise ParseError(f"the PDF has more than {budget.max_pages} pages")
            for page in reader.pages:
                meter.check()
                text = page.extract_text()
                meter.check(len(text))
                pages.append(text.strip())
    except ParseError:
        raise
    except pypdf.errors.LimitReachedError as e:
        raise ParseError(f"the PDF is over the parse budget: {e}") from None
    except Exception as e:
        # pypdf on untrusted input raises many kinds (KeyError, ValueError, RecursionError, its own);
        # every one means the same to the file: it cannot be read.
        raise ParseError(f"the PDF cannot be read ({type(e).__name__})") from None
    return "\n\n".join(p for p in pages if p)


def _docx(data: bytes, budget: ParseBudget, meter: _Meter) -> str:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ParseError("the DOCX is not a valid zip archive") from None
    with archive:
        # zipfile stops each member at its declared size and checks its CRC, so the declared sizes
        # bound what python-docx can inflate.
        members = archive.infolist()
        unpacked = sum(m.file_size for m in members)
        if len(members) > 10_000 or unpacked > budget.max_unpacked_bytes:
            raise ParseError(f"the DOCX unpacks to more than {budget.max_unpacked_bytes} bytes")
    import docx  # imported by the first DOCX, not at startup
    from docx.table import Table

    blocks: list[str] = []
    try:
        document = docx.Document(io.BytesIO(data))
        for item in document.iter_inner_content():
            meter.check()
            if isinstance(item, Table):
                for row in item.rows:
                    cells = " | ".join(" ".join(c.text.split()) for c in row.cells)
                    blocks.append(cells)
                    meter.check(len(cells))
                continue
            text = " ".join(item.text.split())
            style = (item.style.name if item.style is not None else None) or ""
            heading = _HEADING_STYLE.fullmatch(style)
            if text and heading:
                text = "#" * int(heading[1]) + " " + text
            elif text and style == "Title":
                text = "# " + text
            if text:
                blocks.append(text)
                meter.check(len(text))
    except ParseError:
        raise
    except Exception as e:
        # python-docx and lxml on untrusted input: a missing part, bad XML, a bad relationship.
        raise ParseError(f"the DOCX cannot be read ({type(e).__name__})") from None
    return "\n\n".join(blocks)
