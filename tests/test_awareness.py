"""The awareness calendar and the weekly tips, as the channel and the coordinators see them:
schedules written in words, posts at their time and only once (across restarts and two
schedulers), the grace window, channels, start and end dates, and the `/allyadmin awareness`
desk. Real shell, real router, real SQLite and PostgreSQL; time moves only with the bot's
clock or the shell's /wait."""

from __future__ import annotations

import dataclasses
import logging
import re
import shutil
import threading
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from bot.app import AllyBot, build
from bot.clock import Clock
from bot.config import REPO_ROOT, Awareness, Settings, load_settings
from bot.events import Action, Actor, Command
from bot.messages import Channel, OnlyYou, Outgoing
from handlers import when
from handlers.content import CONTENT_DIR, AwarenessItem, Content, Tip, load_content
from handlers.yamlfile import ProblemsFound
from storage.db import Database
from storage.models import AuditLog, Checkpoint, Delivery, Person
from tests.conftest import START, ShellDriver, make_bot

LONDON = ZoneInfo("Europe/London")
CONTENT = load_content()
SERIES = next(i for i in CONTENT.awareness if i.id == "weekly-tips")
TIP_IDS = [t.id for t in SERIES.tips]
TIP_BY_TEXT = {t.text: t.id for t in SERIES.tips}
GENERAL = "[bot -> #general] "
TIP_HEADING = f"{GENERAL}{SERIES.title}"
CASEY_SEES = "[bot -> casey, only you] "
CASEY = Actor("shell", "casey")
EVE = Actor("shell", "eve")
WED = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)  # the first weekly tip after START (GMT)
REFUSED = "/allyadmin is for the network's coordinators, so nothing changed."
_ENTRY = re.compile(
    rf"^{re.escape(CASEY_SEES)}(\w{{3}} \d{{2}} \w{{3}} \d{{4}} \d{{2}}:\d{{2}}) · (.+?) · (.+)$"
)


# --- helpers -----------------------------------------------------------------------------------
def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def move_to(bot: AllyBot, at: datetime) -> None:
    bot.clock.advance(at - bot.clock.now())


def tips_posted(out: str, channel: str = "general") -> list[str]:
    """The tip ids a channel saw, in order: the line under each heading is the tip's text."""
    prefix = f"[bot -> #{channel}] "
    lines = out.splitlines()
    return [
        TIP_BY_TEXT[lines[i + 1].removeprefix(prefix)]
        for i, line in enumerate(lines)
        if line == f"{prefix}{SERIES.title}"
    ]


def tip_of(item: Outgoing) -> str:
    text = item.message.fallback_text()
    [tip] = [t.id for t in SERIES.tips if t.text in text]
    return tip


def rows(bot: AllyBot, message: str | None = None) -> list[Delivery]:
    with bot.db.session() as session:
        query = select(Delivery).order_by(col(Delivery.id))
        if message is not None:
            query = query.where(Delivery.message == message)
        return list(session.exec(query).all())


def desk(out: str) -> list[tuple[str, str, str]]:
    """(when, title, channels) for each entry of the awareness desk, as casey sees it."""
    return [m.groups() for line in out.splitlines() if (m := _ENTRY.match(line))]


def person_id(bot: AllyBot, name: str) -> int:
    with bot.db.session() as session:
        return session.exec(select(Person.id).where(Person.platform_user_id == name)).one()


def content_with(*extra: AwarenessItem, **series_changes: object) -> Content:
    """The shipped content with the weekly tips changed and/or more items added."""
    items = tuple(
        i.model_copy(update=series_changes) if i.id == SERIES.id else i for i in CONTENT.awareness
    )
    return dataclasses.replace(CONTENT, awareness=items + extra)


def bot_with(database: Database, content: Content) -> AllyBot:
    """Like conftest's make_bot, with this content/ instead of the shipped one."""
    settings = load_settings({"ALLYBOT_CONFIG": str(REPO_ROOT / "app.yaml")})
    settings = Settings(**{**settings.__dict__, "database_url": database.url})
    bot = build(settings, clock=Clock(START), content=content, migrate=False)
    bot.db.dispose()
    bot.db = database
    bot.router.db = database
    bot.seed_demo()
    return bot


def send_due(bot: AllyBot) -> list[Outgoing]:
    """One scheduler run: record what fell due, claim it, "send" it, mark it sent."""
    bot.router.plan_calendar()
    sent = []
    for item in bot.router.claim_posts():
        sent.append(item)
        assert item.posting is not None
        bot.router.posted(item.posting, True)
    return sent


