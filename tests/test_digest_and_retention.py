"""The weekly coordinator digest, `allybot stats` and the daily retention job, on SQLite and
PostgreSQL.

Time only moves with the shell's /wait or the bot's clock plus plan_calendar(). History is
built as real rows in real storage; what is checked is what a coordinator reads and which rows
are left in the database.
"""

from __future__ import annotations

import os
import re
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from bot.app import AllyBot
from bot.config import REPO_ROOT, AppConfig, load_app_config
from handlers.findally import FOLLOW_UP
from handlers.stats import week_of
from handlers.yamlfile import ProblemsFound
from storage.db import Database
from storage.models import (
    Application,
    AuditLog,
    Checkpoint,
    Conversation,
    Delivery,
    FollowUp,
    FollowUpAnswer,
    Offer,
    Person,
    ProcessedEvent,
    SupportRequest,
    Timer,
)
from tests import cli_process
from tests.conftest import START, ShellDriver, make_bot

ROOT = Path(__file__).resolve().parent.parent
APP_YAML = (REPO_ROOT / "app.yaml").read_text(encoding="utf-8")
PRIVACY_NOTE = "The digest never names anyone who asked for help."
TOPICS = (
    "anxiety",
    "grief",
    "LGBTQ+",
    "money worries",
    "neurodiversity",
    "parenting",
    "stress",
    "workload",
)
DEMO_NAMES = ("Casey", "Ali", "Bo", "Cam", "Dee", "Eli", "Eve", "Finn", "Gus", "Hana")
# The first digest after START (Mon 2 Mar 10:00): Mon 9 Mar 09:00 in London (GMT, so UTC).
DIGEST_AT = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
WINDOW_START = DIGEST_AT - timedelta(days=7)
# The first daily job after START runs at 03:00 London on Tuesday; we run it at 03:30.
DAILY_RUN = datetime(2026, 3, 3, 3, 30, tzinfo=UTC)


# --- helpers ---------------------------------------------------------------------------------
def base_config() -> AppConfig:
    return load_app_config(REPO_ROOT / "app.yaml")


def people(bot: AllyBot) -> dict[str, int]:
    with bot.db.session() as session:
        return {p.platform_user_id: p.id for p in session.exec(select(Person))}


def add(bot: AllyBot, *rows: object) -> None:
    """Insert rows in one transaction; their ids are filled in (sessions do not expire)."""
    with bot.db.session() as session:
        for row in rows:
            session.add(row)
        session.flush()


def exists(bot: AllyBot, table: type, key: object) -> bool:
    with bot.db.session() as session:
        return session.get(table, key) is not None


def request(
    requester: int,
    status: str,
    created: datetime,
    *,
    matched: datetime | None = None,
    closed: datetime | None = None,
    waited: bool = False,
    ally: int | None = None,
) -> SupportRequest:
    is_open = status in ("offering", "waiting", "matched")
    return SupportRequest(
        requester_id=requester,
        open_key=requester if is_open else None,
        status=status,
        waited=waited,
        ally_id=ally,
        created_at=created,
        matched_at=matched,
        closed_at=closed,
    )


def application(person: int, status: str, submitted: datetime, decided: datetime | None):
    is_open = status in ("pending", "more_info")
    return Application(
        person_id=person,
        open_key=person if is_open else None,
        status=status,
        answers="sealed",
        consented_at=submitted,
        submitted_at=submitted,
        decided_at=decided,
    )


def offer(request_id: int, ally: int, status: str, at: datetime) -> Offer:
    return Offer(request_id=request_id, ally_id=ally, status=status, created_at=at, expires_at=at)


def draft(person: int, expires: datetime, application_id: int | None = None) -> Conversation:
    return Conversation(
        person_id=person,
        flow="apply",
        step="role",
        answers="sealed",
        application_id=application_id,
        started_at=expires - timedelta(days=30),
        updated_at=expires - timedelta(days=30),
        expires_at=expires,
    )


def move_to(*bots: AllyBot, at: datetime) -> None:
    for bot in bots:
        bot.clock.advance(at - bot.clock.now())


