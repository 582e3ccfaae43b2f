"""A background loop: one task that runs a step of work, again at once while the step says there
was work, else waits for a wake-up or the poll interval, whichever comes first. A step that raises
is logged and the loop goes on (the store away, a bug: the next round tries again); stopping
cancels the task wherever it is. The batch worker, the webhook sender, knowledge ingestion, the
background-job cancel watch and the alert monitor each run one."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable


class Loop:
    """``step`` returns whether it found work (None: no); ``wait_s`` is read before each wait, so
    the interval may change while the loop runs; ``first_wait``: wait once before the first step.
    A ``wake`` during a step is not lost: the wait after it returns at once."""

    def __init__(
        self,
        step: Callable[[], Awaitable[bool | None]],
        *,
        name: str,
        wait_s: Callable[[], float],
        log: logging.Logger,
        first_wait: bool = False,
    ) -> None:
        self._step = step
        self._name = name
        self._wait_s = wait_s
        self._log = log
        self._first_wait = first_wait
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """New work: step now rather than at the end of the wait."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self._name)

    async def stop(self) -> None:
        """Cancel the loop (mid-step too) and wait for it to end; a loop not running is left as it is."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _wait(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self._wait_s())

    async def _run(self) -> None:
        if self._first_wait:
            await self._wait()
        while True:
            self._wake.clear()
            try:
                worked = await self._step()
            except asyncio.CancelledError:
                raise
            except Exception:
                self._log.exception("%s: a step failed", self._name)
                worked = False
            if not worked:
                await self._wait()
