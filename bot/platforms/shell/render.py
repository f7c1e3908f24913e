"""Neutral messages as console lines: `[bot -> eve, only you] text`, `[1] Accept  [2] Pass`."""

from __future__ import annotations

import re

from bot.messages import Button, Buttons, Divider, Message, Note, Rich, Section

_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _text(rich: Rich) -> str:
    parts = []
    for span in rich:
        words = _CONTROL.sub("", span.text)
        if span.url and span.url != span.text:
            words = f"{words} ({_CONTROL.sub('', span.url)})"
        parts.append(words)
    return "".join(parts)


def render(prefix: str, message: Message) -> tuple[list[str], list[Button]]:
    """Console lines for `message`, each starting with `prefix`, and its buttons in order."""
    lines: list[str] = []
    numbered: list[Button] = []
    for block in message.blocks:
        if isinstance(block, Section):
            lines.extend(_text(block.text).splitlines() or [""])
        elif isinstance(block, Note):
            lines.extend(f"  ({line})" for line in _text(block.text).splitlines())
        elif isinstance(block, Divider):
            lines.append("  ---")
        elif isinstance(block, Buttons):
            row = []
            for button in block.buttons:
                numbered.append(button)
                row.append(f"[{len(numbered)}] {_CONTROL.sub('', button.label)}")
            lines.append("  ".join(row))
    return [f"{prefix} {line}".rstrip() for line in lines], numbered
