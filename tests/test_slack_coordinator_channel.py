"""Slack and the coordinators' channel (issue #10): an application shows up there only as "a new
application is waiting"; its answers open in an ephemeral reply for the coordinator who presses.
`serve` checks with conversations.info that the channel is private; a public or unreadable one
gets numbers only, coordinators are DMed instead, and the log says how to fix it.
`allybot check --online` asks the same question.

Signed HTTP into the real aiohttp + Bolt app; the Web API is the loopback stand-in.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path

import pytest
import yaml

from bot.config import Coordinators, Settings
from bot.serve import serve
from handlers.allies import import_roster, parse_roster
from tests import cli_process
from tests.conftest import make_bot
from tests.slack_harness import SECRET, TOKEN, button, run, text_of
from tests.slack_standin import SlackStandIn
from tests.test_slack import assert_valid_block_kit
from tests.test_slack_apply import (
    ANSWERS,
    COORD_CHANNEL,
    EVE_DM,
    HOSTILE,
    ROSTER,
    _slack_user,
    application,
    fill_in,
    labels,
    posts_to,
    tap,
)

ROOT = Path(__file__).resolve().parent.parent
WAITING = "A new application to become an ally is waiting."
NAMES = ("Eve Example", "Senior Analyst", "eve@example.com", "Eve")


@pytest.fixture
def standin() -> SlackStandIn:
    return SlackStandIn(
        users={
            "UEVE": _slack_user("Eve Example", "eve@example.com", "Senior Analyst"),
            "UCOORD": _slack_user("Casey Coord", "casey@example.com"),
            "UNOSY": _slack_user("Nosy Parker", "nosy@example.com"),
            "UALLY": _slack_user("Ally", "ally@example.com"),
        }
    )


def slack_bot(db, notify_by_dm: bool):
    coordinators = Coordinators(
        people=["slack:UCOORD"], channel="coordinators", notify_by_dm=notify_by_dm
    )
    bot = make_bot(db, seed=False, coordinators=coordinators)
    rows, errors = parse_roster(ROSTER, 2)
    assert not errors
    with bot.db.session() as session:
        import_roster(session, rows, bot.clock.now())
    return bot


@pytest.fixture
def bot(sqlite_db):
    """Casey coordinates through #coordinators only: no DMs from app.yaml."""
    return slack_bot(sqlite_db, notify_by_dm=False)


def channel_posts(standin: SlackStandIn) -> list[dict]:
    return [p for p in standin.called("chat.postMessage") if p["channel"] == "#coordinators"]


def ephemerals(standin: SlackStandIn, start: int) -> list[dict]:
    """Replies through a press's response_url since call `start` (not button rewrites)."""
    return [
        c.args
        for c in standin.calls[start:]
        if c.method.startswith("respond:") and not c.args.get("replace_original")
    ]


def assert_nothing_personal(post: dict) -> None:
    shown = text_of(post["blocks"]) + "\n" + post["text"]
    for private in (*NAMES, *ANSWERS.values(), "<!channel>"):
        assert private not in shown, private


async def submit(h, answers: dict[str, str] = ANSWERS) -> None:
    shown = await fill_in(h, answers)
    thanks = await tap(h, shown["review"], "Send my application")
    assert "your application is on its way" in text_of(thanks["blocks"])


# --- a private channel: the notice, and Review it -----------------------------------------------
def test_the_channel_post_holds_no_answer_and_the_ephemeral_holds_them(bot, standin):
    async def scenario(h):
        check = await h.slack.check_coordinator_channel()
        assert check is not None and check.private
        await submit(h, {**ANSWERS, "why": HOSTILE})
        (notice,) = channel_posts(standin)
        start = len(standin.calls)
        await h.press(
            "UCOORD",
            button(notice["blocks"], "Review it"),
            channel=COORD_CHANNEL,
            message_blocks=notice["blocks"],
        )
        return notice, start

    notice, start = asyncio.run(run(bot, standin, scenario))
    assert WAITING in text_of(notice["blocks"])
    assert labels(notice) == ["Review it"]
    assert_nothing_personal(notice)
    assert HOSTILE not in notice["text"]
    assert not posts_to(standin, "DUCOORD", "Application")  # no DMs configured

    (private,) = ephemerals(standin, start)
    assert private["response_type"] == "ephemeral"
    words = text_of(private["blocks"])
    assert "Application to become an ally: Eve Example · sent 02 Mar 2026" in words
    for answer in ("Senior Analyst", ANSWERS["email"], ANSWERS["matters"], HOSTILE):
        assert answer in words
    assert labels(private) == ["Approve", "Decline", "Ask for more information"]
    # the shared notice keeps its button for the other coordinators
    assert not [c for c in standin.calls[start:] if c.method == "chat.update"]
    assert not [c for c in standin.calls[start:] if c.method == "chat.postMessage"]
    assert bot.router.counts_only == frozenset()
    assert {c["channel"] for c in standin.called("conversations.info")} == {COORD_CHANNEL}
    assert_valid_block_kit(standin)


