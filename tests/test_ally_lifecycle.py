"""The ally lifecycle as people live it, on SQLite and PostgreSQL: applying and the coordinators'
decision, training, /allystatus, the /allies directory, stepping down, /allyadmin, and the
roster export. Everything goes in through the real shell or the router, as users do."""

from __future__ import annotations

import csv
import io
import os
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from bot.config import Coordinators
from bot.events import Action, Actor, Command, Event
from handlers.allies import import_roster, parse_roster
from storage.models import AllyProfile, Application, Offer, Person, SupportRequest, Timer
from tests import cli_process
from tests.conftest import START, ShellDriver, make_bot

ROOT = Path(__file__).resolve().parent.parent
SENT = "Thank you, your application is on its way to the coordinators."
EXPORT_HEADER = (
    "platform,user,name,department,topics,capacity,languages,status,listed,trained_on,open_count"
)


# --- helpers -------------------------------------------------------------------------------------
def apply_as(sh: ShellDriver, who: str = "finn", skills: str = "I listen well") -> str:
    """Answer the whole questionnaire as `who` and send it; returns what the send printed."""
    sh(f"/as {who}", "apply", "/press 1", "/press 1", "Analyst", "/press 1")
    sh(f"{who}@example.com", "Because I care", skills, "skip", "It matters")
    return sh("submit")


def press(sh: ShellDriver, action: str, value: str, user: str) -> str:
    """Press a button as `user` (one they could see in a channel); returns what was printed."""
    return dispatch(sh, Action(action, value, Actor("shell", user)))


def dispatch(sh: ShellDriver, event: Event) -> str:
    start = sh.buffer.tell()
    sh.shell.deliver(sh.bot.router.dispatch(event))
    sh.buffer.seek(start)
    return sh.buffer.read()


def person_id(sh: ShellDriver, name: str) -> int:
    with sh.bot.db.session() as session:
        return session.exec(select(Person.id).where(Person.platform_user_id == name)).one()


def applications(sh: ShellDriver, who: str = "finn") -> list[Application]:
    with sh.bot.db.session() as session:
        query = select(Application).where(Application.person_id == person_id(sh, who))
        return list(session.exec(query.order_by(Application.id)).all())


def offers(sh: ShellDriver) -> list[tuple[str, str]]:
    """(ally, status) of every offer, oldest first."""
    with sh.bot.db.session() as session:
        rows = session.exec(
            select(Person.platform_user_id, Offer.status)
            .join(Offer, Offer.ally_id == Person.id)
            .order_by(Offer.id)
        ).all()
        return [tuple(r) for r in rows]


def profile(sh: ShellDriver, name: str) -> AllyProfile | None:
    with sh.bot.db.session() as session:
        return session.get(AllyProfile, person_id(sh, name))


def state(sh: ShellDriver, name: str) -> dict:
    """Everything stored about an ally, to compare before and after."""
    return profile(sh, name).model_dump()


def utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is None:
        return moment and moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def said_to(out: str, who: str) -> list[str]:
    """What `who` was told, whether as a DM or as a reply only they can see."""
    return [line.split("] ", 1)[1] for line in to(out, who)]


def was_told(out: str, who: str, start: str) -> bool:
    return any(said.startswith(start) for said in said_to(out, who))


def to(out: str, who: str) -> list[str]:
    """The lines printed for `who` (a persona, or `#channel`)."""
    prefixes = (f"[bot -> {who}, ", f"[bot -> {who}]")
    return [line for line in out.splitlines() if line.startswith(prefixes)]


def ask_cam_for_anxiety(sh: ShellDriver) -> None:
    """Eve asks to talk about anxiety, a topic only cam has: cam gets the offer."""
    out = sh("/as eve", "/findally", "/press Talk to an ally", "/press anxiety")
    assert "[bot -> cam, DM] A colleague would like to talk." in out
    assert offers(sh) == [("cam", "pending")]


