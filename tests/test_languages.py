"""Language preference: offered only when active allies list languages, carried in the
preference buttons, stored on the request, and used by matching to rank speakers first
without ever leaving out anyone else. SQLite and PostgreSQL (and pure ranking).

In the demo nobody lists a language; Ali (stress, workload) is first in line when nothing else
decides, and Cam (anxiety, LGBTQ+) comes after Ali (Bo's refresher is long overdue).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from bot.events import Action, Actor
from handlers import matching
from storage.models import Offer, Person, SupportRequest
from tests.conftest import ShellDriver

PREFS = "[bot -> eve, only you] [10] Outside my department: no  [11] Stay anonymous: no"


def offered_to(sh: ShellDriver) -> list[str]:
    with sh.bot.db.session() as session:
        offers = session.exec(select(Offer, Person).join(Person, Person.id == Offer.ally_id))
        return [person.platform_user_id for _, person in offers]


def requests(sh: ShellDriver) -> list[SupportRequest]:
    with sh.bot.db.session() as session:
        return list(session.exec(select(SupportRequest)))


def test_without_languages_nothing_about_languages_shows(sh):
    out = sh("/as eve", "/findally", "/press Talk to an ally")
    assert PREFS in out.splitlines()
    assert "Language" not in out


def test_a_speaker_is_asked_first_and_the_choice_is_kept_on_the_request(sh):
    sh("/as cam", "/allystatus languages Welsh, Polish")
    out = sh("/as eve", "/findally", "/press Talk to an ally")
    assert PREFS + "  [12] Language: any" in out.splitlines()
    out = sh("/press Language: any")  # cycles through the allies' languages, then back
    assert "[12] Language: Polish" in out
    out = sh("/press Language: Polish")
    assert "[12] Language: Welsh" in out
    assert "[12] Language: any" in sh("/press Language: Welsh")
    sh("/press Language: any", "/press Language: Polish")

    sh("/press stress")  # Ali and Eli know stress; Cam speaks Welsh: the language comes first
    assert offered_to(sh) == ["cam"]
    assert [(r.topic, r.language) for r in requests(sh)] == [("stress", "Welsh")]


def test_a_language_never_leaves_a_request_without_an_ally(sh):
    sh("/as cam", "/allystatus languages Welsh", "/allystatus away")  # the only speaker
    # Cam is away but still active, so Welsh is offered; nobody who speaks it is free
    out = sh("/as eve", "/findally", "/press Talk to an ally", "/press Language: any")
    assert "[12] Language: Welsh" in out
    sh("/press Any ally")
    assert offered_to(sh) == ["ali"]
    assert requests(sh)[0].language == "Welsh"


def test_only_active_allies_languages_are_offered(sh):
    sh("/as cam", "/allystatus languages Welsh")
    sh("/as casey", "/allyadmin pause cam")
    out = sh("/as eve", "/findally", "/press Talk to an ally")
    assert "Language" not in out


def test_a_tampered_or_stale_language_changes_nothing(sh):
    sh("/as cam", "/allystatus languages Welsh")
    actor = Actor("shell", "eve")
    for value in (
        '{"t":null,"o":0,"a":0,"l":"Klingon"}',
        '{"t":null,"o":0,"a":0,"l":["Welsh"]}',
        '{"t":null,"o":0,"a":0,"l":"<!channel>"}',
    ):
        for action in ("findally:start", "findally:toggle"):
            out = sh.bot.router.dispatch(Action(action, value, actor))
            words = "\n".join(o.message.fallback_text() for o in out)
            assert "That button is out of date" in words
    assert requests(sh) == [] and offered_to(sh) == []
    # a button from before languages existed (no "l") still works
    sh.bot.router.dispatch(Action("findally:start", '{"t":null,"o":0,"a":0}', actor))
    assert [r.language for r in requests(sh)] == [None]


# --- ranking -------------------------------------------------------------------------------
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def ally(pid: int, topics: tuple[str, ...] = (), languages: tuple[str, ...] = ()):
    return matching.Candidate(
        person_id=pid,
        department=None,
        topics=topics,
        status="active",
        available=True,
        capacity=2,
        open_count=0,
        languages=languages,
    )


def test_ranking_puts_speakers_first_then_topic_and_keeps_everyone():
    allies = [ally(1, topics=("stress",)), ally(2, languages=("welsh",)), ally(3)]
    want = matching.Wanted(requester_id=9, topic="stress", language="Welsh")
    assert [c.person_id for c in matching.rank(allies, want, NOW)] == [2, 1, 3]
    plain = matching.Wanted(requester_id=9, topic="stress")
    assert [c.person_id for c in matching.rank(allies, plain, NOW)] == [1, 2, 3]


def test_ranking_leaves_out_a_refresher_overdue_past_its_grace():
    lapsed = matching.Candidate(
        person_id=1,
        department=None,
        topics=(),
        status="active",
        available=True,
        capacity=2,
        open_count=0,
        refresher_overdue=True,
    )
    assert matching.rank([lapsed, ally(2)], matching.Wanted(requester_id=9), NOW)[0].person_id == 2
    day = datetime(2026, 3, 2).date()
    assert not matching.refresher_overdue(None, day, 365, 30)  # training never recorded
    assert not matching.refresher_overdue(datetime(2025, 1, 31).date(), day, 365, 30)
    assert matching.refresher_overdue(datetime(2025, 1, 30).date(), day, 365, 30)