def occurrences(rule, after: datetime, count: int) -> list[datetime]:
    return [
        t.astimezone(UTC)
        for t in islice(when.between(rule, after, after.replace(year=2031)), count)
    ]


# --- 1. schedules written in words -------------------------------------------------------------
@pytest.mark.parametrize(
    ("spec", "fields", "after", "first"),
    [
        (
            {"when": "10 October"},
            {"month": "10", "day": "10"},
            START,
            [utc(2026, 10, 10, 9), utc(2027, 10, 10, 9), utc(2028, 10, 10, 9)],  # BST
        ),
        (
            {"when": "October 10"},
            {"month": "10", "day": "10"},
            START,
            [utc(2026, 10, 10, 9), utc(2027, 10, 10, 9), utc(2028, 10, 10, 9)],
        ),
        (
            {"when": "first Thursday of February"},
            {"day": "1st thu", "month": "2"},
            utc(2026, 1, 1),
            [utc(2026, 2, 5, 10), utc(2027, 2, 4, 10), utc(2028, 2, 3, 10)],
        ),
        (
            {"when": "every Wednesday"},
            {"day_of_week": "wed"},
            START,
            [
                utc(2026, 3, 4, 10),
                utc(2026, 3, 11, 10),
                utc(2026, 3, 18, 10),
                utc(2026, 3, 25, 10),
                utc(2026, 4, 1, 9),  # clocks went forward on 29 March: still 10:00 in London
            ],
        ),
        (
            {"when": "third Sunday of June", "days_before": 6},
            {"day": "3rd sun", "month": "6"},
            START,
            [utc(2026, 6, 15, 9), utc(2027, 6, 14, 9), utc(2028, 6, 12, 9)],  # Mondays, BST
        ),
        (
            {"when": "first Monday of every month"},
            {"day": "1st mon"},
            START,  # START itself is the first Monday of March at 10:00: not after it
            [utc(2026, 4, 6, 9), utc(2026, 5, 4, 9), utc(2026, 6, 1, 9)],
        ),
        (
            {"when": "last Friday in June"},
            {"day": "last fri", "month": "6"},
            START,
            [utc(2026, 6, 26, 9), utc(2027, 6, 25, 9), utc(2028, 6, 30, 9)],
        ),
        (
            {"cron": "30 9 * * mon-fri"},
            None,
            START,
            [
                utc(2026, 3, 3, 9, 30),
                utc(2026, 3, 4, 9, 30),
                utc(2026, 3, 5, 9, 30),
                utc(2026, 3, 6, 9, 30),
                utc(2026, 3, 9, 9, 30),  # the weekend skipped
            ],
        ),
    ],
    ids=[
        "date",
        "month-first",
        "nth-weekday",
        "weekly",
        "days-before",
        "monthly",
        "last-weekday",
        "crontab",
    ],
)
def test_a_schedule_in_words_fires_at_the_right_local_times(spec, fields, after, first):
    if "when" in spec:
        assert when.fields(spec["when"]) == fields
    else:
        when.crontab(spec["cron"])  # accepted as it is
    rule = when.trigger(LONDON, at="10:00", **spec)
    assert occurrences(rule, after, len(first)) == first
    assert when.next_after(rule, after).astimezone(UTC) == first[0]


def test_the_shipped_mens_health_week_posts_on_the_monday_that_starts_it():
    item = next(i for i in CONTENT.awareness if i.id == "mens-health-week")
    rule = when.trigger(LONDON, item.when, "10:00", item.cron, item.days_before)
    at = when.next_after(rule, START)
    assert at.astimezone(UTC) == utc(2026, 6, 15, 9)
    assert f"{at.astimezone(LONDON):%A %d %B %H:%M}" == "Monday 15 June 10:00"
    assert when.occurrence_key(at, LONDON) == "2026-06-15T10:00"


@pytest.mark.parametrize(
    ("check", "said", "explained"),
    [
        (when.fields, "31 February", "February has no day 31"),
        (when.fields, "31 April", "April has no day 31"),
        (when.fields, "fifth Monday of May", "is not a schedule I can read"),
        (when.fields, "someday", "write a date such as `10 October`"),
        (when.fields, "", "is not a schedule I can read"),
        (when.crontab, "0 10 * * 1", "write weekdays as names (mon, tue, ...), not numbers"),
        (when.crontab, "0 10 * *", "needs 5 fields: minute hour day month weekday"),
    ],
)
def test_a_schedule_the_bot_cannot_read_is_refused_with_what_to_write(check, said, explained):
    with pytest.raises(ValueError) as refused:
        check(said)
    assert explained in str(refused.value)
    assert repr(said) in str(refused.value)  # it quotes what was written


