"""Allies: their status and settings, the directory, the lifecycle from onboarding to
stepping down, and importing or exporting the roster."""

from __future__ import annotations

import csv
import io
import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.messages import Section
from handlers import coordinators, findally, matching, when
from handlers.context import Context, buttons, whole_number
from handlers.people import find_or_create
from storage import ally_lists, timers
from storage.changes import won
from storage.models import AllyProfile, AllyStatus, Person, Timer

log = logging.getLogger(__name__)

# The statuses of someone who is an ally.
CURRENT = (AllyStatus.ONBOARDING, AllyStatus.ACTIVE, AllyStatus.PAUSED)
BACK_FROM_AWAY = "ally.back"
GRACE_OVER = "ally.grace_over"  # the refresher is overdue past its grace: the ally is told
GRACE_HOUR = time(10, 0)  # that DM arrives mid-morning, organisation time
MAX_CAPACITY = 10
MAX_TOPICS = 12
MAX_LANGUAGES = 8
MAX_ITEM = 40
MAX_AWAY_DAYS = 365
# How each ally status is named, and how the ally is told a coordinator changed it.
STATE_KEYS = {
    AllyStatus.ONBOARDING: "allies.state_onboarding",
    AllyStatus.ACTIVE: "allies.state_active",
    AllyStatus.PAUSED: "allies.state_paused",
    AllyStatus.STEPPED_DOWN: "allies.state_stepped_down",
    AllyStatus.REMOVED: "allies.state_removed",
}
TOLD_KEYS = {
    AllyStatus.ONBOARDING: "allies.told_onboarding",
    AllyStatus.ACTIVE: "allies.told_active",
    AllyStatus.PAUSED: "allies.told_paused",
    AllyStatus.REMOVED: "allies.told_removed",
}
_HOURS = re.compile(r"((?:[01][0-9]|2[0-3]):[0-5][0-9])-((?:[01][0-9]|2[0-3]):[0-5][0-9])")


def status(ctx: Context, text: str) -> None:
    """/allystatus [available | away [until YYYY-MM-DD] | capacity N | hours HH:MM-HH:MM|any |
    topics A, B | languages A, B | listed yes|no]"""
    profile = ctx.session.get(AllyProfile, ctx.actor.id)
    if profile is None or profile.status not in CURRENT:
        ctx.reply(ctx.say("allies.not_an_ally"))
        return
    verb, _, rest = text.strip().partition(" ")
    verb, rest = verb.lower(), rest.strip()
    setting = _SETTINGS.get(verb)
    if not verb:
        pass
    elif setting is None:
        ctx.reply(ctx.say("allies.status_usage", most=MAX_CAPACITY))
        return
    else:
        changes = setting(ctx, rest)
        if isinstance(changes, Section):
            ctx.reply(changes)
            return
        _set(ctx, profile, **changes)
    _show(ctx, profile)


Changes = dict[str, Any] | Section  # what to change, or why not


def _availability(ctx: Context, rest: str) -> Changes:
    if rest:
        return ctx.section("allies.available_usage")
    return {"available": True, "away_until": None}


def _away(ctx: Context, rest: str) -> Changes:
    if not rest:
        return {"available": False, "away_until": None}
    m = re.fullmatch(r"until\s+([0-9]{4}-[0-9]{2}-[0-9]{2})", rest, re.IGNORECASE)
    day = parse_date(m.group(1)) if m else None
    today = ctx.now.astimezone(_zone(ctx)).date()
    if day is None or not today < day <= today + timedelta(days=MAX_AWAY_DAYS):
        return ctx.section("allies.away_usage", most=MAX_AWAY_DAYS)
    return _away_until(ctx, ctx.actor.id, day)


def _away_until(ctx: Context, person_id: int, day: date) -> Changes:
    """Away until local midnight of `day`, when a timer makes them available again."""
    back = datetime.combine(day, time(0, 0), tzinfo=_zone(ctx)).astimezone(UTC)
    ctx.session.add(Timer(kind=BACK_FROM_AWAY, subject_id=person_id, due_at=back))
    return {"available": False, "away_until": back}


