"""Teams request authentication against a loopback OpenID/JWKS issuer; and the Teams stand-ins
themselves (the Bot Connector stand-in driven by the Agents SDK's own ConnectorClient, and the
activity builders read by the SDK's own Activity model).

The issuer runs on the same event loop as the validator, so a validator that fetched keys with a
blocking call would deadlock these tests rather than pass them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import jwt
import pytest
from microsoft_agents.activity import (
    Activity,
    Attachment,
    ChannelAccount,
    ConversationParameters,
)
from microsoft_agents.hosting.core.connector.client import ConnectorClient

from bot.platforms.teams.auth import (
    FAILED_FETCH_RETRY,
    LEEWAY,
    UNKNOWN_KID_REFETCH,
    TokenValidator,
    Unauthorized,
)
from tests.teams_activities import (
    APP_ID,
    BOT_ID,
    CARD_TYPE,
    TENANT_ID,
    TeamsUser,
    card_action,
    channel_mention,
    conversation_update,
    installation_update,
    message,
    message_with_value,
)
from tests.teams_standin import ConnectorStandIn, TokenIssuer, spare_key

SERVICE = "https://smba.trafficmanager.net/emea/"
LOGGER = "bot.platforms.teams.auth"


class Clock:
    """The validator's clock, moved by the test; tokens are minted against it too."""

    def __init__(self) -> None:
        self.t = time.time()

    def __call__(self) -> float:
        return self.t


Scenario = Callable[[TokenIssuer, TokenValidator, Clock], Awaitable[Any]]


def run(scenario: Scenario, *, stopped: bool = False, **options: Any) -> Any:
    """Run a scenario with a started issuer and a validator pointed at it."""

    async def go() -> Any:
        issuer = TokenIssuer()
        await issuer.start()
        url = issuer.openid_url
        if stopped:
            await issuer.stop()  # its URL now refuses connections
        clock = Clock()
        validator = TokenValidator(APP_ID, url, now=clock, **options)
        try:
            return await scenario(issuer, validator, clock)
        finally:
            await validator.close()
            await issuer.stop()

    return asyncio.run(go())


def bearer(token: str) -> str:
    return f"Bearer {token}"


async def refused(validator: TokenValidator, authorization: str | None, service_url: str | None):
    with pytest.raises(Unauthorized) as caught:
        await validator.validate(authorization, service_url)
    return str(caught.value)


# ---- accepted ------------------------------------------------------------------------------


def test_a_good_token_is_accepted_and_its_claims_returned():
    async def scenario(issuer, validator, clock):
        return await validator.validate(bearer(issuer.mint(APP_ID, SERVICE, now=clock.t)), SERVICE)

    claims = run(scenario)
    assert claims["aud"] == APP_ID
    assert claims["iss"] == "https://api.botframework.com"
    assert claims["serviceurl"] == SERVICE


@pytest.mark.parametrize(
    "mint",
    [
        pytest.param(
            lambda i, t: i.mint(APP_ID, SERVICE, now=t, expires_in=60 - LEEWAY),
            id="expired-within-clock-skew",
        ),
        pytest.param(
            lambda i, t: i.mint(APP_ID, SERVICE, now=t + LEEWAY - 60),
            id="not-yet-valid-within-clock-skew",
        ),
        pytest.param(
            lambda i, t: i.mint(APP_ID, "HTTPS://SMBA.trafficmanager.net/emea", now=t),
            id="serviceurl-other-case-no-slash",
        ),
        pytest.param(
            lambda i, t: f"bearer  {i.mint(APP_ID, SERVICE, now=t)} ", id="scheme-in-lower-case"
        ),
    ],
)
def test_tokens_within_the_tolerances_are_accepted(mint):
    async def scenario(issuer, validator, clock):
        token = mint(issuer, clock.t)
        header = token if token.lower().startswith("bearer") else bearer(token)
        return await validator.validate(header, SERVICE)

    assert run(scenario)["aud"] == APP_ID


