"""Schedules written in words, turned into APScheduler triggers in the organisation's zone.

    10 October | October 10            once a year on that date
    first Thursday of February         once a year (first, second, third, fourth or last)
    first Monday of every month        once a month
    every Monday | every day           every week, every day
    cron: 30 9 * * mon-fri             a crontab line (minute hour day month weekday)

An optional `days_before` moves each occurrence earlier, for weeks that end on a rule
("the week before the third Sunday of June").
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from bot.config import AppConfig

MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
WEEKDAYS = {name.lower(): name[:3].lower() for name in calendar.day_name}
ORDINALS = {"first": "1st", "second": "2nd", "third": "3rd", "fourth": "4th", "last": "last"}
_MONTH = "|".join(MONTHS)
_DAY = "|".join(WEEKDAYS)
_ORD = "|".join(ORDINALS)
_DATE = re.compile(rf"^(?:(\d{{1,2}}) ({_MONTH})|({_MONTH}) (\d{{1,2}}))$")
_NTH = re.compile(rf"^({_ORD}) ({_DAY}) (?:of|in) ({_MONTH}|every month)$")
_EVERY = re.compile(rf"^every ({_DAY}|day)$")
_NUMERIC_WEEKDAY = re.compile(r"(?:^|[,-])\d")  # a weekday number (a "*/2" step is fine)
LONGEST = 400  # days: no rule here has a gap longer than a year


def fields(when: str) -> dict[str, str]:
    """The cron fields (without the time) for a phrase; ValueError says what is wrong."""
    said = " ".join(when.lower().replace(",", " ").split())
    if m := _DATE.match(said):
        day = int(m.group(1) or m.group(4))
        month = MONTHS[m.group(2) or m.group(3)]
        if not 1 <= day <= calendar.monthrange(2023, month)[1]:
            raise ValueError(f"{when!r}: {calendar.month_name[month]} has no day {day}")
        return {"month": str(month), "day": str(day)}
    if m := _NTH.match(said):
        nth, weekday, month = m.groups()
        out = {"day": f"{ORDINALS[nth]} {WEEKDAYS[weekday]}"}
        if month != "every month":
            out["month"] = str(MONTHS[month])
        return out
    if m := _EVERY.match(said):
        return {} if m.group(1) == "day" else {"day_of_week": WEEKDAYS[m.group(1)]}
    raise ValueError(
        f"{when!r} is not a schedule I can read; write a date such as `10 October`, "
        "`first Thursday of February`, `every Monday` or use `cron:`"
    )


def zone(app: AppConfig) -> ZoneInfo:
    """The organisation's time zone, in which every schedule and reminder is read."""
    return ZoneInfo(app.organisation.timezone)


def crontab(line: str) -> None:
    """Check a crontab line; weekdays must be names (cron and APScheduler number them apart)."""
    parts = line.split()
    if len(parts) != 5:
        raise ValueError(f"{line!r} needs 5 fields: minute hour day month weekday")
    if _NUMERIC_WEEKDAY.search(parts[4]):
        raise ValueError(f"{line!r}: write weekdays as names (mon, tue, ...), not numbers")
    CronTrigger.from_crontab(line)


class Shifted(BaseTrigger):
    """Another trigger's times, `days` earlier (same local clock time)."""

    def __init__(self, inner: BaseTrigger, days: int):
        self.inner, self.shift = inner, timedelta(days=days)

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        # Shift by calendar days on the local clock, so a clock change in between does not
        # move the time of day (or hide an occurrence).
        previous = self._local(previous_fire_time) + self.shift if previous_fire_time else None
        nxt = self.inner.get_next_fire_time(previous, self._local(now) + self.shift)
        return nxt - self.shift if nxt else None

    def _local(self, moment: datetime) -> datetime:
        zone = getattr(self.inner, "timezone", None)
        return moment.astimezone(zone) if zone else moment

    def __str__(self) -> str:
        return f"{self.inner} minus {self.shift.days} days"


def trigger(
    zone: tzinfo,
    when: str | None = None,
    at: str = "10:00",
    cron: str | None = None,
    days_before: int = 0,
) -> BaseTrigger:
    if cron:
        built: BaseTrigger = CronTrigger.from_crontab(cron, timezone=zone)
    else:
        hour, minute = at.split(":")
        built = CronTrigger(**fields(when or ""), hour=hour, minute=minute, timezone=zone)
    return Shifted(built, days_before) if days_before else built


def occurrence_key(at: datetime, zone: tzinfo) -> str:
    """How an occurrence is named in Delivery rows: its local date and time."""
    return f"{at.astimezone(zone):%Y-%m-%dT%H:%M}"


def between(rule: BaseTrigger, after: datetime, until: datetime) -> Iterator[datetime]:
    """Occurrences in (after, until], oldest first."""
    t = rule.get_next_fire_time(None, after + timedelta(microseconds=1))
    while t is not None and t <= until:
        yield t
        t = rule.get_next_fire_time(t, t + timedelta(microseconds=1))


def next_after(rule: BaseTrigger, after: datetime) -> datetime | None:
    return rule.get_next_fire_time(None, after + timedelta(microseconds=1))
