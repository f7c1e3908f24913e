"""Offers tell allies nothing about who asked: no name before acceptance, and once an offer
closes its message is rewritten without the topic. Content promises confidentiality only with
its safety limit."""

from __future__ import annotations

import asyncio
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.config import Coordinators
from bot.events import Action, Actor
from handlers.allies import import_roster, parse_roster
from handlers.content import CONTENT_DIR, load_content
from handlers.findally import offer_key, send_offer
from handlers.promises import broken_promise
from handlers.yamlfile import ProblemsFound
from storage.models import Offer, Person, SentMessage, SupportRequest
from tests.conftest import make_bot
from tests.slack_harness import button, last_reply, run, text_of
from tests.slack_standin import SlackStandIn
from tests.test_slack import _profile

ROSTER = """platform,user,name,department,topics,capacity
slack,UALI,Ali,Engineering,stress,2
slack,UBO,Bo,Finance,stress,1
slack,UCAM,Cam,Sales,stress,1
slack,UDEE,Dee,Operations,stress,1
"""


def ally_lines(out: str, *allies: str) -> list[str]:
    return [
        line for line in out.splitlines() if line.startswith(tuple(f"[bot -> {a}" for a in allies))
    ]


# --- the shell -----------------------------------------------------------------------------------
def test_an_offer_names_nobody_and_says_so(sh):
    out = sh("/findally", "/press Talk to an ally", "/press stress")
    offer = ally_lines(out, "ali")
    assert offer[0] == (
        "[bot -> ali, DM] A colleague would like to talk. You will learn who they are only if you "
        "accept."
    )
    assert "[bot -> ali, DM] They would like to talk about: stress" in offer
    assert not any("Eve" in line or "Engineering" in line for line in offer)


def test_an_outside_department_offer_says_from_another_department(sh):
    out = sh("/findally", "/press 1", "/press Outside my department", "/press Any ally")
    assert "DM] A colleague from another department would like to talk." in out


def test_an_anonymous_offer_says_the_name_comes_only_when_they_choose(sh):
    out = sh("/findally", "/press 1", "/press Stay anonymous", "/press Any ally")
    assert "you will be told their name only when they choose" in out


@pytest.mark.parametrize(
    ("how", "closed"),
    [
        ("pass", "[bot -> ali, DM, edited] Closed. This request has gone to another ally."),
        ("expire", "[bot -> ali, DM, edited] Closed. The time to answer ran out"),
        ("cancel", "[bot -> ali, DM, edited] Closed. This request no longer needs you."),
        ("step down", "[bot -> ali, DM, edited] Closed. This request no longer needs you."),
    ],
)
def test_a_closed_offer_is_rewritten_without_topic_or_buttons(sh, how, closed):
    sh("/findally", "/press 1", "/press stress")
    steps = {
        "pass": ("/as ali", "/press Pass"),
        "expire": ("/wait 15m",),
        "cancel": ("/findally", "/press Cancel my request"),
        "step down": ("/as ali", "/allystepdown", "/press 1"),
    }[how]
    out = sh(*steps)
    edited = [line for line in out.splitlines() if line.startswith("[bot -> ali, DM, edited]")]
    assert edited and edited[0].startswith(closed)
    assert not any("stress" in line for line in edited)
    # the rewritten offer has no buttons left to press
    out = sh("/as ali", "/press Accept")
    assert "has no message with buttons" in out or "No such button" in out


def test_a_replayed_accept_on_a_closed_offer_changes_nothing(sh):
    sh("/findally", "/press 1", "/press Any ally", "/wait 15m")
    with sh.bot.db.session() as session:
        first = session.exec(select(Offer).order_by(Offer.id)).first()
    out = sh.bot.router.dispatch(Action("offer:accept", str(first.id), Actor("shell", "ali")))
    assert [o.message.fallback_text() for o in out] == [
        "This request has already moved on, so there is nothing to do. Thank you."
    ]


def test_the_accepting_ally_alone_learns_the_name(sh):
    sh("/findally", "/press 1", "/press stress")
    out = sh("/as ali", "/press Pass", "/as eli", "/press Accept")
    assert "[bot -> eli, DM, edited] You accepted this request." in out
    assert "[bot -> eve+eli, group DM] Eve, meet Eli." in out
    assert not any("Eve" in line for line in ally_lines(out, "ali"))


# --- Slack, every message an ally who did not accept ever received -------------------------------
@pytest.fixture
def standin() -> SlackStandIn:
    names = {"UEVE": "Eve", "UALI": "Ali", "UBO": "Bo", "UCAM": "Cam", "UDEE": "Dee"}
    return SlackStandIn(
        users={u: _profile(n, f"{n.lower()}@example.com") for u, n in names.items()}
    )


@pytest.fixture
def slack_bot(db):
    bot = make_bot(db, seed=False, coordinators=Coordinators(people=[], channel="coordinators"))
    rows, errors = parse_roster(ROSTER, 2)
    assert not errors
    with bot.db.session() as session:
        import_roster(session, rows, bot.clock.now())
    return bot


def final_texts(standin: SlackStandIn, bot, channel: str) -> list[str]:
    """What each offer in `channel` says now: its last chat.update, or what was posted (other
    messages there, such as the answer to a press, are not offers)."""
    with bot.db.session() as session:
        keyed = {
            row.message_id: row.key
            for row in session.exec(select(SentMessage).where(SentMessage.conversation == channel))
        }
    now: dict[str, str] = {}
    for n, call in enumerate(standin.calls, 1):
        if call.args.get("channel") != channel:
            continue
        if call.method == "chat.postMessage":
            now[f"{n}.0"] = text_of(call.args["blocks"])
        elif call.method == "chat.update":
            now[call.args["ts"]] = text_of(call.args["blocks"])
    assert set(keyed) <= set(now)
    return [now[ts] for ts in keyed]