def test_a_single_tenant_app_accepts_its_tenants_entra_issuers():
    async def scenario(issuer, validator, clock):
        found = []
        for iss in (
            f"https://sts.windows.net/{TENANT_ID}/",
            f"https://login.microsoftonline.com/{TENANT_ID}/v2.0",
        ):
            # Entra tokens may leave serviceurl out; when present it must still match.
            plain = issuer.mint(APP_ID, None, issuer=iss, now=clock.t)
            named = issuer.mint(APP_ID, SERVICE, issuer=iss, now=clock.t)
            found.append((await validator.validate(bearer(plain), SERVICE))["iss"])
            found.append((await validator.validate(bearer(named), SERVICE))["iss"])
        other = issuer.mint(
            APP_ID, SERVICE, issuer="https://sts.windows.net/another-tenant/", now=clock.t
        )
        # Without the claim, the activity's serviceUrl must be a Bot Connector host: the bot
        # answers there with its own token.
        plain = issuer.mint(APP_ID, None, issuer=found[0], now=clock.t)
        elsewhere = await refused(validator, bearer(plain), "https://evil.example/teams/")
        assert "not a Bot Connector host" in elsewhere
        return found, await refused(validator, bearer(other), SERVICE)

    found, reason = run(scenario, tenant_id=TENANT_ID)
    assert found == [
        f"https://sts.windows.net/{TENANT_ID}/",
        f"https://sts.windows.net/{TENANT_ID}/",
        f"https://login.microsoftonline.com/{TENANT_ID}/v2.0",
        f"https://login.microsoftonline.com/{TENANT_ID}/v2.0",
    ]
    assert "issuer" in reason


def test_a_key_that_lists_no_endorsements_is_usable():
    async def scenario(issuer, validator, clock):
        issuer.add_key("plain-key", endorsements=None)
        token = issuer.mint(APP_ID, SERVICE, kid="plain-key", now=clock.t)
        return await validator.validate(bearer(token), SERVICE)

    assert run(scenario)["serviceurl"] == SERVICE


# ---- refused -------------------------------------------------------------------------------


def _unsigned(issuer: TokenIssuer, now: float, algorithm: str, key: Any) -> str:
    claims = {
        "iss": "https://api.botframework.com",
        "aud": APP_ID,
        "serviceurl": SERVICE,
        "nbf": int(now),
        "exp": int(now) + 3600,
    }
    return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": issuer.kid})


def _not_endorsed(issuer: TokenIssuer, now: float) -> str:
    issuer.add_key("skype-only", endorsements=["skype"])
    return bearer(issuer.mint(APP_ID, SERVICE, kid="skype-only", now=now))


