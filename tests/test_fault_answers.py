"""An answer in every fault (issue 22): while another process holds SQLite's write lock, or the
database can grow no more, every event gets exactly one answer, crisis words get their lines
at once, a comment that was not saved says so, and /readyz says the bot cannot take writes.
(The PostgreSQL restart under traffic is in test_postgres_restart.py.)"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlmodel import func, select

from bot.app import AllyBot
from storage.db import Database
from storage.models import Feedback
from tests import teams_activities as act
from tests.conftest import make_bot
from tests.slack_harness import run, text_of
from tests.slack_standin import SlackStandIn
from tests.teams_harness import TeamsHarness
from tests.teams_standin import ConnectorStandIn

CRISIS = "I want to kill myself"
LINES = "get help now"  # how the crisis resources begin (content/messages.yaml safety)
BUSY = "very busy right now and nothing was changed"
ERROR = "something went wrong on our side"
NOT_SAVED = "was not saved"

_HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("held", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
"""


@contextmanager
def write_lock_held_by_another_process(path: str) -> Iterator[None]:
    """Another process takes SQLite's write lock and keeps it until the block ends."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, path],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield
    finally:
        assert holder.stdin is not None
        holder.stdin.write("done\n")
        holder.stdin.close()
        holder.wait(timeout=10)


@contextmanager
def database_full(bot: Any) -> Iterator[None]:
    """The database file may grow no more (SQLite's max_page_count, the effect of a full
    disk): the bot's connections are made again with the limit at the file's present size,
    once another connection has filled every free page."""
    path = bot.db.engine.url.database
    filler = sqlite3.connect(path, isolation_level=None)
    filler.execute("PRAGMA journal_mode=WAL")
    pages = filler.execute("PRAGMA page_count").fetchone()[0]
    filler.execute(f"PRAGMA max_page_count = {pages + 4}")
    filler.execute("CREATE TABLE IF NOT EXISTS test_filler (x BLOB)")
    try:
        while True:
            filler.execute("INSERT INTO test_filler VALUES (randomblob(512))")
    except sqlite3.OperationalError as exc:
        assert "full" in str(exc)
    limit = filler.execute("PRAGMA page_count").fetchone()[0]
    filler.close()

    def limited(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        dbapi_conn.execute(f"PRAGMA max_page_count = {limit}")

    bot.db.engine.dispose()
    event.listen(bot.db.engine, "connect", limited)
    try:
        yield
    finally:
        event.remove(bot.db.engine, "connect", limited)
        bot.db.engine.dispose()
        with bot.db.engine.begin() as conn:
            conn.execute(text("DROP TABLE test_filler"))


@pytest.fixture
def sqlite_bot(sqlite_db: Database) -> AllyBot:
    return make_bot(sqlite_db)


@pytest.fixture
def standin() -> SlackStandIn:
    profile = {"display_name": "Eve", "real_name": "Eve", "email": "eve@example.com"}
    return SlackStandIn(users={"UEVE": {"id": "UEVE", "name": "eve", "profile": profile}})


def _posts_to(standin: SlackStandIn, channel: str) -> list[str]:
    return [
        text_of(c["blocks"]) for c in standin.called("chat.postMessage") if c["channel"] == channel
    ]


def _responses(standin: SlackStandIn) -> list[str]:
    return [text_of(c.args["blocks"]) for c in standin.calls if c.method.startswith("respond:")]


def test_under_a_lock_held_by_another_process_every_slack_event_gets_one_answer(
    sqlite_bot, standin
):
    dm = {"type": "message", "channel_type": "im", "user": "UEVE", "channel": "DUEVE"}

    async def scenario(h):
        with write_lock_held_by_another_process(sqlite_bot.db.engine.url.database):
            command = await h.command("UEVE", CRISIS)
            feedback = await h.command("UEVE", "more night shift allies", name="/allyfeedback")
            await h.event({**dm, "text": CRISIS}, "Ev-lock-1")
            urgent = {"action_id": "findally:urgent", "value": ""}
            await h.press("UEVE", urgent, channel="CGENERAL")
        return command, feedback

    (status, command), (_, feedback) = asyncio.run(run(sqlite_bot, standin, scenario))
    words = text_of(command["blocks"])
    assert status == 200 and words.index(LINES) < words.index(BUSY)  # in the ack, lines first
    assert NOT_SAVED in text_of(feedback["blocks"])
    dms = _posts_to(standin, "DUEVE")
    assert len(dms) == 1 and dms[0].index(LINES) < dms[0].index(BUSY)  # the DM: one answer
    pressed = _responses(standin)
    assert len(pressed) == 1 and LINES in pressed[0]  # urgent help, database or not
    with sqlite_bot.db.session() as session:
        assert session.exec(select(func.count()).select_from(Feedback)).one() == 0


def test_under_a_lock_held_by_another_process_a_teams_message_gets_its_crisis_lines(sqlite_bot):
    eve = act.TeamsUser.make("Eve Example")

    async def go() -> list[str]:
        h = TeamsHarness(sqlite_bot, ConnectorStandIn())
        await h.start()
        h.standin.add_user(eve)
        try:
            with write_lock_held_by_another_process(sqlite_bot.db.engine.url.database):
                status, _ = await h.say(eve, CRISIS)
                assert status in (200, 201, 202)
            return h.texts(eve)
        finally:
            await h.stop()

    texts = asyncio.run(go())
    assert len(texts) == 1 and texts[0].index(LINES) < texts[0].index(BUSY)


def test_with_the_database_full_every_event_is_answered_and_nothing_claims_to_be_saved(
    sqlite_bot, standin
):
    async def scenario(h):
        with database_full(sqlite_bot):
            command = await h.command("UEVE", CRISIS)
            # Another person: Eve's crisis words a moment ago would make hers ask first.
            feedback = await h.command("UFINN", "a long comment " * 40, name="/allyfeedback")
            async with h.http.get(h.server.make_url("/readyz")) as resp:
                full = resp.status
        async with h.http.get(h.server.make_url("/readyz")) as resp:
            after = resp.status
        return command, feedback, full, after

    (status, command), (_, feedback), full, after = asyncio.run(run(sqlite_bot, standin, scenario))
    words = text_of(command["blocks"])
    # Lines first, then the answer, or the apology if its writes did not fit: never nothing.
    assert status == 200 and words.startswith("If you are in danger") and LINES in words
    assert "How can we help?" in words or ERROR in words
    said = text_of(feedback["blocks"])
    with sqlite_bot.db.session() as session:
        kept = session.exec(select(func.count()).select_from(Feedback)).one()
    # Either it could not be saved and says so, or (it fit) it is there: never "sent" for nothing.
    assert (NOT_SAVED in said and kept == 0) or (NOT_SAVED not in said and kept == 1)
    assert (full, after) == (503, 200)
