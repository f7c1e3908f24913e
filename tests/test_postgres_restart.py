"""PostgreSQL restarts under traffic (issue 22): `pg_ctl restart -m fast` while 50 signed Slack
requests are in flight. Every slash command is acked with an answer (the real one, or the
apology built without the database), every DM event gets exactly one answer in the sender's
DM, crisis words get the crisis lines exactly once and first, and no feedback is said to be
saved unless its row is there. Then, once a sweep has run after every claim ran out, still
nothing has been sent twice.

A PostgreSQL server of the test's own (it is restarted), the bot's real aiohttp + Bolt app,
and the loopback Slack Web API stand-in that records what the bot sent."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psycopg
import pytest
from sqlmodel import select

from bot.scheduler import Calendar
from storage.models import Feedback
from tests.conftest import fresh_database, make_bot
from tests.postgres_server import TempPostgres
from tests.slack_harness import SlackHarness, event_body, run, text_of
from tests.slack_standin import SlackStandIn

CRISIS = "get help now"  # safety.crisis_title, which leads the crisis lines
CRISIS_FIRST = "If you are in danger or might act on thoughts of harming yourself, get help now."
SAVED = "Your comment is saved"  # feedback.thanks
NOT_SAVED = "your comment was not saved"  # feedback.not_saved
SORRY = "Sorry, something went wrong on our side"  # help.error
HOW_CAN_WE_HELP = "How can we help?"  # /findally's own answer
HELLO = "Hi, I am allybot."  # the help a DM gets

# 50 requests, kinds interleaved: 25 DMs, 15 comments, 10 /findally, each from its own user.
KINDS = ["dm", "feedback", "dm", "findally", "dm", "feedback", "dm", "feedback", "dm", "findally"]
PLAN = [KINDS[n % len(KINDS)] for n in range(50)]
SENT_BEFORE_RESTART = 20  # at once; the restart starts once the first command is acked
SENT_DURING_RESTART = 20  # one after another, from the moment the restart starts


@dataclass
class Request:
    n: int
    kind: str  # "dm", "feedback" or "findally"
    status: int | None = None
    ack: dict[str, Any] = field(default_factory=dict)
    in_restart: bool = False  # sent after the restart began and before it ended

    @property
    def user(self) -> str:
        return f"U{self.kind[:2].upper()}{self.n}"

    @property
    def dm(self) -> str:
        return f"D{self.user}"  # the stand-in's conversations.open names a DM after its user

    @property
    def text(self) -> str:
        if self.kind == "feedback":
            return f"comment number {self.n}: more ally sessions for the night shift"
        if self.kind == "findally":
            return "I want to kill myself"
        return f"I want to kill myself {self.n}"


@pytest.fixture
def server() -> Iterator[tuple[TempPostgres, str]]:
    """A PostgreSQL server of this test's own (never ALLYBOT_TEST_POSTGRES_URL's: it is
    restarted)."""
    pg = TempPostgres()
    if not pg.available:
        if os.environ.get("ALLYBOT_REQUIRE_POSTGRES"):
            pytest.fail("PostgreSQL is required (ALLYBOT_REQUIRE_POSTGRES) but not installed")
        pytest.skip("PostgreSQL server programs not installed (apt-get install postgresql)")
    try:
        yield pg, pg.start()
    finally:
        pg.stop()


def test_a_fast_restart_under_traffic_leaves_no_request_unanswered_or_answered_twice(
    server: tuple[TempPostgres, str], tmp_path: Path
):
    pg, url = server
    db = fresh_database("postgresql", tmp_path, url)
    bot = make_bot(db)
    requests = [Request(n, kind) for n, kind in enumerate(PLAN, 1)]
    early = requests[:SENT_BEFORE_RESTART]
    during = requests[SENT_BEFORE_RESTART : SENT_BEFORE_RESTART + SENT_DURING_RESTART]
    late = requests[SENT_BEFORE_RESTART + SENT_DURING_RESTART :]
    standin = SlackStandIn(
        users={r.user: {"id": r.user, "profile": {"real_name": r.user}} for r in requests}
    )
    started = _started_at(url)
    restarting = ThreadPoolExecutor(1, thread_name_prefix="pg-restart")
    unanswered_at_restart: list[Request] = []

    async def send(h: SlackHarness, r: Request, restart: asyncio.Future | None) -> None:
        r.in_restart = restart is not None and not restart.done()
        if r.kind == "dm":
            event = {
                "type": "message",
                "channel_type": "im",
                "channel": r.dm,
                "user": r.user,
                "text": r.text,
                "ts": f"{r.n}.1",
            }
            r.status, _ = await h.post(event_body(event, f"Ev{r.n}"), "application/json")
            return
        body = urlencode(
            {
                "token": "legacy",
                "team_id": "T1",
                "channel_id": "CGENERAL",
                "user_id": r.user,
                "command": "/allyfeedback" if r.kind == "feedback" else "/findally",
                "text": r.text,
                "trigger_id": f"trig-{r.n}",
                "response_url": standin.response_url(f"r{r.n}"),
            }
        )
        r.status, raw = await h.post(body, "application/x-www-form-urlencoded")
        r.ack = json.loads(raw) if raw.startswith("{") else {"raw": raw}

    async def scenario(h: SlackHarness) -> None:
        command_acked = asyncio.Event()

        async def before_restart(r: Request) -> None:
            await send(h, r, None)
            if r.kind != "dm":  # a command is acked once done; an event at once, done after
                command_acked.set()

        sending = [asyncio.create_task(before_restart(r)) for r in early]
        await command_acked.wait()  # the bot is working on the database: restart it now
        unanswered_at_restart.extend(r for r in early if not _answered(r, standin))
        restart = asyncio.get_running_loop().run_in_executor(restarting, pg.restart, "fast")
        for r in during:  # one after another, from the moment the restart starts
            await send(h, r, restart)
        await restart  # returns once the server accepts connections again
        await asyncio.gather(*sending, *(send(h, r, restart) for r in late))
        await h.slack.drain()
        # What the restart left unsettled is sent again once its claim has run out (the
        # outbox first looks for what already went out): it must send nothing a second time.
        bot.clock.advance(timedelta(minutes=10))
        await Calendar(bot.router, h.slack).sweep()
        await h.slack.drain()

    try:
        asyncio.run(run(bot, standin, scenario))
        with db.session() as session:
            rows = session.exec(select(Feedback)).all()
            comments = [bot.router.sealer.open(row.text)["comment"] for row in rows]
    finally:
        restarting.shutdown()
        db.dispose()

    # The server restarted, with requests in flight and more arriving while it did.
    assert _started_at(url) != started, "the server did not restart"
    assert unanswered_at_restart, "every request had been answered before the restart"
    assert any(r.in_restart for r in during), "no request was sent while the server restarted"

    sent = _sent(standin)
    told_saved: list[str] = []
    told_not_saved: list[str] = []
    for r in requests:
        assert r.status == 200, r
        if r.kind == "dm":
            said = sent.get(r.dm, [])
            # One answer: the help, or the apology (either led by the crisis lines, once).
            assert sum(HELLO in m or SORRY in m for m in said) == 1, (r, said)
            assert said[0].startswith(CRISIS_FIRST), (r, said)
            assert sum(m.count(CRISIS) for m in said) == 1, (r, said)
            continue
        assert r.ack.get("blocks"), r  # the ack itself answers: never empty
        ack = text_of(r.ack["blocks"])
        said = [ack, *sent.get(f"respond:r{r.n}", []), *sent.get(r.dm, [])]
        if r.kind == "findally":
            assert ack.startswith(CRISIS_FIRST), (r, ack)
            assert sum(m.count(CRISIS) for m in said) == 1, (r, said)
            assert (HOW_CAN_WE_HELP in ack) != (SORRY in ack), (r, ack)
        else:
            assert (SAVED in ack) != (NOT_SAVED in ack), (r, ack)
            assert sum(SAVED in m or NOT_SAVED in m for m in said) == 1, (r, said)
            assert CRISIS not in "\n".join(said), (r, said)
            (told_saved if SAVED in ack else told_not_saved).append(r.text)

    # No comment is said to be saved unless its row is there, none is kept twice, and the
    # table holds nothing but comments sent.
    assert len(rows) >= len(told_saved)
    assert sorted(set(comments)) == sorted(comments)
    assert set(told_saved) <= set(comments), set(told_saved) - set(comments)
    assert set(comments) <= set(told_saved) | set(told_not_saved)

    # Once the server is back, every request gets its real answer, on new connections.
    for r in late:
        said = [text_of(r.ack.get("blocks") or []), *sent.get(r.dm, [])]
        assert not any(SORRY in m or NOT_SAVED in m for m in said), (r, said)


def _started_at(url: str) -> object:
    """When the server's postmaster started: a restart changes it."""
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT pg_postmaster_start_time()").fetchone()
    assert row is not None
    return row[0]


def _answered(r: Request, standin: SlackStandIn) -> bool:
    """Whether the request has had its answer yet (a command in its ack, an event by DM)."""
    if r.kind != "dm":
        return r.status is not None
    return any(
        c.method == "chat.postMessage" and c.args.get("channel") == r.dm
        for c in standin.calls
        if HELLO in _words(c.args) or SORRY in _words(c.args)
    )


def _sent(standin: SlackStandIn) -> dict[str, list[str]]:
    """The words of every message the bot sent, by DM channel or by request (response_url)."""
    sent: dict[str, list[str]] = {}
    for call in standin.calls:
        if call.method == "chat.postMessage":
            sent.setdefault(str(call.args.get("channel")), []).append(_words(call.args))
        elif call.method.startswith("respond:") and not call.args.get("replace_original"):
            sent.setdefault(call.method, []).append(_words(call.args))
    return sent


def _words(args: dict[str, Any]) -> str:
    blocks = args.get("blocks") or []
    return text_of(blocks) if blocks else str(args.get("text") or "")
