"""`allybot check` and a bad app.yaml or content/: every problem names the file, the line and a
fix, and nothing ever ends in a traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from handlers.content import CONTENT_DIR, load_content
from handlers.yamlfile import ProblemsFound
from tests import cli_process

ROOT = Path(__file__).resolve().parent.parent
GOOD = """\
# settings for the tests
organisation:
  name: Test Co
  region: GB
  timezone: Europe/London

coordinators:
  people:
    - shell:casey
    - slack:U0123ABC
    - casey@example.com
  channel: coordinators
  notify_by_dm: true

matching:
  offer_timeout_minutes: 15
  default_capacity: 2
  outside_department_default: false

follow_up_days: 5
retention_days: 90
"""


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def allybot(tmp_path: Path, *args: str, config: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_"))}
    env["ALLYBOT_CONFIG"] = str(config or tmp_path / "app.yaml")
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'check.db'}"
    return cli_process.run(list(args), cwd=ROOT, env=env)


def check(tmp_path: Path, text: str) -> tuple[Path, subprocess.CompletedProcess]:
    path = tmp_path / "app.yaml"
    path.write_text(text, encoding="utf-8")
    return path, allybot(tmp_path, "check")


def assert_problem(result, path: Path, line: int, *words: str) -> None:
    """`allybot check` failed, and one of its problems is at `path:line`, names every word
    given, and is followed by a fix."""
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "Traceback" not in out
    assert "ok:" not in result.stdout
    where = f"{path}:{line}: "
    assert where in out, out
    found = []
    for after in out.split(where)[1:]:
        problem, fix = [*after.splitlines(), ""][:2]
        found.append((problem, fix.strip()))
        if all(word in problem for word in words) and fix.strip().startswith("fix: "):
            assert len(fix.strip()) > len("fix: ")
            return
    raise AssertionError(f"no problem at {where} naming {words} with a fix: {found}")


# --- app.yaml ----------------------------------------------------------------------------------
def test_a_valid_file_is_ok(tmp_path):
    _, result = check(tmp_path, GOOD)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: app.yaml (Test Co) and content/")
    assert result.stderr == ""


def test_the_shipped_app_yaml_is_ok(tmp_path):
    result = allybot(tmp_path, "check", config=ROOT / "app.yaml")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: app.yaml")


@pytest.mark.parametrize(
    "good, bad",
    [
        ("  name: Test Co", "  name: Test: Co"),  # a second colon
        ("  region: GB", " region: GB"),  # indentation
        ("  timezone: Europe/London", "\ttimezone: Europe/London"),  # a tab
    ],
    ids=["colon", "indent", "tab"],
)
def test_broken_yaml(tmp_path, good, bad):
    text = GOOD.replace(good, bad)
    path, result = check(tmp_path, text)
    assert_problem(result, path, line_of(text, bad.strip()), "YAML syntax")


def test_an_unclosed_bracket_points_at_the_line_where_it_was_opened(tmp_path):
    # PyYAML notices the missing `]` two lines later, at `channel:`; the mistake is here
    text = GOOD.replace("    - slack:U0123ABC", "    - [slack:U0123ABC")
    path, result = check(tmp_path, text)
    opened = line_of(text, "[slack:")
    out = result.stderr
    assert result.returncode == 1 and "YAML syntax" in out and "fix: " in out
    assert f"{path}:{opened}:" in out or f"line {opened}" in out, out


@pytest.mark.parametrize(
    "good, bad",
    [
        ("  notify_by_dm: true", "  notfy_by_dm: true"),
        ("follow_up_days: 5", "followup_days: 5"),
    ],
    ids=["nested", "top-level"],
)
def test_a_misspelt_key(tmp_path, good, bad):
    text = GOOD.replace(good, bad)
    path, result = check(tmp_path, text)
    key = bad.split(":")[0].strip()
    assert_problem(result, path, line_of(text, bad), key)
    assert f"fix: remove `{key}` or check its spelling" in result.stderr


@pytest.mark.parametrize("region", ["United Kingdom", "gb"])
def test_a_bad_region(tmp_path, region):
    text = GOOD.replace("  region: GB", f"  region: {region}")
    path, result = check(tmp_path, text)
    assert_problem(result, path, line_of(text, "  region:"), "organisation.region")


@pytest.mark.parametrize("zone", ["Europe/Londn", "../../etc/passwd"])
def test_an_unknown_timezone(tmp_path, zone):
    text = GOOD.replace("  timezone: Europe/London", f"  timezone: {zone}")
    path, result = check(tmp_path, text)
    assert_problem(
        result, path, line_of(text, "  timezone:"), "organisation.timezone", "unknown time zone"
    )
    assert "Europe/London" in result.stderr  # what a good one looks like


@pytest.mark.parametrize("entry", ["Casey Jones", "casey@"])
def test_a_bad_coordinator_entry_points_at_its_own_line(tmp_path, entry):
    # the bad entry is the second of three, so the line of `people:` is not good enough
    text = GOOD.replace("    - slack:U0123ABC", f"    - {entry!r}")
    path, result = check(tmp_path, text)
    assert_problem(result, path, line_of(text, f"- {entry!r}"), "coordinators.people")


@pytest.mark.parametrize("minutes", ["-5", "fifteen"])
def test_a_bad_offer_timeout(tmp_path, minutes):
    text = GOOD.replace("offer_timeout_minutes: 15", f"offer_timeout_minutes: {minutes}")
    path, result = check(tmp_path, text)
    assert_problem(
        result, path, line_of(text, "offer_timeout_minutes"), "matching.offer_timeout_minutes"
    )


def test_every_problem_is_listed_with_its_own_line(tmp_path):
    text = (
        GOOD.replace("  region: GB", "  region: Britain")
        .replace("offer_timeout_minutes: 15", "offer_timeout_minutes: -5")
        .replace("retention_days: 90", "retention_dayz: 90")
    )
    path, result = check(tmp_path, text)
    assert "3 problem(s) found:" in result.stderr
    assert_problem(result, path, line_of(text, "region:"), "organisation.region")
    assert_problem(result, path, line_of(text, "offer_timeout"), "offer_timeout_minutes")
    assert_problem(result, path, line_of(text, "retention_dayz"), "retention_dayz")


@pytest.mark.parametrize("text", ["# only a comment\n", "- a list\n- of things\n"])
def test_a_file_that_is_not_a_mapping_of_settings(tmp_path, text):
    path, result = check(tmp_path, text)
    assert_problem(result, path, 1, "must be a mapping")


def test_a_missing_organisation_says_what_to_add(tmp_path):
    text = GOOD.split("\ncoordinators:")[0].replace("organisation:", "organization:")
    path, result = check(tmp_path, text + "\n")
    assert "fix: add `organisation`" in result.stderr
    assert_problem(result, path, line_of(text, "organization:"), "organization")


def test_a_config_path_that_does_not_exist(tmp_path):
    missing = tmp_path / "nowhere" / "app.yaml"
    result = allybot(tmp_path, "check", config=missing)
    assert result.returncode == 1
    assert f"{missing}: file not found" in result.stderr
    assert "fix: " in result.stderr and "Traceback" not in result.stderr


def test_a_config_file_that_is_not_text(tmp_path):
    path = tmp_path / "app.yaml"
    path.write_bytes(b"\xff\xfe\x00\x00garbage\x80")
    result = allybot(tmp_path, "check")
    assert result.returncode == 1
    assert f"{path}: cannot read the file" in result.stderr
    assert "fix: save it as UTF-8 text" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "good, bad, field",
    [
        ("  timezone: Europe/London", "  timezone: Mars/Olympus", "organisation.timezone"),
        ("offer_timeout_minutes: 15", "offer_timeout_minutes: -5", "offer_timeout_minutes"),
    ],
    ids=["timezone", "timeout"],
)
def test_the_shell_refuses_to_start_on_a_bad_app_yaml(tmp_path, good, bad, field):
    text = GOOD.replace(good, bad)
    path = tmp_path / "app.yaml"
    path.write_text(text, encoding="utf-8")
    checked = allybot(tmp_path, "check")
    result = allybot(tmp_path, "shell", "--demo")
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""  # no greeting, no half-started shell
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("allybot cannot start: 1 problem(s) in its settings")
    # the same problem, line and fix as `allybot check` prints
    problem = checked.stderr.split("\n", 1)[1]
    assert problem.strip() and problem in result.stderr
    assert f"{path}:" in problem and field in problem and "fix: " in problem


# --- content/ ----------------------------------------------------------------------------------
@pytest.fixture
def content(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, root)
    return root


def problems(root: Path) -> str:
    with pytest.raises(ProblemsFound) as caught:
        load_content(root)
    text = str(caught.value)
    assert "Traceback" not in text
    return text


def edit(path: Path, change) -> str:
    text = change(path.read_text(encoding="utf-8"))
    path.write_text(text, encoding="utf-8")
    return text


def without_any_region(text: str) -> str:
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.rstrip() == "  ANY:")
    end = start + 1
    while end < len(lines) and (lines[end].startswith("    ") or not lines[end].strip()):
        end += 1
    return "".join(lines[:start] + lines[end:])


def nth_url_made_http(text: str, n: int = 2) -> str:
    lines = text.splitlines(keepends=True)
    urls = [i for i, line in enumerate(lines) if "url: https://" in line]
    lines[urls[n]] = lines[urls[n]].replace("https://", "http://")
    return "".join(lines)


def test_the_shipped_content_loads(content):
    loaded = load_content(content)
    assert "ANY" in loaded.resources.regions


def test_resources_without_the_any_region(content):
    text = edit(content / "resources.yaml", without_any_region)
    assert "ANY:" not in text
    found = problems(content)
    assert f"content/resources.yaml:{line_of(text, 'regions:')}: no `ANY` region" in found
    assert "fix: add an `ANY` region" in found


def test_a_resource_url_that_is_not_https(content):
    text = edit(content / "resources.yaml", nth_url_made_http)
    found = problems(content)
    line = line_of(text, "url: http://")
    assert f"content/resources.yaml:{line}: regions." in found
    assert ".url: " in found.splitlines()[0]
    assert "fix: " in found


def test_every_content_problem_is_reported_at_once(content):
    text = edit(content / "resources.yaml", lambda t: nth_url_made_http(without_any_region(t)))
    found = problems(content)
    assert f"content/resources.yaml:{line_of(text, 'url: http://')}:" in found
    assert f"content/resources.yaml:{line_of(text, 'regions:')}: no `ANY` region" in found


def test_a_bad_emergency_number(content):
    text = edit(
        content / "resources.yaml", lambda t: t.replace('emergency: "999"', "emergency: 99")
    )
    found = problems(content)
    assert f"content/resources.yaml:{line_of(text, 'emergency: 99')}: regions.GB.emergency" in found


def test_broken_yaml_in_messages(content):
    text = edit(
        content / "messages.yaml",
        lambda t: t.replace("  button_accept: Accept", "  button_accept: Accept: now", 1),
    )
    found = problems(content)
    assert f"content/messages.yaml:{line_of(text, 'Accept: now')}: YAML syntax" in found
    assert "fix: " in found


def test_a_message_the_bot_needs_is_missing(content):
    edit(
        content / "messages.yaml",
        lambda t: "".join(
            line for line in t.splitlines(keepends=True) if "button_accept:" not in line
        ),
    )
    found = problems(content)
    assert "content/messages.yaml" in found and "findally.button_accept" in found


def test_a_missing_content_file(content):
    (content / "demo.yaml").unlink()
    found = problems(content)
    assert "content/demo.yaml: file not found" in found


def test_questionnaire_problems_point_at_their_lines(content):
    text = edit(
        content / "questionnaire.yaml",
        lambda t: (
            t.replace("  back: [back, previous, go back]", "  back: [back, stop]")
            .replace("    ask: What is your job title?", "    ask: What is your {title}?")
            .replace("    kind: email", "    kind: phone")
        ),
    )
    found = problems(content)
    assert f"content/questionnaire.yaml:{line_of(text, 'keywords:')}:" in found
    assert "'stop' is listed under both back and cancel" in found
    assert f"content/questionnaire.yaml:{line_of(text, '{title}')}: questions.1.ask" in found
    assert f"content/questionnaire.yaml:{line_of(text, 'kind: phone')}: questions.3.kind" in found


def test_two_questions_with_one_id(content):
    edit(content / "questionnaire.yaml", lambda t: t.replace("  - id: title", "  - id: name"))
    assert "question ids must be unique; repeated: name" in problems(content)


def test_role_description_problems(content):
    (content / "role.md").write_text("# Role at {company}\n", encoding="utf-8")
    assert "content/role.md:1: unknown placeholder {company}" in problems(content)
    (content / "role.md").write_text("\n\n", encoding="utf-8")
    assert "content/role.md: the role description is empty" in problems(content)
    (content / "role.md").write_text("## Long\n" + "word " * 700, encoding="utf-8")
    assert "content/role.md: a section is" in problems(content)


def test_a_yaml_alias_bomb_is_refused_at_once_with_its_line(tmp_path):
    """Nine levels of nine aliases would be 387 million strings once loaded: `allybot check`
    refuses the first alias instead, quickly and with the line (the timeout in `allybot` is
    the proof that nothing was expanded)."""
    levels = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        levels.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]")
    text = GOOD + "\n".join(levels) + "\n"
    path, result = check(tmp_path, text)
    assert_problem(result, path, line_of(text, "a1: &a1"), "alias", "not allowed")


def test_content_with_an_alias_is_refused_too(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, content)
    tips = content / "awareness" / "weekly-tips.yaml"
    text = tips.read_text(encoding="utf-8")
    first = text.index("\n  - ")
    tips.write_text(text[:first] + "\n  - *nothing" + text[first:], encoding="utf-8")
    with pytest.raises(ProblemsFound) as found:
        load_content(content)
    assert "alias" in str(found.value) and "weekly-tips.yaml" in str(found.value)
