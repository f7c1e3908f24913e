"""An ally's topics and languages: the lists shown on their profile, and one row per case-folded
item (AllyTopic, AllyLanguage) that matching filters and orders by in SQL.

`write` is the only code that changes either: both forms change together, in the caller's
transaction, so the rows always say what the profile's lists say.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, insert, text
from sqlmodel import Session, col

from storage.models import AllyLanguage, AllyProfile, AllyStatus, AllyTopic


def key(value: str) -> str:
    """The form a topic or language is compared in (as handlers/matching.py compares them)."""
    return value.strip().casefold()


def _rows(values: Iterable[str]) -> dict[str, str]:
    """Case-folded item -> the first spelling of it. Any non-empty item matches a wanted value
    that folds the same (matching._same), so each one gets a row."""
    rows: dict[str, str] = {}
    for v in values:
        if v:
            rows.setdefault(key(v), v)
    return rows


def write(
    session: Session,
    profile: AllyProfile,
    *,
    topics: Iterable[str] | None = None,
    languages: Iterable[str] | None = None,
) -> None:
    """Set the ally's topics and/or languages (None keeps that list as it is)."""
    if topics is not None:
        profile.topics = list(topics)
    if languages is not None:
        profile.languages = list(languages)
    session.add(profile)
    session.flush()  # the profile row exists before its rows refer to it
    pid = profile.person_id
    if topics is not None:
        _replace(session, AllyTopic, "topic", pid, _rows(profile.topics))
    if languages is not None:
        _replace(session, AllyLanguage, "language", pid, _rows(profile.languages))


def forget(session: Session, person_id: int) -> None:
    """Remove the ally's rows (before their profile is deleted)."""
    session.exec(delete(AllyTopic).where(col(AllyTopic.person_id) == person_id))
    session.exec(delete(AllyLanguage).where(col(AllyLanguage.person_id) == person_id))


def _replace(
    session: Session, table: Any, column: str, person_id: int, rows: dict[str, str]
) -> None:
    session.exec(delete(table).where(table.person_id == person_id))
    if rows:
        params = [{"person_id": person_id, column: k, "label": v} for k, v in rows.items()]
        session.exec(insert(table), params=params)


def offered(session: Session, table: Any, column: Any, most: int) -> list[str]:
    """The distinct values (ignoring case) of `table` over the active allies, as one of them
    wrote it, sorted ignoring case; at most `most`.

    One index step per distinct value (a loose index scan), not a read of every ally's rows:
    the cost follows how many different topics there are, not how many allies."""
    name, key_column = table.__tablename__, column.key
    rows = session.execute(
        text(
            f"""
            WITH RECURSIVE seen(value) AS (
                SELECT min({key_column}) FROM {name}
                UNION ALL
                SELECT (SELECT min({key_column}) FROM {name} WHERE {key_column} > seen.value)
                FROM seen WHERE seen.value IS NOT NULL
            )
            SELECT seen.value, (
                SELECT t.label FROM {name} t
                JOIN allyprofile a ON a.person_id = t.person_id
                WHERE t.{key_column} = seen.value AND a.status = '{AllyStatus.ACTIVE.value}'
                LIMIT 1
            ) AS label
            FROM seen WHERE seen.value IS NOT NULL
            """
        )
    ).all()
    # Sorted here, not by the database, whose collation may differ from Python's.
    return [label for _, label in sorted(rows) if label is not None][:most]
