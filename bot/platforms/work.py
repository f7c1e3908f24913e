"""What every platform does around the router: database work off the event loop when it would
wait on the network, background sends that shutdown and tests can wait for, and the receipts
that tell the outbox what was sent."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from bot.messages import Outgoing
from storage.db import Database
from storage.outbox import Settled

if TYPE_CHECKING:
    from bot.router import Router

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


class Receipts:
    """What one delivery did with each outbox row it was given, to settle in one transaction
    once it is over (storage/outbox.py): sent (and where), or to try again later."""

    def __init__(self, platform: str):
        self.platform = platform
        self.results: list[Settled] = []

    def sent(
        self, item: Outgoing, conversation: str | None = None, message_id: str | None = None
    ) -> None:
        if item.receipt is not None and not item.receipt.sent:
            self.results.append(
                Settled(
                    item.receipt.row,
                    item.receipt.attempt,
                    sent=True,
                    platform=self.platform,
                    conversation=conversation,
                    message_id=message_id,
                    keep_body=bool(item.message.buttons()),
                )
            )

    def failed(self, item: Outgoing, gone: bool = False) -> None:
        """Not sent: tried again later, unless it is `gone` (it can never be delivered)."""
        if item.receipt is not None:
            self.results.append(
                Settled(item.receipt.row, item.receipt.attempt, sent=False, gone=gone)
            )

    async def settle(self, db: Database, router: Router) -> None:
        """Record the results. If the database cannot take them, the messages are out anyway:
        their rows are sent again once their claim runs out (once too often, never lost)."""
        if self.results:
            results, self.results = self.results, []
            try:
                await db_call(db, router.settle, results)
            except Exception as exc:
                log.warning("could not record %s deliveries: %s", len(results), type(exc).__name__)