def take_break(ctx: Context, profile: AllyProfile, days: int) -> date:
    """Away for `days` days from today; the day they are back."""
    day = ctx.now.astimezone(_zone(ctx)).date() + timedelta(days=days)
    changes = _away_until(ctx, profile.person_id, day)
    assert isinstance(changes, dict)
    _set(ctx, profile, **changes)
    return day


def _capacity(ctx: Context, rest: str) -> Changes:
    capacity = whole_number(rest, 2)
    if capacity is None or not 1 <= capacity <= MAX_CAPACITY:
        return ctx.section("allies.capacity_range", most=MAX_CAPACITY)
    return {"capacity": capacity}


def _hours(ctx: Context, rest: str) -> Changes:
    if rest.lower() == "any":
        return {"hours_start": None, "hours_end": None}
    if m := _HOURS.fullmatch(rest.replace(" ", "")):
        return {"hours_start": m.group(1), "hours_end": m.group(2)}
    return ctx.section("allies.hours_usage")


def _list_of(field: str, most: int, usage: str) -> Any:
    def parse(ctx: Context, rest: str) -> Changes:
        if rest.lower() == "none":
            return {field: []}
        items: dict[str, str] = {}
        for item in re.split(r"[,;]", rest):
            item = " ".join(item.split())
            if item:
                items.setdefault(item.casefold(), item)
        values = list(items.values())
        if not values or len(values) > most or any(len(v) > MAX_ITEM for v in values):
            return ctx.section(usage, most=most, longest=MAX_ITEM)
        return {field: values}

    return parse


def _listed(ctx: Context, rest: str) -> Changes:
    answer = rest.lower()
    if answer in ("yes", "on", "true"):
        return {"listed": True}
    if answer in ("no", "off", "false"):
        return {"listed": False}
    return ctx.section("allies.listed_usage")


_SETTINGS = {
    "available": _availability,
    "away": _away,
    "capacity": _capacity,
    "hours": _hours,
    "topics": _list_of("topics", MAX_TOPICS, "allies.topics_usage"),
    "languages": _list_of("languages", MAX_LANGUAGES, "allies.languages_usage"),
    "listed": _listed,
}


def set_available(ctx: Context, _value: str = "") -> None:
    status(ctx, "available")


def set_away(ctx: Context, _value: str = "") -> None:
    status(ctx, "away")


def back_from_away(ctx: Context, person_id: int) -> None:
    """Timer: the date an ally set with "away until" has come, so they are available again."""
    if not won(
        ctx.session,
        update(AllyProfile)
        .where(
            col(AllyProfile.person_id) == person_id,
            col(AllyProfile.away_until).is_not(None),
            col(AllyProfile.away_until) <= ctx.now,
        )
        .values(available=True, away_until=None, updated_at=ctx.now),
    ):
        return  # they changed their status since, or moved the date
    ctx.dm(person_id, ctx.say("allies.back_from_away"))
    profile = ctx.session.get(AllyProfile, person_id)
    if profile is not None and profile.status == AllyStatus.ACTIVE:
        findally.retry_waiting(ctx)


def _set(ctx: Context, profile: AllyProfile, **changes: Any) -> None:
    for key, value in changes.items():
        if key not in ("topics", "languages"):
            setattr(profile, key, value)
    ally_lists.write(
        ctx.session, profile, topics=changes.get("topics"), languages=changes.get("languages")
    )
    profile.updated_at = ctx.now
    ctx.session.add(profile)
    ctx.session.flush()
    log.info("ally %s changed %s", profile.person_id, ",".join(changes))
    if profile.available and profile.status == AllyStatus.ACTIVE:
        findally.retry_waiting(ctx)