def assert_offer_handed_on(sh: ShellDriver, out: str) -> None:
    """Cam's pending offer was withdrawn and went to the next ally, and cam cannot take it."""
    assert "[bot -> ali, DM] A colleague would like to talk." in out
    assert offers(sh) == [("cam", "withdrawn"), ("ali", "pending")]
    late = press(sh, "offer:accept", str(offer_id(sh, "cam")), "cam")
    assert "already moved on" in late and "group DM" not in late
    assert offers(sh) == [("cam", "withdrawn"), ("ali", "pending")]


def offer_id(sh: ShellDriver, ally: str) -> int:
    with sh.bot.db.session() as session:
        return session.exec(select(Offer.id).where(Offer.ally_id == person_id(sh, ally))).one()


def press_roster(sh: ShellDriver, label: str, ally: str) -> str:
    """As casey, press `label` in the roster row of `ally`."""
    buttons = sh.shell.latest[person_id(sh, "casey")]
    wanted = str(person_id(sh, ally))
    n = next(i for i, b in enumerate(buttons, 1) if b.label == label and b.value == wanted)
    return sh(f"/press {n}")


# --- deciding on applications ---------------------------------------------------------------------
def test_approve_welcomes_the_new_ally_and_records_who_decided(sh):
    out = apply_as(sh)
    assert "[bot -> casey, DM] Application to become an ally: Finn · sent 02 Mar 2026" in out
    assert "[bot -> casey, DM] [1] Approve  [2] Decline  [3] Ask for more information" in out
    assert "[bot -> #coordinators] [1] Review it" in out  # the channel: only that one waits
    out = sh("/as casey", "/press Approve")
    welcome = "\n".join(to(out, "finn"))
    assert welcome.startswith("[bot -> finn, DM] Welcome to the ally network!")
    for part in ("Your role:", "Boundaries:", "Looking after yourself:", "/allystatus hours"):
        assert part in welcome
    assert "[bot -> casey, only you] Finn's application was approved by Casey." in out
    assert to(out, "#coordinators") == [
        "[bot -> #coordinators] An application was approved by Casey. Nothing more is needed here."
    ]
    (app,) = applications(sh)
    assert (app.status, app.open_key) == ("approved", None)
    assert app.decided_by == person_id(sh, "casey") and utc(app.decided_at) == START
    finn = profile(sh, "finn")
    assert (finn.status, finn.trained_on, utc(finn.approved_at)) == ("onboarding", None, START)
    assert "onboarding (requests start once your training is recorded)" in sh(
        "/as finn", "/allystatus"
    )


def test_approving_someone_who_became_an_ally_meanwhile_keeps_their_role(sh):
    apply_as(sh)
    with sh.bot.db.session() as session:  # imported from a roster while the application waited
        rows, errors = parse_roster(
            "platform,user,name,department,topics,capacity\nshell,finn,Finn,Finance,,1\n", 2
        )
        assert errors == []
        import_roster(session, rows, START)
    sh("/as casey", "/press Approve")
    assert (profile(sh, "finn").status, profile(sh, "finn").capacity) == ("active", 1)


def test_a_second_decision_says_who_decided_first_and_changes_nothing(db):
    both = Coordinators(people=["shell:casey", "shell:hana"], channel="coordinators")
    sh = ShellDriver(make_bot(db, coordinators=both))
    apply_as(sh)
    app_id = str(applications(sh)[0].id)
    sh("/as casey", "/press Approve")
    sh.bot.clock.advance(datetime(2026, 3, 3, tzinfo=UTC) - START)
    already = "Finn's application was already approved by Casey on 02 Mar 2026 10:00 UTC"
    for verb, who in (("approve", "hana"), ("decline", "hana"), ("more", "casey")):
        out = press(sh, f"application:{verb}", app_id, who)
        assert to(out, who) == [f"[bot -> {who}, only you] {already}, so nothing changed."]
        assert to(out, "finn") == [] and to(out, "#coordinators") == []
    (app,) = applications(sh)
    assert (app.status, app.decided_by, utc(app.decided_at)) == (
        "approved",
        person_id(sh, "casey"),
        START,
    )
    assert profile(sh, "finn").status == "onboarding"


