"""The conversation, not the message: a decaying risk score per person, in this process only.

A weak cue ("tonight is the night") after earlier distress ("im so tired of living") should
raise crisis help though it raises nothing alone. So each reading leaves a score (0..1) under an
opaque key for the person (a digest of their platform and id, never the id itself) that halves
every `half_life` and is forgotten after `keep` (an hour at most). It holds no words.

It lives in the memory of one process: it is gone on restart and not shared between replicas,
so a person's next message that reaches another replica is read without the earlier context
(that message is still read in full on its own).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from handlers.safety.concerns import Concern

MAX_KEEP = timedelta(hours=1)


@dataclass(frozen=True)
class Trace:
    score: float
    concern: Concern | None
    at: datetime


def person_key(platform: str, user: str) -> str:
    """The key a person's trace is kept under: a digest, so the memory names nobody."""
    return hashlib.sha256(f"{platform}\0{user}".encode()).hexdigest()[:32]


class Memory:
    def __init__(
        self,
        half_life: timedelta = timedelta(minutes=20),
        keep: timedelta = MAX_KEEP,
        size: int = 100_000,
    ) -> None:
        if keep > MAX_KEEP:
            raise ValueError("a trace never outlives an hour")
        self.half_life, self.keep, self.size = half_life, keep, size
        self._traces: OrderedDict[str, Trace] = OrderedDict()
        self._lock = threading.Lock()

    def recall(self, key: str, now: datetime) -> tuple[float, Concern | None]:
        """The person's earlier score, decayed to `now`, and its concern; (0, None) if none."""
        with self._lock:
            trace = self._traces.get(key)
            if trace is None:
                return 0.0, None
            age = now - trace.at
            if age > self.keep or age < -self.keep:
                del self._traces[key]
                return 0.0, None
        elapsed = max(age.total_seconds(), 0.0)
        return trace.score * 0.5 ** (elapsed / self.half_life.total_seconds()), trace.concern

    def note(self, key: str, now: datetime, score: float, concern: Concern | None) -> None:
        """Keep the stronger of the decayed earlier score and this one."""
        earlier, earlier_concern = self.recall(key, now)
        if score <= earlier:
            score, concern = earlier, earlier_concern or concern
        with self._lock:
            if score < 0.05:
                self._traces.pop(key, None)
                return
            self._traces[key] = Trace(score, concern, now)
            self._traces.move_to_end(key)
            while len(self._traces) > self.size:
                self._traces.popitem(last=False)

    def forget(self, key: str) -> None:
        with self._lock:
            self._traces.pop(key, None)

    def __len__(self) -> int:
        return len(self._traces)
