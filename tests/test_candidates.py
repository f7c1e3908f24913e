"""The database chooses the allies for a request exactly as matching.rank would over every ally:
on random populations, on SQLite and PostgreSQL. And the topic and language rows migration 0011
builds say what the profiles' lists say."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from alembic import command
from sqlalchemy import func, text
from sqlmodel import Session, col, select

from handlers import candidates, matching
from storage import ally_lists
from storage.models import AllyLanguage, AllyProfile, AllyTopic, Person, PersonAddress
from tests.conftest import START

RENEWAL, GRACE = 365, 30
LAPSED = START.date() - timedelta(days=RENEWAL + GRACE)
DEPARTMENTS = ["Sales", "sales ", "SALES", "Ops", "Straße", "STRASSE", None, ""]
TOPICS = ["Stress", "stress", "Grief", "GRIEF ", "Money", "Straße"]
LANGUAGES = ["Welsh", "welsh", "French", "Deutsch"]
ZONES = ["Europe/London", "Asia/Tokyo", "America/New_York", "Not/AZone", None]


def _populate(session: Session, rng: random.Random, n: int) -> None:
    asked = [START - timedelta(minutes=rng.randrange(60)) for _ in range(5)]  # ties happen
    for i in range(n):
        platform = rng.choice(["slack", "teams"])
        person = Person(
            platform=platform,
            platform_user_id=f"U{i}",
            department=rng.choice(DEPARTMENTS),
            tz=rng.choice(ZONES),
            active_platform=rng.choice([None, "slack", "teams"]),
            created_at=START,
            updated_at=START,
        )
        session.add(person)
        session.flush()
        assert person.id is not None
        hours = rng.choice([(None, None)] * 4 + [("09:00", "17:00"), ("22:00", "06:00")])
        profile = AllyProfile(
            person_id=person.id,
            status=rng.choice(["active"] * 10 + ["paused", "onboarding"]),
            available=rng.random() < 0.9,
            capacity=rng.randint(1, 4),
            open_count=rng.randint(0, 1),
            pending=rng.choice([0, 0, 1]),
            hours_start=hours[0],
            hours_end=hours[1],
            trained_on=rng.choice([None, LAPSED, date(2026, 1, 5)] * 3 + [LAPSED - timedelta(1)]),
            last_asked_at=rng.choice([None, None, *asked]),
            updated_at=START,
        )
        ally_lists.write(
            session,
            profile,
            topics=rng.sample(TOPICS, rng.randint(0, 3)),
            languages=rng.sample(LANGUAGES, rng.randint(0, 2)),
        )
        for other in rng.sample(["slack", "teams"], rng.randint(0, 2)):
            session.add(
                PersonAddress(
                    person_id=person.id,
                    platform=other,
                    user_id=f"{other}-{i}",
                    unreachable_at=START if rng.random() < 0.15 else None,
                    updated_at=START,
                )
            )
    session.flush()


def _unreachable_ids(session: Session) -> set[int]:
    """People whose platform (the one they last used) refused the last message to them."""
    active = func.coalesce(Person.active_platform, Person.platform)
    return set(
        session.exec(
            select(PersonAddress.person_id)
            .join(Person, col(Person.id) == col(PersonAddress.person_id))
            .where(col(PersonAddress.unreachable_at).is_not(None), PersonAddress.platform == active)
        ).all()
    )


def _everyone(session: Session) -> list[matching.Candidate]:
    """Every ally as a Candidate, the way the bot built them before the SQL path: the oracle."""
    unreachable = _unreachable_ids(session)
    rows = session.exec(
        select(AllyProfile, Person).join(Person, Person.id == AllyProfile.person_id)
    ).all()
    return [
        matching.Candidate(
            person_id=p.id,
            department=p.department,
            topics=tuple(a.topics),
            status=a.status,
            available=a.available,
            capacity=a.capacity,
            open_count=a.open_count,
            pending=a.pending,
            last_asked_at=a.last_asked_at,
            hours_start=a.hours_start,
            hours_end=a.hours_end,
            tz=p.tz,
            languages=tuple(a.languages),
            refresher_overdue=matching.refresher_overdue(
                a.trained_on, START.date(), RENEWAL, GRACE
            ),
            unreachable=p.id in unreachable,
        )
        for a, p in rows
    ]


@pytest.mark.parametrize("rare", [candidates.RARE, 2], ids=["ids read", "probed"])
def test_the_database_ranks_allies_as_rank_does(db, rare, monkeypatch):
    # With few allies a topic or language is always "rare" (its allies' ids are read); a
    # threshold of 2 takes the other path (a probe per ally as the index is walked).
    monkeypatch.setattr(candidates, "RARE", rare)
    rng = random.Random(13)
    chosen = 0  # allies ranked over all the cases: enough for the order to matter
    with db.session() as session:
        for _population in range(3):
            session.exec(text("DELETE FROM personaddress"))
            session.exec(text("DELETE FROM allytopic"))
            session.exec(text("DELETE FROM allylanguage"))
            session.exec(text("DELETE FROM allyprofile"))
            session.exec(text("DELETE FROM person"))
            _populate(session, rng, 120)
            everyone = _everyone(session)
            ids = [c.person_id for c in everyone]
            for _ in range(12):
                want = matching.Wanted(
                    requester_id=rng.choice(ids),
                    requester_department=rng.choice(DEPARTMENTS),
                    topic=rng.choice([None, *TOPICS, "unknown"]),
                    outside_department=rng.random() < 0.5,
                    already_asked=frozenset(rng.sample(ids, rng.randint(0, 5))),
                    language=rng.choice([None, *LANGUAGES]),
                )
                now = START + timedelta(hours=rng.randrange(24))
                expected = [c.person_id for c in matching.rank(everyone, want, now)]
                assert candidates.best(session, want, now, LAPSED) == expected
                assert candidates.best(session, want, now, LAPSED, most=1) == expected[:1]
                chosen += len(expected)
            # The topic buttons: each topic an active ally offers, once whatever its case.
            active = [c for c in everyone if c.status == "active"]
            folded = {t.strip().casefold() for c in active for t in c.topics}
            shown = ally_lists.offered(session, AllyTopic, AllyTopic.topic, 12)
            assert [t.strip().casefold() for t in shown] == sorted(folded)
    assert chosen > 400


def test_migration_0011_makes_rows_of_the_lists_already_there(db):
    command.downgrade(db.alembic_config(), "0010")
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO person (id, platform, display_name, created_at, updated_at)"
                " VALUES (1, 'slack', 'Ali', :t, :t)"
            ),
            {"t": START},
        )
        conn.execute(
            text(
                "INSERT INTO allyprofile (person_id, status, available, capacity, pending,"
                " open_count, topics, languages, listed, updated_at) VALUES (1, 'active', true,"
                " 2, 0, 0, :topics, :languages, true, :t)"
            ),
            {"topics": '["Stress", "stress ", "Grief"]', "languages": '["Welsh"]', "t": START},
        )
    command.upgrade(db.alembic_config(), "head")
    with db.session() as session:
        topics = session.exec(select(AllyTopic.topic, AllyTopic.label)).all()
        languages = session.exec(select(AllyLanguage.language, AllyLanguage.label)).all()
    assert sorted(topics) == [("grief", "Grief"), ("stress", "Stress")]
    assert languages == [("welsh", "Welsh")]