def digests(out: str) -> dict[str, list[str]]:
    """Each digest in the shell output, by where it went: its lines without the prefix."""
    found: dict[str, list[str]] = {}
    lines = out.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^\[bot -> ([^\]]+)\] Ally network: the week of ", line)
        if not m:
            continue
        prefix = f"[bot -> {m.group(1)}] "
        body = []
        for following in lines[i:]:
            assert following.startswith(prefix), following
            body.append(following.removeprefix(prefix))
            if PRIVACY_NOTE in following:
                break
        assert m.group(1) not in found, f"a second digest to {m.group(1)}"
        found[m.group(1)] = body
    return found


def digest_rows(bot: AllyBot) -> list[tuple[str, str, str, datetime | None]]:
    with bot.db.session() as session:
        rows = session.exec(
            select(Delivery)
            .where(Delivery.message == "digest")
            .order_by(col(Delivery.occurrence), col(Delivery.target))
        ).all()
        return [(r.occurrence, r.target, r.status, r.sent_at) for r in rows]


def daily_rows(bot: AllyBot) -> list[tuple[str, str, str]]:
    with bot.db.session() as session:
        rows = session.exec(
            select(Delivery).where(Delivery.message == "daily").order_by(col(Delivery.occurrence))
        ).all()
        return [(r.occurrence, r.target, r.status) for r in rows]


Figure = str | tuple[str, str, str]  # the week's, the last 13 weeks' and the year's


def numbers(
    requests: Figure, handoffs: Figure, no_ally: Figure, answers: Figure, applications: str
) -> list[str]:
    """The digest's figures as a coordinator reads them: the week's, then in brackets the last
    13 weeks' and the year's (one value: the same for all three). The demo has 5 active
    allies, 4 of them with room now."""

    def line(label: str, figure: Figure, sep: str = ": ") -> str:
        week, quarter, year = figure if isinstance(figure, tuple) else (figure,) * 3
        return f"{label}{sep}{week} (last 13 weeks: {quarter} · this year: {year})"

    return [
        line("Requests for support", requests),
        line("Conversations handed to an ally", handoffs),
        line("Requests that found no ally straight away", no_ally),
        line("Follow-up answers", answers),
        "Active allies: 5, with room for a conversation now: fewer than 5",
        f"Applications waiting for a decision: {applications}",
    ]


def this_period(lines: list[str]) -> dict[str, str]:
    """Each figure of the period itself (before the brackets), by its label."""
    return {
        m.group(1): m.group(2)
        for line in lines
        if (m := re.match(r"^(.+?): (.+?)(?: \(last 13 weeks: .*)?$", line))
    }


def app_yaml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "app.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def allybot(tmp_path: Path, database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_"))}
    env["ALLYBOT_CONFIG"] = str(REPO_ROOT / "app.yaml")
    env["DATABASE_URL"] = database_url
    env["ALLYBOT_DATA_DIR"] = str(tmp_path / "data")
    return cli_process.run(list(args), cwd=ROOT, env=env)


# --- the weekly digest -------------------------------------------------------------------------
def test_the_digest_goes_out_monday_0900_local_once_to_the_channel_and_by_dm(sh, bot):
    casey = people(bot)["casey"]
    out = sh("/wait 7d")
    titles = [line for line in out.splitlines() if "Ally network: the week of" in line]
    assert titles == [
        "[bot -> #coordinators] Ally network: the week of 02 Mar to 09 Mar 2026",
        "[bot -> casey, DM] Ally network: the week of 02 Mar to 09 Mar 2026",
    ]
    sent = [
        ("2026-03-09T09:00", "#coordinators", "sent", DIGEST_AT),
        ("2026-03-09T09:00", f"dm:{casey}", "sent", DIGEST_AT),
    ]
    assert digest_rows(bot) == sent

    # Running the calendar again, or a second scheduler that read the checkpoint before the
    # first moved it, records nothing new: the rows are unique per occurrence and target.
    bot.router.plan_calendar()
    with bot.db.session() as session:
        session.get(Checkpoint, "calendar").at = DIGEST_AT - timedelta(hours=1)
    bot.router.plan_calendar()
    again = bot.router.claim_posts()
    assert not [i for i in again if "Ally network" in i.message.fallback_text()]
    assert "Ally network" not in sh("/wait 1h")
    assert digest_rows(bot) == sent


