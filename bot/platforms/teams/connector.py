"""Calls to the Bot Connector service (the far side of Teams): send, update, open a chat, read
a member, through the Agents SDK's connector client, at Teams' pace and with its retries.

Teams allows about 7 messages a second into one conversation and 50 requests a second per
tenant; it answers 429 with Retry-After when pushed, and 412, 502, 503 or 504 when busy, all
worth a retry. A 403 naming a blocked or missing bot is final: `Unreachable`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import aiohttp
from microsoft_agents.activity import Activity, ConversationParameters
from microsoft_agents.hosting.core.connector.teams import TeamsConnectorClient

from bot.platforms.pacing import Pacer

log = logging.getLogger(__name__)

BOT_CONNECTOR = "https://api.botframework.com"
PER_CONVERSATION = 1 / 7
PER_TENANT = 1 / 50
RETRIED = frozenset({412, 429, 502, 503, 504})
ATTEMPTS = 4
MAX_RETRY_AFTER = 60.0
MAX_RETIRED = 64  # retired clients kept open at most (each is closed long after its last use)
CLIENT_TTL = 30 * 60.0  # a connector client carries its token: renew it well inside an hour
# What Teams says when a person cannot get messages from the bot: they blocked it, or it is
# not installed for them (the admin has not pre-installed it and they never added it).
UNREACHABLE_CODES = (
    "MessageWritesBlocked",
    "ConversationBlockedByUser",
    "BotNotInConversationRoster",
    "BotDisabledByAdmin",
    "UserNotFound",
)


class Unreachable(Exception):
    """Teams refused to deliver to this person; retrying will not help."""


class TokenSource(Protocol):
    """Bearer tokens for calls to the Bot Connector."""

    async def token(self) -> str:
        """A current token ('' to send none)."""
        ...


class NoTokens:
    """`ALLYBOT_TEAMS_NO_AUTH=1`: nothing goes out with a token (and only to loopback)."""

    async def token(self) -> str:
        return ""


class MsalTokens:
    """Tokens for the bot's Entra app registration (client id and secret), from MSAL through
    the Agents SDK, which caches them until shortly before they expire."""

    def __init__(self, app_id: str, password: str, tenant_id: str | None):
        from microsoft_agents.authentication.msal import MsalAuth
        from microsoft_agents.hosting.core import AgentAuthConfiguration

        self._auth = MsalAuth(
            AgentAuthConfiguration(client_id=app_id, client_secret=password, tenant_id=tenant_id)
        )

    async def token(self) -> str:
        # MSAL is synchronous, and builds its client (tenant discovery over HTTP) on first use:
        # all of it runs on a thread of its own, never on the bot's event loop.
        return await asyncio.to_thread(asyncio.run, self._fetch())

    async def _fetch(self) -> str:
        return await self._auth.get_access_token(BOT_CONNECTOR, [f"{BOT_CONNECTOR}/.default"])


@dataclass
class _Client:
    client: TeamsConnectorClient
    fresh_until: float


def is_loopback(url: str | None) -> bool:
    host = (urlsplit(url or "").hostname or "").lower()
    return host in ("127.0.0.1", "::1", "localhost")


class Connector:
    def __init__(
        self,
        tokens: TokenSource,
        loopback_only: bool = False,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        retry_base: float = 0.5,
    ):
        self.tokens, self.loopback_only = tokens, loopback_only
        self.clock, self.sleep, self.retry_base = clock, sleep, retry_base
        self.conversations = Pacer(PER_CONVERSATION, clock, sleep)
        self.tenants = Pacer(PER_TENANT, clock, sleep)
        self._clients: dict[str, _Client] = {}
        # Clients replaced (a token renewed) may still carry a send: closed at shutdown.
        self._retired: list[TeamsConnectorClient] = []
        self._closing: set[asyncio.Task[None]] = set()

    async def close(self) -> None:
        for client in [*(held.client for held in self._clients.values()), *self._retired]:
            await client.close()
        self._clients.clear()
        self._retired.clear()

    # --- the calls --------------------------------------------------------------------------
    async def send(
        self, service_url: str, tenant: str | None, conversation_id: str, activity: dict[str, Any]
    ) -> str:
        """Post a message into a conversation; its activity id."""
        body = Activity.model_validate(activity)

        async def call(client: TeamsConnectorClient) -> str:
            response = await client.conversations.send_to_conversation(conversation_id, body)
            return response.id or ""

        return await self._call(service_url, tenant, conversation_id, call)

    async def update(
        self,
        service_url: str,
        tenant: str | None,
        conversation_id: str,
        activity_id: str,
        activity: dict[str, Any],
    ) -> None:
        body = Activity.model_validate({**activity, "id": activity_id})

        async def call(client: TeamsConnectorClient) -> None:
            await client.conversations.update_activity(conversation_id, activity_id, body)

        await self._call(service_url, tenant, conversation_id, call)

    async def open_chat(self, service_url: str, tenant: str | None, bot_id: str, user: str) -> str:
        """The id of the bot's 1:1 chat with `user` (an Entra object id or a 29: id): Teams
        returns the existing chat if there is one, or creates it."""
        params = ConversationParameters.model_validate(
            {
                "isGroup": False,
                "bot": {"id": bot_id},
                "members": [{"id": user}],
                "tenantId": tenant,
                "channelData": {"tenant": {"id": tenant}} if tenant else None,
            }
        )

        async def call(client: TeamsConnectorClient) -> str:
            response = await client.conversations.create_conversation(params)
            return response.id

        try:
            return await self._call(service_url, tenant, None, call)
        except aiohttp.ClientResponseError as exc:
            # The SDK drops the body of a refused create (no error code to read); a 403 here
            # means the app is not installed for them or they blocked it: final, like a send's.
            if exc.status == 403:
                raise Unreachable("Forbidden") from None
            raise

    async def member(
        self, service_url: str, tenant: str | None, conversation_id: str, user: str
    ) -> dict[str, Any]:
        """A member's Teams profile (name, email, userPrincipalName, aadObjectId)."""

        async def call(client: TeamsConnectorClient) -> dict[str, Any]:
            account = await client.conversations.get_conversation_member(conversation_id, user)
            return account.model_dump(by_alias=True, exclude_none=True)

        return await self._call(service_url, tenant, None, call)

    # --- pace, retries, clients ---------------------------------------------------------------
    async def _call(
        self,
        service_url: str,
        tenant: str | None,
        conversation_id: str | None,
        call: Callable[[TeamsConnectorClient], Awaitable[Any]],
    ) -> Any:
        if self.loopback_only and not is_loopback(service_url):
            # Without authentication nothing may leave this machine (see ALLYBOT_TEAMS_NO_AUTH).
            raise PermissionError("no-auth mode sends to loopback service URLs only")
        for attempt in range(1, ATTEMPTS + 1):
            if conversation_id:
                await self.conversations.wait(conversation_id)
            await self.tenants.wait(tenant or "-")
            client = await self._client(service_url)
            try:
                return await call(client)
            except aiohttp.ClientResponseError as exc:
                if exc.status == 403 and any(code in exc.message for code in UNREACHABLE_CODES):
                    raise Unreachable(_code(exc.message)) from None
                if exc.status == 401:
                    self._retire(service_url)  # a stale token: the next try gets a new one
                if exc.status not in RETRIED | {401} or attempt == ATTEMPTS:
                    raise
                await self.sleep(self._backoff(exc, attempt))
            except (aiohttp.ClientConnectionError, TimeoutError):
                # A reset or a timeout: the Bot Connector may not have the message; try again.
                if attempt == ATTEMPTS:
                    raise
                await self.sleep(self.retry_base * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    def _backoff(self, exc: aiohttp.ClientResponseError, attempt: int) -> float:
        headers: Mapping[str, str] = exc.headers or {}
        retry_after = headers.get("Retry-After") if exc.status == 429 else None
        if retry_after is not None:
            try:
                return min(max(float(retry_after), 0.0), MAX_RETRY_AFTER)
            except ValueError:
                pass
        return self.retry_base * 2 ** (attempt - 1)

    async def _client(self, service_url: str) -> TeamsConnectorClient:
        held = self._clients.get(service_url)
        if held is not None and held.fresh_until > self.clock():
            return held.client
        self._retire(service_url)
        client = TeamsConnectorClient(endpoint=service_url, token=await self.tokens.token())
        self._clients[service_url] = _Client(client, self.clock() + CLIENT_TTL)
        return client

    def _retire(self, service_url: str) -> None:
        """Stop handing out this client; it is closed at shutdown, not under a send."""
        held = self._clients.pop(service_url, None)
        if held is not None:
            self._retired.append(held.client)
        while len(self._retired) > MAX_RETIRED:  # retired for hours: nothing still uses it
            closing = asyncio.get_running_loop().create_task(self._retired.pop(0).close())
            self._closing.add(closing)
            closing.add_done_callback(self._closing.discard)


def _code(body: str) -> str:
    return next((c for c in UNREACHABLE_CODES if c in body), "Forbidden")
