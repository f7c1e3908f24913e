"""Logging: the bot's own lines at LOG_LEVEL, the libraries' at INFO at most.

At DEBUG the platform SDKs write whole request and response bodies (names and topics in
offers, application answers, emails, the crisis reply) and the database library its
parameters; at INFO the Agents SDK names each Teams user and chat it calls. So the libraries
stay at INFO (the Agents SDK at WARNING) unless LOG_LEVEL_SDK says otherwise, and every line
of theirs, at any level, has its bodies, tokens, emails and platform ids replaced by
placeholders before it is written. The bot's own lines name people only by internal id (never
a name, an email or what they wrote), and never link a person to a support request.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import TextIO

LIBRARIES = (
    "slack_sdk",
    "slack_bolt",
    "aiohttp",
    "microsoft_agents",
    "msal",
    "urllib3",
    "alembic",
    "apscheduler",
    "asyncio",
)
# The database library logs statements' parameters and whole rows below WARNING: never on.
DATABASE = "sqlalchemy"
AGENTS_SDK = "microsoft_agents"  # logs each Teams user and chat id it calls at INFO
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_SECRET = re.compile(
    r"(xox[abposr]-[\w-]+|xapp-[\w-]+|Bearer\s+\S+|eyJ[\w-]+\.[\w-]+\.[\w-]*"
    r"|(?i:(?:token|secret|password|signature)['\"]?\s*[:=]\s*)['\"]?[^\s,'\"&}]+)"
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Teams ids of people and chats (29:..., a:..., 8:orgid:..., 28:...), Entra object ids and
# Slack user ids: each names or points at a person.
_PLATFORM_ID = re.compile(
    r"\b(?:29|28|a|8:orgid):[\w@.:;=-]+|\b[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\b"
    r"|\b[UW][A-Z0-9]{8,}\b"
)
# Where a body starts: JSON, a form payload, or what the SDKs print before one.
_BODY = re.compile(r"(\{|\[|payload=|body[:=]\s*|text=|data[:=]\s*)", re.IGNORECASE)


def redact(text: str) -> str:
    """A log line with every body cut off and every token and email replaced."""
    found = _BODY.search(text)
    if found:
        rest = len(text) - found.start()
        text = f"{text[: found.start()]}<body: {rest} characters, not logged>"
    text = _SECRET.sub("<secret>", text)
    text = _EMAIL.sub("<email>", text)
    return _PLATFORM_ID.sub("<id>", text)


class Redactor(logging.Filter):
    """Rewrites each library record's message through `redact` (the arguments are folded in
    first). The bot's own records pass as they are: they hold internal ids only."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.split(".")[0] not in LIBRARIES:
            return True
        try:
            message = record.getMessage()
        except Exception:
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        record.exc_info, record.exc_text = None, None  # tracebacks can quote bodies
        return True


def configure(level: str, sdk_level: str | None = None, stream: TextIO | None = None) -> None:
    """Our lines at `level`; the libraries' at INFO or above, redacted if DEBUG is asked for."""
    logging.basicConfig(level=level, stream=stream or sys.stderr, format=FORMAT, force=True)
    numeric = logging.getLevelName(level)
    library = logging.getLevelName(sdk_level) if sdk_level else max(numeric, logging.INFO)
    for name in LIBRARIES:
        logging.getLogger(name).setLevel(library)
    if not sdk_level:
        logging.getLogger(AGENTS_SDK).setLevel(max(numeric, logging.WARNING))
    logging.getLogger(DATABASE).setLevel(max(numeric, logging.WARNING))
    for handler in logging.getLogger().handlers:
        handler.addFilter(Redactor())
