"""APScheduler wiring: the due-timer sweeper, run in the process's asyncio loop.

Each process has its own in-memory job store (APScheduler 3 cannot share one). Timers are
claimed in the database with conditional updates, so several processes sweeping at once is
safe: each due timer runs once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.messages import Outgoing
from bot.router import Router

log = logging.getLogger(__name__)

SWEEP_SECONDS = 15
Deliver = Callable[[list[Outgoing]], Awaitable[None]]


async def sweep_once(router: Router, deliver: Deliver) -> int:
    """Run due timers off the event loop, then deliver what they produced."""
    out = await asyncio.to_thread(router.sweep)
    if out:
        await deliver(out)
    return len(out)


def build_scheduler(
    router: Router, deliver: Deliver, timezone: str, every: int = SWEEP_SECONDS
) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone=timezone)
    scheduler.add_job(
        sweep_once,
        "interval",
        seconds=every,
        args=(router, deliver),
        id="sweeper",
        max_instances=1,
        coalesce=True,
    )
    return scheduler
