"""/allyadmin: the coordinators' desk for applications, the roster of allies and requests
waiting for an ally.

Applications are decided in coordinators.py; the ally state changes live in allies.py; offers
in findally.py. This module is the coordinator-only way in to them, by command and by button.
Waiting requests are shown without anyone's name; a coordinator learns who asked only if the
requester chooses to tell them.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, func, or_, select

from bot.events import MENTION
from bot.messages import Section
from handlers import allies, awareness, care, coordinators, findally
from handlers.context import Context, buttons, whole_number
from storage.changes import won
from storage.models import (
    AllyProfile,
    AllyStatus,
    ApplicationStatus,
    Person,
    RequestStatus,
    SupportRequest,
)
from storage.support import UNMATCHED

log = logging.getLogger(__name__)

ROLE_CHANGES = {
    "pause": AllyStatus.PAUSED,
    "resume": AllyStatus.ACTIVE,
    "remove": AllyStatus.REMOVED,
}
# An ally's status as a coordinator reads it (allies.STATE_KEYS speaks to the ally).
STATE_KEYS = {
    AllyStatus.ONBOARDING: "admin.state_onboarding",
    AllyStatus.ACTIVE: "admin.state_active",
    AllyStatus.PAUSED: "admin.state_paused",
    AllyStatus.STEPPED_DOWN: "admin.state_stepped_down",
    AllyStatus.REMOVED: "admin.state_removed",
}
LONG_OFFERING = timedelta(hours=1)  # a request still being offered this long is listed too
MAX_LISTED = 20  # requests per screen: two blocks each, inside Slack's 50 per message


def command(ctx: Context, text: str) -> None:
    """/allyadmin [applications | roster | requests | awareness ... | trained WHO [YYYY-MM-DD] |
    pause|resume|remove WHO]"""
    if not coordinators.allowed(ctx):
        return
    verb, _, rest = text.strip().partition(" ")
    verb, rest = verb.lower(), rest.strip()
    if not verb:
        _overview(ctx)
    elif verb == "applications" and not rest:
        show_applications(ctx)
    elif verb == "roster" and not rest:
        show_roster(ctx)
    elif verb == "requests" and not rest:
        show_requests(ctx)
    elif verb == "awareness":
        awareness.admin(ctx, rest)
    elif verb == "trained" and rest:
        who, _, when = rest.partition(" ")
        day = _day(ctx, when.strip()) if when.strip() else ctx.now.date()
        if day is None:
            ctx.reply(ctx.say("admin.training_date"))
            return
        _trained(ctx, _ally_named(ctx, who), day)
    elif verb == "remove" and rest and " " not in rest:
        _confirm_remove(ctx, _ally_named(ctx, rest))  # as the roster's button: asked twice
    elif verb in ROLE_CHANGES and rest and " " not in rest:
        _change(ctx, _ally_named(ctx, rest), ROLE_CHANGES[verb])
    else:
        ctx.reply(ctx.say("admin.usage"))


def show_applications(ctx: Context, _value: str = "") -> None:
    if not coordinators.allowed(ctx):
        return
    open_apps = coordinators.open_applications(ctx)
    if not open_apps:
        ctx.reply(ctx.say("admin.no_applications"))
        return
    blocks: list = [ctx.section("admin.applications_title", count=len(open_apps))]
    for app, person in open_apps:
        if app.status == ApplicationStatus.MORE_INFO:
            blocks.append(ctx.note("admin.waiting_for_applicant"))
        blocks += coordinators.application_blocks(
            ctx, app, person, ctx.unseal(app.answers, f"application {app.id}")
        )
    ctx.reply(*blocks)


def show_roster(ctx: Context, _value: str = "") -> None:
    if not coordinators.allowed(ctx):
        return
    rows = ctx.session.exec(
        select(Person, AllyProfile)
        .join(AllyProfile, AllyProfile.person_id == Person.id)
        .where(col(AllyProfile.status).in_(allies.CURRENT))
    ).all()
    if not rows:
        ctx.reply(ctx.say("admin.roster_empty"))
        return
    blocks: list = [ctx.section("admin.roster_title", count=len(rows))]
    for person, profile in sorted(rows, key=lambda r: r[0].display_name.casefold()):
        pid = str(person.id)
        if profile.trained_on is None:
            trained = ctx.content.plain("admin.not_trained")
        else:
            key = "admin.trained_due" if allies.training_due(ctx, profile) else "admin.trained_on"
            if allies.refresher_overdue(ctx, profile):
                key = "allies.roster_overdue"
            trained = ctx.content.plain(key, date=f"{profile.trained_on:%d %b %Y}")
        blocks.append(
            ctx.section(
                "admin.roster_entry",
                name=person.display_name,
                department=person.department or "-",
                status=_state(ctx, profile.status),
                trained=trained,
                open=profile.open_count,
                capacity=profile.capacity,
            )
        )
        row = [ctx.button("admin.button_trained", "admin:trained", pid)]
        if profile.status == AllyStatus.PAUSED:
            row.append(ctx.button("admin.button_resume", "admin:resume", pid))
        else:
            row.append(ctx.button("admin.button_pause", "admin:pause", pid))
        row.append(ctx.button("admin.button_remove", "admin:remove", pid, style="danger"))
        blocks.append(buttons(*row))
    blocks.append(ctx.note("admin.roster_help"))
    ctx.reply(*blocks)


# --- buttons on the roster -------------------------------------------------------------------
def trained_button(ctx: Context, value: str) -> None:
    if coordinators.allowed(ctx):
        _trained(ctx, _ally_by_id(ctx, value), ctx.now.date())


def pause_button(ctx: Context, value: str) -> None:
    if coordinators.allowed(ctx):
        _change(ctx, _ally_by_id(ctx, value), AllyStatus.PAUSED)


def resume_button(ctx: Context, value: str) -> None:
    if coordinators.allowed(ctx):
        _change(ctx, _ally_by_id(ctx, value), AllyStatus.ACTIVE)


def remove_button(ctx: Context, value: str) -> None:
    """Removing someone asks for a second press."""
    if coordinators.allowed(ctx):
        _confirm_remove(ctx, _ally_by_id(ctx, value))


def remove_confirmed(ctx: Context, value: str) -> None:
    if coordinators.allowed(ctx):
        _change(ctx, _ally_by_id(ctx, value), AllyStatus.REMOVED)


# --- requests waiting for an ally ------------------------------------------------------------
def show_requests(ctx: Context, _value: str = "") -> None:
    """Requests without an ally, oldest first: how long, the topic, outside the department and
    language. Nothing about who asked, so the list can be read over a shoulder."""
    if not coordinators.allowed(ctx):
        return
    waiting = waiting_requests(ctx)
    if not waiting:
        ctx.reply(ctx.say("admin.requests_none"))
        return
    blocks: list = [ctx.section("admin.requests_title", count=len(waiting))]
    for req in waiting[:MAX_LISTED]:
        blocks.append(_request_entry(ctx, req))
        rid = str(req.id)
        row = [ctx.button("admin.button_offer_all", "admin:offer_all", rid, "primary")]
        if req.reached_out_at is None:
            row.append(ctx.button("admin.button_message_requester", "admin:reach_out", rid))
        else:
            blocks.append(ctx.note("admin.reached_out_on", date=f"{req.reached_out_at:%d %b %Y}"))
        blocks.append(buttons(*row))
    if len(waiting) > MAX_LISTED:
        blocks.append(ctx.note("admin.requests_more", count=len(waiting) - MAX_LISTED))
    blocks.append(ctx.note("admin.requests_note"))
    ctx.reply(*blocks)


def offer_to_all(ctx: Context, value: str) -> None:
    """Offer a waiting request to every available ally who fits, at once."""
    if not coordinators.allowed(ctx):
        return
    req = _waiting_request(ctx, value)
    if req is None:
        return
    was_waiting = req.status == RequestStatus.WAITING
    asked = findally.offer_to_all(ctx, req)
    if asked is None:
        ctx.reply(ctx.say("admin.request_gone"))
    elif asked == 0:
        ctx.reply(ctx.say("admin.offered_none"))
    else:
        ctx.reply(ctx.say("admin.offered_all", count=asked))
        if was_waiting:  # one still being offered has been told we are asking already
            ctx.dm(req.requester_id, ctx.say("escalation.asking_all"))


def reach_out(ctx: Context, value: str) -> None:
    """Send the requester the coordinators' message, once per request. Their name reaches the
    coordinators only if they press its button (requester_asks_for_coordinator)."""
    if not coordinators.allowed(ctx):
        return
    req = _waiting_request(ctx, value)
    if req is None:
        return
    # Recorded once, by a conditional update: of two presses (or two coordinators) one wins.
    sent = won(
        ctx.session,
        update(SupportRequest)
        .where(
            col(SupportRequest.id) == req.id,
            col(SupportRequest.reached_out_at).is_(None),
            col(SupportRequest.status).in_(UNMATCHED),
        )
        .values(reached_out_at=ctx.now),
    )
    if not sent:
        ctx.session.refresh(req)
        if req.reached_out_at is None:  # closed between the read and the update
            ctx.reply(ctx.say("admin.request_gone"))
        else:
            day = f"{req.reached_out_at:%d %b %Y}"
            ctx.reply(ctx.say("admin.already_reached_out", date=day))
        return
    ctx.dm(
        req.requester_id,
        ctx.section("escalation.reach_out"),
        buttons(
            ctx.button("escalation.button_requester", "request:coordinator", str(req.id)),
            ctx.button("findally.button_urgent", "findally:urgent", style="danger"),
        ),
    )
    log.info("a coordinator messaged the requester of request %s", req.id)
    ctx.reply(ctx.say("admin.reached_out"))


def requester_asks_for_coordinator(ctx: Context, value: str) -> None:
    """The requester chose to talk to a coordinator: only now are the coordinators told who
    they are, by DM (never the channel), once per QUIET_WINDOW however often it is pressed."""
    request_id = whole_number(value)
    req = ctx.session.get(SupportRequest, request_id) if request_id is not None else None
    # Only the requester's own message carries this button, and only after a coordinator
    # reached out: any other press (someone else's, forged or replayed from elsewhere) is
    # turned away and nobody is told anything.
    if req is None or req.requester_id != ctx.actor.id or req.reached_out_at is None:
        ctx.refuse(ctx.say("findally.not_yours"))
        return
    if req.status not in findally.OPEN:  # long closed: nobody is told anything now
        ctx.reply(ctx.say("findally.request_closed"))
        return
    # The coordinators' message she pressed stays, with its urgent-help button.
    care.ask_coordinators(
        ctx,
        f"{care.ESCALATION}:request:{req.id}",
        "escalation.requester_asked",
        "escalation.requester_told",
        already="escalation.requester_already_told",
        button=False,
    )


def waiting_requests(ctx: Context) -> list[SupportRequest]:
    """Requests without an ally: waiting, or still being offered after LONG_OFFERING."""
    long_ago = ctx.now - LONG_OFFERING
    return list(
        ctx.session.exec(
            select(SupportRequest)
            .where(
                or_(
                    SupportRequest.status == RequestStatus.WAITING,
                    (SupportRequest.status == RequestStatus.OFFERING)
                    & (SupportRequest.created_at <= long_ago),
                )
            )
            .order_by(SupportRequest.created_at, SupportRequest.id)
        ).all()
    )


def _waiting_request(ctx: Context, value: str) -> SupportRequest | None:
    """The request a button names, if it still waits for an ally; otherwise a plain answer."""
    request_id = whole_number(value)
    req = ctx.session.get(SupportRequest, request_id) if request_id is not None else None
    if req is None or req.status not in UNMATCHED:
        ctx.reply(ctx.say("admin.request_gone"))
        return None
    return req


def _request_entry(ctx: Context, req: SupportRequest) -> Section:
    waiting = req.status == RequestStatus.WAITING
    state = "admin.state_waiting" if waiting else "admin.state_offering"
    values = {
        "state": ctx.content.plain(state, age=_age(ctx, req.created_at)),
        "topic": req.topic or ctx.content.plain("admin.any_topic"),
        "outside": ctx.content.plain(
            "admin.word_yes" if req.outside_department else "admin.word_no"
        ),
    }
    if req.language:
        return ctx.section("admin.request_entry_language", language=req.language, **values)
    return ctx.section("admin.request_entry", **values)


def _age(ctx: Context, since: datetime) -> str:
    """How long ago `since` was, in words: minutes, then hours up to two days, then days."""
    minutes = max(0, int((ctx.now - since).total_seconds() // 60))
    if minutes < 60:
        return ctx.content.plain("admin.age_minutes", count=minutes)
    hours = minutes // 60
    if hours == 1:
        return ctx.content.plain("admin.age_hour")
    if hours < 48:
        return ctx.content.plain("admin.age_hours", count=hours)
    return ctx.content.plain("admin.age_days", count=hours // 24)


# --- internals -------------------------------------------------------------------------------
def _overview(ctx: Context) -> None:
    counts = dict(
        ctx.session.exec(
            select(AllyProfile.status, func.count()).group_by(AllyProfile.status)
        ).all()
    )
    ctx.reply(
        ctx.section(
            "admin.overview",
            waiting=len(waiting_requests(ctx)),
            applications=len(coordinators.open_applications(ctx)),
            active=counts.get(AllyStatus.ACTIVE, 0),
            onboarding=counts.get(AllyStatus.ONBOARDING, 0),
            paused=counts.get(AllyStatus.PAUSED, 0),
        ),
        buttons(
            ctx.button("admin.button_applications", "admin:applications", style="primary"),
            ctx.button("admin.button_requests", "admin:requests"),
            ctx.button("admin.button_roster", "admin:roster"),
            ctx.button("admin.button_awareness", "awareness:upcoming"),
        ),
        ctx.note("admin.usage"),
    )


def _trained(ctx: Context, found: tuple[Person, AllyProfile] | None, day: date) -> None:
    if found is None:
        return
    person, profile = found
    allies.record_training(ctx, profile, day)
    ctx.reply(
        ctx.say(
            "admin.training_recorded",
            name=person.display_name,
            date=f"{day:%d %b %Y}",
            status=_state(ctx, profile.status),
        )
    )


def _confirm_remove(ctx: Context, found: tuple[Person, AllyProfile] | None) -> None:
    """Removing someone takes a second press, whether asked by button or by command."""
    if found is None:
        return
    person, _profile = found
    ctx.reply(
        ctx.section("admin.remove_confirm", name=person.display_name),
        buttons(
            ctx.button(
                "admin.button_remove_yes", "admin:remove_confirmed", str(person.id), "danger"
            ),
            ctx.button("admin.button_keep", "admin:roster"),
        ),
    )


def _change(ctx: Context, found: tuple[Person, AllyProfile] | None, status: AllyStatus) -> None:
    if found is None:
        return
    person, profile = found
    if not allies.change_role(ctx, profile, status):
        # As it is now: change_role read it again (another coordinator may have just moved it).
        ctx.reply(
            ctx.say(
                "admin.cannot_change",
                name=person.display_name,
                status=_state(ctx, profile.status),
            )
        )
        return
    ctx.dm(person.id, ctx.say(allies.TOLD_KEYS[profile.status]))
    ctx.reply(
        ctx.say(
            "admin.changed",
            name=person.display_name,
            status=_state(ctx, profile.status),
        )
    )


def _ally_named(ctx: Context, who: str) -> tuple[Person, AllyProfile] | None:
    """An ally by mention, platform user id (a typed "@" is fine) or email, on the
    coordinator's own platform. `who` comes straight after the verb, a plain word, so a mention
    in it is the command's first."""
    token = who.strip()
    shown = ctx.as_typed(token)
    if token == MENTION:
        found = ctx.mentioned[0].person_id
        return _as_ally(ctx, ctx.session.get(Person, found) if found else None, shown)
    token = token.lstrip("@")
    person = None
    if token and MENTION not in token:  # several mentions run together name nobody
        person = (
            ctx.session.exec(
                select(Person).where(
                    Person.platform == ctx.actor.platform, Person.platform_user_id == token
                )
            ).first()
            or ctx.session.exec(select(Person).where(Person.email == token.lower())).first()
        )
    return _as_ally(ctx, person, shown)


def _ally_by_id(ctx: Context, value: str) -> tuple[Person, AllyProfile] | None:
    """The ally a roster button names. Its value is an internal id, never shown back."""
    person_id = whole_number(value)
    person = ctx.session.get(Person, person_id) if person_id is not None else None
    return _as_ally(ctx, person, None)


def _as_ally(
    ctx: Context, person: Person | None, shown: str | None
) -> tuple[Person, AllyProfile] | None:
    profile = ctx.session.get(AllyProfile, person.id) if person else None
    if person is None or profile is None or profile.status not in allies.CURRENT:
        if shown is None:
            ctx.reply(ctx.say("admin.no_longer_listed"))
        else:
            short = shown if len(shown) <= 40 else shown[:40] + "…"
            ctx.reply(ctx.say("admin.no_such_ally", who=short))
        return None
    return person, profile


def _state(ctx: Context, status: str) -> str:
    return ctx.content.plain(STATE_KEYS[status])


def _day(ctx: Context, text: str) -> date | None:
    """A training date: YYYY-MM-DD, not in the future."""
    day = allies.parse_date(text)
    return day if day is not None and date(2000, 1, 1) <= day <= ctx.now.date() else None
