"""The measure of crisis detection: the blind test part of bench/corpus/crisis, written by
writers who never saw the patterns, the model or the training lines, and never used to choose
anything. These floors are what the shipped model measured there (docs/crisis-detection.md),
so a change that makes detection worse on text nobody tuned it to fails here. They are not the
targets of issue 23 (recall 0.98 in every category, 5% false alarms), which it does not reach.
The corpus itself: its size, its parts, and that the test part copies nothing it is tested
against. The direct-message intents have their own blind part."""

from __future__ import annotations

from collections import Counter

import pytest

from bench.corpus_assemble import _Index, _shingles
from bench.crisis_corpus import files, load
from bench.crisis_eval import Tally, evaluate
from handlers.safety import Detector
from handlers.safety.memory import Memory

# Crisis help of either kind (the quiet line or emergency-first), per category, on the blind
# part (four blind writers, 2,681 items): measured 2026-12-08, less 0.02, rounded down to 0.05.
RECALL_FLOOR = {
    "abuse_at_home": 0.95,
    "active_ideation": 0.95,
    "buried_in_work": 0.90,
    "child_at_risk": 0.90,
    "conversation": 0.95,
    "eating_disorder": 0.90,
    "euphemism_humour": 0.75,
    "farewell": 0.85,
    "harm_done": 0.90,
    "harm_to_others": 0.95,
    "passive_ideation": 0.95,
    "plan_means": 0.90,
    "psychosis": 0.95,
    "self_harm": 0.90,
    "sexual_assault": 0.95,
    "someone_else_in_danger": 0.95,
    "worried_about_someone": 0.90,
}
RECALL_ALL_FLOOR = 0.93
EMERGENCY_ALARMS_MOST = 0.06  # emergency-first replies to calm lines
ANY_ALARMS_MOST = 0.35  # the quiet line included


@pytest.fixture(scope="module")
def blind() -> dict[str, dict[str, Tally]]:
    return evaluate(Detector(memory=Memory()), load("test"))


def test_blind_recall_in_every_category(blind: dict[str, dict[str, Tally]]) -> None:
    crisis = blind["crisis"]
    assert set(RECALL_FLOOR) <= set(crisis)
    low = {
        c: round(t.rate(t.caught), 3)
        for c, t in crisis.items()
        if c != "ALL" and t.rate(t.caught) < RECALL_FLOOR.get(c, RECALL_ALL_FLOOR)
    }
    assert low == {}
    assert crisis["ALL"].rate(crisis["ALL"].caught) >= RECALL_ALL_FLOOR


def test_blind_false_alarms(blind: dict[str, dict[str, Tally]]) -> None:
    calm = blind["calm"]["ALL"]
    assert calm.rate(calm.loud) <= EMERGENCY_ALARMS_MOST
    assert calm.rate(calm.caught) <= ANY_ALARMS_MOST


def test_every_language_is_detected_on_the_blind_part(blind: dict[str, dict[str, Tally]]) -> None:
    for lang in ("es", "fr", "de", "pt", "it", "pl", "nl"):
        tally = blind["crisis_lang"][lang]
        assert tally.total >= 20
        assert tally.rate(tally.caught) >= 0.8, lang


def test_the_test_part_is_blind_and_copies_nothing_it_is_tested_against() -> None:
    assert files("test") and all(p.stem.startswith("blind_") for p in files("test"))
    assert not any(p.stem.startswith("blind_") for part in ("train", "dev") for p in files(part))
    index = _Index()
    for item in load("train") + load("dev"):
        index.add(_shingles(" ".join(item.messages)))
    copies = [i for i in load("test") if index.near(_shingles(" ".join(i.messages)))]
    assert copies == []


def test_the_corpus_covers_every_category_and_language() -> None:
    items = [i for part in ("train", "dev", "test") for i in load(part)]
    crisis = [i for i in items if i.crisis]
    calm = [i for i in items if not i.crisis]
    assert len(crisis) >= 3000 and len(calm) >= 3000
    per_category = Counter(i.category for i in crisis)
    assert all(per_category[c] >= 100 for c in RECALL_FLOOR), per_category
    kinds = Counter(i.category for i in calm if not i.category.startswith("legacy_"))
    assert len(kinds) >= 14 and all(n >= 100 for n in kinds.values()), kinds
    per_language = Counter(i.lang for i in items)
    assert all(per_language[lang] >= 50 for lang in ("es", "fr", "de", "pt", "it", "pl", "nl"))
    assert sum(len(i.messages) > 1 for i in crisis) >= 100  # conversations, not only lines


def test_a_model_not_trained_on_the_corpus_beside_it_is_refused(tmp_path) -> None:
    import shutil

    from bot.cli import CORPUS_DIR, _model_problems

    copy = tmp_path / "corpus"
    shutil.copytree(CORPUS_DIR, copy)
    assert _model_problems(copy) == []
    train = sorted((copy / "crisis" / "train").glob("*.jsonl"))[0]
    with train.open("a", encoding="utf-8") as f:
        f.write(
            '{"label": "calm", "concern": "none", "category": "work_chat", "lang": "en",'
            ' "messages": ["one more line"]}\n'
        )
    problems = [str(p) for p in _model_problems(copy)]
    assert len(problems) == 1
    assert "the crisis model was not trained on the corpus in bench/corpus/crisis" in problems[0]
    assert "python -m bench.train_crisis" in problems[0]