def test_a_non_coordinator_pressing_review_is_refused_and_the_notice_is_left_alone(bot, standin):
    async def scenario(h):
        await submit(h)
        (notice,) = channel_posts(standin)
        start = len(standin.calls)
        await h.press(
            "UNOSY",
            button(notice["blocks"], "Review it"),
            channel=COORD_CHANNEL,
            message_blocks=notice["blocks"],
        )
        return start

    start = asyncio.run(run(bot, standin, scenario))
    (refusal,) = ephemerals(standin, start)
    words = text_of(refusal["blocks"])
    assert words == "Only the network's coordinators can read applications, so nothing is shown."
    assert not [c for c in standin.calls[start:] if c.method in ("chat.update", "chat.postMessage")]
    assert application(bot).status == "pending"


def test_a_coordinator_decides_from_the_ephemeral_and_the_channel_hears_no_name(bot, standin):
    async def scenario(h):
        await submit(h)
        (notice,) = channel_posts(standin)
        start = len(standin.calls)
        await h.press(
            "UCOORD",
            button(notice["blocks"], "Review it"),
            channel=COORD_CHANNEL,
            message_blocks=notice["blocks"],
        )
        (private,) = ephemerals(standin, start)
        start = len(standin.calls)
        await h.press(
            "UCOORD",
            button(private["blocks"], "Approve"),
            channel=COORD_CHANNEL,
            ephemeral=True,
            message_blocks=private["blocks"],
        )
        return start

    start = asyncio.run(run(bot, standin, scenario))
    (done,) = ephemerals(standin, start)
    assert "Eve Example's application was approved by Casey Coord." in text_of(done["blocks"])
    handled = channel_posts(standin)[-1]
    assert text_of(handled["blocks"]) == (
        "An application was approved by Casey Coord. Nothing more is needed here."
    )
    assert_nothing_personal(handled)
    # the ephemeral copy loses its buttons; nothing in the channel is rewritten
    (rewrite,) = [
        c.args
        for c in standin.calls[start:]
        if c.method.startswith("respond:") and c.args.get("replace_original")
    ]
    assert "✓ Approve" in text_of(rewrite["blocks"])
    assert not [c for c in standin.calls[start:] if c.method == "chat.update"]
    assert posts_to(standin, EVE_DM, "Welcome to the ally network!")
    assert application(bot).status == "approved"


# --- a public or unreadable channel: numbers only ------------------------------------------------
def serve_once(bot, standin: SlackStandIn, port: int) -> None:
    """`allybot serve` started and stopped at once: its start-up check runs against the stand-in."""

    async def go():
        await standin.start()
        try:
            bot.settings = Settings(
                **{
                    **bot.settings.__dict__,
                    "slack_bot_token": TOKEN,
                    "slack_signing_secret": SECRET,
                    "slack_app_token": None,
                    "slack_api_url": standin.url,
                    "port": port,
                }
            )
            stop = asyncio.Event()
            stop.set()
            await serve(bot, stop)
        finally:
            await standin.stop()

    asyncio.run(go())


def test_serve_finds_a_public_channel_posts_no_notice_there_and_dms_instead(
    bot, standin, unused_port, caplog
):
    standin.channels[COORD_CHANNEL]["is_private"] = False
    with caplog.at_level(logging.WARNING, logger="bot.platforms.slack.adapter"):
        serve_once(bot, standin, unused_port)
    assert bot.router.counts_only == frozenset({"coordinators"})
    (warning,) = [r for r in caplog.records if r.name == "bot.platforms.slack.adapter"]
    assert warning.levelno == logging.WARNING
    message = warning.getMessage()
    assert "#coordinators is a public channel" in message
    assert "alerts and application notices to each coordinator by DM" in message
    assert "make #coordinators a private channel and invite the bot to it" in message

    standin.calls.clear()
    asyncio.run(run(bot, standin, submit))
    assert channel_posts(standin) == []  # not even "an application is waiting"
    (dm,) = posts_to(standin, "DUCOORD", "Application to become an ally")
    for answer in ANSWERS.values():
        assert answer in text_of(dm["blocks"])
    assert labels(dm) == ["Approve", "Decline", "Ask for more information"]


