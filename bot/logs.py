"""Logging: the bot's own lines at LOG_LEVEL, the libraries' at INFO at most.

At DEBUG the platform SDKs write whole request and response bodies (names and topics in
offers, application answers, emails, the crisis reply) and the database library its
parameters. So their loggers stay at INFO unless LOG_LEVEL_SDK=DEBUG is set on purpose, and
then every body, token and email in any line is replaced by a placeholder before it is written.
The bot's own lines name people only by internal id (never a name, an email or what they wrote),
and never link a person to a support request.
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
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_SECRET = re.compile(
    r"(xox[abposr]-[\w-]+|xapp-[\w-]+|Bearer\s+\S+|eyJ[\w-]+\.[\w-]+\.[\w-]*"
    r"|(?i:(?:token|secret|password|signature)['\"]?\s*[:=]\s*)['\"]?[^\s,'\"&}]+)"
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Where a body starts: JSON, a form payload, or what the SDKs print before one.
_BODY = re.compile(r"(\{|\[|payload=|body[:=]\s*|text=|data[:=]\s*)", re.IGNORECASE)


def redact(text: str) -> str:
    """A log line with every body cut off and every token and email replaced."""
    found = _BODY.search(text)
    if found:
        rest = len(text) - found.start()
        text = f"{text[: found.start()]}<body: {rest} characters, not logged>"
    text = _SECRET.sub("<secret>", text)
    return _EMAIL.sub("<email>", text)


class Redactor(logging.Filter):
    """Rewrites each record's message through `redact` (the arguments are folded in first)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        if record.exc_info and record.name.split(".")[0] in LIBRARIES:
            record.exc_info, record.exc_text = None, None  # tracebacks can quote bodies
        return True


def configure(level: str, sdk_level: str | None = None, stream: TextIO | None = None) -> None:
    """Our lines at `level`; the libraries' at INFO or above, redacted if DEBUG is asked for."""
    logging.basicConfig(level=level, stream=stream or sys.stderr, format=FORMAT, force=True)
    numeric = logging.getLevelName(level)
    library = logging.getLevelName(sdk_level) if sdk_level else max(numeric, logging.INFO)
    for name in LIBRARIES:
        logging.getLogger(name).setLevel(library)
    logging.getLogger(DATABASE).setLevel(max(numeric, logging.WARNING))
    if library <= logging.DEBUG:
        for handler in logging.getLogger().handlers:
            handler.addFilter(Redactor())
