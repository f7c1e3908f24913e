"""Pure ranking of candidate allies for a support request. No database, no clock of its own.

`rank` is the rule; handlers/candidates.py applies it in SQL (and `eligible` in Python, page by
page), and tests/test_candidates.py holds the two to the same answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from storage.models import AllyStatus


@dataclass(frozen=True)
class Candidate:
    person_id: int
    department: str | None
    topics: tuple[str, ...]
    status: AllyStatus
    available: bool
    capacity: int
    open_count: int
    pending: int = 0  # offers waiting for this ally's answer
    last_asked_at: datetime | None = None
    hours_start: str | None = None
    hours_end: str | None = None
    tz: str | None = None
    languages: tuple[str, ...] = ()
    refresher_overdue: bool = False  # training lapsed past its grace: no new requests
    # Their platform refused the last message to them (app not installed, or blocked): an offer
    # would never arrive. Cleared when they next write to the bot.
    unreachable: bool = False


@dataclass(frozen=True)
class Wanted:
    requester_id: int
    requester_department: str | None = None
    topic: str | None = None
    outside_department: bool = False
    already_asked: frozenset[int] = frozenset()
    language: str | None = None  # preferred, never required


def refresher_overdue(trained_on: date | None, today: date, renewal: int, grace: int) -> bool:
    """Training due for renewal `renewal` days after it was done, and more than `grace` days
    late today. Never-recorded training is onboarding's business, not this rule's."""
    return trained_on is not None and trained_on + timedelta(days=renewal + grace) < today


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def within_hours(c: Candidate, now: datetime) -> bool:
    """True if `now` falls inside the ally's working hours in their own time zone.

    No hours set means any hour; a window such as 22:00-06:00 wraps past midnight.
    """
    if not c.hours_start or not c.hours_end:
        return True
    try:
        zone = ZoneInfo(c.tz) if c.tz else UTC
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    local = now.astimezone(zone).time().replace(tzinfo=None)
    start, end = _clock(c.hours_start), _clock(c.hours_end)
    if start <= end:
        return start <= local < end
    return local >= start or local < end


def _same(a: str | None, b: str | None) -> bool:
    return bool(a and b and a.strip().casefold() == b.strip().casefold())


def eligible(c: Candidate, want: Wanted, now: datetime) -> bool:
    return (
        c.status == AllyStatus.ACTIVE
        and c.available
        and c.open_count + c.pending < c.capacity
        and c.person_id != want.requester_id
        and c.person_id not in want.already_asked
        and not (want.outside_department and _same(c.department, want.requester_department))
        and within_hours(c, now)
        and not c.refresher_overdue
        and not c.unreachable
    )


def rank(candidates: list[Candidate], want: Wanted, now: datetime) -> list[Candidate]:
    """Eligible allies, best first: the preferred language, then topic match, then least
    recently asked, then least load. A language only orders allies; it never excludes any."""
    never = datetime.min.replace(tzinfo=UTC)

    def key(c: Candidate) -> tuple[int, int, datetime, int, int]:
        speaks = bool(want.language) and any(_same(x, want.language) for x in c.languages)
        topic_match = bool(want.topic) and any(_same(t, want.topic) for t in c.topics)
        return (
            0 if speaks else 1,
            0 if topic_match else 1,
            c.last_asked_at or never,
            c.open_count + c.pending,
            c.person_id,
        )

    return sorted((c for c in candidates if eligible(c, want, now)), key=key)
