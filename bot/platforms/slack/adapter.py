"""Slack through Bolt's AsyncApp: commands, DMs, buttons and App Home in; Block Kit out.

Slash commands and buttons are answered from the database alone and acknowledged at once;
everything that calls Slack (DMs, message updates, App Home) runs afterwards in a background
task, so the ack never waits on the Web API.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from aiohttp import web
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import AllyBot
from bot.events import Action, Actor, Command, Event, Mention, Place, Text
from bot.messages import (
    Channel,
    DirectMessage,
    Forget,
    GroupDM,
    Message,
    OnlyYou,
    Outgoing,
    Posting,
    Receipt,
    Replace,
)
from bot.platforms.base import Elsewhere
from bot.platforms.cache import Lru
from bot.platforms.pacing import Pacer
from bot.platforms.slack import http
from bot.platforms.slack.blocks import (
    MAX_BLOCKS,
    action_name,
    chunks,
    fallback,
    row_of,
    to_blocks,
)
from bot.platforms.slack.channels import ChannelCheck, channel_id, check_private
from bot.platforms.slack.manifest import NAMES_PEOPLE
from bot.platforms.slack.mentions import split_mentions
from bot.platforms.work import Background, Receipts, db_call
from storage import addresses, sent

log = logging.getLogger(__name__)
T = TypeVar("T")

PLATFORM = "slack"
PROFILE_TTL = 6 * 3600.0
# Web API errors after which a message can never be delivered: not tried again.
NEVER_DELIVERABLE = frozenset(
    {
        "channel_not_found",
        "user_not_found",
        "users_not_found",
        "is_archived",
        "account_inactive",
        "cannot_dm_bot",
        "user_disabled",
        "not_in_channel",
        "invalid_blocks",
        "msg_too_long",
        "no_text",
    }
)
# Commands that can change what App Home shows.
STATE_COMMANDS = ("allystatus", "allyapply", "allystepdown", "allyadmin")


@dataclass
class _Source:
    """Where an event came from, to answer "only you" in the right place."""

    response_url: str | None = None
    channel: str | None = None
    message_ts: str | None = None
    ephemeral: bool = False
    row: int | None = None  # the outbox row of the message pressed, from its block id
    # Who acted: replies only they see (OnlyYou) reach them by this id, with nothing read from
    # the database (it may be what failed, or hold no person for them any more).
    user: str | None = None


def make_client(token: str, api_url: str | None) -> AsyncWebClient:
    kwargs: dict[str, Any] = {"token": token}
    if api_url:
        kwargs["base_url"] = api_url.rstrip("/") + "/"
    client = AsyncWebClient(**kwargs)
    client.retry_handlers.extend(
        [
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            AsyncServerErrorRetryHandler(max_retry_count=3),
            AsyncConnectionErrorRetryHandler(max_retry_count=3),
        ]
    )
    return client


class SlackPlatform:
    name = PLATFORM

    def __init__(
        self,
        bot: AllyBot,
        token: str,
        signing_secret: str,
        api_url: str | None = None,
        socket_mode: bool = False,
    ):
        self.bot = bot
        self.socket_mode = socket_mode
        self.signing_secret = signing_secret
        api = urlsplit(api_url) if api_url else None
        self._api_host = (api.scheme, api.netloc) if api else None
        self.client = make_client(token, api_url)
        self.app = AsyncApp(
            client=self.client, signing_secret=signing_secret, process_before_response=True
        )
        size = bot.settings.app.platforms.cache_size
        self._profiles: Lru[str, tuple[float, Actor]] = Lru(size)  # user -> (fresh until, actor)
        self._dm_channels: Lru[str, str] = Lru(size)
        self._user_ids: Lru[int, str] = Lru(size)
        self._channel_ids: Lru[str, str] = Lru(size)  # channel name -> id ("" if not found)
        self._listing = asyncio.Lock()  # one conversations.list paging at a time
        self._background = Background("Slack")
        self.pacer = Pacer()
        self.fanout: Elsewhere | None = None
        bot.router.on_forget.append(self.forget)
        self._register()

    # --- listeners ----------------------------------------------------------------------------
    def _register(self) -> None:
        self.app.command(re.compile(r"^/[\w-]+$"))(self._on_command)
        self.app.action(re.compile(r".+"))(self._on_action)
        self.app.event("message")(self._on_message)
        self.app.event("app_home_opened")(self._on_home_opened)

    async def _on_command(self, ack: AsyncAck, command: dict[str, Any]) -> None:
        actor = self._actor(command["user_id"])
        name = command["command"].lstrip("/")
        channel = _string(command.get("channel_id")) or ""
        place = Place("dm" if channel.startswith("D") else "channel", channel or None)
        text = _string(command.get("text")) or ""
        mentions: tuple[Mention, ...] = ()
        if name in NAMES_PEOPLE:  # the only commands in which Slack sends mentions as user ids
            text, mentions = split_mentions(text)
        # Slack never retries a slash command, but a signed request can be replayed as it was
        # within its five minutes: its trigger id (`_command_id`) makes it one event. A replay
        # gets an empty ack (Slack already showed the first answer) and changes nothing.
        event = Command(name, text, actor, place, event_id=_command_id(command), mentions=mentions)
        out = await self._db_call(self.bot.router.dispatch, event, _fits_one_reply)
        mine = [o for o in out if isinstance(o.to, OnlyYou)]
        rest = [o for o in out if not isinstance(o.to, OnlyYou)]
        reply = _one_reply(mine)
        if reply is not None:
            # Settled before the ack goes: if the ack is lost with the process, Slack tells the
            # person the command failed, and a reply sent again by DM would come twice. Dispatch
            # wrote them already sent; only an apology's rows (recorded apart) are settled here.
            receipts = Receipts(PLATFORM)
            for item in mine:
                receipts.sent(item)
            await receipts.settle(self.bot.db, self.bot.router)
            await ack(response_type="ephemeral", text=reply[1], blocks=reply[0])
        else:  # nothing to say, or too long for one message: it follows by response_url
            await ack()
            rest = mine + rest
        source = _Source(
            response_url=self._trusted(command.get("response_url")), user=actor.user_id
        )
        self._later(self._after(actor, rest, source, home=name in STATE_COMMANDS))

    async def _on_action(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        # Over HTTP only a well-formed button press gets here (http.py); over Socket Mode
        # anything Bolt matches does, so nothing below may assume a type. Bolt's action()
        # also matches old attachment buttons and dialogs by callback id: not the bot's.
        user = _string(_object(body.get("user")).get("id"))
        if body.get("type") not in http.PAYLOADS or not user:
            return
        actor = self._actor(user)
        container = _object(body.get("container"))
        name, value = _pressed(action)
        source = _Source(
            response_url=self._trusted(body.get("response_url")),
            channel=_string(_object(body.get("channel")).get("id"))
            or _string(container.get("channel_id")),
            message_ts=_string(container.get("message_ts")),
            ephemeral=container.get("is_ephemeral") is True,
            row=row_of(action.get("block_id")),
            user=actor.user_id,
        )
        trigger = _string(body.get("trigger_id")) or _string(action.get("action_ts"))
        event_id = f"act:{trigger}" if trigger else None
        event = Action(name, value, actor, Place("dm"), event_id=event_id)
        self._later(self._after_action(actor, event, source))

    async def _on_message(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        if event.get("channel_type") != "im" or event.get("bot_id") or event.get("subtype"):
            return
        user = _string(event.get("user"))
        if not user:
            return
        actor = self._actor(user)
        channel = _string(event.get("channel"))
        text = Text(
            _string(event.get("text")) or "",  # words that are not a string are none
            actor,
            Place("dm", channel),
            event_id=_string(body.get("event_id")),
        )
        source = _Source(channel=channel, user=actor.user_id)
        self._later(self._dispatch_and_send(actor, text, source))

    async def _on_home_opened(self, event: dict[str, Any]) -> None:
        if event.get("tab") not in (None, "home"):
            return
        self._later(self.publish_home(self._actor(event["user"])))

    async def _db_call(self, fn: Callable[..., T], *args: Any) -> T:
        return await db_call(self.bot.db, fn, *args)

    # --- after the ack ------------------------------------------------------------------------
    async def _after(self, actor: Actor, out: list[Outgoing], source: _Source, home: bool) -> None:
        await self._refresh_profile(actor)
        await self._deliver(out, source)
        if home:
            await self.publish_home(actor)

    async def _after_action(self, actor: Actor, event: Action, source: _Source) -> None:
        await self._refresh_profile(actor)
        out = await self._db_call(self.bot.router.dispatch, event)
        rewritten = await self._deliver(out, source)
        # A refused press leaves a shared message alone; a message the handler rewrote from
        # its own state (a closed offer) must not get its old blocks back.
        if not out.keep_pressed and (source.channel, source.message_ts) not in rewritten:
            await self._mark_pressed(source, event)
        await self.publish_home(actor)

    async def _dispatch_and_send(self, actor: Actor, event: Event, source: _Source) -> None:
        await self._refresh_profile(actor)
        out = await self._db_call(self.bot.router.dispatch, event)
        await self._deliver(out, source)

    async def _mark_pressed(self, source: _Source, event: Action) -> None:
        """Replace the pressed message with the bot's own copy of it, its buttons gone and the
        choice noted, so it is pressed once. Nothing in the press but the block id (which row)
        is used, and the row must be this person's: a message the bot has no copy of is left."""
        if source.row is None:
            return
        message = await self._db_call(
            self.bot.router.pressed, source.row, event.actor, event.action, event.value
        )
        if message is None:
            return
        blocks, text = chunks(message, f"ob:{source.row}")[0]
        try:
            if source.ephemeral and source.response_url:
                await AsyncRespond(response_url=source.response_url)(
                    replace_original=True, blocks=blocks, text=text
                )
            elif source.channel and source.message_ts:
                await self.client.chat_update(
                    channel=source.channel, ts=source.message_ts, blocks=blocks, text=text
                )
        except Exception as exc:  # the state change is already committed
            log.warning("could not update a pressed message: %s", exc.__class__.__name__)

    def _trusted(self, url: object) -> str | None:
        """A response_url the bot may post to: https on Slack's own hosts (or, in tests, the
        configured Web API's host). Anything else is ignored and the answer goes by DM."""
        if not isinstance(url, str):
            return None
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme == "https" and (host == "slack.com" or host.endswith(".slack.com")):
            return url
        if self._api_host and (parts.scheme, parts.netloc) == self._api_host:
            return url
        log.warning("ignored a response_url that is not Slack's")
        return None

    def _later(self, work: Coroutine[Any, Any, None]) -> None:
        self._background.start(work)

    async def drain(self) -> None:
        """Wait for background work (tests and shutdown)."""
        await self._background.drain()

    # --- sending ------------------------------------------------------------------------------
    async def deliver(self, out: list[Outgoing], routed: bool = False) -> None:
        """Send an outbox that answers no Slack request (timers, a coordinator's push)."""
        await self._deliver(out, _Source(), routed)

    def render(self, message: Message) -> list[dict[str, Any]]:
        """Block Kit for one message (a long one is split into several when sent)."""
        return to_blocks(message)

    def add_routes(self, web_app: web.Application) -> None:
        """POST /slack/events, unless events arrive over Socket Mode."""
        if not self.socket_mode:
            http.add_routes(web_app, self)

    async def _deliver(
        self, out: list[Outgoing], source: _Source, routed: bool = False
    ) -> set[tuple[str | None, str | None]]:
        """Send each message and settle its outbox row as soon as Slack has it (a process that
        dies mid-outbox must not leave delivered rows to be sent again); return the (channel,
        ts) of the earlier messages rewritten."""
        rewritten: set[tuple[str | None, str | None]] = set()
        if self.fanout is not None and not routed:
            out = await self.fanout.elsewhere(out, self.name)
        receipts = Receipts(PLATFORM)
        for item in out:
            try:
                if isinstance(item.to, OnlyYou) and source.response_url:
                    if not await self._in_own_dm(item.to.person_id, source):
                        await self._answer(item, source.response_url, receipts, source.user)
                        continue
                    # In their DM with the bot nobody else sees it anyway: a plain message
                    # there stays in their history and, unlike an ephemeral one, can be looked
                    # for after a crash, so it is never sent twice.
                    if not source.user:
                        item = replace(item, to=DirectMessage(item.to.person_id))
                if isinstance(item.to, Replace):
                    where = await self._replace(item.to, item.message)
                    if where:
                        rewritten.add(where)
                else:
                    where = await self._send(item, source)
                receipts.sent(item, *(where or (None, None)))
            except SlackApiError as exc:
                error = exc.response.get("error", "error") if exc.response else "error"
                log.error("slack %s failed: %s", type(item.to).__name__, error)
                receipts.failed(item, gone=error in NEVER_DELIVERABLE)
            except LookupError:
                log.error("slack %s failed: nobody to send it to", type(item.to).__name__)
                receipts.failed(item, gone=True)
            except Exception as exc:
                log.error("slack %s failed: %s", type(item.to).__name__, exc.__class__.__name__)
                receipts.failed(item)
            await receipts.settle(self.bot.db, self.bot.router)
        return rewritten

    async def _in_own_dm(self, person_id: int, source: _Source) -> bool:
        """Did they act in their own DM with the bot (not a channel, nor a DM with someone)?"""
        if not source.channel or not source.channel.startswith("D"):
            return False
        user = source.user or await self._user_id(person_id)
        return source.channel == await self._dm_channel([user])

    async def _answer(
        self, item: Outgoing, response_url: str, receipts: Receipts, user: str | None = None
    ) -> None:
        """A reply only its asker sees, through the request's response_url (if that fails,
        by DM). Slack keeps no trace of an ephemeral message, so if the process dies in the
        moment between Slack taking it and the row being settled, the reply is sent again by
        DM: once too often rather than never."""
        tag = item.receipt.tag if item.receipt else None
        try:
            for blocks, text in chunks(item.message, tag):
                await AsyncRespond(response_url=response_url)(
                    response_type="ephemeral", replace_original=False, text=text, blocks=blocks
                )
            receipts.sent(item)
        except Exception as exc:
            assert isinstance(item.to, OnlyYou)
            log.warning("a response_url failed (%s): answered by DM", exc.__class__.__name__)
            # By DM: to whoever acted, by their Slack id when the event carried it.
            by_dm = _Source(user=user)
            receipts.sent(item, *(await self._send(item, by_dm) or (None, None)))
        await receipts.settle(self.bot.db, self.bot.router)

    async def broadcast(self, item: Outgoing) -> bool:
        """A scheduled post (awareness, digest): True once Slack has accepted all of it. Its
        blocks carry its Delivery row ("dl:<id>"), so a post whose sender died is looked for
        in the channel before it is posted again (`_send`)."""
        try:
            await self._send(item, _Source())
            return True
        except SlackApiError as exc:
            error = exc.response.get("error", "error") if exc.response else "error"
            log.error("slack scheduled post failed: %s", error)
        except Exception as exc:
            log.error("slack scheduled post failed: %s", exc.__class__.__name__)
        return False

    async def _send(self, item: Outgoing, source: _Source) -> tuple[str, str] | None:
        """Post one message; (channel, ts) of its first part, if Slack says."""
        to = item.to
        mark = item.receipt or item.posting  # an outbox row or a scheduled post
        parts = chunks(item.message, mark.tag if mark else None)
        if isinstance(to, OnlyYou) and source.user:  # whoever acted: see _Source.user
            channel = await self._dm_channel([source.user])
        elif isinstance(to, OnlyYou | DirectMessage):
            channel = await self._dm_channel([await self._user_id(to.person_id)])
            if found := await self._already(channel, mark):
                return found
        elif isinstance(to, GroupDM):
            users = [await self._user_id(p) for p in to.person_ids]
            channel = await self._dm_channel(users)
        else:
            assert isinstance(to, Channel)
            channel = f"#{to.name}"
            if found := await self._already_in_channel(to.name, mark):
                return found
        first: tuple[str, str] | None = None
        for blocks, text in parts:
            if isinstance(to, Channel):
                await self.pacer.wait(channel)
            resp = await self.client.chat_postMessage(channel=channel, text=text, blocks=blocks)
            first = first or (str(resp.get("channel") or channel), str(resp.get("ts") or ""))
        if item.key and first and first[1]:
            await self._db_call(self._remember, item.key, *first)
        return first

    async def _already(
        self, channel: str, mark: Receipt | Posting | None
    ) -> tuple[str, str] | None:
        """A message (outbox row) or scheduled post (Delivery row) whose earlier claim ran out
        may have gone out before its process died: look for its tag in the conversation's
        recent history (`channel` is an id) before posting it again. The one history lookup
        for both: a DM's (im:history) and a channel's (channels:history)."""
        if mark is None or mark.unsure_since is None:
            return None
        oldest = (mark.unsure_since - timedelta(seconds=60)).timestamp()
        resp = await self.client.conversations_history(
            channel=channel, oldest=f"{oldest:.6f}", limit=200
        )
        first_block = f"{mark.tag}:0"
        for message in resp.get("messages") or []:
            blocks = message.get("blocks") or [{}]
            if blocks[0].get("block_id") == first_block:
                log.info("%s had been delivered; not sent again", mark.tag)
                return channel, str(message.get("ts") or "")
        return None

    async def _already_in_channel(
        self, name: str, mark: Receipt | Posting | None
    ) -> tuple[str, str] | None:
        """`_already` for a channel named in app.yaml: its id is looked up once (channels:read),
        one listing at a time, and a channel not found is remembered as such ("") so that many
        posts taken over at once do not each page through the channel list. Reading its
        history needs channels:history (groups:history for a private channel) and the bot in
        the channel; where the bot cannot look, the message is posted again: once too often
        rather than never."""
        if mark is None or mark.unsure_since is None:
            return None
        try:
            async with self._listing:
                if name not in self._channel_ids:
                    self._channel_ids[name] = await channel_id(self.client, name) or ""
            found = self._channel_ids[name]
            if not found:
                log.warning("cannot see #%s to look in it: posted again", name)
                return None
            return await self._already(found, mark)
        except SlackApiError as exc:
            error = exc.response.get("error", "error") if exc.response else "error"
            log.warning("cannot look in #%s (%s): posted again", name, error)
            return None

    def _remember(self, key: str, channel: str, ts: str) -> None:
        with self.bot.db.session() as session:
            sent.remember(session, PLATFORM, key, channel, ts, self.bot.router.now())

    async def _replace(self, to: Replace, message: Message) -> tuple[str, str] | None:
        """chat.update the message sent under `to.key`; None if it was never delivered."""

        def lookup() -> tuple[str, str] | None:
            with self.bot.db.session() as session:
                return sent.find(session, PLATFORM, to.key)

        where = await self._db_call(lookup)
        if where is None:
            return None
        blocks, text = chunks(message)[0]
        await self.client.chat_update(channel=where[0], ts=where[1], text=text, blocks=blocks)
        return where

    async def _dm_channel(self, users: list[str]) -> str:
        key = ",".join(sorted(users))
        if key not in self._dm_channels:
            resp = await self.client.conversations_open(users=key)
            self._dm_channels[key] = resp["channel"]["id"]
        return self._dm_channels[key]

    def forget(self, who: Forget) -> None:
        """Someone erased their data: their profile, Slack id and DM channels go from memory
        (see Platform.forget)."""
        self._user_ids.pop(who.person_id, None)
        for platform, user in who.addresses:
            if platform != PLATFORM:
                continue
            self._profiles.pop(user, None)
            for key in [k for k in self._dm_channels if user in k.split(",")]:
                self._dm_channels.pop(key, None)

    async def _user_id(self, person_id: int) -> str:
        """A person's Slack id (it never changes once known, so it is remembered)."""
        if person_id in self._user_ids:
            return self._user_ids[person_id]

        def lookup() -> str | None:
            with self.bot.db.session() as session:
                address = addresses.find(session, person_id, PLATFORM)
                return address.user_id if address else None

        user = await self._db_call(lookup)
        if not user:
            raise LookupError(f"person {person_id} has no Slack user id")
        self._user_ids[person_id] = user
        return user

    # --- the coordinators' channel --------------------------------------------------------
    async def check_coordinator_channel(self) -> ChannelCheck | None:
        """At start: a coordinator channel that is not private (or cannot be read) gets numbers
        only; the router is told, and the rest goes to coordinators by DM."""
        name = self.bot.settings.app.coordinators.channel
        if not name:
            return None
        result = await check_private(self.client, name)
        if result.private:
            self.bot.router.counts_only = self.bot.router.counts_only - {name}
            log.info("the coordinator channel #%s is private", name)
        else:
            self.bot.router.counts_only = self.bot.router.counts_only | {name}
            log.warning(
                "%s: the bot posts only the weekly digest's numbers there, and sends alerts and "
                "application notices to each coordinator by DM. To fix: %s, then restart.",
                result.problem,
                result.fix,
            )
        return result

    # --- App Home -----------------------------------------------------------------------------
    async def publish_home(self, actor: Actor) -> None:
        message = await self._db_call(self.bot.router.home, actor)
        blocks = to_blocks(message)[:100]
        try:
            await self.client.views_publish(
                user_id=actor.user_id, view={"type": "home", "blocks": blocks}
            )
        except SlackApiError as exc:
            log.warning(
                "views.publish failed: %s",
                exc.response.get("error", "error") if exc.response else "error",
            )

    async def _department(self, user_id: str) -> str | None:
        """The department from the configured custom profile field, if there is one."""
        field_id = self.bot.settings.app.slack.department_field
        if not field_id:
            return None
        try:
            resp = await self.client.users_profile_get(user=user_id)
        except SlackApiError:
            return None
        fields = (resp.get("profile") or {}).get("fields") or {}
        value = (fields.get(field_id) or {}).get("value")
        return value.strip()[:80] if isinstance(value, str) and value.strip() else None

    # --- people -------------------------------------------------------------------------------
    def _actor(self, user_id: str) -> Actor:
        cached = self._profiles.get(user_id)
        return cached[1] if cached else Actor(PLATFORM, user_id)

    async def _refresh_profile(self, actor: Actor) -> None:
        """users.info at most every PROFILE_TTL seconds a person (a failure is remembered too, so
        an unreadable profile is not asked for on every event)."""
        cached = self._profiles.get(actor.user_id)
        if cached and time.monotonic() < cached[0]:
            return
        try:
            resp = await self.client.users_info(user=actor.user_id)
        except SlackApiError:
            self._profiles[actor.user_id] = (time.monotonic() + PROFILE_TTL / 12, actor)
            return
        user = resp.get("user") or {}
        profile = user.get("profile") or {}
        fresh = Actor(
            PLATFORM,
            actor.user_id,
            name=profile.get("display_name") or profile.get("real_name") or user.get("name"),
            email=profile.get("email"),
            tz=user.get("tz"),
            department=await self._department(actor.user_id),
            title=profile.get("title") or None,
        )
        self._profiles[actor.user_id] = (time.monotonic() + PROFILE_TTL, fresh)
        try:
            await self._db_call(self.bot.router.update_profile, fresh)
        except Exception as exc:  # a profile is a cache: the event itself must still be answered
            log.warning("could not save a Slack profile: %s", exc.__class__.__name__)


