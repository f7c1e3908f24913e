"""Microsoft Teams through the Microsoft 365 Agents SDK: activities in, Adaptive Cards out.

Teams posts activities to `/api/messages`. The token is checked first (auth.py; or, with
ALLYBOT_TEAMS_NO_AUTH=1, only a loopback serviceUrl is accepted); the SDK's CloudAdapter then
parses the activity and runs this platform's `on_turn`. Messages are acknowledged at once and
handled in the background; a card button (an `adaptiveCard/action` invoke) is handled inline,
because its answer is the card that replaces the pressed one.

Everything the bot sends goes through `Connector` after the change behind it is committed:
proactive messages into each person's personal chat (opened with their Entra object id when
there is none yet), never into the channel where someone asked. Teams cannot start a chat
between two people, so a hand-off gives each a link that opens a 1:1 chat with the other.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import html
import logging
import re
import time
import warnings
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from aiohttp import web
from microsoft_agents.activity import Activity, InvokeResponse
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import ChannelServiceClientFactoryBase, TurnContext
from microsoft_agents.hosting.core.authorization import ClaimsIdentity
from microsoft_agents.hosting.core.connector.client import UserTokenClient
from microsoft_agents.hosting.core.connector.teams import TeamsConnectorClient
from pydantic import ValidationError

from bot.config import teams_channel
from bot.events import MENTION, Action, Actor, Command, Event, Mention, Place, PlaceKind, Text
from bot.messages import (
    Channel,
    DirectMessage,
    Forget,
    GroupDM,
    Message,
    Note,
    OnlyYou,
    Outgoing,
    Replace,
    Section,
    Span,
)
from bot.platforms.base import Elsewhere
from bot.platforms.cache import Lru
from bot.platforms.teams import cards
from bot.platforms.teams.auth import TokenValidator, Unauthorized
from bot.platforms.teams.connector import (
    Connector,
    MsalTokens,
    NoTokens,
    TokenSource,
    Unreachable,
    is_loopback,
)
from bot.platforms.work import Background, Receipts, db_call
from bot.router import COMMANDS
from storage import addresses, sent
from storage.addresses import Address
from storage.models import Person

if TYPE_CHECKING:
    from bot.app import AllyBot

log = logging.getLogger(__name__)

PLATFORM = "teams"
LOCAL_APP_ID = "00000000-0000-0000-0000-00000000a11b"  # the bot's id when run without one
PROFILE_TTL = 6 * 3600.0
MAX_BODY = 256 * 1024  # Teams' own limit for an activity is about 80 KB
REMEMBERED_CARDS = 2000
MAX_MENTIONS = 10
REFERENCE_TTL = 600.0  # a reference kept by this process is trusted this long without a read
# Words that start a command in a chat (Teams has no slash commands). A word that takes
# arguments counts when it begins a message; the others only as the whole message, so an
# answer in the questionnaire such as "allies should listen" stays an answer. A word whose
# arguments are a few words of its own counts only with one of those ("privacy delete", but
# not "privacy matters to me"). A leading "/" always makes a command.
WITH_ARGUMENTS = {"findally", "allystatus", "allyapply", "allyadmin", "allyfeedback"}
# handlers/privacy.py `command`: the words that go straight to the export or the erasure
WITH_WORDS = {"allyprivacy": frozenset({"export", "send", "copy", "delete", "erase", "forget"})}
ALIASES = {"apply": "allyapply", "privacy": "allyprivacy"}
_AT = re.compile(r"<at>(.*?)</at>", re.IGNORECASE | re.DOTALL)


class TurnClients(ChannelServiceClientFactoryBase):
    """The clients the SDK attaches to each turn, with no token. This bot never answers through
    them: every send goes through `Connector` after the commit (paced, retried). The benchmark's
    bare app uses them to reply in the turn, as a no-auth Agents SDK bot does."""

    async def create_connector_client(
        self,
        context: Any,
        claims_identity: Any,
        service_url: str,
        audience: str,
        *args: Any,
        **kw: Any,
    ) -> TeamsConnectorClient:
        return TeamsConnectorClient(endpoint=service_url, token="")

    async def create_user_token_client(
        self, context: Any, claims_identity: Any, use_anonymous: bool = False
    ) -> UserTokenClient:
        return UserTokenClient(endpoint="https://token.invalid/", token="", app_id="allybot")


class TeamsPlatform:
    name = PLATFORM

    def __init__(
        self,
        bot: AllyBot,
        tokens: TokenSource | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        retry_base: float = 0.5,
    ):
        s = bot.settings
        self.bot = bot
        self.no_auth = s.teams_no_auth
        self.app_id = s.teams_app_id or LOCAL_APP_ID
        self.bot_id = f"28:{self.app_id}"
        if tokens is None:
            tokens = (
                NoTokens()
                if self.no_auth
                else MsalTokens(self.app_id, s.teams_app_password or "", s.teams_tenant_id)
            )
        self.connector = Connector(
            tokens, loopback_only=self.no_auth, clock=clock, sleep=sleep, retry_base=retry_base
        )
        self.validator = (
            None
            if self.no_auth
            else TokenValidator(self.app_id, s.teams_openid_url, s.teams_tenant_id)
        )
        self.adapter = CloudAdapter(channel_service_client_factory=TurnClients())
        self.adapter.on_turn_error = self._turn_error  # the SDK's own tells the user the error
        self.fanout: Elsewhere | None = None
        self._background = Background("Teams")
        size = s.app.platforms.cache_size
        # aad -> (fresh until, actor, upn)
        self._profiles: Lru[str, tuple[float, Actor, str | None]] = Lru(size)
        # (conversation, activity id) -> what the card showed: ids are unique per chat only
        self._cards: OrderedDict[tuple[str, str], Message] = OrderedDict()
        # aad -> (the reference last kept, until when): several replicas may write it too
        self._references: Lru[str, tuple[tuple[str | None, ...], float]] = Lru(size)
        bot.router.on_forget.append(self.forget)
        if self.no_auth:
            log.warning(
                "ALLYBOT_TEAMS_NO_AUTH=1: Teams requests are NOT authenticated. Only activities "
                "from a loopback serviceUrl are accepted and no token is sent. Never use this "
                "in production."
            )

    # --- the Platform contract ----------------------------------------------------------------
    def render(self, message: Message) -> dict[str, Any]:
        return cards.to_card(message)

    def add_routes(self, web_app: web.Application) -> None:
        web_app.router.add_post("/api/messages", self.receive)
        web_app.on_cleanup.append(self._close)

    async def deliver(self, out: list[Outgoing], routed: bool = False) -> None:
        await self._deliver(out, routed)

    async def broadcast(self, item: Outgoing) -> bool:
        """A scheduled post: True once the channel has it. The Bot Connector has no history to
        look in, so a post whose sender died after Teams took it and before it was marked sent
        is posted again when its claim runs out (`item.posting.unsure_since`): on Teams such a
        post is at least once, where Slack checks the channel and posts it once."""
        try:
            await self._post(item, scheduled=True)
            return True
        except Exception as exc:
            log.error("teams scheduled post failed: %s", _why(exc))
            return False

    async def drain(self) -> None:
        await self._background.drain()

    async def _close(self, _app: web.Application) -> None:
        await self.drain()
        await self.connector.close()
        if self.validator is not None:
            await self.validator.close()

    # --- in -----------------------------------------------------------------------------------
    async def receive(self, request: web.Request) -> web.StreamResponse:
        """POST /api/messages: authenticate, then hand the activity to the SDK's adapter."""
        if (request.content_length or 0) > MAX_BODY:
            return web.json_response({"error": "activity too large"}, status=413)
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError, web.HTTPException):
            return web.json_response({"error": "the body is not JSON"}, status=400)
        if not isinstance(body, dict) or not _from_someone(body):
            return web.json_response({"error": "the body is not an activity"}, status=400)
        service_url = body.get("serviceUrl") if isinstance(body.get("serviceUrl"), str) else None
        if self.no_auth:
            # Without tokens, only this machine may talk to the bot, about this machine.
            if not is_loopback(service_url) or not is_loopback(f"http://{request.remote}/"):
                log.warning("refused an activity from off this machine (no-auth mode)")
                return web.json_response({"error": "unauthorized"}, status=401)
            identity = ClaimsIdentity({}, authentication_type="anonymous")
        else:
            assert self.validator is not None
            try:
                claims = await self.validator.validate(
                    request.headers.get("Authorization"), service_url
                )
            except Unauthorized:
                return web.json_response({"error": "unauthorized"}, status=401)
            identity = ClaimsIdentity(claims, authentication_type="Bearer")
        tenant = self.bot.settings.teams_tenant_id
        if tenant and _body_tenant(body) not in (None, tenant.lower()):
            # Another organisation's user (a shared channel, a multi-tenant registration): their
            # email must never claim someone of ours, so the bot does not talk to them at all.
            log.warning("refused an activity from another tenant")
            return web.json_response({"error": "unauthorized"}, status=401)
        # The SDK's aiohttp adapter reads the identity from this plain string key.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", web.NotAppKeyWarning)
            request["claims_identity"] = identity
        try:
            response = await self.adapter.process(request, self)
        except (ValidationError, ValueError, TypeError):
            return web.json_response({"error": "the body is not a valid activity"}, status=400)
        return response or web.Response(status=200)

    async def on_turn(self, context: TurnContext) -> None:
        """The SDK's callback for each activity (this platform is the SDK's Agent)."""
        activity = context.activity
        if activity.type == "message":
            self._background.start(self._on_message(activity))
        elif activity.type == "invoke" and activity.name == "adaptiveCard/action":
            body = await self._on_card_action(activity)
            await context.send_activity(
                Activity(type="invokeResponse", value=InvokeResponse(status=200, body=body))
            )
        elif activity.type in ("installationUpdate", "conversationUpdate"):
            self._background.start(self._on_install(activity))

    async def _turn_error(self, _context: TurnContext, error: Exception) -> None:
        log.error("teams turn failed: %s", _why(error))

    async def _on_message(self, activity: Activity) -> None:
        actor, upn = await self._actor(activity)
        kind = _place_kind(activity)
        place = Place(kind, activity.conversation.id if kind != "dm" else None)
        event_id = _event_id(activity)
        pressed = cards.pressed(activity.value) if activity.value is not None else None
        event: Event
        if pressed is not None:  # an Action.Submit from an older client
            event = Action(pressed[0], pressed[1], actor, place, event_id=event_id)
        else:
            text, mentions = await self._words(activity)
            event = _command_or_text(text, actor, place, mentions, event_id)
        out = await db_call(self.bot.db, self.bot.router.dispatch, event)
        await self._keep_reference(activity, actor, upn)
        if kind != "dm" and (person_id := _first_person(out)) is not None:
            out.insert(0, Outgoing(OnlyYou(person_id), self._answered_here()))
        await self._deliver(out, asker=_asker(activity))

    async def _on_card_action(self, activity: Activity) -> dict[str, Any]:
        """A card button: handled now, its answer is the card that replaces the pressed one."""
        pressed = cards.pressed(activity.value)
        if pressed is None:
            return cards.invoke_message_response(self.bot.content.plain("help.stale_button"))
        actor = self._cached_actor(activity)
        kind = _place_kind(activity)
        event = Action(pressed[0], pressed[1], actor, Place(kind), event_id=_event_id(activity))
        out = await db_call(self.bot.db, self.bot.router.dispatch, event)
        await self._keep_reference(activity, actor, None)
        shown = self._cards.get((_chat(activity), activity.reply_to_id or ""))
        # A handler that rewrote the pressed message itself (a closed offer) decides what it
        # shows; a refused press leaves a shared card as it was.
        rewrite = None
        if any(isinstance(o.to, Replace) for o in out):  # else nothing to read (or down)
            rewrite = await db_call(
                self.bot.db, self._rewrite_of, out, _chat(activity), activity.reply_to_id
            )
        if rewrite is not None:
            out.remove(rewrite)
            card = cards.to_card(rewrite.message)
            self._remember_card(_chat(activity), activity.reply_to_id, rewrite.message)
        elif out.keep_pressed or shown is None or kind != "dm":
            # A card in a shared chat (an awareness post) stays pressable for everyone.
            card = None
        else:
            label = next((b.label for b in shown.buttons() if (b.action, b.value) == pressed), None)
            card = cards.to_card(
                shown, done=label or self.bot.content.plain("platforms.teams_pressed")
            )
        self._background.start(self._deliver(out, asker=_asker(activity)))
        if card is not None:
            return cards.invoke_card_response(card)
        # The card stays as it was; Teams shows this line under it. A refused press says why
        # (the same words also arrive in the chat).
        reply = next((o.message for o in out if isinstance(o.to, OnlyYou)), None)
        words = reply.fallback_text() if reply and out.keep_pressed else ""
        return cards.invoke_message_response(
            words[:200] or self.bot.content.plain("platforms.teams_pressed")
        )

    async def _on_install(self, activity: Activity) -> None:
        """Keep the conversation reference; welcome someone who has just added the bot."""
        kind = _place_kind(activity)
        added = [m.id for m in activity.members_added or []]
        if kind != "dm":
            if self.bot_id in added or activity.action == "add":
                log.info(
                    "added to a Teams %s (conversation %s): list a channel under "
                    "teams.awareness_channels in app.yaml for awareness posts there",
                    "channel" if kind == "channel" else "group chat",
                    activity.conversation.id[:80],
                )
            return
        actor, upn = await self._actor(activity)
        if activity.type == "installationUpdate" and activity.action in (
            "remove",
            "remove-upgrade",
        ):
            await db_call(self.bot.db, self._forget, actor)
            return
        await db_call(self.bot.db, self.bot.router.update_profile, actor)
        await db_call(self.bot.db, self._remember, activity, actor, upn)
        if activity.type == "installationUpdate" and activity.action == "add":  # not upgrades
            welcome = await db_call(self.bot.db, self.bot.router.home, actor)
            person_id = await db_call(self.bot.db, self._person_id, actor.user_id)
            if person_id is not None:
                await self._deliver([Outgoing(DirectMessage(person_id), welcome)])

    # --- people -------------------------------------------------------------------------------
    async def _actor(self, activity: Activity) -> tuple[Actor, str | None]:
        """Who wrote, with their email and sign-in name from the member list (cached)."""
        user = activity.from_property
        aad = _user_id(activity)
        cached = self._profiles.get(aad)
        if cached and cached[0] > time.monotonic():
            return cached[1], cached[2]
        member: dict[str, Any] = {}
        try:
            member = await self.connector.member(
                activity.service_url, _tenant(activity), activity.conversation.id, user.id
            )
        except Exception as exc:  # the profile is a cache: go on without it
            log.info("teams member lookup failed: %s", _why(exc))
        email = member.get("email") or None
        upn = member.get("userPrincipalName") or None
        actor = Actor(
            PLATFORM,
            member.get("aadObjectId") or aad,
            name=member.get("name") or user.name,
            email=email.lower() if isinstance(email, str) else None,
        )
        ttl = PROFILE_TTL if member else PROFILE_TTL / 12
        self._profiles[aad] = (time.monotonic() + ttl, actor, upn)
        return actor, upn

    def _cached_actor(self, activity: Activity) -> Actor:
        aad = _user_id(activity)
        cached = self._profiles.get(aad)
        return cached[1] if cached else Actor(PLATFORM, aad, name=activity.from_property.name)

    async def _keep_reference(self, activity: Activity, actor: Actor, upn: str | None) -> None:
        """`_remember`, which must never stop the event being answered: if the database
        cannot take it now, the next message keeps it."""
        try:
            await db_call(self.bot.db, self._remember, activity, actor, upn)
        except Exception as exc:
            log.warning("could not keep a Teams conversation reference: %s", _why(exc))

    def _remember(self, activity: Activity, actor: Actor, upn: str | None) -> None:
        """Bookkeeping: how to write to this person later (their personal chat, where it is).
        What this process has already written is not read again (most messages come from
        known chats); a refused send forgets it, so their next message clears the mark."""
        personal = _place_kind(activity) == "dm"
        reference = (
            activity.from_property.id,
            activity.conversation.id if personal else None,
            activity.service_url,
            _tenant(activity),
            upn,
        )
        kept = self._references.get(actor.user_id)
        if kept is not None and kept[0] == reference and kept[1] > time.monotonic():
            return
        with self.bot.db.session() as session:
            person = addresses.person_with(session, PLATFORM, actor.user_id)
            if person is None or person.id is None:
                return
            addresses.remember_reference(
                session,
                person.id,
                PLATFORM,
                actor.user_id,
                self.bot.router.now(),
                chat_user_id=activity.from_property.id,
                conversation_id=activity.conversation.id if personal else None,
                service_url=activity.service_url,
                tenant_id=_tenant(activity),
                upn=upn,
            )
        if reference[1] is not None:
            self._references[actor.user_id] = (reference, time.monotonic() + REFERENCE_TTL)

    def _forget(self, actor: Actor) -> None:
        self._references.pop(actor.user_id, None)
        with self.bot.db.session() as session:
            addresses.forget_conversation(session, PLATFORM, actor.user_id, self.bot.router.now())

    def forget(self, who: Forget) -> None:
        """Someone erased their data: their profile, chat reference and the cards shown in
        their chat go from memory (see Platform.forget)."""
        for platform, aad in who.addresses:
            if platform != PLATFORM:
                continue
            self._profiles.pop(aad, None)
            kept = self._references.pop(aad, None)
            chat = kept[0][1] if kept else None
            if chat:
                for shown in [k for k in self._cards if k[0] == chat]:
                    del self._cards[shown]

    def _person_id(self, user_id: str) -> int | None:
        with self.bot.db.session() as session:
            person = addresses.person_with(session, PLATFORM, user_id)
            return person.id if person else None

    async def _words(self, activity: Activity) -> tuple[str, tuple[Mention, ...]]:
        """The text without the bot's own @mention; other mentions become MENTION marks."""
        text = activity.text or ""
        named: dict[str, str] = {}  # "<at>Name</at>" -> user id (29:...)
        for entity in activity.entities or []:
            data = entity.model_dump(by_alias=True)
            mentioned = data.get("mentioned") or {}
            if data.get("type") == "mention" and isinstance(data.get("text"), str):
                named[data["text"]] = str(mentioned.get("id") or "")
        text = text.replace(MENTION, "")
        mentions: list[Mention] = []
        pieces: list[str] = []
        looked_up: dict[str, str] = {}  # 29: id -> Entra object id, once per message
        last = 0
        for match in _AT.finditer(text):
            pieces.append(text[last : match.start()])
            last = match.end()
            user_id = named.get(match.group(0), "")
            if not user_id or user_id == (activity.recipient.id if activity.recipient else None):
                continue  # the bot itself, or markup someone typed: dropped
            if len(mentions) == MAX_MENTIONS:
                continue  # no command names more people; more would be a flood of lookups
            if user_id not in looked_up:
                looked_up[user_id] = await self._aad_of(activity, user_id)
            shown = "@" + html.unescape(match.group(1)).strip()[:80]
            mentions.append(Mention(looked_up[user_id], shown))
            pieces.append(MENTION)
        pieces.append(text[last:])
        return html.unescape("".join(pieces)).strip(), tuple(mentions)

    async def _aad_of(self, activity: Activity, user_id: str) -> str:
        try:
            member = await self.connector.member(
                activity.service_url, _tenant(activity), activity.conversation.id, user_id
            )
            return str(member.get("aadObjectId") or user_id)
        except Exception:
            return user_id

    # --- out ----------------------------------------------------------------------------------
    async def _deliver(
        self, out: list[Outgoing], routed: bool = False, asker: Address | None = None
    ) -> None:
        """Send each message. `asker`: the personal chat of whoever acted, where replies only
        they see go straight back, with nothing read first (the database may be what failed,
        or hold no person for them any more)."""
        if self.fanout is not None and not routed:
            out = await self.fanout.elsewhere(out, self.name)
        receipts = Receipts(PLATFORM)
        for item in out:
            where: tuple[str, str] | None
            try:
                if isinstance(item.to, OnlyYou) and asker is not None and item.key is None:
                    where = await self._to_chat(asker, item.message)
                else:
                    where = await self._send(item)
                receipts.sent(item, *(where or (None, None)))
            except Unreachable as exc:
                receipts.failed(item, gone=True)  # the router moves the offer on, if it was one
                await receipts.settle(self.bot.db, self.bot.router)
                await self._unreachable(item, str(exc))
                continue
            except LookupError:
                log.error("teams %s failed: nobody to send it to", type(item.to).__name__)
                receipts.failed(item, gone=True)
            except Exception as exc:
                log.error("teams %s failed: %s", type(item.to).__name__, _why(exc))
                receipts.failed(item)
            await receipts.settle(self.bot.db, self.bot.router)  # each as soon as it is out

    async def _send(self, item: Outgoing) -> tuple[str, str] | None:
        """Send one message; (conversation, activity id) where Teams says."""
        to = item.to
        if isinstance(to, Replace):
            await self._replace(to, item.message)
        elif isinstance(to, GroupDM):
            await self._pair(to, item.message)
        elif isinstance(to, Channel):
            await self._post(item)
        else:
            assert isinstance(to, OnlyYou | DirectMessage)
            return await self._to_person(to.person_id, item.message, item.key)
        return None

    async def _to_person(
        self, person_id: int, message: Message, key: str | None = None
    ) -> tuple[str, str] | None:
        address = await self._address(person_id)
        if key:
            delivered: bool = await db_call(self.bot.db, self._sent_before, key)
            if delivered:
                return None  # delivered before a restart: a keyed message goes out once
        if not address.conversation_id:
            address = await self._open_chat(address)
        conversation = address.conversation_id or ""
        activity_id = await self.connector.send(
            self._service_url(address), self._tenant_of(address), conversation, _activity(message)
        )
        self._remember_card(conversation, activity_id, message)
        if key and activity_id:
            await db_call(self.bot.db, self._record, key, conversation, activity_id)
        return conversation, activity_id or ""

    async def _to_chat(self, address: Address, message: Message) -> tuple[str, str]:
        """Send into a chat already known (the asker's own, from their activity)."""
        conversation = address.conversation_id or ""
        activity_id = await self.connector.send(
            self._service_url(address), self._tenant_of(address), conversation, _activity(message)
        )
        self._remember_card(conversation, activity_id, message)
        return conversation, activity_id or ""

    async def _pair(self, to: GroupDM, message: Message) -> None:
        """Teams cannot make a chat for two: each gets the message and a link that opens a 1:1
        chat with the other (by sign-in name)."""
        for person_id in to.person_ids:
            links: list[Section | Note] = [Note(self.bot.content.rich("platforms.teams_chat_hint"))]
            for other_id in to.person_ids:
                if other_id == person_id:
                    continue
                other = await self._address(other_id)
                name, sign_in = await self._sign_in(other)
                url = "https://teams.microsoft.com/l/chat/0/0?users=" + quote(sign_in, safe="@.")
                label = self.bot.content.plain("platforms.teams_open_chat", name=name)
                links.append(Section((Span(label, bold=True, url=url),)))
            await self._to_person(person_id, Message(message.blocks + tuple(links)))

    async def _post(self, item: Outgoing, scheduled: bool = False) -> None:
        assert isinstance(item.to, Channel)
        channel_id = teams_channel(self.bot.settings.app, item.to.name, scheduled)
        if channel_id is None:
            return  # a Slack or shell channel name: Teams has only the channels app.yaml lists
        tenant = self.bot.settings.teams_tenant_id
        service_url = (
            await db_call(self.bot.db, self._latest_service_url, tenant)
            or self.bot.settings.app.teams.service_url
        )
        activity_id = await self.connector.send(
            service_url, tenant, channel_id, _activity(item.message)
        )
        self._remember_card(channel_id, activity_id, item.message)

    async def _replace(self, to: Replace, message: Message) -> None:
        where = await db_call(self.bot.db, self._where_sent, to.key)
        if where is None:
            return  # never delivered: the new wording is not news of its own
        address = await self._address(to.person_id)
        await self.connector.update(
            self._service_url(address),
            self._tenant_of(address),
            where[0],
            where[1],
            _activity(message),
        )
        self._remember_card(where[0], where[1], message)

    async def _unreachable(self, item: Outgoing, code: str) -> None:
        to = item.to
        if not isinstance(to, OnlyYou | DirectMessage):
            log.warning("teams refused a %s: %s", type(to).__name__, code)
            return
        log.warning("teams cannot reach person %s: %s", to.person_id, code)
        address = await self._address(to.person_id)
        self._references.pop(address.user_id, None)
        out = await db_call(
            self.bot.db,
            self.bot.router.unreachable,
            to.person_id,
            PLATFORM,
            address.user_id,
            item.key,
        )
        if out:
            # A message that cannot reach its person would come back here: drop theirs, and
            # settle it as undeliverable, or the sweeper would try it (and come back) again.
            theirs = [o for o in out if getattr(o.to, "person_id", None) == to.person_id]
            dropped = Receipts(PLATFORM)
            for item in theirs:
                dropped.failed(item, gone=True)
            await dropped.settle(self.bot.db, self.bot.router)
            await self._deliver([o for o in out if o not in theirs])

    # --- addresses ----------------------------------------------------------------------------
    async def _address(self, person_id: int) -> Address:
        def lookup() -> Address | None:
            with self.bot.db.session() as session:
                return addresses.find(session, person_id, PLATFORM)

        address = await db_call(self.bot.db, lookup)
        if address is None:
            raise LookupError(f"person {person_id} has no Teams address")
        return address

    async def _open_chat(self, address: Address) -> Address:
        """The address with the chat Teams opened (or found), and where that chat lives."""
        service_url = self._service_url(address)
        # Teams refuses a 1:1 chat without a tenant: someone imported from a roster has none
        # yet, and a multi-tenant registration configures none, so take the organisation's
        # (the tenant the bot last heard from).
        tenant = self._tenant_of(address) or await db_call(self.bot.db, self._latest_tenant)
        if not address.service_url:
            latest: str | None = await db_call(self.bot.db, self._latest_service_url, tenant)
            service_url = latest or service_url
        conversation = await self.connector.open_chat(
            service_url,
            tenant,
            self.bot_id,
            address.chat_user_id or address.user_id,
        )

        def keep() -> None:
            with self.bot.db.session() as session:
                addresses.remember_reference(
                    session,
                    address.person_id,
                    PLATFORM,
                    address.user_id,
                    self.bot.router.now(),
                    conversation_id=conversation,
                    service_url=service_url,
                    tenant_id=tenant,
                )

        await db_call(self.bot.db, keep)
        return dataclasses.replace(
            address, conversation_id=conversation, service_url=service_url, tenant_id=tenant
        )

    async def _sign_in(self, address: Address) -> tuple[str, str]:
        """(display name, sign-in name) for a chat link: the UPN Teams reported, else read from
        the member list, else their email."""

        def person() -> tuple[str, str | None]:
            with self.bot.db.session() as session:
                row = session.get(Person, address.person_id)
                return (row.display_name, row.email) if row else ("", None)

        name, email = await db_call(self.bot.db, person)
        if address.upn:
            return name, address.upn
        try:
            if not address.conversation_id:
                address = await self._open_chat(address)
            member = await self.connector.member(
                self._service_url(address),
                self._tenant_of(address),
                address.conversation_id or "",
                address.chat_user_id or address.user_id,
            )
            upn = member.get("userPrincipalName")
            if isinstance(upn, str) and upn:
                return name, upn
        except Unreachable:
            raise
        except Exception as exc:
            log.info("teams sign-in name lookup failed: %s", _why(exc))
        return name, email or address.user_id

    def _service_url(self, address: Address) -> str:
        return address.service_url or self.bot.settings.app.teams.service_url

    def _tenant_of(self, address: Address) -> str | None:
        return address.tenant_id or self.bot.settings.teams_tenant_id

    def _latest_tenant(self) -> str | None:
        with self.bot.db.session() as session:
            return addresses.latest_tenant(session, PLATFORM)

    def _latest_service_url(self, tenant: str | None) -> str | None:
        with self.bot.db.session() as session:
            return addresses.latest_service_url(session, PLATFORM, tenant)

    # --- what was sent ------------------------------------------------------------------------
    def _sent_before(self, key: str) -> bool:
        with self.bot.db.session() as session:
            return sent.find(session, PLATFORM, key) is not None

    def _record(self, key: str, conversation: str, activity_id: str) -> None:
        with self.bot.db.session() as session:
            sent.remember(session, PLATFORM, key, conversation, activity_id, self.bot.router.now())

    def _where_sent(self, key: str) -> tuple[str, str] | None:
        with self.bot.db.session() as session:
            return sent.find(session, PLATFORM, key)

    def _rewrite_of(
        self, out: list[Outgoing], chat: str, activity_id: str | None
    ) -> Outgoing | None:
        """The item of `out` that rewrites the message with this id in this chat, if any."""
        if not activity_id:
            return None
        with self.bot.db.session() as session:
            for item in out:
                to = item.to
                if isinstance(to, Replace) and sent.find(session, PLATFORM, to.key) == (
                    chat,
                    activity_id,
                ):
                    return item
        return None

    def _remember_card(self, chat: str, activity_id: str | None, message: Message) -> None:
        """What a card showed, to show it again as pressed. In memory only: after a restart a
        press on an older card is still handled, and its card just keeps its buttons."""
        if not activity_id or not message.buttons():
            return
        self._cards[(chat, activity_id)] = message
        self._cards.move_to_end((chat, activity_id))
        while len(self._cards) > REMEMBERED_CARDS:
            self._cards.popitem(last=False)

    def _answered_here(self) -> Message:
        return Message((Note(self.bot.content.rich("platforms.teams_answered_here")),))