def test_decline_is_kind_and_the_applicant_may_apply_again(sh):
    apply_as(sh)
    out = sh("/as casey", "/press Decline")
    (line,) = to(out, "finn")
    assert line.startswith("[bot -> finn, DM] Thank you for applying to be a mental health ally.")
    assert "not able to take your application forward" in line
    assert "[bot -> #coordinators] An application was declined by Casey." in out
    (app,) = applications(sh)
    assert (app.status, app.open_key, app.decided_by) == ("declined", None, person_id(sh, "casey"))
    assert profile(sh, "finn") is None
    out = apply_as(sh)
    assert was_told(out, "finn", SENT)
    assert [(a.status, a.open_key) for a in applications(sh)] == [
        ("declined", None),
        ("pending", person_id(sh, "finn")),
    ]


def test_ask_for_more_then_the_applicant_updates_the_same_application(sh):
    apply_as(sh)
    out = sh("/as casey", "/press Ask for more information")
    assert to(out, "finn") == [
        "[bot -> finn, DM] Casey, one of the ally coordinators, would like to know a little more "
        "about your application. They may message you directly. You can also update your "
        "answers and send it again:",
        "[bot -> finn, DM] [1] Update my application",
    ]
    sent_back = "An application was sent back for more information by Casey."
    assert f"[bot -> #coordinators] {sent_back}" in out
    assert [a.status for a in applications(sh)] == ["more_info"]
    out = sh("/as finn", "/press Update my application")
    assert was_told(out, "finn", "Here is your application.")
    assert "I listen well" in said_to(out, "finn")  # the old answers are kept
    sh("/press Change: Skills and experience")
    out = sh("I listen very well", "submit")
    assert was_told(out, "finn", SENT)
    assert "[bot -> #coordinators] An application has come back with the information" in out
    assert not [line for line in to(out, "#coordinators") if "I listen" in line]
    assert "[bot -> casey, DM] I listen very well" in out
    assert "[bot -> casey, DM] [1] Approve  [2] Decline  [3] Ask for more information" in out
    (app,) = applications(sh)  # the same application, not a second one
    assert (app.status, app.open_key) == ("pending", person_id(sh, "finn"))
    out = sh("/as casey", "/press Approve")
    assert "[bot -> casey, only you] Finn's application was approved by Casey." in out


@pytest.mark.parametrize("verb", ["approve", "decline", "more"])
def test_only_coordinators_can_decide(sh, verb):
    apply_as(sh)
    app_id = str(applications(sh)[0].id)
    out = press(sh, f"application:{verb}", app_id, "gus")
    assert out.splitlines() == [
        "[bot -> gus, only you] Only the network's coordinators can decide on applications, "
        "so nothing changed."
    ]
    (app,) = applications(sh)
    assert (app.status, app.decided_by, app.decided_at) == ("pending", None, None)
    assert profile(sh, "finn") is None


@pytest.mark.parametrize(
    "line",
    [
        "/allyadmin",
        "/allyadmin applications",
        "/allyadmin roster",
        "/allyadmin trained ali",
        "/allyadmin trained ali 2026-02-01",
        "/allyadmin pause ali",
        "/allyadmin remove ali",
        "/allyadmin nonsense",
    ],
)
def test_allyadmin_commands_are_refused_to_non_coordinators(sh, line):
    before = state(sh, "ali")
    out = sh("/as gus", line)
    assert out.splitlines()[1:] == [
        "[bot -> gus, only you] /allyadmin is for the network's coordinators, so nothing changed."
    ]
    assert state(sh, "ali") == before


@pytest.mark.parametrize(
    "action",
    ["applications", "roster", "trained", "pause", "resume", "remove", "remove_confirmed"],
)
def test_allyadmin_buttons_are_refused_to_non_coordinators(sh, action):
    sh("/as casey", "/allyadmin pause bo")  # so that resume has something to resume
    before = (state(sh, "ali"), state(sh, "bo"))
    for ally in ("ali", "bo"):
        out = press(sh, f"admin:{action}", str(person_id(sh, ally)), "gus")
        assert out.splitlines() == [
            "[bot -> gus, only you] /allyadmin is for the network's coordinators, "
            "so nothing changed."
        ]
    assert (state(sh, "ali"), state(sh, "bo")) == before


