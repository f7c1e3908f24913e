"""APScheduler wiring: the due-timer sweeper, a job per calendar entry, and the leader lock.

Each process has its own in-memory job store (APScheduler 3 cannot share one). Every process
sweeps timers and unsent messages, which are claimed in the database, so each runs once. Only
the leader (see storage/leader.py) runs the calendar jobs and sends scheduled posts, so one
process keeps each channel's pace; on becoming leader, and at start, it catches up on whatever
fell due while no one was watching. Each post is a unique Delivery row, so even two leaders at
once would post it once.

Takeover: every process checks the lock every `delivery.leader_seconds`. A leader that dies
loses the lock with its connection, so another process leads within leader_seconds; the posts
the dead leader had claimed are taken over once their claim, `delivery.lease_seconds`, runs
out, and (on Slack) looked for in the channel before being posted again.
"""

from __future__ import annotations

import asyncio
import logging
import threading

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.messages import Outgoing
from bot.platforms.base import Sender
from bot.router import Router
from storage.leader import Leadership

log = logging.getLogger(__name__)

POSTS_AT_ONCE = 50  # scheduled posts in flight at once (to different places)


class Calendar:
    """The jobs of one process, and whether it is the one that runs the calendar."""

    def __init__(self, router: Router, platform: Sender):
        self.router, self.platform = router, platform
        self.leadership = Leadership(router.db)
        # None until the lock is first checked (serve checks it before any job runs): a
        # Calendar used on its own, as tests and benchmarks do, then sends what is queued.
        self.leader: bool | None = None
        self._turn = asyncio.Lock()  # calendar runs in this process take turns
        # One send_posts at a time in this process: otherwise a sweep could take back, once
        # their claim ran out, posts a slow calendar run of this very process is still sending.
        self._posting = asyncio.Lock()
        self.stopping = threading.Event()  # read by the sweep's thread between timers
        self._idle = asyncio.Event()  # no sweep is running
        self._idle.set()

    async def sweep(self) -> None:
        """Due timers, messages to send again (a failed send, or one whose process died), then,
        on the leader, any post that is queued (a "send now", a retry, a post whose sender
        died). Timers are run a bounded round at a time in a thread (bot/router.py
        SWEEP_TIMERS), what each round says is sent before the next, and the loop is yielded
        between rounds; a stop ends it after the timer running."""
        self._idle.clear()
        try:
            while not self.stopping.is_set():
                out = await asyncio.to_thread(self.router.sweep, stop=self.stopping)
                if out:
                    await self.platform.deliver(out)
                if not out.more:
                    break
                await asyncio.sleep(0)
            if self.stopping.is_set():
                return
            unsent = await asyncio.to_thread(self.router.unsent)
            if unsent:
                await self.platform.deliver(unsent)
            if self.leader is not False:  # a follower leaves posts to the leader
                await self.send_posts()
        finally:
            self._idle.set()

    async def run(self) -> None:
        """Record what has fallen due and send it (leader only)."""
        if not self.leader:
            return
        async with self._turn:
            await asyncio.to_thread(self.router.plan_calendar)
        await self.send_posts()

    async def send_posts(self) -> int:
        """Send every queued post, claimed a batch at a time until none is left. Posts to
        different places go out together (the platform keeps each place's own pace), at most
        POSTS_AT_ONCE at a time."""
        async with self._posting:
            return await self._send_posts()

    async def _send_posts(self) -> int:
        sent = 0
        gate = asyncio.Semaphore(POSTS_AT_ONCE)

        async def post(item: Outgoing) -> bool:
            async with gate:
                ok = await self.platform.broadcast(item)
            assert item.posting is not None  # claim_posts marks every post with its row
            await asyncio.to_thread(self.router.posted, item.posting, ok)
            return ok

        while not self.stopping.is_set():
            claimed = await asyncio.to_thread(self.router.claim_posts)
            if not claimed:
                break
            results = await asyncio.gather(*(post(item) for item in claimed))
            sent += sum(results)
        return sent

    async def check_leader(self) -> None:
        was = self.leader
        self.leader = await asyncio.to_thread(self.leadership.hold)
        if self.leader and not was:
            await self.run()  # catch up on what fell due while nobody led

    def stop(self) -> None:
        """Ask a running sweep to stop after the timer it is running (its other claims are
        given back), and give up the lead."""
        self.stopping.set()
        self.leadership.release()

    async def stopped(self, timeout: float) -> None:
        """Wait (at most `timeout` seconds) for a running sweep to end after stop()."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            log.warning("a sweep was still running at shutdown; its claims run out by lease")


def build_scheduler(calendar: Calendar, timezone: str) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone=timezone)
    once = {"max_instances": 1, "coalesce": True}
    every = calendar.router.app.delivery.sweep_seconds
    scheduler.add_job(calendar.sweep, "interval", seconds=every, id="sweeper", **once)
    leader_every = calendar.router.app.delivery.leader_seconds
    scheduler.add_job(calendar.check_leader, "interval", seconds=leader_every, id="leader", **once)
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
