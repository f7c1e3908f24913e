"""Teams commands typed as words (issue 22): `privacy export` and `privacy delete` go straight
to the export and to the erasure's confirmation, as `/allyprivacy export|delete` does on Slack.
Real message activities into the real Agents SDK adapter; replies read from the loopback Bot
Connector."""

from __future__ import annotations

from typing import Any

import pytest

from tests import teams_activities as act
from tests.teams_harness import TeamsHarness, _walk
from tests.test_teams import run, teams_bot

EXPORT_SENT = "I have sent you a copy of your data in our private chat."
EXPORT_END = "This is everything allybot holds about you."
ERASE_CONFIRM = "Delete everything allybot holds about you?"
OVERVIEW = "What allybot holds about you."


def shown(h: TeamsHarness, user: act.TeamsUser) -> list[str]:
    """Each card sent to `user`, as its words and then its buttons' titles."""
    return [
        " ".join([text, *(n["title"] for n in _walk(card) if n.get("type") == "Action.Execute")])
        for text, card in zip(h.texts(user), h.standin.cards_to(user.aad_id), strict=True)
    ]


@pytest.mark.parametrize("typed", ["privacy export", "allyprivacy export", "Privacy Export"])
def test_privacy_export_typed_in_teams_sends_the_export(sqlite_db, typed):
    async def scenario(h: TeamsHarness) -> list[str]:
        eve = h.user("Eve Example", "eve@example.com")
        status, _ = await h.say(eve, typed)
        assert status in (200, 202)
        return shown(h, eve)

    texts = run(teams_bot(sqlite_db), scenario)
    assert any(EXPORT_END in t for t in texts), texts
    assert any(EXPORT_SENT in t for t in texts), texts
    assert not any("How can we help?" in t or OVERVIEW in t for t in texts)


@pytest.mark.parametrize("typed", ["privacy delete", "allyprivacy delete", "privacy erase"])
def test_privacy_delete_typed_in_teams_asks_to_confirm_and_keeps_the_data(sqlite_db, typed):
    async def scenario(h: TeamsHarness) -> tuple[list[str], Any]:
        eve = h.user("Eve Example", "eve@example.com")
        status, _ = await h.say(eve, typed)
        assert status in (200, 202)
        asked = shown(h, eve)
        # Words that merely begin with "privacy" are not the command: the rest is not one of
        # its own words (an answer in the questionnaire may start so).
        before = len(asked)
        await h.say(eve, "privacy matters to me")
        return asked, shown(h, eve)[before:]

    asked, after = run(teams_bot(sqlite_db), scenario)
    assert len(asked) == 1 and ERASE_CONFIRM in asked[0], asked
    assert "Yes, delete everything" in asked[0] and "Keep my data" in asked[0]
    # It is read for what it asks (about privacy: the overview), never as the erase command.
    assert after and not any(ERASE_CONFIRM in t for t in after), after
