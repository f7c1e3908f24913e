"""The conversation, not the message: a decaying risk score per person, in this process only.

A weak cue ("tonight is the night") after earlier distress ("im so tired of living") should
raise crisis help though it raises nothing alone. So each reading leaves a score (0..1) under an
opaque key for the person (a keyed digest of their platform and id, with a key made afresh by
each process, so it names nobody even to whoever holds the code) that halves every `half_life`
and is forgotten after `keep` (an hour at most: expired traces are dropped on every note, and
any left are never read). It holds no words.

It lives in the memory of one process: it is gone on restart and not shared between replicas,
so a person's next message that reaches another replica is read without the earlier context
(that message is still read in full on its own).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from handlers.safety.concerns import Concern

MAX_KEEP = timedelta(hours=1)
_KEY = secrets.token_bytes(32)  # this process's own: a trace's key means nothing elsewhere


@dataclass(frozen=True)
class Trace:
    score: float
    concern: Concern | None
    at: datetime


def person_key(platform: str, user: str) -> str:
    """The key a person's trace is kept under: a keyed digest, so the memory names nobody."""
    return hmac.new(_KEY, f"{platform}\0{user}".encode(), hashlib.sha256).hexdigest()[:32]


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

    def _recall(self, key: str, now: datetime) -> tuple[float, Concern | None]:
        """recall, with the lock held."""
        trace = self._traces.get(key)
        if trace is None:
            return 0.0, None
        age = now - trace.at
        if age > self.keep or age < -self.keep:
            del self._traces[key]
            return 0.0, None
        elapsed = max(age.total_seconds(), 0.0)
        return trace.score * 0.5 ** (elapsed / self.half_life.total_seconds()), trace.concern

    def recall(self, key: str, now: datetime) -> tuple[float, Concern | None]:
        """The person's earlier score, decayed to `now`, and its concern; (0, None) if none."""
        with self._lock:
            return self._recall(key, now)

    def note(self, key: str, now: datetime, score: float, concern: Concern | None) -> None:
        """Keep the stronger of the decayed earlier score and this one (one step, under the
        lock, so two messages at once cannot lose the stronger), and drop what has expired."""
        with self._lock:
            earlier, earlier_concern = self._recall(key, now)
            if score <= earlier:
                score, concern = earlier, earlier_concern or concern
            self._traces.pop(key, None)
            if score >= 0.05:
                self._traces[key] = Trace(score, concern, now)  # newest last
            # Traces are in the order they were last noted: the expired ones are at the front.
            while self._traces:
                oldest = next(iter(self._traces.values()))
                if now - oldest.at <= self.keep and len(self._traces) <= self.size:
                    break
                self._traces.popitem(last=False)

    def forget(self, key: str) -> None:
        with self._lock:
            self._traces.pop(key, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._traces)
