"""Neutral incoming events.

Platform adapters turn Slack, Teams and shell input into these plain values and hand them to
the router. Nothing here knows about a platform SDK.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

PlaceKind = Literal["dm", "channel", "group"]

# Stands where a mention was in `Command.text` (U+FFFC OBJECT REPLACEMENT CHARACTER): the i-th
# one in the text is `Command.mentions[i]`. Adapters drop any the user typed themselves.
MENTION = "\ufffc"


@dataclass(frozen=True)
class Actor:
    """Who did something, as the platform describes them (a profile cache, not an identity)."""

    platform: str
    user_id: str
    name: str | None = None
    email: str | None = None
    tz: str | None = None
    department: str | None = None
    title: str | None = None  # job title


@dataclass(frozen=True)
class Place:
    """Where it happened: a DM with the bot, a channel, or a group conversation."""

    kind: PlaceKind = "dm"
    channel_id: str | None = None


@dataclass(frozen=True)
class Mention:
    """Someone a command names the platform's own way (Slack's `<@U123|ali>`, Teams' `<at>`)."""

    user_id: str  # the platform user id
    shown: str  # how it reads to people, such as "@ali": for answers only, never an identity


@dataclass(frozen=True)
class Command:
    """A slash command such as `/findally some words`.

    A platform mention in the words is not left in `text`: each one becomes a `MENTION`
    character there, in order, and the i-th of those is `mentions[i]`. So handlers find people
    by position and never parse platform syntax; words typed as plain text (a name, an email,
    `<!channel>`) stay as typed.
    """

    name: str
    text: str
    actor: Actor
    place: Place = field(default_factory=Place)
    event_id: str | None = None
    mentions: tuple[Mention, ...] = ()


@dataclass(frozen=True)
class Text:
    """A plain message sent to the bot in a DM."""

    text: str
    actor: Actor
    place: Place = field(default_factory=Place)
    event_id: str | None = None


@dataclass(frozen=True)
class Action:
    """A button press. `action` is the button's action id, `value` its payload."""

    action: str
    value: str
    actor: Actor
    place: Place = field(default_factory=Place)
    event_id: str | None = None


Event = Command | Text | Action
