"""Maps neutral events to handlers, around them the middleware every event gets:
dedupe (platform retries run once), one transaction, errors answered plainly, and an audit row.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.config import AppConfig
from bot.events import Action, Actor, Command, Event, Place, Text
from bot.messages import Message, OnlyYou, Outbox, Outgoing
from handlers import admin, allies, apply, coordinators, findally, help, home, safety
from handlers.content import Content
from handlers.context import Context, buttons
from handlers.people import find_or_create
from storage.crypto import Sealer
from storage.db import Database
from storage.models import AuditLog, Person, ProcessedEvent
from storage.timers import claim_due, forget_events, mark_done

log = logging.getLogger(__name__)

Handler = Callable[[Context, str], None]
TimerHandler = Callable[[Context, int], None]

EVENT_MEMORY = timedelta(days=1)  # platforms retry within minutes; ids are kept a day
MAX_TEXT = 10_000
MAX_VALUE = 2_000
# C0/C1 controls (but tab and newline), and bidi overrides that can disguise text.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

COMMANDS: dict[str, Handler] = {
    "findally": findally.command,
    "resources": findally.show_resources,
    "allystatus": allies.status,
    "allies": allies.directory,
    "allyapply": apply.command,
    "allystepdown": allies.step_down_command,
    "allyadmin": admin.command,
}
ACTIONS: dict[str, Handler] = {
    "findally:talk": findally.talk,
    "findally:toggle": findally.toggle,
    "findally:start": findally.start,
    "findally:department": findally.set_department,
    "findally:resources": findally.show_resources,
    "findally:urgent": findally.urgent,
    "offer:accept": findally.accept,
    "offer:pass": findally.pass_offer,
    "request:cancel": findally.cancel,
    "request:finish": findally.finish,
    "request:introduce": findally.introduce,
    "ally:available": allies.set_available,
    "ally:away": allies.set_away,
    "ally:stepdown": allies.step_down,
    "ally:stay": allies.stay,
    "apply:start": apply.start_button,
    "apply:role": apply.send_role,
    "apply:agree": apply.agree,
    "apply:keep": apply.keep,
    "apply:back": apply.back,
    "apply:skip": apply.skip,
    "apply:cancel": apply.cancel,
    "apply:change": apply.change,
    "apply:submit": apply.submit,
    "apply:update": apply.update_button,
    "application:approve": coordinators.approve,
    "application:decline": coordinators.decline,
    "application:more": coordinators.ask_more,
    "admin:applications": admin.show_applications,
    "admin:roster": admin.show_roster,
    "admin:trained": admin.trained_button,
    "admin:pause": admin.pause_button,
    "admin:resume": admin.resume_button,
    "admin:remove": admin.remove_button,
    "admin:remove_confirmed": admin.remove_confirmed,
}
TIMERS: dict[str, TimerHandler] = {
    findally.OFFER_EXPIRY: findally.expire_offer,
    allies.BACK_FROM_AWAY: allies.back_from_away,
}


def clean(text: str, limit: int = MAX_TEXT) -> str:
    """Drop control characters and cap the length of anything a user typed or sent back."""
    return _CONTROL.sub("", text)[:limit].strip()


class Router:
    def __init__(
        self,
        db: Database,
        app: AppConfig,
        content: Content,
        now: Callable[[], datetime],
        sealer: Sealer,
    ):
        self.db, self.app, self.content, self.now, self.sealer = db, app, content, now, sealer

    def context(
        self,
        session: Session,
        now: datetime,
        actor: Person | None = None,
        place: Place | None = None,
    ) -> Context:
        return Context(session, self.app, self.content, now, self.sealer, actor=actor, place=place)

    # --- events ----------------------------------------------------------------------------
    def dispatch(self, event: Event) -> Outbox:
        """Handle one event in one transaction; return what to send once it is committed."""
        kind, name, arg = _describe(event)
        now = self.now()
        person_id = None
        try:
            with self.db.session() as session:
                if event.event_id and not _first_time(session, event.event_id, now):
                    log.info("duplicate event %s ignored", event.event_id[:40])
                    return Outbox()
                person = self._person(session, event.actor, now)
                person_id = person.id
                ctx = self.context(session, now, person, event.place)
                handler = self._handler(event, name)
                if handler is None and kind == "command":
                    help.unknown_command(ctx, name)
                elif handler is None:
                    ctx.reply(ctx.say("help.stale_button"))
                else:
                    handler(ctx, arg)
                if kind != "action" and safety.looks_like_crisis(f"{name} {arg}"):
                    # Safety first: whatever was asked, crisis resources lead the reply.
                    crisis = Message(tuple(safety.crisis_blocks(ctx, person.region)))
                    ctx.outbox.insert(0, Outgoing(OnlyYou(person.id), crisis))
                _audit(session, now, kind, name if handler else "unknown", person_id, "ok")
            return ctx.outbox
        except Exception as exc:
            known = name if self._handler(event, name) else "unknown"
            log.error("%s %s failed for person %s: %s", kind, known, person_id, _trace(exc))
            self._audit_failure(person_id, kind, known, now)
            return self._apology(event.actor, now)

    def _handler(self, event: Event, name: str) -> Handler | None:
        if isinstance(event, Command):
            return COMMANDS.get(name)
        if isinstance(event, Action):
            return ACTIONS.get(name)
        return help.dm_text

    def _person(self, session: Session, actor: Actor, now: datetime) -> Person:
        person = find_or_create(
            session,
            actor.platform,
            actor.user_id,
            actor.email,
            now,
            region=self.app.organisation.region,
        )
        if actor.name and actor.name != person.display_name:
            person.display_name = clean(actor.name, 120)
        if actor.tz:
            person.tz = actor.tz
        if actor.department:
            person.department = clean(actor.department, 80)
        if actor.title:
            person.title = clean(actor.title, 120)
        if not person.display_name:
            person.display_name = actor.user_id
        session.add(person)
        return person

    def _audit_failure(self, person_id: int | None, kind: str, name: str, now: datetime) -> None:
        try:
            with self.db.session() as session:
                _audit(session, now, kind, name, person_id, "error", always=True)
        except Exception as exc:
            log.error("could not write the audit row for a failed %s: %s", kind, _trace(exc))

    def _apology(self, actor: Actor, now: datetime) -> Outbox:
        """A plain "something went wrong" with the urgent-help button, in a fresh transaction."""
        try:
            with self.db.session() as session:
                person = self._person(session, actor, now)  # it may have been rolled back
                ctx = self.context(session, now, person)
                ctx.reply(
                    ctx.section("help.error"),
                    buttons(
                        ctx.button("findally.button_urgent", "findally:urgent", style="danger")
                    ),
                )
                return ctx.outbox
        except Exception as exc:
            log.error("could not apologise: %s", _trace(exc))
            return Outbox()

    def home(self, actor: Actor) -> Message:
        """The person's home view (Slack App Home): what they can do from where they stand."""
        with self.db.session() as session:
            person = self._person(session, actor, self.now())
            return home.view(self.context(session, self.now(), person))

    def update_profile(self, actor: Actor) -> None:
        """Save a fresh platform profile (name, email, time zone) for this person."""
        with self.db.session() as session:
            self._person(session, actor, self.now())

    # --- timers ----------------------------------------------------------------------------
    def sweep(self) -> list[Outgoing]:
        """Run every due timer once; each in its own transaction with its own outcome."""
        now = self.now()
        with self.db.session() as session:
            due = claim_due(session, now)
            forget_events(session, now - EVENT_MEMORY)
        out: list[Outgoing] = []
        for timer in due:
            try:
                with self.db.session() as session:
                    ctx = self.context(session, now)
                    handler = TIMERS.get(timer.kind)
                    if handler is None:
                        log.error("timer %s has unknown kind %s", timer.id, timer.kind)
                    else:
                        handler(ctx, timer.subject_id)
                    mark_done(session, timer.id)
                    session.add(AuditLog(at=now, kind="timer", name=timer.kind, outcome="ok"))
                out.extend(ctx.outbox)
            except Exception as exc:
                log.error(
                    "timer %s (%s) failed; it will be retried: %s",
                    timer.id,
                    timer.kind,
                    _trace(exc),
                )
        return out


