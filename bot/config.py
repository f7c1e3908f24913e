"""Settings: the organisation's app.yaml plus the environment (.env via python-dotenv)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import load_dotenv
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from handlers.yamlfile import Problem, ProblemsFound, load_yaml, pydantic_problems

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = REPO_ROOT / "app.yaml"
DATA_DIR = REPO_ROOT / "data"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
CHANNEL_NAME = r"^[a-z0-9][a-z0-9_-]{0,79}$"
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
CLOCK_TIME = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
_COORDINATOR = re.compile(r"^(?:[a-z]+:[\w.@-]+|[^@\s]+@[^@\s]+\.[^@\s]+)$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Organisation(_Strict):
    name: str = Field(min_length=1, max_length=80)
    region: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166 country code, e.g. GB")
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use a name such as Europe/London"
            ) from None
        return value


def _coordinator(entry: str) -> str:
    if not _COORDINATOR.match(entry):
        raise ValueError(f"{entry!r} is neither `platform:user-id` (e.g. slack:U0123) nor an email")
    return entry


def _off(value: object) -> object:
    return "off" if value is False else value  # YAML reads a bare `off` as false


def _weekly(entry: str) -> str:
    entry = " ".join(entry.lower().split())
    day, _, at = entry.partition(" ")
    if entry != "off" and (day not in DAYS or not re.match(CLOCK_TIME, at)):
        raise ValueError(f"{entry!r} is not a day and time such as `monday 09:00` (or `off`)")
    return entry


class Coordinators(_Strict):
    people: list[Annotated[str, AfterValidator(_coordinator)]] = Field(default_factory=list)
    channel: str | None = Field(default=None, pattern=CHANNEL_NAME)
    notify_by_dm: bool = True
    # The weekly digest: a day and a time in the organisation's time zone, or "off".
    digest: Annotated[str, BeforeValidator(_off), AfterValidator(_weekly)] = "monday 09:00"


class Matching(_Strict):
    offer_timeout_minutes: int = Field(default=15, ge=1, le=24 * 60)
    default_capacity: int = Field(default=2, ge=1, le=20)
    outside_department_default: bool = False
    # A request still waiting for an ally after this long alerts the coordinators again.
    waiting_alert_hours: int = Field(default=24, ge=1, le=24 * 14)


class Allies(_Strict):
    training_renewal_days: int = Field(default=365, ge=30, le=3650)
    training_reminder_days: int = Field(default=30, ge=1, le=180)  # remind this long before
    # A refresher overdue by more than this many days: no new requests until it is recorded.
    training_grace_days: int = Field(default=30, ge=0, le=365)
    check_in_days: int = Field(default=30, ge=7, le=180)  # how often allies are asked how they are


class Applications(_Strict):
    # An application left unfinished this long is dropped, answers and all.
    expire_after_days: int = Field(default=30, ge=1, le=365)
    remind_after_days: int = Field(default=2, ge=1, le=30)
    # A person sends at most `limit` applications in `limit_days` days (one sent back for more
    # information and sent again counts once), so sending and withdrawing over and over cannot
    # flood the coordinators. Past it they are told when they can apply again.
    limit: int = Field(default=3, ge=1, le=20)
    limit_days: int = Field(default=30, ge=1, le=365)


class Feedback(_Strict):
    """How many anonymous comments one person may leave (handlers/feedback.py): per clock hour
    and per day in the organisation's time zone."""

    per_hour: int = Field(default=5, ge=1, le=100)
    per_day: int = Field(default=20, ge=1, le=1000)

    @model_validator(mode="after")
    def _hour_within_day(self) -> Feedback:
        if self.per_hour > self.per_day:
            raise ValueError(
                f"per_hour ({self.per_hour}) is more than per_day ({self.per_day}); "
                "make per_hour at most per_day"
            )
        return self


class Awareness(_Strict):
    channels: list[Annotated[str, Field(pattern=CHANNEL_NAME)]] = Field(default_factory=list)
    time: str = Field(default="10:00", pattern=CLOCK_TIME)  # when posts go out, local time
    # A post that fell due while the bot was down is still sent if it is at most this late.
    grace_hours: int = Field(default=6, ge=0, le=72)


class Delivery(_Strict):
    """How outgoing messages are sent after the commit (storage/outbox.py)."""

    sweep_seconds: float = Field(default=15, ge=0.1, le=300)  # timers and unsent messages
    lease_seconds: float = Field(default=60, ge=1, le=3600)  # a claim to send runs out after
    retry_seconds: float = Field(default=30, ge=0, le=3600)  # first wait after a failure
    # How often each replica checks (or takes) the calendar's leader lock: a leader that died
    # is replaced within this, and a post it had in flight is sent within this + lease_seconds.
    leader_seconds: float = Field(default=30, ge=0.1, le=300)