def _string(value: object) -> str | None:
    """A payload's field if it is a string (Socket Mode payloads reach Bolt unchecked)."""
    return value if isinstance(value, str) else None


def _command_id(command: dict[str, Any]) -> str | None:
    """A slash command's event id: "cmd:" and the trigger id Slack made for this one command,
    with a digest of its response_url (also made for it alone), so that a client whose trigger
    ids start again from 1 (the tests' harness, run twice on one database) is not taken for a
    replay. A replay repeats both: the signature covers them. None without a trigger id."""
    trigger = _string(command.get("trigger_id"))
    if not trigger:
        return None
    url = _string(command.get("response_url")) or ""
    return f"cmd:{trigger[:80]}:{hashlib.sha256(url.encode()).hexdigest()[:16]}"


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _pressed(action: dict[str, Any]) -> tuple[str, str]:
    """The (action, value) of a press. One whose id or value is not a string is no button the
    bot made: it names no action, so the router answers it as out of date, and no message
    has such a button to mark pressed."""
    action_id, value = action.get("action_id"), action.get("value")
    if not isinstance(action_id, str) or not isinstance(value, str | None):
        return "", ""
    return action_name(action_id), value or ""


def _fits_one_reply(items: list[Outgoing]) -> bool:
    """Whether these replies go in the ack (Router.dispatch writes their rows already sent)."""
    return _one_reply(items) is not None


def _one_reply(items: list[Outgoing]) -> tuple[list[dict[str, Any]], str] | None:
    """The replies only the actor sees (the crisis lines and the answer), as the blocks and
    text of one ack, each part tagged with its outbox row; None if there are none or they do
    not fit in one message."""
    if not items:
        return None
    blocks: list[dict[str, Any]] = []
    for item in items:
        parts = chunks(item.message, item.receipt.tag if item.receipt else None)
        if len(parts) > 1:
            return None
        blocks.extend(parts[0][0])
    if len(blocks) > MAX_BLOCKS:
        return None
    merged = Message(tuple(b for item in items for b in item.message.blocks))
    return blocks, fallback(merged)