# --- helpers ----------------------------------------------------------------------------------
def _activity(message: Message) -> dict[str, Any]:
    return {
        "type": "message",
        "summary": " ".join(message.fallback_text().split())[:200],  # plain text to Teams
        "attachments": [cards.card_attachment(cards.to_card(message))],
    }


def _from_someone(body: dict[str, Any]) -> bool:
    """Activities that people send carry who sent them; the bot reads nothing else."""
    if body.get("type") not in ("message", "invoke", "installationUpdate", "conversationUpdate"):
        return True
    sender = body.get("from")
    return isinstance(sender, dict) and isinstance(sender.get("id"), str) and bool(sender["id"])


def _body_tenant(body: dict[str, Any]) -> str | None:
    """The tenant an activity comes from, as Teams puts it in the conversation or channelData."""
    conversation = _mapping(body.get("conversation"))
    tenant = _mapping(_mapping(body.get("channelData")).get("tenant"))
    found = conversation.get("tenantId") or tenant.get("id")
    return found.lower() if isinstance(found, str) else None


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _user_id(activity: Activity) -> str:
    """Who an activity is from, as the bot knows them: the Entra object id (stable, what a
    roster names), else Teams' own id for them."""
    user = activity.from_property
    return user.aad_object_id or user.id


def _chat(activity: Activity) -> str:
    return activity.conversation.id if activity.conversation else ""