def status_blocks(ctx: Context, profile: AllyProfile) -> list:
    """The ally's own status with the one-click availability toggle."""
    if profile.status != AllyStatus.ACTIVE:
        state = ctx.content.plain(STATE_KEYS[profile.status])
    elif profile.available:
        state = ctx.content.plain("allies.state_available")
    elif profile.away_until:
        day = profile.away_until.astimezone(_zone(ctx)).date()
        state = ctx.content.plain("allies.state_away_until", date=f"{day:%a %d %b %Y}")
    else:
        state = ctx.content.plain("allies.state_away")
    toggle = (
        ctx.button("allies.button_away", "ally:away")
        if profile.available
        else ctx.button("allies.button_available", "ally:available", style="primary")
    )
    if profile.hours_start and profile.hours_end:
        hours = ctx.t(
            "allies.hours_set",
            start=profile.hours_start,
            end=profile.hours_end,
            tz=ctx.actor.tz or ctx.app.organisation.timezone,
        )
    else:
        hours = ctx.t("allies.hours_any")
    none = ctx.content.plain("allies.none")
    return [
        ctx.section(
            "allies.status",
            state=state,
            open=profile.open_count,
            capacity=profile.capacity,
        ),
        Section(hours),
        ctx.section(
            "allies.details",
            topics=", ".join(profile.topics) or none,
            languages=", ".join(profile.languages) or none,
            listed=ctx.content.plain("findally.word_yes" if profile.listed else "findally.word_no"),
        ),
        buttons(toggle),
    ]


def _show(ctx: Context, profile: AllyProfile) -> None:
    overdue = [_overdue_section(ctx, profile)] if refresher_overdue(ctx, profile) else []
    ctx.reply(
        *overdue,
        *status_blocks(ctx, profile),
        ctx.note("allies.status_help", most=MAX_CAPACITY),
    )


# --- the directory ---------------------------------------------------------------------------
def directory(ctx: Context, _text: str = "") -> None:
    """/allies: who the allies are (those who chose to be listed), never who is busy."""
    rows = ctx.session.exec(
        select(Person, AllyProfile)
        .join(AllyProfile, AllyProfile.person_id == Person.id)
        .where(AllyProfile.status == AllyStatus.ACTIVE, AllyProfile.listed)
    ).all()
    rows = sorted(rows, key=lambda r: r[0].display_name.casefold())
    if not rows:
        ctx.reply(ctx.say("allies.directory_empty"))
        return
    none = ctx.content.plain("allies.none")
    entries = [
        ctx.section(
            "allies.directory_entry",
            name=person.display_name,
            department=person.department or none,
            topics=", ".join(profile.topics) or none,
            languages=", ".join(profile.languages) or none,
        )
        for person, profile in rows
    ]
    ctx.reply(
        ctx.section("allies.directory_title", count=len(rows)),
        *entries,
        ctx.note("allies.directory_note"),
        buttons(ctx.button("findally.button_talk", "findally:talk", style="primary")),
    )


# --- the lifecycle ---------------------------------------------------------------------------
def step_down_command(ctx: Context, _text: str = "") -> None:
    """/allystepdown: asks to confirm first."""
    profile = ctx.session.get(AllyProfile, ctx.actor.id)
    if profile is None or profile.status not in CURRENT:
        ctx.reply(ctx.say("allies.not_an_ally"))
        return
    ctx.reply(
        ctx.section("allies.step_down_confirm"),
        buttons(
            ctx.button("allies.button_step_down", "ally:stepdown", style="danger"),
            ctx.button("allies.button_stay", "ally:stay"),
        ),
    )


def step_down(ctx: Context, _value: str = "") -> None:
    profile = ctx.session.get(AllyProfile, ctx.actor.id)
    if profile is None or not change_role(ctx, profile, AllyStatus.STEPPED_DOWN):
        ctx.reply(ctx.say("allies.not_an_ally"))
        return
    ctx.reply(ctx.say("allies.stepped_down", open=profile.open_count))
    coordinators.notify(
        ctx, ctx.say("allies.coordinator_stepped_down", name=ctx.actor.display_name)
    )