REFUSALS = [
    ("missing-header", lambda i, t: None, SERVICE, "no Authorization header"),
    ("empty-header", lambda i, t: "", SERVICE, "no Authorization header"),
    ("basic-auth", lambda i, t: "Basic dXNlcjpwYXNz", SERVICE, "not 'Bearer"),
    ("bearer-alone", lambda i, t: "Bearer ", SERVICE, "not 'Bearer"),
    ("two-tokens", lambda i, t: f"Bearer {i.mint(APP_ID, SERVICE)} x", SERVICE, "not 'Bearer"),
    ("garbage", lambda i, t: "Bearer not.a.token", SERVICE, "malformed token"),
    ("huge", lambda i, t: "Bearer " + "a" * 20_000, SERVICE, "too long"),
    (
        "expired",
        lambda i, t: bearer(i.mint(APP_ID, SERVICE, now=t, expires_in=-LEEWAY - 60)),
        SERVICE,
        "expired",
    ),
    (
        "not-yet-valid",
        lambda i, t: bearer(i.mint(APP_ID, SERVICE, now=t + LEEWAY + 60)),
        SERVICE,
        "not valid yet",
    ),
    (
        "no-exp",
        lambda i, t: bearer(i.mint(APP_ID, SERVICE, now=t, exp=None)),
        SERVICE,
        "MissingRequiredClaimError",
    ),
    (
        "wrong-audience",
        lambda i, t: bearer(i.mint(APP_ID, SERVICE, now=t, audience="other-app")),
        SERVICE,
        "wrong audience",
    ),
    (
        "wrong-issuer",
        lambda i, t: bearer(i.mint(APP_ID, SERVICE, now=t, issuer="https://evil.example")),
        SERVICE,
        "issuer 'https://evil.example' not accepted",
    ),
    (
        "tenant-issuer-for-multi-tenant-app",
        lambda i, t: bearer(
            i.mint(APP_ID, SERVICE, now=t, issuer=f"https://sts.windows.net/{TENANT_ID}/")
        ),
        SERVICE,
        "not accepted",
    ),
    (
        "wrong-serviceurl",
        lambda i, t: bearer(i.mint(APP_ID, "https://evil.example/", now=t)),
        SERVICE,
        "serviceurl claim does not match",
    ),
    (
        "activity-without-serviceurl",
        lambda i, t: bearer(i.mint(APP_ID, SERVICE, now=t)),
        None,
        "serviceurl claim does not match",
    ),
    (
        "bot-framework-token-without-serviceurl",
        lambda i, t: bearer(i.mint(APP_ID, None, now=t)),
        SERVICE,
        "no serviceurl claim",
    ),
    (
        "forged-signature",
        lambda i, t: bearer(i.mint(APP_ID, SERVICE, now=t, key=spare_key())),
        SERVICE,
        "bad signature",
    ),
    (
        "unknown-kid",
        lambda i, t: bearer(i.mint(APP_ID, SERVICE, now=t, kid="made-up", key=spare_key())),
        SERVICE,
        "unknown key id 'made-up'",
    ),
    (
        "alg-none",
        lambda i, t: bearer(_unsigned(i, t, "none", None)),
        SERVICE,
        "algorithm 'none' not allowed",
    ),
    (
        "alg-hs256",
        lambda i, t: bearer(_unsigned(i, t, "HS256", "a-32-byte-app-password-for-hs256")),
        SERVICE,
        "algorithm 'HS256' not allowed",
    ),
    ("key-not-endorsed-for-teams", _not_endorsed, SERVICE, "not endorsed for msteams"),
]


@pytest.mark.parametrize(
    ("header", "service_url", "reason"),
    [pytest.param(h, s, r, id=name) for name, h, s, r in REFUSALS],
)
def test_a_bad_request_is_refused_and_the_reason_logged_without_the_token(
    header, service_url, reason, caplog
):
    async def scenario(issuer, validator, clock):
        authorization = header(issuer, clock.t)
        return authorization, await refused(validator, authorization, service_url)

    with caplog.at_level(logging.WARNING, logger=LOGGER):
        authorization, said = run(scenario)
    assert reason in said
    logged = [r for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING]
    assert [r.getMessage() for r in logged] == [f"Teams request refused: {said}"]
    token = (authorization or "").partition(" ")[2].strip()
    if token.count(".") == 2 and len(token) > 100:
        assert token not in caplog.text
        signature = token.rsplit(".", 1)[1]
        assert not signature or signature not in caplog.text  # not even the signature


def test_an_app_id_is_required():
    with pytest.raises(ValueError):
        TokenValidator("", "http://127.0.0.1:9/")


# ---- fetching keys -------------------------------------------------------------------------


def test_keys_are_fetched_once_for_many_validations():
    async def scenario(issuer, validator, clock):
        token = bearer(issuer.mint(APP_ID, SERVICE, now=clock.t))
        # concurrent first requests share one fetch, later ones use the cache
        await asyncio.gather(*(validator.validate(token, SERVICE) for _ in range(20)))
        for _ in range(20):
            await validator.validate(token, SERVICE)
        return list(issuer.requests)

    assert run(scenario) == ["/v1/.well-known/openidconfiguration", "/v1/.well-known/keys"]


