"""Slack's pace for posting into a channel: about one message a second. Posts to the same
channel wait their turn; posts to different channels do not wait for each other."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

INTERVAL = 1.0


class Pacer:
    def __init__(
        self,
        interval: float = INTERVAL,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ):
        self.interval, self.clock, self.sleep = interval, clock, sleep
        self._ready: dict[str, float] = {}  # channel -> when it may be posted to next
        self._locks: dict[str, asyncio.Lock] = {}

    async def wait(self, channel: str) -> None:
        """Return when a message may be posted to `channel`, and book the next slot."""
        async with self._locks.setdefault(channel, asyncio.Lock()):
            now = self.clock()
            ready = self._ready.get(channel, now)
            if ready > now:
                await self.sleep(ready - now)
            self._ready[channel] = max(ready, now) + self.interval
