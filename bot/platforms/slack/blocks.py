"""Neutral messages as Block Kit.

Sections become `rich_text` blocks: their text elements are shown literally by Slack, so user
input such as `<!channel>`, `<@U123>`, `<https://evil.example|click>` or `*bold*` can never
ping anyone, link anywhere or change formatting. The notification `text` fallback is mrkdwn,
so it is escaped (`&`, `<`, `>`) there.
"""

from __future__ import annotations

from typing import Any

from bot.messages import Buttons, Divider, Message, Note, Rich, Section

MAX_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_TEXT = 3000
MAX_BUTTON_TEXT = 75
MAX_VALUE = 2000
MAX_ACTION_ID = 255
MAX_BUTTONS_PER_BLOCK = 25
ACTION_SEP = "#"


def escape(text: str) -> str:
    """Escape text for Slack mrkdwn: only &, < and > are special."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _rich_text(rich: Rich) -> dict[str, Any]:
    elements: list[dict[str, Any]] = []
    budget = MAX_TEXT
    for span in rich:
        if budget <= 0:
            break
        words = _cut(span.text, budget)
        budget -= len(words)
        if not words:
            continue
        if span.url:
            element: dict[str, Any] = {"type": "link", "url": span.url, "text": words}
        else:
            element = {"type": "text", "text": words}
        if span.bold:
            element["style"] = {"bold": True}
        elements.append(element)
    if not elements:
        elements = [{"type": "text", "text": " "}]
    return {"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": elements}]}


def _plain(rich: Rich) -> str:
    return "".join(s.text for s in rich)


def action_id(action: str, index: int) -> str:
    """Slack wants action ids unique within a block, so the button's index is appended."""
    return f"{action[: MAX_ACTION_ID - 5]}{ACTION_SEP}{index}"


def action_name(slack_action_id: str) -> str:
    return slack_action_id.split(ACTION_SEP, 1)[0]


def to_blocks(message: Message) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for block in message.blocks:
        if isinstance(block, Section):
            out.append(_rich_text(block.text))
        elif isinstance(block, Note):
            text = _cut(_plain(block.text), MAX_TEXT)
            out.append(
                {
                    "type": "context",
                    "elements": [{"type": "plain_text", "text": text, "emoji": False}],
                }
            )
        elif isinstance(block, Divider):
            out.append({"type": "divider"})
        elif isinstance(block, Buttons):
            for start in range(0, len(block.buttons), MAX_BUTTONS_PER_BLOCK):
                row = block.buttons[start : start + MAX_BUTTONS_PER_BLOCK]
                elements = []
                for i, b in enumerate(row, start):
                    element: dict[str, Any] = {
                        "type": "button",
                        "text": {
                            "type": "plain_text",
                            "text": _cut(b.label, MAX_BUTTON_TEXT),
                            "emoji": False,
                        },
                        "action_id": action_id(b.action, i),
                        "value": b.value[:MAX_VALUE],
                    }
                    if b.style:
                        element["style"] = b.style
                    elements.append(element)
                out.append({"type": "actions", "elements": elements})
    return out


def fallback(message: Message) -> str:
    return _cut(escape(message.fallback_text()), MAX_TEXT) or " "


def chunks(
    message: Message, tag: str | None = None, limit: int = MAX_BLOCKS
) -> list[tuple[list[dict[str, Any]], str]]:
    """(blocks, text) pairs, splitting a message too long for one Slack message. With a `tag`
    (its outbox row, "ob:12"), each part's first block is "ob:12:<part>" and its other blocks
    "ob:12:<part>.<n>": the bot knows its own messages again when they come back (a press, a
    look at a DM's history before sending again) without trusting anything else in them."""
    blocks = to_blocks(message)
    text = fallback(message)
    parts = [blocks[i : i + limit] for i in range(0, len(blocks), limit)] or [[]]
    if tag:
        for n, part in enumerate(parts):
            for i, block in enumerate(part):
                block["block_id"] = f"{tag}:{n}" if i == 0 else f"{tag}:{n}.{i}"
    return [(part, text) for part in parts]


def row_of(block_id: object) -> int | None:
    """The outbox row a block id of `chunks` names, or None."""
    if not isinstance(block_id, str) or not block_id.startswith("ob:"):
        return None
    row = block_id[3:].split(":", 1)[0]
    return int(row) if row.isdigit() and len(row) <= 12 else None
