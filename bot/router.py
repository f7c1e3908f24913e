"""Maps neutral events to handlers, around them the middleware every event gets:
dedupe (platform retries run once), one transaction, errors answered plainly, and an audit row.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from bot.config import AppConfig
from bot.events import MENTION, Action, Actor, Command, Event, Place, Text
from bot.messages import (
    Buttons,
    DirectMessage,
    Forget,
    Message,
    Note,
    OnlyYou,
    Outbox,
    Outgoing,
    Posting,
    Receipt,
    message_data,
    message_from,
    people_of,
    recipient_data,
    recipient_from,
)
from handlers import (
    admin,
    allies,
    apply,
    awareness,
    care,
    coordinators,
    feedback,
    findally,
    follow_up,
    help,
    home,
    privacy,
    relay,
    safety,
    schedules,
    stats,
    when,
)
from handlers.content import Content
from handlers.context import Context, Mentioned, buttons
from handlers.people import Erased, find_or_create
from storage import addresses, deliveries, erasure
from storage import outbox as outbox_rows
from storage.crypto import Sealer, SealError
from storage.db import Database, is_busy, is_conflict
from storage.models import (
    AllyProfile,
    AuditLog,
    DeliveryStatus,
    Person,
    ProcessedEvent,
    Timer,
    TimerStatus,
)
from storage.outbox import NewRow, Settled
from storage.timers import claim_due, mark_done, release

log = logging.getLogger(__name__)

Handler = Callable[[Context, str], None]
TimerHandler = Callable[[Context, int], None]
# Whether replies only the asker sees fit in the platform's acknowledgement (Router.dispatch).
Answered = Callable[[list[Outgoing]], bool]


@dataclass(frozen=True)
class Route:
    """A handler registered with its audit rule. `audit_person=False`: its audit row and any
    error log leave out who acted, because linking them to it would undo its anonymity.
    `failed`: what the person is told if it could not be done (content key), when the plain
    apology would leave them unsure whether what they sent was kept."""

    handler: Handler
    audit_person: bool = True
    failed: str | None = None

    def __call__(self, ctx: Context, arg: str) -> None:
        self.handler(ctx, arg)


def _audits_person(handler: Handler | None) -> bool:
    return getattr(handler, "audit_person", True)


# A sweep runs at most this many timers, or for about this long, then yields (the rest are
# run by the next sweep); it claims them this many at a time.
SWEEP_TIMERS = 200
SWEEP_SECONDS = 2.0
CLAIM_BATCH = 20
# How many times an event runs when another transaction gets in its way (see dispatch).
_TRIES = 3


class Swept(list[Outgoing]):
    """What a sweep sends; `more`: it stopped at its bound, and timers may still be due."""

    more: bool = False


# The person an answer goes to when the bot cannot or may not say who they are (the database
# failed, or they erased their data): platforms send it back to whoever asked, where they asked,
# without the database.
BUSY_REPLY = 0
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
    "allyfeedback": Route(feedback.command, audit_person=False, failed="feedback.not_saved"),
    "allyprivacy": privacy.command,
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
    "relay:end": relay.end,
    "relay:reply": relay.reply_here,
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
    "application:review": coordinators.review,
    "admin:applications": admin.show_applications,
    "admin:roster": admin.show_roster,
    "admin:trained": admin.trained_button,
    "admin:pause": admin.pause_button,
    "admin:resume": admin.resume_button,
    "admin:remove": admin.remove_button,
    "admin:remove_confirmed": admin.remove_confirmed,
    "admin:requests": admin.show_requests,
    "admin:offer_all": admin.offer_to_all,
    "admin:reach_out": admin.reach_out,
    "request:coordinator": admin.requester_asks_for_coordinator,
    "feedback:send": Route(feedback.send_button, audit_person=False, failed="feedback.not_saved"),
    "feedback:not_feedback": feedback.not_feedback,
    "awareness:upcoming": awareness.upcoming,
    "awareness:preview": awareness.preview,
    "awareness:send": awareness.send_now,
    "awareness:skip": awareness.skip,
    "awareness:unskip": awareness.unskip,
    "awareness:findally": awareness.find_ally,
    "awareness:resources": awareness.resources,
    "follow_up:answer": follow_up.answer,
    "follow_up:again": follow_up.again,
    "care:well": care.well,
    "care:a_lot": care.a_lot,
    "care:coordinator": care.talk_to_coordinator,
    "care:worried": care.worried_about_someone,
    "care:break": care.take_break,
    "privacy:export": privacy.export,
    "privacy:erase": privacy.ask_to_erase,
    # The erase's own audit row names nobody: it would say who the blank row left behind was.
    "privacy:erase_confirmed": Route(privacy.erase, audit_person=False),
    "privacy:keep": privacy.keep,
}
TIMERS: dict[str, TimerHandler] = {
    findally.OFFER_EXPIRY: findally.expire_offer,
    findally.STILL_WAITING: findally.still_waiting,
    findally.FOLLOW_UP: follow_up.ask,
    allies.BACK_FROM_AWAY: allies.back_from_away,
    care.CHECK_IN: care.check_in,
    care.TRAINING: care.training_reminder,
    allies.GRACE_OVER: allies.grace_over,
    care.ESCALATION: care.quiet_window_over,
    apply.DRAFT: apply.draft_timer,
    relay.IDLE: relay.idle,
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
        self._schedules: list[schedules.Schedule] | None = None
        # Set by a platform that finds a channel is not private (Slack's check at start).
        self.counts_only: frozenset[str] = frozenset()
        # Each platform adds how it drops what it holds in memory about a person who erased
        # their data; called once the erase is committed.
        self.on_forget: list[Callable[[Forget], None]] = []
        # Crisis language, with the conversation memory of this process (handlers/safety).
        self.detector = safety.Detector()
        self.on_forget.append(self._forget_danger)

    def context(
        self,
        session: Session,
        now: datetime,
        actor: Person | None = None,
        place: Place | None = None,
        mentioned: tuple[Mentioned, ...] = (),
    ) -> Context:
        return Context(
            session,
            self.app,
            self.content,
            now,
            self.sealer,
            actor=actor,
            place=place,
            counts_only=self.counts_only,
            mentioned=mentioned,
        )

    # --- events ----------------------------------------------------------------------------
    def dispatch(self, event: Event, answered: Answered | None = None) -> Outbox:
        """Handle one event in one transaction; return what to send once it is committed.

        `answered`, from a platform that answers the asker in its acknowledgement of the
        request (a Slack ack): whether these replies (only the asker sees them) fit in it.
        If they do, their rows are written already sent, in the same transaction, rather than
        settled by a second one after the ack."""
        kind, name, arg = _describe(event)
        known = name if self._handler(event, name) else "unknown"  # never what they typed
        now = self.now()
        # Read before anything can fail, so crisis resources lead even an apology.
        danger = self._assess(event, now)
        # Another transaction may get in the way of this one (PostgreSQL): it ends one of two
        # deadlocked transactions, or a handler's change loses a race after an earlier one won
        # (LostRace, storage/changes.py). Nothing of it was written (a log line of the handler
        # may already be out), so the event runs again, up to _TRIES times in all, before
        # anyone sees an apology.
        attempt = 0
        while True:
            attempt += 1
            person_id = None
            try:
                with self.db.session() as session:
                    if event.event_id and not _first_time(session, event.event_id, now):
                        log.info("duplicate event %s ignored", event.event_id[:40])
                        return Outbox()
                    try:
                        person = self._person(session, event.actor, now, fresh=_fresh(event))
                    except Erased:
                        return self._after_erasure(session, now, danger)
                    handler = self._handler(event, name)
                    person_id = person.id if _audits_person(handler) else None
                    mentioned = _mentioned(session, event) if isinstance(event, Command) else ()
                    ctx = self.context(session, now, person, event.place, mentioned)
                    ctx.danger = int(danger.level)
                    ctx.concerns = frozenset(c.value for c in danger.concerns)
                    if handler is None and kind == "command":
                        help.unknown_command(ctx, name)
                    elif handler is None:
                        ctx.reply(ctx.say("help.stale_button"))
                    else:
                        handler(ctx, arg)
                    if danger:
                        # Safety first: whatever was asked, the resources for each concern raised
                        # lead the reply, ahead of everything else in the outbox. The quiet line
                        # (words that only may be about danger) follows the reply instead.
                        lead = Message(tuple(safety.lead_blocks(ctx, person.region, danger)))
                        assert person.id is not None  # find_or_create flushed the row
                        at = 0 if danger.level == safety.Level.HIGH else len(ctx.outbox)
                        ctx.outbox.insert(at, Outgoing(OnlyYou(person.id), lead))
                    _audit(session, now, kind, name if handler else "unknown", person_id, "ok")
                    out = self._record(session, ctx.outbox, now, answered, event.actor.platform)
                self._forget(out.forget)
                return out
            except Exception as exc:
                if is_conflict(exc) and attempt < _TRIES:
                    log.warning(
                        "%s %s: attempt %s overtaken by another transaction (%s); run again",
                        kind,
                        known,
                        attempt,
                        type(exc).__name__,
                    )
                    continue
                failed = getattr(self._handler(event, name), "failed", None)
                if is_busy(exc):
                    log.warning("%s %s: the database stayed locked; asked again", kind, known)
                    return self._sorry(danger, failed or "help.busy", _urgent(event))
                # On the way to support, not even a failure may say who was on it.
                who = None if known.startswith(_SUPPORT_PATH) else person_id
                log.error("%s %s failed for person %s: %s", kind, known, who, _trace(exc))
                self._audit_failure(person_id, kind, known, now)
                return self._sorry(danger, failed or "help.error", _urgent(event))

    def _handler(self, event: Event, name: str) -> Handler | None:
        if isinstance(event, Command):
            return COMMANDS.get(name)
        if isinstance(event, Action):
            return ACTIONS.get(name)
        return help.dm_text

    def _person(self, session: Session, actor: Actor, now: datetime, fresh: bool = False) -> Person:
        """The person behind the actor, their cached profile brought up to date. Someone new
        is created, unless their address was erased and this is not something they did
        themselves (`fresh`: a command or message): then Erased is raised. A fresh event from
        an erased address starts someone new, linked to nobody before."""

        def erased() -> bool:
            digest = self.sealer.digest(f"{actor.platform}:{actor.user_id}")
            if not erasure.was_erased(session, digest):
                return False
            if fresh:
                erasure.returned(session, digest)
            return not fresh

        person = find_or_create(
            session,
            actor.platform,
            actor.user_id,
            actor.email,
            now,
            region=self.app.organisation.region,
            erased=erased,
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
        if (person.active_platform or person.platform) != actor.platform and person.id:
            # They are here now: what is for them goes to this platform until they move again.
            session.flush()
            addresses.set_active(session, person.id, actor.platform)
            session.refresh(person, ["active_platform"])
        return person

    def _after_erasure(self, session: Session, now: datetime, danger: safety.Assessment) -> Outbox:
        """The answer to a press (or any event not their own doing) from someone who erased
        their data: nothing is done or created, and it is never written down (it would be a
        row for nobody). Crisis resources lead it if they raised any concern."""
        ctx = self.context(session, now)
        lead = safety.lead_blocks(ctx, self.app.organisation.region, danger)
        ctx.send(OnlyYou(BUSY_REPLY), *lead, ctx.section("privacy.after_erase"), transient=True)
        return ctx.outbox

    def _assess(self, event: Event, now: datetime) -> safety.Assessment:
        """What the person typed, read for danger. If reading it fails, the quiet line is
        shown: never nothing, and never the event's answer lost to it."""
        try:
            key = safety.person_key(event.actor.platform, event.actor.user_id)
            return self.detector.assess(_said(event), key, now)
        except Exception as exc:
            log.error("crisis detection failed (%s): the quiet line is shown", type(exc).__name__)
            return safety.Assessment(safety.Level.QUIET, frozenset({safety.Concern.SELF}))

    def _forget_danger(self, who: Forget) -> None:
        for platform, user_id in who.addresses:
            self.detector.memory.forget(safety.person_key(platform, user_id))

    def _forget(self, people: tuple[Forget, ...]) -> None:
        for who in people:
            for forget in self.on_forget:
                forget(who)

    def _audit_failure(self, person_id: int | None, kind: str, name: str, now: datetime) -> None:
        try:
            with self.db.session() as session:
                _audit(session, now, kind, name, person_id, "error", always=True)
        except Exception as exc:
            log.error("could not write the audit row for a failed %s: %s", kind, _trace(exc))

    def _sorry(self, danger: safety.Assessment, key: str, urgent: bool = False) -> Outbox:
        """The apology for an event that could not be done ("try again", with the urgent-help
        button), led by the crisis resources of the organisation's region if what they wrote
        raised a concern. Built without the database, which may be what failed, and written
        nowhere: addressed to no one in particular (person 0), it goes back to whoever asked,
        where they asked (each platform answers it from the request itself). `urgent`: they
        pressed for urgent help, which is then what they get, database or not."""
        with Session(self.db.engine) as idle:  # never queried: it only satisfies the Context
            ctx = self.context(idle, self.now())
            region = self.app.organisation.region
            if urgent:
                ctx.send(OnlyYou(BUSY_REPLY), *safety.crisis_blocks(ctx, region), transient=True)
                return ctx.outbox
            lead = safety.lead_blocks(ctx, region, danger)
            ctx.send(
                OnlyYou(BUSY_REPLY),
                *lead,
                ctx.section(key),
                buttons(ctx.button("findally.button_urgent", "findally:urgent", style="danger")),
                transient=True,
            )
            ctx.outbox.keep_pressed = True  # nothing happened: the buttons stay to retry
            return ctx.outbox

    def home(self, actor: Actor) -> Message:
        """The person's home view (Slack App Home): what they can do from where they stand."""
        with self.db.session() as session:
            try:
                person = self._person(session, actor, self.now())
            except Erased:  # opening App Home creates nobody: they see what a newcomer sees
                now = self.now()
                person = Person(
                    id=BUSY_REPLY, platform=actor.platform, created_at=now, updated_at=now
                )
            return home.view(self.context(session, self.now(), person))

    def stats(self, days: int = 7) -> Message:
        """The digest's numbers for the last `days` days (for `allybot stats`)."""
        with self.db.session() as session:
            return stats.report(self.context(session, self.now()), self.now(), days)

    def update_profile(self, actor: Actor) -> None:
        """Save a fresh platform profile (name, email, time zone) for this person (nobody is
        created for an erased address: see _person)."""
        with self.db.session() as session, contextlib.suppress(Erased):
            self._person(session, actor, self.now())

    def unreachable(self, person_id: int, platform: str, user_id: str, key: str | None) -> Outbox:
        """A platform refused to deliver to this person (the app is not installed for them
        there, or they blocked it): they are skipped for offers until they next write, an
        offer that did not arrive goes to the next ally, and coordinators hear once that an
        ally cannot be reached (never which request it was)."""
        now = self.now()
        with self.db.session() as session:
            ctx = self.context(session, now)
            first = addresses.mark_unreachable(session, person_id, platform, user_id, now)
            if (offer_id := findally.offer_in_key(key)) is not None:
                findally.undeliverable(ctx, offer_id)
            person = session.get(Person, person_id)
            if first and person is not None and session.get(AllyProfile, person_id) is not None:
                coordinators.notify(
                    ctx,
                    ctx.say(
                        "platforms.unreachable_ally",
                        name=person.display_name,
                        platform=ctx.content.plain(f"platforms.{platform}"),
                    ),
                )
            return self._record(session, ctx.outbox, now)

    # --- timers ----------------------------------------------------------------------------
    def sweep(
        self,
        limit: int = SWEEP_TIMERS,
        seconds: float = SWEEP_SECONDS,
        stop: threading.Event | None = None,
    ) -> Swept:
        """Run due timers once each, each in its own short transaction with its own outcome: at
        most `limit` of them or for about `seconds`, so a sweep never holds the database (and,
        on SQLite, the event loop waiting for it) for long. Timers are claimed a few at a time,
        so a process that stops holds few claims; once `stop` is set the claims not yet run
        are given back for the next sweep. `more` on the result: timers may still be due."""
        now = self.now()
        started = time.monotonic()
        out = Swept()
        ran = 0
        while True:
            batch = min(CLAIM_BATCH, limit - ran)
            with self.db.session() as session:
                claimed = claim_due(session, now, batch)
                out.extend(self._given_up(session, claimed.given_up, now))
            for i, timer in enumerate(claimed.due):
                over = ran and time.monotonic() - started > seconds
                if over or (stop is not None and stop.is_set()):
                    self._release(claimed.due[i:], now)
                    out.more = True
                    return out
                out.extend(self._run_timer(timer, now))
                ran += 1
            if len(claimed.due) + len(claimed.given_up) < batch:
                return out  # nothing more was due
            if ran >= limit or time.monotonic() - started > seconds:
                out.more = True
                return out

    def _given_up(self, session: Session, timers: list[Timer], now: datetime) -> Outbox:
        if not timers:
            return Outbox()
        ctx = self.context(session, now)
        for timer in timers:
            log.error(
                "timer %s (%s) failed %s times: given up", timer.id, timer.kind, timer.attempts
            )
            coordinators.notify(ctx, ctx.say("help.timer_gave_up"))
        return self._record(session, ctx.outbox, now)

    def _run_timer(self, timer: Timer, now: datetime) -> Outbox:
        try:
            assert timer.id is not None  # read from the database, so it has its key
            with self.db.session() as session:
                ctx = self.context(session, now)
                # Done first, in the same transaction: a failure undoes both, and a timer
                # that plans its successor can reuse its key.
                mark_done(session, timer.id, now)
                handler = TIMERS.get(timer.kind)
                if handler is None:
                    log.error("timer %s has unknown kind %s", timer.id, timer.kind)
                else:
                    handler(ctx, timer.subject_id)
                session.add(AuditLog(at=now, kind="timer", name=timer.kind, outcome="ok"))
                return self._record(session, ctx.outbox, now)
        except Exception as exc:
            log.error(
                "timer %s (%s) failed; it will be retried: %s", timer.id, timer.kind, _trace(exc)
            )
            return Outbox()

    def _release(self, timers: list[Timer], now: datetime) -> None:
        ids = [t.id for t in timers if t.id is not None]
        with self.db.session() as session:
            given = release(session, Timer, ids, now, TimerStatus.CLAIMED, TimerStatus.PENDING)
        log.info("sweep stopped early: %s claimed timers given back", given)

    # --- the outbox --------------------------------------------------------------------------
    def _record(
        self,
        session: Session,
        out: Outbox,
        now: datetime,
        answered: Answered | None = None,
        platform: str | None = None,
    ) -> Outbox:
        """Write the outbox into the transaction about to commit: each message (but a
        transient one) becomes a row this process holds until it has sent it, or one already
        sent if it is a reply the platform's acknowledgement carries (see dispatch)."""
        kept = [item for item in out if not item.transient]
        if not kept:
            return out
        replies = [item for item in out if isinstance(item.to, OnlyYou)]
        in_ack = bool(replies) and answered is not None and answered(replies)

        def row(item: Outgoing) -> NewRow:
            sent = in_ack and isinstance(item.to, OnlyYou)
            # A sent message keeps its words only if a press of its buttons may need them.
            keep = not sent or bool(item.message.buttons())
            return NewRow(
                recipient=json.dumps(recipient_data(item.to), separators=(",", ":")),
                people=people_of(item.to),
                body=self.sealer.seal({"m": message_data(item.message)}) if keep else None,
                key=item.key,
                sent_on=platform if sent else None,
            )

        ids = iter(outbox_rows.record(session, [row(item) for item in kept], now, self._lease()))

        def receipt(item: Outgoing) -> Receipt:
            return Receipt(next(ids), 1, sent=in_ack and isinstance(item.to, OnlyYou))

        recorded = Outbox(
            item if item.transient else replace(item, receipt=receipt(item)) for item in out
        )
        recorded.keep_pressed, recorded.forget = out.keep_pressed, out.forget
        return recorded

    def unsent(self) -> list[Outgoing]:
        """Messages to send again (a send failed, or the process sending them died), each
        claimed by this process. A reply only its asker could see goes as a DM: the request it
        answered is long gone."""
        now = self.now()
        out: list[Outgoing] = []
        with self.db.session() as session:
            for claim in outbox_rows.claim(session, now, self._lease()):
                item = self._from_claim(claim)
                if item is None:
                    outbox_rows.give_up(session, claim.row, claim.attempt, now)
                else:
                    out.append(item)
        return out

    def _from_claim(self, claim: outbox_rows.Claim) -> Outgoing | None:
        if claim.body is None:
            return None  # its words were erased with the person they named
        try:
            message = message_from(self.sealer.open(claim.body)["m"])
        except (SealError, KeyError, TypeError, ValueError):
            log.error("outbox row %s cannot be read; it is not sent", claim.row)
            return None
        to = recipient_from(json.loads(claim.recipient))
        if isinstance(to, OnlyYou):
            to = DirectMessage(to.person_id)
        receipt = Receipt(claim.row, claim.attempt, claim.unsure_since)
        return Outgoing(to, message, claim.key, receipt=receipt)

    def pressed(self, row_id: int, actor: Actor, action: str, value: str) -> Message | None:
        """A message as it reads once its button was pressed, rebuilt from the bot's own copy
        (never from what the platform sends back): its buttons gone, and a note of the one
        chosen. None if the bot has no copy, the message was not theirs, or it has no such
        button (a tampered press): the message is then left as it is."""
        with self.db.session() as session:
            row = outbox_rows.find(session, row_id)
            if row is None or row.body is None:
                return None
            person = addresses.person_with(session, actor.platform, actor.user_id)
            shared = "channel" in json.loads(row.recipient)
            if not shared and (person is None or f",{person.id}," not in row.people):
                return None
            try:
                message = message_from(self.sealer.open(row.body)["m"])
            except (SealError, KeyError, TypeError, ValueError):
                return None
        chosen = next(
            (b for b in message.buttons() if (b.action, b.value) == (action, value)), None
        )
        if chosen is None:
            return None
        kept = tuple(b for b in message.blocks if not isinstance(b, Buttons))
        return Message((*kept, Note(self.content.rich("help.pressed", label=chosen.label))))

    def settle(self, results: list[Settled]) -> None:
        """Record what a delivery did with the rows it held (platforms call this)."""
        retry = timedelta(seconds=self.app.delivery.retry_seconds)
        with self.db.session() as session:
            outbox_rows.settle(session, results, self.now(), retry)

    def _lease(self) -> timedelta:
        return timedelta(seconds=self.app.delivery.lease_seconds)

    # --- the calendar ------------------------------------------------------------------------
    def plan_calendar(self) -> None:
        """Record every scheduled post (and the daily job) that has fallen due since the last
        run. Safe to run at any moment, from any number of processes."""
        now = self.now()
        try:
            with self.db.session() as session:
                schedules.plan_due(self.context(session, now), self.schedules())
        except Exception as exc:
            log.error("the calendar run failed; the next run catches up: %s", _trace(exc))

    def next_due(self) -> datetime | None:
        """When something next falls due: a timer or a calendar occurrence (for the shell's
        /wait, which moves time forward one due moment at a time)."""
        with self.db.session() as session:
            timer = session.exec(
                select(func.min(Timer.due_at)).where(Timer.status == TimerStatus.PENDING)
            ).one()
            since = deliveries.checkpoint(session, schedules.CHECKPOINT) or self.now()
        times = [t for s in self.schedules() if (t := when.next_after(s.rule, since)) is not None]
        if timer is not None:
            times.append(timer)
        return min(times, default=None)

    def schedules(self) -> list[schedules.Schedule]:
        """The calendar's entries (built once: content and settings do not change while the
        process runs)."""
        if self._schedules is None:
            self._schedules = schedules.all_schedules(self.app, self.content)
        return self._schedules

    def claim_posts(self) -> list[Outgoing]:
        """Scheduled posts ready to send, each claimed by this process for
        delivery.lease_seconds and marked with its Delivery row (`Outgoing.posting`)."""
        now = self.now()
        posts: list[Outgoing] = []
        with self.db.session() as session:
            ctx = self.context(session, now)
            for claimed in deliveries.claim(session, now, self._lease()):
                row = claimed.row
                assert row.id is not None  # read from the database, so it has its key
                item = schedules.render(ctx, row)
                if item is None:  # its message was removed from content/ since
                    deliveries.finish(session, row.id, claimed.attempt, DeliveryStatus.SKIPPED, now)
                else:
                    posting = Posting(row.id, claimed.unsure_since, claimed.attempt)
                    posts.append(replace(item, posting=posting))
        return posts

    def audit(self, days: int) -> list[str]:
        """The audit log of the last `days` days, oldest first: when, who (internal id),
        what, and how it ended; never what was said or decided about whom."""
        since = self.now() - timedelta(days=days)
        with self.db.session() as session:
            rows = session.exec(
                select(AuditLog).where(col(AuditLog.at) >= since).order_by(col(AuditLog.id))
            ).all()
        return [
            f"{row.at:%Y-%m-%d %H:%M} UTC  "
            f"{f'person {row.person_id}' if row.person_id else 'nobody named':<14}  "
            f"{row.kind:<8} {row.name:<32} {row.outcome}"
            for row in rows
        ]

    def posted(self, posting: Posting, sent: bool) -> None:
        """Record how a claimed post went (by the claim `posting` holds)."""
        with self.db.session() as session:
            status = DeliveryStatus.SENT if sent else DeliveryStatus.FAILED
            deliveries.finish(session, posting.delivery, posting.attempt, status, self.now())