def stay(ctx: Context, _value: str = "") -> None:
    ctx.reply(ctx.say("allies.staying"))


def change_role(ctx: Context, profile: AllyProfile, status: AllyStatus) -> bool:
    """Pause, resume, step down or remove. Leaving the rota hands unanswered offers on."""
    allowed = {
        AllyStatus.PAUSED: (AllyStatus.ONBOARDING, AllyStatus.ACTIVE),
        AllyStatus.ACTIVE: (AllyStatus.PAUSED,),
        AllyStatus.STEPPED_DOWN: CURRENT,
        AllyStatus.REMOVED: CURRENT,
    }[status]
    resumed = status == AllyStatus.ACTIVE
    if resumed and profile.trained_on is None and profile.approved_at is not None:
        status = AllyStatus.ONBOARDING  # approved here and resumed, but still to be trained
    leaving = status in (AllyStatus.STEPPED_DOWN, AllyStatus.REMOVED)
    # From the states it may come from only: of two changes at once (two coordinators, or a
    # coordinator and the ally), the second is checked against the first's result and loses
    # if that result is not a state it may come from.
    changed = won(
        ctx.session,
        update(AllyProfile)
        .where(
            col(AllyProfile.person_id) == profile.person_id,
            col(AllyProfile.status).in_(allowed),
        )
        .values(
            status=status,
            updated_at=ctx.now,
            **({"available": False} if leaving else {}),
        ),
    )
    ctx.session.refresh(profile)
    if not changed:
        return False
    log.info("ally %s is now %s", profile.person_id, status)
    if profile.available and status == AllyStatus.ACTIVE:
        findally.retry_waiting(ctx)
    if status not in (AllyStatus.ACTIVE, AllyStatus.ONBOARDING):
        moved = findally.release_offers(ctx, profile.person_id)
        log.info("ally %s: %s offers handed on", profile.person_id, moved)
    return True


def record_training(ctx: Context, profile: AllyProfile, day: date) -> None:
    """Training done on `day`: an onboarding ally becomes active."""
    # Only from onboarding: a pause or removal that lands first is not undone.
    activated = won(
        ctx.session,
        update(AllyProfile)
        .where(
            col(AllyProfile.person_id) == profile.person_id,
            col(AllyProfile.status) == AllyStatus.ONBOARDING,
        )
        .values(status=AllyStatus.ACTIVE),
    )
    if activated:
        ctx.dm(profile.person_id, ctx.say("allies.now_active"))
    _set(ctx, profile, trained_on=day)  # an overdue ally is offered requests again from here
    plan_grace(ctx, profile)


def training_due(ctx: Context, profile: AllyProfile) -> bool:
    if profile.trained_on is None:
        return False
    renewal = timedelta(days=ctx.app.allies.training_renewal_days)
    return profile.trained_on + renewal < ctx.now.date()


def refresher_overdue(ctx: Context, profile: AllyProfile) -> bool:
    """Renewal overdue by more than the grace days: matching offers this ally nothing new."""
    cfg = ctx.app.allies
    return matching.refresher_overdue(
        profile.trained_on, ctx.now.date(), cfg.training_renewal_days, cfg.training_grace_days
    )


def _grace_ends(ctx: Context, profile: AllyProfile) -> date:
    """The last day offers still reach an ally whose refresher is overdue."""
    assert profile.trained_on is not None
    cfg = ctx.app.allies
    return profile.trained_on + timedelta(days=cfg.training_renewal_days + cfg.training_grace_days)


