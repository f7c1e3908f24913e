"""A platform's pace: at most one message per `interval` seconds to one place (a Slack
channel: about one a second; a Teams chat: seven a second, a Teams tenant: fifty). Sends to the
same place wait their turn; sends to different places do not wait for each other. The clock and
the sleep are injected, so tests run with an interval of zero and never sleep."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

INTERVAL = 1.0
MAX_PLACES = 10_000


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
        """Return when a message may be sent to `channel`, and book the next slot."""
        async with self._locks.setdefault(channel, asyncio.Lock()):
            now = self.clock()
            ready = self._ready.get(channel, now)
            if ready > now:
                await self.sleep(ready - now)
            self._ready[channel] = max(ready, now) + self.interval
            if len(self._ready) > MAX_PLACES:  # one entry per chat ever written to: keep it small
                self._forget_idle(now)

    def _forget_idle(self, now: float) -> None:
        for place in [p for p, ready in self._ready.items() if ready <= now]:
            lock = self._locks.get(place)
            if lock is None or not lock.locked():
                self._ready.pop(place, None)
                self._locks.pop(place, None)
