"""Teams activities as the Bot Connector posts them to `/api/messages`: plain JSON dicts.

The shapes follow what Teams sends, not what is convenient: a personal conversation has no
`isGroup`, install and conversation updates carry no sender name, a card submit carries no
`text`, a channel message starts with an `<at>` tag for the bot and carries an HTML copy of
itself. Ids look like Teams ids (`29:` users, `28:` bots, `a:` personal chats,
`19:...@thread.tacv2;messageid=...` channel threads) so that code which puts them in URLs is
tested with the characters that matter.

Every builder takes `service_url` as a required keyword: a forgotten one must fail when the
test is written, never send the bot's replies towards a real host.
"""

from __future__ import annotations

import hashlib
import html
import itertools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

TENANT_ID = "5f3c1a2b-8d4e-4f60-9a7b-0c1d2e3f4a5b"
APP_ID = "0b8c7d6e-5f4a-4b3c-8d2e-1f0a9b8c7d6e"
BOT_ID = f"28:{APP_ID}"
BOT_NAME = "allybot"
CARD_TYPE = "application/vnd.microsoft.card.adaptive"

# Teams message ids are epoch milliseconds; a counter keeps them unique within a test run.
_ids = itertools.count(1_772_445_600_000)


def _digest(seed: str, size: int) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:size]


def personal_conversation_id(aad_id: str) -> str:
    """The id of the 1:1 chat between this user and the bot. Teams keeps one such chat per
    user and bot, so it is a function of the user (the stand-in answers the same id when the
    bot creates the conversation)."""
    return f"a:1{_digest('chat:' + aad_id, 40)}"


@dataclass(frozen=True)
class TeamsUser:
    """A person in the tenant, with both of their ids: the AAD object id (stable across apps)
    and the `29:` id this bot sees them as."""

    aad_id: str
    user_id: str
    name: str
    email: str
    upn: str
    tz: str = "Europe/London"
    locale: str = "en-GB"

    @classmethod
    def make(cls, name: str, email: str | None = None) -> TeamsUser:
        """A user with ids derived from the name, so a test can rebuild the same person."""
        aad_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"aad:{name}"))
        address = email or f"{name.lower().replace(' ', '.')}@example.com"
        return cls(
            aad_id=aad_id,
            user_id=f"29:1{_digest('user:' + aad_id, 48)}",
            name=name,
            email=address,
            upn=address,
        )

    @property
    def conversation_id(self) -> str:
        return personal_conversation_id(self.aad_id)

    def account(self, *, with_name: bool = True) -> dict[str, Any]:
        """The `from` account Teams puts on this user's activities."""
        found: dict[str, Any] = {"id": self.user_id}
        if with_name:
            found["name"] = self.name
        found["aadObjectId"] = self.aad_id
        return found


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _client_info(user: TeamsUser) -> dict[str, Any]:
    return {
        "type": "clientInfo",
        "locale": user.locale,
        "country": user.locale.rsplit("-", 1)[-1],
        "platform": "Web",
        "timezone": user.tz,
    }


def _personal(
    user: TeamsUser,
    kind: str,
    *,
    service_url: str,
    conversation: str | None,
    with_name: bool = True,
    activity_id: str | None = None,
) -> dict[str, Any]:
    """The fields every activity from a 1:1 chat with the bot has."""
    return {
        "type": kind,
        "id": activity_id or str(next(_ids)),
        "timestamp": _now(),
        "localTimestamp": _now(),
        "localTimezone": user.tz,
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": user.account(with_name=with_name),
        "conversation": {
            "conversationType": "personal",
            "tenantId": TENANT_ID,
            "id": conversation or user.conversation_id,
        },
        "recipient": {"id": BOT_ID, "name": BOT_NAME},
        "channelData": {"tenant": {"id": TENANT_ID}},
        "locale": user.locale,
    }


def message(
    user: TeamsUser,
    text: str,
    *,
    service_url: str,
    conversation: str | None = None,
    activity_id: str | None = None,
) -> dict[str, Any]:
    """A message typed to the bot in the user's personal chat."""
    activity = _personal(
        user,
        "message",
        service_url=service_url,
        conversation=conversation,
        activity_id=activity_id,
    )
    activity.update(
        {
            "text": text,
            "textFormat": "plain",
            # Teams also posts the message as HTML; the bot must read `text`, not this.
            "attachments": [{"contentType": "text/html", "content": f"<p>{html.escape(text)}</p>"}],
            "entities": [_client_info(user)],
        }
    )
    return activity


def message_with_value(
    user: TeamsUser,
    value: dict[str, Any],
    *,
    service_url: str,
    reply_to_id: str | None = None,
    conversation: str | None = None,
) -> dict[str, Any]:
    """An `Action.Submit` press on a card in the personal chat: a message with `value` and no
    `text`."""
    activity = _personal(user, "message", service_url=service_url, conversation=conversation)
    activity["value"] = value
    activity["entities"] = [_client_info(user)]
    activity["channelData"]["source"] = {"name": "message"}
    if reply_to_id is not None:
        activity["replyToId"] = reply_to_id
        activity["channelData"]["legacy"] = {"replyToId": reply_to_id}
    return activity


