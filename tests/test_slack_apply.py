"""Slack end to end for the ally application: DMs, buttons, coordinator review, App Home.

Signed HTTP requests go into the real aiohttp + Bolt app; the Slack Web API is the loopback
stand-in, which records what each Slack user would see.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from datetime import date
from urllib.parse import urlencode

import pytest
from slack_sdk.models.blocks import Block
from sqlmodel import select

from bot.config import Coordinators
from bot.platforms.slack.blocks import escape
from bot.platforms.slack.manifest import build as build_manifest
from bot.router import COMMANDS
from handlers.allies import import_roster, parse_roster
from storage.models import AllyProfile, Application, Conversation, Person
from tests.conftest import make_bot
from tests.slack_harness import button, buttons_in, run, text_of
from tests.slack_standin import SlackStandIn
from tests.test_slack import _profile, assert_valid_block_kit, eve_dm

EVE_DM = "DUEVE"
COORD_CHANNEL = "CCOORDS"  # the id Slack gives #coordinators in block_actions payloads
HOSTILE = "<!channel> <@U999> <https://evil.example|click me> & *bold*"
ANSWERS = {
    "department": "Finance",
    "email": "eve.work@example.com",
    "why": "I have been supported by colleagues and want to give that back.",
    "skills": "Mental health first aid course; years on the students' helpline.",
    "support": "An hour a week, and someone to talk to afterwards.",
    "matters": "Because people should not have to struggle alone at work.",
}
HOSTILE_ANSWERS = {**ANSWERS, "department": HOSTILE, "why": HOSTILE, "matters": HOSTILE}
ROSTER = "platform,user,name,department,topics,capacity\nslack,UALLY,Ally,Engineering,stress,2\n"
_event_ids = itertools.count(1)


def _slack_user(real_name: str, email: str, title: str = "") -> dict:
    """users.info as Slack returns it for someone with no display name set."""
    user = _profile(real_name, email)
    user["profile"].update(display_name="", title=title)
    return user


@pytest.fixture
def standin() -> SlackStandIn:
    return SlackStandIn(
        users={
            "UEVE": _slack_user("Eve Example", "eve@example.com", "Senior Analyst"),
            "UCOORD": _slack_user("Casey Coord", "casey@example.com", "Coordinator"),
            "UCOORD2": _slack_user("Dana Coord", "dana@example.com"),
            "UNOSY": _slack_user("Nosy Parker", "nosy@example.com"),
            "UALLY": _slack_user("Ally", "ally@example.com"),
        }
    )


@pytest.fixture
def bot(sqlite_db):
    bot = make_bot(
        sqlite_db,
        seed=False,
        coordinators=Coordinators(
            people=["slack:UCOORD", "slack:UCOORD2"], channel="coordinators", notify_by_dm=True
        ),
    )
    rows, errors = parse_roster(ROSTER, 2)
    assert not errors
    with bot.db.session() as session:
        import_roster(session, rows, bot.clock.now())
    return bot


# --- what a Slack user sees ------------------------------------------------------------------
def seen(standin: SlackStandIn, start: int, dm: str) -> list[dict]:
    """Messages shown since call `start` in the DM `dm`, or as an ephemeral reply to a press."""
    return [
        c.args
        for c in standin.calls[start:]
        if (c.method == "chat.postMessage" and c.args["channel"] == dm)
        or (c.method.startswith("respond:") and not c.args.get("replace_original"))
    ]


def newest(standin: SlackStandIn, start: int, dm: str) -> dict:
    shown = seen(standin, start, dm)
    assert shown, f"nothing shown in {dm}: {[c.method for c in standin.calls[start:]]}"
    return shown[-1]


def posts_to(standin: SlackStandIn, channel: str, words: str) -> list[dict]:
    return [
        p
        for p in standin.called("chat.postMessage")
        if p["channel"] == channel and words in text_of(p["blocks"])
    ]


def updates(standin: SlackStandIn, start: int, channel: str) -> list[dict]:
    """chat.update calls (a pressed message rewritten) since call `start` in `channel`."""
    return [
        c.args
        for c in standin.calls[start:]
        if c.method == "chat.update" and c.args["channel"] == channel
    ]


def labels(message: dict) -> list[str]:
    """The button labels of a message or a view."""
    return [b["text"]["text"] for b in buttons_in(message["blocks"])]


def rich_elements(message: dict) -> list[dict]:
    return [
        el
        for block in message["blocks"]
        if block["type"] == "rich_text"
        for section in block["elements"]
        for el in section["elements"]
    ]


def assert_valid_blocks(blocks: list[dict]) -> None:
    """For payloads the stand-in does not record (slash command acks)."""
    assert len(blocks) <= 50
    for raw in blocks:
        Block.parse(raw).validate_json()


# --- what a Slack user does ------------------------------------------------------------------
async def say(h, text: str, event_id: str | None = None) -> dict:
    """Eve DMs the bot; returns the bot's newest message to her."""
    start = len(h.standin.calls)
    assert await h.event(eve_dm(text), event_id or f"Ev-apply-{next(_event_ids)}") == 200
    return newest(h.standin, start, EVE_DM)


