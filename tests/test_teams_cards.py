"""Neutral messages as Teams Adaptive Cards: what a Teams user sees, and what a press returns."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.messages import Button, Buttons, Divider, Message, Note, Section, Span, plain
from bot.platforms.teams.cards import (
    MAX_CARD_BYTES,
    card_attachment,
    card_size,
    escape_markdown,
    fallback_text,
    invoke_card_response,
    invoke_message_response,
    pressed,
    to_card,
)

GUID_LIKE = "123e4567-e89b-12d3-a456-426614174000"
HOSTILE = (
    "**x** [y](https://evil.example)",
    "<at>Bob</at>",
    "<!channel>",
    "&lt;b&gt; _z_ # h\n- item\n1. first > quote `code` ~~s~~ | t |",
)


def strings(node: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], str]]:
    """Every string in a card with the keys that lead to it."""
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in strings(v, (*path, str(k)))]
    if isinstance(node, list):
        return [s for v in node for s in strings(v, path)]
    return [(path, node)] if isinstance(node, str) else []


def runs(card: dict) -> list[dict]:
    return [run for el in card["body"] if el["type"] == "RichTextBlock" for run in el["inlines"]]


def action_sets(card: dict) -> list[list[dict]]:
    return [el["actions"] for el in card["body"] if el["type"] == "ActionSet"]


def sample() -> Message:
    return Message(
        (
            Section((Span("Someone would like to talk. ", bold=True), Span("Are you free?"))),
            Note(plain("Offer expires in 15 minutes.")),
            Divider(),
            Section(
                plain("Read the role first: "),
            ),
            Buttons(
                (
                    Button("Accept", "offer:accept", "7", style="primary"),
                    Button("Pass", "offer:pass", "7", style="danger"),
                    Button("Later", "offer:later", "7"),
                )
            ),
        )
    )


def test_a_card_is_adaptive_card_1_5_full_width_with_text_runs_and_buttons():
    card = to_card(sample())
    assert card["type"] == "AdaptiveCard"
    assert card["version"] == "1.5"
    assert card["$schema"].startswith("http://adaptivecards.io/schemas/")
    assert card["msteams"] == {"width": "Full"}
    assert [el["type"] for el in card["body"]] == [
        "RichTextBlock",
        "RichTextBlock",
        "RichTextBlock",
        "ActionSet",
    ]
    first, note, after_divider, buttons = card["body"]
    assert first["inlines"] == [
        {"type": "TextRun", "text": "Someone would like to talk. ", "weight": "Bolder"},
        {"type": "TextRun", "text": "Are you free?"},
    ]
    assert "separator" not in first and "separator" not in note
    assert note["inlines"][0]["isSubtle"] is True and note["inlines"][0]["size"] == "Small"
    assert after_divider["separator"] is True  # the Divider: a line above what follows it
    assert "separator" not in buttons
    json.dumps(card)  # plain JSON, ready to send


def test_a_divider_at_the_end_or_start_draws_nothing_and_empty_sections_are_left_out():
    card = to_card(Message((Divider(), Section(plain("")), Section(plain("hi")), Divider())))
    assert card["body"] == [
        {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": "hi"}]}
    ]


@pytest.mark.parametrize("typed", HOSTILE)
def test_user_text_is_only_ever_in_text_runs(typed):
    # As handlers build them: a template's words, then the typed value as its own span.
    rich = (Span(typed, bold=True), Span(" wrote: "), Span(typed))
    message = Message(
        (Section(rich), Note(plain(typed)), Buttons((Button("Accept", "offer:accept", "1"),)))
    )
    card = to_card(message)
    found = [(path, s) for path, s in strings(card) if typed in s]
    assert found, "the text must be shown"
    assert {path[-2:] for path, _ in found} == {("inlines", "text")}
    for run in runs(card):
        assert "selectAction" not in run  # the typed [y](https://evil.example) is no link
    assert {run["text"] for run in runs(card)} >= {typed}
    # The notification text is markdown: there it is escaped, never raw.
    assert typed not in fallback_text(message)


def test_the_pressed_line_is_escaped_markdown_and_leaves_no_buttons():
    card = to_card(sample(), done="Accept *now* <at>Bob</at> [x](https://evil.example)")
    assert action_sets(card) == []
    last = card["body"][-1]
    assert last["type"] == "TextBlock" and last["isSubtle"] is True
    assert last["text"] == (
        "✓ Accept \\*now\\* &lt;at&gt;Bob&lt;/at&gt; \\[x\\]\\(https://evil\\.example\\)"
    )
    # Everything else is still there, unchanged.
    assert [r["text"] for r in runs(card)] == [r["text"] for r in runs(to_card(sample()))]


def test_escape_markdown_escapes_every_markdown_character():
    assert escape_markdown("a\\b*c_d[e]f(g)h#i+j-k.l!m`n~o|p") == (
        "a\\\\b\\*c\\_d\\[e\\]f\\(g\\)h\\#i\\+j\\-k\\.l\\!m\\`n\\~o\\|p"
    )
    assert escape_markdown("Tom & Jerry <b>") == "Tom &amp; Jerry &lt;b&gt;"
    assert escape_markdown("- one\n1. two\n# three\n> four") == (
        "\\- one\n1\\. two\n\\# three\n&gt; four"
    )
    assert escape_markdown("plain words, 42") == "plain words, 42"


@pytest.mark.parametrize(
    "url",
    [
        "https://www.mind.org.uk/",
        "http://example.org/a?b=c",
        "tel:116123",
        "mailto:allies@example.org",
        "HTTPS://EXAMPLE.ORG/",
    ],
)
def test_links_with_safe_schemes_open_their_address(url):
    card = to_card(Message((Section((Span("Call ", bold=False), Span("Samaritans", url=url))),)))
    link = runs(card)[1]
    assert link == {
        "type": "TextRun",
        "text": "Samaritans",
        "selectAction": {"type": "Action.OpenUrl", "url": url},
        "color": "Accent",
    }


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
        "vbscript:msgbox",
        "https:no-host",
        "https://exa mple.org/",
        "https://example.org/\n",
        "//example.org/",
        "ms-teams:/l/chat",
        "https://example.org/" + "a" * 3000,
        "",
    ],
)
def test_links_with_other_schemes_are_plain_text(url):
    card = to_card(Message((Section((Span("click me", bold=True, url=url),)),)))
    assert runs(card) == [{"type": "TextRun", "text": "click me", "weight": "Bolder"}]


def test_buttons_become_execute_actions_in_sets_of_six():
    long_label = "Yes, I would like to talk to someone outside my department"
    buttons = tuple(
        Button(long_label if i == 0 else f"Choice {i}", f"apply:choice_{'x' * i}", f"v{i}")
        for i in range(13)
    )
    styled = (
        Button("Go", "offer:accept", "1", "primary"),
        Button("No", "offer:pass", "", "danger"),
    )
    card = to_card(Message((Buttons(buttons), Buttons(styled))))
    sets = action_sets(card)
    assert [len(s) for s in sets] == [6, 6, 1, 2]
    first = sets[0][0]
    assert first == {
        "type": "Action.Execute",
        "title": long_label[:39] + "…",
        "verb": "apply:choice_",
        "data": {"action": "apply:choice_", "value": "v0"},
    }
    assert len(first["title"]) == 40
    assert [a["title"] for s in sets[:3] for a in s][1:] == [f"Choice {i}" for i in range(1, 13)]
    assert [a["style"] for a in sets[3]] == ["positive", "destructive"]
    assert all("style" not in a for s in sets[:3] for a in s)


def test_every_button_on_a_card_comes_back_as_its_action_and_value():
    card = to_card(sample())
    got = []
    for action in action_sets(card)[0]:
        # What Teams sends in the `adaptiveCard/action` invoke when the button is pressed.
        value = {
            "action": {"type": "Action.Execute", "verb": action["verb"], "data": action["data"]},
            "trigger": "manual",
        }
        got.append(pressed(json.loads(json.dumps(value))))
    assert got == [("offer:accept", "7"), ("offer:pass", "7"), ("offer:later", "7")]


def test_an_action_submit_message_value_is_read_too():
    assert pressed({"action": "ally:available", "value": ""}) == ("ally:available", "")
    assert pressed({"action": "offer:accept", "value": "12", "msteams": {"x": 1}}) == (
        "offer:accept",
        "12",
    )


def execute(data: object, **extra: object) -> dict:
    return {"action": {"type": "Action.Execute", "verb": "offer:accept", "data": data}, **extra}


@pytest.mark.parametrize(
    "value",
    [
        None,
        "offer:accept",
        42,
        [],
        [{"action": "offer:accept", "value": "1"}],
        {},
        {"action": None, "value": "1"},
        {"action": "offer:accept"},
        {"value": "1"},
        {"action": "offer:accept", "value": 1},
        {"action": "offer:accept", "value": None},
        {"action": "offer:accept", "value": ["1"]},
        {"action": "offer:accept", "value": {"nested": {"deep": "1"}}},
        {"action": ["offer:accept"], "value": "1"},
        {"action": "offer accept", "value": "1"},
        {"action": "Offer:Accept", "value": "1"},
        {"action": "offer:accept\n", "value": "1"},
        {"action": "offer:accept:x", "value": "1"},
        {"action": "offer:", "value": "1"},
        {"action": "a:" + "b" * 300, "value": "1"},
        {"action": "offer:accept", "value": "1" * 2001},
        execute({"action": "offer:accept", "value": "1"}, trigger="automatic"),
        execute("offer:accept"),
        execute(None),
        execute({"action": "offer:pass", "value": "1"}),  # verb and data disagree
        execute({"value": "1"}),
        {"action": {"type": "Action.Submit", "data": {"action": "offer:accept", "value": "1"}}},
        {"action": {"type": "Action.Execute", "verb": 5, "data": {"action": "offer:accept"}}},
        {"action": {"data": {"action": "offer:accept", "value": "1"}}},
    ],
)
def test_anything_else_is_not_a_press(value):
    assert pressed(value) is None


def test_a_press_is_read_without_raising_even_from_odd_objects():
    class Exploding(dict):
        def get(self, *_args: object) -> object:
            raise RuntimeError("boom")

    deep: dict = {}
    node = deep
    for _ in range(5000):
        node["action"] = {}
        node = node["action"]
    assert pressed(Exploding(action="offer:accept", value="1")) is None
    assert pressed(deep) is None
    assert pressed(execute({"action": "offer:accept", "value": "1"})) == ("offer:accept", "1")


def test_a_long_message_is_cut_to_fit_and_ends_with_an_ellipsis():
    paragraph = 'He said "déjà vu" 😀 \\ <at>x</at> ' * 40  # quotes, accents, emoji: costly in JSON
    sections = tuple(
        Section((Span(f"Section {i}. ", bold=True), Span(paragraph))) for i in range(60)
    )
    message = Message((*sections, Buttons((Button("Accept", "offer:accept", "1"),))))
    card = to_card(message)
    assert card_size(card) <= MAX_CARD_BYTES
    assert len(json.dumps(card, ensure_ascii=False).encode()) <= MAX_CARD_BYTES
    texts = [r["text"] for r in runs(card)]
    assert texts[:2] == ["Section 0. ", paragraph]  # the start is kept whole
    assert texts[-1].endswith("…")
    assert sum(t.endswith("…") for t in texts) == 1
    assert action_sets(card)[0][0]["title"] == "Accept"  # the buttons survive
    assert card_size(card) > MAX_CARD_BYTES - 50  # cut no more than needed
    # The pressed version fits as well.
    assert card_size(to_card(message, done="Accept")) <= MAX_CARD_BYTES


def test_a_short_message_is_not_cut():
    card = to_card(sample())
    assert not any(r["text"].endswith("…") for r in runs(card))


def test_fallback_text_is_escaped_and_capped():
    message = Message((Section(plain("Hi *Eve* <!channel>")), Note(plain("1. small print"))))
    assert fallback_text(message) == "Hi \\*Eve\\* &lt;\\!channel&gt;\n1\\. small print"
    long = fallback_text(Message((Section(plain("a." * 3000)),)))
    assert len(long) <= 2000 and long.endswith("…")
    assert escape_markdown("a." * 3000).startswith(long[:-1])  # never half an escape
    assert not long[:-1].endswith("\\")
    assert fallback_text(Message((Section(plain("b" * 2000)),))) == "b" * 2000


def test_attachment_and_invoke_responses():
    card = to_card(sample())
    assert card_attachment(card) == {
        "contentType": "application/vnd.microsoft.card.adaptive",
        "content": card,
    }
    assert invoke_card_response(card) == {
        "statusCode": 200,
        "type": "application/vnd.microsoft.card.adaptive",
        "value": card,
    }
    assert invoke_message_response("Done.") == {
        "statusCode": 200,
        "type": "application/vnd.microsoft.activity.message",
        "value": "Done.",
    }
    assert GUID_LIKE not in json.dumps(card)