def test_keys_are_fetched_again_once_their_time_is_up():
    async def scenario(issuer, validator, clock):
        token = bearer(issuer.mint(APP_ID, SERVICE, now=clock.t, expires_in=10_000))
        await validator.validate(token, SERVICE)
        clock.t += 3599
        await validator.validate(token, SERVICE)
        first = issuer.key_fetches
        clock.t += 2
        await validator.validate(token, SERVICE)
        return first, issuer.key_fetches

    assert run(scenario, key_ttl=3600) == (1, 2)


def test_when_the_key_endpoint_is_down_requests_are_refused_until_it_is_back():
    async def scenario(issuer, validator, clock):
        token = bearer(issuer.mint(APP_ID, SERVICE, now=clock.t))
        issuer.down = True
        # a burst while it is down makes one attempt, not one each
        burst = await asyncio.gather(
            *(validator.validate(token, SERVICE) for _ in range(10)), return_exceptions=True
        )
        after_burst = issuer.key_fetches
        issuer.down = False
        # moments later it is not tried again yet ...
        soon = await refused(validator, token, SERVICE)
        tries_soon = issuer.key_fetches
        # ... but the failure is not remembered for long
        clock.t += FAILED_FETCH_RETRY + 1
        claims = await validator.validate(token, SERVICE)
        return burst, after_burst, soon, tries_soon, claims, issuer.key_fetches

    burst, after_burst, soon, tries_soon, claims, fetches = run(scenario)
    assert all(isinstance(b, Unauthorized) for b in burst)
    assert "signing keys unavailable" in str(burst[0])
    assert after_burst == 1
    assert "signing keys unavailable" in soon and tries_soon == 1
    assert claims["aud"] == APP_ID and fetches == 2


def test_keys_that_are_not_json_refuse_requests():
    async def scenario(issuer, validator, clock):
        issuer.garbage = True
        return await refused(validator, bearer(issuer.mint(APP_ID, SERVICE, now=clock.t)), SERVICE)

    assert "signing keys unavailable (JSONDecodeError" in run(scenario)


def test_an_unreachable_issuer_refuses_requests():
    async def scenario(issuer, validator, clock):
        return await refused(validator, bearer(issuer.mint(APP_ID, SERVICE, now=clock.t)), SERVICE)

    assert "signing keys unavailable (ClientConnectorError" in run(scenario, stopped=True)


def test_a_flood_of_made_up_key_ids_fetches_the_keys_at_most_once_more():
    async def scenario(issuer, validator, clock):
        good = bearer(issuer.mint(APP_ID, SERVICE, now=clock.t, expires_in=10_000))
        await validator.validate(good, SERVICE)

        async def flood() -> list[Any]:
            forged = [
                bearer(issuer.mint(APP_ID, SERVICE, now=clock.t, kid=f"kid-{n}", key=spare_key()))
                for n in range(50)
            ]
            return await asyncio.gather(
                *(validator.validate(f, SERVICE) for f in forged), return_exceptions=True
            )

        fresh = await flood()  # keys just fetched: no refetch at all
        counts = [issuer.key_fetches]
        clock.t += UNKNOWN_KID_REFETCH + 1
        later = await flood()  # one refetch for the whole flood
        counts.append(issuer.key_fetches)
        later_again = await flood()
        counts.append(issuer.key_fetches)
        await validator.validate(good, SERVICE)
        return fresh + later + later_again, counts

    results, counts = run(scenario)
    assert all(isinstance(r, Unauthorized) for r in results)
    assert counts == [1, 2, 2]


def test_a_rotated_key_is_picked_up_by_a_later_refetch():
    async def scenario(issuer, validator, clock):
        await validator.validate(bearer(issuer.mint(APP_ID, SERVICE, now=clock.t)), SERVICE)
        issuer.add_key("next-key", endorsements=["msteams", "skype"])
        clock.t += 60
        early = await refused(
            validator, bearer(issuer.mint(APP_ID, SERVICE, kid="next-key", now=clock.t)), SERVICE
        )
        clock.t += UNKNOWN_KID_REFETCH
        claims = await validator.validate(
            bearer(issuer.mint(APP_ID, SERVICE, kid="next-key", now=clock.t)), SERVICE
        )
        return early, claims, issuer.key_fetches

    early, claims, fetches = run(scenario)
    assert "unknown key id 'next-key'" in early
    assert claims["aud"] == APP_ID and fetches == 2


