"""SQLModel tables. Times are timezone-aware and stored in UTC.

A support request never holds the requester's free text: only the choices they made.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel


class Person(SQLModel, table=True):
    """Someone the bot has met on a platform; the profile fields are a cache."""

    __table_args__ = (UniqueConstraint("platform", "platform_user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    platform_user_id: str | None = Field(default=None, max_length=255)
    display_name: str = Field(default="", max_length=120)
    email: str | None = Field(default=None, max_length=254, index=True)
    department: str | None = Field(default=None, max_length=80)
    region: str | None = Field(default=None, max_length=2)
    tz: str | None = Field(default=None, max_length=64)
    created_at: datetime
    updated_at: datetime


class AllyProfile(SQLModel, table=True):
    """A person's role as an ally. `open_count` never exceeds `capacity` (conditional update)."""

    person_id: int = Field(foreign_key="person.id", primary_key=True)
    status: str = Field(default="active", max_length=16)  # onboarding|active|paused|removed
    available: bool = True
    capacity: int = 2
    open_count: int = 0
    topics: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    hours_start: str | None = Field(default=None, max_length=5)  # "09:00" in the ally's tz
    hours_end: str | None = Field(default=None, max_length=5)
    last_asked_at: datetime | None = None
    updated_at: datetime


class SupportRequest(SQLModel, table=True):
    """A request for support: the requester's choices and where it stands, never their words.

    `open_key` equals `requester_id` while the request is open and is NULL once it is closed,
    so a unique constraint allows one open request per person on any database.
    """

    id: int | None = Field(default=None, primary_key=True)
    requester_id: int = Field(foreign_key="person.id", index=True)
    open_key: int | None = Field(default=None, unique=True)
    status: str = Field(max_length=16)  # offering|waiting|matched|finished|cancelled
    round: int = 1  # bumped each time a waiting request is tried again
    topic: str | None = Field(default=None, max_length=40)
    outside_department: bool = False
    anonymous: bool = False
    introduced: bool = False
    ally_id: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime
    matched_at: datetime | None = None
    closed_at: datetime | None = None


class Offer(SQLModel, table=True):
    """One ally being asked to take one request (again only in a later round)."""

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="supportrequest.id", index=True)
    ally_id: int = Field(foreign_key="person.id", index=True)
    round: int = 1
    status: str = Field(default="pending", max_length=16)  # pending|accepted|passed|expired|...

    created_at: datetime
    expires_at: datetime
    decided_at: datetime | None = None


class Timer(SQLModel, table=True):
    """Something to do at a time. The sweeper claims due rows with a conditional update."""

    __table_args__ = (Index("ix_timer_due", "status", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    subject_id: int
    due_at: datetime
    status: str = Field(default="pending", max_length=16)  # pending|claimed|done
    claimed_at: datetime | None = None
    attempts: int = 0


class ProcessedEvent(SQLModel, table=True):
    """Platform event ids already handled, so retries and duplicates run once."""

    event_id: str = Field(primary_key=True, max_length=128)
    received_at: datetime = Field(index=True)


class AuditLog(SQLModel, table=True):
    """Who did what, by internal id only: never names or free text."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    person_id: int | None = None
    kind: str = Field(max_length=16)
    name: str = Field(max_length=64)
    outcome: str = Field(max_length=16)