async def press(h, user: str, message: dict, label: str, channel: str = EVE_DM) -> int:
    """`user` presses the button `label` on a (non-ephemeral) message; returns the call index
    before the press."""
    start = len(h.standin.calls)
    status = await h.press(
        user, button(message["blocks"], label), channel=channel, message_blocks=message["blocks"]
    )
    assert status == 200
    return start


async def tap(h, message: dict, label: str) -> dict:
    """Eve presses a button in her DM; returns what the bot showed her next."""
    return newest(h.standin, await press(h, "UEVE", message, label), EVE_DM)


async def press_in_home(h, user: str, label: str) -> None:
    """A button in App Home: Slack sends no response_url and no message for these."""
    view = [c for c in h.standin.called("views.publish") if c["user_id"] == user][-1]
    pressed = button(view["view"]["blocks"], label)
    payload = {
        "type": "block_actions",
        "user": {"id": user},
        "team": {"id": "T1"},
        "trigger_id": f"trig-home-{next(_event_ids)}",
        "container": {"type": "view", "view_id": "VHOME"},
        "view": {"id": "VHOME", "type": "home", "blocks": view["view"]["blocks"]},
        "actions": [{**pressed, "type": "button", "block_id": "b", "action_ts": "1.9"}],
    }
    body = urlencode({"payload": json.dumps(payload)})
    assert (await h.post(body, "application/x-www-form-urlencoded"))[0] == 200
    await h.slack.drain()


async def open_home(h, user: str) -> dict:
    event = {"type": "app_home_opened", "user": user, "tab": "home", "channel": "D" + user}
    assert await h.event(event, f"home-{user}-{next(_event_ids)}") == 200
    return [c for c in h.standin.called("views.publish") if c["user_id"] == user][-1]["view"]


async def fill_in(h, answers: dict[str, str]) -> dict[str, dict]:
    """Eve applies by DM: consent, keeps her Slack name and title, types the rest.
    Returns the message shown at each step, keyed by what it asks."""
    shown = {"consent": await say(h, "apply")}
    shown["name"] = await tap(h, shown["consent"], "I understand, let's start")
    shown["title"] = await tap(h, shown["name"], "Use “Eve Example”")
    shown["department"] = await tap(h, shown["title"], "Use “Senior Analyst”")
    order = ["department", "email", "why", "skills", "support", "matters", "review"]
    for asked, following in itertools.pairwise(order):
        shown[following] = await say(h, answers[asked])
    return shown


async def apply_and_submit(h, answers: dict[str, str] = ANSWERS) -> dict:
    """The whole application; returns Casey's DM copy (#coordinators only hears one waits)."""
    shown = await fill_in(h, answers)
    await tap(h, shown["review"], "Send my application")
    posts = posts_to(h.standin, "DUCOORD", "Application to become an ally")
    assert len(posts) == 1
    return posts[0]


def application(bot) -> Application:
    with bot.db.session() as session:
        return session.exec(select(Application)).one()


