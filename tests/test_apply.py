"""The ally application questionnaire, as an applicant and the coordinators live it: driven
through the real shell and the real router on SQLite and PostgreSQL, and across a killed and
restarted `allybot shell` process."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import select as sa_select
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel, select

from bot.events import Action, Actor, Text
from bot.messages import Button, Section
from storage.models import Application, Conversation, Person

ROOT = Path(__file__).resolve().parent.parent
ME = "[bot -> finn, DM] "
PRIVACY = "Before you start: what happens to your answers"
CONSENT_BUTTONS = (
    "[1] I understand, let's start  [2] Role description and training  [3] Cancel my application"
)
ROLE_HEADING = "Being a mental health ally at Example Co"
STALE = "That button is from an earlier step, so nothing changed. Here is where you are now:"
SAVED = f"{ME}Saved.\n"
LABELS = (
    "Name",
    "Job title",
    "Department or school",
    "Email",
    "Why you would like to be an ally",
    "Skills and experience",
    "Support you would need",
    "Why it matters at work",
)
ANSWERS = {
    "name": "Finn",
    "title": "Analyst",
    "department": "Finance",
    "email": "finn@example.com",
    "why": "Colleagues often come to me already",
    "skills": "I listen well and I am patient",
    "support": "An hour a month with a coordinator",
    "matters": "Everyone has a hard week sometimes",
}
# What finn types (or presses) to answer questions 1 to 8, in order.
TYPED = (
    "/press Use “Finn”",
    ANSWERS["title"],
    "/press Use “Finance”",
    ANSWERS["email"],
    ANSWERS["why"],
    ANSWERS["skills"],
    ANSWERS["support"],
    ANSWERS["matters"],
)
REVIEW = 9  # the step after question 8
HOSTILE = {
    "why": "<!channel>",
    "skills": "<https://evil.example|click me>",
    "matters": "*bold*",
}
MARKER = "MARKER-7f3a"


# --- helpers: what finn sees -------------------------------------------------------------------
def heading(number: int) -> str:
    return f"{ME}Question {number} of 8 · {LABELS[number - 1]}\n"


def answer_block(prefix: str, answers: dict[str, str | None]) -> str:
    """Every label followed by its answer, as the review (or the coordinators' copy) prints them."""
    return "".join(
        f"{prefix}{label}\n{prefix}{answers.get(qid) or '(skipped)'}\n"
        for label, qid in zip(LABELS, ANSWERS, strict=True)
    )


def to_question(sh, number: int) -> str:
    """As finn, start an application, consent, and answer up to (not including) `number`."""
    out = sh("/as finn", "/allyapply", "/press I understand", *TYPED[: number - 1])
    assert (heading(number) if number < REVIEW else f"{ME}Here is your application.") in out
    return out


def button(sh, label: str) -> Button:
    """The button called `label` on the current persona's latest message."""
    latest = sh.shell.latest[sh.shell.persona.id]
    return next(b for b in latest if b.label.startswith(label))


def send(sh, event) -> str:
    """Dispatch one event through the real router and print what it sends, as the shell does."""
    start = sh.buffer.tell()
    sh.shell.deliver(sh.bot.router.dispatch(event))
    sh.buffer.seek(start)
    return sh.buffer.read()


def replay(sh, pressed: Button) -> str:
    """Press a button finn was shown earlier, as a fresh click on the platform."""
    return send(sh, Action(pressed.action, pressed.value, Actor("shell", "finn")))


# --- helpers: what is stored -------------------------------------------------------------------
def conversation(bot, who: str = "finn") -> Conversation | None:
    with bot.db.session() as session:
        return session.exec(
            select(Conversation)
            .join(Person, Person.id == Conversation.person_id)
            .where(Person.platform_user_id == who)
        ).first()


def progress(bot, who: str = "finn") -> tuple | None:
    """(step, revision, decrypted answers) of the application in progress, or None."""
    conv = conversation(bot, who)
    if conv is None:
        return None
    return conv.step, conv.revision, bot.router.sealer.open(conv.answers)


def applications(bot) -> list[Application]:
    with bot.db.session() as session:
        return list(session.exec(select(Application)))


def every_row(bot) -> str:
    """Every row of every table, as text."""
    with bot.db.session() as session:
        return "\n".join(
            str(row)
            for table in SQLModel.metadata.sorted_tables
            for row in session.execute(sa_select(table)).all()
        )


def sqlite_bytes(db) -> bytes:
    """The raw bytes of the SQLite database file and its write-ahead log."""
    path = Path(make_url(db.url).database)
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


# --- ways in and the role ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "lines",
    [
        ("apply",),
        ("Become an ally!",),
        ("/allyapply",),
        ("hello", "/press Apply to become an ally"),
    ],
    ids=["dm-apply", "dm-become-an-ally", "command", "help-button"],
)
def test_every_way_in_shows_the_privacy_notice_and_consent_buttons(sh, lines):
    out = sh("/as finn", *lines)
    assert f"{ME}{PRIVACY}\n" in out
    assert "are encrypted in our database" in out
    assert f"{ME}{CONSENT_BUTTONS}\n" in out
    assert progress(sh.bot) == ("consent", 0, {})
    out = sh("/press I understand")
    assert heading(1) in out
    assert f"{ME}[1] Use “Finn”  [2] Back  [3] Cancel my application" in out
    assert progress(sh.bot)[0] == "name"