# Looking for support leaves no trace with a name on it: these are audited without the person.
_SUPPORT_PATH = (
    "findally",
    "resources",
    "dm",
    "findally:",
    "request:",
    "relay:",
    "follow_up:",
    "awareness:findally",
    "awareness:resources",
)
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
    "admin:roster",
    "admin:remove",
    "awareness:upcoming",
    "awareness:preview",
    "awareness:findally",
    "awareness:resources",
    "follow_up:again",
    "care:well",
    "care:a_lot",
)


_AUDIT_ROW = insert(AuditLog)


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
    row = {"at": now, "person_id": person_id, "kind": kind, "name": name[:64], "outcome": outcome}
    session.flush()  # the person it names may be new
    session.connection().execute(_AUDIT_ROW, row)  # built once: it is on every event's path


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


def _mentioned(session: Session, command: Command) -> tuple[Mentioned, ...]:
    """The command's mentions as people of the actor's platform, in order. Someone the bot has
    never met stays None: a mention alone creates nobody."""
    if not command.mentions:
        return ()
    ids = [clean(m.user_id, 255) for m in command.mentions]
    found = {
        user_id: person.id
        for user_id in set(ids)
        if user_id and (person := addresses.person_with(session, command.actor.platform, user_id))
    }
    return tuple(
        Mentioned(found.get(user_id), clean(m.shown, 120))
        for user_id, m in zip(ids, command.mentions, strict=True)
    )


