"""Bad, stale, doubled and hostile input: every case gets a short plain answer, never a crash,
and the database is left exactly as it was. Driven through the real shell and the real router
on SQLite and PostgreSQL."""

from __future__ import annotations

import logging

import pytest
from sqlmodel import select

from bot.events import Action, Actor, Command, Text
from bot.messages import GroupDM, Section
from handlers.findally import Prefs
from storage.models import AllyProfile, Offer, Person, SupportRequest, Timer
from tests.conftest import make_bot

APOLOGY = "something went wrong"
CONTROL = ("\x00", "\x1b", "\u202e")
HOSTILE_TEXT = (
    "<!channel> <@U123> <https://evil.example|click me> *bold* & \x00 \x1b[31m red \u202e"
)
NOT_YOURS = "That button belongs to someone else's message, so nothing changed."
MOVED_ON = "This request has already moved on, so there is nothing to do."
OUT_OF_DATE = "That button is out of date. Type /findally to start again."
ANY_ALLY = Prefs().encode()


# --- helpers ---------------------------------------------------------------------------------
def actor(user: str, **profile: str) -> Actor:
    return Actor("shell", user, **profile)


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def assert_plain_answer(out: str, caplog: pytest.LogCaptureFixture) -> None:
    """Something was printed by the bot, it was no apology for a crash, nothing was logged as
    an error, and no control character reached the screen."""
    assert out.strip(), "the bot printed nothing"
    assert APOLOGY not in out
    assert "Traceback" not in out
    assert not any(c in out for c in CONTROL), repr(out)
    assert errors_logged(caplog) == []


def rows(bot) -> dict[str, list[str]]:
    """Every row that matters, so a test can tell that nothing at all changed."""
    with bot.db.session() as session:
        return {
            table.__name__: sorted(
                repr(sorted(row.model_dump().items())) for row in session.exec(select(table))
            )
            for table in (Person, AllyProfile, SupportRequest, Offer, Timer)
        }


def send(sh, event) -> str:
    """Dispatch one event through the real router and print what it sends, as the shell does."""
    start = sh.buffer.tell()
    sh.shell.deliver(sh.bot.router.dispatch(event))
    sh.buffer.seek(start)
    return sh.buffer.read()


def press(sh, action: str, value: str, who: str, event_id: str | None = None) -> str:
    return send(sh, Action(action, value, actor(who), event_id=event_id))


def offer_id(sh, ally: str = "ali") -> int:
    with sh.bot.db.session() as session:
        return session.exec(
            select(Offer.id)
            .join(Person, Person.id == Offer.ally_id)
            .where(Person.platform_user_id == ally)
        ).one()


def request_id(sh) -> int:
    with sh.bot.db.session() as session:
        return session.exec(select(SupportRequest.id)).one()


def eve_asks_any_ally(sh) -> None:
    out = sh("/findally", "/press Talk to an ally", "/press Any ally")
    assert "[bot -> ali, DM] A colleague would like to talk." in out


def ali_accepts(sh) -> None:
    eve_asks_any_ally(sh)
    out = sh("/as ali", "/press Accept")
    assert "[bot -> eve+ali, group DM] Eve, meet Ali." in out


# --- unknown commands and personas -------------------------------------------------------------
@pytest.mark.parametrize("line", ["/nosuch", "/no_such-thing", "/" + "z" * 300])
def test_unknown_slash_command_says_so_and_offers_help(sh, caplog, line):
    out = sh(line)
    assert_plain_answer(out, caplog)
    assert "[bot -> eve, only you] I do not know the command " in out
    assert "[1] Talk to an ally  [2] Just show me resources  [3] I need urgent help" in out
    assert "z" * 31 not in out  # a long name is shortened, not echoed in full


def test_unknown_command_with_markup_and_control_characters_is_shown_inert(sh, caplog):
    out = sh("/nosuch\x1b[31m\u202e\x00")
    assert_plain_answer(out, caplog)
    assert "[bot -> eve, only you] I do not know the command nosuch[31m." in out


def test_a_slash_alone_is_a_message_to_the_bot(sh, caplog):
    out = sh("/")
    assert_plain_answer(out, caplog)
    assert "[bot -> eve, only you] Hi, I am allybot." in out