def conversation(bot) -> Conversation:
    with bot.db.session() as session:
        return session.exec(select(Conversation)).one()


def person_id(bot, user: str) -> int:
    with bot.db.session() as session:
        return session.exec(select(Person.id).where(Person.platform_user_id == user)).one()


# --- 1. consent and prefilled answers --------------------------------------------------------
def test_apply_by_dm_asks_consent_then_offers_the_slack_name_and_title(bot, standin):
    shown = asyncio.run(run(bot, standin, lambda h: fill_in(h, ANSWERS)))

    consent = shown["consent"]
    assert consent["channel"] == EVE_DM  # a DM, not an ephemeral in some channel
    words = text_of(consent["blocks"])
    assert "Before you start: what happens to your answers" in words
    assert "visible to workspace administrators" in words
    assert labels(consent)[0] == "I understand, let's start"

    name = text_of(shown["name"]["blocks"])
    assert "Question 1 of 8 · Name" in name
    assert labels(shown["name"])[0] == "Use “Eve Example”"  # real_name: display_name is empty
    assert "Question 2 of 8 · Job title" in text_of(shown["title"]["blocks"])
    assert labels(shown["title"])[0] == "Use “Senior Analyst”"  # the Slack profile's title
    assert "Question 3 of 8" in text_of(shown["department"]["blocks"])
    assert labels(shown["email"])[0] == "Use “eve@example.com”"

    # the consent prompt that was pressed loses its buttons
    update = standin.called("chat.update")[0]
    assert update["channel"] == EVE_DM
    assert "✓ I understand, let's start" in text_of(update["blocks"])
    assert not any(b["type"] == "actions" for b in update["blocks"])

    conv = conversation(bot)
    assert conv.step == "review" and conv.consented_at is not None
    answers = bot.router.sealer.open(conv.answers)
    assert answers == {"name": "Eve Example", "title": "Senior Analyst", **ANSWERS}
    assert "Senior Analyst" not in conv.answers  # sealed at rest
    assert_valid_block_kit(standin)


# --- 2. review, submit, coordinators see it ---------------------------------------------------
def test_submitted_application_reaches_the_coordinator_channel_and_dms(bot, standin):
    async def scenario(h):
        shown = await fill_in(h, ANSWERS)
        thanks = await tap(h, shown["review"], "Send my application")
        return shown["review"], thanks

    review, thanks = asyncio.run(run(bot, standin, scenario))
    assert "Here is your application." in text_of(review["blocks"])
    assert ANSWERS["why"] in text_of(review["blocks"])
    assert "Send my application" in labels(review)
    assert "your application is on its way to the coordinators" in text_of(thanks["blocks"])

    (notice,) = [p for p in standin.called("chat.postMessage") if p["channel"] == "#coordinators"]
    assert "A new application to become an ally is waiting." in text_of(notice["blocks"])
    assert labels(notice) == ["Review it"]
    for private in ["Eve Example", "Senior Analyst", *ANSWERS.values()]:
        assert private not in text_of(notice["blocks"]) and private not in notice["text"]
    dms = posts_to(standin, "DUCOORD", "Application to become an ally")
    dms += posts_to(standin, "DUCOORD2", "Application to become an ally")
    assert len(dms) == 2
    for post in dms:
        words = text_of(post["blocks"])
        assert "Application to become an ally: Eve Example · sent 02 Mar 2026" in words
        for answer in ["Eve Example", "Senior Analyst", *ANSWERS.values()]:
            assert answer in words and escape(answer) in post["text"]
        assert labels(post) == ["Approve", "Decline", "Ask for more information"]

    app = application(bot)
    assert app.status == "pending" and app.person_id == person_id(bot, "UEVE")
    assert bot.router.sealer.open(app.answers)["email"] == ANSWERS["email"]
    with bot.db.session() as session:
        assert not session.exec(select(Conversation)).all()  # the draft is gone
    assert_valid_block_kit(standin)