def _describe(event: Event) -> tuple[str, str, str]:
    """(kind, name, argument) with the user-controlled parts cleaned."""
    if isinstance(event, Command):
        text = clean(event.text)
        if text.count(MENTION) > len(event.mentions):  # typed, not placed: they name nobody
            text = text.replace(MENTION, "")
        return "command", clean(event.name, 64).lower().lstrip("/"), text
    if isinstance(event, Action):
        return "action", clean(event.action, 255), clean(event.value, MAX_VALUE)
    assert isinstance(event, Text)
    return "text", "dm", clean(event.text)


def _urgent(event: Event) -> bool:
    """The urgent-help button: crisis resources, whatever else fails."""
    return isinstance(event, Action) and event.action == "findally:urgent"


def _fresh(event: Event) -> bool:
    """Whether the person did this themselves, now: a command or a message (a button press
    may be from a message sent long ago)."""
    return isinstance(event, Command | Text)


def _said(event: Event) -> str:
    """Everything the person typed, whole (control characters removed, nothing cut to
    MAX_TEXT), for crisis language: a phrase at the end of a long message still counts."""
    if isinstance(event, Command):  # what they typed after the command, and only that
        return _CONTROL.sub("", event.text)
    if isinstance(event, Text):
        return _CONTROL.sub("", event.text)
    return ""  # a button press carries no words of the person's own
