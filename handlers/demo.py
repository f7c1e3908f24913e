"""The demo organisation from content/demo.yaml, for the shell and scripted checks."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, select

from bot.config import AppConfig
from handlers import when
from handlers.content import Content
from handlers.people import find_or_create
from storage import ally_lists
from storage.models import AllyProfile, AllyStatus, RequestStatus, SupportRequest

PLATFORM = "shell"


def seed(session: Session, content: Content, app: AppConfig, now: datetime) -> int:
    """Create or reset every demo person (and ally profile). Returns how many."""
    today = now.astimezone(when.zone(app)).date()
    for entry in content.demo.people:
        person = find_or_create(session, PLATFORM, entry.id, None, now)
        person.display_name = entry.name
        person.department = entry.department
        person.region = entry.region or app.organisation.region
        person.tz = app.organisation.timezone
        session.add(person)
        session.flush()
        profile = session.get(AllyProfile, person.id)
        if entry.ally is None:
            if profile is not None:
                profile.status = AllyStatus.REMOVED
                session.add(profile)
            continue
        profile = profile or AllyProfile(person_id=person.id, updated_at=now)
        profile.status = AllyStatus.ACTIVE
        profile.available = entry.ally.available
        profile.capacity = entry.ally.capacity
        profile.open_count = len(
            session.exec(
                select(SupportRequest.id).where(
                    SupportRequest.ally_id == person.id,
                    SupportRequest.status == RequestStatus.MATCHED,
                )
            ).all()
        )
        ally_lists.write(session, profile, topics=entry.ally.topics)
        days = entry.ally.trained_days_ago
        profile.trained_on = None if days is None else today - timedelta(days=days)
        profile.hours_start = profile.hours_end = None
        profile.last_asked_at = None
        profile.updated_at = now
        session.add(profile)
    return len(content.demo.people)
