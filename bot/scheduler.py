"""APScheduler wiring: the due-timer sweeper, a job per calendar entry, and the leader lock.

Each process has its own in-memory job store (APScheduler 3 cannot share one). Every process
sweeps timers, which are claimed in the database, so each runs once. Only the leader (see
storage/leader.py) runs the calendar jobs; on becoming leader, and at start, it catches up on
whatever fell due while no one was watching. Each post is a unique Delivery row, so even two
leaders at once would post it once.
"""

from __future__ import annotations

import asyncio
import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.platforms.base import Sender
from bot.router import Router
from storage.leader import Leadership

log = logging.getLogger(__name__)

LEADER_SECONDS = 30


class Calendar:
    """The jobs of one process, and whether it is the one that runs the calendar."""

    def __init__(self, router: Router, platform: Sender):
        self.router, self.platform = router, platform
        self.leadership = Leadership(router.db)
        self.leader = False
        self._turn = asyncio.Lock()  # calendar runs in this process take turns

    async def sweep(self) -> None:
        """Due timers, messages to send again (a failed send, or one whose process died), then
        any post that is queued (a "send now", a retry)."""
        out = await asyncio.to_thread(self.router.sweep)
        if out:
            await self.platform.deliver(out)
        unsent = await asyncio.to_thread(self.router.unsent)
        if unsent:
            await self.platform.deliver(unsent)
        await self.send_posts()

    async def run(self) -> None:
        """Record what has fallen due and send it (leader only)."""
        if not self.leader:
            return
        async with self._turn:
            await asyncio.to_thread(self.router.plan_calendar)
        await self.send_posts()

    async def send_posts(self) -> int:
        sent = 0
        for delivery_id, item in await asyncio.to_thread(self.router.claim_posts):
            ok = await self.platform.broadcast(item)
            await asyncio.to_thread(self.router.posted, delivery_id, ok)
            sent += ok
        return sent

    async def check_leader(self) -> None:
        was = self.leader
        self.leader = await asyncio.to_thread(self.leadership.hold)
        if self.leader and not was:
            await self.run()  # catch up on what fell due while nobody led

    def stop(self) -> None:
        self.leadership.release()


def build_scheduler(calendar: Calendar, timezone: str) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone=timezone)
    once = {"max_instances": 1, "coalesce": True}
    every = calendar.router.app.delivery.sweep_seconds
    scheduler.add_job(calendar.sweep, "interval", seconds=every, id="sweeper", **once)
    scheduler.add_job(
        calendar.check_leader, "interval", seconds=LEADER_SECONDS, id="leader", **once
    )
    for entry in calendar.router.schedules():
        scheduler.add_job(
            calendar.run, entry.rule, id=f"calendar:{entry.id}", misfire_grace_time=60, **once
        )
    return scheduler


async def start(calendar: Calendar, timezone: str) -> AsyncIOScheduler:
    """Build and start the jobs, after taking (or not) the lead and catching up."""
    await calendar.check_leader()
    scheduler = build_scheduler(calendar, timezone)
    scheduler.start()
    return scheduler