# --- onboarding and training --------------------------------------------------------------------
def test_onboarding_allies_get_no_requests_until_their_training_is_recorded(sh):
    apply_as(sh)
    sh("/as casey", "/press Approve")
    for ally in ("ali", "bo", "cam", "eli"):
        sh(f"/as {ally}", "/allystatus away")
    out = sh("/as eve", "/findally", "/press Talk to an ally", "/press Any ally")
    assert "[bot -> eve, only you] No ally is free right now." in out
    assert to(out, "finn") == [] and offers(sh) == []
    out = sh("/as finn", "/allystatus available")  # available, but not yet trained
    assert to(out, "finn")[0].endswith(
        "onboarding (requests start once your training is recorded) · 0 of 2 conversations open"
    )
    assert offers(sh) == []
    out = sh("/as casey", "/allyadmin trained finn")
    assert "[bot -> casey, only you] Training on 02 Mar 2026 recorded for Finn. " in out
    assert "Their status: active." in out
    assert "[bot -> finn, DM] Your training is recorded and you are now an active ally." in out
    assert "[bot -> finn, DM] A colleague would like to talk." in out
    assert "[bot -> eve, DM] An ally has become free" in out
    assert offers(sh) == [("finn", "pending")]
    finn = profile(sh, "finn")
    assert (finn.status, finn.trained_on) == ("active", date(2026, 3, 2))


def test_a_training_date_can_be_given_but_not_in_the_future_or_malformed(sh):
    apply_as(sh)
    sh("/as casey", "/press Approve")
    refusal = (
        "[bot -> casey, only you] Give the training date as YYYY-MM-DD, on or before today, "
        "such as /allyadmin trained @name 2026-03-01."
    )
    for bad in ("2026-03-03", "2026-13-01", "2026-02-30", "01/02/2026", "yesterday"):
        assert sh(f"/allyadmin trained finn {bad}").splitlines() == [refusal], bad
        assert (profile(sh, "finn").status, profile(sh, "finn").trained_on) == ("onboarding", None)
    out = sh("/allyadmin trained finn 2026-02-01")
    assert "Training on 01 Feb 2026 recorded for Finn. Their status: active." in out
    assert (profile(sh, "finn").status, profile(sh, "finn").trained_on) == (
        "active",
        date(2026, 2, 1),
    )


def test_training_older_than_the_renewal_period_shows_as_due_in_the_roster(sh):
    # START is 2026-03-02 and training_renewal_days is 365
    sh("/as casey", "/allyadmin trained ali 2025-03-01", "/allyadmin trained bo 2025-03-02")
    out = sh("/allyadmin trained cam 2026-02-01", "/allyadmin roster")
    assert (
        "[bot -> casey, only you] Ali (Engineering) · active · trained 01 Mar 2025, renewal due · "
        "0 of 2 conversations open"
    ) in out
    assert "Bo (Finance) · active · trained 02 Mar 2025 · 0 of 1 conversations open" in out
    assert "Cam (Sales) · active · trained 01 Feb 2026 · 0 of 2 conversations open" in out
    assert "Eli (Operations) · active · trained 10 Feb 2026 · 0 of 1 conversations open" in out
    assert out.count("renewal due") == 1


# --- /allystatus --------------------------------------------------------------------------------
def test_away_until_a_date_then_the_ally_is_welcomed_back(sh):
    out = sh("/as ali", "/allystatus away until 2026-03-04")
    assert "[bot -> ali, only you] Your ally status: away until Wed 04 Mar 2026 · " in out
    assert profile(sh, "ali").available is False
    out = sh("/as eve", "/findally", "/press Talk to an ally", "/press workload")
    assert to(out, "ali") == []  # ali has workload, but is away
    assert to(sh("/wait 1d"), "ali") == []
    out = sh("/wait 1d")
    assert "[bot -> ali, DM] Welcome back. Your away date has come" in out
    ali = profile(sh, "ali")
    assert (ali.available, ali.away_until) == (True, None)
    assert "Your ally status: available ·" in sh("/as ali", "/allystatus")


