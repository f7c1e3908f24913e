"""Scale benchmark: the support path with many allies, on SQLite and PostgreSQL.

Builds a database with N allies, 10 x N other people and 2 x N past requests (each with its
accepted offer and its finished timer), then times, over repeated rounds, whole events through
the router (the handler, its transaction and its outbox rows): a requester opening the
preferences ("talk"), pressing "Any ally" until the offer is written, the ally accepting, the
ally's home view, the requester finishing, someone else asking for a topic and a language, and
the answer to their next /findally (with, apart, the two reads it needs). Each line also says
how many calls the event makes to the database (statements, and BEGIN, SAVEPOINT, RELEASE and
COMMIT): on PostgreSQL each is a round trip to the server, so this, times the network's round
trip, is what a slower network adds. PostgreSQL runs when its server programs are installed
(tests/postgres_server.py).

    .venv/bin/python -m bench.scale_bench [--allies 1000 10000] [--large] [--rounds 40]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, insert, text
from sqlmodel import Session, col, select

from bench.measure import Steal, summary
from bot.app import AllyBot, build
from bot.clock import Clock
from bot.config import REPO_ROOT, Settings, load_settings
from bot.events import Action, Actor, Command
from storage import addresses, support
from storage.db import Database
from storage.models import (
    AllyLanguage,
    AllyProfile,
    AllyStatus,
    AllyTopic,
    Offer,
    OfferStatus,
    Person,
    RequestStatus,
    SupportRequest,
    Timer,
    TimerStatus,
)
from tests.postgres_server import TempPostgres

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday morning
TOPICS = ["Stress", "Grief", "Money", "Caring", "Burnout", "Sleep", "Anxiety", "Loneliness"]
LANGUAGES = ["Welsh", "French", "Polish", "Urdu"]
ZONES = ["Europe/London", "Europe/Warsaw", "America/New_York", "Asia/Kolkata"]
ANY_ALLY = '{"t":null,"o":0,"a":0}'
TOPIC_AND_LANGUAGE = '{"t":"Grief","o":0,"a":0,"l":"Welsh"}'
CHUNK = 5000


def _insert(db: Database, table: Any, rows: list[dict]) -> None:
    with db.engine.begin() as conn:
        for i in range(0, len(rows), CHUNK):
            conn.execute(insert(table), rows[i : i + CHUNK])


def populate(db: Database, allies: int, rng: random.Random) -> None:
    """N allies (ids 1..N), 10 x N people, 2 x N finished requests with their offers."""
    people = allies * 11
    _insert(
        db,
        Person,
        [
            {
                "id": i,
                "platform": "shell",
                "platform_user_id": f"a{i}" if i <= allies else f"p{i}",
                "display_name": f"Person {i}",
                "department": f"Dept {rng.randrange(20)}",
                "tz": rng.choice(ZONES),
                "created_at": NOW,
                "updated_at": NOW,
            }
            for i in range(1, people + 1)
        ],
    )
    profiles, topics, languages = [], [], []
    for i in range(1, allies + 1):
        mine = rng.sample(TOPICS, rng.randint(0, 3))
        spoken = rng.sample(LANGUAGES, rng.choice([0, 0, 1]))
        hours = rng.random() < 0.3
        asked = rng.random() < 0.9
        profiles.append(
            {
                "person_id": i,
                "status": AllyStatus.ACTIVE if rng.random() < 0.95 else AllyStatus.PAUSED,
                "available": rng.random() < 0.9,
                "capacity": rng.randint(2, 4),
                "pending": 0,
                "open_count": 0,
                "topics": mine,
                "languages": spoken,
                "listed": True,
                "hours_start": "09:00" if hours else None,
                "hours_end": "17:00" if hours else None,
                "trained_on": (NOW - timedelta(days=rng.randrange(300))).date(),
                "last_asked_at": NOW - timedelta(minutes=rng.randrange(90 * 24 * 60))
                if asked
                else None,
                "updated_at": NOW,
            }
        )
        # As storage/ally_lists.py writes them (the values here are already distinct).
        topics += [{"person_id": i, "topic": t.casefold(), "label": t} for t in mine]
        languages += [{"person_id": i, "language": x.casefold(), "label": x} for x in spoken]
    _insert(db, AllyProfile, profiles)
    _insert(db, AllyTopic, topics)
    _insert(db, AllyLanguage, languages)
    requests, offers, timers = [], [], []
    for r in range(1, 2 * allies + 1):
        at = NOW - timedelta(days=1 + rng.randrange(300))
        ally = rng.randint(1, allies)
        requests.append(
            {
                "id": r,
                "requester_id": rng.randint(allies + 1, people),
                "status": RequestStatus.FINISHED,
                "round": 1,
                "outside_department": False,
                "anonymous": False,
                "introduced": False,
                "waited": False,
                "ally_id": ally,
                "created_at": at,
                "matched_at": at,
                "closed_at": at + timedelta(hours=1),
            }
        )
        offers.append(
            {
                "id": r,
                "request_id": r,
                "ally_id": ally,
                "round": 1,
                "status": OfferStatus.ACCEPTED,
                "created_at": at,
                "expires_at": at + timedelta(minutes=30),
                "decided_at": at,
            }
        )
        timers.append(
            {
                "kind": "offer.expire",
                "subject_id": r,
                "due_at": at + timedelta(minutes=30),
                "status": TimerStatus.DONE,
                "attempts": 0,
                "finished_at": at,
            }
        )
    _insert(db, SupportRequest, requests)
    _insert(db, Offer, offers)
    _insert(db, Timer, timers)
    if not db.is_sqlite:  # ids were given explicitly: move the sequences past them
        with db.engine.begin() as conn:
            for table in ("person", "supportrequest", "offer"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                        f" (SELECT max(id) FROM {table}))"
                    )
                )
            conn.execute(text("ANALYZE"))
    else:
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))


def make_bot(db: Database) -> AllyBot:
    settings = load_settings({"ALLYBOT_CONFIG": str(REPO_ROOT / "app.yaml")})
    settings = Settings(**{**settings.__dict__, "database_url": db.url})
    bot = build(settings, clock=Clock(NOW), migrate=False)
    bot.db.dispose()
    bot.db = bot.router.db = db
    return bot


class Recorder:
    """Times events, and counts the calls each makes to the database: statements, and BEGIN,
    SAVEPOINT, RELEASE and COMMIT (on PostgreSQL each is one round trip to the server)."""

    def __init__(self, engine: Engine, names: list[str]):
        self.times: dict[str, list[float]] = {n: [] for n in names}
        self.calls: dict[str, list[int]] = {n: [] for n in names}
        self.keep = False  # warming up
        self._count = 0
        kinds = ["before_cursor_execute", "commit", "rollback"]  # a SAVEPOINT is a statement
        if engine.dialect.name != "sqlite":  # psycopg sends BEGIN itself; SQLite's is a statement
            kinds.append("begin")
        for kind in kinds:
            event.listen(engine, kind, self._one)

    def _one(self, *_args: object) -> None:
        self._count += 1

    def timed(self, name: str, run: Callable[..., object], *args: object) -> None:
        calls, start = self._count, time.perf_counter()
        run(*args)
        elapsed = time.perf_counter() - start
        if self.keep:
            self.times[name].append(elapsed)
            self.calls[name].append(self._count - calls)


def ack_lookups(session: Session, actor: Actor) -> None:
    person = addresses.person_with(session, actor.platform, actor.user_id)
    assert person is not None and person.id is not None
    support.OPEN_REQUEST.first(session, person=person.id)


def rounds(bot: AllyBot, allies: int, count: int) -> Recorder:
    """`count` requests, each from someone new, through to the requester finishing it."""
    names = [
        "talk (preferences)",
        "Any ally -> offer",
        "accept",
        "ally's home",
        "finish",
        "topic + language -> offer",
        "/findally ack (router)",
        "  its two lookups",
    ]
    rec = Recorder(bot.db.engine, names)
    dispatch, warm = bot.router.dispatch, 3
    for i in range(count + warm):
        rec.keep = i >= warm
        requester = Actor("shell", f"p{allies + 1 + i}")
        rec.timed(names[0], dispatch, Action("findally:talk", "", requester))
        rec.timed(names[1], dispatch, Action("findally:start", ANY_ALLY, requester))
        with bot.db.session() as session:
            offer = session.exec(
                select(Offer)
                .join(SupportRequest, col(SupportRequest.id) == Offer.request_id)
                .join(Person, col(Person.id) == SupportRequest.requester_id)
                .where(
                    Person.platform_user_id == requester.user_id,
                    Offer.status == OfferStatus.PENDING,
                )
            ).first()
            assert offer is not None, "no ally was offered the request"
            offer_id, request_id, ally_id = offer.id, offer.request_id, offer.ally_id
        ally = Actor("shell", f"a{ally_id}")
        rec.timed(names[2], dispatch, Action("offer:accept", str(offer_id), ally))
        rec.timed(names[3], bot.router.home, ally)
        rec.timed(names[4], dispatch, Action("request:finish", str(request_id), requester))
        with bot.db.session() as session:
            request = session.get(SupportRequest, request_id)
            assert request is not None and request.status == RequestStatus.FINISHED
        # Someone else asks for a topic and a language (the preference groups), then cancels.
        other = Actor("shell", f"p{allies + 1 + count + warm + i}")
        dispatch(Action("findally:talk", "", other))
        rec.timed(names[5], dispatch, Action("findally:start", TOPIC_AND_LANGUAGE, other))
        with bot.db.session() as session:
            asked = session.exec(
                select(SupportRequest.id)
                .join(Person, col(Person.id) == SupportRequest.requester_id)
                .where(Person.platform_user_id == other.user_id)
            ).first()
        assert asked is not None
        dispatch(Action("request:cancel", str(asked), other))
        # The answer to a /findally from someone known, and the two reads it needs: who they
        # are, and whether they have a request open.
        rec.timed(names[6], dispatch, Command("findally", "", other))
        with bot.db.session() as session:  # the queries alone, in a transaction already begun
            session.connection()
            rec.timed(names[7], ack_lookups, session, other)
    return rec


def run(backend: str, url: str, allies: int, count: int) -> None:
    db = Database(url)
    if not db.is_sqlite:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    db.upgrade()
    started = time.perf_counter()
    populate(db, allies, random.Random(allies))
    built = time.perf_counter() - started
    bot = make_bot(db)
    print(f"\n{backend}, {allies} allies, {allies * 11} people (built in {built:.1f} s):")
    steal = Steal()
    rec = rounds(bot, allies, count)
    for name, values in rec.times.items():
        print(f"{summary(name, values)}  {statistics.median(rec.calls[name]):3.0f} calls")
    print(steal.line())
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--allies", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--large", action="store_true", help="also 50,000 allies")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    sizes = [*args.allies, *([50000] if args.large else [])]
    with tempfile.TemporaryDirectory(prefix="allybot-scale-") as tmp:
        for n in sizes:
            run("SQLite", f"sqlite:///{Path(tmp) / f'scale{n}.db'}", n, args.rounds)
    server = TempPostgres()
    if args.no_postgres or not server.available:
        print("\nPostgreSQL: skipped (server programs not installed)" * (not args.no_postgres))
        return
    url = server.start()
    try:
        for n in sizes:
            run("PostgreSQL", url, n, args.rounds)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