@pytest.mark.parametrize("line", ["/FINDALLY", "/FindAlly"])
def test_slash_commands_are_not_case_sensitive(sh, caplog, line):
    out = sh(line)
    assert_plain_answer(out, caplog)
    assert "I do not know the command" not in out
    assert "[bot -> eve, only you] Only you can see this." in out


def test_unknown_persona_is_named_and_the_persona_does_not_change(sh, caplog):
    assert "[shell] No persona called 'nobody'. /who lists them." in sh("/as nobody")
    out = sh("/as <!channel>\x1b[31m")
    assert "[shell] No persona called" in out
    assert "\x1b" not in out
    assert "[shell] Usage: /as NAME (see /who)." in sh("/as")
    out = sh("/findally")
    assert "[bot -> eve, only you] Only you can see this." in out
    assert_plain_answer(out, caplog)


# --- /press ------------------------------------------------------------------------------------
def test_press_before_any_buttons(sh, caplog):
    assert sh("/press 1") == "[shell] eve has no message with buttons yet.\n"
    assert sh("/press Accept") == "[shell] eve has no message with buttons yet.\n"
    assert errors_logged(caplog) == []


@pytest.mark.parametrize("choice", ["0", "4", "-1", "99999999999999999999", "Nonsense", ""])
def test_press_a_button_that_is_not_there(sh, caplog, choice):
    sh("/findally")
    before = rows(sh.bot)
    out = sh(f"/press {choice}")
    assert out == (
        "[shell] No such button. The latest buttons are: "
        "[1] Talk to an ally  [2] Just show me resources  [3] I need urgent help\n"
    )
    assert rows(sh.bot) == before
    assert errors_logged(caplog) == []


@pytest.mark.parametrize("choice", ["²", "9" * 5000], ids=["superscript-two", "5000-digits"])
def test_press_with_digits_python_cannot_count_is_no_such_button(sh, caplog, choice):
    sh("/findally")
    out = sh(f"/press {choice}")
    assert out.startswith("[shell] No such button. The latest buttons are: [1] Talk to an ally")
    assert errors_logged(caplog) == []


# --- buttons that are not yours ------------------------------------------------------------------
def test_accepting_someone_elses_offer_changes_nothing(sh, caplog):
    eve_asks_any_ally(sh)
    oid = offer_id(sh)
    before = rows(sh.bot)
    for who in ("bo", "eve", "casey"):  # another ally, the requester, a coordinator
        out = press(sh, "offer:accept", str(oid), who)
        assert out == f"[bot -> {who}, only you] {NOT_YOURS}\n"
        out = press(sh, "offer:pass", str(oid), who)
        assert out == f"[bot -> {who}, only you] {NOT_YOURS}\n"
    assert rows(sh.bot) == before
    assert sh.ally("bo").open_count == 0 and sh.ally("ali").open_count == 0
    assert errors_logged(caplog) == []


def test_finishing_or_cancelling_a_stranger_s_request_changes_nothing(sh, caplog):
    ali_accepts(sh)
    rid = request_id(sh)
    before = rows(sh.bot)
    for who in ("gus", "bo", "casey"):
        for action in ("request:finish", "request:cancel", "request:introduce"):
            out = press(sh, action, str(rid), who)
            assert out == f"[bot -> {who}, only you] {NOT_YOURS}\n", action
    # the ally may finish but not cancel or introduce: those belong to the requester
    for action in ("request:cancel", "request:introduce"):
        assert press(sh, action, str(rid), "ali") == f"[bot -> ali, only you] {NOT_YOURS}\n"
    assert rows(sh.bot) == before
    assert sh.ally("ali").open_count == 1
    assert errors_logged(caplog) == []


# --- stale and doubled buttons -------------------------------------------------------------------
def test_accept_after_the_request_was_cancelled(sh, caplog):
    eve_asks_any_ally(sh)
    out = sh("/findally", "/press Cancel my request")
    assert "[bot -> ali, DM, edited] Closed. This request no longer needs you" in out
    before = rows(sh.bot)
    out = press(sh, "offer:accept", str(offer_id(sh)), "ali")
    assert out == f"[bot -> ali, only you] {MOVED_ON} Thank you.\n"
    assert rows(sh.bot) == before
    assert sh.ally("ali").open_count == 0
    with sh.bot.db.session() as session:
        assert session.exec(select(SupportRequest.status)).all() == ["cancelled"]
        assert session.exec(select(Offer.status)).all() == ["withdrawn"]
    assert errors_logged(caplog) == []


