"""Rows of the vector store tables, as both SQL backends read and write them (the columns are
the same; only the placeholders differ)."""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterable, Sequence
from typing import Any

import msgspec

from sluice.store.records import ChunkHit, VectorStore, VectorStoreFile

_enc = msgspec.json.Encoder()
_obj = msgspec.json.Decoder(dict[str, Any])
STORE = "owner, id, name, created_at, last_active_at, metadata, expires_after, expires_at"
FILE = (
    "owner, store_id, file_id, created_at, status, chunking, attributes, batch_id, usage_bytes,"
    " error_code, error_message, attempts, lease_until"
)
STATUSES = ("in_progress", "completed", "failed", "cancelled")


def unpack(data: bytes) -> array[float]:
    """A packed embedding (little-endian float32) as floats."""
    a = array("f")
    a.frombytes(data)
    if sys.byteorder == "big":
        a.byteswap()
    return a


def encode_json(value: Any) -> str:
    return _enc.encode(value).decode()


def counts(rows: Iterable[Any]) -> tuple[dict[str, int], int]:
    """``file_counts`` (every status, and ``total``) and ``usage_bytes`` from (status, n, bytes)."""
    found = {s: 0 for s in STATUSES}
    used = 0
    for status, n, size in rows:
        found[status] = found.get(status, 0) + n
        used += size
    found["total"] = sum(found.values())
    return found, used


def store_row(r: Any, file_counts: dict[str, int], usage: int) -> VectorStore:
    after = r["expires_after"]
    return VectorStore(
        r["owner"],
        r["id"],
        r["name"],
        r["created_at"],
        r["last_active_at"],
        _obj.decode(r["metadata"]),
        None if after is None else _obj.decode(after),
        r["expires_at"],
        file_counts,
        usage,
    )


def file_row(r: Any) -> VectorStoreFile:
    return VectorStoreFile(
        r["owner"],
        r["store_id"],
        r["file_id"],
        r["created_at"],
        r["status"],
        _obj.decode(r["chunking"]),
        _obj.decode(r["attributes"]),
        r["batch_id"],
        r["usage_bytes"],
        r["error_code"],
        r["error_message"],
        r["attempts"],
        r["lease_until"],
    )


def store_values(vs: VectorStore) -> tuple[Any, ...]:
    return (
        vs.owner,
        vs.id,
        vs.name,
        vs.created_at,
        vs.last_active_at,
        _enc.encode(vs.metadata).decode(),
        None if vs.expires_after is None else _enc.encode(vs.expires_after).decode(),
        vs.expires_at,
    )


def file_values(f: VectorStoreFile) -> tuple[Any, ...]:
    return (
        f.owner,
        f.store_id,
        f.file_id,
        f.created_at,
        f.status,
        _enc.encode(f.chunking).decode(),
        _enc.encode(f.attributes).decode(),
        f.batch_id,
        f.usage_bytes,
        f.error_code,
        f.error_message,
        f.attempts,
        f.lease_until,
    )


def hit_row(r: Any) -> ChunkHit:
    emb = r["embedding"]
    return ChunkHit(
        r["file_id"],
        r["idx"],
        r["text"],
        r["filename"],
        _obj.decode(r["attributes"]),
        None if emb is None else bytes(emb),
    )


def fts_query(words: Sequence[str]) -> str:
    """An FTS5 query matching any of ``words``, each quoted (so none is an operator)."""
    return " OR ".join('"' + w.replace('"', '""') + '"' for w in words)
