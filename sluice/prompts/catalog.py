"""What the request path reads of the registry, without a database query per request: a
prompt's versions (immutable, so kept until evicted), its labels and its running experiments
(kept ``ttl_s``, ``prompts.cache_s``: a label moved or an experiment started, stepped or rolled back
is seen within that by every replica, this one included; 0 reads them on every request)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, NamedTuple

import msgspec

from sluice.prompts.params import PromptParams
from sluice.prompts.render import CompiledPrompt
from sluice.store.protocols import Store
from sluice.store.records import Experiment, PromptVersion

_MAX_VERSIONS = 4096


class Loaded(NamedTuple):
    """A version as the request path uses it: its templates compiled, its parameters typed."""

    version: PromptVersion
    compiled: CompiledPrompt
    params: list[tuple[str, Any]]
    """The parameters it sets, typed as ``ChatRequest`` types them."""


_MAX_NAMES = 4096


class PromptCatalog:
    def __init__(
        self, store: Store, *, ttl_s: float = 2.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._store = store
        self._ttl_s = ttl_s
        self._clock = clock
        self._versions: OrderedDict[tuple[str, str, int], Loaded] = OrderedDict()
        self._named: dict[tuple[str, str], tuple[float, dict[str, int], list[Experiment]]] = {}

    async def version(self, tenant_id: str, name: str, version: int) -> Loaded | None:
        """The version, compiled and typed once."""
        key = (tenant_id, name, version)
        found = self._versions.get(key)
        if found is not None:
            self._versions.move_to_end(key)
            return found
        stored = await self._store.get_prompt_version(tenant_id, name, version)
        if stored is None:
            return None
        typed = msgspec.convert(stored.params, PromptParams)
        params = [(f, v) for f in typed.__struct_fields__ if (v := getattr(typed, f)) is not None]
        found = self._versions[key] = Loaded(stored, CompiledPrompt(stored), params)
        if len(self._versions) > _MAX_VERSIONS:
            self._versions.popitem(last=False)
        return found

    async def label(self, tenant_id: str, name: str, label: str) -> int | None:
        """The version ``label`` points at (None: no such label)."""
        labels, _ = await self._of(tenant_id, name)
        return labels.get(label)

    async def experiment(self, tenant_id: str, name: str, label: str) -> Experiment | None:
        """The running experiment on ``label`` of this prompt, if any."""
        _, experiments = await self._of(tenant_id, name)
        for e in experiments:
            if e.label == label and e.state == "running":
                return e
        return None

    async def _of(self, tenant_id: str, name: str) -> tuple[dict[str, int], list[Experiment]]:
        key = (tenant_id, name)
        now = self._clock()
        entry = self._named.get(key)
        if entry is None or entry[0] <= now:
            labels = {lab.label: lab.version for lab in await self._store.get_prompt_labels(tenant_id, name)}
            running = [e for e in await self._store.list_experiments(tenant_id, name) if e.state == "running"]
            if len(self._named) >= _MAX_NAMES:
                self._named.clear()  # bounded: many prompts cannot grow it forever
            entry = self._named[key] = (now + self._ttl_s, labels, running)
        return entry[1], entry[2]
