"""Counting what someone does in a window, to hold back floods (anonymous feedback).

A count is a `RateCount` row keyed by the caller: the thing, the person (or a digest that names
nobody) and the window, so a new window is a new row. Taking one more is a conditional UPDATE
(`count < most`) that either wins or does not, so two replicas at once cannot both take the
last one. Rows whose window has ended are deleted on the way: nothing outlives its window.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.changes import won
from storage.models import RateCount


def take(session: Session, key: str, most: int, ends: datetime, now: datetime) -> datetime | None:
    """Count one more under `key`, in a window that ends at `ends`. None if it was allowed;
    else, with nothing changed, when the window ends and the limit lifts."""
    drop_ended(session, now)
    if _one_more(session, key, most, now):
        return None
    if (lifts := full(session, key, most, now)) is not None:
        return lifts
    try:
        with session.begin_nested():
            session.add(RateCount(key=key, count=1, ends_at=ends))
        return None
    except IntegrityError:  # another process made the row this moment: count on theirs
        if _one_more(session, key, most, now):
            return None
    return full(session, key, most, now) or ends


def drop_ended(session: Session, now: datetime) -> None:
    """Delete every count whose window has ended: it no longer limits anything."""
    session.exec(delete(RateCount).where(col(RateCount.ends_at) <= now))


def full(session: Session, key: str, most: int, now: datetime) -> datetime | None:
    """When the window of a count that has reached `most` ends; None if one more is allowed.
    Changes nothing."""
    return session.exec(
        select(RateCount.ends_at).where(
            RateCount.key == key, col(RateCount.count) >= most, col(RateCount.ends_at) > now
        )
    ).first()


def _one_more(session: Session, key: str, most: int, now: datetime) -> bool:
    return won(
        session,
        update(RateCount)
        .where(
            col(RateCount.key) == key,
            col(RateCount.count) < most,
            col(RateCount.ends_at) > now,
        )
        .values(count=RateCount.count + 1),
    )
