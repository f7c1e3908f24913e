"""What the bot does as time passes, driven through the real shell on SQLite and PostgreSQL:
the follow-up after a hand-off, the allies' check-ins and training reminders, reminders about
unfinished applications, alerts about requests still waiting, and timers that keep failing.

Time moves only with the shell's /wait (one due moment at a time). START is Mon 02 Mar 2026
10:00 UTC; the daily job runs at 03:00 Europe/London, first on Tue 03 Mar."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import inspect, or_
from sqlmodel import col, select

from bot.events import Action, Actor
from handlers import schedules
from storage.models import (
    AllyProfile,
    AuditLog,
    Conversation,
    FollowUp,
    FollowUpAnswer,
    Offer,
    Person,
    SupportRequest,
    Timer,
)
from storage.timers import LEASE, MAX_ATTEMPTS
from tests.conftest import START, ShellDriver

ALLIES = ("ali", "bo", "cam", "dee", "eli")  # the demo's active allies
LIVE = ("pending", "claimed")

ASK = (
    "A few days ago you were put in touch with an ally. Did you get the support you needed? "
    "Pick a number from 1 (not at all) to 5 (yes, completely)."
)
SCORES = "[1] 1  [2] 2  [3] 3  [4] 4  [5] 5"
AGAIN = "[6] Connect me with someone again"
THANKS = "Thank you. That helps the ally network see what is working."
THANKS_LOW = "Thank you for telling us, and sorry it did not help enough."
LOW_BUTTONS = "[1] Connect me with someone again  [2] Just show me resources"
CLOSED = (
    "This question is closed: it has been answered (thank you) or it has expired. If you would "
    "like to talk to someone, type /findally."
)
CHOICES = "[1] Talk to an ally  [2] Just show me resources  [3] I need urgent help"

CHECK_IN = "How are you doing? Being an ally means carrying other people's worries now and then"
CHECK_IN_TEXT = (
    f"{CHECK_IN}, and your wellbeing matters just as much. However you answer, nothing changes "
    "unless you ask."
)
CHECK_IN_BUTTONS = (
    "[1] I'm doing well  [2] It's been a lot  [3] Talk to a coordinator  [4] Take a break (14 days)"
)
NOT_AN_ALLY = "This is for allies, and you are not on the ally roster now, so nothing changed."
# A non-ally asking for a coordinator may be worried about someone, or themselves: they are
# shown the ways to an ally and urgent help instead.
ALLIES_ONLY = "Reaching the coordinators this way is for allies."
CHOICES = "[1] Talk to an ally  [2] Just show me resources  [3] I need urgent help"
TRAINING = "Your ally training is due for a refresher by"
OVERDUE = "Your ally training was due for a refresher on"

REMINDER = "Your application to become an ally is waiting for you."
EXPIRED = (
    "Your unfinished application to become an ally was left for 30 days, so it has been "
    "deleted with its answers. If you would like to apply another time, type apply here."
)

NO_ALLY_ALERT = "A request for support found no available ally."
STILL_WAITING = "A request is still waiting for an ally after about"
GAVE_UP = "A scheduled task failed five times in a row and has been set aside"
APOLOGY = "something went wrong"


# --- helpers ---------------------------------------------------------------------------------
def utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is None:
        return moment and moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def at(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def wait_until(sh: ShellDriver, moment: datetime) -> str:
    """/wait until `moment` (UTC), in whole minutes; returns everything sent on the way."""
    minutes = (moment - sh.bot.clock.now()) / timedelta(minutes=1)
    assert minutes > 0 and minutes == int(minutes), (moment, sh.bot.clock.now())
    return sh(f"/wait {int(minutes)}m")


def to(out: str, who: str) -> list[str]:
    """The lines printed for `who` (a persona, or `#channel`)."""
    prefixes = (f"[bot -> {who}, ", f"[bot -> {who}]")
    return [line for line in out.splitlines() if line.startswith(prefixes)]


def said_to(out: str, who: str) -> list[str]:
    """What `who` was told (DM or only-you reply), without the prefix."""
    return [line.split("] ", 1)[1] for line in to(out, who)]


def coordinator_lines(out: str) -> list[str]:
    return to(out, "#coordinators") + to(out, "casey")


def count(out: str, text: str) -> int:
    return sum(text in line for line in out.splitlines())


def person_id(sh: ShellDriver, name: str) -> int:
    with sh.bot.db.session() as session:
        return session.exec(select(Person.id).where(Person.platform_user_id == name)).one()


def fetch(sh: ShellDriver, query) -> list:
    with sh.bot.db.session() as session:
        return list(session.exec(query).all())


def live_keys(sh: ShellDriver, kind: str, who: str | None = None) -> list[Timer]:
    """Live timers keyed `kind:...` (keys are cleared once a timer is done), or `kind:<who>`
    (a training reminder's key also names the training date: `kind:<who>:<date>`)."""
    key = f"{kind}:{person_id(sh, who)}" if who else f"{kind}:%"
    return fetch(
        sh,
        select(Timer)
        .where(
            or_(col(Timer.key).like(key), col(Timer.key).like(f"{key}:%")),
            col(Timer.status).in_(LIVE),
        )
        .order_by(Timer.subject_id),
    )


def profile(sh: ShellDriver, name: str) -> AllyProfile | None:
    with sh.bot.db.session() as session:
        return session.get(AllyProfile, person_id(sh, name))


def press(sh: ShellDriver, action: str, value: str, user: str, event_id: str | None = None) -> str:
    """Press a button as `user` with a value of our choosing; returns what was printed."""
    start = sh.buffer.tell()
    event = Action(action, value, Actor("shell", user), event_id=event_id)
    sh.shell.deliver(sh.bot.router.dispatch(event))
    sh.buffer.seek(start)
    return sh.buffer.read()


def hand_off(sh: ShellDriver) -> str:
    """Eve asks for any ally and ali (first in line) accepts: a group DM introduces them."""
    sh("/as eve", "/findally", "/press Talk to an ally", "/press Any ally")
    out = sh("/as ali", "/press Accept")
    assert "[bot -> eve+ali, group DM] Eve, meet Ali." in out
    return out


def follow_up_day(sh: ShellDriver) -> str:
    """From a hand-off at START, wait the follow_up_days (5) and return what was sent."""
    return wait_until(sh, START + timedelta(days=5))


def question_id(sh: ShellDriver) -> int:
    (question,) = fetch(sh, select(FollowUp))
    return question.id


def answers(sh: ShellDriver) -> list[tuple[int, date]]:
    rows = fetch(sh, select(FollowUpAnswer).order_by(FollowUpAnswer.id))
    return [(a.score, a.week_of) for a in rows]


def check_in_day(sh: ShellDriver) -> str:
    """The first daily job (Tue 03 Mar) plans check-ins 30 days on, at 10:00 London time:
    Thu 02 Apr 10:00 BST = 09:00 UTC."""
    return wait_until(sh, at(4, 2, 9))


def all_allies_away(sh: ShellDriver) -> None:
    for ally in ("ali", "bo", "cam", "eli"):  # dee is away in the demo already
        sh(f"/as {ally}", "/allystatus away")
    assert not any(profile(sh, a).available for a in ALLIES)


# --- follow-ups ------------------------------------------------------------------------------
def test_follow_up_is_asked_once_after_follow_up_days(sh):
    hand_off(sh)
    (request,) = fetch(sh, select(SupportRequest))
    out = wait_until(sh, START + timedelta(days=5, minutes=-1))
    assert "Did you get the support" not in out
    assert fetch(sh, select(FollowUp)) == []

    out = sh("/wait 1m")
    assert to(out, "eve") == [
        f"[bot -> eve, DM] {ASK}",
        f"[bot -> eve, DM] {SCORES}",
        f"[bot -> eve, DM] {AGAIN}",
        "[bot -> eve, DM]   (Your answer is kept as a number only, without your name or which "
        "ally you spoke to. You do not have to answer.)",
    ]
    assert to(out, "ali") == [] and coordinator_lines(out) == []  # nobody else hears of it
    (question,) = fetch(sh, select(FollowUp))
    assert (question.request_id, question.status) == (request.id, "asked")
    assert utc(question.asked_at) == START + timedelta(days=5)

    out = sh("/wait 20d")
    assert "Did you get the support" not in out  # asked once, not again
    assert len(fetch(sh, select(FollowUp))) == 1


@pytest.mark.parametrize("score", [1, 2, 3, 4, 5])
def test_a_score_is_kept_bare_and_the_question_that_linked_it_is_deleted(sh, score):
    hand_off(sh)
    follow_up_day(sh)  # Sat 07 Mar
    out = sh("/as eve", f"/press {score}")
    if score <= 2:  # a low score also offers another conversation and the resources
        assert said_to(out, "eve")[0].startswith(THANKS_LOW)
        assert to(out, "eve")[-1] == f"[bot -> eve, only you] {LOW_BUTTONS}"
    else:
        assert to(out, "eve") == [f"[bot -> eve, only you] {THANKS}"]
    assert coordinator_lines(out) == [] and to(out, "ali") == []
    assert answers(sh) == [(score, date(2026, 3, 2))]  # the Monday of that week, not the day
    assert fetch(sh, select(FollowUp)) == []  # the only link to eve is gone

    columns = [c["name"] for c in inspect(sh.bot.db.engine).get_columns("followupanswer")]
    assert sorted(columns) == ["id", "score", "week_of"]
    audited = fetch(sh, select(AuditLog).where(col(AuditLog.name).startswith("follow_up:")))
    assert [a.name for a in audited] == ["follow_up:answer"]
    assert [a.person_id for a in audited] == [None]
    eve = person_id(sh, "eve")
    assert fetch(sh, select(AuditLog).where(AuditLog.person_id == eve)) == []


@pytest.mark.parametrize("score", [1, 2])
def test_a_low_score_offers_talking_again_and_the_resources(sh, score):
    hand_off(sh)
    follow_up_day(sh)
    sh("/as eve", f"/press {score}")
    out = sh("/press Just show me resources")
    assert "Support for you (United Kingdom)" in out and "116 123" in out
    out = sh("/press Connect me with someone again")  # the same message's other button
    assert to(out, "eve")[0] == (
        "[bot -> eve, only you] Who would you like to talk to? Pick a topic to be matched with "
        "an ally who knows it, or any ally."
    )
    assert answers(sh) == [(score, date(2026, 3, 2))]


def test_a_second_press_or_a_replay_stores_nothing_more(sh):
    hand_off(sh)
    follow_up_day(sh)
    qid = question_id(sh)
    sh("/as eve", "/press 4")
    out = sh("/press 5")  # the same message's buttons, pressed again
    assert said_to(out, "eve") == [CLOSED]
    assert answers(sh) == [(4, date(2026, 3, 2))]

    # A platform retry carries the same event id: it runs once.
    first = press(sh, "follow_up:answer", f"{qid}.2", "eve", event_id="retry-1")
    again = press(sh, "follow_up:answer", f"{qid}.2", "eve", event_id="retry-1")
    assert again == "" and APOLOGY not in first
    assert answers(sh) == [(4, date(2026, 3, 2))]


def test_a_second_press_says_the_question_is_closed_and_stores_nothing(sh):
    hand_off(sh)
    follow_up_day(sh)
    sh("/as eve", "/press 4")
    out = sh("/press 4")
    assert said_to(out, "eve") == [CLOSED]
    assert answers(sh) == [(4, date(2026, 3, 2))]


def test_someone_else_pressing_eves_follow_up_is_refused_and_nothing_is_stored(sh):
    hand_off(sh)
    follow_up_day(sh)
    qid = question_id(sh)
    for action, value in (("follow_up:answer", f"{qid}.1"), ("follow_up:again", str(qid))):
        out = press(sh, action, value, "ali")
        assert to(out, "ali") == [f"[bot -> ali, only you] {CLOSED}"], action
        assert to(out, "eve") == [] and coordinator_lines(out) == []
    assert answers(sh) == [] and question_id(sh) == qid
    out = sh("/as eve", "/press 5")  # eve's own answer still counts
    assert THANKS in out and answers(sh) == [(5, date(2026, 3, 2))]


MALFORMED = (
    "", "abc", "1.9", "99999999999.3", "<!channel>", "{q}.0", "{q}.6", "-{q}.3", "{q}.3.3",
    "{q}.²", "١.3", "{q}e0.3", "9{q}.3", "{q}.3" + "9" * 2000,
)  # fmt: skip


def test_malformed_follow_up_values_get_a_plain_answer_and_store_nothing(sh, caplog):
    hand_off(sh)
    follow_up_day(sh)
    qid = question_id(sh)
    for pattern in MALFORMED:
        value = pattern.replace("{q}", str(qid))
        for action in ("follow_up:answer", "follow_up:again"):
            out = press(sh, action, value, "eve")
            assert said_to(out, "eve") == [CLOSED], (action, value)
            assert APOLOGY not in out and "<!channel>" not in out
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    assert answers(sh) == [] and question_id(sh) == qid  # the question is still open
    assert "[bot -> eve, only you] You are connected with Ali." in press(
        sh, "follow_up:again", str(qid), "eve"
    )  # while the well-formed press still works
    assert THANKS in press(sh, "follow_up:answer", f"{qid}.3", "eve")
    assert answers(sh) == [(3, date(2026, 3, 2))]


def test_connect_me_again_shows_what_findally_shows(sh):
    hand_off(sh)
    sh("/as eve", "/findally", "/press Mark as finished")  # the conversation is over
    follow_up_day(sh)
    out = sh("/as eve", "/press Connect me with someone again")
    assert to(out, "eve")[:3] == [
        "[bot -> eve, only you] Only you can see this. Nobody else is told that you asked.",
        "[bot -> eve, only you] How can we help?",
        f"[bot -> eve, only you] {CHOICES}",
    ]
    assert to(out, "eve") == to(sh("/findally"), "eve")
    assert answers(sh) == [] and len(fetch(sh, select(FollowUp))) == 1  # not an answer
    out = sh("/press Talk to an ally")
    assert "Who would you like to talk to?" in out


def test_connect_me_again_while_still_connected_shows_the_open_request(sh):
    hand_off(sh)
    follow_up_day(sh)
    out = sh("/as eve", "/press Connect me with someone again")
    assert "[bot -> eve, only you] You are connected with Ali." in out
    assert to(out, "eve") == to(sh("/findally"), "eve")


def test_a_request_cancelled_before_any_hand_off_gets_no_follow_up(sh):
    sh("/as eve", "/findally", "/press Talk to an ally", "/press Any ally")
    out = sh("/press Cancel my request")
    assert "Your request is cancelled" in out
    out = sh("/wait 10d")
    assert "Did you get the support" not in out
    assert fetch(sh, select(FollowUp)) == []
    assert fetch(sh, select(Timer).where(Timer.kind == "request.follow_up")) == []


def test_the_follow_up_is_planned_once_even_if_accept_is_replayed(sh):
    sh("/as eve", "/findally", "/press Talk to an ally", "/press Any ally")
    accept = sh.shell.latest[person_id(sh, "ali")][0]
    assert accept.label == "Accept"
    first = press(sh, accept.action, accept.value, "ali", event_id="accept-1")
    assert "Eve, meet Ali." in first
    assert press(sh, accept.action, accept.value, "ali", event_id="accept-1") == ""  # a retry
    out = press(sh, accept.action, accept.value, "ali")  # a second press
    assert "group DM" not in out
    planned = fetch(sh, select(Timer).where(Timer.kind == "request.follow_up"))
    assert len(planned) == 1 and utc(planned[0].due_at) == START + timedelta(days=5)
    out = sh("/wait 10d")
    assert count(out, "Did you get the support") == 1
    assert len(fetch(sh, select(FollowUp))) == 1


# --- ally check-ins --------------------------------------------------------------------------
def test_the_daily_job_plans_one_check_in_per_active_ally(sh):
    assert live_keys(sh, "ally.check_in") == []  # nothing before the first daily job
    sh("/wait 1d")
    timers = live_keys(sh, "ally.check_in")
    assert [t.subject_id for t in timers] == [person_id(sh, a) for a in ALLIES]
    assert {utc(t.due_at) for t in timers} == {at(4, 2, 9)}  # 10:00 in London, 30 days on
    sh("/wait 5d")  # five more daily runs
    with sh.bot.db.session() as session:  # and the daily job run by hand, twice more
        for _ in range(2):
            schedules.daily(sh.bot.router.context(session, sh.bot.clock.now()))
    again = live_keys(sh, "ally.check_in")
    assert [t.id for t in again] == [t.id for t in timers]
    assert len(fetch(sh, select(Timer).where(Timer.kind == "ally.check_in"))) == len(ALLIES)


def test_after_check_in_days_each_ally_is_asked_how_they_are(sh):
    out = wait_until(sh, at(4, 2, 8, 59))
    assert CHECK_IN not in out
    out = sh("/wait 1m")
    for ally in ALLIES:
        assert said_to(out, ally) == [
            CHECK_IN_TEXT,
            CHECK_IN_BUTTONS,
            "  (Only the coordinators hear about it, and only if you ask to talk to one.)",
        ]
    assert count(out, CHECK_IN) == len(ALLIES)  # nobody else: not eve, casey or a channel
    timers = live_keys(sh, "ally.check_in")
    assert len(timers) == len(ALLIES)
    assert {utc(t.due_at) for t in timers} == {at(5, 2, 9)}  # the next one, 30 days on
    out = wait_until(sh, at(5, 2, 8, 59))
    assert CHECK_IN not in out
    assert count(sh("/wait 1m"), CHECK_IN) == len(ALLIES)


def test_im_doing_well_is_thanked_and_changes_nothing(sh):
    check_in_day(sh)
    before = profile(sh, "ali").model_dump()
    out = sh("/as ali", "/press I'm doing well")
    assert to(out, "ali") == [
        "[bot -> ali, only you] Good to hear. Thank you for everything you do as an ally."
    ]
    assert coordinator_lines(out) == []
    assert profile(sh, "ali").model_dump() == before


def test_its_been_a_lot_offers_a_coordinator_a_break_and_resources(sh):
    check_in_day(sh)
    before = profile(sh, "ali").model_dump()
    out = sh("/as ali", "/press It's been a lot")
    assert said_to(out, "ali")[0].startswith("Thank you for saying so.")
    assert to(out, "ali")[-1] == (
        "[bot -> ali, only you] [1] Talk to a coordinator  [2] Take a break (14 days)  "
        "[3] Just show me resources"
    )
    assert coordinator_lines(out) == []
    assert profile(sh, "ali").model_dump() == before
    out = sh("/press Just show me resources")
    assert "Samaritans" in out


@pytest.mark.parametrize("path", [["/press Talk to a coordinator"], ["/press 2", "/press 1"]])
def test_talk_to_a_coordinator_reaches_casey_by_dm_and_never_the_channel(sh, path):
    check_in_day(sh)
    out = sh("/as ali", *path)
    assert to(out, "casey") == [
        "[bot -> casey, DM] Ali, one of the allies, would like to talk to a coordinator. Please "
        "contact them directly, within a working day if you can. They will tell you what it is "
        "about; the bot passes on nothing else."
    ]
    assert to(out, "#coordinators") == []
    assert (
        "I have let the coordinators know. One of them will contact you directly, usually "
        "within a working day. You do not need to write anything here."
    ) in said_to(out, "ali")


def test_take_a_break_makes_the_ally_away_for_14_days_and_back_automatically(sh):
    check_in_day(sh)  # Thu 02 Apr
    out = sh("/as ali", "/press Take a break")
    assert said_to(out, "ali") == [
        "Done: you will not be asked to take new requests until Thu 16 Apr. Conversations you "
        "already have stay open. Type /allystatus available to come back sooner."
    ]
    ali = profile(sh, "ali")
    back = at(4, 15, 23)  # midnight in London
    assert (ali.available, utc(ali.away_until)) == (False, back)
    assert timedelta(days=13) < back - sh.bot.clock.now() <= timedelta(days=14)
    (timer,) = fetch(sh, select(Timer).where(Timer.kind == "ally.back", Timer.status == "pending"))
    assert (timer.subject_id, utc(timer.due_at)) == (person_id(sh, "ali"), back)

    out = sh("/as eve", "/findally", "/press Talk to an ally", "/press Any ally")
    assert "[bot -> ali, DM]" not in out  # on a break, so not asked
    sh("/press Cancel my request")

    out = wait_until(sh, back - timedelta(minutes=1))
    assert "[bot -> ali, DM] Welcome back." not in out and not profile(sh, "ali").available
    out = sh("/wait 1m")
    assert to(out, "ali") == [
        "[bot -> ali, DM] Welcome back. Your away date has come, so you are available for "
        "requests again. /allystatus away pauses them any time."
    ]
    ali = profile(sh, "ali")
    assert (ali.available, ali.away_until) == (True, None)


CARE_ACTIONS = ("care:well", "care:a_lot", "care:coordinator", "care:break")


def test_a_non_ally_pressing_a_check_in_button_is_told_it_is_for_allies(sh):
    check_in_day(sh)
    timers_before = len(fetch(sh, select(Timer)))
    for action in CARE_ACTIONS:
        out = press(sh, action, "", "eve")
        lines = out.splitlines()
        if action == "care:coordinator":
            assert lines[0].startswith(f"[bot -> eve, only you] {ALLIES_ONLY}"), action
            assert lines[1] == f"[bot -> eve, only you] {CHOICES}"
        else:
            assert lines == [f"[bot -> eve, only you] {NOT_AN_ALLY}"], action
    assert profile(sh, "eve") is None
    assert len(fetch(sh, select(Timer))) == timers_before


def test_an_ally_who_stepped_down_pressing_an_old_check_in_changes_nothing(sh):
    check_in_day(sh)
    sh("/as cam", "/allystepdown", "/press Yes, step down")
    before = profile(sh, "cam").model_dump()
    for action in CARE_ACTIONS:
        out = press(sh, action, "", "cam")
        lines = out.splitlines()
        if action == "care:coordinator":
            assert lines[0].startswith(f"[bot -> cam, only you] {ALLIES_ONLY}"), action
            assert lines[1] == f"[bot -> cam, only you] {CHOICES}"
        else:
            assert lines == [f"[bot -> cam, only you] {NOT_AN_ALLY}"], action
    assert profile(sh, "cam").model_dump() == before


def test_paused_and_stepped_down_allies_get_no_check_in(sh):
    sh("/wait 1d")  # check-ins are planned for all five
    assert len(live_keys(sh, "ally.check_in")) == len(ALLIES)
    sh("/as casey", "/allyadmin pause bo", "/as cam", "/allystepdown", "/press Yes, step down")
    out = check_in_day(sh)
    assert [a for a in ALLIES if said_to(out, a)[:1] == [CHECK_IN_TEXT]] == ["ali", "dee", "eli"]
    assert to(out, "bo") == [] and to(out, "cam") == []
    keys = [t.subject_id for t in live_keys(sh, "ally.check_in")]
    assert person_id(sh, "bo") not in keys and person_id(sh, "cam") not in keys

    sh("/as casey", "/allyadmin resume bo")
    sh("/wait 1d")  # the next daily job plans bo's check-in again (Fri 03 Apr + 30 days)
    (bo,) = [t for t in live_keys(sh, "ally.check_in") if t.subject_id == person_id(sh, "bo")]
    assert utc(bo.due_at) == at(5, 3, 9)


# --- training renewal ------------------------------------------------------------------------
def test_overdue_training_is_reminded_once_and_the_coordinators_are_told(sh):
    out = sh("/wait 1d")  # the first daily job: dee's training (12 Sep 2024) is long overdue
    told = "Dee's ally training was due for renewal on 12 Sep 2025. Please arrange a refresher."
    assert to(out, "#coordinators") == [f"[bot -> #coordinators] {told}"]
    assert to(out, "casey") == [f"[bot -> casey, DM] {told}"]
    # Dee is past the training grace as well: she hears that new requests have stopped
    # (tests/test_training_grace.py), not that she can keep supporting colleagues.
    (said,) = said_to(out, "dee")
    assert said.startswith("Your ally refresher was due on 12 Sep 2025") and OVERDUE not in out
    assert TRAINING not in out  # nobody else is due
    assert profile(sh, "dee").renewal_reminded_for == date(2024, 9, 12)
    out = sh("/wait 20d")  # twenty more daily runs
    assert "Dee's ally training" not in out and said_to(out, "dee") == []
    assert live_keys(sh, "ally.training", "dee") == []  # nothing more is planned for dee


def test_overdue_training_inside_the_grace_says_it_was_due_and_until_when(sh):
    sh("/as casey", "/allyadmin trained ali 2025-02-15")  # renewal was due 15 Feb 2026
    out = sh("/wait 1d")
    (said,) = said_to(out, "ali")
    assert said == (
        f"{OVERDUE} 15 Feb 2026. The coordinators will let you know about the next session. "
        "New requests keep reaching you until 17 Mar 2026; after that they pause until your "
        "refresher is recorded."
    )


def test_an_overdue_training_reminder_waits_for_the_morning(sh):
    sh("/as casey", "/allyadmin trained ali 2025-02-15")
    out = wait_until(sh, at(3, 3, 3))  # 03:00 in London: the daily job has just run
    assert said_to(out, "ali") == []
    out = wait_until(sh, at(3, 3, 10))
    assert said_to(out, "ali")[0].startswith(OVERDUE)


def test_training_reminder_comes_30_days_before_renewal_and_new_training_plans_the_next(sh):
    out = sh("/as casey", "/allyadmin trained ali 2025-04-15")  # renewal due 15 Apr 2026
    assert "Training on 15 Apr 2025 recorded for Ali." in out
    out = wait_until(sh, at(3, 16, 9, 59))  # 30 days before: Mon 16 Mar, 10:00 GMT
    assert "[bot -> ali" not in out
    out = sh("/wait 1m")
    assert said_to(out, "ali") == [
        f"{TRAINING} 15 Apr 2026. The coordinators will let you know about the next session. "
        "New requests keep reaching you until 15 May 2026; after that they pause until your "
        "refresher is recorded."
    ]
    told = "Ali's ally training is due for renewal by 15 Apr 2026. Please arrange a refresher."
    assert to(out, "#coordinators") == [f"[bot -> #coordinators] {told}"]
    assert to(out, "casey") == [f"[bot -> casey, DM] {told}"]
    assert profile(sh, "ali").renewal_reminded_for == date(2025, 4, 15)
    out = sh("/wait 10d")
    assert "Ali's ally training" not in out and TRAINING not in out

    out = sh("/as casey", "/allyadmin trained ali")  # Thu 26 Mar 2026: renewal 26 Mar 2027
    assert "Training on 26 Mar 2026 recorded for Ali." in out
    sh("/wait 1d")
    (timer,) = live_keys(sh, "ally.training", "ali")
    assert utc(timer.due_at) == at(2, 24, 10, year=2027)  # 30 days before, 10:00 GMT
    out = wait_until(sh, at(2, 24, 9, 59, year=2027))
    assert "Ali's ally training" not in out
    out = sh("/wait 1m")
    assert said_to(out, "ali") == [
        f"{TRAINING} 26 Mar 2027. The coordinators will let you know about the next session. "
        "New requests keep reaching you until 25 Apr 2027; after that they pause until your "
        "refresher is recorded."
    ]


def test_correcting_training_to_an_earlier_date_brings_the_reminder_forward(sh):
    sh("/wait 1d")  # ali (trained 20 Jan 2026) has a reminder planned for 21 Dec 2026
    sh("/as casey", "/allyadmin trained ali 2025-04-15")  # renewal due 15 Apr 2026
    out = wait_until(sh, at(3, 17, 10))
    assert f"{TRAINING} 15 Apr 2026" in "\n".join(said_to(out, "ali"))


# --- unfinished applications -----------------------------------------------------------------
def start_application(sh: ShellDriver) -> None:
    out = sh("/as finn", "/allyapply", "/press I understand")
    assert "[bot -> finn, DM] Question 1 of 8 · Name" in out


def test_an_unfinished_application_is_reminded_once_after_two_days(sh):
    start_application(sh)
    out = wait_until(sh, START + timedelta(days=2, minutes=-1))
    assert REMINDER not in out
    out = sh("/wait 1m")
    assert to(out, "finn") == [
        f"[bot -> finn, DM] {REMINDER} Everything you have answered is saved, and you can pick "
        "up where you stopped. If you leave it, it is deleted with its answers on 01 Apr 2026.",
        "[bot -> finn, DM] You are on question 1 of 8 (Name). Everything you have answered so "
        "far is saved.",
        "[bot -> finn, DM] [1] Carry on  [2] Delete it",
    ]
    (conv,) = fetch(sh, select(Conversation))
    assert utc(conv.reminded_at) == START + timedelta(days=2)
    out = sh("/wait 20d")
    assert REMINDER not in out  # once per pause

    out = sh("/as finn", "/press Carry on")
    assert said_to(out, "finn")[:2] == [
        "Welcome back. Your application is just as you left it. Here is where you were:",
        "Question 1 of 8 · Name",
    ]
    assert "Saved." in sh("Finn Example")  # and the buttons still work: it carries on


def test_answering_before_the_reminder_moves_it_two_days_after_the_last_answer(sh):
    start_application(sh)
    sh("/wait 1d", "Finn")  # answered on day 1
    out = wait_until(sh, START + timedelta(days=3, minutes=-1))
    assert REMINDER not in out
    out = sh("/wait 1m")
    assert count(out, REMINDER) == 1
    assert "You are on question 2 of 8 (Job title)." in out


def test_a_second_pause_gets_a_second_reminder(sh):
    start_application(sh)
    assert count(sh("/wait 2d"), REMINDER) == 1
    sh("/wait 1h", "/as finn", "Finn")  # carries on, then stops again
    out = sh("/wait 2d")
    assert count(out, REMINDER) == 1


def test_an_unfinished_application_is_deleted_after_30_days(sh):
    start_application(sh)
    out = wait_until(sh, START + timedelta(days=30, minutes=-1))
    assert count(out, REMINDER) == 1 and EXPIRED not in out
    assert len(fetch(sh, select(Conversation))) == 1
    out = sh("/wait 1m")
    assert to(out, "finn") == [f"[bot -> finn, DM] {EXPIRED}"]
    assert fetch(sh, select(Conversation)) == []
    out = sh("/as finn", "/allyapply")  # a fresh start, not a resumed one
    assert "Welcome back" not in out and "Before you start" in out


def test_delete_it_on_the_reminder_deletes_the_draft(sh):
    start_application(sh)
    sh("Finn")
    sh("/wait 2d")
    out = sh("/as finn", "/press Delete it")
    assert said_to(out, "finn") == [
        "Your application is cancelled and everything you typed has been deleted. You can start "
        "again any time with /allyapply."
    ]
    assert fetch(sh, select(Conversation)) == []
    out = sh("/wait 40d")
    assert "[bot -> finn" not in out  # no reminder and no expiry notice for a deleted draft


# --- requests still waiting ------------------------------------------------------------------
def waiting_request(sh: ShellDriver) -> str:
    all_allies_away(sh)
    out = sh("/as eve", "/findally", "/press Talk to an ally", "/press Any ally")
    assert "[bot -> eve, only you] No ally is free right now." in out
    assert to(out, "#coordinators")[0].startswith(f"[bot -> #coordinators] {NO_ALLY_ALERT}")
    assert to(out, "casey")[0].startswith(f"[bot -> casey, DM] {NO_ALLY_ALERT}")
    return out


def assert_names_nobody(lines: list[str]) -> None:
    for line in lines:
        assert not re.search(r"\beve\b|engineering", line, re.IGNORECASE), line


def test_coordinators_hear_again_every_day_a_request_still_waits(sh):
    out = waiting_request(sh)
    (req,) = fetch(sh, select(SupportRequest))
    assert (req.status, req.waited) == ("waiting", True)
    out += wait_until(sh, START + timedelta(hours=24, minutes=-1))
    assert STILL_WAITING not in out
    day = sh("/wait 1m")
    alert = f"{STILL_WAITING} 24 hours. Nobody is named here."
    assert [x for x in said_to(day, "#coordinators") if x.startswith(STILL_WAITING)] == [
        f"{alert} See it with /allyadmin requests: you can offer it to every available ally at "
        "once, or message the requester (who stays anonymous unless they choose otherwise)."
    ]
    assert count(day, alert) == 2  # the channel and casey's DM
    assert to(day, "eve") == []
    out += day
    later = sh("/wait 1d")
    assert count(later, f"{STILL_WAITING} 48 hours.") == 2
    assert count(later, STILL_WAITING) == 2
    out += later + sh("/wait 1d")
    assert count(out, f"{STILL_WAITING} 72 hours.") == 2
    assert_names_nobody(coordinator_lines(out))


@pytest.mark.parametrize("ending", ["matched", "cancelled"])
def test_no_more_alerts_once_the_request_is_matched_or_cancelled(sh, ending):
    waiting_request(sh)
    assert count(sh("/wait 1d"), STILL_WAITING) == 2
    if ending == "matched":
        out = sh("/as cam", "/allystatus available")
        assert "[bot -> cam, DM] A colleague would like to talk." in out
        (offer,) = fetch(sh, select(Offer).where(Offer.status == "pending"))
        out = press(sh, "offer:accept", str(offer.id), "cam")
        assert "[bot -> eve+cam, group DM] Eve, meet Cam." in out
    else:
        out = sh("/as eve", "/findally", "/press Cancel my request")
        assert "Your request is cancelled" in out
    (req,) = fetch(sh, select(SupportRequest))
    assert req.status == ending
    out = sh("/wait 5d")
    assert STILL_WAITING not in out and NO_ALLY_ALERT not in out
    assert live_keys(sh, "request.waiting") == []


# --- timers in general -----------------------------------------------------------------------
@pytest.mark.parametrize("dead_claim", [False, True])
def test_a_timer_that_keeps_failing_is_given_up_and_coordinators_are_told(sh, dead_claim):
    hand_off(sh)
    with sh.bot.db.session() as session:
        timer = session.exec(select(Timer).where(Timer.kind == "request.follow_up")).one()
        timer.attempts = MAX_ATTEMPTS
        if dead_claim:  # its last claimer died mid-run, long ago
            timer.status, timer.claimed_at = "claimed", START - LEASE * 2
        session.add(timer)
        timer_id = timer.id
    out = sh("/wait 10d" if not dead_claim else "/wait 1m")
    told = [x for x in said_to(out, "#coordinators") if x.startswith(GAVE_UP)]
    assert told == [
        f"{GAVE_UP}, so something someone was waiting for may not have happened. The bot's log "
        "says which (by internal id only)."
    ]
    assert count(out, GAVE_UP) == 2  # the channel and casey's DM, once
    assert [line.split("] ")[0] for line in out.splitlines() if GAVE_UP in line] == [
        "[bot -> #coordinators",
        "[bot -> casey, DM",
    ]
    assert_names_nobody(coordinator_lines(out))
    assert "Did you get the support" not in out
    with sh.bot.db.session() as session:
        timer = session.get(Timer, timer_id)
        assert (timer.status, timer.key) == ("failed", None)
    assert GAVE_UP not in sh("/wait 10d")  # told once
