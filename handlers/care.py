"""Looking after allies: a wellbeing check-in every few weeks, a reminder before their
training is due for renewal, and one way to reach the coordinators at any time. The first two
are timers planned once per ally (the timer key makes a second plan a no-op); the daily job
plans any that are missing."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import or_, update
from sqlmodel import col, select

from bot.messages import Block, DirectMessage, Message
from handlers import allies, coordinators, findally, when
from handlers.context import Context, buttons
from storage import timers
from storage.changes import won
from storage.models import AllyProfile, AllyStatus, Person

log = logging.getLogger(__name__)

CHECK_IN = "ally.check_in"
TRAINING = "ally.training"
ESCALATION = "coordinator.asked"  # keyed timer: someone asked to talk to a coordinator
QUIET_WINDOW = timedelta(hours=1)  # the same person asking again within this is told once
LOCAL_HOUR = time(10, 0)  # DMs from timers arrive mid-morning, never at night
BREAK_DAYS = 14


def plan_all(ctx: Context) -> None:
    for profile in ctx.session.exec(
        select(AllyProfile).where(col(AllyProfile.status).in_(allies.CURRENT))
    ):
        plan(ctx, profile)


def plan(ctx: Context, profile: AllyProfile) -> None:
    """Make sure this ally has their next check-in and (if due) training reminder planned."""
    if profile.status == AllyStatus.ACTIVE:
        first = _morning(ctx, ctx.now.date() + timedelta(days=ctx.app.allies.check_in_days))
        key = f"{CHECK_IN}:{profile.person_id}"
        timers.plan(ctx.session, CHECK_IN, profile.person_id, first, key)
    if profile.trained_on is not None and profile.renewal_reminded_for != profile.trained_on:
        due = _morning(ctx, renewal_date(ctx, profile) - _reminder_lead(ctx))
        # One reminder timer per training date: recording new training plans a new one.
        key = f"{TRAINING}:{profile.person_id}:{profile.trained_on}"
        timers.plan(ctx.session, TRAINING, profile.person_id, due, key)
    allies.plan_grace(ctx, profile)  # and the day offers stop if the refresher is not done


def renewal_date(ctx: Context, profile: AllyProfile) -> date:
    assert profile.trained_on is not None
    return profile.trained_on + timedelta(days=ctx.app.allies.training_renewal_days)


# --- timers ----------------------------------------------------------------------------------
def check_in(ctx: Context, person_id: int) -> None:
    """Timer: ask an active ally how they are, then plan the next check-in."""
    profile = ctx.session.get(AllyProfile, person_id)
    if profile is None or profile.status != AllyStatus.ACTIVE:
        return  # paused, stepped down or removed: no check-ins (the daily job re-plans)
    ctx.dm(
        person_id,
        ctx.section("care.check_in"),
        buttons(
            ctx.button("care.button_well", "care:well", style="primary"),
            ctx.button("care.button_a_lot", "care:a_lot"),
            ctx.button("care.button_coordinator", "care:coordinator"),
            ctx.button("care.button_break", "care:break", days=BREAK_DAYS),
        ),
        ctx.note("care.check_in_note"),
    )
    plan(ctx, profile)


def training_reminder(ctx: Context, person_id: int) -> None:
    """Timer: training will soon be due for renewal (unless it was renewed meanwhile)."""
    profile = ctx.session.get(AllyProfile, person_id)
    if profile is None or profile.status not in allies.CURRENT or profile.trained_on is None:
        return
    if profile.renewal_reminded_for == profile.trained_on:
        return
    due = renewal_date(ctx, profile)
    if ctx.now.date() < due - _reminder_lead(ctx):
        plan(ctx, profile)  # renewed to a later date: remind nearer that time
        return
    # Once per training date: a second reminder for it (or training recorded meanwhile,
    # which moves the date) loses here.
    if not won(
        ctx.session,
        update(AllyProfile)
        .where(
            col(AllyProfile.person_id) == person_id,
            col(AllyProfile.trained_on) == profile.trained_on,
            or_(
                col(AllyProfile.renewal_reminded_for).is_(None),
                col(AllyProfile.renewal_reminded_for) != profile.trained_on,
            ),
        )
        .values(renewal_reminded_for=profile.trained_on),
    ):
        return
    person = ctx.session.get(Person, person_id)
    day = f"{due:%d %b %Y}"
    late = due < ctx.now.date()
    last = due + timedelta(days=ctx.app.allies.training_grace_days)
    if ctx.now.date() <= last:  # past the grace, allies.grace_over tells them requests paused
        key = "care.training_overdue" if late else "care.training_due"
        ctx.dm(person_id, ctx.say(key, date=day, last=f"{last:%d %b %Y}"))
    coordinators.notify(
        ctx,
        ctx.say(
            "care.training_overdue_coordinators" if late else "care.training_due_coordinators",
            name=person.display_name,
            date=day,
        ),
    )


# --- the check-in's buttons ------------------------------------------------------------------
def well(ctx: Context, _value: str = "") -> None:
    if _ally(ctx):
        ctx.reply(ctx.say("care.glad"))


def a_lot(ctx: Context, _value: str = "") -> None:
    if _ally(ctx):
        ctx.reply(
            ctx.section("care.a_lot"),
            buttons(
                ctx.button("care.button_coordinator", "care:coordinator"),
                ctx.button("care.button_break", "care:break", days=BREAK_DAYS),
                ctx.button("findally.button_resources", "findally:resources"),
            ),
        )


def talk_to_coordinator(ctx: Context, _value: str = "") -> None:
    """An ally asks to talk to a coordinator: from a check-in, a hand-off message, App Home or
    a DM keyword. The coordinators learn only which ally it is (nothing about anyone they
    support); the ally learns what happens next and what to do if someone is in danger."""
    # The button sits on shared or longer-lived messages (the group DM's hand-off, a check-in):
    # it stays as it was, so pressing it shows nobody else anything.
    ctx.outbox.keep_pressed = True
    if current_ally(ctx) is None:  # e.g. the requester pressing the group DM's button
        ctx.reply(ctx.section("escalation.allies_only"), *findally.choices(ctx))
        return
    ask_coordinators(
        ctx, f"{ESCALATION}:ally:{ctx.actor.id}", "escalation.ally_asked", "escalation.ally_told"
    )


def worried_about_someone(ctx: Context, _value: str = "") -> None:
    """Someone (not an ally) worried about a colleague asks to talk to a coordinator. The
    coordinators learn their name, which they chose to share by pressing, and nothing else."""
    ctx.outbox.keep_pressed = True
    # The message pressed (how to help) stays, with its urgent-help button.
    ask_coordinators(
        ctx,
        f"{ESCALATION}:worried:{ctx.actor.id}",
        "escalation.worried_asked",
        "escalation.worried_told",
        button=False,
    )


def ask_coordinators(
    ctx: Context,
    key: str,
    asked: str,
    told: str,
    already: str = "escalation.already_told",
    button: bool = True,
) -> None:
    """Tell the coordinators (`asked`, with the actor's name) that the actor would like to talk,
    once per quiet window for `key`, and tell the actor what happened (`told`, `already`, or
    that nobody can be reached), with what to do if anyone is in danger."""
    result = tell_coordinators(ctx, key, ctx.say(asked, name=ctx.actor.display_name))
    answer = {True: told, False: already}.get(result, "escalation.no_coordinator")
    ctx.reply(ctx.section(answer), *danger_blocks(ctx, ctx.actor.region, button=button))


def tell_coordinators(ctx: Context, key: str, message: Message) -> bool | None:
    """DM every coordinator (never their channel: it may name someone), at most once per
    QUIET_WINDOW for the same `key`. True if they were told now, False if they were told
    within the window already, None if no coordinator can be reached by DM.

    The window is a keyed timer row, not memory: repeated presses, replays and other
    replicas all meet the same unique key, so only one of them notifies."""
    ids = [i for i in coordinators.coordinator_ids(ctx) if i != ctx.actor.id]
    if not ids:
        return None
    if not timers.plan(ctx.session, ESCALATION, ctx.actor.id, ctx.now + QUIET_WINDOW, key):
        return False
    for pid in ids:
        ctx.send(DirectMessage(pid), message)
    log.info("coordinators told that person %s would like to talk", ctx.actor.id)
    return True


def danger_blocks(ctx: Context, region: str | None, button: bool = True) -> list[Block]:
    """One line on what to do if anyone is in danger, and the urgent-help button: nobody spoke
    of danger here (a press to reach a coordinator), so the crisis block itself stays one
    click away rather than filling the reply. `button=False` where the message pressed, which
    stays as it was, carries the urgent-help button already."""
    emergency = ctx.content.resources.region(region or ctx.app.organisation.region).emergency
    line = ctx.section("escalation.danger", emergency=emergency)
    if not button:
        return [line]
    return [line, buttons(ctx.button("findally.button_urgent", "findally:urgent", style="danger"))]


def quiet_window_over(_ctx: Context, _person_id: int) -> None:
    """Timer: the escalation window has passed. Marking it done frees its key; nothing else."""


def take_break(ctx: Context, _value: str = "") -> None:
    profile = _ally(ctx)
    if profile is None:
        return
    back = allies.take_break(ctx, profile, BREAK_DAYS)
    ctx.reply(ctx.say("care.on_break", date=f"{back:%a %d %b}"))


def current_ally(ctx: Context) -> AllyProfile | None:
    """The actor's ally profile if they are an ally now (onboarding, active or paused)."""
    profile = ctx.session.get(AllyProfile, ctx.actor.id)
    return profile if profile is not None and profile.status in allies.CURRENT else None


def _ally(ctx: Context) -> AllyProfile | None:
    profile = current_ally(ctx)
    if profile is None:
        ctx.reply(ctx.say("care.not_an_ally"))
    return profile


def _reminder_lead(ctx: Context) -> timedelta:
    return timedelta(days=ctx.app.allies.training_reminder_days)


def _morning(ctx: Context, day: date) -> datetime:
    """LOCAL_HOUR on `day` in the organisation's time zone (in UTC), or the next such morning
    if that has passed: a reminder that is already late still comes in the morning."""
    zone = when.zone(ctx.app)
    today = ctx.now.astimezone(zone).date()
    for candidate in (day, today, today + timedelta(days=1)):
        at = datetime.combine(candidate, LOCAL_HOUR, tzinfo=zone).astimezone(UTC)
        if at >= ctx.now:
            return at
    raise AssertionError("tomorrow morning is in the future")
