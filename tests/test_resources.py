"""content/resources.yaml: every region has the five kinds of line, an emergency number and only
https links; a region missing one is reported by `allybot check` at the region's line, with a
fix."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from handlers.content import CONTENT_DIR, REQUIRED_LINES, load_content

ROOT = Path(__file__).resolve().parent.parent
LINES = tuple(REQUIRED_LINES)
NEW_REGIONS = {
    "ES": "Spain",
    "FR": "France",
    "DE": "Germany",
    "PT": "Portugal",
    "IT": "Italy",
    "PL": "Poland",
    "NL": "Netherlands",
}

# `allybot check` reads the content/ beside handlers/content.py and takes no other folder, so the
# copy is checked by the very entry point `.venv/bin/allybot` runs (bot.cli:main), in a process
# of its own, with only load_content's folder pointed at the copy.
CHECK_COPY = """\
import functools, sys
from pathlib import Path
import bot.cli
from handlers.content import load_content
bot.cli.load_content = functools.partial(load_content, Path(sys.argv[1]))
sys.exit(bot.cli.main(["check"]))
"""


@pytest.fixture(scope="module")
def regions():
    return load_content().resources.regions


@pytest.fixture
def content(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, root)
    return root


def allybot_check(tmp_path: Path, root: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_"))}
    env["ALLYBOT_CONFIG"] = str(ROOT / "app.yaml")
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'check.db'}"
    return subprocess.run(
        [sys.executable, "-c", CHECK_COPY, str(root)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def without_list(text: str, region: str, key: str) -> str:
    """The YAML with `key` (and its items) taken out of `region` only."""
    lines = text.splitlines(keepends=True)
    start = lines.index(f"  {region}:\n")
    end = next(i for i in range(start + 1, len(lines)) if not lines[i].startswith("    "))
    at = next(i for i in range(start, end) if lines[i] == f"    {key}:\n")
    stop = at + 1
    while stop < end and lines[stop].startswith("      "):
        stop += 1
    return "".join(lines[:at] + lines[stop:])


def test_every_region_has_all_five_lists_and_an_emergency_number(regions):
    assert "ANY" in regions
    for code, region in regions.items():
        assert region.emergency.isdigit(), code
        for key in LINES:
            resources = getattr(region, key)
            assert resources, f"{code} has no {key}"
            assert all(r.name.strip() and r.contact.strip() for r in resources), (code, key)


def test_every_url_is_https(regions):
    urls = [
        (code, r.url)
        for code, region in regions.items()
        for key in (*LINES, "support")
        for r in getattr(region, key)
        if r.url
    ]
    assert len(urls) > 50
    assert [u for u in urls if not u[1].startswith("https://")] == []


def test_the_shipped_file_says_the_same_as_the_model():
    """The raw file, not only what the model made of it: each region spells out all five lists
    (none left to a default)."""
    raw = yaml.safe_load((CONTENT_DIR / "resources.yaml").read_text(encoding="utf-8"))
    for code, region in raw["regions"].items():
        assert set(LINES) <= set(region), code
        assert {"name", "emergency", "support"} <= set(region) or code == "ANY", code


def test_the_seven_new_regions_exist_with_112(regions):
    for code, name in NEW_REGIONS.items():
        assert code in regions, code
        assert regions[code].name == name
        assert regions[code].emergency == "112"
        assert regions[code].support, code


@pytest.mark.parametrize(
    "code, key, number",
    [
        ("ES", "crisis_lines", "024"),
        ("ES", "abuse_lines", "016"),
        ("FR", "crisis_lines", "3114"),
        ("FR", "abuse_lines", "3919"),
        ("FR", "child_lines", "119"),
        ("DE", "crisis_lines", "0800 111 0 111"),
        ("DE", "abuse_lines", "116 016"),
        ("PT", "abuse_lines", "800 202 148"),
        ("IT", "abuse_lines", "1522"),
        ("PL", "abuse_lines", "800 120 002"),
        ("NL", "crisis_lines", "0800-0113"),
        ("NL", "abuse_lines", "0800-2000"),
        ("NL", "assault_lines", "0800-0188"),
        ("GB", "child_lines", "0808 800 5000"),
        ("GB", "assault_lines", "0808 500 2222"),
        ("GB", "eating_lines", "0808 801 0677"),
        ("US", "child_lines", "1-800-422-4453"),
        ("US", "assault_lines", "800-656-4673"),
        ("AU", "eating_lines", "1800 33 4673"),
    ],
)
def test_the_national_numbers(regions, code, key, number):
    assert number in " ".join(r.contact for r in getattr(regions[code], key))


def test_a_region_without_child_lines_is_reported_by_allybot_check(tmp_path, content):
    path = content / "resources.yaml"
    text = without_list(path.read_text(encoding="utf-8"), "FR", "child_lines")
    path.write_text(text, encoding="utf-8")
    assert "allo119" not in text  # the list went, and only that one
    result = allybot_check(tmp_path, content)
    err = result.stderr
    assert result.returncode == 1, result.stdout + err
    assert "Traceback" not in err and "ok:" not in result.stdout
    line = text.splitlines().index("  FR:") + 1
    where = f"content/resources.yaml:{line}: region `FR` has no `child_lines`"
    assert where in err, err
    fix = err.split(where, 1)[1].splitlines()[1].strip()
    assert fix.startswith("fix: add `child_lines:` with at least one child protection helpline")
    assert sum("resources.yaml" in p for p in err.splitlines()) == 1  # nothing else there


@pytest.mark.parametrize("key", LINES)
def test_each_missing_list_is_reported_at_the_region_line(content, key):
    from handlers.yamlfile import ProblemsFound

    path = content / "resources.yaml"
    text = without_list(path.read_text(encoding="utf-8"), "DE", key)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProblemsFound) as caught:
        load_content(content)
    found = str(caught.value)
    line = text.splitlines().index("  DE:") + 1
    assert f"content/resources.yaml:{line}: region `DE` has no `{key}`" in found
    assert f"fix: add `{key}:`" in found
    assert found.count("resources.yaml") == 1, found


def test_an_empty_list_is_as_missing_as_none(content):
    from handlers.yamlfile import ProblemsFound

    path = content / "resources.yaml"
    text = path.read_text(encoding="utf-8")
    text = without_list(text, "ANY", "eating_lines").replace(
        "  ANY:\n", "  ANY:\n    eating_lines: []\n"
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProblemsFound) as caught:
        load_content(content)
    assert "region `ANY` has no `eating_lines`" in str(caught.value)