# --- 2. `allybot check` points at the broken entry ---------------------------------------------
def _copy_content(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, root)
    return root


def test_a_copy_of_the_shipped_content_loads_with_all_twelve_awareness_entries(tmp_path):
    loaded = load_content(_copy_content(tmp_path))
    assert [i.id for i in loaded.awareness] == [i.id for i in CONTENT.awareness]
    assert len(loaded.awareness) == 12


STRESS_ITEM = "  - id: stress-awareness-month"
STRESS_WHEN = "    when: 1 April\n"


@pytest.mark.parametrize(
    ("old", "new", "shown", "anchor", "message"),
    [
        (
            STRESS_WHEN,
            "    when: 31 April\n",
            "days.yaml",
            STRESS_ITEM,
            "'31 April': April has no day 31",
        ),
        (
            STRESS_WHEN,
            STRESS_WHEN + "    cron: 0 10 1 apr *\n",
            "days.yaml",
            STRESS_ITEM,
            "stress-awareness-month: give exactly one of `when` and `cron`",
        ),
        (
            STRESS_WHEN,
            "    cron: 0 10 1 4 3\n",
            "days.yaml",
            STRESS_ITEM,
            "write weekdays as names",
        ),
        (
            STRESS_ITEM + "\n",
            "  - id: weekly-tips\n",
            "weekly-tips.yaml",
            "  - id: weekly-tips",
            "id `weekly-tips` is used in content/awareness/days.yaml too",
        ),
        (
            STRESS_WHEN,
            STRESS_WHEN + "    tips:\n      - id: breathe\n        text: Breathe out slowly.\n",
            "days.yaml",
            STRESS_ITEM,
            "stress-awareness-month: give either `text` or a list of `tips`",
        ),
        (
            STRESS_WHEN,
            STRESS_WHEN + "    starts: 2026-05-01\n    ends: 2026-04-01\n",
            "days.yaml",
            STRESS_ITEM,
            "stress-awareness-month: `ends` is before `starts`",
        ),
    ],
    ids=["bad-date", "when-and-cron", "numeric-weekday", "duplicate-id", "text-and-tips", "ends"],
)
def test_a_broken_awareness_entry_is_reported_with_file_line_and_fix(
    tmp_path, old, new, shown, anchor, message
):
    root = _copy_content(tmp_path)
    days = root / "awareness" / "days.yaml"
    text = days.read_text(encoding="utf-8")
    assert text.count(old) == 1
    days.write_text(text.replace(old, new), encoding="utf-8")
    reported = (root / "awareness" / shown).read_text(encoding="utf-8").splitlines()
    line = reported.index(anchor) + 1

    with pytest.raises(ProblemsFound) as found:
        load_content(root)

    assert len(found.value.problems) == 1
    said = str(found.value)
    assert said.startswith(f"content/awareness/{shown}:{line}: ")
    assert message in said
    assert "\n    fix: " in said


# --- 3. a weekly tip posts once, at its time ---------------------------------------------------
def test_a_weekly_tip_posts_exactly_once_at_its_time(sh):
    out = sh("/wait 2d")

    assert out.count(TIP_HEADING) == 1
    assert tips_posted(out) == ["notice-changes"]
    assert f"{GENERAL}[1] Talk to an ally  [2] Support resources" in out
    assert f"{GENERAL}  (Want to talk to someone? An ally is a trained colleague" in out
    assert out.endswith("[shell] 2d later: Wed 04 Mar 2026 10:00 GMT\n")
    [row] = rows(sh.bot, "weekly-tips")
    assert (row.occurrence, row.target, row.tip, row.status, row.attempts) == (
        "2026-03-04T10:00",
        "#general",
        "notice-changes",
        "sent",
        1,
    )
    assert row.due_at == WED
    assert row.sent_at == WED

    later = sh("/wait 6h", "/wait 1d")
    assert GENERAL not in later
    assert len(rows(sh.bot, "weekly-tips")) == 1


