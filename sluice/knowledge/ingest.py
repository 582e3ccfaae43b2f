"""The ingestion worker: one asyncio task per gateway process turns files attached to vector
stores into chunks, off the request path. The work is rows in the database (``in_progress``
vector store files), claimed with a lease, so a process that dies mid-file leaves it to the next
claim once the lease runs out; after ``max_attempts`` claims the file ends ``failed``, never stuck
``in_progress``. Parsing and chunking run in a worker thread under the parse budget."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sluice.errors import ParseError, SluiceError
from sluice.knowledge.chunk import Chunk, Count, chunk, strategy
from sluice.knowledge.parse import ParseBudget, parse
from sluice.knowledge.vectors import Embed, pack
from sluice.store.protocols import FileBlobs, Store
from sluice.store.records import StoredChunk, VectorStoreFile
from sluice.tasks import Loop

log = logging.getLogger("sluice.knowledge")

EMBED_BATCH = 64


@dataclass(frozen=True, slots=True)
class IngestLimits:
    lease_s: float = 300.0
    max_attempts: int = 3
    poll_s: float = 2.0
    max_owner_chunks: int = 1_000_000
    budget: ParseBudget = field(default_factory=ParseBudget)


def _parse_and_chunk(
    data: bytes, filename: str, f: VectorStoreFile, count: Count, budget: ParseBudget
) -> list[Chunk]:
    text = parse(data, filename, budget=budget)
    return chunk(text, strategy(f.chunking), count)


class Ingestor:
    def __init__(
        self,
        store: Store,
        blobs: FileBlobs,
        embed: Embed | None,
        count: Count,
        limits: IngestLimits,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store, self._blobs, self._embed, self._count = store, blobs, embed, count
        self._limits = limits
        self._clock = clock
        self._loop = Loop(self.run_once, name="knowledge-ingest", wait_s=lambda: limits.poll_s, log=log)

    def wake(self) -> None:
        """New work: look now rather than at the next poll."""
        self._loop.wake()

    def start(self) -> None:
        self._loop.start()

    async def close(self) -> None:
        await self._loop.stop()

    async def run_once(self) -> bool:
        """Claim and ingest one file; whether there was one."""
        claimed = await self._store.claim_ingestion(self._clock(), self._limits.lease_s)
        if claimed is None:
            return False
        if claimed.attempts > self._limits.max_attempts:
            await self._store.finish_ingestion(
                claimed,
                [],
                (
                    "server_error",
                    f"Ingestion did not finish in {self._limits.max_attempts} attempts.",
                ),
            )
            return True
        try:
            claimed, chunks = await self._ingest(claimed)
        except _LostClaim:
            log.info("ingestion of %s lost its claim; another took it", claimed.file_id)
            return True
        except ParseError as e:
            await self._store.finish_ingestion(claimed, [], (e.code, e.message))
            return True
        except SluiceError as e:  # the embedding call: tried again at the next claim, if any is left
            log.warning(
                "ingestion of %s failed (attempt %d): %s", claimed.file_id, claimed.attempts, e.message
            )
            if claimed.attempts >= self._limits.max_attempts:
                await self._store.finish_ingestion(claimed, [], ("server_error", e.message))
            return True
        done = await self._store.finish_ingestion(claimed, chunks, None)
        if not done:
            log.info("ingestion of %s lost its claim; another finished or took it", claimed.file_id)
        return True

    async def _renewed(self, f: VectorStoreFile) -> VectorStoreFile:
        """The claim, renewed once half its lease is spent (a large file outlives one lease)."""
        now = self._clock()
        if f.lease_until is None or now < f.lease_until - self._limits.lease_s / 2:
            return f
        renewed = await self._store.renew_lease(f, now + self._limits.lease_s)
        if renewed is None:
            raise _LostClaim
        return renewed

    async def _ingest(self, f: VectorStoreFile) -> tuple[VectorStoreFile, list[StoredChunk]]:
        meta = await self._store.get_file(f.owner, f.file_id)
        if meta is None:
            raise ParseError("The file was deleted.", code="invalid_file")
        data = b"".join([part async for part in self._blobs.read_blob(f.owner, f.file_id)])
        pieces = await asyncio.to_thread(
            _parse_and_chunk, data, meta.filename, f, self._count, self._limits.budget
        )
        held = await self._store.chunk_count(f.owner)
        if held + len(pieces) > self._limits.max_owner_chunks:
            raise ParseError(
                f"Chunk quota exceeded: this file has {len(pieces)} chunks and {held} are stored; "
                f"the limit is {self._limits.max_owner_chunks}.",
                code="invalid_file",
            )
        vectors: list[bytes | None] = [None] * len(pieces)
        if self._embed is not None:
            for i in range(0, len(pieces), EMBED_BATCH):
                f = await self._renewed(f)
                batch = [p.text for p in pieces[i : i + EMBED_BATCH]]
                for j, v in enumerate(await self._embed(batch, f.owner)):
                    vectors[i + j] = pack(v)
        f = await self._renewed(f)
        return f, [StoredChunk(i, p.start, p.end, p.text, vectors[i]) for i, p in enumerate(pieces)]


class _LostClaim(Exception):
    """The lease ran out and another claim took the file: this one stops."""
