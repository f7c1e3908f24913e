"""Checks the token the Bot Connector puts on every activity it posts to `/api/messages`.

Why our own validator and not the SDK's `JwtTokenValidator`: that one fetches keys only from
hard-coded Microsoft hosts (so it cannot be tested against a loopback issuer), does not tie the
token to the activity's `serviceUrl` (a token for one service URL could carry an activity that
makes the bot send its replies, and its credentials, somewhere else), and fetches keys with a
blocking client in a thread.

The rules, after the Bot Framework's "authenticate requests from the Bot Connector":
`Authorization: Bearer <JWT>`, RS256 signed by a key from the JWKS named in the OpenID metadata
(endorsed for "msteams" when the key lists endorsements), audience = our app id, issuer = the
Bot Framework (or, for a single-tenant app, that tenant's Entra issuer), within exp/nbf with
5 minutes of clock skew, and a `serviceurl` claim equal to the activity's serviceUrl.
Anything unexpected refuses: the validator fails closed, including when keys cannot be fetched.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeGuard
from urllib.parse import urlsplit

import aiohttp
import jwt

log = logging.getLogger(__name__)

BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"
ENDORSEMENT = "msteams"
ALGORITHM = "RS256"
LEEWAY = 300.0  # seconds of clock skew allowed on exp and nbf
UNKNOWN_KID_REFETCH = 300.0  # an unknown kid refetches keys at most this often
FAILED_FETCH_RETRY = 10.0  # after a failed fetch, requests are refused this long without trying
MAX_TOKEN = 16 * 1024  # Bot Connector tokens are about 1.5 KB; refuse junk before parsing it


class Unauthorized(Exception):
    """Refused: the reason is for the log, never for the caller."""


@dataclass(frozen=True)
class _Key:
    key: Any  # the public key, as PyJWT takes it
    endorsed: bool  # no endorsements listed, or "msteams" among them


class TokenValidator:
    """Validates Bot Connector tokens against keys fetched (async) from `openid_url`.

    One instance serves one event loop: its HTTP session and lock belong to the loop that first
    used them. Keys are cached for `key_ttl`; concurrent requests share one fetch.
    """

    def __init__(
        self,
        app_id: str,
        openid_url: str,
        tenant_id: str | None = None,
        session_factory: Callable[[], aiohttp.ClientSession] = aiohttp.ClientSession,
        now: Callable[[], float] = time.time,
        key_ttl: float = 24 * 3600,
        fetch_timeout: float = 5.0,
    ) -> None:
        if not app_id:
            raise ValueError("an app id is required: it is the audience every token must name")
        self._app_id = app_id
        self._openid_url = openid_url
        self._issuers = {BOT_FRAMEWORK_ISSUER}
        if tenant_id:
            self._issuers |= {
                f"https://sts.windows.net/{tenant_id}/",
                f"https://login.microsoftonline.com/{tenant_id}/v2.0",
            }
        self._session_factory = session_factory
        self._now = now
        self._key_ttl = key_ttl
        self._fetch_timeout = fetch_timeout
        self._session: aiohttp.ClientSession | None = None
        self._lock: asyncio.Lock | None = None
        self._keys: dict[str, _Key] = {}
        self._fetched_at = -math.inf  # last successful fetch
        self._tried_at = -math.inf  # last fetch attempt, successful or not
        self._failed_at = -math.inf  # last failed fetch
        self._finished = 0  # fetch attempts finished: lets a waiter see one ended meanwhile

    async def validate(self, authorization: str | None, service_url: str | None) -> dict[str, Any]:
        """The verified claims, or raise Unauthorized."""
        try:
            return await self._validate(authorization, service_url)
        except Unauthorized as refused:
            # The reason only: never the token, which a log reader could replay.
            log.warning("Teams request refused: %s", refused)
            raise

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ---- the checks ---------------------------------------------------------------------

    async def _validate(self, authorization: str | None, service_url: str | None) -> dict[str, Any]:
        token = _bearer(authorization)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthorized("malformed token") from None
        # Checked before any key is looked up: `none` and HS* (a MAC keyed with our public
        # key) are the classic forgeries.
        if header.get("alg") != ALGORITHM:
            raise Unauthorized(f"algorithm {_short(header.get('alg'))} not allowed")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthorized("token names no key id")
        key = await self._key(kid)
        if not key.endorsed:
            raise Unauthorized(f"key {_short(kid)} is not endorsed for {ENDORSEMENT}")
        try:
            claims = jwt.decode(
                token,
                key=key.key,
                algorithms=[ALGORITHM],
                # Time and audience are checked below against the injected clock; PyJWT only
                # checks the signature and that the claims exist.
                options={
                    "verify_signature": True,
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "verify_aud": False,
                    "verify_iss": False,
                    "require": ["exp", "iss", "aud"],
                },
            )
        except jwt.InvalidSignatureError:
            raise Unauthorized("bad signature") from None
        except jwt.PyJWTError as error:
            raise Unauthorized(f"invalid token ({type(error).__name__})") from None
        self._check_claims(claims, service_url)
        return claims

    def _check_claims(self, claims: dict[str, Any], service_url: str | None) -> None:
        audience = claims.get("aud")
        if not (
            audience == self._app_id or (isinstance(audience, list) and self._app_id in audience)
        ):
            raise Unauthorized("wrong audience")
        issuer = claims.get("iss")
        if issuer not in self._issuers:
            raise Unauthorized(f"issuer {_short(issuer)} not accepted")
        now = self._now()
        expires, not_before = claims.get("exp"), claims.get("nbf")
        if not _number(expires):
            raise Unauthorized("exp is not a number")
        if now > expires + LEEWAY:
            raise Unauthorized("token expired")
        if not_before is not None:
            if not _number(not_before):
                raise Unauthorized("nbf is not a number")
            if now < not_before - LEEWAY:
                raise Unauthorized("token not valid yet")
        claimed = claims.get("serviceurl")
        if claimed is None:
            # The Bot Framework always names the service URL; only Entra tokens may omit it,
            # and then the bot, which answers there with its own token, answers only a
            # Microsoft Bot Connector host (never one the sender chose).
            if issuer == BOT_FRAMEWORK_ISSUER:
                raise Unauthorized("token has no serviceurl claim")
            if not _connector_host(service_url):
                raise Unauthorized("serviceUrl is not a Bot Connector host")
            return
        if (
            not isinstance(claimed, str)
            or service_url is None
            or (_same_url(claimed) != _same_url(service_url))
        ):
            raise Unauthorized("serviceurl claim does not match the activity's serviceUrl")

    # ---- keys ---------------------------------------------------------------------------

    async def _key(self, kid: str) -> _Key:
        now = self._now()
        fresh = now - self._fetched_at < self._key_ttl
        if fresh and kid in self._keys:
            return self._keys[kid]
        # An unknown kid with fresh keys may be a rotation, or a forger: refetch, but not more
        # often than UNKNOWN_KID_REFETCH, so a flood of made-up kids cannot flood the issuer.
        if fresh and now - self._tried_at < UNKNOWN_KID_REFETCH:
            raise Unauthorized(f"unknown key id {_short(kid)}")
        await self._refresh()
        if kid not in self._keys:
            raise Unauthorized(f"unknown key id {_short(kid)}")
        return self._keys[kid]

    async def _refresh(self) -> None:
        """Fetch the keys once, however many requests want them at the same moment."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        seen = self._finished
        async with self._lock:
            if self._finished != seen:
                # Another request fetched while this one waited: take its outcome.
                if self._now() - self._fetched_at >= self._key_ttl:
                    raise Unauthorized("signing keys unavailable")
                return
            if self._now() - self._failed_at < FAILED_FETCH_RETRY:
                raise Unauthorized("signing keys unavailable (fetch failed moments ago)")
            self._tried_at = self._now()
            try:
                async with asyncio.timeout(self._fetch_timeout):
                    keys = await self._fetch()
            except (aiohttp.ClientError, TimeoutError, ValueError, KeyError, TypeError) as error:
                self._failed_at = self._now()
                raise Unauthorized(
                    f"signing keys unavailable ({type(error).__name__}: {_short(str(error))})"
                ) from None
            else:
                self._keys = keys
                self._fetched_at = self._now()
            finally:
                self._finished += 1

    async def _fetch(self) -> dict[str, _Key]:
        metadata = await self._get_json(self._openid_url)
        jwks_uri = metadata["jwks_uri"]
        if not isinstance(jwks_uri, str) or not jwks_uri.startswith(("https://", "http://")):
            raise ValueError("metadata names no jwks_uri")
        document = await self._get_json(jwks_uri)
        keys: dict[str, _Key] = {}
        for entry in document["keys"]:
            if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
                continue
            if entry.get("kty") != "RSA" or entry.get("use", "sig") != "sig":
                continue
            try:
                public = jwt.PyJWK(entry, algorithm=ALGORITHM).key
            except jwt.PyJWTError:
                continue  # one unreadable key must not take the others down
            endorsements = entry.get("endorsements")
            endorsed = endorsements is None or (
                isinstance(endorsements, list) and ENDORSEMENT in endorsements
            )
            keys[entry["kid"]] = _Key(public, endorsed)
        if not keys:
            raise ValueError("the key set holds no usable RSA signing key")
        return keys

    async def _get_json(self, url: str) -> dict[str, Any]:
        if self._session is None:
            self._session = self._session_factory()
        async with self._session.get(url) as response:
            if response.status != 200:
                raise ValueError(f"{url} answered HTTP {response.status}")
            found = await response.json(content_type=None)
        if not isinstance(found, dict):
            raise ValueError(f"{url} answered JSON that is not an object")
        return found


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise Unauthorized("no Authorization header")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise Unauthorized("Authorization header is not 'Bearer <token>'")
    if len(token) > MAX_TOKEN:
        raise Unauthorized("token too long")
    return token


def _number(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _same_url(url: str) -> str:
    """Service URLs compare case-insensitively and with or without their trailing slash."""
    return url.strip().rstrip("/").lower()


def _short(value: object) -> str:
    """A value from the token, quoted and cut, so it cannot forge or flood log lines."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# Where Microsoft's Bot Connector lives (public and government clouds).
CONNECTOR_HOSTS = ("smba.trafficmanager.net", "botframework.com", "botframework.azure.us")


def _connector_host(url: str | None) -> bool:
    host = (urlsplit(url or "").hostname or "").lower()
    scheme = urlsplit(url or "").scheme
    return scheme == "https" and any(host == h or host.endswith("." + h) for h in CONNECTOR_HOSTS)
