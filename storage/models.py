"""SQLModel tables. Times are timezone-aware and stored in UTC.

A support request never holds the requester's free text: only the choices they made.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Dialect, Index, String, Text, TypeDecorator, UniqueConstraint
from sqlmodel import Field, SQLModel, col


class StatusString(TypeDecorator[str]):
    """A status enum in a plain VARCHAR(16) (not a database enum type: a new status needs no
    type migration), holding the member's value and read back as the member (a value this
    version does not know, as the plain string)."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[StrEnum]) -> None:
        super().__init__(16)
        self.enum = enum

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        # A value this version does not know (written by a newer replica during a rolling
        # upgrade) is read as the plain string: it equals no member, so it matches no branch,
        # instead of failing every read of the row.
        if value is None or value not in self.enum._value2member_map_:
            return value
        return self.enum(value)


def status_column(enum: type[StrEnum], nullable: bool = False) -> Any:
    """The column for a status field typed `enum`."""
    return Column(StatusString(enum), nullable=nullable)


class Person(SQLModel, table=True):
    """Someone the bot has met on a platform; the profile fields are a cache."""

    __table_args__ = (UniqueConstraint("platform", "platform_user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    platform_user_id: str | None = Field(default=None, max_length=255)
    display_name: str = Field(default="", max_length=120)
    email: str | None = Field(default=None, max_length=254, index=True)
    department: str | None = Field(default=None, max_length=80)
    title: str | None = Field(default=None, max_length=120)  # job title from the platform
    region: str | None = Field(default=None, max_length=2)
    tz: str | None = Field(default=None, max_length=64)
    # The platform they last used, where messages for them go (they may be on several: their
    # other addresses are PersonAddress rows). None: `platform`.
    active_platform: str | None = Field(default=None, max_length=16)
    created_at: datetime
    updated_at: datetime


class PersonAddress(SQLModel, table=True):
    """Where the bot reaches a person on a platform other than the one they first came from,
    and, on Teams, how (platform bookkeeping: a conversation reference).

    Teams: `user_id` is the Entra object id (stable across apps, what a roster names);
    `chat_user_id` is Teams' own id for them in this bot (29:...), `conversation_id` their
    personal chat with the bot, `service_url` and `tenant_id` where that chat lives, `upn` their
    sign-in name (for chat deep links). `unreachable_at`: Teams last refused a message to them
    (the app is not installed for them, or they blocked it); cleared when they next write."""

    __table_args__ = (
        UniqueConstraint("platform", "user_id"),
        UniqueConstraint("person_id", "platform"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    platform: str = Field(max_length=16)
    user_id: str = Field(max_length=255)
    chat_user_id: str | None = Field(default=None, max_length=255)
    conversation_id: str | None = Field(default=None, max_length=255)
    service_url: str | None = Field(default=None, max_length=512)
    tenant_id: str | None = Field(default=None, max_length=64)
    upn: str | None = Field(default=None, max_length=254)
    unreachable_at: datetime | None = None
    updated_at: datetime


class AllyStatus(StrEnum):
    """Where an ally stands: an approval makes them onboarding, their recorded training active;
    a coordinator pauses and resumes them; from any of those three they step down or are
    removed. Only active allies are offered requests."""

    ONBOARDING = "onboarding"  # approved, training not yet recorded
    ACTIVE = "active"
    PAUSED = "paused"  # by a coordinator
    STEPPED_DOWN = "stepped_down"  # by the ally
    REMOVED = "removed"  # by a coordinator


class AllyProfile(SQLModel, table=True):
    """A person's role as an ally. `open_count` never exceeds `capacity` (conditional update).
    Status: see AllyStatus."""

    person_id: int = Field(foreign_key="person.id", primary_key=True)
    status: AllyStatus = Field(default=AllyStatus.ACTIVE, sa_column=status_column(AllyStatus))
    available: bool = True
    away_until: datetime | None = None  # back to available at this moment (a timer does it)
    capacity: int = 2
    # Offers this ally holds unanswered. `open_count + pending` never exceeds `capacity`: an
    # offer reserves a slot with a conditional update, so two processes offering requests at
    # once cannot both ask a capacity-1 ally.
    pending: int = 0
    open_count: int = 0
    topics: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    languages: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    listed: bool = True  # shown in the /allies directory
    hours_start: str | None = Field(default=None, max_length=5)  # "09:00" in the ally's tz
    hours_end: str | None = Field(default=None, max_length=5)
    trained_on: date | None = None
    renewal_reminded_for: date | None = None  # the trained_on date a renewal reminder was for
    approved_at: datetime | None = None
    last_asked_at: datetime | None = None
    updated_at: datetime


# Matching's order for "any ally" (handlers/candidates.py), so the best allies are the first rows
# of an index rather than the end of a sort over them all: never asked first, then least recently
# asked, then least load. `IS NOT NULL` puts the never-asked first on every database.
Index(
    "ix_allyprofile_next",
    col(AllyProfile.last_asked_at).is_not(None),
    col(AllyProfile.last_asked_at),
    col(AllyProfile.open_count) + col(AllyProfile.pending),
    col(AllyProfile.person_id),
)


class AllyTopic(SQLModel, table=True):
    """One topic an ally offers, case-folded, so matching and the topic buttons are queries.
    Kept in step with AllyProfile.topics by storage/ally_lists.py, the only writer of both."""

    __table_args__ = (Index("ix_allytopic_topic", "topic"),)

    person_id: int = Field(foreign_key="allyprofile.person_id", primary_key=True)
    topic: str = Field(primary_key=True, max_length=80)
    label: str = Field(max_length=80)  # as the ally wrote it, for the topic buttons


class AllyLanguage(SQLModel, table=True):
    """One language an ally lists, case-folded (see AllyTopic)."""

    __table_args__ = (Index("ix_allylanguage_language", "language"),)

    person_id: int = Field(foreign_key="allyprofile.person_id", primary_key=True)
    language: str = Field(primary_key=True, max_length=80)
    label: str = Field(max_length=80)  # as the ally wrote it, for the language button


class Conversation(SQLModel, table=True):
    """A questionnaire in progress: one per person and flow, saved after every answer.

    `answers` is a sealed (encrypted) JSON object. `revision` goes up with every change and is
    carried by the buttons, so a replayed or out-of-date press changes nothing.
    """

    __table_args__ = (UniqueConstraint("person_id", "flow"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    flow: str = Field(max_length=16)
    step: str = Field(max_length=32)
    answers: str = Field(sa_column=Column(Text, nullable=False))
    revision: int = 0
    reviewing: bool = False  # an answer changed from the review goes back to the review
    application_id: int | None = Field(default=None, foreign_key="application.id")
    consented_at: datetime | None = None
    started_at: datetime
    updated_at: datetime
    expires_at: datetime
    reminded_at: datetime | None = None  # when the "you left this unfinished" reminder went


class ApplicationStatus(StrEnum):
    """Where an application stands: pending <-> more_info (a coordinator asks for more, the
    applicant sends it) until, once, a coordinator approves or declines it or the applicant
    withdraws it."""

    PENDING = "pending"  # awaiting a coordinator's decision
    MORE_INFO = "more_info"  # a coordinator asked the applicant for more; still open
    APPROVED = "approved"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"  # by the applicant


OPEN_APPLICATION = (ApplicationStatus.PENDING, ApplicationStatus.MORE_INFO)  # awaiting a decision


class Application(SQLModel, table=True):
    """A submitted application to become an ally; the answers are sealed.

    `open_key` equals `person_id` while the application awaits a decision (pending or
    more_info) and is NULL afterwards: one open application per person on any database.
    Status: see ApplicationStatus.
    """

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    open_key: int | None = Field(default=None, unique=True)
    status: ApplicationStatus = Field(sa_column=status_column(ApplicationStatus))
    answers: str = Field(sa_column=Column(Text, nullable=False))
    consented_at: datetime
    submitted_at: datetime
    decided_at: datetime | None = None
    decided_by: int | None = Field(default=None, foreign_key="person.id")


class RequestStatus(StrEnum):
    """Where a support request stands: offering <-> waiting (no ally was free; offered again
    later) -> matched -> finished; offering or waiting -> cancelled."""

    OFFERING = "offering"  # allies are being asked, one offer at a time
    WAITING = "waiting"  # no ally left to ask: the requester was promised a connection
    MATCHED = "matched"  # an ally accepted
    FINISHED = "finished"
    CANCELLED = "cancelled"  # by the requester (or their erasure) before a match


class SupportRequest(SQLModel, table=True):
    """A request for support: the requester's choices and where it stands, never their words.

    `open_key` equals `requester_id` while the request is open and is NULL once it is closed,
    so a unique constraint allows one open request per person on any database.
    Status: see RequestStatus.
    """

    __table_args__ = (
        Index("ix_supportrequest_ally_status", "ally_id", "status"),
        Index("ix_supportrequest_status_created", "status", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    requester_id: int = Field(foreign_key="person.id", index=True)
    open_key: int | None = Field(default=None, unique=True)
    status: RequestStatus = Field(sa_column=status_column(RequestStatus))
    round: int = 1  # bumped each time a waiting request is tried again
    topic: str | None = Field(default=None, max_length=40)
    language: str | None = Field(default=None, max_length=40)  # preferred, when allies list any
    outside_department: bool = False
    anonymous: bool = False
    introduced: bool = False
    waited: bool = False  # it found no ally at some point (the digest counts these)
    # The requester's words raised crisis help while it was open: offers say the colleague may
    # need support soon (never why, and never their words).
    urgent: bool = False
    ally_id: int | None = Field(default=None, foreign_key="person.id")
    reached_out_at: datetime | None = None  # a coordinator offered the requester their help
    created_at: datetime
    matched_at: datetime | None = None
    closed_at: datetime | None = None


class OfferStatus(StrEnum):
    """Where an offer stands: pending, then once accepted, passed, expired or withdrawn."""

    PENDING = "pending"  # asked; holds a slot of the ally's capacity until it closes
    ACCEPTED = "accepted"
    PASSED = "passed"  # the ally said no (or accepted with no slot left)
    EXPIRED = "expired"  # unanswered in time
    WITHDRAWN = "withdrawn"  # its request closed or was taken, the ally left, or undeliverable


class Offer(SQLModel, table=True):
    """One ally being asked to take one request (again only in a later round): unique, so two
    processes (or a coordinator's "offer to all" racing an expiry) cannot ask them twice.
    Status: see OfferStatus."""

    __table_args__ = (
        UniqueConstraint("request_id", "ally_id", "round"),
        Index("ix_offer_status_ally", "status", "ally_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="supportrequest.id", index=True)
    ally_id: int = Field(foreign_key="person.id", index=True)
    round: int = 1
    status: OfferStatus = Field(default=OfferStatus.PENDING, sa_column=status_column(OfferStatus))

    created_at: datetime
    expires_at: datetime
    decided_at: datetime | None = None


class RelayStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class RelayEnd(StrEnum):
    """Why a relay closed."""

    REQUESTER = "requester"  # the requester ended it
    ALLY = "ally"  # the ally ended it
    REVEALED = "revealed"  # the requester chose to be introduced (a group DM from then on)
    FINISHED = "finished"  # the request was marked finished
    IDLE = "idle"  # nothing was written for relay.idle_days (app.yaml)
    ERASED = "erased"  # one of the two erased their data (/allyprivacy delete)


class Relay(SQLModel, table=True):
    """An anonymous requester and the ally who accepted them, talking through the bot
    (handlers/relay.py). It says who and when, never what: there is no column for what they
    write, and there must never be one. open -> closed happens once (a conditional update).

    `requester_picked_at` / `ally_picked_at`: set when that side chose this relay with "Reply
    here" (and cleared on their other open relays), for a person with more than one open
    relay: their words go to the one they chose."""

    __table_args__ = (
        Index("ix_relay_requester_open", "requester_id", "status"),
        Index("ix_relay_ally_open", "ally_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="supportrequest.id", unique=True)
    requester_id: int = Field(foreign_key="person.id")
    ally_id: int = Field(foreign_key="person.id")
    status: RelayStatus = Field(default=RelayStatus.OPEN, sa_column=status_column(RelayStatus))
    opened_at: datetime
    last_at: datetime  # when something was last passed on (or the relay opened)
    closed_at: datetime | None = None
    closed_by: RelayEnd | None = Field(default=None, sa_column=status_column(RelayEnd, True))
    requester_picked_at: datetime | None = None
    ally_picked_at: datetime | None = None


class TimerStatus(StrEnum):
    """Where a timer stands: pending -> claimed -> done, or failed after MAX_ATTEMPTS
    (storage/timers.py). A claim whose process died runs out after a lease and is taken again;
    one given back by a stopping process is pending again."""

    PENDING = "pending"  # to run at due_at
    CLAIMED = "claimed"  # being run by the process that claimed it at claimed_at
    DONE = "done"  # ran, or was cancelled
    FAILED = "failed"  # given up (coordinators are told)


class Timer(SQLModel, table=True):
    """Something to do at a time. The sweeper claims due rows with a conditional update.

    `key` (such as "ally.check_in:7") is unique while the timer is pending or claimed and
    NULL once it is done or failed, so a timer that must exist once is never planned twice.
    """

    __table_args__ = (
        Index("ix_timer_due", "status", "due_at"),
        Index("ix_timer_subject", "kind", "subject_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    subject_id: int
    due_at: datetime
    status: TimerStatus = Field(default=TimerStatus.PENDING, sa_column=status_column(TimerStatus))
    claimed_at: datetime | None = None
    attempts: int = 0
    key: str | None = Field(default=None, max_length=64, unique=True)
    finished_at: datetime | None = None


class FollowUpStatus(StrEnum):
    """A follow-up question is asked until it is answered, and then deleted (the answer is kept
    apart, linked to nobody): so `asked` is the only status a row ever holds."""

    ASKED = "asked"


class FollowUp(SQLModel, table=True):
    """A follow-up question sent to a requester: the only link between them and the question.
    It is deleted with the request; the answer itself is kept apart in `FollowUpAnswer`."""

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="supportrequest.id", index=True)
    status: FollowUpStatus = Field(
        default=FollowUpStatus.ASKED, sa_column=status_column(FollowUpStatus)
    )
    asked_at: datetime


class FollowUpAnswer(SQLModel, table=True):
    """How a requester rated the support they got (1 to 5), linked to no person or request.
    Only the week is kept, so the time of an answer cannot be matched to anyone's activity."""

    id: int | None = Field(default=None, primary_key=True)
    score: int
    week_of: date = Field(index=True)  # the Monday of the week it was given


class Feedback(SQLModel, table=True):
    """An anonymous comment to the coordinators: sealed, linked to nobody, and kept only by week,
    so neither a name nor the moment it was written can point to its writer. Comments are
    released to the coordinators in the weekly digest, then deleted."""

    id: int | None = Field(default=None, primary_key=True)
    text: str = Field(sa_column=Column(Text, nullable=False))  # sealed
    week_of: date = Field(index=True)  # the Monday of the week it was written
    # A random token carried by the "send it" button, so a replayed press keeps one copy. It is
    # made for the button and names nothing.
    token: str | None = Field(default=None, max_length=32, unique=True)


class RateCount(SQLModel, table=True):
    """How many times something was done in a window that has not ended yet (storage/limits.py).
    `key` names the thing and the window; for anonymous feedback it is a keyed digest that names
    nobody to someone reading the database alone. A row is deleted once its window ends."""

    key: str = Field(primary_key=True, max_length=64)
    count: int = 0
    ends_at: datetime = Field(index=True)


class OutboxStatus(StrEnum):
    PENDING = "pending"  # to send when due (new after a failure, or never claimed)
    SENDING = "sending"  # claimed by a process until due_at; after that, anyone may take it
    SENT = "sent"
    FAILED = "failed"  # given up after MAX_ATTEMPTS (logged; coordinators are not told)


class OutboxMessage(SQLModel, table=True):
    """A message to send, written in the same transaction as the change it reports, so a crash
    after the commit cannot lose it (storage/outbox.py). `recipient` holds internal ids or a
    channel name only; `body` is the message, sealed, and cleared once it is sent unless it
    has buttons (a pressed message is rebuilt from it, never from what the platform sends
    back). `people` is ",4,9," (who it is for), so erasure finds a person's rows."""

    __table_args__ = (Index("ix_outbox_due", "status", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    status: OutboxStatus = Field(
        default=OutboxStatus.PENDING, sa_column=status_column(OutboxStatus)
    )
    attempts: int = 0
    due_at: datetime  # PENDING: when to try; SENDING: when the claim runs out
    claimed_at: datetime | None = None
    created_at: datetime
    recipient: str = Field(max_length=255)
    people: str = Field(default="", max_length=255)
    key: str | None = Field(default=None, max_length=64)
    body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # sealed
    platform: str | None = Field(default=None, max_length=16)
    conversation: str | None = Field(default=None, max_length=255)
    message_id: str | None = Field(default=None, max_length=255)
    sent_at: datetime | None = Field(default=None, index=True)


class SentMessage(SQLModel, table=True):
    """Platform bookkeeping: where a message the bot may edit later went (such as an offer,
    keyed "offer:12"), so that it can be rewritten when the offer closes."""

    __table_args__ = (UniqueConstraint("platform", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    key: str = Field(max_length=64)
    conversation: str = Field(max_length=255)  # Slack channel id; Teams conversation id
    message_id: str = Field(max_length=255)  # Slack ts; Teams activity id
    sent_at: datetime = Field(index=True)


class DeliveryStatus(StrEnum):
    """Where a scheduled post is: queued -> sending -> sent | failed (tried again later)."""

    QUEUED = "queued"  # to post (a calendar occurrence, a "send now")
    SENDING = "sending"  # claimed at claimed_at; after delivery.lease_seconds anyone may take it
    SENT = "sent"
    FAILED = "failed"  # the platform refused it: tried again after a wait, MAX_ATTEMPTS in all
    SKIPPED = "skipped"  # by a coordinator, or its message was removed from content/
    MISSED = "missed"  # due while the bot was down, older than the grace window


class Delivery(SQLModel, table=True):
    """One scheduled post to one target, at most once: an awareness message or a digest.

    Unique on (message, occurrence, target), so two schedulers or a restart cannot post it
    twice. `target` is "#channel", "dm:<person id>" or "task" (a job with nothing to post).
    Status: see DeliveryStatus.
    """

    __table_args__ = (
        UniqueConstraint("message", "occurrence", "target"),
        Index("ix_delivery_status", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    message: str = Field(max_length=80)
    occurrence: str = Field(max_length=32)  # local date and time, e.g. 2026-10-10T10:00
    target: str = Field(max_length=96)
    tip: str | None = Field(default=None, max_length=80)  # which tip of a series went out
    status: DeliveryStatus = Field(
        default=DeliveryStatus.QUEUED, sa_column=status_column(DeliveryStatus)
    )
    due_at: datetime
    claimed_at: datetime | None = None
    attempts: int = 0
    sent_at: datetime | None = None


class Checkpoint(SQLModel, table=True):
    """Named moments, such as the last time the calendar was run (catch-up starts there)."""

    name: str = Field(primary_key=True, max_length=32)
    at: datetime


class KeyCheck(SQLModel, table=True):
    """A value sealed with the encryption key when it was first used. If the configured key
    cannot open it, the key is wrong for this database, and nothing may be read or written
    with it (answers would be lost, or sealed under a key nobody keeps)."""

    name: str = Field(primary_key=True, max_length=32)
    token: str = Field(sa_column=Column(Text, nullable=False))


class ProcessedEvent(SQLModel, table=True):
    """Platform event ids already handled, so retries and duplicates run once."""

    event_id: str = Field(primary_key=True, max_length=128)
    received_at: datetime = Field(index=True)


class ErasedAddress(SQLModel, table=True):
    """A platform address whose person erased their data (/allyprivacy delete), as a keyed
    digest of "platform:user id" only: nothing here says who it was to someone reading the
    database alone. While it is here, nothing the bot does on its own (App Home, a profile
    refresh, a late button press) creates the person again; a command or message of theirs
    starts someone new and removes it (storage/erasure.py)."""

    digest: str = Field(primary_key=True, max_length=64)
    erased_on: date  # the day only: the moment would point to the erase in the audit log


class AuditLog(SQLModel, table=True):
    """Who did what, by internal id only: never names or free text."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    person_id: int | None = None
    kind: str = Field(max_length=16)
    name: str = Field(max_length=64)
    outcome: str = Field(max_length=16)
