"""Loopback stand-ins for the far side of Teams: real HTTP on free ports, every call recorded.

`ConnectorStandIn` plays the Bot Connector REST API v3 that a bot calls at an activity's
`serviceUrl` (send, reply, update, create a 1:1 chat, look a member up). `TokenIssuer` plays
the Bot Framework's OpenID metadata and signing keys, and mints the RS256 tokens the Bot
Connector puts on the activities it posts to the bot.

Conversation ids contain `:`, `@`, `;` and `=` (`a:1...`, `19:x@thread.tacv2;messageid=1`),
so the stand-in parses `/v3/conversations/...` paths itself rather than with route patterns.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import jwt
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.teams_activities import CARD_TYPE, TENANT_ID, TeamsUser, personal_conversation_id

RouteKind = Literal["create", "send", "update", "member"]
# A programmed answer: a status alone, or a status with its JSON body and headers.
Response = int | tuple[int, dict[str, Any], dict[str, str]]

BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"


@dataclass
class Call:
    """One request to the stand-in, as it arrived, and the status it was given."""

    method: str
    path: str
    conversation_id: str | None
    activity_id: str | None
    body: Any
    headers: dict[str, str]
    kind: str = "other"  # create | send | update | member | other
    status: int = 200
    member_id: str | None = None  # the member looked up, for a `member` call
    response_id: str | None = None  # the id the stand-in gave what was sent (or created)

    @property
    def authorization(self) -> str | None:
        return self.headers.get("Authorization")


_PATTERNS: list[tuple[str, str, re.Pattern[str]]] = [
    # (method, kind, pattern over the path after /v3/conversations/); greedy `.+` for the
    # conversation id, since a channel thread id may itself look like anything but a slash
    ("POST", "send", re.compile(r"(?P<cid>.+)/activities(?:/(?P<aid>[^/]+))?")),
    ("PUT", "update", re.compile(r"(?P<cid>.+)/activities/(?P<aid>[^/]+)")),
    ("GET", "member", re.compile(r"(?P<cid>.+)/members/(?P<uid>[^/]+)")),
]

_DEFAULT_ERRORS = {
    400: "BadArgument",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    412: "PreconditionFailed",
    429: "Throttled",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _expand(response: Response) -> tuple[int, dict[str, Any], dict[str, str]]:
    """A bare status gets the Bot Connector's error body; a bare 429 says `Retry-After: 0` so
    that tests of retrying never wait."""
    if isinstance(response, tuple):
        return response
    status = response
    body = _error(_DEFAULT_ERRORS.get(status, "Error"), f"stand-in answered {status}")
    return status, body, ({"Retry-After": "0"} if status == 429 else {})


@dataclass
class ConnectorStandIn:
    # Members by AAD object id and by `29:` user id: the same dict under both keys.
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Personal conversation id -> the member's AAD object id.
    conversations: dict[str, str] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, list[Response]] = field(default_factory=dict)
    refusals: dict[str, tuple[int, str]] = field(default_factory=dict)  # aad id -> status, code
    # When set, a request without exactly `Authorization: Bearer <require_token>` gets a 401.
    require_token: str | None = None
    server: TestServer | None = None
    _arrived: asyncio.Condition | None = None
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1_772_445_700_000))

    @property
    def service_url(self) -> str:
        """What Teams puts in `serviceUrl`: the base of the REST API, with a trailing slash."""
        assert self.server is not None
        return str(self.server.make_url("/"))

    # ---- arranging ------------------------------------------------------------------------

    def add_member(
        self,
        aad_id: str,
        name: str,
        email: str,
        upn: str,
        user_id: str = "",
        *,
        conversation_id: str | None = None,
        given_name: str | None = None,
        surname: str | None = None,
        user_role: str = "user",
    ) -> dict[str, Any]:
        """A person the bot is installed for: found by member lookups, reachable in 1:1."""
        given, _, rest = name.partition(" ")
        member = {
            "id": user_id or f"29:1{aad_id.replace('-', '')}",
            "name": name,
            "aadObjectId": aad_id,
            "email": email,
            "userPrincipalName": upn,
            "givenName": given_name if given_name is not None else given,
            "surname": surname if surname is not None else rest,
            "tenantId": TENANT_ID,
            "userRole": user_role,
        }
        self.members[aad_id] = member
        self.members[member["id"]] = member
        self.conversations[conversation_id or personal_conversation_id(aad_id)] = aad_id
        return member

    def add_user(self, user: TeamsUser) -> dict[str, Any]:
        return self.add_member(
            user.aad_id,
            user.name,
            user.email,
            user.upn,
            user.user_id,
            conversation_id=user.conversation_id,
        )

    def fail_next(self, route_kind: RouteKind, *responses: Response) -> None:
        """The next calls of that kind get these answers, in order, before normal service."""
        self.failures.setdefault(route_kind, []).extend(responses)

    def refuse_member(
        self, aad_id: str, status: int = 403, code: str = "ConversationBlockedByUser"
    ) -> None:
        """Every send to, or 1:1 creation with, this member fails: blocked the bot
        (`ConversationBlockedByUser`, `MessageWritesBlocked`) or never installed it
        (`BotNotInConversationRoster`)."""
        self.refusals[aad_id] = (status, code)

    # ---- reading what the bot did ---------------------------------------------------------

    def _conversation_of(self, person_or_conversation: str) -> str:
        member = self.members.get(person_or_conversation)
        if member is None:
            return person_or_conversation
        aad_id = member["aadObjectId"]
        return next((c for c, a in self.conversations.items() if a == aad_id), "")

    def _done(self, kinds: tuple[str, ...], person_or_conversation: str | None) -> list[Call]:
        """Answered calls of these kinds, oldest first; for a channel id, also those into its
        threads (`19:x@thread.tacv2;messageid=...`)."""
        wanted = (
            None
            if person_or_conversation is None
            else (self._conversation_of(person_or_conversation))
        )
        return [
            c
            for c in self.calls
            if c.kind in kinds
            and c.status < 300
            and (
                wanted is None
                or wanted in (c.conversation_id, (c.conversation_id or "").split(";", 1)[0])
            )
        ]

    def sent(self, person_or_conversation: str | None = None) -> list[dict[str, Any]]:
        """Activities accepted for posting (sends, replies, and the first activity of a created
        conversation), oldest first; filtered by a member's AAD/29: id or a conversation id."""
        out: list[dict[str, Any]] = []
        for call in self._done(("send", "create"), person_or_conversation):
            activity = call.body if call.kind == "send" else _dict(call.body).get("activity")
            if isinstance(activity, dict):
                out.append(activity)
        return out

    def updates(self, person_or_conversation: str | None = None) -> list[dict[str, Any]]:
        return [c.body for c in self._done(("update",), person_or_conversation)]

    def created(self) -> list[dict[str, Any]]:
        return [c.body for c in self._done(("create",), None)]

    def cards_to(self, aad_id: str) -> list[dict[str, Any]]:
        """The Adaptive Cards the member was sent in their 1:1 chat, oldest first."""
        return [
            a["content"]
            for activity in self.sent(aad_id)
            for a in activity.get("attachments") or []
            if a.get("contentType") == CARD_TYPE
        ]

    def texts_to(self, aad_id: str) -> list[str]:
        return [a["text"] for a in self.sent(aad_id) if a.get("text")]

    async def wait_for(
        self, match: Callable[[Call], bool], start: int = 0, timeout: float = 30
    ) -> Call:
        """The first call from index `start` on that matches, waiting for it if need be."""
        arrived = self._arrived
        assert arrived is not None, "start() the stand-in first"

        async def seek() -> Call:
            async with arrived:
                while True:
                    found = next((c for c in self.calls[start:] if match(c)), None)
                    if found is not None:
                        return found
                    await arrived.wait()

        return await asyncio.wait_for(seek(), timeout)

    # ---- serving --------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/v3/conversations", self._handle)
        app.router.add_route("*", "/v3/conversations/{tail:.*}", self._handle)
        self._arrived = asyncio.Condition()
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.close()

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.text()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        call = self._route(request.method, request.path, body, dict(request.headers))
        status, answer, headers = self._answer(call)
        call.status = status
        call.response_id = answer.get("id") if isinstance(answer, dict) else None
        self.calls.append(call)
        assert self._arrived is not None
        async with self._arrived:
            self._arrived.notify_all()
        return web.json_response(answer, status=status, headers=headers)

    def _route(self, method: str, path: str, body: Any, headers: dict[str, str]) -> Call:
        call = Call(method, path, None, None, body, headers)
        tail = path.removeprefix("/v3/conversations").removeprefix("/")
        if not tail:
            if method == "POST":
                call.kind = "create"
            return call
        for verb, kind, pattern in _PATTERNS:
            found = pattern.fullmatch(tail)
            if found and method == verb:
                call.kind = kind
                groups = found.groupdict()
                call.conversation_id = groups["cid"]
                call.activity_id = groups.get("aid")
                call.member_id = groups.get("uid")
                return call
        return call

    def _member_of_call(self, call: Call) -> str | None:
        """The AAD id of the person a send or create is for, if the stand-in knows them."""
        if call.kind == "create":
            members = _dict(call.body).get("members")
            wanted = _dict(members[0]) if isinstance(members, list) and members else {}
            member = self.members.get(str(wanted.get("id"))) or self.members.get(
                str(wanted.get("aadObjectId"))
            )
            return member["aadObjectId"] if member else None
        return self.conversations.get(call.conversation_id or "")

    def _answer(self, call: Call) -> tuple[int, dict[str, Any], dict[str, str]]:
        if self.require_token is not None and (
            call.authorization != f"Bearer {self.require_token}"
        ):
            return 401, {"message": "Authorization has been denied for this request."}, {}
        if call.kind == "other":
            return 404, _error("NotFound", f"no such route: {call.method} {call.path}"), {}
        pending = self.failures.get(call.kind)
        if pending:
            return _expand(pending.pop(0))
        if call.kind in ("create", "send"):
            aad_id = self._member_of_call(call)
            if aad_id in self.refusals:
                status, code = self.refusals[aad_id]
                return status, _error(code, "The bot cannot message this user."), {}
        if call.kind == "create":
            return self._create(call)
        if call.kind == "send":
            return 201, {"id": str(next(self._ids))}, {}
        if call.kind == "update":
            return 200, {"id": call.activity_id}, {}
        return self._member(call)

    def _create(self, call: Call) -> tuple[int, dict[str, Any], dict[str, str]]:
        body = _dict(call.body)
        tenant = body.get("tenantId") or _dict(_dict(body.get("channelData")).get("tenant")).get(
            "id"
        )
        members = body.get("members")
        if not tenant or not isinstance(members, list) or len(members) != 1 or body.get("isGroup"):
            # Teams refuses a 1:1 chat without a tenant or without exactly one member.
            return 400, _error("BadArgument", "Incorrect conversation creation parameters"), {}
        aad_id = self._member_of_call(call)
        if aad_id is None:
            # Teams says this when the app is not installed for the person asked for.
            return 403, _error("BotNotInConversationRoster", "The bot is not installed."), {}
        conversation = next(c for c, a in self.conversations.items() if a == aad_id)
        call.conversation_id = conversation
        answer: dict[str, Any] = {"id": conversation}
        if isinstance(body.get("activity"), dict):
            answer["activityId"] = str(next(self._ids))
        return 201, answer, {}

    def _member(self, call: Call) -> tuple[int, dict[str, Any], dict[str, str]]:
        member = self.members.get(call.member_id or "")
        owner = self.conversations.get(call.conversation_id or "")
        # A 1:1 chat has two members: the bot and its owner; nobody else is found there.
        if member is None or (owner is not None and owner != member["aadObjectId"]):
            return (
                404,
                _error(
                    "MemberNotFoundInConversation", "The member was not found in the conversation."
                ),
                {},
            )
        return 200, dict(member), {}