def test_the_digest_keeps_to_0900_london_time_across_the_clock_change(sh, bot):
    out = sh("/wait 28d")  # British Summer Time starts on Sunday 29 March 2026
    assert out.count("[bot -> #coordinators] Ally network: the week of") == 4
    assert "[bot -> casey, DM] Ally network: the week of 23 Mar to 30 Mar 2026" in out
    channel = [(occ, sent) for occ, target, _, sent in digest_rows(bot) if target[0] == "#"]
    assert channel == [
        ("2026-03-09T09:00", datetime(2026, 3, 9, 9, 0, tzinfo=UTC)),
        ("2026-03-16T09:00", datetime(2026, 3, 16, 9, 0, tzinfo=UTC)),
        ("2026-03-23T09:00", datetime(2026, 3, 23, 9, 0, tzinfo=UTC)),
        ("2026-03-30T09:00", datetime(2026, 3, 30, 8, 0, tzinfo=UTC)),  # 09:00 BST
    ]


def test_the_digest_counts_its_own_week_and_hides_counts_below_five(sh, bot):
    who = people(bot)
    eve, ali = who["eve"], who["ali"]
    rows: list[object] = []
    for i in range(7):  # 7 requests in the week; 5 handed to an ally; 6 found nobody at first
        created = datetime(2026, 3, 4, 12, 0, tzinfo=UTC) + timedelta(hours=i)
        matched = created + timedelta(minutes=20) if i < 5 else None
        rows.append(
            request(
                eve,
                "finished" if matched else "cancelled",
                created,
                matched=matched,
                closed=created + timedelta(days=1),
                waited=i < 6,
                ally=ali if matched else None,
            )
        )
    # Outside the window (from 09:00 on 2 March, exclusive, to 09:00 on 9 March): just before
    # it, at the very moment it opens (last week's digest counted that one), and after it.
    for created in (
        WINDOW_START - timedelta(minutes=1),
        WINDOW_START,
        DIGEST_AT + timedelta(minutes=30),
    ):
        rows.append(
            request(
                eve, "finished", created, matched=created, closed=created, waited=True, ally=ali
            )
        )
    # Answers are kept by week: the week of 2 March is this digest's; 23 February was last
    # week's digest's and 9 March is next week's.
    rows += [FollowUpAnswer(score=s, week_of=date(2026, 3, 2)) for s in (5, 4, 4, 3, 5)]
    rows.append(FollowUpAnswer(score=1, week_of=date(2026, 2, 23)))
    rows += [FollowUpAnswer(score=s, week_of=date(2026, 3, 9)) for s in (1, 2, 2, 1, 2)]
    submitted = START - timedelta(days=3)
    rows += [
        application(who["finn"], "pending", submitted, None),
        application(who["gus"], "pending", submitted, None),
        application(who["hana"], "more_info", submitted, submitted + timedelta(days=1)),
        application(who["cam"], "declined", submitted, submitted + timedelta(days=1)),
    ]
    add(bot, *rows)

    found = digests(sh("/wait 7d"))
    assert set(found) == {"#coordinators", "casey, DM"}
    for body in found.values():
        assert body[0] == "Ally network: the week of 02 Mar to 09 Mar 2026"
        # the last 13 weeks and the year so far take in the two from just before the week
        # (in bands of five, so that comparing two digests cannot give a week's small count)
        assert body[1:7] == numbers(
            requests=("7", "5 to 9", "5 to 9"),
            handoffs=("5", "5 to 9", "5 to 9"),
            no_ally=("6", "5 to 9", "5 to 9"),
            answers=("5, average 4.2 out of 5",) + ("5 to 9, average 3.5 out of 5",) * 2,
            applications="fewer than 5",
        )
        assert body[7] == (
            '  (Numbers below 5 are shown as "fewer than 5", and the longer periods in bands of '
            "5, so that nobody can be picked out by comparing one digest with the next. The "
            "digest never names anyone who asked for help.)"
        )

    # The next week's digest counts only what belongs to its own week: nothing is counted twice.
    found = digests(sh("/wait 7d"))
    assert found["#coordinators"][0] == "Ally network: the week of 09 Mar to 16 Mar 2026"
    assert found["#coordinators"][1:7] == numbers(
        requests=("fewer than 5", "10 to 14", "10 to 14"),
        handoffs=("fewer than 5", "5 to 9", "5 to 9"),
        no_ally=("fewer than 5", "5 to 9", "5 to 9"),
        answers=("5, average 1.6 out of 5",) + ("10 to 14, average 2.5 out of 5",) * 2,
        applications="fewer than 5",
    )