# --- 3. hostile answers stay inert -----------------------------------------------------------
def test_hostile_answers_are_shown_literally_to_coordinators(bot, standin):
    asyncio.run(run(bot, standin, lambda h: apply_and_submit(h, HOSTILE_ANSWERS)))

    shown = posts_to(standin, "DUCOORD2", "Application to become an ally")
    shown += posts_to(standin, "DUCOORD", "Application to become an ally")
    shown += posts_to(standin, EVE_DM, "Here is your application.")  # Eve's own review
    assert len(shown) == 3
    for post in shown:
        elements = rich_elements(post)
        assert {"type": "text", "text": HOSTILE} in elements  # literal, not bold, not parsed
        assert all(el["type"] == "text" for el in elements)  # no broadcast, user or link
        assert not any("evil.example" in str(el.get("url", "")) for el in elements)
        text = post["text"]
        assert escape(HOSTILE) in text
        for raw in ("<!channel>", "<@U999>", "<https://evil.example"):
            assert raw not in text
    assert_valid_block_kit(standin)


# --- 4. who may decide, and only once --------------------------------------------------------
def test_a_non_coordinator_pressing_approve_is_refused_and_nothing_changes(bot, standin):
    async def scenario(h):
        post = await apply_and_submit(h)
        start = await press(h, "UNOSY", post, "Approve", channel=COORD_CHANNEL)
        return standin.calls[start:], start

    after, start = asyncio.run(run(bot, standin, scenario))
    (refusal,) = seen(standin, start, "DUNOSY")  # ephemeral, or in Nosy's own DM
    assert "Only the network's coordinators can decide" in text_of(refusal["blocks"])
    assert application(bot).status == "pending"
    assert not [c for c in after if c.method == "chat.postMessage"]  # nobody else is told
    assert not updates(standin, start, COORD_CHANNEL), "a refused press keeps the buttons"
    assert_valid_block_kit(standin)


def test_a_coordinator_approves_once_and_later_presses_are_told(bot, standin):
    async def scenario(h):
        post = await apply_and_submit(h)
        dm_copy = posts_to(standin, "DUCOORD2", "Application to become an ally")[0]
        start = await press(h, "UCOORD", post, "Approve", channel="DUCOORD")
        approved = standin.calls[start:]
        replay = await press(h, "UCOORD", post, "Approve", channel="DUCOORD")
        second = await press(h, "UCOORD2", dm_copy, "Approve", channel="DUCOORD2")
        return approved, [newest(standin, replay, "DUCOORD"), newest(standin, second, "DUCOORD2")]

    approved, late = asyncio.run(run(bot, standin, scenario))
    welcome = [c.args for c in approved if c.method == "chat.postMessage"]
    welcome = [p for p in welcome if p["channel"] == EVE_DM]
    assert len(welcome) == 1
    assert "Welcome to the ally network!" in text_of(welcome[0]["blocks"])
    (update,) = [c.args for c in approved if c.method == "chat.update"]
    assert update["channel"] == "DUCOORD"
    assert "✓ Approve" in text_of(update["blocks"])
    assert not any(b["type"] == "actions" for b in update["blocks"])

    for reply in late:
        assert "Eve Example's application was already approved by Casey Coord" in text_of(
            reply["blocks"]
        )
    # nothing changed after the first decision
    assert len(posts_to(standin, EVE_DM, "Welcome to the ally network!")) == 1
    assert len(posts_to(standin, "#coordinators", "approved by")) == 1
    app = application(bot)
    assert app.status == "approved" and app.decided_by == person_id(bot, "UCOORD")
    with bot.db.session() as session:
        assert session.get(AllyProfile, person_id(bot, "UEVE")).status == "onboarding"
    assert_valid_block_kit(standin)


