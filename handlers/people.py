"""Finding the Person behind a platform user, keeping their cached profile fresh."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.models import Person


def find_or_create(
    session: Session,
    platform: str,
    user_id: str | None,
    email: str | None,
    now: datetime,
    region: str | None = None,
) -> Person:
    """The person with this platform id; else one imported by email awaiting their id; else new."""
    person = None
    if user_id:
        person = session.exec(
            select(Person).where(Person.platform == platform, Person.platform_user_id == user_id)
        ).first()
    if person is None and email:
        person = session.exec(
            select(Person).where(
                Person.platform == platform,
                Person.email == email.lower(),
                col(Person.platform_user_id).is_(None) if user_id else True,
            )
        ).first()
    if person is None:
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
            session.expunge(person)
            return find_or_create(session, platform, user_id, email, now, region)
    changes = {}
    if user_id and not person.platform_user_id:
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
