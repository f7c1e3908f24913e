"""Erasure's storage side: the addresses of people who erased their data, kept only as keyed
digests, and moving what must stay counted (their requests, offers, relays) onto a new person
row that is linked to nobody.

Why a new row rather than blanking the old one: the old id is in what was said before the
erase (log lines, audit rows, backups, a coordinator's notes of "person 42"); a row that keeps
it would tie all of that to the requests it still counts. After `rekey` the old id is nowhere.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import delete, update
from sqlmodel import Session, col

from storage.db import insert_new
from storage.models import (
    Application,
    AuditLog,
    Delivery,
    DeliveryStatus,
    ErasedAddress,
    Offer,
    Person,
    Relay,
    SupportRequest,
    Timer,
)


def remember(session: Session, digests: list[str], today: date) -> None:
    """Keep these addresses (as digests) as erased."""
    for digest in digests:
        insert_new(session, ErasedAddress, digest=digest, erased_on=today)


def was_erased(session: Session, digest: str) -> bool:
    return session.get(ErasedAddress, digest) is not None


def returned(session: Session, digest: str) -> None:
    """They wrote to the bot again, as someone new: the address is an ordinary one again."""
    session.exec(delete(ErasedAddress).where(col(ErasedAddress.digest) == digest))


def drop_timers(session: Session, kinds: tuple[str, ...], subject_ids: list[int]) -> int:
    """Delete these timers, pending or done: a done one still says what was planned for whom."""
    if not kinds or not subject_ids:
        return 0
    result = session.exec(
        delete(Timer).where(col(Timer.kind).in_(kinds), col(Timer.subject_id).in_(subject_ids))
    )
    return result.rowcount or 0


def rekey(session: Session, old_id: int, now: datetime) -> int:
    """Move what stays counted from person `old_id` to a new, blank person row, and delete
    the old one; return the new id. Call it last, once everything personal of theirs is gone
    (addresses, ally profile, applications, drafts, outbox rows)."""
    old = session.get(Person, old_id)
    assert old is not None
    blank = Person(platform=old.platform, display_name="", created_at=now, updated_at=now)
    session.add(blank)
    session.flush()
    new_id = blank.id
    assert new_id is not None
    moves = (
        (SupportRequest, SupportRequest.requester_id),
        (SupportRequest, SupportRequest.ally_id),
        (Offer, Offer.ally_id),
        (Relay, Relay.requester_id),
        (Relay, Relay.ally_id),
    )
    for table, column in moves:
        session.exec(update(table).where(col(column) == old_id).values({column: new_id}))
    session.exec(
        update(Application).where(col(Application.decided_by) == old_id).values(decided_by=None)
    )
    # What they did is no longer anyone's: the rows stay for the counts, linked to nobody.
    session.exec(update(AuditLog).where(col(AuditLog.person_id) == old_id).values(person_id=None))
    target = f"dm:{old_id}"
    session.exec(
        delete(Delivery).where(
            col(Delivery.target) == target, col(Delivery.status) != DeliveryStatus.SENT
        )
    )
    # A sent post stays (its unique row stops it being planned again), addressed to the blank.
    session.exec(
        update(Delivery).where(col(Delivery.target) == target).values(target=f"dm:{new_id}")
    )
    session.exec(delete(Person).where(col(Person.id) == old_id))
    session.expunge(old)
    return new_id
