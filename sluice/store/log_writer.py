"""The request log's writer: a ``BatchWriter`` of request records into ``Store.write_requests``."""

from __future__ import annotations

from typing import Any

from sluice.obs.record import RequestRecord
from sluice.store.batch_writer import BatchWriter
from sluice.store.protocols import Store


class RequestLogWriter(BatchWriter[RequestRecord]):
    def __init__(self, store: Store, **options: Any) -> None:
        super().__init__(store.write_requests, label="request log", ident=lambda r: r.id, **options)
