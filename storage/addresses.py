"""Where people are reached: their platform addresses, and Teams conversation references.

A person first met on one platform has that address on their Person row (platform, user id).
Every other platform they use, and every Teams address (which needs a conversation reference
to be written to), is a PersonAddress row. Messages for a person go to the platform they last
used (`Person.active_platform`), falling back to any other address the running bot can use.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.changes import won
from storage.models import Person, PersonAddress
from storage.prepared import Lookup


@dataclass(frozen=True)
class Address:
    """One way to reach a person: the platform and the ids it needs."""

    person_id: int
    platform: str
    user_id: str
    chat_user_id: str | None = None
    conversation_id: str | None = None
    service_url: str | None = None
    tenant_id: str | None = None
    upn: str | None = None
    unreachable: bool = False


# Every event starts by finding its person: built once (storage/prepared.py).
_BY_OWN_ADDRESS = Lookup(
    select(Person).where(
        Person.platform == bindparam("platform"), Person.platform_user_id == bindparam("user")
    )
)
_BY_FURTHER_ADDRESS = Lookup(
    select(Person)
    .join(PersonAddress, col(PersonAddress.person_id) == col(Person.id))
    .where(
        PersonAddress.platform == bindparam("platform"), PersonAddress.user_id == bindparam("user")
    )
)


def person_with(session: Session, platform: str, user_id: str) -> Person | None:
    """The person who has this platform address, on their own row or as a further address."""
    person: Person | None = _BY_OWN_ADDRESS.first(session, platform=platform, user=user_id)
    if person is None:
        person = _BY_FURTHER_ADDRESS.first(session, platform=platform, user=user_id)
    return person


def add(session: Session, person_id: int, platform: str, user_id: str, now: datetime) -> bool:
    """Give a person an address on a platform. False if they (or someone) already have it."""
    known = select(PersonAddress.id).where(
        PersonAddress.platform == platform, PersonAddress.user_id == user_id
    )
    if session.exec(known).first() is not None:  # the usual case: a read, not a failed insert
        return False
    try:
        with session.begin_nested():
            session.add(
                PersonAddress(
                    person_id=person_id, platform=platform, user_id=user_id, updated_at=now
                )
            )
    except IntegrityError:
        return False
    return True


def remember_reference(
    session: Session,
    person_id: int,
    platform: str,
    user_id: str,
    now: datetime,
    *,
    chat_user_id: str | None = None,
    conversation_id: str | None = None,
    service_url: str | None = None,
    tenant_id: str | None = None,
    upn: str | None = None,
) -> bool:
    """Keep how to write to this person (what the platform just told us; None keeps what is
    known). Writes only when something changed, so a message from a known chat costs one read.
    A message in their own chat with the bot (`conversation_id`) means they can be reached
    again; one in a shared channel does not. True if the row changed."""
    add(session, person_id, platform, user_id, now)
    fresh: dict[str, object] = {
        k: v
        for k, v in {
            "chat_user_id": chat_user_id,
            "conversation_id": conversation_id,
            "service_url": service_url,
            "tenant_id": tenant_id,
            "upn": upn,
        }.items()
        if v is not None
    }
    key = [col(PersonAddress.platform) == platform, col(PersonAddress.user_id) == user_id]
    same = [col(getattr(PersonAddress, k)) == v for k, v in fresh.items()]
    if conversation_id is not None:
        fresh["unreachable_at"] = None
        same.append(col(PersonAddress.unreachable_at).is_(None))
    current = session.exec(select(PersonAddress.id).where(*key, *same)).first()
    if current is not None:
        return False
    return won(session, update(PersonAddress).where(*key).values(**fresh, updated_at=now))


def forget_conversation(session: Session, platform: str, user_id: str, now: datetime) -> bool:
    """They removed the app: their chat with the bot is gone (a new one is made if needed)."""
    return won(
        session,
        update(PersonAddress)
        .where(
            col(PersonAddress.platform) == platform,
            col(PersonAddress.user_id) == user_id,
            col(PersonAddress.conversation_id).is_not(None),
        )
        .values(conversation_id=None, updated_at=now),
    )


def mark_unreachable(
    session: Session, person_id: int, platform: str, user_id: str, now: datetime
) -> bool:
    """The platform refused a message to them. True only the first time (so coordinators are
    told once, not at every refused message)."""
    add(session, person_id, platform, user_id, now)
    return won(
        session,
        update(PersonAddress)
        .where(
            col(PersonAddress.person_id) == person_id,
            col(PersonAddress.platform) == platform,
            col(PersonAddress.unreachable_at).is_(None),
        )
        .values(unreachable_at=now, updated_at=now),
    )


def set_active(session: Session, person_id: int, platform: str) -> bool:
    """They used `platform`: messages for them go there from now on."""
    return won(
        session,
        update(Person)
        .where(
            col(Person.id) == person_id,
            (col(Person.active_platform).is_(None) & (col(Person.platform) != platform))
            | (col(Person.active_platform) != platform),
        )
        .values(active_platform=platform),
    )


def addresses(session: Session, person_id: int) -> list[Address]:
    """Every address of a person, the one they last used first."""
    person = session.get(Person, person_id)
    if person is None:
        return []
    found: dict[str, Address] = {}
    if person.platform_user_id:
        found[person.platform] = Address(person_id, person.platform, person.platform_user_id)
    for row in session.exec(select(PersonAddress).where(PersonAddress.person_id == person_id)):
        found[row.platform] = Address(
            person_id,
            row.platform,
            row.user_id,
            row.chat_user_id,
            row.conversation_id,
            row.service_url,
            row.tenant_id,
            row.upn,
            row.unreachable_at is not None,
        )
    first = person.active_platform or person.platform
    return sorted(found.values(), key=lambda a: a.platform != first)


def reach(session: Session, person_id: int, running: Collection[str]) -> Address | None:
    """Where to send a message for this person: the platform they last used if this process
    runs it, else another of theirs that it runs; None if none."""
    return next((a for a in addresses(session, person_id) if a.platform in running), None)


def find(session: Session, person_id: int, platform: str) -> Address | None:
    return next((a for a in addresses(session, person_id) if a.platform == platform), None)


def latest_service_url(session: Session, platform: str, tenant_id: str | None) -> str | None:
    """The service URL the platform last used for this tenant (to open a chat with someone who
    has not written yet)."""
    query = select(PersonAddress.service_url).where(
        PersonAddress.platform == platform, col(PersonAddress.service_url).is_not(None)
    )
    if tenant_id:
        query = query.where(PersonAddress.tenant_id == tenant_id)
    return session.exec(query.order_by(col(PersonAddress.updated_at).desc())).first()


def latest_tenant(session: Session, platform: str) -> str | None:
    """The tenant the platform last wrote from (for a chat with someone imported from a roster
    when app.yaml names no tenant)."""
    return session.exec(
        select(PersonAddress.tenant_id)
        .where(PersonAddress.platform == platform, col(PersonAddress.tenant_id).is_not(None))
        .order_by(col(PersonAddress.updated_at).desc())
    ).first()