@pytest.mark.parametrize(
    "lines",
    [("role",), ("hello", "/press Role description and training"), ("/allyapply role",)],
    ids=["dm-role", "help-button", "command"],
)
def test_role_description_before_applying(sh, lines):
    out = sh("/as finn", *lines)
    assert f"{ME}{ROLE_HEADING}\n" in out
    assert f"{ME}Training\n" in out and "Mental Health First Aid" in out
    assert "{organisation}" not in out and "#" not in out
    assert f"{ME}[1] Apply to become an ally\n" in out
    assert conversation(sh.bot) is None  # reading about the role starts nothing


@pytest.mark.parametrize("line", ["role", "/press Role description and training"])
def test_role_description_in_the_middle_shows_the_current_question_again(sh, line):
    to_question(sh, 2)
    before = progress(sh.bot)
    out = sh(line)
    assert f"{ME}{ROLE_HEADING}\n" in out and "{organisation}" not in out
    assert f"{ME}When you are ready, carry on with your application:\n{heading(2)}" in out
    assert progress(sh.bot) == before


# --- the whole way through ---------------------------------------------------------------------
def test_happy_path_to_the_coordinators(sh):
    out = to_question(sh, 2)
    assert SAVED + heading(2) in out  # "Use “Finn”" was pressed
    for number, line in enumerate(TYPED[1:], start=2):
        out = sh(line)
        assert out.startswith(SAVED), line
        assert (heading(number + 1) if number < 8 else f"{ME}Here is your application.") in out
    assert answer_block(ME, ANSWERS) in out
    assert f"{ME}[1] Send my application  [2] Cancel my application\n" in out
    assert f"{ME}[3] Change: Name  [4] Change: Job title" in out
    assert progress(sh.bot) == ("review", 9, ANSWERS)

    out = sh("/press Send my application")
    assert f"{ME}Thank you, your application is on its way to the coordinators." in out
    prefix = "[bot -> casey, DM] "  # the whole application goes only where it is private
    assert f"{prefix}Application to become an ally: Finn · sent 02 Mar 2026\n" in out
    assert answer_block(prefix, ANSWERS) in out
    assert f"{prefix}[1] Approve  [2] Decline  [3] Ask for more information\n" in out
    channel = [line for line in out.splitlines() if line.startswith("[bot -> #coordinators]")]
    assert channel[1:] == ["[bot -> #coordinators] [1] Review it"]
    assert "Finn" not in channel[0] and "application" in channel[0]
    assert conversation(sh.bot) is None
    [app] = applications(sh.bot)
    assert (app.status, app.open_key) == ("pending", app.person_id)
    assert sh.bot.router.sealer.open(app.answers) == ANSWERS


# --- back, skip, cancel, help, status ----------------------------------------------------------
def test_back_goes_to_the_previous_question_and_stops_at_the_first(sh):
    to_question(sh, 3)
    assert sh("back").startswith(heading(2))
    assert sh("/press Back").startswith(heading(1))
    out = sh("/press Back")
    assert out.startswith(f"{ME}This is the first question, so there is nothing to go back to.\n")
    assert heading(1) in out
    assert progress(sh.bot)[0] == "name"
    # from the review, back is the last question, with the answer so far
    sh(*TYPED)
    out = sh("back")
    assert out.startswith(heading(8))
    assert f"{ME}Your answer so far: {ANSWERS['matters']}\n" in out
    assert "[1] Keep my answer  [2] Back" in out
    assert progress(sh.bot)[0] == "matters"


