"""The labelled evaluation set in tests/crisis/, held-out file included: every crisis phrasing
raises its concern (recall 100% in every category) and at most 10% of ordinary workplace sentences
raise anything. `python -m bench.crisis_eval` prints the same numbers with every miss and false
alarm, and the held-out file's numbers on their own."""

from __future__ import annotations

import dataclasses

import pytest

import handlers.safety as safety
from bench.crisis_eval import HELD_OUT, ORDINARY, Example, Tally, combined, evaluate, load
from handlers.safety import Concern

SELF_CATEGORIES = {
    "passive_wish",
    "no_reason",
    "burden",
    "active_thoughts",
    "method",
    "intent",
    "plan",
    "preparatory",
    "goodbye",
    "already_happened",
}


@pytest.fixture(scope="module")
def examples() -> list[Example]:
    return load()


@pytest.fixture(scope="module")
def tallies(examples: list[Example]) -> dict[tuple[str, str], Tally]:
    return evaluate(examples)


def test_the_set_is_big_enough_and_covers_every_category(examples: list[Example]) -> None:
    crisis = [e for e in examples if e.concern != ORDINARY]
    ordinary = [e for e in examples if e.concern == ORDINARY]
    assert len(crisis) >= 400 and len(ordinary) >= 400
    assert {e.group for e in crisis if e.concern == Concern.SELF} == SELF_CATEGORIES
    for concern in Concern:
        assert sum(e.concern == concern for e in crisis) >= 40, concern
    for category in SELF_CATEGORIES:
        assert sum(e.group == category for e in crisis) >= 25, category
    texts = [e.text for e in examples]
    assert len(set(texts)) == len(texts), "a phrasing is listed twice"


def test_the_held_out_file_is_there_and_big_enough(examples: list[Example]) -> None:
    held = [e for e in examples if e.file == HELD_OUT]
    assert sum(e.concern != ORDINARY for e in held) >= 150
    assert sum(e.concern == ORDINARY for e in held) >= 60
    assert {e.concern for e in held} == {ORDINARY, *Concern}


def test_recall_is_complete_in_every_category(tallies: dict[tuple[str, str], Tally]) -> None:
    missed = {
        f"{concern}/{group}": [ex.text for ex, _ in t.wrong]
        for (concern, group), t in tallies.items()
        if concern != ORDINARY and t.wrong
    }
    assert missed == {}


def test_false_alarms_stay_at_or_below_ten_percent(tallies: dict[tuple[str, str], Tally]) -> None:
    ordinary = combined(tallies, ORDINARY)
    false_alarms = [ex.text for ex, _ in ordinary.wrong]
    assert len(false_alarms) / ordinary.total <= 0.10, false_alarms


def test_the_pre_filter_never_changes_a_verdict(
    examples: list[Example], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cheap word test before each pattern only saves time: reading every pattern in full
    (as happens without the private regex parser) gives the same concerns."""
    assert safety._PREFILTER and all(rule.needs for rule in safety._RULES)
    filtered = [safety.assess(e.text) for e in examples]
    unfiltered_rules = tuple(dataclasses.replace(r, needs=None) for r in safety._RULES)
    monkeypatch.setattr(safety, "_RULES", unfiltered_rules)
    assert [safety.assess(e.text) for e in examples] == filtered
