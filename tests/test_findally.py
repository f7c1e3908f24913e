"""The /findally support path, driven through the real shell on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import select

from storage.models import Offer, SupportRequest


def test_choices_are_private_and_say_allies_are_not_counsellors(sh):
    out = sh("/findally")
    assert "[bot -> eve, only you] Only you can see this." in out
    assert "[1] Talk to an ally  [2] Just show me resources  [3] I need urgent help" in out
    assert "not counsellors" in out
    assert "#" not in out  # nothing went to a channel


def test_talk_accept_introduces_both_in_a_group_dm(sh):
    sh("/findally", "/press Talk to an ally")
    out = sh("/press stress")
    # stress: ali and eli; both never asked, so the lower id (ali) is first
    assert "[bot -> ali, DM] A colleague would like to talk." in out
    assert "[bot -> ali, DM] They would like to talk about: stress" in out
    assert "[bot -> eve, only you] Thank you for reaching out." in out
    out = sh("/as ali", "/press Accept")
    assert "[bot -> eve+ali, group DM] Eve, meet Ali." in out
    assert sh.ally("ali").open_count == 1


def test_topic_match_ranks_first(sh):
    sh("/as gus", "/findally", "/press 1")
    out = sh("/press grief")
    assert "[bot -> bo, DM]" in out


def test_outside_department_skips_colleagues_in_the_same_department(sh):
    sh("/findally", "/press 1", "/press Outside my department")
    out = sh("/press workload")  # ali has workload but is in Engineering, like eve
    assert "[bot -> ali, DM]" not in out
    assert "[bot -> bo, DM]" in out or "[bot -> cam, DM]" in out or "[bot -> eli, DM]" in out


def test_anonymous_request_names_nobody_until_the_requester_agrees(sh):
    sh("/findally", "/press 1", "/press Stay anonymous")
    out = sh("/press Any ally")
    assert "A colleague would like to talk." in out
    assert "Eve" not in out.split("[bot -> eve")[0]  # the ally's offer does not name her
    out = sh("/as ali", "/press Accept")
    assert "group DM" not in out
    ally_lines = [line for line in out.splitlines() if line.startswith("[bot -> ali")]
    assert ally_lines and not any("Eve" in line for line in ally_lines)
    assert "[bot -> eve, DM] Ali (Engineering) has accepted" in out
    out = sh("/as eve", "/press Introduce us")
    assert "[bot -> eve+ali, group DM] Eve, meet Ali." in out
    assert "Introduce us" not in sh("/findally")  # it can only happen once


def test_pass_moves_to_the_next_ally(sh):
    sh("/findally", "/press 1", "/press Any ally")
    out = sh("/as ali", "/press Pass")
    assert "[bot -> ali, only you] Thanks for letting us know." in out
    assert "[bot -> bo, DM] A colleague would like to talk." in out


def test_unanswered_offer_expires_and_the_next_ally_is_asked(sh):
    sh("/findally", "/press 1", "/press Any ally")
    assert "[bot -> bo" not in sh("/wait 14m")
    out = sh("/wait 1m")
    assert "[bot -> ali, DM, edited] Closed. The time to answer ran out" in out
    assert "[bot -> bo, DM] A colleague would like to talk." in out
    # the expired offer lost its buttons (a replayed press is refused: tests/test_offers.py)
    assert "ali has no message with buttons" in sh("/as ali", "/press Accept")


def test_nobody_available_gives_resources_and_an_anonymous_coordinator_alert(sh):
    for ally in ("ali", "bo", "cam", "eli"):
        sh(f"/as {ally}", "/allystatus away")
    out = sh("/as finn", "/findally", "/press 1", "/press Any ally")
    assert "[bot -> finn, only you] No ally is free right now." in out
    assert "Samaritans" in out
    alerts = [line for line in out.splitlines() if "#coordinators" in line or "casey" in line]
    assert any(
        "[bot -> #coordinators] A request for support found no available ally" in a for a in alerts
    )
    assert any("[bot -> casey, DM]" in a for a in alerts)
    assert not any("finn" in a.lower() or "Finance" in a for a in alerts)
    # when an ally comes back, the waiting request is offered to them
    out = sh("/as cam", "/allystatus available")
    assert "[bot -> cam, DM] A colleague would like to talk." in out
    assert "[bot -> finn, DM] An ally has become free" in out


def test_open_request_is_shown_instead_of_a_second_one(sh, bot):
    sh("/findally", "/press 1", "/press Any ally")
    out = sh("/findally")
    assert "You have an open request." in out and "[1] Cancel my request" in out
    out = sh("/press Cancel")
    assert "[bot -> ali, DM, edited] Closed. This request no longer needs you" in out
    with bot.db.session() as session:
        assert session.exec(select(SupportRequest.status)).all() == ["cancelled"]
        assert session.exec(select(Offer.status)).all() == ["withdrawn"]


def test_either_side_can_finish_and_capacity_is_freed(sh):
    sh("/as bo", "/allystatus capacity 1")
    sh("/as finn", "/findally", "/press 1", "/press grief", "/as bo", "/press Accept")
    assert sh.ally("bo").open_count == 1
    out = sh("/as finn", "/findally")
    assert "You are connected with Bo." in out
    out = sh("/press Mark as finished")
    assert "[bot -> finn, DM] This request is now closed." in out
    assert "[bot -> bo, DM] This request is now closed. Thank you" in out
    assert sh.ally("bo").open_count == 0
    assert "already closed" in sh("/as bo", "/press Mark as finished")


def test_ally_at_capacity_is_not_offered(sh):
    sh("/as gus", "/findally", "/press 1", "/press grief", "/as bo", "/press Accept")
    out = sh("/as finn", "/findally", "/press 1", "/press grief")
    assert "[bot -> bo, DM]" not in out  # bo's capacity is 1 and it is taken


def test_resources_and_urgent_help_show_the_region_crisis_lines(sh):
    out = sh("/resources")
    assert "Support for you (United Kingdom)" in out and "999" in out and "116 123" in out
    out = sh("/as hana", "/resources")
    assert "United States" in out and "988" in out and "911" in out
    out = sh("/findally", "/press I need urgent help")
    assert "Call 911" in out and "988" in out and "[1] Talk to an ally" in out


def test_crisis_words_add_the_crisis_block_first_and_keep_the_choices(sh):
    out = sh("/findally i don't want to be alive any more")
    lines = out.splitlines()
    assert "get help now" in lines[0]
    assert any("Call 999" in line for line in lines)
    assert "[1] Talk to an ally  [2] Just show me resources  [3] I need urgent help" in out
    assert "get help now" not in sh("/findally a skilled colleague recommended this")


def test_crisis_words_in_a_dm_also_get_the_crisis_block(sh):
    assert "Call 999" in sh("I want to end my life")
    assert "Call 999" not in sh("hello there")


def test_a_request_every_ally_let_expire_is_offered_again_when_one_comes_back(sh):
    sh("/as gus", "/findally", "/press 1", "/press Any ally")
    out = sh("/wait 15m", "/wait 15m", "/wait 15m", "/wait 15m")
    assert "[bot -> gus, DM] No ally is free right now." in out
    assert "A colleague would like to talk" not in sh("/as cam", "/allystatus away")
    out = sh("/allystatus available")  # a new round: everyone who let it expire is eligible
    assert "DM] A colleague would like to talk." in out
    assert "[bot -> gus, DM] An ally has become free" in out


def test_an_ally_is_not_sent_more_offers_than_their_capacity(sh):
    for ally in ("ali", "bo", "cam", "eli"):
        sh(f"/as {ally}", "/allystatus away")
    for person in ("finn", "gus", "hana"):
        sh(f"/as {person}", "/findally", "/press 1", "/press Any ally")
    out = sh("/as bo", "/allystatus available")  # capacity 1
    assert out.count("[bot -> bo, DM] A colleague would like to talk.") == 1
    out = sh("/as cam", "/allystatus available")  # capacity 2
    assert out.count("[bot -> cam, DM] A colleague would like to talk.") == 2


def test_crisis_words_anywhere_lead_with_the_crisis_block(sh):
    for line in (
        "/findaly I want to kill myself",
        "/allystatus I want to die",
        "/resources i'm going to end my life",
    ):
        out = sh(line)
        assert "get help now" in out.splitlines()[0], line


def test_allies_are_only_offered_inside_their_working_hours(sh):
    # the shell clock starts at 10:00 in London
    assert "between 12:00 and 17:00 (Europe/London)" in sh(
        "/as ali", "/allystatus hours 12:00-17:00"
    )
    out = sh("/as eve", "/findally", "/press 1", "/press Any ally")
    assert "[bot -> ali, DM]" not in out and "[bot -> bo, DM]" in out
    assert "24-hour times" in sh("/as ali", "/allystatus hours 9-5")


def test_starting_and_cancelling_over_and_over_is_paused_and_counted_once(sh):
    """One person cycling start and cancel: three requests in ten minutes at most, so the
    allies get three offers and three withdrawals at most (not one per press), nobody loses
    the way to resources and urgent help, and the digest counts one person asking once."""
    import re
    from datetime import timedelta

    from handlers.stats import gather

    offer = re.compile(r"\[bot -> \w+, DM\] A colleague would like to talk\.")
    cycle = ("/findally", "/press Talk to an ally", "/press Any ally", "/press Cancel")
    out = "".join(sh(*cycle) for _ in range(6))
    assert len(offer.findall(out)) == 3
    assert out.count("You have started several requests in the last few minutes") == 3
    paused = out.rsplit("You have started several requests", 1)[1]
    assert "[1] Just show me resources  [2] I need urgent help" in paused
    out = sh("/wait 11m", *cycle)
    assert len(offer.findall(out)) == 1  # the pause is over
    router = sh.bot.router
    with router.db.session() as session:
        now = router.now()
        numbers = gather(router.context(session, now), now - timedelta(days=1), now)
    assert numbers.requests == 2  # three tries in a row, then one after the pause


def test_a_status_this_version_does_not_know_is_read_without_failing(sh):
    # A newer replica, mid rolling upgrade, may write a status this one has no member for:
    # the row still reads (as the plain string), and such an ally is simply not offered.
    with sh.bot.db.session() as session:
        ali = sh.ally("ali").person_id
        session.execute(
            text("UPDATE allyprofile SET status = 'sabbatical' WHERE person_id = :p"), {"p": ali}
        )
    assert sh.ally("ali").status == "sabbatical"
    sh("/findally", "/press Talk to an ally")
    out = sh("/press Any ally")
    assert "[bot -> ali, DM]" not in out and "A colleague would like to talk." in out