# Looking for support leaves no trace with a name on it: these are audited without the person.
_SUPPORT_PATH = ("findally", "resources", "dm", "findally:", "request:")
# Reading something changes nothing, so it is not audited at all.
_READ_ONLY = (
    "findally",
    "resources",
    "dm",
    "unknown",
    "findally:talk",
    "findally:toggle",
    "findally:resources",
    "findally:urgent",
    "allies",
    "allystepdown",
    "ally:stay",
    "apply:role",
    "admin:applications",
    "admin:roster",
    "admin:remove",
)


def _audit(
    session: Session,
    now: datetime,
    kind: str,
    name: str,
    person_id: int | None,
    outcome: str,
    always: bool = False,
) -> None:
    """An audit row by internal id only, never with a name a user typed."""
    if name in _READ_ONLY and not always:
        return
    if name.startswith(_SUPPORT_PATH):
        person_id = None
    session.add(AuditLog(at=now, person_id=person_id, kind=kind, name=name[:64], outcome=outcome))


def _trace(exc: BaseException) -> str:
    """Where an error happened, without its message: messages can hold user or database data."""
    frames = traceback.extract_tb(exc.__traceback__)[-6:]
    where = " <- ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(frames))
    return f"{type(exc).__name__} at {where}"


def _first_time(session: Session, event_id: str, now: datetime) -> bool:
    """Record the event id in this transaction; False if it was handled before."""
    try:
        with session.begin_nested():
            session.add(ProcessedEvent(event_id=event_id[:128], received_at=now))
        return True
    except IntegrityError:
        return False


def _describe(event: Event) -> tuple[str, str, str]:
    """(kind, name, argument) with the user-controlled parts cleaned."""
    if isinstance(event, Command):
        return "command", clean(event.name, 64).lower().lstrip("/"), clean(event.text)
    if isinstance(event, Action):
        return "action", clean(event.action, 255), clean(event.value, MAX_VALUE)
    assert isinstance(event, Text)
    return "text", "dm", clean(event.text)