# --- 4. tips take turns ------------------------------------------------------------------------
def test_tips_take_turns_in_content_order_and_the_order_survives_a_restart(db):
    first = make_bot(db)
    half = len(TIP_IDS) // 2
    seen = tips_posted(ShellDriver(first)(*["/wait 7d"] * half))
    assert seen == TIP_IDS[:half]

    # The bot restarts: a new process on the same database carries on from the rows.
    second = make_bot(db, seed=False)
    move_to(second, first.clock.now())
    rest = ShellDriver(second)(*["/wait 7d"] * (len(TIP_IDS) - half + 1))
    seen += tips_posted(rest)

    assert seen == [*TIP_IDS, TIP_IDS[0]]  # each once, in order; then a new round
    posted = rows(second, "weekly-tips")
    assert [r.tip for r in posted] == seen
    assert {r.status for r in posted} == {"sent"}
    assert {r.target for r in posted} == {"#general"}
    assert [r.occurrence for r in posted] == [
        f"{WED.date() + timedelta(weeks=n)}T10:00" for n in range(len(TIP_IDS) + 1)
    ]
    april = next(r for r in posted if r.occurrence == "2026-04-01T10:00")
    assert april.due_at == utc(2026, 4, 1, 9)  # 10:00 in London in summer time


# --- 5. restarts and the grace window ----------------------------------------------------------
def test_a_post_due_while_the_bot_was_down_goes_once_within_grace_and_is_missed_beyond(db, caplog):
    caplog.set_level(logging.WARNING, logger="handlers.schedules")
    a = make_bot(db)
    a.router.plan_calendar()
    with db.session() as session:
        assert session.get(Checkpoint, "calendar").at == START
    # A stops. B starts on the same database two hours after Wednesday's tip fell due.
    b = make_bot(db, seed=False)
    move_to(b, WED + timedelta(hours=2))

    sent = send_due(b)

    assert [(item.to, tip_of(item)) for item in sent] == [(Channel("general"), "notice-changes")]
    move_to(a, b.clock.now())
    assert send_due(b) == []
    assert send_due(a) == []  # A is back: nothing more
    assert [(r.occurrence, r.status) for r in rows(b, "weekly-tips")] == [
        ("2026-03-04T10:00", "sent")
    ]

    # Down again, and back seven hours after next Wednesday's tip: too late to post it.
    move_to(b, utc(2026, 3, 11, 17, 1))
    assert send_due(b) == []
    missed = [r for r in rows(b, "weekly-tips") if r.occurrence == "2026-03-11T10:00"]
    assert [(r.status, r.target, r.tip) for r in missed] == [("missed", "task", None)]
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.name == "handlers.schedules" and r.levelno == logging.WARNING
    ]
    assert [w for w in warnings if w.startswith("weekly-tips")] == [
        "weekly-tips for 2026-03-11T10:00 fell due while the bot was down and is older than the "
        "6-hour grace window: skipped"
    ]

    # Nothing posts it later either; the week after carries on with the next tip.
    b.clock.advance(timedelta(hours=1))
    assert send_due(b) == []
    move_to(a, b.clock.now())
    assert send_due(a) == []
    move_to(b, utc(2026, 3, 18, 10))
    assert [tip_of(item) for item in send_due(b)] == ["protect-your-breaks"]
    assert Counter(r.status for r in rows(b, "weekly-tips")) == {"sent": 2, "missed": 1}


# --- 6. two schedulers on one database ---------------------------------------------------------
def _race(bots: list[AllyBot]) -> list[tuple[int, Outgoing]]:
    """Each bot plans, then claims, in its own thread; all start each step together."""
    barrier = threading.Barrier(len(bots))
    claimed: list[tuple[int, Outgoing]] = []
    failures: list[BaseException] = []

    def scheduler(bot: AllyBot) -> None:
        try:
            barrier.wait(timeout=30)
            bot.router.plan_calendar()
            barrier.wait(timeout=30)
            claimed.extend(bot.router.claim_posts())
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=scheduler, args=(bot,)) for bot in bots]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert not any(t.is_alive() for t in threads)
    return claimed


def test_a_sender_whose_claim_ran_out_cannot_undo_the_post_another_sent(db):
    slow, taker = make_bot(db), make_bot(db, seed=False)  # two processes on one database
    slow.router.plan_calendar()  # the calendar counts from START
    for bot in (slow, taker):
        move_to(bot, WED)
    slow.router.plan_calendar()
    [late] = slow.router.claim_posts()  # then it stalls past its claim
    for bot in (slow, taker):
        bot.clock.advance(timedelta(seconds=bot.settings.app.delivery.lease_seconds + 1))
    [taken] = taker.router.claim_posts()
    assert late.posting and taken.posting and taken.posting.unsure_since is not None
    slow.router.posted(late.posting, False)  # its send failed at last: too late to count
    taker.router.posted(taken.posting, True)
    assert [(r.tip, r.status) for r in rows(slow, "weekly-tips")] == [("notice-changes", "sent")]
    assert send_due(slow) == [] and send_due(taker) == []  # nobody posts it again