def test_asking_for_more_information_sends_the_application_back_and_round_again(bot, standin):
    async def scenario(h):
        post = await apply_and_submit(h)
        start = await press(h, "UCOORD", post, "Ask for more information", channel="DUCOORD")
        (asked,) = [
            c.args
            for c in standin.calls[start:]
            if c.method == "chat.postMessage" and c.args["channel"] == EVE_DM
        ]
        review = await tap(h, asked, "Update my application")
        await tap(h, review, "Send my application")
        return asked, review

    asked, review = asyncio.run(run(bot, standin, scenario))
    assert "Casey Coord, one of the ally coordinators, would like to know a little more" in (
        text_of(asked["blocks"])
    )
    assert "Here is your application." in text_of(review["blocks"])
    assert ANSWERS["skills"] in text_of(review["blocks"])
    assert len(posts_to(standin, "DUCOORD", "Application to become an ally")) == 2
    assert posts_to(standin, "#coordinators", "An application has come back with the information")
    assert posts_to(
        standin, "#coordinators", "An application was sent back for more information by Casey"
    )
    assert not posts_to(standin, "#coordinators", "Eve")
    app = application(bot)
    assert app.status == "pending" and app.open_key == app.person_id
    assert_valid_block_kit(standin)


# --- 5. Slack retries --------------------------------------------------------------------------
def test_retried_dm_events_answer_a_question_once(bot, standin):
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}

    async def scenario(h):
        shown = await say(h, "apply")
        shown = await tap(h, shown, "I understand, let's start")
        shown = await tap(h, shown, "Use “Eve Example”")
        await tap(h, shown, "Use “Senior Analyst”")
        start = len(standin.calls)
        await say(h, "Finance", event_id="Ev-dept")
        after = conversation(bot)
        for n in ("1", "2"):
            await h.event(eve_dm("Finance"), "Ev-dept", {**retry, "X-Slack-Retry-Num": n})
        # a retry that arrives while the first delivery is still being handled
        await asyncio.gather(
            h.event(eve_dm(ANSWERS["email"]), "Ev-email"),
            h.event(eve_dm(ANSWERS["email"]), "Ev-email", retry),
        )
        return start, after

    start, after = asyncio.run(run(bot, standin, scenario))
    replies = seen(standin, start, EVE_DM)
    assert len(replies) == 2  # one per answer, not one per delivery
    assert "Question 4 of 8 · Email" in text_of(replies[0]["blocks"])
    assert "Question 5 of 8" in text_of(replies[1]["blocks"])
    conv = conversation(bot)
    assert after.step == "email"
    assert conv.step == "why" and conv.revision == after.revision + 1
    answers = bot.router.sealer.open(conv.answers)
    assert answers["department"] == "Finance" and answers["email"] == ANSWERS["email"]
    assert_valid_block_kit(standin)


# --- 6. App Home -------------------------------------------------------------------------------
def test_app_home_follows_the_application(bot, standin):
    async def scenario(h):
        before = await open_home(h, "UEVE")
        start = len(standin.calls)
        await press_in_home(h, "UEVE", "Apply to become an ally")
        from_home = newest(standin, start, EVE_DM)  # no response_url: the answer is a DM
        await apply_and_submit(h)
        refreshed = [c for c in standin.called("views.publish") if c["user_id"] == "UEVE"][-1]
        after = await open_home(h, "UEVE")
        coordinator = await open_home(h, "UCOORD")
        start = len(standin.calls)
        await press_in_home(h, "UCOORD", "Review applications")
        listing = newest(standin, start, "DUCOORD")
        return before, from_home, refreshed["view"], after, coordinator, listing

    before, from_home, refreshed, after, coordinator, listing = asyncio.run(
        run(bot, standin, scenario)
    )
    before_labels = labels(before)
    assert "Apply to become an ally" in before_labels
    assert "Role description and training" in before_labels
    assert "Interested in becoming an ally?" in text_of(before["blocks"])

    assert "Before you start: what happens to your answers" in text_of(from_home["blocks"])

    for view in (refreshed, after):
        words = text_of(view["blocks"])
        assert "Your ally application is with the coordinators." in words
        assert "Apply to become an ally" not in labels(view)

    words = text_of(coordinator["blocks"])
    assert "Coordinator view." in words and "Applications to review: 1." in words
    assert "Review applications" in labels(coordinator)
    assert "Applications waiting for a decision (1)" in text_of(listing["blocks"])
    assert ANSWERS["why"] in text_of(listing["blocks"])
    assert labels(listing)[:3] == ["Approve", "Decline", "Ask for more information"]
    assert_valid_block_kit(standin)


