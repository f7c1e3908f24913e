"""A sweeper that never stalls the bot (issue 13): a sweep is bounded, a SIGTERM mid-sweep stops
`serve` promptly and loses no timer, posts to many channels go out together, and what the
adapters remember per person stays bounded."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import select

from bot.config import Awareness, Coordinators, Platforms
from bot.platforms.cache import Lru
from bot.scheduler import Calendar
from storage.db import Database
from storage.models import Timer
from tests.conftest import make_bot
from tests.serve_process import ServeProcess, prepare, rows, until
from tests.slack_harness import run, text_of
from tests.slack_standin import Call, SlackStandIn
from tests.test_slack import _profile

CASEY = {"UCASEY": _profile("Casey", "casey@example.com")}


# --- a sweep is bounded ------------------------------------------------------------------------
def test_a_sweep_runs_a_bounded_round_and_the_next_one_carries_on(sqlite_db: Database):
    bot = make_bot(sqlite_db, seed=False)
    now = bot.clock.now()
    with bot.db.session() as session:
        for n in range(45):
            session.add(Timer(kind="nothing", subject_id=n, due_at=now))
    first = bot.router.sweep(limit=30)
    assert first.more
    with bot.db.session() as session:
        statuses = Counter(t.status for t in session.exec(select(Timer)).all())
    assert statuses == {"done": 30, "pending": 15}  # nothing is left claimed between rounds
    second = bot.router.sweep(limit=30)
    assert not second.more
    with bot.db.session() as session:
        assert {(t.status, t.attempts) for t in session.exec(select(Timer)).all()} == {("done", 1)}


def test_a_stopping_sweep_gives_its_claims_back_unspent(sqlite_db: Database):
    bot = make_bot(sqlite_db, seed=False)
    now = bot.clock.now()
    with bot.db.session() as session:
        for n in range(10):
            session.add(Timer(kind="nothing", subject_id=n, due_at=now))
    stop = threading.Event()
    stop.set()
    assert bot.router.sweep(stop=stop).more
    with bot.db.session() as session:
        timers = session.exec(select(Timer)).all()
    # Pending again, with their attempts as they were: a stop never counts towards giving a
    # timer up, and the next sweep (of any process) takes them at once.
    assert Counter((t.status, t.attempts) for t in timers) == {("pending", 0): 10}
    assert not bot.router.sweep().more
    with bot.db.session() as session:
        assert {(t.status, t.attempts) for t in session.exec(select(Timer)).all()} == {("done", 1)}


# --- SIGTERM mid-sweep --------------------------------------------------------------------------
TIMERS = 1000


def test_sigterm_during_a_big_sweep_stops_serve_within_5_seconds_and_loses_no_timer(
    tmp_path: Path,
):
    config = {
        "coordinators": {"people": ["slack:UCASEY"], "channel": None, "digest": "off"},
        "awareness": {"channels": []},
        "delivery": {"sweep_seconds": 0.2, "lease_seconds": 2, "retry_seconds": 0.5},
    }
    database_url, config_path = prepare(tmp_path, config)
    db = Database(database_url)
    with db.session() as session:
        for n in range(TIMERS):  # a kind no handler has: each runs, is logged and done
            session.add(
                Timer(kind="nothing", subject_id=n, due_at=datetime(2020, 1, 1, tzinfo=UTC))
            )
    db.dispose()

    def done() -> int:
        return rows(database_url, "SELECT count(*) FROM timer WHERE status = 'done'")[0][0]

    async def scenario() -> tuple[float, list[tuple[str, int]], int]:
        standin = SlackStandIn(users=CASEY)
        await standin.start()
        serve = ServeProcess(tmp_path, database_url, config_path, standin.url)
        try:
            await serve.start()
            await until(lambda: done() >= 20, what="the sweep to start")
            assert done() < TIMERS, "the sweep ended before the signal: make it bigger"
            assert serve.current is not None
            life = serve.current
            asked = time.monotonic()
            await serve.stop()  # SIGTERM (SIGKILL after 15 s, which the bound below forbids)
            took = time.monotonic() - asked
            assert life.exited.is_set()
            left = rows(database_url, "SELECT status, count(*) FROM timer GROUP BY status")
            await serve.start()
            await until(lambda: done() == TIMERS, what="every timer to be done")
            audited = rows(database_url, "SELECT count(*) FROM auditlog WHERE kind = 'timer'")
            return took, left, audited[0][0]
        finally:
            await serve.close()
            await standin.stop()

    took, left, audited = asyncio.run(scenario())
    assert took < 5.0, took
    assert "claimed" not in dict(left)  # its claims were given back, not left to a lease
    assert audited == TIMERS  # each timer ran exactly once across both lives


# --- posts to many channels ---------------------------------------------------------------------
CHANNELS = [f"team-{n:03}" for n in range(200)]


def test_200_channels_at_100_ms_a_post_are_all_posted_once_together(sqlite_db: Database):
    bot = make_bot(
        sqlite_db,
        seed=False,
        coordinators=Coordinators(people=["slack:UCASEY"], channel=None, notify_by_dm=True),
        awareness=Awareness(channels=CHANNELS),
    )
    standin = SlackStandIn(users=CASEY)
    in_flight = {"now": 0, "most": 0}

    async def round_trip(call: Call) -> bool:
        if call.method == "chat.postMessage":
            in_flight["now"] += 1
            in_flight["most"] = max(in_flight["most"], in_flight["now"])
            await asyncio.sleep(0.1)  # the network's 100 ms
            in_flight["now"] -= 1
        return False

    async def scenario(h) -> float:
        status, body = await h.command("UCASEY", "awareness send weekly-tips", name="/allyadmin")
        assert status == 200, body
        standin.before_call = round_trip
        started = time.monotonic()
        sent = await Calendar(bot.router, h.slack).send_posts()
        assert sent == len(CHANNELS)
        return time.monotonic() - started

    took = asyncio.run(run(bot, standin, scenario))
    posted = Counter(c.args["channel"] for c in standin.calls if c.method == "chat.postMessage")
    assert posted == Counter({f"#{name}": 1 for name in CHANNELS})  # each channel, once
    tips = [c for c in standin.calls if c.method == "chat.postMessage"]
    assert all("Weekly wellbeing tip" in text_of(c.args["blocks"]) for c in tips)
    assert in_flight["most"] > 10  # they went out together
    assert took < 10.0  # about a second; one after another it is 20 s and more


# --- bounded caches -----------------------------------------------------------------------------
def test_the_adapter_remembers_at_most_cache_size_people(sqlite_db: Database):
    bot = make_bot(
        sqlite_db,
        seed=False,
        coordinators=Coordinators(people=["slack:UCASEY"], channel=None, notify_by_dm=True),
        platforms=Platforms(cache_size=10),
    )
    people = {f"UP{n:03}": _profile(f"Person {n}", f"p{n}@example.com") for n in range(30)}
    standin = SlackStandIn(users=people)

    async def scenario(h) -> None:
        for user in people:
            status, body = await h.command(user, name="/resources")
            assert status == 200 and "Support" in text_of(body["blocks"])
        await h.slack.drain()
        assert len(h.slack._profiles) <= 10
        assert len(h.slack._user_ids) <= 10 and len(h.slack._dm_channels) <= 10

    asyncio.run(run(bot, standin, scenario))
    assert len(standin.called("users.info")) == len(people)  # each was looked up as they came


def test_a_cache_of_size_5000_holds_5000_after_10000_people():
    cache: Lru[str, int] = Lru(5000)
    for n in range(10_000):
        cache[f"U{n}"] = n
    assert len(cache) == 5000
    assert cache.get("U0") is None and cache.get("U9999") == 9999
    cache.get("U5000")  # used: kept when a newer person comes
    cache["U10000"] = 10_000
    assert "U5000" in cache and "U5001" not in cache