def test_accept_twice_matches_once(sh, caplog):
    ali_accepts(sh)
    before = rows(sh.bot)
    out = press(sh, "offer:accept", str(offer_id(sh)), "ali")  # a second click, a new event
    assert out == f"[bot -> ali, only you] {MOVED_ON} Thank you.\n"
    assert "group DM" not in out
    assert sh.ally("ali").open_count == 1
    assert rows(sh.bot) == before
    assert errors_logged(caplog) == []


def test_the_same_event_delivered_twice_runs_once(sh, caplog):
    eve_asks_any_ally(sh)
    accept = Action("offer:accept", str(offer_id(sh)), actor("ali"), event_id="Ev0ACCEPT")
    first = sh.bot.router.dispatch(accept)
    assert any(isinstance(o.to, GroupDM) for o in first)
    assert sh.bot.router.dispatch(accept) == []  # a platform retry: handled already, silent
    assert sh.ally("ali").open_count == 1
    command = Command("findally", "", actor("gus"), event_id="Ev0RETRY")
    assert sh.bot.router.dispatch(command) != []
    assert sh.bot.router.dispatch(command) == []
    assert errors_logged(caplog) == []


def test_a_replayed_start_button_opens_no_second_request(sh, caplog):
    eve_asks_any_ally(sh)
    before = rows(sh.bot)
    out = press(sh, "findally:start", ANY_ALLY, "eve")
    assert "[bot -> eve, only you] You have an open request." in out
    assert "[1] Cancel my request" in out
    assert "[bot -> bo" not in out and "[bot -> ali" not in out
    assert rows(sh.bot) == before
    # and once matched, replaying it shows the match instead
    sh("/as ali", "/press Accept")
    before = rows(sh.bot)
    out = press(sh, "findally:start", ANY_ALLY, "eve")
    assert "[bot -> eve, only you] You are connected with Ali." in out
    assert rows(sh.bot) == before
    assert errors_logged(caplog) == []


def test_unknown_action_ids_no_longer_do_anything(sh, caplog):
    eve_asks_any_ally(sh)
    before = rows(sh.bot)
    for action in ("offer.delete", "admin.promote", "", "x" * 5000, "offer.accepted"):
        out = press(sh, action, str(offer_id(sh)), "ali")
        assert out == (
            "[bot -> ali, only you] That button no longer does anything. "
            "Type /findally to start again.\n"
        ), repr(action[:20])
    assert rows(sh.bot) == before
    assert errors_logged(caplog) == []


# --- malformed and hostile button values ---------------------------------------------------------
HOSTILE_VALUES = {
    "letters": "abc",
    "negative": "-1",
    "huge-number": "99999999999999",
    "json-with-markup": '{"t":"<!channel>","o":1,"a":0}',
    "json-wrong-types": '{"t":{"x":1},"o":"1","a":[]}',
    "json-list": "[1,2]",
    "json-null": "null",
    "json-string": '"x"',
    "5000-chars": "x" * 5000,
    "5000-digits": "9" * 5000,
    "control-characters": "1\x00\x1b[31m\u202e",
    "superscript-digit": "²",
    "deeply-nested-json": "[" * 5000,
}
EXPECTED = {
    "findally:talk": OUT_OF_DATE,
    "findally:toggle": OUT_OF_DATE,
    "findally:start": OUT_OF_DATE,
    "offer:accept": NOT_YOURS,
    "offer:pass": NOT_YOURS,
    "request:cancel": NOT_YOURS,
    "request:finish": NOT_YOURS,
    "request:introduce": NOT_YOURS,
}


