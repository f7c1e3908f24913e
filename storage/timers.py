"""Claiming due timers with conditional updates, so two sweepers never run the same one;
forgetting old processed-event ids."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, update
from sqlmodel import Session, col, select

from storage.models import ProcessedEvent, Timer

LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 5


def claim_due(session: Session, now: datetime, limit: int = 100) -> list[Timer]:
    """Claim timers that are due, or whose claimer died more than LEASE ago."""
    stale = now - LEASE
    candidates = session.exec(
        select(Timer)
        .where(
            or_(
                and_(Timer.status == "pending", Timer.due_at <= now),
                and_(Timer.status == "claimed", col(Timer.claimed_at) < stale),
            )
        )
        .order_by(Timer.due_at)
        .limit(limit)
    ).all()
    claimed = []
    for timer in candidates:
        if timer.attempts >= MAX_ATTEMPTS:
            session.exec(update(Timer).where(col(Timer.id) == timer.id).values(status="failed"))
            continue
        result = session.exec(
            update(Timer)
            .where(
                col(Timer.id) == timer.id,
                col(Timer.status) == timer.status,
                col(Timer.attempts) == timer.attempts,
            )
            .values(status="claimed", claimed_at=now, attempts=timer.attempts + 1)
        )
        if result.rowcount == 1:
            claimed.append(timer)
    return claimed


def mark_done(session: Session, timer_id: int) -> None:
    session.exec(update(Timer).where(col(Timer.id) == timer_id).values(status="done"))


def forget_events(session: Session, before: datetime) -> None:
    """Drop processed-event ids older than `before`: retries of those can no longer come."""
    session.exec(delete(ProcessedEvent).where(col(ProcessedEvent.received_at) < before))
