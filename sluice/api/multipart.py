"""Reading a ``multipart/form-data`` upload as it streams in (python-multipart's parser): one
file field held in memory up to a cap, enforced while reading, so no request ever holds more
than the cap (and small text fields) whatever it declares or sends; every failure a 400 or 413
naming the field."""

from __future__ import annotations

from dataclasses import dataclass, field

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, MultipartState, parse_options_header
from starlette.requests import ClientDisconnect, Request

from sluice.api.body import ClientGone
from sluice.errors import InvalidRequestError, PayloadTooLargeError

MAX_FIELD_BYTES = 4096  # a text field (purpose, expires_after[seconds], ...)
MAX_PARTS = 16
_SLACK_BYTES = 64 * 1024  # boundaries, part headers and the text fields around the file


@dataclass
class Upload:
    """The form's text fields and its one file: name, declared type and bytes."""

    fields: dict[str, str] = field(default_factory=dict)
    filename: str | None = None
    data: bytearray | None = None


@dataclass
class _Part:
    name: str | None = None
    filename: str | None = None
    text: bytearray = field(default_factory=bytearray)


class _Reader:
    def __init__(self, file_field: str, max_file_bytes: int) -> None:
        self.upload = Upload()
        self._file_field = file_field
        self._max = max_file_bytes
        self._part = _Part()
        self._parts = 0
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: dict[bytes, bytes] = {}

    def on_part_begin(self) -> None:
        self._parts += 1
        if self._parts > MAX_PARTS:
            raise InvalidRequestError(f"A form of at most {MAX_PARTS} fields is accepted.")
        self._part = _Part()
        self._headers = {}

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[bytes(self._header_field).lower()] = bytes(self._header_value)
        self._header_field.clear()
        self._header_value.clear()

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition"))
        name = options.get(b"name")
        if name is None:
            raise InvalidRequestError("Each form field needs a Content-Disposition with a name.")
        self._part.name = name.decode("utf-8", "replace")
        filename = options.get(b"filename")
        if self._part.name == self._file_field:
            if self.upload.data is not None:
                raise InvalidRequestError("Send one file per request.", param=self._file_field)
            self.upload.data = bytearray()
            self.upload.filename = filename.decode("utf-8", "replace") if filename is not None else None

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._part.name == self._file_field and self.upload.data is not None:
            if len(self.upload.data) + end - start > self._max:
                raise _too_large(self._file_field, self._max)
            self.upload.data += data[start:end]
            return
        if len(self._part.text) + end - start > MAX_FIELD_BYTES:
            raise InvalidRequestError(
                f"{self._part.name}: a form field of at most {MAX_FIELD_BYTES} bytes.", param=self._part.name
            )
        self._part.text += data[start:end]

    def on_part_end(self) -> None:
        name = self._part.name
        if name is None or name == self._file_field:
            return
        if name in self.upload.fields:
            raise InvalidRequestError(f"{name}: given more than once.", param=name)
        try:
            self.upload.fields[name] = self._part.text.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidRequestError(f"{name}: not UTF-8 text.", param=name) from None


def _too_large(param: str, max_bytes: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"{param}: the file exceeds the limit of {max_bytes} bytes.", param=param, code="file_too_large"
    )


async def read_upload(request: Request, file_field: str, max_file_bytes: int) -> Upload:
    """The form of ``request``; its ``file_field`` part is read up to ``max_file_bytes`` and a
    larger one is a 413 once that much has arrived (or at once, from Content-Length)."""
    media, options = parse_options_header(request.headers.get("content-type"))
    boundary = options.get(b"boundary")
    if media != b"multipart/form-data" or not boundary:
        raise InvalidRequestError(
            "Send the file as multipart/form-data (fields 'file' and 'purpose').", param=file_field
        )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_file_bytes + _SLACK_BYTES:
        raise _too_large(file_field, max_file_bytes)
    if request.headers.get("content-encoding", "identity").strip().lower() not in ("", "identity"):
        raise InvalidRequestError("Send the upload without a Content-Encoding.", param="content-encoding")
    reader = _Reader(file_field, max_file_bytes)
    callbacks = {
        name: getattr(reader, name)
        for name in (
            "on_part_begin",
            "on_header_field",
            "on_header_value",
            "on_header_end",
            "on_headers_finished",
            "on_part_data",
            "on_part_end",
        )
    }
    parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > max_file_bytes + _SLACK_BYTES:  # the file fits, so what else is this?
                raise _too_large(file_field, max_file_bytes)
            parser.write(chunk)
        parser.finalize()
        if parser.state != MultipartState.END:  # cut short: the file may be missing its tail
            raise FormParserError("no closing boundary")
    except ClientDisconnect:
        raise ClientGone from None
    except FormParserError:
        raise InvalidRequestError("The multipart/form-data body is malformed.", param=file_field) from None
    return reader.upload
