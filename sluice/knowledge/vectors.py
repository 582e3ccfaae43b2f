"""Embeddings as stored (little-endian float32 bytes of a unit vector) and the brute-force scan
over a vector store's chunks: numpy when it is installed, plain Python otherwise."""

from __future__ import annotations

import math
import sys
from array import array
from collections.abc import Awaitable, Callable, Sequence

Embed = Callable[[list[str], str], Awaitable[list[list[float]]]]
"""Texts and their owner (who pays for the call) to one vector per text, in order."""


def pack(vector: Sequence[float]) -> bytes:
    """The unit vector of ``vector`` as little-endian float32 bytes."""
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    a = array("f", (x / norm for x in vector))
    if sys.byteorder == "big":
        a.byteswap()
    return a.tobytes()


def unpack(data: bytes) -> array[float]:
    a = array("f")
    a.frombytes(data)
    if sys.byteorder == "big":
        a.byteswap()
    return a


def nearest(query: bytes, vectors: Sequence[bytes | None], limit: int) -> list[int]:
    """Indexes of the ``limit`` vectors most similar to ``query`` (cosine: all are unit vectors),
    best first; vectors of another dimension, or none, are skipped. CPU-bound: call it from a
    worker thread."""
    try:
        import numpy as np
    except ImportError:
        return _nearest_python(query, vectors, limit)
    q = np.frombuffer(query, dtype="<f4")
    rows = [i for i, v in enumerate(vectors) if v is not None and len(v) == len(query)]
    if not rows:
        return []
    matrix = np.frombuffer(b"".join(vectors[i] or b"" for i in rows), dtype="<f4").reshape(len(rows), len(q))
    scores = matrix @ q
    order = np.argsort(-scores, kind="stable")[:limit]
    return [rows[int(i)] for i in order]


def _nearest_python(query: bytes, vectors: Sequence[bytes | None], limit: int) -> list[int]:
    q = unpack(query)
    scored = [
        (-sum(a * b for a, b in zip(q, unpack(v), strict=True)), i)
        for i, v in enumerate(vectors)
        if v is not None and len(v) == len(query)
    ]
    scored.sort()
    return [i for _, i in scored[:limit]]