def test_two_schedulers_on_one_database_post_each_due_tip_once(db, caplog):
    first = make_bot(db)
    first.router.plan_calendar()  # the calendar counts from START
    other = Database(db.url)  # a second process: its own engine and connections
    try:
        second = make_bot(other, seed=False)
        for week in range(3):
            for bot in (first, second):
                move_to(bot, WED + timedelta(weeks=week))

            posts = _race([first, second])

            assert [(item.to, tip_of(item)) for item in posts] == [
                (Channel("general"), TIP_IDS[week])
            ]
            [post] = posts
            assert post.posting is not None
            second.router.posted(post.posting, True)
            assert send_due(second) == []
            assert send_due(first) == []

        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        keys = Counter((r.message, r.occurrence, r.target) for r in rows(first))
        assert set(keys.values()) == {1}
        assert [(r.occurrence, r.tip, r.status) for r in rows(first, "weekly-tips")] == [
            ("2026-03-04T10:00", "notice-changes", "sent"),
            ("2026-03-11T10:00", "protect-your-breaks", "sent"),
            ("2026-03-18T10:00", "start-a-conversation", "sent"),
        ]
    finally:
        other.dispose()


# --- 7. the grace window is configurable ------------------------------------------------------
def test_with_no_grace_window_a_post_one_minute_late_is_missed(db, caplog):
    caplog.set_level(logging.WARNING, logger="handlers.schedules")
    bot = make_bot(db, awareness=Awareness(channels=["general"], grace_hours=0))
    bot.router.plan_calendar()

    move_to(bot, WED + timedelta(minutes=1))
    assert send_due(bot) == []
    assert [(r.occurrence, r.status) for r in rows(bot, "weekly-tips")] == [
        ("2026-03-04T10:00", "missed")
    ]
    assert any(
        "weekly-tips for 2026-03-04T10:00" in r.getMessage() and "0-hour grace" in r.getMessage()
        for r in caplog.records
    )

    # Exactly on time is not late: next Wednesday posts, with the tip that was missed.
    move_to(bot, WED + timedelta(weeks=1))
    assert [tip_of(item) for item in send_due(bot)] == ["notice-changes"]


# --- 8. channels -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "channels", [["wellbeing"], ["general", "wellbeing"]], ids=["own-channel", "two-channels"]
)
def test_an_item_with_its_own_channels_posts_there_instead_of_the_default(db, channels):
    sh = ShellDriver(bot_with(db, content_with(channels=channels)))
    listed = desk(sh("/as casey", "/allyadmin awareness"))
    assert listed[0] == (
        "Wed 04 Mar 2026 10:00",
        SERIES.title,
        ", ".join(f"#{c}" for c in channels),
    )
    assert all(where == "#general" for _, title, where in listed if title != SERIES.title)

    out = sh("/wait 2d")

    for name in ("general", "wellbeing"):
        assert tips_posted(out, name) == (["notice-changes"] if name in channels else [])
    assert sorted(r.target for r in rows(sh.bot, "weekly-tips")) == [f"#{c}" for c in channels]


def test_with_no_channel_anywhere_nothing_is_posted_and_the_desk_says_so(db):
    sh = ShellDriver(make_bot(db, awareness=Awareness(channels=[])))

    listed = desk(sh("/as casey", "/allyadmin awareness"))
    assert len(listed) == 12
    assert {where for _, _, where in listed} == {"no channel set"}
    out = sh("/wait 2d")
    assert "[bot -> #" not in out.replace("[bot -> #coordinators]", "")
    assert rows(sh.bot, "weekly-tips") == []

    out = sh("/allyadmin awareness send weekly-tips")
    assert out == (
        f"{CASEY_SEES}Weekly wellbeing tip has no channel to go to. Add channels under awareness "
        "in app.yaml, or to the message in content/awareness/.\n"
    )
    assert rows(sh.bot, "weekly-tips") == []