@pytest.mark.parametrize(
    ("n", "shown", "answers"),
    [
        (0, "fewer than 5", "fewer than 5, too few to show an average"),
        (4, "fewer than 5", "fewer than 5, too few to show an average"),
        (5, "5", "5, average 3.0 out of 5"),
    ],
)
def test_every_count_below_five_reads_fewer_than_five(bot, n, shown, answers):
    who = people(bot)
    eve, ali = who["eve"], who["ali"]
    created = START - timedelta(hours=2)
    rows: list[object] = [
        request(eve, "finished", created, matched=created, closed=created, waited=True, ally=ali)
        for _ in range(n)
    ]
    rows += [FollowUpAnswer(score=3, week_of=date(2026, 2, 23)) for _ in range(n)]  # last week
    rows += [
        application(who[name], "pending", created, None) for name in ("finn", "gus", "hana")[:n]
    ]
    add(bot, *rows)
    lines = bot.router.stats(7).fallback_text().splitlines()
    assert lines[0] == "Ally network: from 23 Feb 2026 to 02 Mar 2026"
    if n >= 5:  # the 13 weeks and the year come in bands
        shown = (shown, "5 to 9", "5 to 9")
        answers = (answers, "5 to 9, average 3.0 out of 5", "5 to 9, average 3.0 out of 5")
    assert lines[1:7] == numbers(shown, shown, shown, answers, "fewer than 5")


def test_nothing_in_the_digest_can_identify_who_asked(sh, bot):
    with bot.db.session() as session:
        eve = session.exec(select(Person).where(Person.platform_user_id == "eve")).one()
        eve.display_name = "Zephyrine Quillfeather"
        eve.department = "Cryptozoology"
        session.add(eve)
    for topic, anonymous in [
        ("grief", False),
        ("anxiety", False),
        ("workload", False),
        ("money worries", False),
        ("LGBTQ+", True),
    ]:
        out = sh("/as eve", "/findally", "/press Talk to an ally")
        if anonymous:
            out = sh("/press Stay anonymous")
        out = sh(f"/press {topic}")
        asked = re.search(r"\[bot -> (\w+), DM\] (Someone|A colleague) would like to talk", out)
        assert asked, out
        accepted = sh(f"/as {asked.group(1)}", "/press Accept")
        introduced = "has accepted" if anonymous else "Zephyrine Quillfeather, meet"
        assert introduced in accepted, accepted
        # An anonymous pair talks through the relay, and ending it finishes the request.
        finish = "End conversation" if anonymous else "Mark as finished"
        closed = "You have ended the conversation." if anonymous else "This request is now closed."
        assert closed in sh(f"/press {finish}")
    with bot.db.session() as session:
        closed = session.exec(select(SupportRequest).where(SupportRequest.status == "finished"))
        assert len(closed.all()) == 5

    out = sh("/wait 7d")
    found = digests(out)
    assert set(found) == {"#coordinators", "casey, DM"}
    text = "\n".join("\n".join(body) for body in found.values())
    assert "Requests for support: 5" in text  # the requests are counted ...
    assert "Conversations handed to an ally: 5" in text
    for word in ("Zephyrine", "Quillfeather", "Cryptozoology", "Engineering", *DEMO_NAMES):
        assert not re.search(rf"\b{re.escape(word)}\b", text, re.IGNORECASE), word  # ... not who
    for topic in TOPICS:
        assert topic.casefold() not in text.casefold(), topic  # ... nor what about


