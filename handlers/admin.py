"""/allyadmin: the coordinators' desk for applications and the roster of allies.

Applications are decided in coordinators.py; the ally state changes live in allies.py. This
module is the coordinator-only way in to both, by command and by button.
"""

from __future__ import annotations

import re
from datetime import date

from sqlmodel import col, func, select

from handlers import allies, awareness, coordinators
from handlers.context import Context, buttons, whole_number
from storage.models import AllyProfile, Person

_MENTION = re.compile(r"^<@([A-Z0-9]+)(?:\|[^>]*)?>$")  # a Slack mention, escaped by Slack
ROLE_CHANGES = {"pause": "paused", "resume": "active", "remove": "removed"}


def command(ctx: Context, text: str) -> None:
    """/allyadmin [applications | roster | awareness ... | trained WHO [YYYY-MM-DD] |
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
    elif verb == "awareness":
        awareness.admin(ctx, rest)
    elif verb == "trained" and rest:
        who, _, when = rest.partition(" ")
        day = _day(ctx, when.strip()) if when.strip() else ctx.now.date()
        if day is None:
            ctx.reply(ctx.say("admin.training_date"))
            return
        _trained(ctx, _ally_named(ctx, who), day)
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
        if app.status == "more_info":
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
            trained = ctx.content.plain(key, date=f"{profile.trained_on:%d %b %Y}")
        blocks.append(
            ctx.section(
                "admin.roster_entry",
                name=person.display_name,
                department=person.department or "-",
                status=ctx.content.plain(allies.STATE_KEYS[profile.status]),
                trained=trained,
                open=profile.open_count,
                capacity=profile.capacity,
            )
        )
        row = [ctx.button("admin.button_trained", "admin:trained", pid)]
        if profile.status == "paused":
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
        _change(ctx, _ally_by_id(ctx, value), "paused")


def resume_button(ctx: Context, value: str) -> None:
    if coordinators.allowed(ctx):
        _change(ctx, _ally_by_id(ctx, value), "active")


def remove_button(ctx: Context, value: str) -> None:
    """Removing someone asks for a second press."""
    if not coordinators.allowed(ctx):
        return
    found = _ally_by_id(ctx, value)
    if found is None:
        return
    person, _profile = found
    ctx.reply(
        ctx.section("admin.remove_confirm", name=person.display_name),
        buttons(
            ctx.button("admin.button_remove_yes", "admin:remove_confirmed", value, "danger"),
            ctx.button("admin.button_keep", "admin:roster"),
        ),
    )


def remove_confirmed(ctx: Context, value: str) -> None:
    if coordinators.allowed(ctx):
        _change(ctx, _ally_by_id(ctx, value), "removed")


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
            applications=len(coordinators.open_applications(ctx)),
            active=counts.get("active", 0),
            onboarding=counts.get("onboarding", 0),
            paused=counts.get("paused", 0),
        ),
        buttons(
            ctx.button("admin.button_applications", "admin:applications", style="primary"),
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
            status=ctx.content.plain(allies.STATE_KEYS[profile.status]),
        )
    )


def _change(ctx: Context, found: tuple[Person, AllyProfile] | None, status: str) -> None:
    if found is None:
        return
    person, profile = found
    before = profile.status
    if not allies.change_role(ctx, profile, status):
        ctx.reply(
            ctx.say(
                "admin.cannot_change",
                name=person.display_name,
                status=ctx.content.plain(allies.STATE_KEYS[before]),
            )
        )
        return
    ctx.dm(person.id, ctx.say(allies.TOLD_KEYS[profile.status]))
    ctx.reply(
        ctx.say(
            "admin.changed",
            name=person.display_name,
            status=ctx.content.plain(allies.STATE_KEYS[profile.status]),
        )
    )


def _ally_named(ctx: Context, who: str) -> tuple[Person, AllyProfile] | None:
    """An ally by mention, platform user id or email, on the coordinator's own platform."""
    token = who.strip()
    if m := _MENTION.match(token):
        token = m.group(1)
    token = token.lstrip("@")
    person = None
    if token:
        person = (
            ctx.session.exec(
                select(Person).where(
                    Person.platform == ctx.actor.platform, Person.platform_user_id == token
                )
            ).first()
            or ctx.session.exec(select(Person).where(Person.email == token.lower())).first()
        )
    return _as_ally(ctx, person, who)


def _ally_by_id(ctx: Context, value: str) -> tuple[Person, AllyProfile] | None:
    person_id = whole_number(value)
    person = ctx.session.get(Person, person_id) if person_id is not None else None
    return _as_ally(ctx, person, value)


def _as_ally(ctx: Context, person: Person | None, shown: str) -> tuple[Person, AllyProfile] | None:
    profile = ctx.session.get(AllyProfile, person.id) if person else None
    if person is None or profile is None or profile.status not in allies.CURRENT:
        short = shown if len(shown) <= 40 else shown[:40] + "…"
        ctx.reply(ctx.say("admin.no_such_ally", who=short))
        return None
    return person, profile


def _day(ctx: Context, text: str) -> date | None:
    """A training date: YYYY-MM-DD, not in the future."""
    day = allies.parse_date(text)
    return day if day is not None and date(2000, 1, 1) <= day <= ctx.now.date() else None