# --- 9. starts and ends ------------------------------------------------------------------------
def test_an_item_is_posted_only_between_its_start_and_end_dates(db):
    sh = ShellDriver(bot_with(db, content_with(starts=date(2026, 3, 10), ends=date(2026, 3, 20))))
    listed = desk(sh("/as casey", "/allyadmin awareness"))
    assert listed[0][:2] == ("Wed 11 Mar 2026 10:00", SERIES.title)

    assert tips_posted(sh("/wait 3d")) == []  # 4 March: before it starts
    assert tips_posted(sh("/wait 21d")) == ["notice-changes", "protect-your-breaks"]  # 11, 18
    assert [(r.occurrence, r.status) for r in rows(sh.bot, "weekly-tips")] == [
        ("2026-03-11T10:00", "sent"),
        ("2026-03-18T10:00", "sent"),
    ]  # and not 25 March: it ended on the 20th
    listed = desk(sh("/allyadmin awareness"))
    assert SERIES.title not in {title for _, title, _ in listed}
    assert len(listed) == 11


# --- 10. the coordinators' desk ----------------------------------------------------------------
def test_the_desk_lists_the_next_twelve_posts_in_time_order(sh):
    out = sh("/as casey", "/allyadmin awareness")

    assert out.splitlines()[1] == f"{CASEY_SEES}Coming up on the awareness calendar"
    listed = desk(out)
    assert len(listed) == 12
    times = [datetime.strptime(at, "%a %d %b %Y %H:%M") for at, _, _ in listed]
    assert times == sorted(times)
    assert listed[0] == ("Wed 04 Mar 2026 10:00", SERIES.title, "#general")
    assert ("Mon 15 Jun 2026 10:00", "Men's Health Week", "#general") in listed
    assert listed[-1] == ("Thu 04 Feb 2027 10:00", "Time to Talk Day", "#general")
    assert {title for _, title, _ in listed} == {i.title for i in CONTENT.awareness}
    assert f"{CASEY_SEES}[1] Preview  [2] Send now  [3] Skip next" in out
    assert "[bot -> #" not in out
    assert rows(sh.bot) == []


def test_preview_shows_the_next_tip_only_to_the_coordinator(sh):
    sh("/as casey", "/allyadmin awareness")
    out = sh("/press Preview")

    assert out.startswith(
        f"{CASEY_SEES}Preview of Weekly wellbeing tip (next: Wed 04 Mar 2026 10:00, to "
        "#general). Only you can see this.\n"
    )
    assert f"{CASEY_SEES}{SERIES.tips[0].text}\n" in out
    assert "[bot -> #" not in out
    assert rows(sh.bot) == []
    assert tips_posted(sh("/wait 2d")) == ["notice-changes"]  # the preview used up nothing


def test_send_now_posts_once_even_if_pressed_twice_and_moves_the_rotation_on(sh):
    sh("/as casey", "/allyadmin awareness")
    out = sh("/press Send now", "/press Send now")

    assert tips_posted(out) == ["notice-changes"]
    assert out.count(f"{CASEY_SEES}Weekly wellbeing tip is on its way to #general.") == 1
    assert (
        out.count(
            f"{CASEY_SEES}Weekly wellbeing tip was sent to #general a moment ago, "
            "so it was not sent twice."
        )
        == 1
    )
    assert tips_posted(sh("/wait 2d")) == ["protect-your-breaks"]
    assert [(r.occurrence, r.tip, r.status) for r in rows(sh.bot, "weekly-tips")] == [
        ("now-2026-03-02T10:00", "notice-changes", "sent"),
        ("2026-03-04T10:00", "protect-your-breaks", "sent"),
    ]


def test_skip_next_leaves_out_only_the_next_post(sh):
    sh("/as casey", "/allyadmin awareness")
    out = sh("/press Skip next")
    assert out == (
        f"{CASEY_SEES}The Wed 04 Mar 2026 10:00 post of Weekly wellbeing tip will not go out. "
        "Later ones will.\n"
    )
    listing = sh("/allyadmin awareness")
    assert (
        f"{CASEY_SEES}Wed 04 Mar 2026 10:00 · Weekly wellbeing tip · #general · skipped\n"
        f"{CASEY_SEES}[1] Preview  [2] Send now  [3] Undo skip\n"
    ) in listing
    assert sh("/allyadmin awareness skip weekly-tips") == (
        f"{CASEY_SEES}The Wed 04 Mar 2026 10:00 post of Weekly wellbeing tip is already skipped.\n"
    )

    assert tips_posted(sh("/wait 3d")) == []  # Wednesday 4 March came and went
    assert tips_posted(sh("/wait 7d")) == ["notice-changes"]  # the next week's, first tip
    assert [(r.occurrence, r.status) for r in rows(sh.bot, "weekly-tips")] == [
        ("2026-03-04T10:00", "skipped"),
        ("2026-03-11T10:00", "sent"),
    ]