def test_digest_off_sends_no_digest_but_everything_else_runs(db):
    coordinators = base_config().coordinators.model_copy(update={"digest": "off"})
    bot = make_bot(db, coordinators=coordinators)
    out = ShellDriver(bot)("/wait 8d")
    assert "Ally network" not in out
    assert digest_rows(bot) == []
    # the coordinators are still told other things, and the daily job still ran every day
    assert "[bot -> #coordinators] Dee's ally training was due for renewal" in out
    assert len(daily_rows(bot)) == 8


def test_the_digest_day_and_time_come_from_app_yaml(db):
    coordinators = base_config().coordinators.model_copy(update={"digest": "friday 17:30"})
    bot = make_bot(db, coordinators=coordinators)
    casey = people(bot)["casey"]
    out = ShellDriver(bot)("/wait 7d")
    assert out.count("Ally network: the week of 27 Feb to 06 Mar 2026") == 2
    friday = datetime(2026, 3, 6, 17, 30, tzinfo=UTC)
    assert digest_rows(bot) == [
        ("2026-03-06T17:30", "#coordinators", "sent", friday),
        ("2026-03-06T17:30", f"dm:{casey}", "sent", friday),
    ]


@pytest.mark.parametrize(
    "value",
    ["someday 9am", "monday 9am", "monday", "every monday 09:00", "monday 24:00", "weekly"],
)
def test_a_bad_digest_schedule_is_rejected_with_a_clear_message(tmp_path, value):
    text = APP_YAML.replace("digest: monday 09:00", f"digest: {value}")
    path = app_yaml(tmp_path, text)
    with pytest.raises(ProblemsFound) as caught:
        load_app_config(path)
    [problem] = caught.value.problems
    assert (problem.file, problem.line) == (str(path), line_of(text, "digest:"))
    assert problem.message == (
        f"coordinators.digest: Value error, {value!r} is not a day and time such as "
        "`monday 09:00` (or `off`)"
    )
    assert problem.fix == "correct the value of `coordinators.digest`"


@pytest.mark.parametrize(
    ("value", "read_as"), [("Monday 09:00", "monday 09:00"), ('"off"', "off"), ("'OFF'", "off")]
)
def test_good_digest_schedules_are_accepted(tmp_path, value, read_as):
    path = app_yaml(tmp_path, APP_YAML.replace("digest: monday 09:00", f"digest: {value}"))
    assert load_app_config(path).coordinators.digest == read_as


def test_digest_off_written_as_app_yaml_suggests_is_accepted(tmp_path):
    assert "digest: monday 09:00          # weekly digest of numbers (never names); or `off`" in (
        APP_YAML
    )
    path = app_yaml(tmp_path, APP_YAML.replace("digest: monday 09:00", "digest: off"))
    assert load_app_config(path).coordinators.digest == "off"


def test_the_digest_title_uses_the_organisations_dates(db):
    organisation = base_config().organisation.model_copy(update={"timezone": "Australia/Sydney"})
    bot = make_bot(db, organisation=organisation)
    out = ShellDriver(bot)("/wait 7d")
    # Monday 9 March 09:00 in Sydney (AEDT) is Sunday 8 March 22:00 UTC
    assert [occ for occ, *_ in digest_rows(bot)] == ["2026-03-09T09:00"] * 2
    assert "[bot -> #coordinators] Ally network: the week of 02 Mar to 09 Mar 2026" in out


