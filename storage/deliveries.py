"""Delivery rows: a scheduled post is recorded once, then claimed, sent and marked.

Recording relies on the unique (message, occurrence, target) constraint, so whichever process
records an occurrence first owns it and every other attempt is a no-op.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.models import Checkpoint, Delivery
from storage.timers import take

LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 5
RETRY_AFTER = timedelta(minutes=2)


def record(session: Session, delivery: Delivery) -> bool:
    """Add the row unless this (message, occurrence, target) exists: True if it was added."""
    try:
        with session.begin_nested():
            session.add(delivery)
        return True
    except IntegrityError:
        return False


def exists(session: Session, message: str, occurrence: str) -> bool:
    return (
        session.exec(
            select(Delivery.id).where(
                Delivery.message == message, Delivery.occurrence == occurrence
            )
        ).first()
        is not None
    )


def claim(session: Session, now: datetime, limit: int = 50) -> list[Delivery]:
    """Queued posts, posts whose sender died, and failed posts due for another try."""
    rows = session.exec(
        select(Delivery)
        .where(
            or_(
                col(Delivery.status) == "queued",
                and_(col(Delivery.status) == "sending", col(Delivery.claimed_at) < now - LEASE),
                and_(
                    col(Delivery.status) == "failed",
                    col(Delivery.attempts) < MAX_ATTEMPTS,
                    col(Delivery.claimed_at) < now - RETRY_AFTER,
                ),
            )
        )
        .order_by(col(Delivery.due_at), col(Delivery.id))
        .limit(limit)
    ).all()
    return [row for row in rows if take(session, row, "sending", now)]


def finish(session: Session, delivery_id: int, status: str, now: datetime) -> None:
    """A claimed post is sent, failed (tried again later) or skipped."""
    values = {"status": status, "sent_at": now if status == "sent" else None}
    session.exec(
        update(Delivery)
        .where(col(Delivery.id) == delivery_id, col(Delivery.status) == "sending")
        .values(**values)
    )


def checkpoint(session: Session, name: str) -> datetime | None:
    row = session.get(Checkpoint, name)
    return row.at if row else None


def move_checkpoint(session: Session, name: str, at: datetime) -> None:
    """Set the checkpoint to `at` unless it is already later (two schedulers may race)."""
    row = session.get(Checkpoint, name)
    if row is None:
        try:
            with session.begin_nested():
                session.add(Checkpoint(name=name, at=at))
            return
        except IntegrityError:
            row = session.get(Checkpoint, name)
    session.exec(
        update(Checkpoint)
        .where(col(Checkpoint.name) == name, col(Checkpoint.at) < at)
        .values(at=at)
    )