@pytest.mark.parametrize("value", HOSTILE_VALUES.values(), ids=HOSTILE_VALUES.keys())
def test_hostile_button_values_get_a_plain_answer_and_change_nothing(sh, caplog, value):
    eve_asks_any_ally(sh)  # a live request and offer, so a mistaken id would find something
    before = rows(sh.bot)
    wrong = []
    for action, expected in EXPECTED.items():
        for who in ("eve", "ali"):  # the requester and the ally who holds the offer
            caplog.clear()
            out = press(sh, action, value, who)
            if out != f"[bot -> {who}, only you] {expected}\n" or errors_logged(caplog):
                wrong.append(f"{action} by {who}: {out.strip()[:120]!r} {errors_logged(caplog)}")
    assert wrong == []
    assert rows(sh.bot) == before


@pytest.mark.parametrize("value", ["9" * 30, "-1", "1e9", "0x10", "١٢"])
def test_every_button_with_a_number_python_or_the_database_cannot_hold(sh, caplog, value):
    """Each registered action, pressed by the requester, the ally and a coordinator with an
    id no row can have: a plain answer, never an apology for a crash (a 30-digit id once
    reached the database and overflowed)."""
    from bot.router import ACTIONS

    eve_asks_any_ally(sh)
    wrong = []
    for action in ACTIONS:
        for who in ("eve", "ali", "casey"):
            caplog.clear()
            out = press(sh, action, value, who)
            if APOLOGY in out or errors_logged(caplog):
                wrong.append(f"{action} by {who}: {out.strip()[:100]!r} {errors_logged(caplog)}")
    assert wrong == []


def test_empty_button_value_on_a_button_that_needs_one(sh, caplog):
    eve_asks_any_ally(sh)
    before = rows(sh.bot)
    for action, expected in EXPECTED.items():
        if action == "findally:talk":
            continue  # the Talk button really has an empty value
        out = press(sh, action, "", "ali")
        assert out == f"[bot -> ali, only you] {expected}\n", action
    assert rows(sh.bot) == before
    assert errors_logged(caplog) == []


@pytest.mark.parametrize(
    "words", ["capacity ²", "capacity " + "9" * 5000, "capacity -1", "capacity 0", "capacity 11"]
)
def test_allystatus_with_a_bad_capacity(sh, caplog, words):
    out = sh("/as ali", f"/allystatus {words}")
    assert_plain_answer(out, caplog)
    assert "[bot -> ali, only you] Capacity is how many people you can support at once" in out
    assert sh.ally("ali").capacity == 2


def test_allystatus_with_hostile_words(sh, caplog):
    out = sh("/as ali", f"/allystatus {HOSTILE_TEXT}")
    assert_plain_answer(out, caplog)
    assert "[bot -> ali, only you] I did not understand that." in out
    assert sh.ally("ali").available is True
    out = sh("/as eve", f"/allystatus {HOSTILE_TEXT}")
    assert_plain_answer(out, caplog)
    assert "[bot -> eve, only you] This is for allies, and you are not one at the moment." in out


# --- empty, huge and hostile text ----------------------------------------------------------------
def test_empty_input(sh, caplog):
    assert sh("") == "" and sh("   ") == "" and sh("\t") == ""
    out = send(sh, Text("", actor("eve")))
    assert_plain_answer(out, caplog)
    assert "[bot -> eve, only you] Hi, I am allybot." in out
    out = send(sh, Text("\x00\u202e\x1b", actor("eve")))
    assert_plain_answer(out, caplog)
    assert "[bot -> eve, only you] Hi, I am allybot." in out


def test_ten_thousand_characters_to_findally_and_as_a_dm(sh, caplog):
    before = rows(sh.bot)
    out = sh("/findally " + "x" * 10_000)
    assert_plain_answer(out, caplog)
    assert "[bot -> eve, only you] Only you can see this." in out
    assert "x" * 100 not in out
    out = sh("y" * 10_000)
    assert_plain_answer(out, caplog)
    assert "[bot -> eve, only you] Hi, I am allybot." in out
    assert "y" * 100 not in out
    assert rows(sh.bot) == before
    # a long message that asks for help still gets the crisis lines
    out = sh("/findally " + "I want to end my life. " * 500)
    assert_plain_answer(out, caplog)
    assert "Call 999" in out and "Only you can see this." in out


def test_markup_and_control_characters_in_text_are_never_echoed(sh, caplog):
    for line in (f"/findally {HOSTILE_TEXT}", HOSTILE_TEXT, f"/resources {HOSTILE_TEXT}"):
        out = sh(line)
        assert_plain_answer(out, caplog)
        assert "<!channel>" not in out and "<@U123>" not in out
        assert "evil.example" not in out and "*bold*" not in out
        assert all(line.startswith("[bot -> eve, only you]") for line in out.splitlines())