# ---- tokens -------------------------------------------------------------------------------


@functools.cache
def rsa_key(name: str = "signing") -> rsa.RSAPrivateKey:
    """An RSA 2048 key per name, made once per test process (making one takes a while)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def spare_key() -> rsa.RSAPrivateKey:
    """A key the issuer does not publish: sign with it to forge a token."""
    return rsa_key("forger")


@dataclass
class _Key:
    private: rsa.RSAPrivateKey
    endorsements: list[str] | None


@dataclass
class TokenIssuer:
    """The Bot Framework's token side: OpenID metadata, a JWKS, and tokens signed to match."""

    kid: str = "allybot-test-key"
    keys: dict[str, _Key] = field(default_factory=dict)
    down: bool = False  # the keys endpoint answers 503
    garbage: bool = False  # the keys endpoint answers 200 with a body that is not JSON
    requests: list[str] = field(default_factory=list)  # paths, in arrival order
    server: TestServer | None = None

    def __post_init__(self) -> None:
        if self.kid not in self.keys:
            self.keys[self.kid] = _Key(rsa_key(), ["msteams"])

    @property
    def openid_url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/v1/.well-known/openidconfiguration"))

    @property
    def key_fetches(self) -> int:
        return self.requests.count("/v1/.well-known/keys")

    def add_key(
        self,
        kid: str,
        key: rsa.RSAPrivateKey | None = None,
        endorsements: list[str] | None = None,
    ) -> None:
        """Publish another key (a rotation); `endorsements=None` serves it without the field."""
        self.keys[kid] = _Key(key or rsa_key(kid), endorsements)

    def mint(
        self,
        app_id: str,
        service_url: str | None,
        *,
        issuer: str = BOT_FRAMEWORK_ISSUER,
        audience: str | None = None,
        expires_in: float = 3600,
        kid: str | None = None,
        key: rsa.RSAPrivateKey | None = None,
        now: float | None = None,
        **claims: Any,
    ) -> str:
        """A signed RS256 token as the Bot Connector sends it. `service_url=None` leaves the
        `serviceurl` claim out; a claim passed as None is left out; `key` signs with another
        key under the same kid (a forgery)."""
        kid = kid or self.kid
        at = time.time() if now is None else now
        payload: dict[str, Any] = {
            "serviceurl": service_url,
            "nbf": int(at),
            "exp": int(at + expires_in),
            "iss": issuer,
            "aud": audience if audience is not None else app_id,
            "iat": int(at),
            **claims,
        }
        signer = key or (self.keys[kid].private if kid in self.keys else rsa_key())
        return jwt.encode(
            {k: v for k, v in payload.items() if v is not None},
            signer,
            algorithm="RS256",
            headers={"kid": kid, "typ": "JWT"},
        )

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid, key in self.keys.items():
            public = RSAAlgorithm.to_jwk(key.private.public_key(), as_dict=True)
            entry: dict[str, Any] = {
                "kty": "RSA",
                "use": "sig",
                "kid": kid,
                "n": public["n"],
                "e": public["e"],
            }
            if key.endorsements is not None:
                entry["endorsements"] = key.endorsements
            keys.append(entry)
        return {"keys": keys}

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/v1/.well-known/openidconfiguration", self._metadata)
        app.router.add_get("/v1/.well-known/keys", self._keys)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.close()

    async def _metadata(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        assert self.server is not None
        return web.json_response(
            {
                "issuer": BOT_FRAMEWORK_ISSUER,
                "authorization_endpoint": "https://invalid.botframework.com",
                "jwks_uri": str(self.server.make_url("/v1/.well-known/keys")),
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            }
        )

    async def _keys(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        if self.down:
            return web.json_response({"error": "unavailable"}, status=503)
        if self.garbage:
            return web.Response(text="<html>maintenance</html>", content_type="application/json")
        return web.json_response(self.jwks())
