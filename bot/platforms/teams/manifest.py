"""The Teams app package: manifest.json (schema 1.19) and the two icons, zipped.

Built from app.yaml, content/teams.yaml (the app's name and descriptions), the router's commands
and their descriptions in content/messages.yaml (the same ones the Slack manifest uses).
`validate` checks a package for what Teams would refuse at upload, so `allybot check` can say
so first.
"""

from __future__ import annotations

import importlib.metadata
import io
import json
import re
import struct
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.config import AppConfig
from bot.router import COMMANDS
from handlers.content import CONTENT_DIR, Content
from handlers.promises import broken_promise
from handlers.yamlfile import ProblemsFound, load_yaml, pydantic_problems

MANIFEST_VERSION = "1.19"
SCHEMA = (
    "https://developer.microsoft.com/en-us/json-schemas/teams/"
    f"v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
)
PROJECT_URL = "https://github.com/allybot/allybot"
TEAMS_YAML = CONTENT_DIR / "teams.yaml"
ICONS_DIR = Path(__file__).resolve().parent / "icons"
ICONS = {"color": ("color.png", 192), "outline": ("outline.png", 32)}  # file, width = height
SCOPES = ("personal", "team", "groupChat")
# Mentioned in a channel or group chat, the bot answers in the person's own chat with it. Only
# help is offered there: a menu that invited "findally" where colleagues read along would let
# them see who asked for support.
GROUP_COMMANDS = ("help",)
PERMISSIONS = ("identity", "messageTeamMembers")
# Limits of the 1.19 schema.
MAX_DEVELOPER_NAME = 32
MAX_SHORT_NAME = 30
MAX_FULL_NAME = 100
MAX_SHORT_DESCRIPTION = 80
MAX_FULL_DESCRIPTION = 4000
MAX_COMMANDS = 10
MAX_COMMAND_LISTS = 3
MAX_TITLE = 32
MAX_COMMAND_DESCRIPTION = 128
MAX_DOMAINS = 16
MAX_URL = 2048
REQUIRED = ("manifestVersion", "version", "id", "developer", "name", "description", "icons")
GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
SEMVER = re.compile(r"(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)")
HEX_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
DOMAIN = re.compile(
    r"(?:\*\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
    r"(?::[0-9]{1,5})?",
    re.IGNORECASE,
)
_PLACEHOLDER = re.compile(r"\{(\w*)\}")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _only_organisation(text: str) -> str:
    for name in _PLACEHOLDER.findall(text):
        if name != "organisation":
            raise ValueError(f"unknown placeholder {{{name}}}: only {{organisation}} is filled in")
    return text


class _Name(_Strict):
    short: str = Field(min_length=1, max_length=MAX_SHORT_NAME)
    full: str = Field(min_length=1, max_length=MAX_FULL_NAME)
    _placeholders = field_validator("short", "full")(_only_organisation)


class _Description(_Strict):
    short: str = Field(min_length=1, max_length=MAX_SHORT_DESCRIPTION)
    full: str = Field(min_length=1, max_length=MAX_FULL_DESCRIPTION)
    _placeholders = field_validator("short", "full")(_only_organisation)


class _GroupCommands(_Strict):
    help: str = Field(min_length=1, max_length=MAX_COMMAND_DESCRIPTION)


class TeamsTexts(_Strict):
    """content/teams.yaml."""

    name: _Name
    description: _Description
    accent_color: str = Field(pattern=HEX_COLOR.pattern.join("^$"))
    group_commands: _GroupCommands


def load_texts(path: Path = TEAMS_YAML) -> TeamsTexts:
    """Read content/teams.yaml; raise ProblemsFound with file, line and fix."""
    doc = load_yaml(path, shown_as=f"content/{path.name}")
    try:
        texts = TeamsTexts.model_validate(doc.data)
    except ValidationError as exc:
        raise ProblemsFound(pydantic_problems(doc, exc)) from None
    if phrase := broken_promise(texts.description.full):
        raise ProblemsFound(
            [
                doc.problem(
                    ("description", "full"),
                    f"promises confidentiality without its limit (“{phrase}”)",
                    "say in the same text that allies keep it private unless someone's safety "
                    "is at risk",
                )
            ]
        )
    return texts


def is_guid(text: str) -> bool:
    return bool(GUID.fullmatch(text))