# --- allybot stats -------------------------------------------------------------------------------
def test_allybot_stats_prints_the_digest_numbers(db, tmp_path):
    bot = make_bot(db)
    who = people(bot)
    eve, ali = who["eve"], who["ali"]
    now = datetime.now(UTC)  # the command line runs on the real clock
    rows: list[object] = []
    for i in range(7):
        created = now - timedelta(days=3, hours=i)
        matched = created + timedelta(minutes=5) if i < 5 else None
        rows.append(
            request(
                eve,
                "finished" if matched else "cancelled",
                created,
                matched=matched,
                closed=created + timedelta(hours=1),
                waited=i < 6,
                ally=ali if matched else None,
            )
        )
    eight_days_ago = now - timedelta(days=8)
    rows.append(
        request(eve, "finished", eight_days_ago, matched=eight_days_ago, closed=now, ally=ali)
    )
    last_week = week_of(now.date() - timedelta(days=7))  # the last whole week in the window
    rows += [FollowUpAnswer(score=s, week_of=last_week) for s in (2, 3, 4, 4, 5)]
    rows.append(FollowUpAnswer(score=5, week_of=last_week - timedelta(days=7)))
    rows += [application(who[p], "pending", now - timedelta(days=1), None) for p in ("finn", "gus")]
    add(bot, *rows)

    result = allybot(tmp_path, db.url, "stats")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    london = ZoneInfo("Europe/London")
    week_ago = f"{(now - timedelta(days=7)).astimezone(london):%d %b %Y}"
    assert lines[0] == f"Ally network: from {week_ago} to {now.astimezone(london):%d %b %Y}"
    assert this_period(lines[1:7]) == {
        "Requests for support": "7",
        "Conversations handed to an ally": "5",
        "Requests that found no ally straight away": "6",
        "Follow-up answers": "5, average 3.6 out of 5",
        "Active allies": "5, with room for a conversation now: fewer than 5",
        "Applications waiting for a decision": "fewer than 5",
    }
    assert "(last 13 weeks: 5 to 9 · this year: " in lines[1]  # the request from eight days ago
    assert PRIVACY_NOTE in result.stdout
    assert "Traceback" not in result.stderr

    # a longer look back takes in the request from eight days ago, and says so in its title
    result = allybot(tmp_path, db.url, "stats", "--days", "30")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    month_ago = f"{(now - timedelta(days=30)).astimezone(london):%d %b %Y}"
    assert lines[0] == f"Ally network: from {month_ago} to {now.astimezone(london):%d %b %Y}"
    assert this_period(lines)["Requests for support"] == "8"


@pytest.mark.parametrize("days", ["0", "999", "-7"])
def test_allybot_stats_refuses_a_window_out_of_range_plainly(tmp_path, days):
    database = tmp_path / "stats.db"
    result = allybot(tmp_path, f"sqlite:///{database}", "stats", "--days", days)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == "--days must be between 1 and 366\n"
    assert not database.exists()  # refused before touching any database


