"""Every state change (a status moving on, a claim, a slot taken or freed) is a conditional
update: `UPDATE (or DELETE) .. WHERE <the state it expects>`, which either wins or changes
nothing, never a read-modify-write. Of two processes (or two presses) making the same change at
once, exactly one is told it won. (Settings a person or an import writes, such as an ally's
capacity or topics, are not states: the last write stands.)

`won` runs one; storage/prepared.py `Change` is the same thing built once for the hot path.

Where one change checks, in its WHERE, everything the next ones need, those cannot lose on
SQLite (one writer at a time). On PostgreSQL another transaction may commit between them: the
next one then loses, and the handler raises LostRace rather than undo by hand; the event's
transaction is thrown away and run again (bot/router.py), and its first change sees the new
state.
"""

from __future__ import annotations

from sqlalchemy.sql.dml import UpdateBase
from sqlmodel import Session


def won(session: Session, statement: UpdateBase) -> bool:
    """Run a conditional UPDATE or DELETE in the session's transaction; True if it changed a
    row (the state was as expected), False if it changed none (someone else moved it first).

    It runs ORM-enabled (`session.exec`): pending changes are flushed first, and objects of
    that table already in the session are brought in line with what it wrote (unless the
    statement opts out with `synchronize_session=False`)."""
    return session.exec(statement).rowcount > 0


class LostRace(Exception):
    """A change lost after an earlier one in the same transaction won (another transaction
    committed in between): throw the transaction away and run the event again."""