def domain_from_url(url: str) -> str:
    """The host (and port) of the bot's public https:// address, for `validDomains`."""
    try:
        parts = urlsplit(url)
    except ValueError:
        raise ValueError(f"{url!r} is not a URL") from None
    if parts.scheme != "https" or not parts.netloc or "@" in parts.netloc:
        raise ValueError(f"{url!r} is not an https:// address such as https://bot.example.org")
    if not DOMAIN.fullmatch(parts.netloc):
        raise ValueError(f"{parts.netloc!r} is not a host name")
    return parts.netloc.lower()


def app_version() -> str:
    """The installed allybot's version as Teams wants it: exactly three numbers."""
    try:
        found = re.match(
            r"([0-9]+)\.([0-9]+)(?:\.([0-9]+))?", importlib.metadata.version("allybot")
        )
    except importlib.metadata.PackageNotFoundError:
        found = None
    if not found:
        return "1.0.0"
    return ".".join(str(int(part or 0)) for part in found.groups())


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())  # Teams shows these on one line (full description aside)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _fill(template: str, organisation: str) -> str:
    return template.replace("{organisation}", organisation)


def _commands(names: tuple[str, ...] | list[str], describe: dict[str, str]) -> list[dict[str, str]]:
    return [
        {"title": name, "description": _cut(describe[name], MAX_COMMAND_DESCRIPTION)}
        for name in names
    ]


def build(
    app: AppConfig,
    content: Content,
    app_id: str,
    domain: str | None,
    texts_path: Path = TEAMS_YAML,
) -> dict[str, Any]:
    """manifest.json for the bot registered as `app_id` (its Microsoft App ID, a GUID).
    `domain` is the bot's public host, if it has one: its URLs then point there.

    Raises ValueError for a bad app id or domain, ProblemsFound for content/teams.yaml."""
    if not is_guid(app_id):
        raise ValueError(f"the app id {app_id!r} is not a GUID")
    if domain is not None and not DOMAIN.fullmatch(domain):
        raise ValueError(f"{domain!r} is not a host name")
    texts = load_texts(texts_path)
    personal = list(COMMANDS)
    if len(personal) > MAX_COMMANDS:
        # Teams refuses a package with more; the menu would need choosing, not cutting.
        raise ValueError(f"{len(personal)} commands, but Teams lists at most {MAX_COMMANDS}")
    organisation = app.organisation.name
    site = f"https://{domain}/" if domain else PROJECT_URL
    described = {name: content.plain(f"commands.{name}_description") for name in personal}
    group = texts.group_commands.model_dump()
    full_description = _fill(texts.description.full, organisation)
    if len(full_description) > MAX_FULL_DESCRIPTION:
        full_description = full_description[: MAX_FULL_DESCRIPTION - 1] + "…"
    return {
        "$schema": SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": app_version(),
        "id": app_id,
        "developer": {
            "name": _cut(organisation, MAX_DEVELOPER_NAME),
            "websiteUrl": site,
            "privacyUrl": site,
            "termsOfUseUrl": site,
        },
        "name": {
            "short": _cut(_fill(texts.name.short, organisation), MAX_SHORT_NAME),
            "full": _cut(_fill(texts.name.full, organisation), MAX_FULL_NAME),
        },
        "description": {
            "short": _cut(_fill(texts.description.short, organisation), MAX_SHORT_DESCRIPTION),
            "full": full_description,
        },
        "icons": {kind: file for kind, (file, _size) in ICONS.items()},
        "accentColor": texts.accent_color,
        "bots": [
            {
                "botId": app_id,
                "scopes": list(SCOPES),
                "supportsFiles": False,
                "isNotificationOnly": False,
                "commandLists": [
                    {"scopes": ["personal"], "commands": _commands(personal, described)},
                    {"scopes": ["team", "groupChat"], "commands": _commands(GROUP_COMMANDS, group)},
                ],
            }
        ],
        "permissions": list(PERMISSIONS),
        "validDomains": [domain] if domain else [],
    }


def icons() -> dict[str, bytes]:
    """The icon files by their name in the package."""
    return {file: (ICONS_DIR / file).read_bytes() for file, _size in ICONS.values()}