class Platforms(_Strict):
    """What every platform adapter shares."""

    # People whose profile, DM channel and ids an adapter keeps in memory at most (the ones used
    # least recently are looked up again when needed): memory stays flat as people write.
    cache_size: int = Field(default=5000, ge=10, le=1_000_000)


class Relay(_Strict):
    """The anonymous relay (handlers/relay.py): how long a silent one stays open, and how many
    messages one person may have passed on (more is answered "slow down" and not passed on)."""

    idle_days: int = Field(default=3, ge=1, le=60)
    per_minute: int = Field(default=20, ge=1, le=120)
    per_day: int = Field(default=200, ge=1, le=5000)

    @model_validator(mode="after")
    def _day_holds_a_minute(self) -> Relay:
        if self.per_day < self.per_minute:
            raise ValueError("per_day must be at least per_minute")
        return self


class Retention(_Strict):
    requests_days: int = Field(default=90, ge=7, le=3650)  # finished requests, offers, follow-ups
    applications_days: int = Field(default=90, ge=7, le=3650)  # declined, withdrawn, expired
    audit_days: int = Field(default=365, ge=30, le=3650)
    events_hours: int = Field(default=48, ge=1, le=24 * 30)  # platform event ids (dedupe)


class Slack(_Strict):
    # A custom profile field (its id, e.g. Xf0123ABCD) that holds each person's department.
    department_field: str | None = Field(default=None, pattern=r"^Xf[A-Z0-9]{4,}$")


# A neutral Channel named "teams:<id>" is that Teams channel; other names are Slack's (or the
# shell's) channels, which never contain a colon.
TEAMS_PREFIX = "teams:"
TEAMS_CHANNEL = r"^19:[A-Za-z0-9_@.=-]{1,80}$"  # a Teams channel id, as in its link


class Teams(_Strict):
    # Channel ids (19:...@thread.tacv2, from "Get link to channel") for awareness posts, and an
    # optional channel for coordinators' alerts that name nobody (a private channel).
    awareness_channels: list[Annotated[str, Field(pattern=TEAMS_CHANNEL)]] = Field(
        default_factory=list
    )
    coordinators_channel: str | None = Field(default=None, pattern=TEAMS_CHANNEL)
    # Teams does not tell a bot whether a channel is private (that takes Microsoft Graph), so
    # the coordinators' Teams channel gets only the digest's numbers unless you say it is a
    # private channel of coordinators alone; then it gets the alerts that name nobody too.
    coordinators_channel_private: bool = False
    # Where to open a chat with someone the bot has not heard from yet (a roster import): the
    # Bot Connector of the organisation's region. Replaced by what Teams sends once it does.
    service_url: str = Field(
        default="https://smba.trafficmanager.net/teams/", pattern=r"^https?://[^\s]+/$"
    )


class AppConfig(_Strict):
    organisation: Organisation
    coordinators: Coordinators = Coordinators()
    matching: Matching = Matching()
    allies: Allies = Allies()
    applications: Applications = Applications()
    feedback: Feedback = Feedback()
    slack: Slack = Slack()
    teams: Teams = Teams()
    awareness: Awareness = Awareness()
    follow_up_days: int = Field(default=5, ge=1, le=60)  # after a hand-off, ask how it went
    retention: Retention = Retention()
    relay: Relay = Relay()
    delivery: Delivery = Delivery()
    platforms: Platforms = Platforms()
    # The older form of retention.requests_days and applications_days (one number for both).
    retention_days: int | None = Field(default=None, ge=7, le=3650)

    @model_validator(mode="before")
    @classmethod
    def _older_settings(cls, data: object) -> object:
        """`retention_days: N` (before the retention section) still means what it did. A bad
        value is left for its own field to report, at its own line."""
        if not isinstance(data, dict):
            return data
        days = data.get("retention_days")
        if type(days) is int and 7 <= days <= 3650 and "retention" not in data:
            data = {**data, "retention": {"requests_days": days, "applications_days": days}}
        return data


def teams_channel(app: AppConfig, name: str, scheduled: bool = False) -> str | None:
    """The Teams channel id a neutral channel name stands for: `teams:<id>` is that channel;
    the coordinators' channel is `teams.coordinators_channel` for scheduled posts (the digest's
    numbers) and, when app.yaml says that channel is private, for alerts too; other names are
    Slack's (or the shell's) alone."""
    if name.startswith(TEAMS_PREFIX):
        return name.removeprefix(TEAMS_PREFIX)
    teams = app.teams
    if name == app.coordinators.channel and (scheduled or teams.coordinators_channel_private):
        return teams.coordinators_channel
    return None


