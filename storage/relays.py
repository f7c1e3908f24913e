"""Relays: who talks with whom through the bot, and since when. Never what they write.

Every change is one conditional UPDATE that reports whether it won: a relay closes once
(open -> closed, whoever comes first), `last_at` moves only while it is open, and a person's
message counts (storage/limits.py) go up only while they are under the limits.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, bindparam, delete, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage import limits, timers
from storage.changes import won
from storage.models import RateCount, Relay, RelayEnd, RelayStatus
from storage.prepared import Lookup

IDLE = "relay.idle"  # the timer that closes a relay left silent (handlers/relay.py)
MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)


class Over(StrEnum):
    """Which limit a message went over."""

    MINUTE = "minute"
    DAY = "day"


def idle_key(relay_id: int | None) -> str:
    return f"{IDLE}:{relay_id}"


def start(
    session: Session,
    request_id: int,
    requester_id: int,
    ally_id: int,
    now: datetime,
    idle: timedelta,
) -> Relay | None:
    """Open the relay of a request, with the timer that closes it if it falls silent; None
    if the request has one already (a replayed accept)."""
    relay = Relay(
        request_id=request_id,
        requester_id=requester_id,
        ally_id=ally_id,
        status=RelayStatus.OPEN,
        opened_at=now,
        last_at=now,
    )
    try:
        with session.begin_nested():
            session.add(relay)
    except IntegrityError:
        return None
    timers.plan(session, IDLE, relay.id or 0, now + idle, idle_key(relay.id))
    return relay


_OF_REQUEST = Lookup(select(Relay).where(col(Relay.request_id) == bindparam("request")))


def of_request(session: Session, request_id: int | None) -> Relay | None:
    relay: Relay | None = _OF_REQUEST.first(session, request=request_id)  # on anonymous finishes
    return relay


def open_for(session: Session, person_id: int | None) -> list[Relay]:
    """The open relays `person_id` is in, on either side, oldest first."""
    return list(
        session.exec(
            select(Relay)
            .where(
                Relay.status == RelayStatus.OPEN,
                or_(col(Relay.requester_id) == person_id, col(Relay.ally_id) == person_id),
            )
            .order_by(col(Relay.id))
            .execution_options(populate_existing=True)
        ).all()
    )


def close(
    session: Session,
    relay_id: int | None,
    why: RelayEnd,
    now: datetime,
    *where: ColumnElement[bool],
) -> bool:
    """Close an open relay (and any further `where` holds); True for the one caller that did."""
    if not won(
        session,
        update(Relay)
        .where(col(Relay.id) == relay_id, col(Relay.status) == RelayStatus.OPEN, *where)
        .values(status=RelayStatus.CLOSED, closed_at=now, closed_by=why),
    ):
        return False
    timers.cancel(session, idle_key(relay_id), now)
    return True


def touch(session: Session, relay_id: int | None, now: datetime) -> bool:
    """Something was passed on now: the silence starts again. False if it has closed."""
    return won(
        session,
        update(Relay)
        .where(col(Relay.id) == relay_id, col(Relay.status) == RelayStatus.OPEN)
        .values(last_at=now),
    )


def pick(session: Session, relay: Relay, person_id: int, now: datetime) -> bool:
    """`person_id` chose this relay for what they write next: it becomes the one relay of
    theirs with a choice on their side (their others lose theirs). False if it has closed."""
    column = "requester_picked_at" if relay.requester_id == person_id else "ally_picked_at"
    if not won(
        session,
        update(Relay)
        .where(col(Relay.id) == relay.id, col(Relay.status) == RelayStatus.OPEN)
        .values({column: now}),
    ):
        return False
    for side, picked in (
        (Relay.requester_id, "requester_picked_at"),
        (Relay.ally_id, "ally_picked_at"),
    ):
        session.exec(
            update(Relay)
            .where(
                col(side) == person_id,
                col(Relay.id) != relay.id,
                col(Relay.status) == RelayStatus.OPEN,
            )
            .values({picked: None})
        )
    return True


def spend(
    session: Session, person_id: int, now: datetime, per_minute: int, per_day: int
) -> Over | None:
    """Count one message against the person's limits (storage/limits.py): None if it may be
    passed on, else the limit it would go over. A window starts with the first message after
    the last window ended, so no minute from then holds more than `per_minute`."""
    minute, day = _count_keys(person_id)
    if limits.full(session, day, per_day, now) is not None:
        return Over.DAY
    if limits.take(session, minute, per_minute, now + MINUTE, now) is not None:
        return Over.MINUTE
    if limits.take(session, day, per_day, now + DAY, now) is not None:
        return Over.DAY  # another process took the day's last one a moment ago
    return None


def forget(session: Session, person_id: int) -> None:
    """Erasure: the person's message counts go (they would within a day anyway)."""
    session.exec(delete(RateCount).where(col(RateCount.key).in_(_count_keys(person_id))))


def _count_keys(person_id: int) -> tuple[str, str]:
    return f"relay:minute:{person_id}", f"relay:day:{person_id}"