def test_the_key_set_is_published_as_the_bot_framework_publishes_it():
    async def scenario(issuer, validator, clock):
        async with aiohttp.ClientSession() as session:
            async with session.get(issuer.openid_url) as response:
                metadata = await response.json()
            async with session.get(metadata["jwks_uri"]) as response:
                return metadata, await response.json()

    metadata, jwks = run(scenario)
    assert metadata["issuer"] == "https://api.botframework.com"
    assert metadata["id_token_signing_alg_values_supported"] == ["RS256"]
    [key] = jwks["keys"]
    assert {k: key[k] for k in ("kid", "kty", "use", "e", "endorsements")} == {
        "kid": "allybot-test-key",
        "kty": "RSA",
        "use": "sig",
        "e": "AQAB",
        "endorsements": ["msteams"],
    }
    assert len(key["n"]) > 300  # a 2048-bit modulus, base64url


# ---- the Bot Connector stand-in, as the Agents SDK's client sees it --------------------------

EVE = TeamsUser.make("Eve Adams")
ALI = TeamsUser.make("Ali Khan")
CHANNEL = "19:9a8b7c6d5e4f@thread.tacv2"
TEAM = "19:0f1e2d3c4b5a@thread.tacv2"


def with_connector(
    scenario: Callable[[ConnectorStandIn], Awaitable[Any]],
) -> tuple[Any, ConnectorStandIn]:
    """Run a scenario against a started stand-in that knows Eve and Ali; the stand-in comes
    back too, for what it recorded."""
    standin = ConnectorStandIn()
    standin.add_user(EVE)
    standin.add_user(ALI)

    async def go() -> Any:
        await standin.start()
        try:
            return await scenario(standin)
        finally:
            await standin.stop()

    return asyncio.run(go()), standin


def card(text: str) -> Attachment:
    content = {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [{"type": "TextBlock", "text": text}],
    }
    return Attachment(content_type=CARD_TYPE, content=content)


def test_the_sdk_client_sends_replies_updates_and_creates_through_the_standin():
    thread = f"{CHANNEL};messageid=1772445600123"

    async def scenario(standin):
        client = ConnectorClient(standin.service_url, "")
        try:
            convs = client.conversations
            sent = await convs.send_to_conversation(
                EVE.conversation_id, Activity(type="message", text="hello Eve")
            )
            await convs.send_to_conversation(
                EVE.conversation_id, Activity(type="message", attachments=[card("a card")])
            )
            await convs.update_activity(
                EVE.conversation_id, sent.id, Activity(type="message", text="hello again")
            )
            reply = await convs.reply_to_activity(
                thread, "1772445600123", Activity(type="message", text="in the thread")
            )
            created = await convs.create_conversation(
                ConversationParameters(
                    bot=ChannelAccount(id=BOT_ID),
                    members=[ChannelAccount(id=ALI.user_id)],
                    tenant_id=TENANT_ID,
                    is_group=False,
                    activity=Activity(type="message", text="hello Ali"),
                )
            )
            return sent.id, reply.id, created
        finally:
            await client.close()

    (sent_id, reply_id, created), standin = with_connector(scenario)
    assert sent_id and reply_id and sent_id != reply_id
    assert created.id == ALI.conversation_id and created.activity_id
    assert standin.texts_to(EVE.aad_id) == ["hello Eve"]
    assert standin.cards_to(EVE.aad_id)[0]["body"][0]["text"] == "a card"
    assert [u["text"] for u in standin.updates(EVE.user_id)] == ["hello again"]
    assert [c.activity_id for c in standin.calls if c.kind == "update"] == [sent_id]
    # a channel id finds the replies in its threads; the thread id finds them too
    assert [a["text"] for a in standin.sent(CHANNEL)] == ["in the thread"]
    assert [c.conversation_id for c in standin.calls if c.kind == "send"][-1] == thread
    assert standin.texts_to(ALI.aad_id) == ["hello Ali"]
    assert standin.created()[0]["members"] == [{"id": ALI.user_id}]
    # no token was given, and none went over the wire
    assert all(c.authorization is None for c in standin.calls)


