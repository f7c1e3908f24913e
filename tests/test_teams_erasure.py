"""Erasure on Teams (issue 22): a requester erases their data mid-conversation through real
Teams activities; every timer and the outbox sweeper run to the end and a late press arrives;
then no table and no log line holds their Entra id, Teams ids, name, email, sign-in name,
chat or old person id, and nothing more is sent to them."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from storage.models import PersonAddress
from tests.erasure_search import logged, traces
from tests.teams_harness import TeamsHarness
from tests.test_logs_private import captured
from tests.test_teams import ALI, ask_for_an_ally, run, teams_bot


def test_a_teams_requester_erased_mid_conversation_leaves_nothing(sqlite_db):
    bot = teams_bot(sqlite_db)

    async def scenario(h: TeamsHarness) -> tuple[list[str], int, list[str]]:
        eve = h.user("Evangeline Example", "evangeline@example.com")
        await h.say(ALI, "help")
        await ask_for_an_ally(h, eve)
        await h.press(ALI, "Accept")
        with bot.db.session() as session:
            old_id = session.exec(
                select(PersonAddress.person_id).where(PersonAddress.user_id == eve.aad_id)
            ).one()
        await h.say(eve, "allyprivacy")
        await h.press(eve, "Delete my data")
        await h.press(eve, "Yes, delete everything")
        assert "no longer holds anything about you" in h.texts(eve)[-1]  # told, in their chat
        erased_at = len(h.standin.sent(eve.aad_id))
        for _ in range(12):  # every timer runs to its end; the sweeper sends what is left
            bot.clock.advance(timedelta(days=5))
            await h.teams.deliver(bot.router.sweep())
            await h.teams.deliver(bot.router.unsent())
        later = [a.get("text") or str(a) for a in h.standin.sent(eve.aad_id)[erased_at:]]
        words = [eve.aad_id, eve.user_id, eve.name, "Evangeline", eve.email, eve.upn]
        return [*words, eve.conversation_id], old_id, later

    with captured("DEBUG", "DEBUG") as log:
        words, old_id, later = run(bot, scenario)
    assert later == []  # no follow-up, no check-in: nothing reaches them after the erase
    words = [w for w in words if w]
    assert traces(bot.db, words, old_id) == []
    assert logged(log.getvalue(), words, old_id) == []