def card_action(
    user: TeamsUser,
    verb: str,
    data: dict[str, Any],
    reply_to_id: str,
    *,
    service_url: str,
    conversation: str | None = None,
    title: str | None = None,
) -> dict[str, Any]:
    """An `Action.Execute` press (Universal Actions): an `adaptiveCard/action` invoke, which the
    bot must answer in the HTTP response (status 200 and an adaptive card response body)."""
    activity = _personal(user, "invoke", service_url=service_url, conversation=conversation)
    action: dict[str, Any] = {"type": "Action.Execute", "verb": verb, "data": data}
    if title is not None:
        action["title"] = title
    activity.update(
        {
            "name": "adaptiveCard/action",
            "value": {"action": action, "trigger": "manual"},
            "replyToId": reply_to_id,
            "entities": [_client_info(user)],
        }
    )
    activity["channelData"]["source"] = {"name": "message"}
    activity["channelData"]["legacy"] = {"replyToId": reply_to_id}
    return activity


def conversation_update(
    user: TeamsUser,
    members_added: Sequence[TeamsUser | str] | None = None,
    *,
    service_url: str,
    conversation: str | None = None,
) -> dict[str, Any]:
    """Members joined the user's personal chat; by default the bot (the app was installed).
    A string is an account id (`28:` bot or `29:` user); a TeamsUser adds their AAD id."""
    activity = _personal(
        user,
        "conversationUpdate",
        service_url=service_url,
        conversation=conversation,
        with_name=False,
        activity_id=f"f:{uuid.uuid4().hex}",
    )
    added = [BOT_ID] if members_added is None else members_added
    activity["membersAdded"] = [
        {"id": m} if isinstance(m, str) else {"id": m.user_id, "aadObjectId": m.aad_id}
        for m in added
    ]
    return activity


def installation_update(
    user: TeamsUser,
    action: Literal["add", "remove"] = "add",
    *,
    service_url: str,
    conversation: str | None = None,
) -> dict[str, Any]:
    """The user installed (or removed) the app in their personal scope."""
    activity = _personal(
        user,
        "installationUpdate",
        service_url=service_url,
        conversation=conversation,
        with_name=False,
        activity_id=f"f:{uuid.uuid4().hex}",
    )
    activity["action"] = action
    activity["entities"] = [_client_info(user)]
    activity["channelData"]["source"] = {"name": "message"}
    return activity


def mention_entity(account_id: str, name: str) -> dict[str, Any]:
    """The entity Teams adds for each `<at>name</at>` in a message's text."""
    return {
        "type": "mention",
        "text": f"<at>{name}</at>",
        "mentioned": {"id": account_id, "name": name},
    }


def channel_mention(
    user: TeamsUser,
    text: str,
    channel_id: str,
    team_id: str,
    *,
    service_url: str,
    others: Sequence[TeamsUser] = (),
) -> dict[str, Any]:
    """A new post in a team channel that @mentions the bot: `text` is what follows the
    mention, e.g. "findally stress". Each person in `others` gets a mention entity too; write
    them into `text` as `<at>Name</at>` where they should appear."""
    message_id = str(next(_ids))
    full = f"<at>{BOT_NAME}</at> {text}"
    entities = [mention_entity(BOT_ID, BOT_NAME)]
    entities += [{**mention_entity(o.user_id, o.name), "mentioned": o.account()} for o in others]
    return {
        "type": "message",
        "id": message_id,
        "timestamp": _now(),
        "localTimestamp": _now(),
        "localTimezone": user.tz,
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": user.account(),
        "conversation": {
            "isGroup": True,
            "conversationType": "channel",
            "tenantId": TENANT_ID,
            "id": f"{channel_id};messageid={message_id}",
        },
        "recipient": {"id": BOT_ID, "name": BOT_NAME},
        "text": full,
        "textFormat": "plain",
        "attachments": [{"contentType": "text/html", "content": _channel_html(full)}],
        "entities": [*entities, _client_info(user)],
        "channelData": {
            "teamsChannelId": channel_id,
            "teamsTeamId": team_id,
            "channel": {"id": channel_id},
            "team": {"id": team_id},
            "tenant": {"id": TENANT_ID},
        },
        "locale": user.locale,
    }


def _channel_html(text: str) -> str:
    """The HTML copy Teams attaches: mentions as `<at>` tags, the rest escaped."""
    parts = text.split("<at>")
    out = [html.escape(parts[0])]
    for index, part in enumerate(parts[1:]):
        name, _, rest = part.partition("</at>")
        out.append(f'<at id="{index}">{html.escape(name)}</at>{html.escape(rest)}')
    return f"<p>{''.join(out)}</p>"