# --- retention -----------------------------------------------------------------------------------
def test_the_daily_job_deletes_exactly_what_is_past_retention(bot):
    """app.yaml: requests_days 90, applications_days 90, audit_days 365, events_hours 48."""
    who = people(bot)
    bot.router.plan_calendar()  # the calendar counts from START
    t = DAILY_RUN
    old, recent = t - timedelta(days=91), t - timedelta(days=89)
    long_ago = t - timedelta(days=400)

    gone_requests = [
        request(who["eve"], "finished", old - timedelta(days=30), matched=old, closed=old),
        request(who["eve"], "cancelled", old - timedelta(days=1), closed=old),
    ]
    kept_requests = [
        request(who["eve"], "finished", recent - timedelta(days=9), closed=recent),
        request(who["eve"], "cancelled", recent - timedelta(days=1), closed=recent),
        request(who["finn"], "waiting", long_ago, waited=True),  # open: kept however old
        request(who["gus"], "matched", long_ago, matched=long_ago, ally=who["ali"]),
        request(who["hana"], "offering", long_ago),
    ]
    gone_apps = [
        application(who["finn"], "declined", old - timedelta(days=9), old),
        application(who["gus"], "withdrawn", old - timedelta(days=9), old),
    ]
    kept_apps = [
        application(who["finn"], "declined", recent - timedelta(days=9), recent),
        application(who["gus"], "withdrawn", recent - timedelta(days=9), recent),
        application(who["hana"], "pending", long_ago, None),  # open: kept however old
        application(who["eve"], "more_info", long_ago, long_ago + timedelta(days=1)),
        application(who["cam"], "approved", long_ago, long_ago + timedelta(days=1)),
    ]
    add(bot, *gone_requests, *kept_requests, *gone_apps, *kept_apps)

    ali = who["ali"]
    finished_old, cancelled_old = gone_requests
    finished_recent, _, waiting, matched, _ = kept_requests
    gone_links = [
        offer(finished_old.id, ali, "accepted", old),
        offer(cancelled_old.id, ali, "withdrawn", old),
        # asked after the request was closed, so it goes because its request goes
        FollowUp(request_id=finished_old.id, asked_at=recent),
    ]
    kept_links = [
        offer(finished_recent.id, ali, "accepted", recent),
        offer(waiting.id, ali, "expired", long_ago),
        offer(matched.id, ali, "accepted", long_ago),
        FollowUp(request_id=finished_recent.id, asked_at=recent),
        FollowUp(request_id=matched.id, asked_at=t - timedelta(days=1)),
    ]
    gone_other = [
        draft(who["finn"], expires=t - timedelta(minutes=1)),
        Timer(kind=FOLLOW_UP, subject_id=1, due_at=old, status="done", finished_at=old),
        Timer(kind=FOLLOW_UP, subject_id=2, due_at=old, status="failed", finished_at=old),
        ProcessedEvent(event_id="old-event", received_at=t - timedelta(hours=49)),
        AuditLog(at=t - timedelta(days=366), kind="command", name="old-audit", outcome="ok"),
    ]
    kept_other = [
        draft(who["gus"], expires=t + timedelta(hours=1)),
        Timer(kind=FOLLOW_UP, subject_id=3, due_at=recent, status="done", finished_at=recent),
        Timer(kind=FOLLOW_UP, subject_id=4, due_at=long_ago, status="pending", key="kept:4"),
        ProcessedEvent(event_id="new-event", received_at=t - timedelta(hours=47)),
        AuditLog(at=t - timedelta(days=364), kind="command", name="new-audit", outcome="ok"),
        FollowUpAnswer(score=4, week_of=week_of(long_ago.date())),  # anonymous: kept
    ]
    add(bot, *gone_links, *kept_links, *gone_other, *kept_other)

    def keys(rows: list) -> list[tuple[type, object]]:
        return [(type(r), r.event_id if isinstance(r, ProcessedEvent) else r.id) for r in rows]

    gone = keys([*gone_requests, *gone_apps, *gone_links, *gone_other])
    kept = keys([*kept_requests, *kept_apps, *kept_links, *kept_other])
    assert all(exists(bot, table, key) for table, key in gone + kept)

    move_to(bot, at=t - timedelta(hours=1))  # 02:30: not yet
    bot.router.plan_calendar()
    assert all(exists(bot, table, key) for table, key in gone)

    move_to(bot, at=t)  # 03:30: the daily job has fallen due
    bot.router.plan_calendar()
    assert [(table.__name__, key) for table, key in gone if exists(bot, table, key)] == []
    assert [(table.__name__, key) for table, key in kept if not exists(bot, table, key)] == []
    assert daily_rows(bot) == [("2026-03-03T03:00", "task", "sent")]


def test_an_expired_update_draft_does_not_stop_retention(bot):
    who = people(bot)
    bot.router.plan_calendar()
    t = DAILY_RUN
    # A coordinator asked for more information, the applicant opened the update, then the
    # application was declined; the update draft expired long ago but is still there.
    submitted, decided = t - timedelta(days=200), t - timedelta(days=150)
    declined = application(who["finn"], "declined", submitted, decided)
    add(bot, declined)
    stale = draft(who["finn"], expires=t - timedelta(days=120), application_id=declined.id)
    event = ProcessedEvent(event_id="old-event", received_at=t - timedelta(days=3))
    add(bot, stale, event)

    move_to(bot, at=t)
    bot.router.plan_calendar()
    assert not exists(bot, ProcessedEvent, "old-event")
    assert not exists(bot, Conversation, stale.id)
    assert not exists(bot, Application, declined.id)


def test_legacy_retention_days_sets_requests_and_applications_days(db, tmp_path):
    legacy = re.sub(r"\nretention:.*\Z", "\nretention_days: 30\n", APP_YAML, flags=re.S)
    assert "requests_days" not in legacy and "retention_days: 30" in legacy
    config = load_app_config(app_yaml(tmp_path, legacy))
    assert config.retention.requests_days == 30
    assert config.retention.applications_days == 30
    assert (config.retention.audit_days, config.retention.events_hours) == (365, 48)

    bot = make_bot(db, retention=config.retention)
    who = people(bot)
    bot.router.plan_calendar()
    t = DAILY_RUN
    old, recent = t - timedelta(days=31), t - timedelta(days=29)
    rows = [
        request(who["eve"], "finished", old, closed=old),
        request(who["eve"], "finished", recent, closed=recent),
        application(who["finn"], "declined", old, old),
        application(who["gus"], "declined", recent, recent),
    ]
    add(bot, *rows)
    move_to(bot, at=t)
    bot.router.plan_calendar()
    assert [exists(bot, type(r), r.id) for r in rows] == [False, True, False, True]