def plan_grace(ctx: Context, profile: AllyProfile) -> None:
    """Plan the one "no new requests until your refresher" DM for this training date. Its
    timer, once run, is the record that the ally was told: a timer of theirs due on or after
    this date's grace line means planned already (the key holds the date, so two plans at
    once still make one)."""
    if profile.trained_on is None or profile.status not in CURRENT:
        return
    day = _grace_ends(ctx, profile) + timedelta(days=1)
    line = datetime.combine(day, time(0), tzinfo=UTC)  # dates here are UTC, as in matching
    told = ctx.session.exec(
        select(Timer.id).where(
            Timer.kind == GRACE_OVER,
            Timer.subject_id == profile.person_id,
            col(Timer.due_at) >= line,
        )
    ).first()
    if told is not None:
        return
    # The first organisation morning past both the line and now: a late DM still comes mid-morning.
    zone = when.zone(ctx.app)
    first = max(day, ctx.now.astimezone(zone).date())
    mornings = (
        datetime.combine(first + timedelta(days=n), GRACE_HOUR, tzinfo=zone).astimezone(UTC)
        for n in range(3)
    )
    due = next(at for at in mornings if at >= line and at > ctx.now)
    key = f"{GRACE_OVER}:{profile.person_id}:{profile.trained_on}"
    timers.plan(ctx.session, GRACE_OVER, profile.person_id, due, key)


def grace_over(ctx: Context, person_id: int) -> None:
    """Timer: the refresher is now overdue past its grace, so the ally hears why requests
    have stopped (unless training was recorded meanwhile: then the next line is planned)."""
    profile = ctx.session.get(AllyProfile, person_id)
    if profile is None or profile.status not in CURRENT or profile.trained_on is None:
        return
    if not refresher_overdue(ctx, profile):
        plan_grace(ctx, profile)
        return
    ctx.dm(person_id, _overdue_section(ctx, profile))
    log.info("ally %s: refresher overdue past its grace; no new requests", person_id)


def _overdue_section(ctx: Context, profile: AllyProfile) -> Section:
    assert profile.trained_on is not None
    renewal = profile.trained_on + timedelta(days=ctx.app.allies.training_renewal_days)
    return ctx.section(
        "allies.refresher_overdue",
        date=f"{renewal:%d %b %Y}",
        days=ctx.app.allies.training_grace_days,
    )


def parse_date(text: str) -> date | None:
    """A calendar date written YYYY-MM-DD, or None."""
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _zone(ctx: Context) -> ZoneInfo:
    for name in (ctx.actor.tz if ctx.actor else None, ctx.app.organisation.timezone):
        try:
            return ZoneInfo(name) if name else ZoneInfo("UTC")
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("UTC")


# --- roster import ---------------------------------------------------------------------------
COLUMNS = ("platform", "user", "name", "department", "topics", "capacity")
PLATFORMS = ("slack", "teams", "shell")
_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[A-Za-z]{2,}$")
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_USER_ID = re.compile(r"^[\w.:-]{1,255}$")


@dataclass(frozen=True)
class RosterRow:
    line: int
    platform: str
    user_id: str | None
    email: str | None
    name: str
    department: str
    topics: tuple[str, ...]
    capacity: int
    status: AllyStatus | None = None  # from an export; without it a removed ally comes back active


