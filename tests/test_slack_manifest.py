"""`allybot manifest slack`: every command has a handler and every handler is in it."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from bot.router import COMMANDS
from tests import cli_process

ROOT = Path(__file__).resolve().parent.parent


def manifest(*args: str) -> dict:
    out = cli_process.run(["manifest", "slack", *args], cwd=ROOT, check=True).stdout
    return yaml.safe_load(out)


def test_commands_in_the_manifest_are_exactly_the_handled_ones():
    m = manifest()
    listed = {c["command"].lstrip("/") for c in m["features"]["slash_commands"]}
    assert listed == set(COMMANDS)
    for c in m["features"]["slash_commands"]:
        assert 0 < len(c["description"]) <= 100 and len(c.get("usage_hint", "")) <= 100


def test_socket_mode_by_default_and_http_with_a_url():
    m = manifest()
    assert m["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in m["settings"]["event_subscriptions"]
    assert set(m["settings"]["event_subscriptions"]["bot_events"]) == {
        "app_home_opened",
        "message.im",
    }
    assert m["features"]["app_home"]["home_tab_enabled"] is True
    m = manifest("--url", "https://bot.example.org")
    assert m["settings"]["socket_mode_enabled"] is False
    assert m["settings"]["interactivity"]["request_url"] == "https://bot.example.org/slack/events"
    assert all(
        c["url"] == "https://bot.example.org/slack/events" for c in m["features"]["slash_commands"]
    )


BASE_SCOPES = {
    "chat:write",
    "commands",
    "im:history",
    "im:write",
    "mpim:write",
    "users:read",
    "users:read.email",
}


CHECK = {"channels:read", "groups:read"}  # the coordinator channel's privacy check


def test_only_the_scopes_the_bot_uses():
    # app.yaml has awareness channels, so posting to public channels uninvited is asked for.
    scopes = set(manifest()["oauth_config"]["scopes"]["bot"])
    # ... and it has a coordinator channel, whose privacy is checked at start.
    assert scopes == BASE_SCOPES | {"chat:write.public", "channels:read", "groups:read"}
    assert not any(s.startswith(("channels:", "groups:", "admin")) for s in scopes - CHECK)


def scopes_with(tmp_path: Path, old: str, new: str) -> set[str]:
    """The manifest's bot scopes for app.yaml with `old` replaced by `new`."""
    config = tmp_path / "app.yaml"
    config.write_text((ROOT / "app.yaml").read_text().replace(old, new))
    out = cli_process.run(
        ["manifest", "slack"],
        cwd=ROOT,
        check=True,
        env={**os.environ, "ALLYBOT_CONFIG": str(config)},
    ).stdout
    return set(yaml.safe_load(out)["oauth_config"]["scopes"]["bot"])


def test_no_public_channel_scope_without_awareness_channels(tmp_path):
    assert scopes_with(tmp_path, "channels: [general]", "channels: []") == BASE_SCOPES | CHECK


def test_profile_scope_only_when_a_department_field_is_configured(tmp_path):
    field = "department_field: Xf0123ABCD"
    assert "users.profile:read" in scopes_with(tmp_path, "department_field: null", field)
