"""Embeddings as stored (little-endian float32 bytes of a unit vector) and the brute-force scan
over a vector store's chunks: numpy when it is installed, plain Python otherwise."""

from __future__ import annotations

import math
import sys
from array import array
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

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


class Matrix:
    """Vectors of one dimension, ready to scan: those of another dimension, or none, are left out
    (``rows`` maps a scanned row to its index in the list given)."""

    __slots__ = ("data", "rows", "width")

    def __init__(self, vectors: Sequence[bytes | None]) -> None:
        self.width = next((len(v) for v in vectors if v is not None), 0)
        self.rows = [i for i, v in enumerate(vectors) if v is not None and len(v) == self.width]
        packed = b"".join(vectors[i] or b"" for i in self.rows)
        self.data: Any
        try:
            import numpy as np
        except ImportError:
            self.data = [unpack(vectors[i] or b"") for i in self.rows]
        else:
            self.data = np.frombuffer(packed, dtype="<f4").reshape(len(self.rows), self.width // 4)

    @property
    def nbytes(self) -> int:
        return len(self.rows) * (self.width + 8)


def nearest(query: bytes, matrix: Matrix, limit: int) -> list[int]:
    """Indexes (into the list the matrix was made of) of the ``limit`` vectors most similar to
    ``query`` (cosine: all are unit vectors), best first; none when the dimensions differ.
    CPU-bound: call it from a worker thread."""
    if not matrix.rows or len(query) != matrix.width:
        return []
    if isinstance(matrix.data, list):
        q = unpack(query)
        scored = sorted(
            (-sum(a * b for a, b in zip(q, v, strict=True)), i) for i, v in enumerate(matrix.data)
        )
        return [matrix.rows[i] for _, i in scored[:limit]]
    import numpy as np

    scores = matrix.data @ np.frombuffer(query, dtype="<f4")
    if limit < len(scores):
        # Only the best ``limit`` are sorted (a full sort of 100k scores costs more than the
        # product): every row scoring at least the limit-th best, in row order, so the stable sort
        # below breaks ties by row as a stable sort of all of them would.
        kth = np.partition(scores, len(scores) - limit)[len(scores) - limit]
        (picked,) = np.nonzero(scores >= kth)
        order = picked[np.argsort(-scores[picked], kind="stable")][:limit]
    else:
        order = np.argsort(-scores, kind="stable")[:limit]
    return [matrix.rows[int(i)] for i in order]