def parse_roster(text: str, default_capacity: int) -> tuple[list[RosterRow], list[str]]:
    """Read a roster CSV. Returns the rows and a list of "line N: problem" strings."""
    rows: list[RosterRow] = []
    errors: list[str] = []
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in COLUMNS if c not in header and c not in ("topics", "capacity")]
    if missing:
        return [], [
            f"line 1: missing column(s) {', '.join(missing)}; "
            f"the header must be {','.join(COLUMNS)}"
        ]
    reader.fieldnames = header
    seen: set[tuple[str, str]] = set()
    for raw in reader:
        line = reader.line_num
        get = {k: _unguard((v or "").strip()) for k, v in raw.items() if k}
        problems = []
        if None in raw:
            problems.append(
                "more values than the header has columns; "
                "put values that contain commas in double quotes"
            )
        if any(_UNPRINTABLE.search(v) for v in get.values()):
            problems.append(
                "a value holds a line break or control character (an unclosed double quote?)"
            )
        platform = get.get("platform", "").lower()
        if platform not in PLATFORMS:
            problems.append(f"platform must be one of {', '.join(PLATFORMS)}")
        user = get.get("user", "")
        email = user.lower() if _EMAIL.match(user) and len(user) <= 254 else None
        user_id = None if email else user
        if not email and not _USER_ID.match(user):
            problems.append("user must be a platform user id or an email address")
        name = get.get("name", "")
        if not 1 <= len(name) <= 120:
            problems.append("name is required (at most 120 characters)")
        department = get.get("department", "")
        if len(department) > 80:
            problems.append("department is longer than 80 characters")
        topics = tuple(t.strip() for t in get.get("topics", "").split(";") if t.strip())
        if any(len(t) > MAX_ITEM for t in topics) or len(topics) > MAX_TOPICS:
            problems.append("topics: at most 12, separated by ';', each up to 40 characters")
        cap_text = get.get("capacity", "") or str(default_capacity)
        capacity = whole_number(cap_text, 2)
        if capacity is None or not 1 <= capacity <= MAX_CAPACITY:
            problems.append(f"capacity must be a whole number from 1 to {MAX_CAPACITY}")
        status = get.get("status", "").lower() or None
        if status is not None and status not in STATE_KEYS:
            problems.append(f"status must be one of {', '.join(STATE_KEYS)} (or empty)")
        if (platform, user.lower()) in seen:
            problems.append("this person appears twice in the file")
        seen.add((platform, user.lower()))
        if problems:
            errors.extend(f"line {line}: {p}" for p in problems)
            continue
        role = AllyStatus(status) if status else None
        rows.append(
            RosterRow(line, platform, user_id, email, name, department, topics, capacity, role)
        )
    if not rows and not errors:
        errors.append("line 2: the file has a header but no allies")
    return rows, errors


def import_roster(session: Session, rows: list[RosterRow], now: datetime) -> int:
    """Create or update each ally. The caller's session makes it all-or-nothing."""
    for row in rows:
        person = find_or_create(session, row.platform, row.user_id, row.email, now)
        person.display_name = row.name
        person.department = row.department or None
        session.add(person)
        session.flush()
        profile = session.get(AllyProfile, person.id) or AllyProfile(
            person_id=person.id, updated_at=now
        )
        if row.status is not None:
            profile.status = row.status
        elif profile.status == AllyStatus.REMOVED:
            profile.status = AllyStatus.ACTIVE
        ally_lists.write(session, profile, topics=row.topics)
        profile.capacity = row.capacity
        profile.updated_at = now
        session.add(profile)
    return len(rows)


# --- roster export ---------------------------------------------------------------------------
EXPORT_COLUMNS = (*COLUMNS, "languages", "status", "listed", "trained_on", "open_count")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def export_roster(session: Session) -> str:
    """Every ally as CSV, in the columns `allybot allies import` reads (plus their state).

    Values that a spreadsheet would run as a formula are written with a leading apostrophe,
    which import removes again."""
    rows = session.exec(
        select(Person, AllyProfile).join(AllyProfile, AllyProfile.person_id == Person.id)
    ).all()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for person, profile in sorted(rows, key=lambda r: (r[0].display_name.casefold(), r[0].id)):
        values = [
            person.platform,
            person.platform_user_id or person.email or "",
            person.display_name,
            person.department or "",
            "; ".join(profile.topics),
            profile.capacity,
            "; ".join(profile.languages),
            profile.status,
            "yes" if profile.listed else "no",
            profile.trained_on.isoformat() if profile.trained_on else "",
            profile.open_count,
        ]
        writer.writerow([_guard(str(v)) for v in values])
    return out.getvalue()


def _guard(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA) else value


def _unguard(value: str) -> str:
    return value[1:] if value.startswith("'") and value[1:].startswith(_FORMULA) else value
