"""Finding the Person behind a platform user, keeping their cached profile fresh."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage import addresses
from storage.models import Person, PersonAddress


class Erased(Exception):
    """The address is one whose person erased their data, and nothing they did themselves
    asks for someone new: nobody is created (storage/erasure.py)."""


def find_or_create(
    session: Session,
    platform: str,
    user_id: str | None,
    email: str | None,
    now: datetime,
    region: str | None = None,
    erased: Callable[[], bool] | None = None,
) -> Person:
    """The person with this platform address; else one imported by email awaiting their id;
    else the same email on another platform (one organisation on Slack and Teams: the address
    is added to them); else someone new, unless `erased()` says the address was erased (it is
    asked only then, so the usual event pays nothing for it): Erased is raised."""
    person = addresses.person_with(session, platform, user_id) if user_id else None
    if person is None and email:
        person = session.exec(
            select(Person).where(
                Person.platform == platform,
                Person.email == email.lower(),
                col(Person.platform_user_id).is_(None) if user_id else True,
            )
        ).first()
    if person is None and email and user_id:
        person = _elsewhere(session, platform, email.lower())
        if person is not None and person.id is not None:
            if not addresses.add(session, person.id, platform, user_id, now):
                # Someone else took this address at the same moment: theirs is the answer.
                session.expire(person)
                found = addresses.person_with(session, platform, user_id)
                if found is not None:
                    return found
            return person
    if person is None:
        if erased is not None and erased():
            raise Erased
        person = Person(
            platform=platform,
            platform_user_id=user_id,
            region=region,
            created_at=now,
            updated_at=now,
        )
        try:
            with session.begin_nested():
                session.add(person)
        except IntegrityError:  # their first two events arrived at once: use the winner's row
            if person in session:  # the savepoint's rollback has usually expunged it already
                session.expunge(person)
            return find_or_create(session, platform, user_id, email, now, region, erased)
    changes = {}
    if user_id and not person.platform_user_id and person.platform == platform:
        changes["platform_user_id"] = user_id
    if email and person.email != email.lower():
        changes["email"] = email.lower()
    if changes:  # write only what changed: most events come from people the bot knows
        for key, value in changes.items():
            setattr(person, key, value)
        person.updated_at = now
        session.add(person)
        session.flush()
    return person


def _elsewhere(session: Session, platform: str, email: str) -> Person | None:
    """The person with this email on another platform who has no address on this one yet."""
    taken = select(PersonAddress.person_id).where(PersonAddress.platform == platform)
    return session.exec(
        select(Person)
        .where(
            Person.email == email,
            Person.platform != platform,
            col(Person.id).not_in(taken),
        )
        .order_by(col(Person.id))
    ).first()
