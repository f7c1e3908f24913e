"""Delivery rows: a scheduled post is recorded once, then claimed, sent and marked.

Recording relies on the unique (message, occurrence, target) constraint, so whichever process
records an occurrence first owns it and every other attempt is a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.changes import won
from storage.models import Checkpoint, Delivery, DeliveryStatus
from storage.timers import take

MAX_ATTEMPTS = 5  # sends that failed
# Claims taken over from a sender that died (or outlived its claim): a post that takes down
# every process that sends it stops at this many instead of being taken over for ever.
MAX_CLAIMS = 20
RETRY_AFTER = timedelta(minutes=2)


@dataclass(frozen=True)
class Claimed:
    """A post this process now holds. `unsure_since`: the claim it took over ran out (its
    sender died while holding it), so the post may have gone out after that moment; a platform
    that can look (Slack) checks before posting it again."""

    row: Delivery
    unsure_since: datetime | None = None
    attempt: int = 1  # the row's attempts under this claim


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


def claim(session: Session, now: datetime, lease: timedelta, limit: int = 50) -> list[Claimed]:
    """Queued posts, posts whose sender died (claimed more than `lease` ago and never
    finished), and failed posts due for another try. Each is taken with one conditional update
    on the status and attempts it was read with, so two processes never both take one."""
    rows = session.exec(
        select(Delivery)
        .where(
            or_(
                col(Delivery.status) == DeliveryStatus.QUEUED,
                and_(
                    col(Delivery.status) == DeliveryStatus.SENDING,
                    col(Delivery.claimed_at) < now - lease,
                    col(Delivery.attempts) < MAX_CLAIMS,
                ),
                and_(
                    col(Delivery.status) == DeliveryStatus.FAILED,
                    col(Delivery.attempts) < MAX_ATTEMPTS,
                    col(Delivery.claimed_at) < now - RETRY_AFTER,
                ),
            )
        )
        .order_by(col(Delivery.due_at), col(Delivery.id))
        .limit(limit)
    ).all()
    claimed: list[Claimed] = []
    for row in rows:
        # Read before the take, which may refresh the row in the session.
        died_at = row.claimed_at if row.status == DeliveryStatus.SENDING else None
        attempt = row.attempts + 1
        if take(session, row, DeliveryStatus.SENDING, now):
            claimed.append(Claimed(row, died_at, attempt))
    return claimed


def finish(
    session: Session, delivery_id: int, attempt: int, status: DeliveryStatus, now: datetime
) -> bool:
    """A claimed post is sent, failed (tried again later) or skipped, by the claim that holds
    it (`attempt`); False if that claim ran out and another process took the post since (a
    slow sender's "failed" must not undo the post the taker sent)."""
    sent_at = now if status == DeliveryStatus.SENT else None
    return won(
        session,
        update(Delivery)
        .where(
            col(Delivery.id) == delivery_id,
            col(Delivery.status) == DeliveryStatus.SENDING,
            col(Delivery.attempts) == attempt,
        )
        .values(status=status, sent_at=sent_at),
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
