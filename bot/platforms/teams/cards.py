"""Neutral messages as Adaptive Cards 1.5 for Microsoft Teams.

Sections and notes become `RichTextBlock`s of `TextRun`s. Teams shows a TextRun's text literally
(no markdown, no `<at>` mentions, no HTML), so user input such as `**x**`,
`[y](https://evil.example)` or `<at>Bob</at>` stays inert, and formatting comes only from the
Span's structure (bold, link). The two places that are markdown, the notification text and the
"✓ pressed" line, go through `escape_markdown`.

Buttons are `Action.Execute` (Universal Actions): a press arrives as an `adaptiveCard/action`
invoke, and the invoke response can replace the card in place (`invoke_card_response`).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from bot.messages import Buttons, Divider, Message, Note, Rich, Section

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
CARD_TYPE = "application/vnd.microsoft.card.adaptive"
MESSAGE_TYPE = "application/vnd.microsoft.activity.message"
# Teams takes messages up to about 28-80 KB depending on the client; stay under the low end.
MAX_CARD_BYTES = 28_000
MAX_TITLE = 40  # longer button titles are cut by Teams anyway, without telling anyone
MAX_ACTIONS_PER_SET = 6  # Teams shows no more than this many actions in one set
MAX_ACTION = 255
MAX_VALUE = 2000
MAX_FALLBACK = 2000
MAX_DONE = 100
MAX_URL = 2048
ELLIPSIS = "…"
SAFE_SCHEMES = ("http", "https", "tel", "mailto")
ACTION_NAME = re.compile(r"[a-z_]+:[a-z_]+")
STYLES = {"primary": "positive", "danger": "destructive"}

# Characters Teams' TextBlock markdown may read as syntax; a backslash makes each literal. `&`,
# `<` and `>` are entities instead, since Teams also reads HTML tags (`<at>`) in markdown text.
_BACKSLASHED = frozenset("\\*_[]()#+-.!`~|")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def _escape_char(char: str) -> str:
    if char in _ENTITIES:
        return _ENTITIES[char]
    return f"\\{char}" if char in _BACKSLASHED else char


def escape_markdown(text: str) -> str:
    """`text` for a markdown TextBlock (or an activity's text), shown exactly as typed.

    Every markdown character is backslash-escaped wherever it is, which also disarms list
    markers and headings at the start of a line (`- `, `1. `, `# `)."""
    return "".join(_escape_char(c) for c in text)


def _escape_capped(text: str, limit: int) -> str:
    """`escape_markdown(text)` in at most `limit` characters, never cutting an escape in two."""
    escaped = escape_markdown(text)
    if len(escaped) <= limit:
        return escaped
    pieces: list[str] = []
    used = 0
    for char in text:
        piece = _escape_char(char)
        if used + len(piece) > limit - len(ELLIPSIS):
            break
        pieces.append(piece)
        used += len(piece)
    return "".join(pieces) + ELLIPSIS


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def safe_url(url: str) -> str | None:
    """`url` if a click on it may open it: http(s) with a host, tel: or mailto:; else None."""
    if len(url) > MAX_URL or any(c.isspace() or ord(c) < 32 or c in '<>"\\' for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. a malformed IPv6 host
        return None
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        return url if parts.hostname else None
    if scheme in SAFE_SCHEMES:
        return url if parts.path else None
    return None


def _runs(rich: Rich, subtle: bool = False) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = []
    for span in rich:
        if not span.text:
            continue
        run: dict[str, Any] = {"type": "TextRun", "text": span.text}
        if span.bold:
            run["weight"] = "Bolder"
        url = safe_url(span.url) if span.url else None
        if url:
            run["selectAction"] = {"type": "Action.OpenUrl", "url": url}
            run["color"] = "Accent"
        if subtle:
            # isSubtle and size are TextRun properties: a RichTextBlock has neither.
            run["isSubtle"] = True
            run["size"] = "Small"
        runs.append(run)
    return runs


def _action_sets(block: Buttons) -> list[dict[str, Any]]:
    sets = []
    for start in range(0, len(block.buttons), MAX_ACTIONS_PER_SET):
        actions = []
        for button in block.buttons[start : start + MAX_ACTIONS_PER_SET]:
            action: dict[str, Any] = {
                "type": "Action.Execute",
                "title": _cut(button.label, MAX_TITLE),
                "verb": button.action[:MAX_ACTION],
                "data": {"action": button.action[:MAX_ACTION], "value": button.value[:MAX_VALUE]},
            }
            if button.style:
                action["style"] = STYLES[button.style]
            actions.append(action)
        sets.append({"type": "ActionSet", "actions": actions})
    return sets


def _body(message: Message, done: str | None) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = []
    separator = False  # a Divider draws a line above whatever element comes next

    def add(element: dict[str, Any]) -> None:
        nonlocal separator
        if separator and body:
            element["separator"] = True
            element["spacing"] = "Medium"
        separator = False
        body.append(element)

    for block in message.blocks:
        if isinstance(block, Section | Note):
            runs = _runs(block.text, subtle=isinstance(block, Note))
            if runs:
                add({"type": "RichTextBlock", "inlines": runs})
        elif isinstance(block, Divider):
            separator = True
        elif isinstance(block, Buttons) and done is None:
            for action_set in _action_sets(block):
                add(action_set)
    if done is not None:
        text = "✓ " + _escape_capped(done, MAX_DONE)
        add({"type": "TextBlock", "text": text, "isSubtle": True, "wrap": True})
    return body


def card_size(card: dict[str, Any]) -> int:
    """The card's size as sent, counted generously: ASCII-escaped JSON with spaces."""
    return len(json.dumps(card).encode())


def _fit(card: dict[str, Any], limit: int) -> dict[str, Any]:
    """Cut the text of the last sections (and notes) until the card fits, ending with "…".

    Runs are dropped from the end while even an emptied one leaves the card too big; the run
    where the cut falls keeps as much of its start as fits (a binary search on its length)."""
    body: list[dict[str, Any]] = card["body"]
    while card_size(card) > limit:
        blocks = [b for b in body if b["type"] == "RichTextBlock"]
        if not blocks:
            break  # only buttons left: nothing sensible to cut
        block = blocks[-1]
        run = block["inlines"][-1]
        text = run["text"].removesuffix(ELLIPSIS)  # one "…" at the cut, not two
        run["text"] = ELLIPSIS
        if card_size(card) > limit:
            block["inlines"].pop()
            if not block["inlines"]:
                body.remove(block)
            if len(blocks) > 1 or block["inlines"]:
                previous = [b for b in body if b["type"] == "RichTextBlock"][-1]["inlines"][-1]
                previous["text"] = previous["text"].removesuffix(ELLIPSIS) + ELLIPSIS
            continue
        fits, too_long = 0, len(text)  # text[:fits] + "…" fits; text[:too_long] + "…" does not
        while too_long - fits > 1:
            middle = (fits + too_long) // 2
            run["text"] = text[:middle] + ELLIPSIS
            if card_size(card) <= limit:
                fits = middle
            else:
                too_long = middle
        run["text"] = text[:fits].rstrip() + ELLIPSIS
    return card


def to_card(message: Message, done: str | None = None) -> dict[str, Any]:
    """An Adaptive Card for `message`. `done` (the label of the button just pressed) gives the
    card that replaces a pressed one: no buttons, and a "✓ <done>" line at the end."""
    card = {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": VERSION,
        "body": _body(message, done),
        "msteams": {"width": "Full"},
    }
    return _fit(card, MAX_CARD_BYTES)


def fallback_text(message: Message) -> str:
    """Markdown-escaped plain text for notifications and the activity's `text`."""
    return _escape_capped(message.fallback_text(), MAX_FALLBACK)


def card_attachment(card: dict[str, Any]) -> dict[str, Any]:
    return {"contentType": CARD_TYPE, "content": card}


def pressed(value: object) -> tuple[str, str] | None:
    """(action, value) of a button press, or None for anything our cards did not send.

    `value` is an invoke's `activity.value` (`{"action": {"type": "Action.Execute", "verb",
    "data"}, "trigger": "manual"}`) or an Action.Submit message's (the data itself). It comes
    from the network, so this never raises."""
    try:
        return _pressed(value)
    except Exception:  # a hostile payload (odd dict subclasses, recursion): not a press
        return None


def _pressed(value: object) -> tuple[str, str] | None:
    if not isinstance(value, dict):
        return None
    outer = value.get("action")
    verb: object = None
    if isinstance(outer, dict):
        # A refresh (trigger "automatic") is the client asking, not the person pressing.
        if outer.get("type") != "Action.Execute" or value.get("trigger", "manual") != "manual":
            return None
        data = outer.get("data")
        verb = outer.get("verb")
    else:
        data = value
    if not isinstance(data, dict):
        return None
    action, arg = data.get("action"), data.get("value")
    if not isinstance(action, str) or not isinstance(arg, str):
        return None
    if len(action) > MAX_ACTION or not ACTION_NAME.fullmatch(action) or len(arg) > MAX_VALUE:
        return None
    if verb is not None and verb != action:  # our cards always send both alike
        return None
    return str(action), str(arg)


def invoke_card_response(card: dict[str, Any]) -> dict[str, Any]:
    """The body of an `adaptiveCard/action` invoke response that replaces the pressed card."""
    return {"statusCode": 200, "type": CARD_TYPE, "value": card}


def invoke_message_response(text: str) -> dict[str, Any]:
    """The body of an `adaptiveCard/action` invoke response that shows `text` (plain) to the
    person who pressed, leaving the card as it was."""
    return {"statusCode": 200, "type": MESSAGE_TYPE, "value": _cut(text, MAX_FALLBACK)}
