"""Neutral incoming events.

Platform adapters turn Slack, Teams and shell input into these plain values and hand them to
the router. Nothing here knows about a platform SDK.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

PlaceKind = Literal["dm", "channel", "group"]


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
class Command:
    """A slash command such as `/findally some words`."""

    name: str
    text: str
    actor: Actor
    place: Place = field(default_factory=Place)
    event_id: str | None = None


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