def _place_kind(activity: Activity) -> PlaceKind:
    kind = (
        activity.conversation.conversation_type if activity.conversation else None
    ) or "personal"
    if kind == "personal":
        return "dm"
    return "channel" if kind == "channel" else "group"


def _tenant(activity: Activity) -> str | None:
    if activity.conversation and activity.conversation.tenant_id:
        return activity.conversation.tenant_id
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = data.get("tenant") or {}
    return tenant.get("id") if isinstance(tenant, dict) else None


def _event_id(activity: Activity) -> str | None:
    """A dedupe id: Teams activity ids are unique only within their conversation."""
    if not activity.id:
        return None
    raw = f"{activity.conversation.id}/{activity.id}".encode()
    return "teams:" + hashlib.sha256(raw).hexdigest()[:40]


def _command_or_text(
    text: str, actor: Actor, place: Place, mentions: tuple[Mention, ...], event_id: str | None
) -> Event:
    first, _, rest = text.partition(" ")
    word = first.lower()
    slash = word.startswith("/")
    name = ALIASES.get(word.lstrip("/"), word.lstrip("/"))
    args = rest.strip()
    takes = name in WITH_ARGUMENTS or args.lower() in WITH_WORDS.get(name, frozenset())
    if name in COMMANDS and (slash or not args or takes):
        return Command(name, args, actor, place, event_id=event_id, mentions=mentions)
    if mentions:  # mentions mean something only in a command: keep them as they read
        shown = iter(m.shown for m in mentions)
        text = "".join(next(shown, "") if ch == MENTION else ch for ch in text)
    return Text(text, actor, place, event_id=event_id)


def _asker(activity: Activity) -> Address | None:
    """The personal chat the activity came from, as an address (None from a channel or a
    group chat: replies only the asker sees then go to their personal chat, by the database)."""
    if _place_kind(activity) != "dm":
        return None
    return Address(
        person_id=0,
        platform=PLATFORM,
        user_id=_user_id(activity),
        chat_user_id=activity.from_property.id,
        conversation_id=activity.conversation.id,
        service_url=activity.service_url,
        tenant_id=_tenant(activity),
    )


def _first_person(out: list[Outgoing]) -> int | None:
    """Whom the replies to an event are for (the actor)."""
    return next((item.to.person_id for item in out if isinstance(item.to, OnlyYou)), None)


def _why(exc: BaseException) -> str:
    status = getattr(exc, "status", None)
    return f"{type(exc).__name__}{f' {status}' if status else ''}"
