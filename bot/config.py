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
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from handlers.yamlfile import Problem, ProblemsFound, load_yaml, pydantic_problems

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = REPO_ROOT / "app.yaml"
DATA_DIR = REPO_ROOT / "data"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
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


class Coordinators(_Strict):
    people: list[Annotated[str, AfterValidator(_coordinator)]] = Field(default_factory=list)
    channel: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_-]{0,79}$")
    notify_by_dm: bool = True


class Matching(_Strict):
    offer_timeout_minutes: int = Field(default=15, ge=1, le=24 * 60)
    default_capacity: int = Field(default=2, ge=1, le=20)
    outside_department_default: bool = False


class Allies(_Strict):
    training_renewal_days: int = Field(default=365, ge=30, le=3650)


class Applications(_Strict):
    # An application left unfinished this long is dropped, answers and all.
    expire_after_days: int = Field(default=30, ge=1, le=365)


class Slack(_Strict):
    # A custom profile field (its id, e.g. Xf0123ABCD) that holds each person's department.
    department_field: str | None = Field(default=None, pattern=r"^Xf[A-Z0-9]{4,}$")


class AppConfig(_Strict):
    organisation: Organisation
    coordinators: Coordinators = Coordinators()
    matching: Matching = Matching()
    allies: Allies = Allies()
    applications: Applications = Applications()
    slack: Slack = Slack()
    follow_up_days: int = Field(default=5, ge=1, le=60)
    retention_days: int = Field(default=90, ge=7, le=3650)


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
    )
