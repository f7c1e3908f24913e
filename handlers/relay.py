"""The anonymous relay: a requester who stays anonymous talks with the ally who accepted them
through the bot. It opens when an ally accepts an anonymous request (findally._hand_off).

What is written is passed on and forgotten: it goes out as a transient message (sent from
memory, never written to the outbox table), no table has a column for it, and no log line
quotes it. The ally sees "Your colleague", never who it is; the requester sees "Your ally"
(whose name they were told when the ally accepted). Words that raise a safety concern reach
the other side with a note for someone supporting the writer: what to do now and the crisis
lines of the *writer's* region. The writer gets the crisis lines too, from the router.

Which DMs are relayed (help.dm_text): while a person has an open relay, every plain message
they write to the bot goes to it, ahead of the questionnaire and the DM keywords; commands
and buttons work as usual. A questionnaire in progress waits (the writer is told so): nothing
tells a message for the other person from an answer, and neither may ever become the other.

Which relay: with one open relay, that one. With several (an ally with capacity above one, or
someone who is both a requester and an ally) a message goes to the relay the person last chose
with "Reply here", a button on each message they receive while they have several; until they
have chosen one, nothing is passed on and they are asked to choose and send it again (a button
cannot carry the words: its value is kept by the platform and in the outbox table). Labels then
carry the relay's number, "Your colleague (conversation 12)".

Ending: either side presses End conversation; the requester presses Introduce us (they are
introduced as today, and the relay closes); nothing is written for `relay.idle_days` (the idle
timer); one of them erases their data. Ending the relay also finishes the request, as "Mark as
finished" does: for an anonymous requester the relay *is* the conversation, so a request left
matched after it would only hold a place in the ally's capacity while connecting nobody, and
say "you are connected" when they are not. Asking for support again is one /findally away.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlmodel import col, select

from bot.messages import Block, Section, plain
from handlers import findally, safety
from handlers.context import Context, buttons, whole_number
from storage import relays, timers
from storage.models import Conversation, Relay, RelayEnd, RelayStatus, SupportRequest
from storage.relays import Over

log = logging.getLogger(__name__)

IDLE = relays.IDLE
PIECE = 2500  # characters of relayed words per section (Slack shows at most 3000 in one)


# --- what a person writes ------------------------------------------------------------------
def handle_text(ctx: Context, text: str) -> bool:
    """A DM to the bot: True if it was for a relay (passed on, or answered why not)."""
    me = ctx.actor
    assert me is not None and me.id is not None
    mine = relays.open_for(ctx.session, me.id)
    if not mine:
        return False
    relay = _chosen(mine, me.id)
    if relay is None:
        _ask_which(ctx, mine)
        return True
    if not text.strip():
        ctx.reply(ctx.say("relay.empty"))
        return True
    allowed = ctx.app.relay
    over = relays.spend(ctx.session, me.id, ctx.now, allowed.per_minute, allowed.per_day)
    if over is Over.DAY:
        ctx.reply(ctx.say("relay.slow_down_day", most=allowed.per_day))
        return True
    if over is Over.MINUTE:
        ctx.reply(ctx.say("relay.slow_down"))
        return True
    if not relays.touch(ctx.session, relay.id, ctx.now):  # closed a moment ago
        ctx.reply(ctx.say("relay.closed_already"))
        return True
    _pass_on(ctx, relay, text)
    waiting = ctx.session.exec(select(Conversation.id).where(Conversation.person_id == me.id))
    ctx.reply(
        ctx.note("relay.sent", who=_who(ctx, relay, me.id, len(mine) > 1)),
        *([ctx.note("relay.application_waits")] if waiting.first() is not None else []),
    )
    return True


def _pass_on(ctx: Context, relay: Relay, text: str) -> None:
    """The words to the other side, labelled, with a note if they raise a safety concern."""
    writer = ctx.actor
    assert writer is not None and writer.id is not None
    reader = relay.ally_id if writer.id == relay.requester_id else relay.requester_id
    several = len(relays.open_for(ctx.session, reader)) > 1
    first, *rest = _pieces(text)
    blocks: list[Block] = [
        ctx.section("relay.from", label=_label(ctx, relay, reader, several), text=first),
        *(Section(plain(piece)) for piece in rest),
    ]
    # What the router read in these words (with the writer's last hour): not read again.
    concerns = safety.Assessment(
        safety.Level(ctx.danger), frozenset(safety.Concern(c) for c in ctx.concerns)
    )
    if concerns:
        who = _who(ctx, relay, reader, several)
        blocks += safety.supporter_blocks(ctx, writer.region, concerns, who)
    row = [ctx.button("relay.button_reply_here", "relay:reply", str(relay.id))] if several else []
    row.append(ctx.button("relay.button_end", "relay:end", str(relay.id)))
    if concerns and reader == relay.ally_id:
        blocks.append(ctx.section("safety.supporter_coordinator"))
        row.append(ctx.button("escalation.button", "care:coordinator"))
    ctx.relay(reader, *blocks, buttons(*row))


def _chosen(mine: list[Relay], person_id: int) -> Relay | None:
    """The relay a message goes to: the only one, or the one last chosen with Reply here."""
    if len(mine) == 1:
        return mine[0]
    picked = [(_picked_at(r, person_id), r.id or 0, r) for r in mine]
    chosen = [p for p in picked if p[0] is not None]
    return max(chosen, key=lambda p: (p[0], p[1]))[2] if chosen else None


def _picked_at(relay: Relay, person_id: int) -> datetime | None:
    return relay.requester_picked_at if relay.requester_id == person_id else relay.ally_picked_at


def _ask_which(ctx: Context, mine: list[Relay]) -> None:
    """Several relays and none chosen yet: nothing is passed on; they choose and resend."""
    me = ctx.actor
    assert me is not None and me.id is not None
    ctx.reply(
        ctx.section("relay.choose", count=len(mine)),
        buttons(
            *[
                ctx.button(
                    "relay.button_reply_to", "relay:reply", str(r.id), who=_who(ctx, r, me.id, True)
                )
                for r in mine
            ]
        ),
    )


def _pieces(text: str, size: int = PIECE) -> list[str]:
    """`text` in parts of at most `size` characters, cut at a line break or space if one is
    near the end of a part: nothing is cut off."""
    out = []
    while len(text) > size:
        cut = max(text.rfind("\n", 0, size), text.rfind(" ", 0, size))
        cut = cut if cut > size // 2 else size
        out.append(text[:cut])
        text = text[cut:].lstrip(" ")
    return [*out, text]


def _label(ctx: Context, relay: Relay, reader: int, numbered: bool) -> str:
    """How `reader` sees the other side, as a label: "Your colleague" / "Your ally"."""
    key = "relay.label_colleague" if reader == relay.ally_id else "relay.label_ally"
    label = ctx.content.plain(key)
    if numbered:
        return ctx.content.plain("relay.label_numbered", label=label, number=relay.id)
    return label


def _who(ctx: Context, relay: Relay, reader: int, numbered: bool) -> str:
    """The other side in a sentence, as `reader` knows them: "your colleague" / "your ally"."""
    key = "relay.who_colleague" if reader == relay.ally_id else "relay.who_ally"
    who = ctx.content.plain(key)
    if numbered:
        return ctx.content.plain("relay.who_numbered", who=who, number=relay.id)
    return who


# --- buttons -------------------------------------------------------------------------------
def reply_here(ctx: Context, value: str) -> None:
    """Reply here / To your colleague: what this person writes next goes to this relay."""
    relay = _own_relay(ctx, value)
    if relay is None:
        return
    me = ctx.actor
    assert me is not None and me.id is not None
    ctx.outbox.keep_pressed = True  # it stays on the message, to switch back later
    if not relays.pick(ctx.session, relay, me.id, ctx.now):
        ctx.reply(ctx.say("relay.closed_already"))
        return
    several = len(relays.open_for(ctx.session, me.id)) > 1
    ctx.reply(ctx.say("relay.picked", who=_who(ctx, relay, me.id, several)))


def end(ctx: Context, value: str) -> None:
    """End conversation, from either side: the relay closes and the request is finished."""
    relay = _own_relay(ctx, value)
    if relay is None:
        return
    me = ctx.actor
    assert me is not None
    by_requester = me.id == relay.requester_id
    why = RelayEnd.REQUESTER if by_requester else RelayEnd.ALLY
    if not relays.close(ctx.session, relay.id, why, ctx.now):
        ctx.reply(ctx.say("relay.closed_already"))
        return
    _finish_request(ctx, relay, why)
    log.info("relay %s ended by the %s", relay.id, why)
    if by_requester:
        ctx.dm(relay.requester_id, ctx.say("relay.ended_by_you_requester"))
        ctx.dm(relay.ally_id, ctx.say("relay.ended_by_colleague"))
    else:
        ctx.dm(relay.ally_id, ctx.say("relay.ended_by_you_ally"))
        ctx.dm(relay.requester_id, ctx.say("relay.ended_by_ally"))


def _own_relay(ctx: Context, value: str) -> Relay | None:
    """The relay a button names, if the person pressing it is one of its two; else a refusal
    (a value from an old message of someone else's, or made up)."""
    relay_id = whole_number(value)
    relay = ctx.session.get(Relay, relay_id) if relay_id is not None else None
    me = ctx.actor
    if relay is None or me is None or me.id not in (relay.requester_id, relay.ally_id):
        ctx.refuse(ctx.say("findally.not_yours"))
        return None
    return relay


# --- timers and erasure ----------------------------------------------------------------------
def idle(ctx: Context, relay_id: int) -> None:
    """Timer: a relay silent for `relay.idle_days` closes, kindly, on both sides. One that had
    messages since the timer was set is looked at again that long after the last of them."""
    relay = ctx.session.get(Relay, relay_id)
    if relay is None or relay.status != RelayStatus.OPEN:
        return
    days = ctx.app.relay.idle_days
    quiet_since = ctx.now - timedelta(days=days)
    if not relays.close(
        ctx.session, relay.id, RelayEnd.IDLE, ctx.now, col(Relay.last_at) <= quiet_since
    ):
        ctx.session.refresh(relay)
        if relay.status == RelayStatus.OPEN:  # written to since: wait from the last message
            due = relay.last_at + timedelta(days=days)
            timers.plan(ctx.session, IDLE, relay_id, due, relays.idle_key(relay_id))
        return
    _finish_request(ctx, relay, RelayEnd.IDLE)
    log.info("relay %s closed after %s quiet days", relay.id, days)
    ctx.dm(relay.requester_id, ctx.say("relay.idle_requester", days=days))
    ctx.dm(relay.ally_id, ctx.say("relay.idle_ally", days=days))


def erase(ctx: Context, person_id: int) -> None:
    """Erasure (/allyprivacy delete): the person's open relays close, and the other side of
    each is told kindly; their message counts go."""
    for relay in relays.open_for(ctx.session, person_id):
        if not relays.close(ctx.session, relay.id, RelayEnd.ERASED, ctx.now):
            continue
        _finish_request(ctx, relay, RelayEnd.ERASED)
        if person_id == relay.requester_id:
            ctx.dm(relay.ally_id, ctx.say("relay.erased_ally"))
        else:
            ctx.dm(relay.requester_id, ctx.say("relay.erased_requester"))
    relays.forget(ctx.session, person_id)


def _finish_request(ctx: Context, relay: Relay, why: RelayEnd) -> None:
    req = ctx.session.get(SupportRequest, relay.request_id)
    if req is not None:
        findally.end_matched(ctx, req, why)
