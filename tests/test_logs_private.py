"""Logs hold no one's words and name no one: every main flow, on each platform, at DEBUG with
the libraries at DEBUG too (LOG_LEVEL_SDK=DEBUG, the most a deployment can ask for)."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from bot import logs
from bot.logs import redact
from tests.platform_drivers import ANSWERS, PEOPLE, TEAMS_CAST, Driver
from tests.test_platform_contract import play

SAID = "my manager keeps shouting at me"
CRISIS = "honestly i dont want to be here anymore"


@contextmanager
def captured(level: str, sdk_level: str | None) -> Iterator[io.StringIO]:
    """Everything logged, configured as `serve` would be with these LOG_LEVEL and
    LOG_LEVEL_SDK; the test's own logging is put back afterwards."""
    root = logging.getLogger()
    quiet = (*logs.LIBRARIES, logs.DATABASE)
    saved = (root.handlers[:], root.level, {n: logging.getLogger(n).level for n in quiet})
    buffer = io.StringIO()
    logs.configure(level, sdk_level, stream=buffer)
    try:
        yield buffer
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for name, level in saved[2].items():
            logging.getLogger(name).setLevel(level)


async def everything(d: Driver) -> None:
    await d.command("requester", "findally", SAID)
    await d.press("requester", "Talk to an ally")
    await d.press("requester", "stress")
    await d.press("ally", "Accept")
    await d.dm("requester", CRISIS)
    await d.dm("applicant", "apply")
    await d.press("applicant", "I understand, let's start")
    for answer in ANSWERS:
        await d.dm("applicant", answer)
    await d.press("applicant", "Send my application")
    await d.press("coordinator", "Approve")


@pytest.mark.parametrize("levels", [("DEBUG", "DEBUG"), ("INFO", None)], ids=["debug", "info"])
@pytest.mark.parametrize("platform", ["shell", "slack", "teams"])
def test_no_log_line_names_anyone_or_repeats_what_they_wrote(platform, levels, sqlite_db):
    with captured(*levels) as buffer:
        d = play(platform, sqlite_db, everything)
    text = buffer.getvalue()
    assert any(t.startswith("Here is your application.") for t in d.shown("applicant"))
    assert "request" in text  # the flows ran and were logged (by internal id)
    names = "|".join(PEOPLE.values())
    named = [line for line in text.splitlines() if re.search(rf"\b({names})\b", line)]
    assert not named, named[:3]
    assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", text), "an email address is in the log"
    for words in [SAID, CRISIS, "Payroll analyst", "kind word", "patient"]:
        assert words not in text
    assert "xoxb-" not in text and "eyJ" not in text and "Bearer " not in text
    people_ids = [u.aad_id for u in TEAMS_CAST.values()] + [u.user_id for u in TEAMS_CAST.values()]
    assert not [i for i in people_ids if i in text], "a Teams user id is in the log"
    assert not re.search(r"\b(29|a):[\w-]{6,}", text), "a Teams user or chat id is in the log"
    for line in text.splitlines():  # a request's topic is never next to who asked
        assert not ("person" in line and "stress" in line), line
        assert not re.search(r"request \d+ .*person \d+", line), line


def test_a_library_line_loses_its_body_its_tokens_and_its_emails():
    line = (
        'Received the following response - status: 200, body: {"ok": true, "user": '
        '{"real_name": "Eve Example", "email": "eve@example.com"}}'
    )
    assert redact(line) == (
        "Received the following response - status: 200, <body: 84 characters, not logged>"
    )
    assert redact("auth xoxb-1-2-abc, Bearer eyJa.eyJb.c to ali@example.com") == (
        "auth <secret>, <secret> to <email>"
    )
