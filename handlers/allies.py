"""Allies: availability and capacity, and importing an existing roster."""

from __future__ import annotations

import csv
import io
import logging
import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.messages import Section
from handlers import findally
from handlers.context import Context, buttons, whole_number
from handlers.people import find_or_create
from storage.models import AllyProfile

log = logging.getLogger(__name__)

MAX_CAPACITY = 10
_HOURS = re.compile(r"((?:[01][0-9]|2[0-3]):[0-5][0-9])-((?:[01][0-9]|2[0-3]):[0-5][0-9])")


def status(ctx: Context, text: str) -> None:
    """/allystatus [available | away | capacity N | hours HH:MM-HH:MM | hours any]"""
    profile = ctx.session.get(AllyProfile, ctx.actor.id)
    if profile is None or profile.status in ("removed",):
        ctx.reply(ctx.say("allies.not_an_ally"))
        return
    words = text.split()
    verb = words[0].lower() if words else ""
    if not words:
        pass
    elif verb in ("available", "away") and len(words) == 1:
        _set(ctx, profile, available=verb == "available")
    elif verb == "capacity" and len(words) == 2:
        capacity = whole_number(words[1], 2)
        if capacity is None or not 1 <= capacity <= MAX_CAPACITY:
            ctx.reply(ctx.say("allies.capacity_range", most=MAX_CAPACITY))
            return
        _set(ctx, profile, capacity=capacity)
    elif verb == "hours" and len(words) == 2:
        if words[1].lower() == "any":
            _set(ctx, profile, hours_start=None, hours_end=None)
        elif m := _HOURS.fullmatch(words[1]):
            _set(ctx, profile, hours_start=m.group(1), hours_end=m.group(2))
        else:
            ctx.reply(ctx.say("allies.hours_usage"))
            return
    else:
        ctx.reply(ctx.say("allies.status_usage", most=MAX_CAPACITY))
        return
    _show(ctx, profile)


def set_available(ctx: Context, _value: str = "") -> None:
    status(ctx, "available")


def set_away(ctx: Context, _value: str = "") -> None:
    status(ctx, "away")


def _set(ctx: Context, profile: AllyProfile, **changes: object) -> None:
    for key, value in changes.items():
        setattr(profile, key, value)
    profile.updated_at = ctx.now
    ctx.session.add(profile)
    ctx.session.flush()
    log.info("ally %s changed %s", profile.person_id, ",".join(changes))
    if profile.available and profile.status == "active":
        findally.retry_waiting(ctx)


def status_blocks(ctx: Context, profile: AllyProfile) -> list:
    """The ally's own status with the one-click availability toggle."""
    state_key = "allies.state_available" if profile.available else "allies.state_away"
    if profile.status != "active":
        state_key = "allies.state_inactive"
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
    return [
        ctx.section(
            "allies.status",
            state=ctx.content.plain(state_key),
            open=profile.open_count,
            capacity=profile.capacity,
        ),
        Section(hours),
        buttons(toggle),
    ]


def _show(ctx: Context, profile: AllyProfile) -> None:
    ctx.reply(*status_blocks(ctx, profile), ctx.note("allies.status_help", most=MAX_CAPACITY))


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
        get = {k: (v or "").strip() for k, v in raw.items() if k}
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
        if any(len(t) > 40 for t in topics) or len(topics) > 12:
            problems.append("topics: at most 12, separated by ';', each up to 40 characters")
        cap_text = get.get("capacity", "") or str(default_capacity)
        capacity = whole_number(cap_text, 2)
        if capacity is None or not 1 <= capacity <= MAX_CAPACITY:
            problems.append(f"capacity must be a whole number from 1 to {MAX_CAPACITY}")
        if (platform, user.lower()) in seen:
            problems.append("this person appears twice in the file")
        seen.add((platform, user.lower()))
        if problems:
            errors.extend(f"line {line}: {p}" for p in problems)
            continue
        rows.append(RosterRow(line, platform, user_id, email, name, department, topics, capacity))
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
        profile.status = "active" if profile.status == "removed" else profile.status
        profile.topics = list(row.topics)
        profile.capacity = row.capacity
        profile.updated_at = now
        session.add(profile)
    return len(rows)