def test_only_the_optional_question_can_be_skipped(sh):
    to_question(sh, 1)
    before = progress(sh.bot)
    out = sh("skip")
    assert out.startswith(f"{ME}This one cannot be skipped, because the coordinators need it.")
    assert heading(1) in out
    assert progress(sh.bot) == before
    sh(*TYPED[:6])
    out = sh("/press Skip")
    assert out.startswith(SAVED + heading(8))
    step, _, answers = progress(sh.bot)
    assert (step, answers["support"]) == ("matters", None)
    out = sh(ANSWERS["matters"])
    assert answer_block(ME, {**ANSWERS, "support": None}) in out


@pytest.mark.parametrize("line", ["cancel", "/press Cancel my application"])
def test_cancel_deletes_everything(sh, line):
    to_question(sh, 4)
    out = sh(line)
    assert out == (
        f"{ME}Your application is cancelled and everything you typed has been deleted. "
        "You can start again any time with /allyapply.\n"
    )
    with sh.bot.db.session() as session:
        assert session.exec(select(Conversation)).all() == []
    assert applications(sh.bot) == []
    assert f"{ME}{PRIVACY}" in sh("/allyapply")  # a fresh start
    assert progress(sh.bot) == ("consent", 0, {})


def test_help_explains_and_shows_the_question_again(sh):
    to_question(sh, 3)
    before = progress(sh.bot)
    out = sh("help")
    assert out.startswith(f"{ME}How this works: answer each question in a message to me.")
    assert heading(3) in out
    assert progress(sh.bot) == before


def test_status_says_where_the_applicant_is(sh):
    assert "You have not started the questions yet." in sh("/as finn", "/allyapply", "status")
    out = sh("/press I understand", *TYPED[:2], "status")
    assert (
        f"{ME}You are on question 3 of 8 (Department or school). "
        f"Everything you have answered so far is saved.\n{heading(3)}"
    ) in out
    sh(*TYPED[2:])
    assert sh("status").startswith(f"{ME}You have answered all 8 questions.")


# --- validation --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("number", "text", "expected"),
    [
        (1, "   ", "This question needs an answer."),
        (7, "\x00 \t", "Type your answer here, or type skip to leave this one out."),
        (1, "N" * 121, "That answer is 121 characters, and this question takes up to 120."),
        (5, "y" * 1501, "That answer is 1501 characters, and this question takes up to 1500."),
    ],
    ids=["empty", "empty-optional", "name-121", "text-1501"],
)
def test_an_empty_or_too_long_answer_is_refused_and_nothing_is_saved(sh, number, text, expected):
    to_question(sh, number)
    before = progress(sh.bot)
    out = send(sh, Text(text, Actor("shell", "finn")))
    assert out.startswith(f"{ME}{expected}")
    assert heading(number) in out
    assert progress(sh.bot) == before


def test_an_answer_of_exactly_the_maximum_is_accepted(sh):
    to_question(sh, 5)
    assert sh("y" * 1500).startswith(SAVED + heading(6))
    assert progress(sh.bot)[2]["why"] == "y" * 1500


@pytest.mark.parametrize("email", ["bad", "a@b", "<mailto:x@y.com|x>", "finn@example.com extra"])
def test_a_bad_email_is_refused(sh, email):
    to_question(sh, 4)
    before = progress(sh.bot)
    out = sh(email)
    assert out.startswith(
        f"{ME}That does not look like an email address. Please type it as name@example.com.\n"
    )
    assert heading(4) in out
    assert progress(sh.bot) == before


def test_a_good_email_is_accepted(sh):
    to_question(sh, 4)
    assert sh("finn.o'neil+ally@example.co.uk").startswith(SAVED + heading(5))
    assert progress(sh.bot)[2]["email"] == "finn.o'neil+ally@example.co.uk"


