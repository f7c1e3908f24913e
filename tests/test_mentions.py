"""Mentions are a neutral field (issue #11): the Slack adapter turns `<@U123|ali>` in
/allyadmin into a `Mention`, the router finds the person, and no handler reads platform syntax.

Signed slash commands go into the real aiohttp + Bolt app; the Slack Web API is the loopback
stand-in.
"""

from __future__ import annotations

import asyncio
import tokenize
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import func, select

import handlers
from bot.config import Coordinators
from handlers.allies import import_roster, parse_roster
from storage.models import AllyProfile, Person
from tests.conftest import ShellDriver, make_bot
from tests.slack_harness import run, text_of
from tests.slack_standin import SlackStandIn
from tests.test_slack import _profile

# Ali and Cam are known by Slack id; Bo only by email until he first talks to the bot.
ROSTER = (
    "platform,user,name,department,topics,capacity\n"
    "slack,UALI,Ali,Engineering,stress,2\n"
    "slack,bo@example.com,Bo,Finance,,2\n"
    "slack,UCAM,Cam,Sales,,2\n"
)
NOT_AN_ALLY = "I could not find an ally called"
USAGE = "/allyadmin applications lists applications to decide;"


@pytest.fixture
def standin() -> SlackStandIn:
    return SlackStandIn(
        users={
            "UCOORD": _profile("Casey", "casey@example.com"),
            "UEVE": _profile("Eve", "eve@example.com"),
            "UALI": _profile("Ali", "ali@example.com"),
            "UCAM": _profile("Cam", "cam@example.com"),
        }
    )


@pytest.fixture
def bot(sqlite_db):
    bot = make_bot(
        sqlite_db,
        seed=False,
        coordinators=Coordinators(people=["slack:UCOORD"], channel="coordinators"),
    )
    rows, errors = parse_roster(ROSTER, 2)
    assert not errors
    with bot.db.session() as session:
        import_roster(session, rows, bot.clock.now())
    return bot


def allies(bot) -> dict[str, tuple[str, date | None]]:
    """Each ally's status and training date, by name."""
    with bot.db.session() as session:
        rows = session.exec(select(Person, AllyProfile).join(AllyProfile)).all()
        return {p.display_name: (a.status, a.trained_on) for p, a in rows}


def people(bot) -> int:
    with bot.db.session() as session:
        return session.exec(select(func.count()).select_from(Person)).one()


def admin(*texts: str, user: str = "UCOORD"):
    """A scenario: the coordinator types each /allyadmin in turn; the ack bodies' words."""

    async def scenario(h):
        said = []
        for text in texts:
            status, body = await h.command(user, text, name="/allyadmin")
            assert status == 200 and body["response_type"] == "ephemeral"
            assert "<@" not in body["text"] and "<!" not in body["text"]  # inert when shown
            said.append(text_of(body["blocks"]))
        return said

    return scenario


@pytest.mark.parametrize("mention", ["<@UALI|ali>", "<@UALI>"])
def test_a_mention_reaches_the_ally_it_names(bot, standin, mention):
    before = allies(bot)
    (said,) = asyncio.run(run(bot, standin, admin(f"trained {mention} 2026-02-01")))
    assert said == "Training on 01 Feb 2026 recorded for Ali. Their status: active."
    after = allies(bot)
    assert after["Ali"] == ("active", date(2026, 2, 1))
    assert {k: v for k, v in after.items() if k != "Ali"} == {
        k: v for k, v in before.items() if k != "Ali"
    }


def test_mentions_typed_names_and_emails_all_work(bot, standin):
    said = asyncio.run(
        run(bot, standin, admin("trained <@UCAM|cam>", "pause <@UCAM|cam>", "trained UALI"))
    )
    assert [s.split(".")[0] for s in said] == [
        "Training on 02 Mar 2026 recorded for Cam",
        "Cam is now paused",
        "Training on 02 Mar 2026 recorded for Ali",
    ]
    said = asyncio.run(run(bot, standin, admin("trained bo@example.com", "pause @UALI")))
    assert said[0].startswith("Training on 02 Mar 2026 recorded for Bo.")
    assert said[1].startswith("Ali is now paused")
    assert allies(bot)["Cam"][0] == allies(bot)["Ali"][0] == "paused"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("trained <@UNOBODY|ghost>", "@ghost"),  # never talked to the bot
        ("pause <@UNOBODY>", "@UNOBODY"),
        ("pause <@UEVE|eve>", "@eve"),  # known, not an ally
        ("pause <!channel>", "<!channel>"),
        ("trained <@UALI><@UCAM>", "@UALI@UCAM"),  # two run together name nobody
        ("remove <@>", "<@>"),
        ("pause <@ualI>", "<@ualI>"),
        ("trained \ufffc", None),  # the neutral placeholder typed by hand names nobody
        ("pause <@UALI> <@UCAM>", None),
    ],
)
def test_a_hostile_mention_gets_a_plain_answer_and_changes_nothing(bot, standin, text, shown):
    async def scenario(h):
        await h.command("UEVE", name="/allystatus")  # Eve is someone the bot knows
        await h.command("UCOORD", name="/allyadmin")
        start, count, before = len(standin.calls), people(bot), allies(bot)
        (said,) = await admin(text)(h)
        return said, standin.calls[start:], count, before

    said, calls, count, before = asyncio.run(run(bot, standin, scenario))
    if shown is None:
        assert said.startswith(USAGE)
    else:
        assert said.startswith(f"{NOT_AN_ALLY} {shown}.")
    assert "\ufffc" not in said
    assert allies(bot) == before and people(bot) == count  # a mention creates nobody
    assert not [c for c in calls if c.method == "chat.postMessage"]


def test_no_handler_reads_slack_mention_syntax():
    """Handlers work with `ctx.mentioned`: no string in them (a pattern, a prefix) holds `<@`,
    which belongs to the Slack adapter alone."""
    sources = sorted(Path(handlers.__file__).parent.rglob("*.py"))
    assert sources
    found = []
    for path in sources:
        with path.open("rb") as f:
            for token in tokenize.tokenize(f.readline):
                if token.type == tokenize.STRING and "<@" in token.string:
                    found.append(f"{path.name}:{token.start[0]}")
    assert found == []


def test_a_placeholder_typed_on_the_shell_names_nobody(sqlite_db):
    """The shell has no mentions: a typed MENTION character is dropped by the router, so it
    cannot stand for someone else's mention."""
    sh = ShellDriver(make_bot(sqlite_db))  # the demo organisation
    sh("/as casey")
    lines = sh("/allyadmin pause \ufffc", "/allyadmin trained \ufffcali").splitlines()
    assert lines[0].startswith(f"[bot -> casey, only you] {USAGE}")
    assert lines[1].startswith("[bot -> casey, only you] Training on 02 Mar 2026 recorded for Ali")