def test_allies_who_did_not_accept_never_see_the_name_nor_keep_the_topic(slack_bot, standin):
    """Ali passes, Bo lets it expire, Cam's offer is withdrawn when Dee accepts a copy of it."""

    async def scenario(h):
        _, body = await h.command("UEVE", "")
        await h.press("UEVE", button(body["blocks"], "Talk to an ally"), ephemeral=True)
        await h.press("UEVE", button(last_reply(standin)["blocks"], "stress"), ephemeral=True)

        def offer_to(channel):
            return [c for c in standin.called("chat.postMessage") if c["channel"] == channel][-1]

        def ts_of(offer_id):
            with slack_bot.db.session() as session:
                return session.exec(
                    select(SentMessage.message_id).where(SentMessage.key == offer_key(offer_id))
                ).one()

        with slack_bot.db.session() as session:
            ali_offer = session.exec(select(Offer.id).where(Offer.status == "pending")).one()
        offer = offer_to("DUALI")
        await h.press(
            "UALI",
            button(offer["blocks"], "Pass"),
            channel="DUALI",
            message_blocks=offer["blocks"],
            ts=ts_of(ali_offer),
        )
        slack_bot.clock.advance(timedelta(minutes=16))  # Bo lets it expire: Cam is asked
        await h.slack.deliver(slack_bot.router.sweep())
        with slack_bot.db.session() as session:
            cam_offer = session.exec(select(Offer).where(Offer.status == "pending")).one()
            request_id = cam_offer.request_id
        # a coordinator could re-offer it to everyone: stand in for that with a second offer
        with slack_bot.db.session() as session:
            ctx = slack_bot.router.context(session, slack_bot.clock.now())
            req = session.get(SupportRequest, request_id)
            send_offer(ctx, req, _person_id(session, "UDEE"))
            out = ctx.outbox
        await h.slack.deliver(out)
        offer = offer_to("DUDEE")
        await h.press(
            "UDEE",
            button(offer["blocks"], "Accept"),
            channel="DUDEE",
            message_blocks=offer["blocks"],
        )

    asyncio.run(run(slack_bot, standin, scenario))
    intro = [
        c for c in standin.called("chat.postMessage") if "Eve, meet Dee" in text_of(c["blocks"])
    ]
    assert len(intro) == 1
    for channel in ("DUALI", "DUBO", "DUCAM"):
        every = [
            text_of(c.args["blocks"])
            for c in standin.calls
            if c.args.get("channel") == channel and "blocks" in c.args
        ]
        assert every and not any("Eve" in t for t in every)
        final = final_texts(standin, slack_bot, channel)
        assert final and all("Closed." in t for t in final), final
        assert not any("stress" in t for t in final)
    # the accepting ally's offer says it was accepted; the name comes in the hand-off
    assert any("You accepted this request" in t for t in final_texts(standin, slack_bot, "DUDEE"))


def _person_id(session, user: str) -> int:
    return session.exec(select(Person.id).where(Person.platform_user_id == user)).one()


# --- what content may promise --------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "Talking to an ally is completely confidential.",
        "What you share stays between you and them.",
        "An ally will listen in confidence.",
        "Nobody will ever know what you said.",
        "It is strictly confidential, always.",
    ],
)
def test_an_unqualified_promise_of_confidentiality_is_found(text):
    assert broken_promise(text)
    qualified = f"{text} Allies keep it private unless someone's safety is at risk."
    assert broken_promise(qualified) is None


def test_ordinary_words_are_not_promises():
    for text in (
        "Call 116 123, free, any time.",
        "Your answers are never posted in a public channel.",
        "Only you can see this.",
    ):
        assert broken_promise(text) is None


def test_the_shipped_content_promises_nothing_it_cannot_keep():
    load_content()  # raises ProblemsFound on any unqualified promise


@pytest.mark.parametrize(
    ("path", "old", "new", "where"),
    [
        (
            "messages.yaml",
            "counsellors or therapists. They keep what you share private, except when "
            "someone's safety\n    is at risk: then they will help you get urgent help and "
            "may involve a coordinator.",
            "counsellors or therapists, and what you share stays between you and them.",
            "content/messages.yaml:",
        ),
        (
            "awareness/days.yaml",
            "Allies are here for everyone. They keep what you tell them private, unless someone's "
            "safety is at risk: then they help get urgent help and may involve a coordinator.",
            "Allies are here for everyone, and talking to one is completely confidential.",
            "content/awareness/days.yaml:",
        ),
        (
            "role.md",
            "- Keep what is shared private, except where someone's safety is at risk: "
            "then you help them get urgent help and may involve a coordinator.",
            "- Keep everything you hear totally confidential.",
            "content/role.md:",
        ),
    ],
)
def test_allybot_check_rejects_a_promise_without_its_limit(tmp_path, path, old, new, where):
    root = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, root)
    target = Path(root / path)
    text = target.read_text(encoding="utf-8")
    assert old in text
    target.write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(ProblemsFound) as caught:
        load_content(root)
    found = [str(p) for p in caught.value.problems]
    assert len(found) == 1 and found[0].startswith(where), found
    assert "promises confidentiality without its limit" in found[0]
    assert "unless someone's safety is at risk" in found[0]
