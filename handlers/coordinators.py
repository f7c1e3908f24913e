"""Coordinators: who they are, how they are told things, and their decisions on applications.
Alerts never name a requester. An application is personal: its answers, and even the
applicant's name, reach coordinators only privately (a DM, an "only you" reply, App Home);
their channel is told only that one is waiting."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select

from bot.messages import Block, Channel, DirectMessage, Message, Recipient
from handlers.context import Context, buttons, whole_number
from handlers.people import find_or_create
from storage.changes import won
from storage.models import (
    OPEN_APPLICATION,
    AllyProfile,
    AllyStatus,
    Application,
    ApplicationStatus,
    Person,
)

log = logging.getLogger(__name__)


def is_coordinator(ctx: Context, person: Person) -> bool:
    keys = {f"{person.platform}:{person.platform_user_id}".lower()}
    if person.email:
        keys.add(person.email.lower())
    return any(entry.lower() in keys for entry in ctx.app.coordinators.people)


def allowed(ctx: Context) -> bool:
    """True for a coordinator; anyone else is told this is for coordinators only."""
    if is_coordinator(ctx, ctx.actor):
        return True
    ctx.refuse(ctx.say("admin.coordinators_only"))
    return False


def coordinator_ids(ctx: Context) -> list[int]:
    """Coordinators the bot can DM: every `platform:user` entry, and those named by email
    whom the bot has met or imported."""
    ids: set[int] = set()
    for entry in ctx.app.coordinators.people:
        if ":" in entry:
            platform, user_id = entry.split(":", 1)
            ids.add(find_or_create(ctx.session, platform, user_id, None, ctx.now).id)
        else:
            query = select(Person.id).where(Person.email == entry.lower())
            ids.update(i for i in ctx.session.exec(query) if i is not None)
    return sorted(ids)


def recipients(ctx: Context) -> list[Recipient]:
    """Where the weekly digest goes: the coordinators' channel and/or DMs (see `_by_dm`). Its
    numbers may go to a channel that is not private; anything more in it (stats.py) may not."""
    cfg = ctx.app.coordinators
    out: list[Recipient] = [Channel(cfg.channel)] if cfg.channel else []
    if _by_dm(ctx):
        out.extend(DirectMessage(pid) for pid in coordinator_ids(ctx))
    return out


def private_channel(ctx: Context) -> str | None:
    """The coordinators' channel if it may carry more than numbers: configured, and not found
    to be public or unreadable by the platform."""
    name = ctx.app.coordinators.channel
    return name if name and name not in ctx.counts_only else None


def _by_dm(ctx: Context) -> bool:
    """Coordinators are DMed when app.yaml asks, and whenever their channel may not be used."""
    cfg = ctx.app.coordinators
    return cfg.notify_by_dm or (cfg.channel is not None and private_channel(ctx) is None)


def notify(ctx: Context, *blocks: Block | Message) -> None:
    """Tell the coordinators: in their channel if it is private, and by DM (see `_by_dm`)."""
    if channel := private_channel(ctx):
        ctx.send(Channel(channel), *blocks)
    if _by_dm(ctx):
        for pid in coordinator_ids(ctx):
            ctx.dm(pid, *blocks)


# --- applications ----------------------------------------------------------------------------
DECISIONS = {
    "approve": ApplicationStatus.APPROVED,
    "decline": ApplicationStatus.DECLINED,
    "more": ApplicationStatus.MORE_INFO,
}
OUTCOME_KEYS = {
    ApplicationStatus.PENDING: "review.outcome_pending",
    ApplicationStatus.MORE_INFO: "review.outcome_more_info",
    ApplicationStatus.APPROVED: "review.outcome_approved",
    ApplicationStatus.DECLINED: "review.outcome_declined",
    ApplicationStatus.WITHDRAWN: "review.outcome_withdrawn",
}
DONE_KEYS = {
    ApplicationStatus.APPROVED: "review.done_approved",
    ApplicationStatus.DECLINED: "review.done_declined",
    ApplicationStatus.MORE_INFO: "review.done_more_info",
}


def application_submitted(
    ctx: Context, app: Application, person: Person, answers: dict[str, Any]
) -> None:
    """The channel hears only that an application is waiting, with a button that shows it to
    the coordinator who presses; DMs (private) carry the whole application."""
    if channel := private_channel(ctx):
        again = app.decided_by is not None  # sent back for more information, now returned
        ctx.send(
            Channel(channel),
            ctx.section("review.waiting_again" if again else "review.waiting"),
            buttons(ctx.button("review.button_review", "application:review", str(app.id))),
        )
    if _by_dm(ctx):
        for pid in coordinator_ids(ctx):
            ctx.dm(pid, *application_blocks(ctx, app, person, answers))


def review(ctx: Context, value: str) -> None:
    """ "Review it" on the channel's notice: the application, shown only to the coordinator who
    pressed. The notice stays as it is, for the other coordinators."""
    ctx.outbox.keep_pressed = True
    app = _pressed_application(
        ctx, value, "review.coordinators_only_review", "review.not_found_review"
    )
    if app is None:
        return
    applicant = ctx.session.get(Person, app.person_id)
    if app.status not in OPEN_APPLICATION:
        ctx.reply(_decided(ctx, "review.closed", app, applicant))
        return
    log.info("application %s shown to person %s", app.id, ctx.actor.id)
    answers = ctx.unseal(app.answers, f"application {app.id}")
    more = app.status == ApplicationStatus.MORE_INFO
    waiting = [ctx.note("review.waiting_for_applicant")] if more else []
    ctx.reply(*waiting, *application_blocks(ctx, app, applicant, answers))


def _pressed_application(
    ctx: Context, value: str, not_coordinator: str, not_found: str
) -> Application | None:
    """The application a coordinator's button names; None (with a plain answer, and nothing
    pressed taking effect for a non-coordinator) if they may not or it does not exist."""
    if not is_coordinator(ctx, ctx.actor):
        ctx.refuse(ctx.say(not_coordinator))
        return None
    app_id = whole_number(value)
    app = ctx.session.get(Application, app_id) if app_id is not None else None
    if app is None:
        ctx.reply(ctx.say(not_found))
    return app


def _decided(ctx: Context, key: str, app: Application, applicant: Person) -> Message:
    """Who decided an application, and when (the applicant, for a withdrawal)."""
    decider = ctx.session.get(Person, app.decided_by) if app.decided_by else None
    if app.status == ApplicationStatus.WITHDRAWN:
        decider = applicant
    return ctx.say(
        key,
        name=applicant.display_name,
        outcome=ctx.content.plain(OUTCOME_KEYS[app.status]),
        by=decider.display_name if decider else "-",
        date=f"{app.decided_at or app.submitted_at:%d %b %Y %H:%M} UTC",
    )


def application_blocks(
    ctx: Context, app: Application, person: Person, answers: dict[str, Any] | None
) -> list:
    """An application as coordinators see it: every answer (as literal text) and the decision."""
    aid = str(app.id)
    blocks: list = [
        ctx.section(
            "review.heading", name=person.display_name, date=f"{app.submitted_at:%d %b %Y}"
        ),
    ]
    if answers is None:
        blocks.append(ctx.section("review.unreadable"))
    else:
        for q in ctx.content.questionnaire.questions:
            shown = answers.get(q.id) or ctx.content.plain("apply.skipped")
            blocks.append(ctx.section("review.item", label=q.label, answer=shown))
    blocks += [
        buttons(
            ctx.button("review.button_approve", "application:approve", aid, "primary"),
            ctx.button("review.button_decline", "application:decline", aid, "danger"),
            ctx.button("review.button_more", "application:more", aid),
        ),
        ctx.note("review.private"),
    ]
    return blocks


def approve(ctx: Context, value: str) -> None:
    _decide(ctx, value, "approve")


def decline(ctx: Context, value: str) -> None:
    _decide(ctx, value, "decline")


def ask_more(ctx: Context, value: str) -> None:
    _decide(ctx, value, "more")


def _decide(ctx: Context, value: str, verb: str) -> None:
    """A coordinator's decision, recorded once: whoever presses second is told who decided."""
    me = ctx.actor
    app = _pressed_application(ctx, value, "review.coordinators_only", "review.not_found")
    if app is None:
        return
    outcome = DECISIONS[verb]
    more = outcome == ApplicationStatus.MORE_INFO
    states = (ApplicationStatus.PENDING,) if more else OPEN_APPLICATION
    values: dict[str, Any] = {"status": outcome, "decided_by": me.id, "decided_at": ctx.now}
    if not more:
        values["open_key"] = None
    changed = won(
        ctx.session,
        update(Application)
        .where(col(Application.id) == app.id, col(Application.status).in_(states))
        .values(**values),
    )
    ctx.session.refresh(app)
    applicant = ctx.session.get(Person, app.person_id)
    if not changed:
        ctx.reply(_decided(ctx, "review.already_decided", app, applicant))
        return
    log.info("application %s %s by person %s", app.id, outcome, me.id)
    if outcome == ApplicationStatus.APPROVED:
        _onboard(ctx, applicant)
        ctx.dm(applicant.id, *welcome(ctx))
    elif outcome == ApplicationStatus.DECLINED:
        ctx.dm(applicant.id, ctx.say("apply.declined"))
    else:
        ctx.dm(
            applicant.id,
            ctx.section("apply.more_info", coordinator=me.display_name),
            buttons(ctx.button("apply.button_update", "apply:update", str(app.id), "primary")),
        )
    ctx.reply(ctx.say(DONE_KEYS[outcome], name=applicant.display_name, by=me.display_name))
    if channel := private_channel(ctx):  # the others see it is handled, not whose it was
        outcome_words = ctx.content.plain(OUTCOME_KEYS[outcome])
        ctx.send(
            Channel(channel), ctx.say("review.handled", outcome=outcome_words, by=me.display_name)
        )