@dataclass(frozen=True)
class Settings:
    app: AppConfig
    config_path: Path
    database_url: str
    log_level: str
    port: int
    data_dir: Path
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str | None = None
    secret_key: str | None = None  # ALLYBOT_SECRET_KEY; without it a local key file is used
    # LOG_LEVEL_SDK: the libraries' level (default: INFO at most); DEBUG is redacted (bot/logs.py)
    log_level_sdk: str | None = None
    teams_app_id: str | None = None  # MICROSOFT_APP_ID
    teams_app_password: str | None = None  # MICROSOFT_APP_PASSWORD
    teams_tenant_id: str | None = None  # MICROSOFT_APP_TENANT_ID
    # ALLYBOT_TEAMS_NO_AUTH=1: no token checks, loopback serviceUrl only (local runs and tests).
    teams_no_auth: bool = False
    # Where the signing keys of Bot Connector tokens are published (OpenID metadata). Tests and
    # sovereign clouds point ALLYBOT_TEAMS_OPENID_URL elsewhere.
    teams_openid_url: str = "https://login.botframework.com/v1/.well-known/openidconfiguration"

    @property
    def teams_enabled(self) -> bool:
        return bool(self.teams_app_id or self.teams_no_auth)


def load_app_config(path: Path) -> AppConfig:
    """Read and validate app.yaml; raise ProblemsFound with file, line and fix."""
    doc = load_yaml(path)
    if not isinstance(doc.data, dict):
        raise ProblemsFound(
            [
                Problem(
                    doc.file,
                    1,
                    "app.yaml must be a mapping of settings",
                    "start from the app.yaml in the repository",
                )
            ]
        )
    try:
        return AppConfig.model_validate(doc.data)
    except ValidationError as exc:
        raise ProblemsFound(pydantic_problems(doc, exc)) from None


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Settings from the environment (after loading `.env`) and the app.yaml it points at."""
    if env is None:
        load_dotenv(REPO_ROOT / ".env", override=False)
        env = dict(os.environ)
    path = Path(env.get("ALLYBOT_CONFIG") or DEFAULT_CONFIG)
    app = load_app_config(path)
    port_text = env.get("PORT", "3000")
    if not re.fullmatch(r"[0-9]{1,5}", port_text) or not 0 < int(port_text) < 65536:
        raise ProblemsFound(
            [
                Problem(
                    "environment",
                    None,
                    f"PORT={port_text!r} is not a port",
                    "set PORT to a number between 1 and 65535",
                )
            ]
        )
    log_level = (env.get("LOG_LEVEL") or "INFO").upper()
    if log_level not in LOG_LEVELS:
        raise ProblemsFound(
            [
                Problem(
                    "environment",
                    None,
                    f"LOG_LEVEL={log_level!r} is unknown",
                    f"use one of {', '.join(LOG_LEVELS)}",
                )
            ]
        )
    sdk_level = (env.get("LOG_LEVEL_SDK") or "").upper() or None
    if sdk_level is not None and sdk_level not in LOG_LEVELS:
        raise ProblemsFound(
            [
                Problem(
                    "environment",
                    None,
                    f"LOG_LEVEL_SDK={sdk_level!r} is unknown",
                    f"use one of {', '.join(LOG_LEVELS)}",
                )
            ]
        )
    data_dir = Path(env.get("ALLYBOT_DATA_DIR") or DATA_DIR)
    return Settings(
        app=app,
        config_path=path,
        database_url=env.get("DATABASE_URL") or f"sqlite:///{data_dir / 'allybot.db'}",
        log_level=log_level,
        data_dir=data_dir,
        port=int(port_text),
        slack_bot_token=env.get("SLACK_BOT_TOKEN") or None,
        slack_signing_secret=env.get("SLACK_SIGNING_SECRET") or None,
        slack_app_token=env.get("SLACK_APP_TOKEN") or None,
        slack_api_url=env.get("SLACK_API_URL") or None,
        secret_key=env.get("ALLYBOT_SECRET_KEY") or None,
        log_level_sdk=sdk_level,
        teams_app_id=env.get("MICROSOFT_APP_ID") or None,
        teams_app_password=env.get("MICROSOFT_APP_PASSWORD") or None,
        teams_tenant_id=env.get("MICROSOFT_APP_TENANT_ID") or None,
        teams_no_auth=env.get("ALLYBOT_TEAMS_NO_AUTH", "").strip().lower() in ("1", "true", "yes"),
        teams_openid_url=env.get("ALLYBOT_TEAMS_OPENID_URL") or Settings.teams_openid_url,
    )
