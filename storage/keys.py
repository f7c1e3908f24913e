"""Does the configured encryption key fit this database, and re-sealing under a new key.

A wrong ALLYBOT_SECRET_KEY must stop the bot before it reads or writes anything sealed: a
questionnaire would otherwise seem to have no answers, and new ones would be sealed under a
key that cannot open the old ones.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.changes import won
from storage.crypto import Sealer, SealError
from storage.models import Application, Conversation, Feedback, KeyCheck, OutboxMessage

CHECK = "sealer"
# Every sealed column: (table, column).
Sealed = type[Conversation] | type[Application] | type[Feedback] | type[OutboxMessage]
SEALED: tuple[tuple[Sealed, str], ...] = (
    (Conversation, "answers"),
    (Application, "answers"),
    (Feedback, "text"),
    (OutboxMessage, "body"),  # NULL once sent (unless it has buttons)
)


def fits(session: Session, sealer: Sealer) -> bool:
    """True if the key opens what this database holds. The first time, it looks at the newest
    sealed value of each table and, if they open (or there are none), records a check value."""
    row = session.get(KeyCheck, CHECK)
    if row is not None:
        return _opens(sealer, row.token)
    for table, column in SEALED:
        newest = session.exec(
            select(getattr(table, column))
            .where(col(getattr(table, column)).is_not(None))
            .order_by(col(table.id).desc())
            .limit(1)
        ).first()
        if newest is not None and not _opens(sealer, newest):
            return False
    try:
        with session.begin_nested():
            session.add(KeyCheck(name=CHECK, token=sealer.seal({"check": "allybot"})))
    except IntegrityError:  # another process recorded it a moment ago: check against theirs
        return fits(session, sealer)
    return True


def rotate(session: Session, sealer: Sealer) -> dict[str, int]:
    """Re-seal every sealed value under the sealer's first key; how many, by table. Each is a
    conditional update on the value it replaces, so a row changed meanwhile is left to the next
    run rather than overwritten."""
    counts: dict[str, int] = {}
    for table, column in SEALED:
        field = getattr(table, column)
        done = 0
        for row_id, token in session.exec(
            select(table.id, field).where(col(field).is_not(None))
        ).all():
            fresh = sealer.rotate(token)
            replace = update(table).where(col(table.id) == row_id, field == token)
            if won(session, replace.values({column: fresh})):
                done += 1
        counts[table.__name__.lower()] = done
    check = session.get(KeyCheck, CHECK)
    if check is not None:
        check.token = sealer.rotate(check.token)
        session.add(check)
    return counts


def _opens(sealer: Sealer, token: str) -> bool:
    try:
        sealer.open(token)
    except SealError:
        return False
    return True
