"""Every platform provides the contract in bot/platforms/base.py."""

from __future__ import annotations

import io

import pytest

from bot.messages import Message, Section, Span
from bot.platforms.base import Platform
from bot.platforms.shell.console import Shell, ShellPlatform
from bot.platforms.slack.adapter import SlackPlatform
from tests.conftest import make_bot

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