def test_undo_skip_puts_the_post_back(sh):
    sh("/as casey", "/allyadmin awareness", "/press Skip next", "/allyadmin awareness")
    out = sh("/press Undo skip")

    assert out == (
        f"{CASEY_SEES}The Wed 04 Mar 2026 10:00 post of Weekly wellbeing tip will go out after "
        "all.\n"
    )
    assert sh("/allyadmin awareness unskip weekly-tips") == (
        f"{CASEY_SEES}The next post of Weekly wellbeing tip is not skipped, so there is nothing "
        "to undo.\n"
    )
    assert desk(sh("/allyadmin awareness"))[0] == (
        "Wed 04 Mar 2026 10:00",
        SERIES.title,
        "#general",
    )
    assert tips_posted(sh("/wait 3d")) == ["notice-changes"]


def test_the_desk_lists_two_posts_due_at_the_same_moment(sh):
    # Thursday 26 March: the next weekly tip and Stress Awareness Month are both 1 April 10:00.
    # (Before the fix in the working tree, sorting compared the two items and the desk crashed.)
    sh("/wait 24d")
    out = sh("/as casey", "/allyadmin awareness")

    assert "Sorry, something went wrong" not in out
    listed = desk(out)
    assert len(listed) == 12
    assert {listed[0], listed[1]} == {
        ("Wed 01 Apr 2026 10:00", "Stress Awareness Month", "#general"),
        ("Wed 01 Apr 2026 10:00", SERIES.title, "#general"),
    }


def test_send_now_posts_an_item_listed_before_its_start_date(db):
    # (Before the fix in the working tree, nothing was posted and the reply said it had been
    # "sent a moment ago".)
    sh = ShellDriver(bot_with(db, content_with(starts=date(2026, 3, 10))))
    assert desk(sh("/as casey", "/allyadmin awareness"))[0][:2] == (
        "Wed 11 Mar 2026 10:00",
        SERIES.title,
    )
    out = sh("/press Send now")

    assert "a moment ago" not in out
    assert f"{CASEY_SEES}Weekly wellbeing tip is on its way to #general.\n" in out
    assert tips_posted(out) == ["notice-changes"]
    assert tips_posted(sh("/wait 3d")) == []  # the schedule still waits for its start date


@pytest.mark.parametrize(
    "asked",
    ["no-such-day", "<!channel>", "x" * 5000, "../../etc/passwd", "WEEKLY-TIPS/../x"],
    ids=["unknown", "mention", "long", "path", "mixed"],
)
def test_an_unknown_or_hostile_id_gets_a_plain_answer_and_changes_nothing(sh, asked):
    casey = OnlyYou(person_id(sh.bot, "casey"))

    def answer(shown: str) -> str:
        return (
            f"There is no awareness message with the id {shown}. /allyadmin awareness lists them."
        )

    for verb in ("preview", "send", "skip", "unskip"):
        typed = sh.bot.router.dispatch(Command("allyadmin", f"awareness {verb} {asked}", CASEY))
        pressed = sh.bot.router.dispatch(Action(f"awareness:{verb}", asked, CASEY))
        # typed ids are read in lower case; a button sends back exactly what it carried
        assert [(o.to, o.message.fallback_text()) for o in typed] == [
            (casey, answer(asked.lower()[:60]))
        ]
        assert [(o.to, o.message.fallback_text()) for o in pressed] == [(casey, answer(asked[:60]))]
    sh("/as casey")
    assert sh(f"/allyadmin awareness send {asked}") == f"{CASEY_SEES}{answer(asked.lower()[:60])}\n"
    assert rows(sh.bot) == []
    assert sh.bot.router.claim_posts() == []


def test_someone_who_is_not_a_coordinator_is_refused_the_desk_and_its_buttons(sh):
    assert sh("/allyadmin awareness") == f"[bot -> eve, only you] {REFUSED}\n"
    assert sh("/allyadmin awareness send weekly-tips") == f"[bot -> eve, only you] {REFUSED}\n"
    eve = person_id(sh.bot, "eve")
    for verb in ("upcoming", "preview", "send", "skip", "unskip"):
        outbox = sh.bot.router.dispatch(Action(f"awareness:{verb}", "weekly-tips", EVE))
        assert [(o.to, o.message.fallback_text()) for o in outbox] == [(OnlyYou(eve), REFUSED)]
        assert outbox.keep_pressed is True
    assert sh.bot.router.claim_posts() == []
    assert rows(sh.bot) == []
    assert tips_posted(sh("/wait 2d")) == ["notice-changes"]  # eve's skip did not count


