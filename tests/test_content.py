"""Content: every key the code uses exists, and templates keep user values literal."""

from __future__ import annotations

import re
from pathlib import Path

from bot.messages import Span
from handlers.content import load_content

ROOT = Path(__file__).resolve().parent.parent
KEY_USE = re.compile(r"""(?:section|note|button|say|plain|rich|t)\(\s*"([a-z_]+\.[a-z_]+)\"""")


def test_every_message_key_used_in_code_exists():
    content = load_content()
    used = set()
    for path in [*ROOT.glob("handlers/*.py"), *ROOT.glob("bot/**/*.py")]:
        used.update(KEY_USE.findall(path.read_text()))
    assert len(used) > 40
    assert sorted(used - set(content.texts)) == []


def test_placeholder_values_are_never_parsed_as_markup():
    content = load_content()
    spans = content.rich("findally.status_matched", ally="*x* [click](https://evil.example) {y}")
    assert Span("*x* [click](https://evil.example) {y}", bold=True) in spans
    assert not any(s.url for s in spans)


def test_markup_in_templates_becomes_structure():
    content = load_content()
    spans = content.rich(
        "safety.line_link",
        name="Samaritans",
        url="https://www.samaritans.org",
        contact="Call 116 123",
    )
    assert Span("Samaritans", url="https://www.samaritans.org") in spans


def test_every_region_has_an_emergency_number_and_crisis_lines():
    resources = load_content().resources
    for code in ("GB", "IE", "US", "CA", "AU", "ANY"):
        region = resources.regions[code]
        assert region.emergency.isdigit() and region.crisis_lines
    assert resources.region("ZZ") is resources.regions["ANY"]
    assert resources.region(None) is resources.regions["ANY"]
