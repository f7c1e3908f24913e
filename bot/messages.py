"""Neutral outgoing messages.

Handlers build a `Message` from blocks of `Span`s; each platform renderer turns it into Block
Kit, an Adaptive Card or plain text. Spans carry formatting as structure (bold, link), so a
renderer escapes *every* span's text and user input can never become markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal


@dataclass(frozen=True)
class Span:
    text: str
    bold: bool = False
    url: str | None = None


Rich = tuple[Span, ...]


def plain(text: str) -> Rich:
    return (Span(text),)


def rich_text(rich: Rich) -> str:
    """The words of a rich text without formatting (links show their label and address)."""
    return "".join(f"{s.text} ({s.url})" if s.url and s.url != s.text else s.text for s in rich)


@dataclass(frozen=True)
class Button:
    label: str
    action: str
    value: str = ""
    style: Literal["primary", "danger"] | None = None


@dataclass(frozen=True)
class Section:
    text: Rich


@dataclass(frozen=True)
class Note:
    """Small print under a section (Slack context block)."""

    text: Rich


@dataclass(frozen=True)
class Buttons:
    buttons: tuple[Button, ...]


@dataclass(frozen=True)
class Divider:
    pass


Block = Section | Note | Buttons | Divider


@dataclass(frozen=True)
class Message:
    blocks: tuple[Block, ...]

    def fallback_text(self) -> str:
        """Plain text for notifications and clients that cannot show blocks."""
        parts = [rich_text(b.text) for b in self.blocks if isinstance(b, Section | Note)]
        return "\n".join(p for p in parts if p)

    def buttons(self) -> list[Button]:
        return [btn for b in self.blocks if isinstance(b, Buttons) for btn in b.buttons]

    def __add__(self, other: Message) -> Message:
        return Message(self.blocks + other.blocks)


@dataclass(frozen=True)
class OnlyYou:
    """A reply only the person who acted can see (Slack ephemeral; elsewhere a DM)."""

    person_id: int


@dataclass(frozen=True)
class DirectMessage:
    person_id: int


@dataclass(frozen=True)
class GroupDM:
    person_ids: tuple[int, ...]


@dataclass(frozen=True)
class Channel:
    name: str


@dataclass(frozen=True)
class Replace:
    """The message sent earlier to `person_id` under `key`, rewritten in place (an offer that
    has closed loses its details). If the platform never delivered it, nothing is sent: the
    new wording is not news of its own."""

    person_id: int
    key: str


Recipient = OnlyYou | DirectMessage | GroupDM | Channel | Replace


@dataclass(frozen=True)
class Receipt:
    """Which outbox row (storage/outbox.py) an outgoing message is, and which claim of it this
    delivery holds. `unsure_since`: an earlier claim ran out, so the message may have gone out
    after that moment; a platform that can look (a Slack DM) checks before sending again."""

    row: int
    attempt: int
    unsure_since: datetime | None = None
    # Written already sent, in the transaction of the change it reports: the platform answers
    # it in the acknowledgement of the request (a Slack ack), so there is nothing to settle.
    sent: bool = False

    @property
    def tag(self) -> str:
        """The row's mark in what the platform shows (a Slack block id), "ob:<row>"."""
        return f"ob:{self.row}"


@dataclass(frozen=True)
class Posting:
    """Which Delivery row (storage/deliveries.py) a scheduled post is. `unsure_since`: the
    claim this one took over ran out (its sender died), so the post may have gone out after
    that moment; a platform that can look (Slack) checks before posting it again. Kept apart
    from Receipt, which settles outbox rows: the two numberings must never be confused."""

    delivery: int
    unsure_since: datetime | None = None
    attempt: int = 1  # which claim of the row this process holds (its attempts once taken)

    @property
    def tag(self) -> str:
        """The post's mark in what the platform shows (a Slack block id), "dl:<delivery>"."""
        return f"dl:{self.delivery}"


@dataclass(frozen=True)
class Outgoing:
    to: Recipient
    message: Message
    key: str | None = None  # a DM the bot may rewrite later (`Replace`) is remembered by this
    # Never written to the outbox table: sent from memory once, or lost with the process. Only
    # for words that must not be stored (what a relay passes between two people).
    transient: bool = False
    receipt: Receipt | None = None  # set once the message is an outbox row
    posting: Posting | None = None  # set on a scheduled post (never with a receipt)


# --- to and from the outbox table -------------------------------------------------------------
# Compact JSON: a recipient holds internal ids and channel names only; a message, its words.


def recipient_data(to: Recipient) -> dict[str, Any]:
    if isinstance(to, OnlyYou):
        return {"only": to.person_id}
    if isinstance(to, DirectMessage):
        return {"dm": to.person_id}
    if isinstance(to, GroupDM):
        return {"group": list(to.person_ids)}
    if isinstance(to, Channel):
        return {"channel": to.name}
    return {"replace": to.person_id, "key": to.key}


def recipient_from(data: dict[str, Any]) -> Recipient:
    if "only" in data:
        return OnlyYou(int(data["only"]))
    if "dm" in data:
        return DirectMessage(int(data["dm"]))
    if "group" in data:
        return GroupDM(tuple(int(p) for p in data["group"]))
    if "channel" in data:
        return Channel(str(data["channel"]))
    return Replace(int(data["replace"]), str(data["key"]))


def people_of(to: Recipient) -> tuple[int, ...]:
    """The people a message is for (none for a channel post)."""
    if isinstance(to, GroupDM):
        return to.person_ids
    if isinstance(to, Channel):
        return ()
    return (to.person_id,)


def _spans(rich: Rich) -> list[list[Any]]:
    return [[s.text, s.bold, s.url] for s in rich]


def _rich(data: list[list[Any]]) -> Rich:
    return tuple(Span(str(t), bool(b), u) for t, b, u in data)


def message_data(message: Message) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for block in message.blocks:
        if isinstance(block, Section):
            out.append({"s": _spans(block.text)})
        elif isinstance(block, Note):
            out.append({"n": _spans(block.text)})
        elif isinstance(block, Buttons):
            out.append({"b": [[b.label, b.action, b.value, b.style] for b in block.buttons]})
        else:
            out.append({"d": 1})
    return out


def message_from(data: list[dict[str, Any]]) -> Message:
    blocks: list[Block] = []
    for item in data:
        if "s" in item:
            blocks.append(Section(_rich(item["s"])))
        elif "n" in item:
            blocks.append(Note(_rich(item["n"])))
        elif "b" in item:
            blocks.append(Buttons(tuple(Button(*b) for b in item["b"])))
        else:
            blocks.append(Divider())
    return Message(tuple(blocks))


@dataclass(frozen=True)
class Forget:
    """Someone erased their data: every platform drops what it keeps in memory about them
    (profiles, user ids, chats) once the erase is committed."""

    person_id: int
    addresses: tuple[tuple[str, str], ...]  # (platform, user id) they were known by


class Outbox(list[Outgoing]):
    """What to send once a handler's changes are committed. `keep_pressed` says the message
    whose button was pressed must stay as it was: the person was not allowed to do what they
    pressed, or the message is shared (an awareness post) and stays pressable for everyone.
    `forget`: people erased by this change (see Forget)."""

    keep_pressed: bool = False
    forget: tuple[Forget, ...] = ()
