"""Every platform provides the contract in bot/platforms/base.py, and the same scenarios give
the same result on each (tests/platform_drivers.py plays a person on each platform)."""

from __future__ import annotations

import asyncio
import io

import pytest

from bot.messages import Message, Section, Span
from bot.platforms.base import Platform
from bot.platforms.shell.console import Shell, ShellPlatform
from bot.platforms.slack.adapter import SlackPlatform
from tests.conftest import make_bot
from tests.platform_drivers import Driver, ShellPlatformDriver, SlackPlatformDriver

HOSTILE = "<!channel> *bold* [x](https://evil.example) <@U123>"


@pytest.fixture
def platforms(sqlite_db) -> list[Platform]:
    bot = make_bot(sqlite_db)
    return [
        ShellPlatform(Shell(bot, out=io.StringIO())),
        SlackPlatform(bot, "xoxb-test", "secret", api_url="http://127.0.0.1:9/api/"),
    ]


def test_each_platform_provides_the_whole_contract(platforms):
    for platform in platforms:
        assert isinstance(platform, Platform), type(platform).__name__
    assert [p.name for p in platforms] == ["shell", "slack"]


def test_each_platform_renders_user_text_literally(platforms):
    message = Message((Section((Span("Hello "), Span(HOSTILE))),))
    shell, slack = (p.render(message) for p in platforms)
    assert shell == [f"[bot] Hello {HOSTILE}"]
    (block,) = slack
    elements = block["elements"][0]["elements"]
    assert {"type": "text", "text": HOSTILE} in elements  # a text run, never parsed as mrkdwn
    assert not any(el.get("type") in ("link", "user", "broadcast") for el in elements)


# --- the same scenarios on every platform ----------------------------------------------------
async def _on(platform: str, db, scenario) -> Driver:
    if platform == "shell":
        driver: Driver = ShellPlatformDriver(make_bot(db, seed=False))
        await scenario(driver)
        return driver
    slack = SlackPlatformDriver(make_bot(db, seed=False))
    await slack.start()
    try:
        await scenario(slack)
    finally:
        await slack.stop()
    return slack


def play(platform: str, db, scenario) -> Driver:
    return asyncio.run(_on(platform, db, scenario))


@pytest.mark.parametrize("platform", ["shell", "slack"])
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


@pytest.mark.parametrize("platform", ["shell", "slack"])
def test_user_text_is_shown_literally(platform, sqlite_db):
    async def scenario(d: Driver) -> None:
        await d.dm("requester", f"feedback: {HOSTILE}")

    d = play(platform, sqlite_db, scenario)
    assert f"“{HOSTILE}”" in d.shown("requester")


@pytest.mark.parametrize("platform", ["shell", "slack"])
def test_crisis_language_in_a_dm_leads_with_the_crisis_lines(platform, sqlite_db):
    async def scenario(d: Driver) -> None:
        await d.dm("requester", "honestly i dont want to be here anymore")

    d = play(platform, sqlite_db, scenario)
    shown = d.shown("requester")
    assert "get help now" in shown[0]
    assert any("999" in t for t in shown)
