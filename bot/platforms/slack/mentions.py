"""Slack's user mentions in a slash command's words, as neutral `Mention`s.

Slack rewrites a typed `@ali` into `<@U0123|ali>` (or `<@U0123>`) only in the commands whose
manifest entry sets should_escape (manifest.NAMES_PEOPLE). Nothing else it escapes is a person:
`<!channel>`, `<#C1|general>`, links and a malformed `<@>` stay in the words as typed.
"""

from __future__ import annotations

import re

from bot.events import MENTION, Mention

# A user (U…) or an Enterprise Grid user (W…), with the name Slack may add after "|".
_USER = re.compile(r"<@([UW][A-Z0-9]{1,31})(?:\|([^<>|]{1,80}))?>")


def split_mentions(text: str) -> tuple[str, tuple[Mention, ...]]:
    """`text` with each user mention replaced by MENTION, and the mentions in that order."""
    mentions: list[Mention] = []

    def found(match: re.Match[str]) -> str:
        user_id, name = match.group(1), match.group(2)
        mentions.append(Mention(user_id, f"@{name or user_id}"))
        return MENTION

    # A MENTION the user typed themselves would stand for nobody: it goes first.
    return _USER.sub(found, text.replace(MENTION, "")), tuple(mentions)
