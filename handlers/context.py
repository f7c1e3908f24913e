"""What a handler works with: one database session, the settings, content, the time and an
outbox. Messages go out only after the session commits, so nothing is announced that did not
happen."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.config import AppConfig
from bot.events import MENTION, Place
from bot.messages import (
    Block,
    Button,
    Buttons,
    DirectMessage,
    Message,
    Note,
    OnlyYou,
    Outbox,
    Outgoing,
    Recipient,
    Replace,
    Rich,
    Section,
)
from handlers.content import Content
from storage.crypto import Sealer, SealError
from storage.models import Person

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mentioned:
    """Someone a command mentioned (see `Command.mentions`), found on the actor's platform."""

    person_id: int | None  # None: the bot has never met them (a mention creates nobody)
    shown: str  # how the mention read, such as "@ali", to answer with


@dataclass
class Context:
    session: Session
    app: AppConfig
    content: Content
    now: datetime
    sealer: Sealer  # for answers kept encrypted at rest
    actor: Person | None = None
    place: Place | None = None  # where the person acted (a DM, a channel); None for timers
    outbox: Outbox = field(default_factory=Outbox)
    # Channels the platform found are not private: they get numbers only (the digest); anything
    # more goes to each coordinator by DM (coordinators.notify).
    counts_only: frozenset[str] = frozenset()
    # The i-th MENTION character in a command's text is mentioned[i] (the router drops any
    # that stand for no mention); () for anything but a command.
    mentioned: tuple[Mentioned, ...] = ()
    # What the person's words in this event raised (handlers/safety Level: 0 nothing, 1 the
    # quiet line after the reply, 2 emergency-first ahead of it). Handlers leave out what does
    # not belong beside it: an invitation to become an ally, a canned answer to a DM.
    danger: int = 0
    concerns: frozenset[str] = frozenset()  # the Concern values raised, beside `danger`

    # --- words -------------------------------------------------------------------------
    def t(self, key: str, **values: Any) -> Rich:
        return self.content.rich(key, **values)

    def section(self, key: str, **values: Any) -> Section:
        return Section(self.t(key, **values))

    def note(self, key: str, **values: Any) -> Note:
        return Note(self.t(key, **values))

    def button(
        self, key: str, action: str, value: str = "", style: Any = None, **values: Any
    ) -> Button:
        return Button(self.content.plain(key, **values), action, value, style)

    def say(self, key: str, **values: Any) -> Message:
        """A one-section message."""
        return Message((self.section(key, **values),))

    # --- sending -------------------------------------------------------------------------
    def send(
        self,
        to: Recipient,
        *blocks: Block | Message,
        key: str | None = None,
        transient: bool = False,
    ) -> None:
        """Send after the commit. `transient`: the words must never be written anywhere, not
        even to the outbox table until they are sent (if the process dies first, they are lost
        and the person asks again)."""
        self.outbox.append(Outgoing(to, _joined(blocks), key, transient=transient))

    def relay(self, person_id: int, *blocks: Block | Message) -> None:
        """A DM with words someone else wrote (handlers/relay.py): sent once from memory and
        never written anywhere, not even to the outbox table (`Outgoing.transient`)."""
        self.send(DirectMessage(person_id), *blocks, transient=True)

    def reply(self, *blocks: Block | Message, transient: bool = False) -> None:
        """Answer the person who acted, so that only they can see it."""
        assert self.actor is not None and self.actor.id is not None
        self.send(OnlyYou(self.actor.id), *blocks, transient=transient)

    def refuse(self, *blocks: Block | Message) -> None:
        """Tell the person they may not do that; nothing they pressed takes effect."""
        self.outbox.keep_pressed = True
        self.reply(*blocks)

    def as_typed(self, words: str) -> str:
        """`words` with each mention back as it read ("@ali"), for an answer. Their first
        MENTION must be the command's first (words with no mention before them)."""
        parts = words.split(MENTION)
        out = [parts[0]]
        for mention, part in zip(self.mentioned, parts[1:], strict=False):
            out += [mention.shown, part]
        return "".join(out)

    def unseal(self, token: str, what: str) -> dict[str, Any] | None:
        """Sealed answers, or None (logged by id) if no configured key opens them."""
        try:
            return self.sealer.open(token)
        except SealError:
            log.error("%s cannot be opened with the configured ALLYBOT_SECRET_KEY", what)
            return None

    def dm(self, person_id: int, *blocks: Block | Message, key: str | None = None) -> None:
        """A direct message; with a `key`, one that `rewrite` can change later."""
        self.send(DirectMessage(person_id), *blocks, key=key)

    def rewrite(self, person_id: int, key: str, *blocks: Block | Message) -> None:
        """Replace the words of the DM sent to `person_id` under `key`."""
        self.send(Replace(person_id, key), *blocks)


def _joined(blocks: tuple[Block | Message, ...]) -> Message:
    flat: list[Block] = []
    for b in blocks:
        flat.extend(b.blocks if isinstance(b, Message) else (b,))
    return Message(tuple(flat))


def whole_number(text: str, digits: int = 9) -> int | None:
    """An ASCII whole number such as a button's id, or None (no "²", "١" or "-1")."""
    return int(text) if re.fullmatch(rf"[0-9]{{1,{digits}}}", text) else None


def buttons(*items: Button) -> Buttons:
    return Buttons(tuple(items))