# --- 7. slash commands and the manifest --------------------------------------------------------
@pytest.mark.parametrize(
    ("user", "name", "text", "words", "first_button"),
    [
        ("UEVE", "/allyapply", "", "I have sent you a direct message", None),
        ("UEVE", "/allies", "", "Our mental health allies (1)", "Talk to an ally"),
        ("UALLY", "/allystepdown", "", "Step down as an ally?", "Yes, step down"),
        ("UEVE", "/allystepdown", "", "you are not one at the moment", None),
        (
            "UCOORD",
            "/allyadmin",
            "",
            "Ally network. Applications to review: 0",
            "Review applications",
        ),
        ("UEVE", "/allyadmin", "", "/allyadmin is for the network's coordinators", None),
    ],
    ids=[
        "allyapply",
        "allies",
        "allystepdown",
        "allystepdown-not-ally",
        "allyadmin",
        "allyadmin-refused",
    ],
)
def test_commands_are_acked_with_an_ephemeral_reply(
    bot, standin, user, name, text, words, first_button
):
    async def scenario(h):
        return await h.command(user, text, name=name)

    status, body = asyncio.run(run(bot, standin, scenario))
    assert status == 200
    assert body["response_type"] == "ephemeral"
    assert words in text_of(body["blocks"]) and body["text"]
    assert_valid_blocks(body["blocks"])
    found = labels(body)
    assert (found[0] if found else None) == first_button
    assert not [p for p in standin.called("chat.postMessage") if p["channel"].startswith("#")]
    assert_valid_block_kit(standin)


def test_allyapply_typed_in_a_channel_asks_the_questions_in_the_dm(bot, standin):
    """Answers are typed as messages, so a question must never be asked in a channel: what
    Eve types there would be posted for everyone to read, and the bot never hears it."""

    async def scenario(h):
        start = len(standin.calls)
        _, ack = await h.command("UEVE", name="/allyapply")  # typed in #general
        consent = newest(standin, start, EVE_DM)
        question = await tap(h, consent, "I understand, let's start")
        return ack, consent, question, standin.calls[start:]

    ack, consent, question, after = asyncio.run(run(bot, standin, scenario))
    assert "I have sent you a direct message" in text_of(ack["blocks"])
    assert not buttons_in(ack["blocks"])
    assert "Before you start" in text_of(consent["blocks"])
    assert "Question 1 of 8 · Name" in text_of(question["blocks"])
    in_channel = [c.args for c in after if c.method.startswith("respond:")]
    assert not [r for r in in_channel if "Type your answer here" in text_of(r.get("blocks", []))]
    assert_valid_block_kit(standin)


@pytest.mark.parametrize("mention", ["<@UALLY|ally>", "<@UALLY>"])
def test_allyadmin_trained_resolves_an_escaped_slack_mention(bot, standin, mention):
    async def scenario(h):
        return await h.command("UCOORD", f"trained {mention}", name="/allyadmin")

    status, body = asyncio.run(run(bot, standin, scenario))
    assert status == 200 and body["response_type"] == "ephemeral"
    assert "Training on 02 Mar 2026 recorded for Ally." in text_of(body["blocks"])
    assert_valid_blocks(body["blocks"])
    with bot.db.session() as session:
        assert session.get(AllyProfile, person_id(bot, "UALLY")).trained_on == date(2026, 3, 2)


def test_manifest_lists_every_command_and_escapes_only_allyadmin(bot):
    manifest = build_manifest(bot.settings.app, bot.content, "https://bot.example.org")
    commands = {c["command"]: c for c in manifest["features"]["slash_commands"]}
    assert list(commands) == [f"/{name}" for name in COMMANDS]
    assert {name for name, c in commands.items() if c["should_escape"]} == {"/allyadmin"}
    assert all(c["should_escape"] is False for n, c in commands.items() if n != "/allyadmin")
    assert all(c["url"] == "https://bot.example.org/slack/events" for c in commands.values())