def test_member_lookup_answers_a_teams_channel_account_or_404():
    async def scenario(standin):
        client = ConnectorClient(standin.service_url, "")
        try:
            by_user_id = await client.conversations.get_conversation_member(
                EVE.conversation_id, EVE.user_id
            )
            by_aad = await client.conversations.get_conversation_member(
                f"{CHANNEL};messageid=1", EVE.aad_id
            )
            statuses = []
            for conversation, member in (
                (EVE.conversation_id, ALI.user_id),
                (EVE.conversation_id, "29:nobody"),
            ):
                try:
                    await client.conversations.get_conversation_member(conversation, member)
                except aiohttp.ClientResponseError as error:
                    statuses.append(error.status)
            return by_user_id, by_aad, statuses
        finally:
            await client.close()

    (by_user_id, by_aad, statuses), _ = with_connector(scenario)
    assert by_user_id.model_dump(by_alias=True, exclude_none=True) == {
        "id": EVE.user_id,
        "name": "Eve Adams",
        "aadObjectId": EVE.aad_id,
        "email": "eve.adams@example.com",
        "userPrincipalName": "eve.adams@example.com",
        "givenName": "Eve",
        "surname": "Adams",
        "tenantId": TENANT_ID,
        "userRole": "user",
    }
    assert by_aad.id == EVE.user_id
    assert statuses == [404, 404]  # Ali is not in Eve's 1:1 chat; nobody is nobody


def test_programmed_failures_and_refused_members():
    async def scenario(standin):
        standin.fail_next(
            "send",
            (429, {}, {"Retry-After": "0"}),
            (403, {"error": {"code": "MessageWritesBlocked", "message": "no"}}, {}),
            502,
        )
        standin.refuse_member(ALI.aad_id, 403, "BotNotInConversationRoster")
        out = []
        async with aiohttp.ClientSession() as session:
            for conversation in [EVE.conversation_id] * 4 + [ALI.conversation_id]:
                url = f"{standin.service_url}v3/conversations/{conversation}/activities"
                async with session.post(url, json={"type": "message", "text": "hi"}) as r:
                    out.append((r.status, r.headers.get("Retry-After"), await r.json()))
            body = {
                "bot": {"id": BOT_ID},
                "members": [{"id": ALI.user_id}],
                "tenantId": TENANT_ID,
                "isGroup": False,
            }
            async with session.post(f"{standin.service_url}v3/conversations", json=body) as r:
                out.append((r.status, None, await r.json()))
        return out, standin.texts_to(EVE.aad_id), standin.texts_to(ALI.aad_id)

    (out, to_eve, to_ali), _ = with_connector(scenario)
    assert [(s, h) for s, h, _ in out] == [
        (429, "0"),
        (403, None),
        (502, None),
        (201, None),
        (403, None),
        (403, None),
    ]
    assert out[1][2]["error"]["code"] == "MessageWritesBlocked"
    assert out[2][2]["error"]["code"] == "BadGateway"
    assert out[4][2]["error"]["code"] == out[5][2]["error"]["code"] == "BotNotInConversationRoster"
    assert to_eve == ["hi"] and to_ali == []  # only what was accepted counts as sent


