"""What the bot's words may promise. Allies keep conversations private except when someone's
safety is at risk, so content that promises confidentiality must say so in the same message;
`allybot check` refuses any that does not."""

from __future__ import annotations

import re

# Phrases that promise secrecy without limit. Kept short and literal on purpose: a reviewer can
# read the list, and a new phrasing is one line.
_PROMISES = re.compile(
    r"\b(?:completely|totally|strictly|fully|entirely|absolutely|always|100%) confidential\b"
    r"|\bin (?:complete|total|strict|absolute|full)? ?confidence\b"
    r"|\b(?:stays?|kept|remains?) (?:just )?between (?:you|the two of you)\b"
    r"|\bbetween you and (?:them|the ally|your ally|me|us)\b"
    r"|\b(?:no ?one|nobody) (?:else )?will (?:ever )?(?:know|find out|hear)\b"
    r"|\b(?:never|won't|will not) (?:tell|share it with|pass it on to) anyone\b",
    re.IGNORECASE,
)
# The limit that makes such a promise true: safety comes first.
_SAFETY_LIMIT = re.compile(
    r"\b(?:unless|except)\b[^.]{0,80}\bsafety\b|\bsafety\b[^.]{0,40}\b(?:at risk|comes first"
    r"|comes before)\b",
    re.IGNORECASE,
)


def broken_promise(text: str) -> str | None:
    """The phrase in `text` that promises confidentiality without the safety exception."""
    found = _PROMISES.search(text)
    if found is None or _SAFETY_LIMIT.search(text):
        return None
    return found.group(0)
