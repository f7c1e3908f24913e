"""What every networked platform does around the router: database work off the event loop
when it would wait on the network, and background sends that shutdown and tests can wait for."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from storage.db import Database

log = logging.getLogger(__name__)
T = TypeVar("T")


async def db_call(db: Database, fn: Callable[..., T], *args: Any) -> T:
    """Run database work: inline on SQLite, where a call is a millisecond of CPU and takes
    turns anyway (a thread hop only adds contention); in a thread on PostgreSQL, where a call
    waits on the network."""
    if db.is_sqlite:
        return fn(*args)
    return await asyncio.to_thread(fn, *args)


class Background:
    """Work started after a platform has answered its request (sends, profile lookups)."""

    def __init__(self, name: str):
        self.name = name
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(self._guarded(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for all of it, including work that the work started."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _guarded(self, work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except Exception:
            log.exception("background %s work failed", self.name)
