"""`allybot manifest teams`: the zip a Teams admin uploads, and `validate`, which finds what Teams
would refuse in one."""

from __future__ import annotations

import importlib.metadata
import io
import json
import os
import struct
import subprocess
import zipfile
from pathlib import Path

import pytest

from bot.cli import main
from bot.platforms.teams import manifest
from bot.router import COMMANDS
from handlers.yamlfile import ProblemsFound
from tests import cli_process

ROOT = Path(__file__).resolve().parent.parent
APP_ID = "0f6c8f3e-5b1a-4c2d-9e7f-1a2b3c4d5e6f"


def run(*args: str, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_"))}
    clean.pop("ALLYBOT_CONFIG", None)
    # An empty MICROSOFT_APP_ID also keeps a developer's .env from supplying one.
    full_env = {**clean, "MICROSOFT_APP_ID": "", "PYTHONPATH": str(ROOT), **env}
    return cli_process.run(list(args), cwd=cwd, env=full_env)


def unzip(path: Path) -> tuple[dict, dict[str, bytes]]:
    with zipfile.ZipFile(path) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    return json.loads(files.pop("manifest.json")), files


def png_size(blob: bytes) -> tuple[int, int]:
    assert blob[:8] == b"\x89PNG\r\n\x1a\n" and blob[12:16] == b"IHDR"
    return struct.unpack(">II", blob[16:24])


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[dict, dict[str, bytes], Path, subprocess.CompletedProcess]:
    out = tmp_path_factory.mktemp("teams") / "package.zip"
    result = run("manifest", "teams", "--app-id", APP_ID, "--output", str(out))
    assert result.returncode == 0, result.stderr
    data, files = unzip(out)
    return data, files, out, result


def test_the_package_has_the_manifest_and_both_icons_at_its_root(built):
    data, files, out, result = built
    assert result.stdout == (f"wrote {out} (Teams app package for Example Co, app id {APP_ID})\n")
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
    assert png_size(files[data["icons"]["color"]]) == (192, 192)
    assert png_size(files[data["icons"]["outline"]]) == (32, 32)
    assert manifest.validate(data, files) == []


def test_the_manifest_is_schema_1_19_with_this_bot_and_version(built):
    data, _files, _out, _result = built
    assert data["$schema"] == (
        "https://developer.microsoft.com/en-us/json-schemas/teams/v1.19/MicrosoftTeams.schema.json"
    )
    assert data["manifestVersion"] == "1.19"
    assert data["version"] == importlib.metadata.version("allybot")
    assert data["id"] == APP_ID
    assert data["developer"]["name"] == "Example Co"
    assert data["developer"]["websiteUrl"] == "https://github.com/allybot/allybot"
    assert data["validDomains"] == []
    assert data["permissions"] == ["identity", "messageTeamMembers"]
    assert "Example Co" in data["name"]["full"] and len(data["name"]["short"]) <= 30
    assert "{organisation}" not in json.dumps(data)
    assert len(data["description"]["short"]) <= 80
    assert data["accentColor"].startswith("#")


def test_the_personal_commands_are_exactly_the_handled_ones(built):
    data, _files, _out, _result = built
    (bot,) = data["bots"]
    assert bot["botId"] == APP_ID
    assert bot["scopes"] == ["personal", "team", "groupChat"]
    assert bot["supportsFiles"] is False and bot["isNotificationOnly"] is False
    personal, groups = bot["commandLists"]
    assert personal["scopes"] == ["personal"]
    assert [c["title"] for c in personal["commands"]] == list(COMMANDS)
    assert len(personal["commands"]) <= 10
    for command in personal["commands"]:
        assert 0 < len(command["description"]) <= 128
    findally = next(c for c in personal["commands"] if c["title"] == "findally")
    assert findally["description"] == "Talk privately to a mental health ally, or find support"
    # Mentioned in a channel or a group chat, the bot offers only the two ways in.
    assert groups["scopes"] == ["team", "groupChat"]
    assert [c["title"] for c in groups["commands"]] == ["help"]  # never findally in public


def test_a_public_address_becomes_the_links_and_the_valid_domain(tmp_path):
    # The app id from the environment, and the default file name in the current directory.
    result = run(
        "manifest",
        "teams",
        "--url",
        "https://Bot.Example.org/",
        cwd=tmp_path,
        MICROSOFT_APP_ID=APP_ID,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("wrote allybot-teams.zip (Teams app package for Example Co")
    data, files = unzip(tmp_path / "allybot-teams.zip")
    assert data["id"] == APP_ID
    assert data["validDomains"] == ["bot.example.org"]
    assert data["developer"]["privacyUrl"] == "https://bot.example.org/"
    assert manifest.validate(data, files) == []


def test_without_an_app_id_it_says_how_to_give_one(tmp_path):
    result = run("manifest", "teams", cwd=tmp_path)
    assert result.returncode == 1
    assert "no Microsoft App ID: pass --app-id GUID or set MICROSOFT_APP_ID" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "allybot-teams.zip").exists()


@pytest.mark.parametrize(
    ("args", "env", "said"),
    [
        (["--app-id", "my-bot"], {}, "--app-id 'my-bot' is not a GUID"),
        ([], {"MICROSOFT_APP_ID": "12345"}, "MICROSOFT_APP_ID='12345' is not a GUID"),
        (["--app-id", APP_ID, "--url", "http://bot.example.org"], {}, "https://"),
        (["--app-id", APP_ID, "--url", "https://bot example.org"], {}, "not a host name"),
    ],
)
def test_a_bad_app_id_or_address_is_refused_plainly(tmp_path, monkeypatch, capsys, args, env, said):
    # In process (the same `main` the console script runs): these never get far enough to
    # need a fresh interpreter, and four of them would cost seconds.
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ALLYBOT_CONFIG", raising=False)
    monkeypatch.setenv("MICROSOFT_APP_ID", "")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert main(["manifest", "teams", *args]) == 1
    assert said in capsys.readouterr().err
    assert not (tmp_path / "allybot-teams.zip").exists()


def test_the_slack_manifest_takes_no_teams_options(capsys):
    assert main(["manifest", "slack", "--app-id", APP_ID]) == 1
    assert "--app-id and --output are for `allybot manifest teams`" in capsys.readouterr().err


def test_check_validates_the_teams_package_when_an_app_id_is_set():
    result = run("check", MICROSOFT_APP_ID=APP_ID)
    assert result.returncode == 0, result.stderr
    assert f"ok: Teams app package for app id {APP_ID}" in result.stdout
    result = run("check", MICROSOFT_APP_ID="not-a-guid")
    assert result.returncode == 1
    assert "environment: MICROSOFT_APP_ID='not-a-guid' is not a GUID" in result.stderr
    assert "fix: use the bot's Microsoft App ID" in result.stderr
    assert "Teams app package" not in run("check").stdout


def package() -> tuple[dict, dict[str, bytes]]:
    data, files = manifest.unpack(manifest.zip_package(_build(), manifest.icons()))
    assert manifest.validate(data, files) == []
    return data, files


def _build() -> dict:
    from bot.config import load_settings
    from handlers.content import load_content

    return manifest.build(load_settings({}).app, load_content(), APP_ID, None)


def test_validate_finds_a_wrong_icon_size_and_a_missing_bot_id():
    data, files = package()
    files["outline.png"] = files["color.png"]
    del data["bots"][0]["botId"]
    assert manifest.validate(data, files) == [
        "outline.png (`icons.outline`) is 192x192; Teams wants 32x32",
        "`bots[0].botId` None is not a GUID",
    ]


def test_validate_finds_what_teams_would_refuse():
    data, files = package()
    data["id"] = "allybot"
    data["version"] = "1.0"
    data["accentColor"] = "blue"
    data["name"]["short"] = "allybot for the whole of Example Co"
    data["description"]["full"] = ""
    data["developer"]["privacyUrl"] = "http://example.org/privacy"
    data["icons"]["color"] = "missing.png"
    files["outline.png"] = b"GIF89a..."
    bot = data["bots"][0]
    bot["scopes"] = ["personal", "meeting"]
    bot["commandLists"][0]["commands"] *= 2
    bot["commandLists"][0]["commands"][0]["description"] = "x" * 129
    bot["commandLists"][1]["scopes"] = ["groupChat", "personal"]
    data["permissions"] = ["identity", "everything"]
    data["validDomains"] = ["https://bot.example.org/path"]
    del data["developer"]["name"]
    problems = manifest.validate(data, files)
    expected = [
        "`version` '1.0' is not three numbers such as 1.0.0",
        "`id` 'allybot' is not a GUID",
        "`accentColor` 'blue' is not a colour such as #2f4858",
        "`developer.name` must be some text",
        "`developer.privacyUrl` must be an https:// address",
        "`name.short` is 35 characters; Teams allows at most 30",
        "`description.full` must be some text",
        "`icons.color` names no file in the package ('missing.png')",
        "outline.png (`icons.outline`) is not a PNG",
        "`bots[0].scopes` must be some of personal, team, groupChat",
        "`permissions` may hold only identity, messageTeamMembers",
        "`validDomains`: 'https://bot.example.org/path' is not a host name (no https://, no path)",
    ]
    for problem in expected:
        assert problem in problems
    n = len(COMMANDS) * 2
    assert f"`bots[0].commandLists[0].commands` has {n} commands; Teams allows at most 10" in (
        problems
    )
    assert (
        "`bots[0].commandLists[0].commands[0].description` is 129 characters; "
        "Teams allows at most 128"
    ) in problems
    assert "`bots[0].commandLists[0].commands` lists a title twice" in problems


def test_validate_finds_missing_keys_and_a_broken_zip():
    assert manifest.validate({}, {}) == [
        f"`{key}` is missing"
        for key in (
            "manifestVersion",
            "version",
            "id",
            "developer",
            "name",
            "description",
            "icons",
            "accentColor",
        )
    ]
    assert manifest.validate_package(b"not a zip") == ["not a zip file (BadZipFile)"]
    empty = io.BytesIO()
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("color.png", b"")
    assert manifest.validate_package(empty.getvalue()) == [
        "no manifest.json at the root of the zip"
    ]


def test_a_command_list_for_a_scope_twice_is_found():
    data, files = package()
    data["bots"][0]["commandLists"][1]["scopes"] = ["team", "personal"]
    assert manifest.validate(data, files) == [
        "`bots[0].commandLists[1].scopes`: 'personal' already has a command list"
    ]


def test_the_same_inputs_make_the_same_zip():
    first = manifest.zip_package(_build(), manifest.icons())
    assert manifest.zip_package(_build(), manifest.icons()) == first


def test_teams_yaml_problems_point_at_their_line(tmp_path):
    text = (ROOT / "content" / "teams.yaml").read_text()
    broken = text.replace(
        "  short: allybot ", "  short: allybot for every colleague at {organisation} "
    )
    assert broken != text
    path = tmp_path / "teams.yaml"
    path.write_text(broken)
    with pytest.raises(ProblemsFound) as found:
        manifest.load_texts(path)
    (problem,) = found.value.problems
    assert problem.file == "content/teams.yaml"
    lines = text.splitlines()
    short = next(n for n, line in enumerate(lines, 1) if line.startswith("  short: allybot "))
    assert problem.line == short
    assert "name.short" in problem.message
    path.write_text(text.replace("{organisation}. Allies", "{org}. Allies"))
    with pytest.raises(ProblemsFound) as found:
        manifest.load_texts(path)
    assert "unknown placeholder {org}" in found.value.problems[0].message


def test_a_long_organisation_name_is_cut_to_what_teams_allows(tmp_path):
    from bot.config import load_settings
    from handlers.content import load_content

    config = tmp_path / "app.yaml"
    long_name = "The Very Long Name of an Organisation with Many Departments Ltd"
    config.write_text(
        (ROOT / "app.yaml").read_text().replace("name: Example Co", f"name: {long_name}")
    )
    app = load_settings({"ALLYBOT_CONFIG": str(config)}).app
    data = manifest.build(app, load_content(), APP_ID, None)
    assert data["developer"]["name"] == long_name[:31] + "…"
    assert manifest.validate(data, manifest.icons()) == []