@pytest.mark.parametrize(
    "when",
    ["2026-03-01", "2026-03-02", "2027-03-03", "2026-02-30", "05/03/2026", "2026-3-5", "soon", ""],
    ids=["past", "today", "too-far", "no-such-day", "dmy", "short", "word", "missing"],
)
def test_a_bad_away_date_is_refused_and_changes_nothing(sh, when):
    before = state(sh, "ali")
    out = sh("/as ali", f"/allystatus away until {when}")
    assert out.splitlines()[1:] == [
        "[bot -> ali, only you] Give the day you will be back as /allystatus away until "
        "YYYY-MM-DD: a date after today and no more than 365 days ahead. Or type just "
        "/allystatus away."
    ]
    assert state(sh, "ali") == before
    with sh.bot.db.session() as session:
        assert session.exec(select(Timer)).all() == []


def test_the_furthest_away_date_is_a_year_ahead(sh):
    out = sh("/as ali", "/allystatus away until 2027-03-02")
    assert "Your ally status: away until Tue 02 Mar 2027" in out


def test_topics_languages_hours_and_listing(sh):
    sh("/as ali")
    assert "Topics: stress, grief ·" in sh("/allystatus topics stress, grief")
    assert profile(sh, "ali").topics == ["stress", "grief"]
    assert "Topics: none yet ·" in sh("/allystatus topics none")
    assert profile(sh, "ali").topics == []
    assert "Languages: English, Welsh ·" in sh("/allystatus languages English, Welsh")
    assert profile(sh, "ali").languages == ["English", "Welsh"]
    out = sh("/allystatus hours 09:00-17:00")
    assert "[bot -> ali, only you] Offers reach you between 09:00 and 17:00 (Europe/London)." in out
    assert (profile(sh, "ali").hours_start, profile(sh, "ali").hours_end) == ("09:00", "17:00")
    assert "Listed in /allies: yes" in sh("/allystatus")
    assert "Listed in /allies: no" in sh("/allystatus listed no")
    assert profile(sh, "ali").listed is False
    assert "Ali" not in sh("/as eve", "/allies")
    assert "Listed in /allies: yes" in sh("/as ali", "/allystatus listed yes")
    assert "[bot -> eve, only you] Ali · Engineering" in sh("/as eve", "/allies")


def test_hostile_values_stay_literal(sh):
    hostile = "<!channel>, *bold*, <https://evil.example|click>"
    out = sh("/as ali", f"/allystatus topics {hostile}")
    assert f"Topics: {hostile} ·" in out
    assert "(https://evil.example)" not in out  # not made into a link
    assert profile(sh, "ali").topics == ["<!channel>", "*bold*", "<https://evil.example|click>"]
    out = sh("/as eve", "/allies")
    assert f"[bot -> eve, only you] Topics: {hostile} · Languages: none yet" in out
    assert "(https://evil.example)" not in out


@pytest.mark.parametrize("line", ["/allystatus", "/allystatus away", "/allystepdown"])
def test_allystatus_and_allystepdown_are_for_allies(sh, line):
    out = sh("/as gus", line)
    assert out.splitlines()[1:] == [
        "[bot -> gus, only you] This is for allies, and you are not one at the moment. If you "
        "would like to become one, type /allyapply."
    ]
    with sh.bot.db.session() as session:
        assert session.get(AllyProfile, person_id(sh, "gus")) is None


# --- the directory ------------------------------------------------------------------------------
def test_the_directory_lists_only_active_listed_allies(sh):
    apply_as(sh)  # finn: onboarding
    sh("/as casey", "/press Approve", "/allyadmin pause bo")
    sh("/allyadmin remove eli", "/press Yes, remove")
    sh("/as cam", "/allystatus listed no")
    sh("/as dee", "/allystatus languages English, BSL")
    out = sh("/as gus", "/allies")
    assert to(out, "gus") == [
        "[bot -> gus, only you] Our mental health allies (2)",
        "[bot -> gus, only you] Ali · Engineering",
        "[bot -> gus, only you] Topics: stress, workload · Languages: none yet",
        "[bot -> gus, only you] Dee · Engineering",
        "[bot -> gus, only you] Topics: neurodiversity · Languages: English, BSL",
        "[bot -> gus, only you]   (Allies are trained colleagues, not counsellors. To talk to one "
        "privately, use /findally: nobody else is told that you asked.)",
        "[bot -> gus, only you] [1] Talk to an ally",
    ]