def _onboard(ctx: Context, person: Person) -> None:
    """An approved applicant becomes an ally in onboarding: no requests until trained. Someone
    made an ally meanwhile (say, by a roster import) keeps what they have."""
    fresh = {
        "status": AllyStatus.ONBOARDING,
        "available": True,
        "away_until": None,
        "trained_on": None,
        "approved_at": ctx.now,
        "updated_at": ctx.now,
    }
    if ctx.session.get(AllyProfile, person.id) is None:
        ctx.session.add(
            AllyProfile(person_id=person.id, capacity=ctx.app.matching.default_capacity, **fresh)
        )
        return
    # A former ally (stepped down or removed) comes back; one who is current is left alone.
    current = (AllyStatus.ONBOARDING, AllyStatus.ACTIVE, AllyStatus.PAUSED)
    won(
        ctx.session,
        update(AllyProfile)
        .where(
            col(AllyProfile.person_id) == person.id,
            col(AllyProfile.status).not_in(current),
        )
        .values(**fresh),
    )


def welcome(ctx: Context) -> list:
    """The welcome for a newly approved ally: role, boundaries, self-care, availability."""
    return [
        ctx.section("apply.approved"),
        ctx.section("apply.welcome_role"),
        ctx.section("apply.welcome_boundaries"),
        ctx.section("apply.welcome_self_care"),
        ctx.section("apply.welcome_availability"),
        buttons(ctx.button("apply.button_role", "apply:role")),
    ]


def open_applications(ctx: Context) -> list[tuple[Application, Person]]:
    return list(
        ctx.session.exec(
            select(Application, Person)
            .join(Person, Person.id == Application.person_id)
            .where(col(Application.status).in_(OPEN_APPLICATION))
            .order_by(col(Application.submitted_at))
        ).all()
    )
