"""A finished batch's output and error files, in OpenAI's shape: one JSON line per
``custom_id``, ``{id, custom_id, response: {status_code, request_id, body}, error}`` (a line that
never ran: ``response`` null, ``error`` ``{code, message}``), kept as ``/v1/files`` files of the
batch's owner (purpose ``batch_output``). Their ids follow from the batch's, so writing them
again after a crash finds them instead of making twins."""

from __future__ import annotations

import hashlib
import time

import msgspec

from sluice.store.protocols import FileBlobs, Store
from sluice.store.records import FileQuota, FinishedLine, StoredFile

PART_BYTES = 1024 * 1024
_UNCAPPED = FileQuota(2**62, 2**62)
"""A batch's results are kept whatever the owner's file quota: losing them would lose paid work
(they count toward the owner's usage after)."""


class _Response(msgspec.Struct):
    status_code: int
    request_id: str | None
    body: msgspec.Raw


class _Error(msgspec.Struct):
    code: str | None
    message: str | None


class _Line(msgspec.Struct):
    id: str
    custom_id: str
    response: _Response | None
    error: _Error | None


_encode = msgspec.json.Encoder().encode


def encode(lines: list[FinishedLine]) -> tuple[bytes, bytes]:
    """(output, errors): the JSONL of the completed lines and of the failed ones, in file order."""
    out: list[bytes] = []
    err: list[bytes] = []
    for f in lines:
        x = f.result
        if x.status_code is not None:
            body = msgspec.Raw((x.response or "null").encode())
            line = _Line(f.id, f.custom_id, _Response(x.status_code, x.request_id, body), None)
        else:
            line = _Line(f.id, f.custom_id, None, _Error(x.error_code, x.error_message))
        (out if x.status == "completed" else err).append(_encode(line) + b"\n")
    return b"".join(out), b"".join(err)


def file_id(batch_id: str, kind: str) -> str:
    return "file-" + hashlib.sha256(f"{batch_id}:{kind}".encode()).hexdigest()[:24]


async def keep(store: Store, blobs: FileBlobs, owner: str, batch_id: str, kind: str, data: bytes) -> str:
    """Keep ``data`` as the batch's ``kind`` file (``output`` or ``error``); its id."""
    fid = file_id(batch_id, kind)
    if await store.get_file(owner, fid) is not None:
        return fid  # written before a crash, or by another claim
    await blobs.delete_blob(owner, fid)  # bytes a crash left without their metadata
    view = memoryview(data)
    await blobs.put_blob(owner, fid, [view[i : i + PART_BYTES] for i in range(0, len(data), PART_BYTES)])
    name = f"{batch_id}_{kind}.jsonl"
    await store.add_file(StoredFile(owner, fid, len(data), int(time.time()), name, "batch_output"), _UNCAPPED)
    return fid