def test_the_directory_never_shows_who_is_away_or_busy(sh):
    before = sh("/as gus", "/allies")
    sh("/as ali", "/allystatus capacity 1")
    sh("/as eve", "/findally", "/press Talk to an ally", "/press workload")
    sh("/as ali", "/press Accept", "/allystatus away")
    assert (profile(sh, "ali").open_count, profile(sh, "ali").available) == (1, False)
    assert sh("/as gus", "/allies") == before
    for word in ("away", "available", "open", "capacity"):
        assert word not in before.lower()


# --- stepping down ------------------------------------------------------------------------------
def test_choosing_to_stay_changes_nothing(sh):
    ask_cam_for_anxiety(sh)
    before = state(sh, "cam")
    out = sh("/as cam", "/allystepdown")
    assert "[bot -> cam, only you] Step down as an ally?" in out
    assert "[bot -> cam, only you] [1] Yes, step down  [2] No, stay an ally" in out
    out = sh("/press No, stay an ally")
    assert out.splitlines() == ["[bot -> cam, only you] Good to have you. Nothing has changed."]
    assert state(sh, "cam") == before
    assert offers(sh) == [("cam", "pending")]


def test_stepping_down_hands_a_waiting_offer_to_the_next_ally(sh):
    ask_cam_for_anxiety(sh)
    out = sh("/as cam", "/allystepdown", "/press Yes, step down")
    assert "[bot -> cam, only you] You have stepped down." in out
    assert "[bot -> #coordinators] Cam has stepped down as an ally." in out
    assert "[bot -> casey, DM] Cam has stepped down as an ally." in out
    assert (profile(sh, "cam").status, profile(sh, "cam").available) == ("stepped_down", False)
    assert_offer_handed_on(sh, out)
    assert "not one at the moment" in sh("/as cam", "/allystatus")
    assert "Cam" not in sh("/as gus", "/allies")


def test_coordinator_pause_resume_and_remove_by_command(sh):
    ask_cam_for_anxiety(sh)
    out = sh("/as casey", "/allyadmin pause cam")
    assert "[bot -> cam, DM] A coordinator has paused your ally role" in out
    assert "[bot -> casey, only you] Cam is now paused. They have been told." in out
    assert profile(sh, "cam").status == "paused"
    assert_offer_handed_on(sh, out)
    out = sh("/as casey", "/allyadmin resume cam")
    assert "[bot -> cam, DM] A coordinator has resumed your ally role." in out
    assert profile(sh, "cam").status == "active"
    out = sh("/allyadmin remove @cam")
    assert to(out, "cam") == [] and profile(sh, "cam").status == "active"  # asked to confirm
    out = sh("/press Yes, remove")
    assert "[bot -> cam, DM] A coordinator has ended your ally role" in out
    assert (
        "[bot -> casey, only you] Cam is now removed from the network. They have been told." in out
    )
    assert (profile(sh, "cam").status, profile(sh, "cam").available) == ("removed", False)
    out = sh("/allyadmin resume cam")
    assert out.splitlines() == [
        "[bot -> casey, only you] I could not find an ally called cam. Mention them as @name, or "
        "use /allyadmin roster."
    ]


