"""The transactional outbox: every message is a row written in the same transaction as the
change it reports, claimed by the process that will send it, and marked sent with where it went.

A row's life: SENDING (claimed at once by the process that wrote it, until `due_at`) -> SENT;
or, on a failure, PENDING until its next try -> SENDING (claimed by any sweeper) -> ...; or
FAILED after MAX_ATTEMPTS. A claim that runs out (its process died) makes the row due again:
`claim` takes PENDING and SENDING rows alike once `due_at` has passed, one conditional update
each (`timers.take`), so of two processes only one sends it.

This module stores rows; what a row says is for bot/ to encode (bot/messages.py) and seal.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, update
from sqlmodel import Session, col, select

from storage.changes import won
from storage.models import OutboxMessage, OutboxStatus
from storage.timers import take

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6  # sends that failed
# Claims that ran out (their process died): not the message's fault, so they count apart and
# only stop a message that takes every process that tries it down with it.
MAX_CLAIMS = 20
LONGEST_WAIT = timedelta(hours=1)


# One INSERT .. RETURNING for all rows, built once and not the ORM's unit of work: this is on
# the path of every event. PostgreSQL returns the ids in the rows' order (SQLAlchemy adds a
# sentinel); SQLite has no such sentinel, and SQLAlchemy would send one INSERT per row. But
# SQLite gives each row of one INSERT, in VALUES order, the largest rowid so far plus one, so
# their ids ascend in the rows' order: there they come back in any order and are sorted.
_INSERT = insert(OutboxMessage).returning(col(OutboxMessage.id), sort_by_parameter_order=True)
_INSERT_SQLITE = insert(OutboxMessage).returning(col(OutboxMessage.id))


@dataclass(frozen=True)
class NewRow:
    recipient: str  # JSON: internal ids or a channel name
    people: tuple[int, ...]
    body: str | None  # sealed; None for a message kept nowhere but in memory
    key: str | None
    sent_on: str | None = None  # the platform it is already sent on (in an ack), if it is


@dataclass(frozen=True)
class Settled:
    """What one delivery did with a row it held."""

    row: int
    attempt: int
    sent: bool
    platform: str | None = None
    conversation: str | None = None
    message_id: str | None = None
    keep_body: bool = False  # it has buttons: a press rebuilds the message from the row
    gone: bool = False  # it can never be delivered (nobody to deliver to): not retried


def record(session: Session, rows: list[NewRow], now: datetime, lease: timedelta) -> list[int]:
    """Add rows claimed by the caller, who sends them once the transaction commits; their
    ids, in order."""
    if not rows:
        return []
    values = [
        {
            "status": (OutboxStatus.SENT if row.sent_on else OutboxStatus.SENDING).value,
            "attempts": 1,
            "due_at": now + lease,
            "claimed_at": now,
            "created_at": now,
            "recipient": row.recipient,
            "people": "".join(f",{p}" for p in row.people) + ("," if row.people else ""),
            "key": row.key,
            "body": row.body,
            "platform": row.sent_on,
            "sent_at": now if row.sent_on else None,
        }
        for row in rows
    ]
    connection = session.connection()
    sqlite = connection.dialect.name == "sqlite"
    result = connection.execute(_INSERT_SQLITE if sqlite else _INSERT, values)
    ids: list[int] = list(result.scalars())  # type: ignore[arg-type]  # ids: never NULL
    return sorted(ids) if sqlite else ids


@dataclass(frozen=True)
class Claim:
    """A row this process now holds, as it read it."""

    row: int
    attempt: int  # this claim's number (the row's attempts after it)
    unsure_since: datetime | None  # an earlier claim ran out: it may have gone out since then
    recipient: str
    key: str | None
    body: str | None


def claim(session: Session, now: datetime, lease: timedelta, limit: int = 100) -> list[Claim]:
    """Rows due to be sent (a retry, or a claim that ran out), each claimed by this process
    for `lease`."""
    due = session.exec(
        select(OutboxMessage)
        .where(
            col(OutboxMessage.status).in_((OutboxStatus.PENDING, OutboxStatus.SENDING)),
            col(OutboxMessage.due_at) <= now,
        )
        .order_by(col(OutboxMessage.due_at))
        .limit(limit)
    ).all()
    taken = []
    for row in due:
        assert row.id is not None  # read from the database, so it has its key
        most = MAX_CLAIMS if row.status == OutboxStatus.SENDING else MAX_ATTEMPTS
        if row.attempts >= most:
            log.error("outbox row %s given up after %s attempts", row.id, row.attempts)
            give_up(session, row.id, row.attempts, now)
            continue
        read = Claim(
            row.id,
            row.attempts + 1,
            row.claimed_at if row.status == OutboxStatus.SENDING else None,
            row.recipient,
            row.key,
            row.body,
        )
        if take(session, row, OutboxStatus.SENDING, now, due_at=now + lease):
            taken.append(read)
    return taken


def settle(session: Session, results: list[Settled], now: datetime, retry: timedelta) -> None:
    """Record what deliveries did: sent rows keep where they went (and lose their words unless
    a press may need them); failed ones wait `retry`, doubling with each attempt."""
    for r in results:
        if r.sent:
            # Whoever holds the claim now, the message is out: it is sent, once.
            session.exec(
                update(OutboxMessage)
                .where(
                    col(OutboxMessage.id) == r.row,
                    col(OutboxMessage.status) != OutboxStatus.SENT,
                )
                .values(
                    status=OutboxStatus.SENT,
                    sent_at=now,
                    platform=r.platform,
                    conversation=(r.conversation or "")[:255] or None,
                    message_id=(r.message_id or "")[:255] or None,
                    **({} if r.keep_body else {"body": None}),
                )
                .execution_options(synchronize_session=False)
            )
        elif r.gone or r.attempt >= MAX_ATTEMPTS:
            give_up(session, r.row, r.attempt, now)
        else:
            wait = min(retry * 2 ** (r.attempt - 1), LONGEST_WAIT)
            # Only the claim this delivery held: a row another process has taken since is its.
            session.exec(
                update(OutboxMessage)
                .where(
                    col(OutboxMessage.id) == r.row,
                    col(OutboxMessage.status) == OutboxStatus.SENDING,
                    col(OutboxMessage.attempts) == r.attempt,
                )
                .values(status=OutboxStatus.PENDING, due_at=now + wait)
                .execution_options(synchronize_session=False)
            )


def give_up(session: Session, row_id: int | None, attempts: int, now: datetime) -> bool:
    return won(
        session,
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id) == row_id,
            col(OutboxMessage.attempts) == attempts,
            col(OutboxMessage.status) != OutboxStatus.SENT,
        )
        .values(status=OutboxStatus.FAILED, body=None, sent_at=now),
    )


def find(session: Session, row_id: int) -> OutboxMessage | None:
    return session.get(OutboxMessage, row_id)


def forget_person(session: Session, person_id: int) -> set[str]:
    """Delete every row for a person (their data is being erased), sent or not; return the
    conversations (their DM with the bot) that rows for them alone were delivered to."""
    mine = col(OutboxMessage.people).contains(f",{person_id},")
    alone = session.exec(
        select(OutboxMessage.conversation).where(
            OutboxMessage.people == f",{person_id},", col(OutboxMessage.conversation).is_not(None)
        )
    ).all()
    session.exec(delete(OutboxMessage).where(mine))
    return {c for c in alone if c}


def kept_bodies(session: Session) -> list[tuple[int, str]]:
    """(row id, sealed words) of every row that still holds its words."""
    rows = session.exec(
        select(OutboxMessage.id, OutboxMessage.body).where(col(OutboxMessage.body).is_not(None))
    ).all()
    return [(row_id, body) for row_id, body in rows if row_id is not None and body is not None]


def forget_body(session: Session, row_id: int) -> None:
    session.exec(update(OutboxMessage).where(col(OutboxMessage.id) == row_id).values(body=None))