def test_a_hostile_display_name_is_cleaned_and_shown_literally(sh, caplog):
    name = f"{HOSTILE_TEXT} " + "N" * 500
    eve = actor("eve", name=name)
    send(sh, Command("findally", "", eve))
    out = send(sh, Action("findally:start", ANY_ALLY, eve))
    assert_plain_answer(out, caplog)
    with sh.bot.db.session() as session:
        stored = session.exec(select(Person).where(Person.platform_user_id == "eve")).one()
    assert not any(c in stored.display_name for c in CONTROL)
    assert len(stored.display_name) <= 120
    shown = "<!channel> <@U123> <https://evil.example|click me> *bold* &  [31m red"
    assert stored.display_name.startswith(shown)
    # the offer does not name the requester; the hand-off prints the name literally: no markup
    # was interpreted, nothing was lost
    assert shown not in out
    out = sh("/as ali", "/press Accept")
    assert f"[bot -> eve+ali, group DM] {shown}" in out


def test_a_hostile_display_name_stays_a_plain_span(bot, caplog):
    eve = actor("eve", name="*bold* <https://evil.example|click me> [x](https://evil.example)")
    bot.router.dispatch(Action("findally:start", ANY_ALLY, eve))
    with bot.db.session() as session:
        offer_id = session.exec(select(Offer.id)).one()
    outgoing = bot.router.dispatch(Action("offer:accept", str(offer_id), actor("ali")))
    intro = next(o for o in outgoing if isinstance(o.to, GroupDM))
    spans = [s for b in intro.message.blocks if isinstance(b, Section) for s in b.text]
    assert any("*bold* <https://evil.example|click me>" in s.text for s in spans)
    named = next(s for s in spans if "evil.example" in s.text)
    assert named.url is None  # bold only because the introduction's first line is bold
    assert not any(s.url and "evil" in s.url for s in spans)
    assert errors_logged(caplog) == []


@pytest.mark.parametrize("name", ["\x00\u202e\x1b", "   ", "\u2066\u2069"])
def test_a_display_name_that_is_only_control_characters(sh, caplog, name):
    eve = actor("eve", name=name)
    out = send(sh, Command("findally", "", eve))
    assert_plain_answer(out, caplog)
    with sh.bot.db.session() as session:
        stored = session.exec(select(Person).where(Person.platform_user_id == "eve")).one()
    assert stored.display_name.strip() and not any(c in stored.display_name for c in CONTROL)


def test_a_new_person_with_a_hostile_name_gets_a_plain_answer(sh, caplog):
    before = rows(sh.bot)["Person"]
    out = send(sh, Command("findally", HOSTILE_TEXT, actor("U0NEW", name=HOSTILE_TEXT)))
    assert_plain_answer(out, caplog)
    assert "Only you can see this." in out
    assert len(rows(sh.bot)["Person"]) == len(before) + 1


# --- when a handler does fail --------------------------------------------------------------------
@pytest.fixture
def broken_bot(sqlite_db):
    """The demo bot on a database that lost its support request table, so /findally fails
    inside the handler: a real failure, to see what a person is told when one happens."""
    bot = make_bot(sqlite_db)
    with sqlite_db.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE supportrequest RENAME TO supportrequest_gone")
    return bot


@pytest.mark.parametrize("who", ["eve", "U0FIRSTTIME"], ids=["known", "first-event"])
def test_a_failing_handler_still_answers_with_the_urgent_help_button(broken_bot, caplog, who):
    outgoing = broken_bot.router.dispatch(Command("findally", "", actor(who)))
    said = [(type(o.to).__name__, o.message.fallback_text(), o.message.buttons()) for o in outgoing]
    assert len(said) == 1, said
    kind, words, buttons = said[0]
    assert kind == "OnlyYou" and APOLOGY in words
    assert [b.label for b in buttons] == ["I need urgent help"]
    assert errors_logged(caplog)  # the failure itself is logged
    assert not any("could not apologise" in e for e in errors_logged(caplog))
