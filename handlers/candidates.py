"""The allies who may be offered a request, best first, chosen by the database.

The query filters and orders exactly as handlers/matching.py's `rank` does, over the few
columns it needs, and reads one small page at a time: working hours depend on each ally's own
time zone, so they (and the rule set as a whole, `matching.eligible`) are checked here in
Python, page by page, until enough allies are found. Its cost does not grow with the number of
allies a request never reaches.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import exists, func, or_
from sqlmodel import Session, col, select

from handlers import matching
from storage.ally_lists import key
from storage.models import (
    AllyLanguage,
    AllyProfile,
    AllyStatus,
    AllyTopic,
    Person,
    PersonAddress,
)

PAGE = 25
RARE = 300  # allies listing a topic or language, at most, for their ids to be read at once


def best(
    session: Session,
    want: matching.Wanted,
    now: datetime,
    lapsed_before: date,
    most: int | None = None,
) -> list[int]:
    """The person ids of the eligible allies, best first (all of them, or the first `most`).
    `lapsed_before`: training done before this day is overdue its refresher."""
    found: list[int] = []
    for query in _queries(session, want, lapsed_before):
        offset = 0
        while most is None or len(found) < most:
            rows = session.exec(query.offset(offset).limit(PAGE)).all()
            for row in rows:
                c = matching.Candidate(
                    person_id=row.person_id,
                    department=row.department,
                    topics=(),
                    status=row.status,
                    available=row.available,
                    capacity=row.capacity,
                    open_count=row.open_count,
                    pending=row.pending,
                    last_asked_at=row.last_asked_at,
                    hours_start=row.hours_start,
                    hours_end=row.hours_end,
                    tz=row.tz,
                )
                # The query has applied every rule but the hours; this checks them all again,
                # so a rule the SQL states more loosely (department case) still holds exactly.
                if matching.eligible(c, want, now):
                    found.append(c.person_id)
                    if most is not None and len(found) == most:
                        return found
            if len(rows) < PAGE:
                break
            offset += PAGE
    return found


def _queries(session: Session, want: matching.Wanted, lapsed_before: date) -> list[Any]:
    """One query per preference group, best group first: allies who speak the language asked
    for (if any) before those who do not, and within each, those who offer the topic before
    those who do not, as matching.rank orders them. Each group is read in the index's order
    (ix_allyprofile_next) and stops at the first page that has enough, where one query ordered
    by "has the topic" would have to sort every eligible ally first."""
    query = _query(want, lapsed_before)
    groups = [query]
    if want.topic:
        offers = _holding(session, AllyTopic, AllyTopic.topic, key(want.topic))
        groups = [g.where(wanted) for wanted in offers for g in groups]
    if want.language:
        speaks = _holding(session, AllyLanguage, AllyLanguage.language, key(want.language))
        groups = [g.where(wanted) for wanted in speaks for g in groups]
    return groups


def _holding(session: Session, table: Any, column: Any, value: str) -> tuple[Any, Any]:
    """(has it, has it not): the conditions for allies who list `value` in `table`, and for
    the others.

    "Has it" is said so that finding the group's first page costs the same at any size: if few
    allies list it (at most RARE), their ids, read from the preference rows; if many, a probe
    per ally as the index is walked in order, which finds a page within about
    PAGE x allies / RARE rows. Written as a plain EXISTS, PostgreSQL's planner merge-joins the
    whole ally table instead, whose cost grows with it."""
    pid = col(AllyProfile.person_id)
    own = col(table.person_id)
    listed = session.exec(select(own).where(column == value).limit(RARE + 1)).all()
    has_not = ~exists().where(own == pid, column == value)
    if len(listed) <= RARE:
        return pid.in_(listed), has_not
    # A scalar subquery, which the planner keeps as a probe rather than turning into a join.
    probe = select(own).where(own == pid, column == value).limit(1).scalar_subquery()
    return probe.is_not(None), has_not


def _query(want: matching.Wanted, lapsed_before: date):  # type: ignore[no-untyped-def]
    ally, person = AllyProfile, Person
    load = col(ally.open_count) + col(ally.pending)
    pid = col(ally.person_id)
    unreachable = exists().where(
        col(PersonAddress.person_id) == pid,
        col(PersonAddress.unreachable_at).is_not(None),
        col(PersonAddress.platform) == func.coalesce(person.active_platform, person.platform),
    )
    query = (
        select(
            pid,
            person.department,
            ally.status,
            ally.available,
            ally.capacity,
            ally.open_count,
            ally.pending,
            ally.last_asked_at,
            ally.hours_start,
            ally.hours_end,
            person.tz,
        )
        .join(person, col(person.id) == pid)
        .where(
            ally.status == AllyStatus.ACTIVE,
            col(ally.available).is_(True),
            load < col(ally.capacity),
            pid != want.requester_id,
            or_(col(ally.trained_on).is_(None), col(ally.trained_on) >= lapsed_before),
            ~unreachable,
        )
    )
    if want.already_asked:
        query = query.where(pid.not_in(sorted(want.already_asked)))
    theirs = (want.requester_department or "").strip()
    # Only for a plain-ASCII department: SQL's lower() then never folds two names together that
    # Python's casefold() keeps apart (matching.eligible checks every case exactly).
    if want.outside_department and theirs and theirs.isascii():
        query = query.where(
            or_(
                col(person.department).is_(None),
                func.lower(func.trim(person.department)) != theirs.lower(),
            )
        )
    # Never asked first, then least recently asked, then least load: matching.rank's order, as
    # the index ix_allyprofile_next has it (the same expressions, so the database walks it).
    asked = col(ally.last_asked_at)
    return query.order_by(asked.is_not(None), asked, load, pid)
