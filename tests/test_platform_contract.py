"""Every platform provides the contract in bot/platforms/base.py, and the same scenarios give
the same result on each (tests/platform_drivers.py plays a person on each platform)."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta

import pytest

from bot.config import Settings
from bot.messages import Message, Section, Span
from bot.platforms.base import Platform
from bot.platforms.shell.console import Shell, ShellPlatform
from bot.platforms.slack.adapter import SlackPlatform
from bot.platforms.teams.adapter import TeamsPlatform
from tests.conftest import make_bot
from tests.platform_drivers import (
    ANSWERS,
    Driver,
    ShellPlatformDriver,
    SlackPlatformDriver,
    TeamsPlatformDriver,
)
from tests.teams_harness import _walk

HOSTILE = "<!channel> *bold* [x](https://evil.example) <@U123>"


@pytest.fixture
def platforms(sqlite_db) -> list[Platform]:
    bot = make_bot(sqlite_db)
    bot.settings = Settings(**{**bot.settings.__dict__, "teams_no_auth": True})
    return [
        ShellPlatform(Shell(bot, out=io.StringIO())),
        SlackPlatform(bot, "xoxb-test", "secret", api_url="http://127.0.0.1:9/api/"),
        TeamsPlatform(bot),
    ]


def test_each_platform_provides_the_whole_contract(platforms):
    for platform in platforms:
        assert isinstance(platform, Platform), type(platform).__name__
    assert [p.name for p in platforms] == ["shell", "slack", "teams"]


def test_each_platform_renders_user_text_literally(platforms):
    message = Message((Section((Span("Hello "), Span(HOSTILE))),))
    shell, slack, teams = (p.render(message) for p in platforms)
    assert shell == [f"[bot] Hello {HOSTILE}"]
    (block,) = slack
    elements = block["elements"][0]["elements"]
    assert {"type": "text", "text": HOSTILE} in elements  # a text run, never parsed as mrkdwn
    assert not any(el.get("type") in ("link", "user", "broadcast") for el in elements)
    nodes = list(_walk(teams))
    assert {"type": "TextRun", "text": HOSTILE} in nodes  # a text run: never markdown
    assert not any(HOSTILE in str(n.get("text")) for n in nodes if n.get("type") == "TextBlock")


# --- the same scenarios on every platform ----------------------------------------------------
async def _on(platform: str, db, scenario) -> Driver:
    if platform == "shell":
        driver: Driver = ShellPlatformDriver(db)
        await scenario(driver)
        return driver
    driver_class = SlackPlatformDriver if platform == "slack" else TeamsPlatformDriver
    live = driver_class(db)
    await live.start()
    try:
        await scenario(live)
    finally:
        await live.stop()
    return live


def play(platform: str, db, scenario) -> Driver:
    return asyncio.run(_on(platform, db, scenario))


@pytest.mark.parametrize("platform", ["shell", "slack", "teams"])
def test_findally_to_hand_off(platform, sqlite_db):
    async def scenario(d: Driver) -> None:
        await d.command("requester", "findally")
        await d.press("requester", "Talk to an ally")
        await d.press("requester", "stress")
        await d.press("ally", "Accept")

    d = play(platform, sqlite_db, scenario)
    assert "Only you can see this. Nobody else is told that you asked." in d.shown("requester")
    offer = d.shown("ally")
    assert any(t.startswith("A colleague would like to talk.") for t in offer)
    assert "They would like to talk about: stress" in offer
    assert not any("Eve" in t for t in offer)  # only the hand-off names the requester
    assert any(t.startswith("Eve, meet Ali.") for t in d.shown_to_pair("requester", "ally"))


@pytest.mark.parametrize("platform", ["shell", "slack", "teams"])
def test_user_text_is_shown_literally(platform, sqlite_db):
    async def scenario(d: Driver) -> None:
        await d.dm("requester", f"feedback: {HOSTILE}")

    d = play(platform, sqlite_db, scenario)
    assert f"“{HOSTILE}”" in d.shown("requester")


@pytest.mark.parametrize("platform", ["shell", "slack", "teams"])
def test_crisis_language_in_a_dm_leads_with_the_crisis_lines(platform, sqlite_db):
    async def scenario(d: Driver) -> None:
        await d.dm("requester", "honestly i dont want to be here anymore")

    d = play(platform, sqlite_db, scenario)
    shown = d.shown("requester")
    assert "get help now" in shown[0]
    assert any("999" in t for t in shown)


@pytest.mark.parametrize("platform", ["shell", "slack", "teams"])
def test_the_questionnaire_and_a_coordinators_decision(platform, sqlite_db):
    async def scenario(d: Driver) -> None:
        await d.dm("applicant", "apply")
        await d.press("applicant", "I understand, let's start")
        for answer in ANSWERS:
            await d.dm("applicant", answer)
        await d.press("applicant", "Send my application")
        await d.press("coordinator", "Approve")

    d = play(platform, sqlite_db, scenario)
    assert any(t.startswith("Here is your application.") for t in d.shown("applicant"))
    channel = d.posted_in("coordinators")
    assert any(t.startswith("A new application to become an ally is waiting.") for t in channel)
    assert not any("Finn" in t or "Payroll" in t for t in channel)  # never in a channel
    assert any("I listen well and I am patient." in t for t in d.shown("coordinator"))
    assert any(t.startswith("Welcome to the ally network!") for t in d.shown("applicant"))


@pytest.mark.parametrize("platform", ["shell", "slack", "teams"])
def test_a_scheduled_post_reaches_the_channel_once(platform, sqlite_db):
    async def scenario(d: Driver) -> None:
        await d.wait(timedelta(days=2, seconds=30))  # Mon 10:00 -> the Wednesday tip
        await d.wait(timedelta(minutes=1))

    d = play(platform, sqlite_db, scenario)
    posts = d.posted_in("general")
    assert posts.count("Weekly wellbeing tip") == 1
    assert any("/findally" in t for t in posts)  # every post points to a private way in
