"""Erasure erases: after "delete my data" mid-conversation, with every timer run to the end,
App Home opened and the outbox swept, nothing held names the person or reaches them, and a
message from them later starts someone new (issue 22). The Slack and Teams versions are in
test_slack_erasure.py and test_teams_erasure.py."""

from __future__ import annotations

import logging

from sqlalchemy import update
from sqlmodel import select

from bot.events import Action, Actor
from storage.models import AuditLog, ErasedAddress, Person, SupportRequest
from tests.erasure_search import logged, traces

EMAIL = "eve.erased@example.org"
TITLE = "Principal Quokka Wrangler"


def _give_eve_a_profile(bot) -> int:
    with bot.db.session() as session:
        eve = session.exec(select(Person).where(Person.platform_user_id == "eve")).one()
        session.exec(update(Person).where(Person.id == eve.id).values(email=EMAIL, title=TITLE))
        return eve.id


def test_a_requester_erased_mid_conversation_leaves_nothing_and_comes_back_as_someone_new(
    sh, bot, caplog
):
    caplog.set_level(logging.DEBUG)
    old_id = _give_eve_a_profile(bot)
    sh("/findally", "/press Talk to an ally", "/press Any ally", "/as ali", "/press Accept")
    out = sh("/as eve", "/allyprivacy delete", "/press Yes, delete everything")
    assert "[bot -> eve, only you] Done: allybot no longer holds anything about you." in out
    # Everything over time runs to its end: the follow-up would have come after six days.
    later = sh("/wait 40d")
    assert "[bot -> eve" not in later and "support you needed" not in later
    home = bot.router.home(Actor("shell", "eve", name="Eve", email=EMAIL))  # App Home opened
    assert "Apply in a short private conversation" in home.fallback_text()
    bot.router.dispatch(Action("follow_up:answer", "5", Actor("shell", "eve"), event_id="late"))
    sh("/wait 1h")
    words = ["eve", "Eve", EMAIL, TITLE]
    assert traces(bot.db, words, old_id) == []
    assert logged(caplog.text, words, old_id) == []
    with bot.db.session() as session:
        # The counts stay, on a row that says nobody, and the erase's audit row names nobody.
        request = session.exec(select(SupportRequest)).one()
        blank = session.get(Person, request.requester_id)
        assert blank is not None and blank.platform_user_id is None and blank.display_name == ""
        erased = session.exec(
            select(AuditLog).where(AuditLog.name == "privacy:erase_confirmed")
        ).one()
        assert erased.person_id is None
        assert len(session.exec(select(ErasedAddress)).all()) == 1


def test_a_late_press_from_an_erased_person_does_nothing_and_creates_nobody(sh, bot):
    sh("/findally", "/press Talk to an ally")
    sh("/allyprivacy delete", "/press Yes, delete everything")
    out = bot.router.dispatch(Action("findally:talk", "", Actor("shell", "eve"), event_id="old"))
    assert "before you deleted your data" in out[0].message.fallback_text()
    bot.router.update_profile(Actor("shell", "eve", name="Eve", email=EMAIL))
    with bot.db.session() as session:
        assert session.exec(select(Person).where(Person.platform_user_id == "eve")).first() is None


def test_a_message_after_erasure_starts_someone_new_with_no_link_to_before(sh, bot):
    old_id = _give_eve_a_profile(bot)
    sh("/findally", "/press Talk to an ally", "/press Any ally")
    sh("/allyprivacy delete", "/press Yes, delete everything")
    out = sh("/findally")
    assert "[bot -> eve, only you]" in out and "Talk to an ally" in out
    with bot.db.session() as session:
        eve = session.exec(select(Person).where(Person.platform_user_id == "eve")).one()
        assert eve.id != old_id and eve.email is None
        assert session.exec(select(ErasedAddress)).all() == []  # an ordinary address again
        requests = session.exec(select(SupportRequest)).all()
        assert all(r.requester_id != eve.id for r in requests)