@pytest.mark.parametrize(
    "refusal",
    [("conversations.list", "missing_scope"), ("conversations.info", "channel_not_found")],
)
def test_a_channel_that_cannot_be_read_is_treated_as_not_private(bot, standin, caplog, refusal):
    method, error = refusal
    standin.refusals[method] = error

    async def scenario(h):
        return await h.slack.check_coordinator_channel()

    with caplog.at_level(logging.WARNING, logger="bot.platforms.slack.adapter"):
        check = asyncio.run(run(bot, standin, scenario))
    assert check is not None and not check.private
    assert bot.router.counts_only == frozenset({"coordinators"})
    message = caplog.records[-1].getMessage()
    assert f"#coordinators cannot be read ({error})" in message
    if error == "missing_scope":
        assert "channels:read and groups:read" in message


def test_a_channel_the_bot_cannot_see_is_treated_as_not_private(bot, standin, caplog):
    del standin.channels[COORD_CHANNEL]  # private without the bot, or never made

    async def scenario(h):
        return await h.slack.check_coordinator_channel()

    with caplog.at_level(logging.WARNING, logger="bot.platforms.slack.adapter"):
        check = asyncio.run(run(bot, standin, scenario))
    assert not check.private and "can see no channel called #coordinators" in check.problem
    assert bot.router.counts_only == frozenset({"coordinators"})
    assert not standin.called("conversations.info")


def test_a_channel_made_private_again_is_used_again(bot, standin):
    """A restart after the fix: the check clears what an earlier one found."""
    bot.router.counts_only = frozenset({"coordinators"})

    async def scenario(h):
        await h.slack.check_coordinator_channel()
        await submit(h)

    asyncio.run(run(bot, standin, scenario))
    assert bot.router.counts_only == frozenset()
    (notice,) = channel_posts(standin)
    assert WAITING in text_of(notice["blocks"])


# --- allybot check --online -------------------------------------------------------------------
async def check_online(standin: SlackStandIn | None, tmp_path: Path) -> tuple[int, str, str]:
    """`allybot check --online` in a subprocess, against the stand-in when one is given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_"))}
    env.update(
        ALLYBOT_CONFIG=str(ROOT / "app.yaml"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'check.db'}",
        ALLYBOT_DATA_DIR=str(tmp_path),
    )
    if standin is not None:
        await standin.start()
        env.update(SLACK_BOT_TOKEN=TOKEN, SLACK_API_URL=standin.url)
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "check",
            "--online",
            cwd=ROOT,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 120)
    finally:
        if standin is not None:
            await standin.stop()
    return proc.returncode, out.decode(), err.decode()


def test_check_online_reports_a_public_channel_with_the_fix(tmp_path):
    standin = SlackStandIn()
    standin.channels[COORD_CHANNEL]["is_private"] = False
    code, out, err = asyncio.run(check_online(standin, tmp_path))
    assert code == 1, (out, err)
    assert "app.yaml: coordinators.channel: #coordinators is a public channel (Slack)" in err
    assert "fix: make #coordinators a private channel and invite the bot to it" in err
    assert "Traceback" not in err
    assert [c["channel"] for c in standin.called("conversations.info")] == [COORD_CHANNEL]


def test_check_online_passes_for_a_private_channel(tmp_path):
    standin = SlackStandIn()
    code, out, err = asyncio.run(check_online(standin, tmp_path))
    assert code == 0, (out, err)
    assert out.splitlines()[-1] == "online: #coordinators is a private Slack channel the bot is in"
    assert [c["channel"] for c in standin.called("conversations.info")] == [COORD_CHANNEL]


def test_check_online_without_credentials_says_it_skipped(tmp_path):
    code, out, err = asyncio.run(check_online(None, tmp_path))
    assert code == 0, (out, err)
    assert out.splitlines()[-1] == "online check skipped: SLACK_BOT_TOKEN is not set"


# --- the manifest asks for what the check needs ------------------------------------------------
def test_channel_scopes_only_with_a_coordinator_channel(tmp_path):
    config = tmp_path / "app.yaml"
    config.write_text(
        (ROOT / "app.yaml").read_text().replace("channel: coordinators", "channel: null")
    )
    out = cli_process.run(
        ["manifest", "slack"],
        cwd=ROOT,
        check=True,
        env={**os.environ, "ALLYBOT_CONFIG": str(config)},
    ).stdout
    scopes = set(yaml.safe_load(out)["oauth_config"]["scopes"]["bot"])
    assert "chat:write" in scopes
    assert not scopes & {"channels:read", "groups:read"}