def test_coordinator_pause_resume_and_remove_by_roster_buttons(sh):
    sh("/as casey", "/allyadmin roster")
    out = press_roster(sh, "Pause", "bo")
    assert "[bot -> bo, DM] A coordinator has paused your ally role" in out
    assert profile(sh, "bo").status == "paused"
    out = sh("/allyadmin roster")
    assert "Bo (Finance) · paused · trained " in out
    out = press_roster(sh, "Resume", "bo")
    assert "[bot -> bo, DM] A coordinator has resumed your ally role." in out
    assert profile(sh, "bo").status == "active"
    ask_cam_for_anxiety(sh)
    sh("/as casey", "/allyadmin roster")
    out = press_roster(sh, "Remove", "cam")
    assert to(out, "cam") == [] and profile(sh, "cam").status == "active"
    assert "[bot -> casey, only you] Remove Cam from the ally network?" in out
    assert "[bot -> casey, only you] [1] Yes, remove  [2] No, keep them" in out
    assert "The ally roster (5)" in sh("/press No, keep them")
    assert profile(sh, "cam").status == "active" and offers(sh) == [("cam", "pending")]
    press_roster(sh, "Remove", "cam")
    out = sh("/press Yes, remove")
    assert "[bot -> cam, DM] A coordinator has ended your ally role" in out
    assert profile(sh, "cam").status == "removed"
    assert_offer_handed_on(sh, out)
    assert "Cam" not in sh("/as casey", "/allyadmin roster")


# --- allybot allies export ----------------------------------------------------------------------
def allybot(db_url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_"))}
    env.pop("ALLYBOT_CONFIG", None)
    env["DATABASE_URL"] = db_url
    env["ALLYBOT_DATA_DIR"] = str(tmp_path / "data")
    return cli_process.run(["allies", *args], cwd=ROOT, env=env)


def export(sh: ShellDriver, tmp_path: Path) -> str:
    result = allybot(sh.bot.db.url, tmp_path, "export")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def test_export_prints_every_ally_as_csv(sh, tmp_path):
    sh("/as casey", "/allyadmin trained ali 2026-02-01", "/allyadmin pause bo")
    sh("/as ali", "/allystatus languages English, Welsh", "/allystatus listed no")
    text = export(sh, tmp_path)
    lines = text.splitlines()
    assert lines[0] == EXPORT_HEADER
    assert lines[1:] == [
        "shell,ali,Ali,Engineering,stress; workload,2,English; Welsh,active,no,2026-02-01,0",
        "shell,bo,Bo,Finance,grief; parenting,1,,paused,yes,2025-06-30,0",
        "shell,cam,Cam,Sales,anxiety; LGBTQ+,2,,active,yes,2025-11-03,0",
        "shell,dee,Dee,Engineering,neurodiversity,1,,active,yes,2024-09-12,0",
        "shell,eli,Eli,Operations,money worries; stress,1,,active,yes,2026-02-10,0",
    ]
    path = tmp_path / "roster.csv"
    result = allybot(sh.bot.db.url, tmp_path, "export", "--output", str(path))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"exported 5 allies to {path}\n"
    assert path.read_text(encoding="utf-8") == text


def test_export_guards_formulas_and_imports_back_unchanged(sh, tmp_path):
    formula = '=HYPERLINK("https://evil.example","x")'
    dispatch(sh, Command("allystatus", "", Actor("shell", "ali", name=formula)))
    sh("/as ali", "/allystatus topics -stress, grief")
    sh("/as casey", "/allyadmin remove eli", "/press Yes, remove")  # removed stay removed
    sh("/as bo", "/allystepdown", "/press Yes, step down")
    first = export(sh, tmp_path)
    rows = list(csv.DictReader(io.StringIO(first)))
    ali = next(r for r in rows if r["user"] == "ali")
    assert ali["name"] == "'" + formula and ali["topics"] == "'-stress; grief"
    assert {r["user"]: r["status"] for r in rows}["eli"] == "removed"
    path = tmp_path / "roster.csv"
    path.write_text(first, encoding="utf-8")
    result = allybot(sh.bot.db.url, tmp_path, "import", str(path))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"imported 5 allies from {path}\n"
    with sh.bot.db.session() as session:
        name = session.get(Person, person_id(sh, "ali")).display_name
    assert name == formula and profile(sh, "ali").topics == ["-stress", "grief"]
    assert export(sh, tmp_path) == first
    assert (profile(sh, "eli").status, profile(sh, "bo").status) == ("removed", "stepped_down")
    with sh.bot.db.session() as session:
        assert len(session.exec(select(Person)).all()) == 10
        assert session.exec(select(SupportRequest)).all() == []
