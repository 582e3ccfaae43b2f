"""What an uploaded file may be, by purpose: its kind from the filename's extension, confirmed
by its content (a PDF's magic, a DOCX's zip entries, text that is UTF-8, JSON that parses, a
JSONL whose every line does). The checks read the bytes one bounded slice at a time."""

from __future__ import annotations

import codecs
from collections.abc import Iterator

import msgspec

from sluice.errors import InvalidRequestError

PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")  # OpenAI's CreateFileRequest
_SLICE = 1024 * 1024

# extension -> (kind, the content type it is served with)
KINDS: dict[str, tuple[str, str]] = {
    ".txt": ("text", "text/plain; charset=utf-8"),
    ".text": ("text", "text/plain; charset=utf-8"),
    ".md": ("text", "text/markdown; charset=utf-8"),
    ".markdown": ("text", "text/markdown; charset=utf-8"),
    ".html": ("text", "text/html; charset=utf-8"),
    ".htm": ("text", "text/html; charset=utf-8"),
    ".json": ("json", "application/json"),
    ".jsonl": ("jsonl", "application/jsonl"),
    ".pdf": ("pdf", "application/pdf"),
    ".docx": ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ".png": ("png", "image/png"),
    ".jpg": ("jpeg", "image/jpeg"),
    ".jpeg": ("jpeg", "image/jpeg"),
    ".gif": ("gif", "image/gif"),
    ".webp": ("webp", "image/webp"),
}
_DOCUMENTS = (".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl", ".pdf", ".docx")
ACCEPTED: dict[str, tuple[str, ...]] = {
    "assistants": _DOCUMENTS,
    "user_data": _DOCUMENTS,
    "batch": (".jsonl",),
    "fine-tune": (".jsonl",),
    "evals": (".jsonl",),
    "vision": (".png", ".jpg", ".jpeg", ".gif", ".webp"),
}
_IMAGES: dict[str, tuple[bytes, ...]] = {
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpeg": (b"\xff\xd8\xff",),
    "gif": (b"GIF87a", b"GIF89a"),
}


def extension(filename: str) -> str:
    dot = filename.rfind(".")
    return filename[dot:].lower() if dot > 0 else ""


def content_type(filename: str) -> str:
    return KINDS.get(extension(filename), ("", "application/octet-stream"))[1]


def check(filename: str, purpose: str, data: bytearray) -> None:
    """Raise a 400 naming ``file`` unless the file is a kind ``purpose`` accepts. CPU-bound on
    large files: run it off the event loop."""
    accepted = ACCEPTED[purpose]
    ext = extension(filename)
    if ext not in accepted:
        raise _refused(purpose, f"'{ext or filename}' is not a kind this purpose accepts")
    kind = KINDS[ext][0]
    problem = _problem(kind, data)
    if problem is not None:
        raise _refused(purpose, problem)


def _refused(purpose: str, problem: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"file: {problem}; purpose '{purpose}' accepts {', '.join(ACCEPTED[purpose])}"
        + (" (JSON Lines: one JSON object per line)" if ACCEPTED[purpose] == (".jsonl",) else "")
        + ".",
        param="file",
        code="invalid_file_format",
    )


def _problem(kind: str, data: bytearray) -> str | None:
    head = bytes(data[:4096])
    if kind == "pdf":
        return None if head.startswith(b"%PDF-") else "the content is not a PDF"
    if kind == "docx":
        is_docx = head.startswith(b"PK\x03\x04") and (b"[Content_Types].xml" in head or b"word/" in head)
        return None if is_docx else "the content is not a DOCX document"
    if kind == "webp":
        return None if head[:4] == b"RIFF" and head[8:12] == b"WEBP" else "the content is not a WebP image"
    if kind in _IMAGES:
        return None if head.startswith(_IMAGES[kind]) else f"the content is not a {kind.upper()} image"
    if b"\x00" in data or not _is_utf8(data):
        return "the content is not UTF-8 text"
    if kind == "json":
        try:
            msgspec.json.decode(data)
        except msgspec.DecodeError:
            return "the content is not valid JSON"
    if kind == "jsonl":
        count = 0
        for number, line in enumerate(_lines(data), 1):
            if (
                len(line) <= 2 and not line.tobytes().strip()
            ):  # a blank line ("" or "\r"); longer ones must parse
                continue
            count += 1
            try:
                msgspec.json.decode(line)
            except msgspec.DecodeError:
                return f"line {number} is not valid JSON"
        if count == 0:
            return "the file has no JSON lines"
    return None


def _is_utf8(data: bytearray) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for start in range(0, len(data), _SLICE):
            decoder.decode(view[start : start + _SLICE])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _lines(data: bytearray) -> Iterator[memoryview]:
    view = memoryview(data)
    start = 0
    while start < len(data):
        end = data.find(b"\n", start)
        if end < 0:
            end = len(data)
        yield view[start:end]
        start = end + 1