def zip_package(data: dict[str, Any], files: dict[str, bytes]) -> bytes:
    """manifest.json and `files` at the root of a zip. Fixed timestamps: the same inputs give
    the same bytes."""
    out = io.BytesIO()
    entries = {"manifest.json": json.dumps(data, indent=2, ensure_ascii=False).encode(), **files}
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, blob in entries.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, blob)
    return out.getvalue()


def package(app: AppConfig, content: Content, app_id: str, domain: str | None) -> bytes:
    """The zip a Teams admin uploads: manifest.json, color.png and outline.png."""
    return zip_package(build(app, content, app_id, domain), icons())


def unpack(blob: bytes) -> tuple[dict[str, Any], dict[str, bytes]]:
    """(manifest, other files) of a package; ValueError if it is not a zip with a manifest."""
    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            files = {name: archive.read(name) for name in archive.namelist()}
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ValueError(f"not a zip file ({exc.__class__.__name__})") from None
    if "manifest.json" not in files:
        raise ValueError("no manifest.json at the root of the zip")
    try:
        data = json.loads(files.pop("manifest.json").decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"manifest.json is not JSON ({exc.__class__.__name__})") from None
    if not isinstance(data, dict):
        raise ValueError("manifest.json is not a JSON object")
    return data, files


def png_size(blob: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG's IHDR chunk, or None if `blob` is not a PNG."""
    if len(blob) < 24 or not blob.startswith(PNG_SIGNATURE) or blob[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", blob[16:24])
    return width, height


def validate_package(blob: bytes) -> list[str]:
    try:
        data, files = unpack(blob)
    except ValueError as exc:
        return [str(exc)]
    return validate(data, files)


def validate(data: dict[str, Any], files: dict[str, bytes]) -> list[str]:
    """What Teams would refuse in a package: `data` is manifest.json, `files` the rest of the
    zip by name. An empty list means none of the checks found anything."""
    problems: list[str] = []
    for key in (*REQUIRED, "accentColor"):
        if key not in data:
            problems.append(f"`{key}` is missing")
    if "manifestVersion" in data and data["manifestVersion"] != MANIFEST_VERSION:
        problems.append(f"`manifestVersion` must be {MANIFEST_VERSION!r}")
    version = data.get("version")
    if "version" in data and not (isinstance(version, str) and SEMVER.fullmatch(version)):
        problems.append(f"`version` {data['version']!r} is not three numbers such as 1.0.0")
    if "id" in data and not _guid(data["id"]):
        problems.append(f"`id` {data['id']!r} is not a GUID")
    if "accentColor" in data and not (
        isinstance(data["accentColor"], str) and HEX_COLOR.fullmatch(data["accentColor"])
    ):
        problems.append(f"`accentColor` {data['accentColor']!r} is not a colour such as #2f4858")
    problems += _developer(data.get("developer"))
    problems += _texts(data, "name", MAX_SHORT_NAME, MAX_FULL_NAME)
    problems += _texts(data, "description", MAX_SHORT_DESCRIPTION, MAX_FULL_DESCRIPTION)
    name = data.get("name")
    if isinstance(name, dict) and name.get("short") == name.get("full"):
        problems.append("`name.short` and `name.full` must differ")
    problems += _icons(data.get("icons"), files)
    problems += _bots(data.get("bots"))
    permissions = data.get("permissions", [])
    if not isinstance(permissions, list) or not set(permissions) <= set(PERMISSIONS):
        problems.append(f"`permissions` may hold only {', '.join(PERMISSIONS)}")
    problems += _domains(data.get("validDomains", []))
    return problems


def _guid(value: object) -> bool:
    return isinstance(value, str) and is_guid(value)


def _text(value: object, where: str, limit: int) -> list[str]:
    if not isinstance(value, str) or not value.strip():
        return [f"`{where}` must be some text"]
    if len(value) > limit:
        return [f"`{where}` is {len(value)} characters; Teams allows at most {limit}"]
    return []


def _https(value: object, where: str) -> list[str]:
    if not isinstance(value, str) or not value.startswith("https://") or len(value) > MAX_URL:
        return [f"`{where}` must be an https:// address"]
    return []


def _developer(developer: object) -> list[str]:
    if developer is None:
        return []  # reported as missing
    if not isinstance(developer, dict):
        return ["`developer` must be an object"]
    problems = _text(developer.get("name"), "developer.name", MAX_DEVELOPER_NAME)
    for key in ("websiteUrl", "privacyUrl", "termsOfUseUrl"):
        problems += _https(developer.get(key), f"developer.{key}")
    return problems


def _texts(data: dict[str, Any], key: str, short: int, full: int) -> list[str]:
    value = data.get(key)
    if value is None:
        return []  # reported as missing
    if not isinstance(value, dict):
        return [f"`{key}` must be an object with short and full"]
    return _text(value.get("short"), f"{key}.short", short) + _text(
        value.get("full"), f"{key}.full", full
    )


def _icons(icons: object, files: dict[str, bytes]) -> list[str]:
    if icons is None:
        return []  # reported as missing
    if not isinstance(icons, dict):
        return ["`icons` must be an object with color and outline"]
    problems = []
    for kind, (_file, side) in ICONS.items():
        path = icons.get(kind)
        if not isinstance(path, str) or path not in files:
            problems.append(f"`icons.{kind}` names no file in the package ({path!r})")
            continue
        size = png_size(files[path])
        if size is None:
            problems.append(f"{path} (`icons.{kind}`) is not a PNG")
        elif size != (side, side):
            problems.append(
                f"{path} (`icons.{kind}`) is {size[0]}x{size[1]}; Teams wants {side}x{side}"
            )
    return problems


def _bots(bots: object) -> list[str]:
    if bots is None:
        return []  # a package without a bot is valid, but of no use here
    if not isinstance(bots, list) or len(bots) != 1 or not isinstance(bots[0], dict):
        return ["`bots` must hold exactly one bot"]
    bot = bots[0]
    problems = []
    if not _guid(bot.get("botId")):
        problems.append(f"`bots[0].botId` {bot.get('botId')!r} is not a GUID")
    scopes = bot.get("scopes")
    if not isinstance(scopes, list) or not scopes or not set(scopes) <= set(SCOPES):
        problems.append(f"`bots[0].scopes` must be some of {', '.join(SCOPES)}")
        scopes = []
    elif len(set(scopes)) != len(scopes):
        problems.append("`bots[0].scopes` lists a scope twice")
    lists = bot.get("commandLists", [])
    if not isinstance(lists, list) or len(lists) > MAX_COMMAND_LISTS:
        return [*problems, f"`bots[0].commandLists` must be at most {MAX_COMMAND_LISTS} lists"]
    seen: set[str] = set()
    for i, entry in enumerate(lists):
        where = f"bots[0].commandLists[{i}]"
        if not isinstance(entry, dict):
            problems.append(f"`{where}` must be an object")
            continue
        list_scopes = entry.get("scopes")
        if not isinstance(list_scopes, list) or not list_scopes:
            problems.append(f"`{where}.scopes` must name the scopes the list is for")
        else:
            for scope in list_scopes:
                if scope not in scopes:
                    problems.append(f"`{where}.scopes`: {scope!r} is not one of the bot's scopes")
                elif scope in seen:
                    problems.append(f"`{where}.scopes`: {scope!r} already has a command list")
                seen.add(scope)
        problems += _command_list(entry.get("commands"), where)
    return problems


def _command_list(commands: object, where: str) -> list[str]:
    if not isinstance(commands, list) or not commands:
        return [f"`{where}.commands` must list some commands"]
    problems = []
    if len(commands) > MAX_COMMANDS:
        problems.append(
            f"`{where}.commands` has {len(commands)} commands; Teams allows at most {MAX_COMMANDS}"
        )
    titles = []
    for j, command in enumerate(commands):
        if not isinstance(command, dict):
            problems.append(f"`{where}.commands[{j}]` must be an object")
            continue
        problems += _text(command.get("title"), f"{where}.commands[{j}].title", MAX_TITLE)
        problems += _text(
            command.get("description"),
            f"{where}.commands[{j}].description",
            MAX_COMMAND_DESCRIPTION,
        )
        titles.append(command.get("title"))
    if len(set(map(str, titles))) != len(titles):
        problems.append(f"`{where}.commands` lists a title twice")
    return problems


def _domains(domains: object) -> list[str]:
    if not isinstance(domains, list) or len(domains) > MAX_DOMAINS:
        return [f"`validDomains` must be a list of at most {MAX_DOMAINS} host names"]
    return [
        f"`validDomains`: {d!r} is not a host name (no https://, no path)"
        for d in domains
        if not isinstance(d, str) or not DOMAIN.fullmatch(d)
    ]
