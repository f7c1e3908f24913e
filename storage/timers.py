"""Timers: planning them once, claiming due ones with conditional updates so two sweepers never
run the same one, and giving up on one that keeps failing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, update
from sqlmodel import Session, col, select

from storage.changes import won
from storage.db import insert_new
from storage.models import Delivery, OutboxMessage, Timer, TimerStatus

LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 5


@dataclass
class Claimed:
    due: list[Timer]
    given_up: list[Timer]  # failed MAX_ATTEMPTS times; coordinators are told


def plan(
    session: Session, kind: str, subject_id: int, due_at: datetime, key: str | None = None
) -> bool:
    """Add a timer. With a `key`, only if no live timer has that key (False if one has)."""
    return insert_new(
        session,
        Timer,
        kind=kind,
        subject_id=subject_id,
        due_at=due_at,
        key=key,
        status=TimerStatus.PENDING,
        attempts=0,
    )


def cancel(session: Session, key: str, now: datetime) -> None:
    """Retire the live timer with this key, if there is one."""
    session.exec(
        update(Timer)
        .where(col(Timer.key) == key, col(Timer.status) == TimerStatus.PENDING)
        .values(status=TimerStatus.DONE, key=None, finished_at=now)
    )


def claim_due(session: Session, now: datetime, limit: int = 100) -> Claimed:
    """Claim timers that are due, or whose claimer died more than LEASE ago."""
    stale = now - LEASE
    candidates = session.exec(
        select(Timer)
        .where(
            or_(
                and_(col(Timer.status) == TimerStatus.PENDING, col(Timer.due_at) <= now),
                and_(col(Timer.status) == TimerStatus.CLAIMED, col(Timer.claimed_at) < stale),
            )
        )
        .order_by(col(Timer.due_at))
        .limit(limit)
    ).all()
    out = Claimed([], [])
    for timer in candidates:
        if timer.attempts >= MAX_ATTEMPTS:
            if won(
                session,
                update(Timer)
                .where(col(Timer.id) == timer.id, col(Timer.status) == timer.status)
                .values(status=TimerStatus.FAILED, key=None, finished_at=now),
            ):
                out.given_up.append(timer)
            continue
        if take(session, timer, TimerStatus.CLAIMED, now):
            out.due.append(timer)
    return out


def take(
    session: Session,
    row: Timer | Delivery | OutboxMessage,
    status: str,
    now: datetime,
    **values: object,
) -> bool:
    """Claim a timer, post or outbox row as it was read: one conditional update on its status
    and attempts, so of two processes reading the same row only one takes it. `values`: more
    columns to set with the claim."""
    table = type(row)
    return won(
        session,
        update(table)
        .where(
            col(table.id) == row.id,
            col(table.status) == row.status,
            col(table.attempts) == row.attempts,
        )
        .values(status=status, claimed_at=now, attempts=row.attempts + 1, **values),
    )


def release(
    session: Session,
    table: type[Timer] | type[Delivery],
    ids: list[int],
    claimed_at: datetime,
    held: str,
    status: str,
) -> int:
    """Give back claims this process made at `claimed_at` and will not run (it is stopping):
    each row still `held` under that claim goes back to `status` with its attempts as they
    were, so another sweep takes it at once instead of after the lease, and a release never
    counts as a failure. One conditional update; returns how many were given back."""
    if not ids:
        return 0
    result = session.exec(
        update(table)
        .where(
            col(table.id).in_(ids),
            col(table.status) == held,
            col(table.claimed_at) == claimed_at,
        )
        .values(status=status, attempts=col(table.attempts) - 1)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)


def mark_done(session: Session, timer_id: int, now: datetime) -> None:
    session.exec(
        update(Timer)
        .where(col(Timer.id) == timer_id)
        .values(status=TimerStatus.DONE, key=None, finished_at=now)
    )