def test_a_bad_legacy_retention_days_points_at_its_own_line(tmp_path):
    legacy = re.sub(r"\nretention:.*\Z", "\nretention_days: 3\n", APP_YAML, flags=re.S)
    path = app_yaml(tmp_path, legacy)
    with pytest.raises(ProblemsFound) as caught:
        load_app_config(path)
    where = f"{path}:{line_of(legacy, 'retention_days')}: "
    assert all(str(p).startswith(where) for p in caught.value.problems), caught.value
    assert all("retention_days" in str(p) for p in caught.value.problems), caught.value


def test_the_daily_job_runs_once_a_day_with_two_bots_on_one_database(db):
    first = make_bot(db)
    second_db = Database(db.url)
    try:
        second = make_bot(second_db, seed=False)
        first.router.plan_calendar()
        move_to(first, second, at=DAILY_RUN)
        first.router.plan_calendar()
        assert daily_rows(first) == [("2026-03-03T03:00", "task", "sent")]

        # A canary older than events_hours: any further run of today's job would delete it.
        canary = ProcessedEvent(event_id="canary", received_at=DAILY_RUN - timedelta(hours=72))
        add(first, canary)
        second.router.plan_calendar()  # after the first: nothing is due for it
        # ... and as if it had read the checkpoint before the first bot moved it (a race)
        with second.db.session() as session:
            session.get(Checkpoint, "calendar").at = START
        second.router.plan_calendar()
        first.router.plan_calendar()
        assert exists(first, ProcessedEvent, "canary")
        assert daily_rows(second) == [("2026-03-03T03:00", "task", "sent")]

        # The next day it runs again, once, whichever bot gets there first.
        move_to(first, second, at=DAILY_RUN + timedelta(days=1))
        second.router.plan_calendar()
        first.router.plan_calendar()
        assert not exists(first, ProcessedEvent, "canary")
        assert daily_rows(first) == [
            ("2026-03-03T03:00", "task", "sent"),
            ("2026-03-04T03:00", "task", "sent"),
        ]
    finally:
        second_db.dispose()


def test_the_last_13_weeks_and_the_year_so_far_each_keep_the_fewer_than_five_rule(sh, bot):
    eve = people(bot)["eve"]
    december = [datetime(2025, 12, 15, 12, tzinfo=UTC) + timedelta(hours=i) for i in range(5)]
    january = [datetime(2026, 1, 20, 12, tzinfo=UTC) + timedelta(hours=i) for i in range(2)]
    this_week = [datetime(2026, 3, 4, 12, tzinfo=UTC)]
    too_old = [datetime(2025, 12, 8, 8, 59, tzinfo=UTC)]  # 13 weeks before 9 March 09:00, less 1m
    add(bot, *(request(eve, "cancelled", t, closed=t) for t in december + january + this_week))
    add(bot, *(request(eve, "cancelled", t, closed=t) for t in too_old))

    found = digests(sh("/wait 7d"))
    for body in found.values():
        # the week: 1; the 13 weeks since 8 December: 8; the year since 1 January: 3
        assert body[1] == (
            "Requests for support: fewer than 5 (last 13 weeks: 5 to 9 · this year: fewer than 5)"
        )
        assert body[3] == (
            "Requests that found no ally straight away: fewer than 5 "
            "(last 13 weeks: fewer than 5 · this year: fewer than 5)"
        )


def test_allybot_stats_titles_the_period_it_was_asked_for(bot):
    for days, start in [(1, "01 Mar 2026"), (7, "23 Feb 2026"), (30, "31 Jan 2026")]:
        title = bot.router.stats(days).fallback_text().splitlines()[0]
        assert title == f"Ally network: from {start} to 02 Mar 2026"
        assert "week" not in title