def test_hostile_answers_are_stored_and_shown_literally(sh):
    to_question(sh, 5)
    sh(HOSTILE["why"], HOSTILE["skills"], "skip")
    out = sh(HOSTILE["matters"])
    shown = {**ANSWERS, "support": None, **HOSTILE}
    assert answer_block(ME, shown) in out
    assert progress(sh.bot)[2] == shown
    # in the neutral message the answers are plain spans: no link, no bold, no mention
    sent = sh.bot.router.dispatch(Text("status", Actor("shell", "finn")))
    spans = [s for o in sent for b in o.message.blocks if isinstance(b, Section) for s in b.text]
    for answer in HOSTILE.values():
        [span] = [s for s in spans if s.text == answer]
        assert span.url is None and not span.bold, answer
    out = sh("/press Send my application")
    assert answer_block("[bot -> casey, DM] ", shown) in out


# --- the review --------------------------------------------------------------------------------
def test_changing_an_answer_from_the_review_returns_to_the_review(sh):
    to_question(sh, REVIEW)
    out = sh("/press Change: Email")
    assert out.startswith(heading(4))
    assert progress(sh.bot)[0] == "email"
    out = sh("finn.new@example.com")
    assert out.startswith(f"{SAVED}{ME}Here is your application.")
    assert heading(5) not in out
    changed = {**ANSWERS, "email": "finn.new@example.com"}
    assert answer_block(ME, changed) in out
    assert progress(sh.bot)[::2] == ("review", changed)


# --- replayed and stale buttons ----------------------------------------------------------------
def test_buttons_from_an_earlier_step_change_nothing(sh):
    sh("/as finn", "/allyapply")
    old = [button(sh, "I understand"), button(sh, "Cancel my application")]
    sh("/press I understand")
    old.append(button(sh, "Use “Finn”"))
    sh("Finnegan")
    before = progress(sh.bot)
    assert before[::2] == ("title", {"name": "Finnegan"})
    for pressed in old:
        out = replay(sh, pressed)
        assert out.startswith(f"{ME}{STALE}\n{heading(2)}"), pressed.label
        assert progress(sh.bot) == before, pressed.label


def test_pressing_submit_twice_sends_one_application(sh):
    to_question(sh, REVIEW)
    submit = button(sh, "Send my application")
    first = replay(sh, submit)
    assert "[bot -> casey, DM] Application to become an ally: Finn" in first
    second = replay(sh, submit)
    assert second.startswith(ME) and "is with the coordinators" in second
    assert "#coordinators" not in second and "casey" not in second
    assert len(applications(sh.bot)) == 1


# --- one application per person ----------------------------------------------------------------
def test_applying_again_in_the_middle_resumes_at_the_same_step(sh):
    to_question(sh, 3)
    before = progress(sh.bot)
    out = sh("/allyapply")
    assert out.startswith(
        f"{ME}Welcome back. Your application is just as you left it. Here is where you were:\n"
        + heading(3)
    )
    assert progress(sh.bot) == before


def test_after_sending_applying_again_says_it_is_with_the_coordinators(sh):
    to_question(sh, REVIEW)
    sh("submit")
    out = sh("/allyapply")
    assert out == (
        f"{ME}Your application from 02 Mar 2026 is with the coordinators. They will message you "
        "here. To withdraw it, type /allyapply withdraw.\n"
    )
    assert conversation(sh.bot) is None and len(applications(sh.bot)) == 1


@pytest.mark.parametrize("line", ["/allyapply", "apply"])
def test_an_existing_ally_is_told_they_are_already_an_ally(sh, line):
    sh("/as ali")
    out = sh(line)
    assert out.startswith("[bot -> ali, DM] You are already an ally.")
    assert PRIVACY not in out
    assert conversation(sh.bot, "ali") is None


def test_withdrawing_a_pending_application(sh):
    to_question(sh, REVIEW)
    sh("submit")
    out = sh("/allyapply withdraw")
    assert f"{ME}Your application is withdrawn and its answers are deleted." in out
    for prefix in ("[bot -> #coordinators] ", "[bot -> casey, DM] "):
        said = f"{prefix}An application to become an ally has been withdrawn by the applicant.\n"
        assert said in out
    [app] = applications(sh.bot)
    assert (app.status, app.open_key) == ("withdrawn", None)
    assert sh.bot.router.sealer.open(app.answers) == {}
    assert sh("/allyapply withdraw") == f"{ME}You have no application to withdraw.\n"
    assert f"{ME}{PRIVACY}" in sh("/allyapply")  # welcome to apply again