def test_a_required_token_refuses_calls_without_it():
    async def scenario(standin):
        standin.require_token = "connector-token"
        outcomes: list[str | int] = []
        for token in ("", "wrong-token", "connector-token"):
            client = ConnectorClient(standin.service_url, token)
            try:
                await client.conversations.send_to_conversation(
                    EVE.conversation_id, Activity(type="message", text=f"with {token or 'none'}")
                )
                outcomes.append("sent")
            except aiohttp.ClientResponseError as error:
                outcomes.append(error.status)
            finally:
                await client.close()
        return outcomes, [c.authorization for c in standin.calls], standin.texts_to(EVE.aad_id)

    (outcomes, headers, texts), _ = with_connector(scenario)
    assert outcomes == [401, 401, "sent"]
    assert headers == [None, "Bearer wrong-token", "Bearer connector-token"]
    assert texts == ["with connector-token"]


def test_wait_for_returns_a_call_that_arrives_later():
    async def scenario(standin):
        async def post_later() -> None:
            async with aiohttp.ClientSession() as session:
                url = f"{standin.service_url}v3/conversations/{EVE.conversation_id}/activities"
                await session.post(url, json={"type": "message", "text": "late"})

        waiter = asyncio.create_task(standin.wait_for(lambda c: c.kind == "send", timeout=10))
        await post_later()
        return (await waiter).body["text"]

    assert with_connector(scenario)[0] == "late"


# ---- the activity builders, as the Agents SDK's model reads them ---------------------------


def _read(activity: dict[str, Any]) -> Activity:
    json.dumps(activity)  # it is JSON, as it would arrive
    return Activity.model_validate(activity)


def test_the_builders_make_activities_the_sdk_reads_as_teams_activities():
    evil = "<at>x</at> & <b>bold</b>"
    msg = _read(message(EVE, evil, service_url=SERVICE))
    assert msg.type == "message" and msg.text == evil and msg.channel_id == "msteams"
    assert msg.from_property.aad_object_id == EVE.aad_id and msg.from_property.id == EVE.user_id
    assert msg.conversation.conversation_type == "personal"
    assert msg.conversation.id == EVE.conversation_id and msg.conversation.is_group is None
    assert msg.recipient.id == BOT_ID and msg.service_url == SERVICE
    assert "<b>" not in msg.attachments[0].content  # the HTML copy escapes what was typed

    submit = _read(
        message_with_value(EVE, {"action": "accept"}, service_url=SERVICE, reply_to_id="17")
    )
    assert submit.text is None and submit.value == {"action": "accept"}
    assert submit.reply_to_id == "17"

    press = _read(card_action(EVE, "accept", {"offer": 3}, "1772", service_url=SERVICE))
    assert (press.type, press.name, press.reply_to_id) == ("invoke", "adaptiveCard/action", "1772")
    assert press.value == {
        "action": {"type": "Action.Execute", "verb": "accept", "data": {"offer": 3}},
        "trigger": "manual",
    }

    added = _read(conversation_update(EVE, service_url=SERVICE))
    assert [m.id for m in added.members_added] == [BOT_ID]
    assert added.from_property.name is None  # Teams does not name the sender here

    installed = _read(installation_update(EVE, "remove", service_url=SERVICE))
    assert (installed.type, installed.action) == ("installationUpdate", "remove")

    post = _read(
        channel_mention(
            EVE, "findally <at>Ali Khan</at>", CHANNEL, TEAM, service_url=SERVICE, others=[ALI]
        )
    )
    assert post.text == "<at>allybot</at> findally <at>Ali Khan</at>"
    assert post.conversation.conversation_type == "channel" and post.conversation.is_group
    assert post.conversation.id == f"{CHANNEL};messageid={post.id}"
    mentions = [e for e in post.entities if e.type == "mention"]
    assert [(m.text, m.mentioned.id) for m in mentions] == [
        ("<at>allybot</at>", BOT_ID),
        ("<at>Ali Khan</at>", ALI.user_id),
    ]
    assert post.channel_data["teamsChannelId"] == CHANNEL
    assert post.channel_data["team"] == {"id": TEAM}
    assert post.channel_data["tenant"] == {"id": TENANT_ID}