# --- 11. the buttons under a channel post ------------------------------------------------------
def test_anyone_can_press_the_buttons_under_a_post_privately_and_without_a_trace(bot):
    bot.router.plan_calendar()
    move_to(bot, WED)
    [post] = send_due(bot)
    assert post.to == Channel("general")
    talk, resources = post.message.buttons()
    assert (talk.label, talk.action) == ("Talk to an ally", "awareness:findally")
    assert (resources.label, resources.action) == ("Support resources", "awareness:resources")
    eve = person_id(bot, "eve")

    choices = bot.router.dispatch(Action(talk.action, talk.value, EVE))
    assert [o.to for o in choices] == [OnlyYou(eve)]
    assert choices.keep_pressed is True  # the post stays as it is for everyone else
    assert "Only you can see this." in choices[0].message.fallback_text()
    assert [b.action for b in choices[0].message.buttons()] == [
        "findally:talk",
        "findally:resources",
        "findally:urgent",
    ]

    lines = bot.router.dispatch(Action(resources.action, resources.value, EVE))
    assert [o.to for o in lines] == [OnlyYou(eve)]
    assert lines.keep_pressed is True
    assert "Samaritans" in lines[0].message.fallback_text()

    with bot.db.session() as session:
        assert session.exec(select(AuditLog).where(AuditLog.person_id == eve)).all() == []
    assert bot.router.claim_posts() == []


# --- 12. content changed under a queued post ---------------------------------------------------
def test_a_queued_post_whose_message_was_removed_from_content_is_skipped(db):
    retired = AwarenessItem(
        id="retired-day", title="A day since retired", when="4 March", text="Gone soon."
    )
    old_tip = Tip(id="retired-tip", text="A tip since removed.")
    before = bot_with(db, content_with(retired, tips=[old_tip, *SERIES.tips]))
    before.router.plan_calendar()
    move_to(before, WED)
    before.router.plan_calendar()  # recorded, then the process stops before sending
    assert sorted((r.message, r.tip, r.status) for r in rows(before) if r.target != "task") == [
        ("retired-day", None, "queued"),
        ("weekly-tips", "retired-tip", "queued"),
    ]

    after = make_bot(db, seed=False)  # restarted with content/ edited
    move_to(after, WED + timedelta(minutes=1))
    assert send_due(after) == []
    assert sorted((r.message, r.status) for r in rows(after) if r.target != "task") == [
        ("retired-day", "skipped"),
        ("weekly-tips", "skipped"),
    ]
    move_to(after, WED + timedelta(weeks=1))
    assert [tip_of(item) for item in send_due(after)] == ["notice-changes"]


# --- a days_before rule across a clock change -------------------------------------------------
CLOCKS = AwarenessItem(
    id="clocks-go-forward",
    title="The clocks go forward tonight",
    when="last Sunday of March",
    days_before=1,  # the Saturday before
    text="An hour less sleep tonight: be gentle with yourself this week.",
)


def test_a_post_days_before_a_clock_change_is_not_lost_after_a_restart_just_before_it(db):
    bot = bot_with(db, content_with(CLOCKS))
    sh = ShellDriver(bot)
    move_to(bot, utc(2026, 3, 28, 9, 30))  # Saturday 09:30 GMT: the bot restarts
    bot.router.plan_calendar()
    listed = desk(sh("/as casey", "/allyadmin awareness"))
    assert ("Sat 28 Mar 2026 10:00", CLOCKS.title, "#general") in listed

    out = sh("/wait 1h")

    assert f"{GENERAL}{CLOCKS.title}\n" in out


@pytest.mark.parametrize(
    ("rule_when", "after", "expected"),
    [
        ("last Sunday of March", utc(2026, 3, 28, 9, 30), utc(2026, 3, 28, 10)),
        ("last Sunday of October", utc(2026, 10, 24, 9, 30), utc(2027, 10, 30, 9)),
    ],
    ids=["spring-skips-it", "autumn-returns-the-past"],
)
def test_next_after_a_days_before_rule_is_the_next_one_across_a_clock_change(
    rule_when, after, expected
):
    rule = when.trigger(LONDON, rule_when, "10:00", days_before=1)
    assert when.next_after(rule, after).astimezone(UTC) == expected


@pytest.mark.parametrize("reserved", ["digest", "daily"])
def test_an_awareness_id_cannot_take_the_name_of_the_bots_own_jobs(reserved):
    with pytest.raises(ValueError, match="names one of the bot's own jobs"):
        AwarenessItem(id=reserved, title="Clash", when="every day", text="Hello")
