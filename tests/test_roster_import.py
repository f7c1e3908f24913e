"""`allybot allies import FILE.csv`: a good roster imports, a bad one imports nothing and says
which line is wrong and why. Run as a coordinator runs it, as a separate process."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from sqlmodel import select

from bot.app import build
from bot.config import load_settings
from bot.events import Actor, Command
from handlers.allies import RosterRow, parse_roster
from storage.db import Database
from storage.models import AllyProfile, Person
from tests import cli_process

ROOT = Path(__file__).resolve().parent.parent
HEADER = "platform,user,name,department,topics,capacity\n"
GOOD = HEADER + (
    "slack,U0AAA1,Ana Ally,Engineering, stress ; workload ,3\n"
    "teams,Bob@Example.com,Bob Ally,Finance,,\n"
    "shell,zed,Zed,,grief,1\n"
)
DEFAULT_CAPACITY = 4  # set in the test app.yaml, so a default is told apart from a typed 2
APP_YAML = f"""\
organisation:
  name: Roster Co
  region: GB
matching:
  default_capacity: {DEFAULT_CAPACITY}
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "app.yaml"
    config.write_text(APP_YAML, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_"))}
    env["ALLYBOT_CONFIG"] = str(config)
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'roster.db'}"
    return env


def write(tmp_path: Path, text: str, name: str = "allies.csv", **kw: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=kw.get("encoding", "utf-8"), newline="")
    return path


def allybot_import(env: dict[str, str], path: Path | str) -> subprocess.CompletedProcess:
    return cli_process.run(["allies", "import", str(path)], cwd=ROOT, env=env)


def allies_in(env: dict[str, str]) -> dict[str, dict]:
    """Every ally in the database, keyed by platform:user-or-email; {} if there is no database."""
    if not Path(env["DATABASE_URL"].removeprefix("sqlite:///")).exists():
        return {}
    db = Database(env["DATABASE_URL"])
    try:
        with db.session() as session:
            found = session.exec(
                select(Person, AllyProfile).join(AllyProfile, AllyProfile.person_id == Person.id)
            ).all()
            return {
                f"{p.platform}:{p.platform_user_id or p.email}": {
                    "name": p.display_name,
                    "user_id": p.platform_user_id,
                    "email": p.email,
                    "department": p.department,
                    "topics": a.topics,
                    "capacity": a.capacity,
                    "status": a.status,
                    "available": a.available,
                    "open": a.open_count,
                }
                for p, a in found
            }
    finally:
        db.dispose()


def people_in(env: dict[str, str]) -> int:
    db = Database(env["DATABASE_URL"])
    try:
        with db.session() as session:
            return len(session.exec(select(Person)).all())
    finally:
        db.dispose()


