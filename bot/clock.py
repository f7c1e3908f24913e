"""The bot's sense of time, injectable so tests and the shell can move it forward."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    """Real UTC time, or a fixed start, plus an offset that `advance` moves forward."""

    def __init__(self, start: datetime | None = None):
        self._start = start
        self._offset = timedelta()

    def now(self) -> datetime:
        base = self._start if self._start is not None else datetime.now(UTC)
        return base + self._offset

    def advance(self, delta: timedelta) -> datetime:
        self._offset += delta
        return self.now()