# --- encryption at rest ------------------------------------------------------------------------
def assert_marker_nowhere(sh, db, caplog) -> None:
    """The marker is in no row, in no byte of the SQLite files, and in no log record."""
    rows = every_row(sh.bot)
    assert "Finance" in rows  # the scan does read the data
    assert MARKER not in rows
    if db.is_sqlite:
        raw = sqlite_bytes(db)
        assert b"Finance" in raw
        assert MARKER.encode() not in raw
    assert MARKER not in caplog.text


def test_answers_are_encrypted_at_rest(sh, db, caplog):
    caplog.set_level(logging.DEBUG)
    to_question(sh, 2)
    sh(f"Analyst {MARKER}", *TYPED[2:4], f"Because {MARKER} matters")
    assert progress(sh.bot)[0] == "skills"
    assert_marker_nowhere(sh, db, caplog)  # in progress
    assert "Thank you, your application" in sh(*TYPED[5:], "submit")
    assert_marker_nowhere(sh, db, caplog)  # sent
    [app] = applications(sh.bot)
    answers = sh.bot.router.sealer.open(app.answers)
    assert answers["title"] == f"Analyst {MARKER}"
    assert answers["why"] == f"Because {MARKER} matters"


# --- time --------------------------------------------------------------------------------------
def test_an_application_left_too_long_is_deleted_when_it_expires(sh):
    to_question(sh, 3)
    sh("/wait 29d")
    assert "You are on question 3 of 8" in sh("status")
    out = sh("/wait 2d")  # 31 days after the last answer
    assert (
        f"{ME}Your unfinished application to become an ally was left for 30 days, so it has "
        "been deleted with its answers." in out
    )
    assert conversation(sh.bot) is None
    out = sh("hello")
    assert "Hi, I am allybot." in out  # "hello" is then an ordinary message
    out = sh("apply")
    assert f"{ME}{PRIVACY}" in out and "Welcome back" not in out
    assert progress(sh.bot)[::2] == ("consent", {})


# --- a killed process ----------------------------------------------------------------------------
RESTART_STEPS = (  # line typed, then what is printed once it is handled
    ("/as finn", "[shell] You are now finn."),
    ("/allyapply", CONSENT_BUTTONS),
    ("/press 1", "Question 1 of 8"),
    ("/press Use “Finn”", "Question 2 of 8"),
    (ANSWERS["title"], "Question 3 of 8"),
    ("/press Use “Finance”", "Question 4 of 8"),
    (ANSWERS["email"], "Question 5 of 8"),
)


def cli_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_"))}
    env.pop("ALLYBOT_CONFIG", None)
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'restart.db'}"
    env["ALLYBOT_DATA_DIR"] = str(tmp_path / "data")
    return env


def start_shell(tmp_path: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "shell"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        bufsize=1,
        cwd=ROOT,
        env=cli_env(tmp_path),
    )


def read_until(proc: subprocess.Popen, wanted: str, most: int = 200) -> str:
    """Read printed lines until one holds `wanted`; end of output (a killed or stuck process,
    see the watchdog) or `most` lines without it fails the test."""
    seen = []
    for _ in range(most):
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if wanted in line:
            return "".join(seen)
    raise AssertionError(f"never printed {wanted!r}; printed:\n{''.join(seen)}")


def test_a_killed_shell_resumes_where_the_applicant_stopped(tmp_path):
    seeded = subprocess.run(
        [sys.executable, "-m", "bot", "demo"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=cli_env(tmp_path),
        timeout=120,
    )
    assert seeded.returncode == 0, seeded.stderr
    proc = start_shell(tmp_path)
    watchdog = threading.Timer(120, proc.kill)  # a stuck process ends, and read_until fails
    watchdog.start()
    try:
        read_until(proc, "allybot shell for Example Co.")
        for line, printed in RESTART_STEPS:
            proc.stdin.write(line + "\n")
            proc.stdin.flush()
            read_until(proc, printed)
        proc.kill()  # SIGKILL in the middle of the questionnaire
        assert proc.wait(timeout=30) == -9
    finally:
        watchdog.cancel()
        proc.kill()
        proc.wait(timeout=30)

    proc = start_shell(tmp_path)
    try:
        lines = ["/as finn", "status", *TYPED[4:]]
        out, _ = proc.communicate("".join(f"{line}\n" for line in lines), timeout=120)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert f"{ME}You are on question 5 of 8 (Why you would like to be an ally)." in out
    assert answer_block(ME, ANSWERS) in out