def assert_refused(result: subprocess.CompletedProcess, path: Path | str, *lines: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "imported" not in result.stdout
    assert result.stderr.startswith(f"{path}: nothing imported; fix these and run it again:\n")
    reported = [line.strip() for line in result.stderr.splitlines()[1:]]
    assert reported == list(lines)


# --- the command ---------------------------------------------------------------------------------
def test_a_good_roster_imports_every_ally(tmp_path, env):
    path = write(tmp_path, GOOD)
    result = allybot_import(env, path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"imported 3 allies from {path}\n"
    assert "Traceback" not in result.stderr
    assert people_in(env) == 3
    allies = allies_in(env)
    assert allies == {
        "slack:U0AAA1": {
            "name": "Ana Ally",
            "user_id": "U0AAA1",
            "email": None,
            "department": "Engineering",
            "topics": ["stress", "workload"],
            "capacity": 3,
            "status": "active",
            "available": True,
            "open": 0,
        },
        "teams:bob@example.com": {
            "name": "Bob Ally",
            "user_id": None,
            "email": "bob@example.com",
            "department": "Finance",
            "topics": [],
            "capacity": DEFAULT_CAPACITY,
            "status": "active",
            "available": True,
            "open": 0,
        },
        "shell:zed": {
            "name": "Zed",
            "user_id": "zed",
            "email": None,
            "department": None,
            "topics": ["grief"],
            "capacity": 1,
            "status": "active",
            "available": True,
            "open": 0,
        },
    }


def test_importing_again_updates_and_never_duplicates(tmp_path, env):
    assert allybot_import(env, write(tmp_path, GOOD)).returncode == 0
    changed = GOOD.replace("Ana Ally,Engineering, stress ; workload ,3", "Ana B,Sales,grief,5")
    result = allybot_import(env, write(tmp_path, changed, "again.csv"))
    assert result.returncode == 0, result.stderr
    allies = allies_in(env)
    assert len(allies) == 3 and people_in(env) == 3
    ana = allies["slack:U0AAA1"]
    assert (ana["name"], ana["department"], ana["topics"], ana["capacity"]) == (
        "Ana B",
        "Sales",
        ["grief"],
        5,
    )


def test_an_excel_export_with_a_bom_and_crlf_line_ends_imports(tmp_path, env):
    path = write(tmp_path, GOOD.replace("\n", "\r\n"), encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbfplatform,")
    result = allybot_import(env, path)
    assert result.returncode == 0, result.stderr
    assert sorted(allies_in(env)) == ["shell:zed", "slack:U0AAA1", "teams:bob@example.com"]


def test_several_bad_rows_are_each_reported_and_none_is_imported(tmp_path, env):
    assert allybot_import(env, write(tmp_path, GOOD)).returncode == 0
    before = allies_in(env)
    bad = HEADER + (
        "slack,U0NEW1,Nia New,Legal,,2\n"  # 2: fine, but must not be imported either
        "fax,U0AAA2,Bad Platform,,,\n"  # 3
        "slack,,No User,,,\n"  # 4
        "\n"  # 5: blank lines are skipped but still counted
        "slack,U0AAA3,,Eng,,\n"  # 6
        "slack,U0AAA4,Cap,,,zero\n"  # 7
        "slack,U0AAA1,Ana Again,,,\n"  # 8: fine on its own
        "teams,U0AAA5,Two Problems,,,0\n"  # 9 has two problems
    )
    path = write(tmp_path, bad, "bad.csv")
    result = allybot_import(env, path)
    assert_refused(
        result,
        path,
        "line 3: platform must be one of slack, teams, shell",
        "line 4: user must be a platform user id or an email address",
        "line 6: name is required (at most 120 characters)",
        "line 7: capacity must be a whole number from 1 to 10",
        "line 9: capacity must be a whole number from 1 to 10",
    )
    assert allies_in(env) == before
    assert "slack:U0NEW1" not in allies_in(env)


def test_a_bad_file_on_a_fresh_install_creates_nothing(tmp_path, env):
    path = write(tmp_path, HEADER + "slack,U1,Ok,,,\nslack,U2,Bad,,,99\n")
    assert_refused(
        allybot_import(env, path), path, "line 3: capacity must be a whole number from 1 to 10"
    )
    assert allies_in(env) == {}


@pytest.mark.parametrize(
    "header, missing",
    [
        ("platform,user,department,topics,capacity", "name"),
        ("user,name,department", "platform"),
        ("platform;user;name;department", "platform, user, name, department"),
    ],
    ids=["name", "platform", "semicolons"],
)
def test_a_missing_header_column(tmp_path, env, header, missing):
    path = write(tmp_path, f"{header}\nslack,U1,Ana,Eng\n")
    assert_refused(
        allybot_import(env, path),
        path,
        f"line 1: missing column(s) {missing}; "
        "the header must be platform,user,name,department,topics,capacity",
    )
    assert allies_in(env) == {}


def test_an_empty_file(tmp_path, env):
    path = write(tmp_path, "")
    result = allybot_import(env, path)
    assert result.returncode == 1
    assert result.stderr.startswith(f"{path}: nothing imported")
    assert "line 1: " in result.stderr and "Traceback" not in result.stderr
    assert allies_in(env) == {}


def test_a_header_and_no_allies(tmp_path, env):
    path = write(tmp_path, HEADER + "\n\n")
    assert_refused(allybot_import(env, path), path, "line 2: the file has a header but no allies")


def test_duplicate_rows(tmp_path, env):
    text = HEADER + (
        "slack,U0AAA1,Ana,,,\n"
        "slack,ana@example.com,Ana by email,,,\n"
        "slack,U0AAA1,Ana again,,,\n"  # 4
        "teams,U0AAA1,Ana on Teams,,,\n"  # another platform: another person
        "slack,ANA@Example.COM,Ana shouting,,,\n"  # 6
    )
    path = write(tmp_path, text)
    assert_refused(
        allybot_import(env, path),
        path,
        "line 4: this person appears twice in the file",
        "line 6: this person appears twice in the file",
    )
    assert allies_in(env) == {}


def test_bad_capacities(tmp_path, env):
    values = ["0", "11", "-1", "2.5", "many", " 1 0 ", "1e1"]
    path = write(
        tmp_path, HEADER + "".join(f"slack,U{i},A{i},,,{v}\n" for i, v in enumerate(values))
    )
    assert_refused(
        allybot_import(env, path),
        path,
        *(f"line {n}: capacity must be a whole number from 1 to 10" for n in range(2, 9)),
    )


@pytest.mark.parametrize("capacity", ["²", "9" * 5000], ids=["superscript", "5000-digits"])
def test_a_capacity_python_cannot_count_is_reported_not_a_traceback(tmp_path, env, capacity):
    path = write(tmp_path, HEADER + f"slack,U1,Ana,,,{capacity}\n")
    assert_refused(
        allybot_import(env, path), path, "line 2: capacity must be a whole number from 1 to 10"
    )


def test_an_ally_imported_by_email_is_matched_when_they_first_arrive(tmp_path, env):
    path = write(tmp_path, HEADER + "slack,Ana@Example.com,Ana Ally,Engineering,stress,3\n")
    assert allybot_import(env, path).returncode == 0
    assert allies_in(env)["slack:ana@example.com"]["user_id"] is None
    bot = build(load_settings(env))
    try:
        arriving = Actor("slack", "U0ANA", name="Ana A.", email="ANA@example.com")
        out = bot.router.dispatch(Command("allystatus", "", arriving))
        said = "\n".join(o.message.fallback_text() for o in out)
        assert "Your ally status: available · 0 of 3 conversations open" in said
        # later events carry no email: the platform id alone now finds her
        out = bot.router.dispatch(Command("allystatus", "away", Actor("slack", "U0ANA")))
        assert "Your ally status: away" in "\n".join(o.message.fallback_text() for o in out)
        # the same email on another platform of the organisation is her too (Slack and
        # Teams at once): one person, one ally profile, reachable on both
        out = bot.router.dispatch(
            Command("allystatus", "", Actor("teams", "T1", email="ana@example.com"))
        )
        assert "Your ally status: away" in out[0].message.fallback_text()
        # and an email nobody has is somebody new
        out = bot.router.dispatch(
            Command("allystatus", "", Actor("teams", "T2", email="bo@example.com"))
        )
        assert "This is for allies, and you are not one" in out[0].message.fallback_text()
    finally:
        bot.db.dispose()
    allies = allies_in(env)
    assert list(allies) == ["slack:U0ANA"]
    assert allies["slack:U0ANA"]["email"] == "ana@example.com"
    assert allies["slack:U0ANA"]["available"] is False
    # importing the same roster again updates her, it does not create a second Ana
    assert allybot_import(env, path).returncode == 0
    assert list(allies_in(env)) == ["slack:U0ANA"]


@pytest.mark.parametrize("kind", ["missing", "directory", "not-utf8"])
def test_an_unreadable_path(tmp_path, env, kind):
    path = tmp_path / "roster.csv"
    if kind == "directory":
        path.mkdir()
    elif kind == "not-utf8":
        path.write_bytes(b"platform,user,name,department\nslack,U1,Ren\xe9e,\xff\xfe\n")
    result = allybot_import(env, path)
    assert result.returncode == 1
    assert result.stderr.startswith(f"{path}: cannot read it (")
    assert "give the path of a UTF-8 CSV file" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert allies_in(env) == {}


# --- parse_roster ------------------------------------------------------------------------------
def test_parse_roster_reads_every_field():
    rows, errors = parse_roster(GOOD, default_capacity=2)
    assert errors == []
    assert rows == [
        RosterRow(2, "slack", "U0AAA1", None, "Ana Ally", "Engineering", ("stress", "workload"), 3),
        RosterRow(3, "teams", None, "bob@example.com", "Bob Ally", "Finance", (), 2),
        RosterRow(4, "shell", "zed", None, "Zed", "", ("grief",), 1),
    ]


def test_parse_roster_header_is_forgiving_about_case_spaces_and_optional_columns():
    rows, errors = parse_roster(" Platform , USER ,Name,Department\nSLACK,U1,Ana,Eng\n", 3)
    assert errors == []
    assert rows == [RosterRow(2, "slack", "U1", None, "Ana", "Eng", (), 3)]


def test_parse_roster_counts_physical_lines():
    text = HEADER + 'slack,U1,"Ana\nSmith",,,\n\nslack,,Bo,,,\n'
    _, errors = parse_roster(text, 2)
    assert errors == [
        "line 3: a value holds a line break or control character (an unclosed double quote?)",
        "line 5: user must be a platform user id or an email address",
    ]


@pytest.mark.parametrize(
    "row, problem",
    [
        (f"slack,U1,{'N' * 121},,,", "name is required (at most 120 characters)"),
        (f"slack,U1,Ana,{'D' * 81},,", "department is longer than 80 characters"),
        ("slack,U1,Ana,,{},".format(";".join(f"t{i}" for i in range(13))), "topics: at most 12"),
        (f"slack,U1,Ana,,{'t' * 41},", "topics: at most 12"),
        ("slack,<@U123>,Ana,,,", "user must be a platform user id or an email address"),
        ("slack,U 1,Ana,,,", "user must be a platform user id or an email address"),
        # Person.platform_user_id holds 255 characters
        (f"slack,{'U' * 256},Ana,,,", "user must be a platform user id or an email address"),
    ],
    ids=[
        "long-name",
        "long-department",
        "many-topics",
        "long-topic",
        "markup-user",
        "space",
        "long-id",
    ],
)
def test_parse_roster_limits(row, problem):
    rows, errors = parse_roster(HEADER + row + "\n", 2)
    assert rows == []
    assert len(errors) == 1 and errors[0].startswith(f"line 2: {problem}")


def test_parse_roster_refuses_an_email_longer_than_the_database_holds():
    # Person.email holds 254 characters, as an email address may; PostgreSQL refuses more
    rows, errors = parse_roster(HEADER + f"slack,{'a' * 300}@example.com,Ana,,,\n", 2)
    assert rows == []
    assert len(errors) == 1 and errors[0].startswith("line 2: ")


def test_parse_roster_refuses_a_row_with_more_values_than_the_header():
    # an unquoted comma in a name shifts every value after it one column right
    rows, errors = parse_roster(HEADER + "slack,U1,Smith, Jo,Eng,,2\n", 2)
    assert rows == []
    assert len(errors) == 1 and errors[0].startswith("line 2: ")


def test_parse_roster_keeps_control_characters_out_of_names():
    text = HEADER + "slack,U1,Ana\x1b[31m\u202e,Eng\x00,,\n"
    rows, errors = parse_roster(text, 2)
    shown = [f"{r.name}{r.department}" for r in rows]
    assert not any(c in s for s in shown for c in ("\x00", "\x1b", "\u202e"))
    assert rows or (len(errors) == 1 and errors[0].startswith("line 2: "))


def test_parse_roster_an_unclosed_quote_does_not_swallow_the_rows_after_it():
    text = HEADER + 'slack,U1,"Ana,,,\nslack,U2,Bo,,,\nslack,U3,Cy,,,\n'
    rows, errors = parse_roster(text, 2)
    assert not any("\n" in r.name for r in rows)
    assert errors and all(e.startswith("line ") for e in errors)
