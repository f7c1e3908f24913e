"""Assemble the crisis corpus from writers' raw files: validate, deduplicate, split.

    python -m bench.corpus_assemble RAW_DIR            # the crisis corpus
    python -m bench.corpus_assemble RAW_DIR --intents  # the direct-message intents

RAW_DIR holds one JSON Lines file per writer (see bench/corpus/README.md for the fields).
Files named blind_*.jsonl were written by blind writers, who never saw the patterns, the model
or the training lines: they become the test part. Every other writer's lines are shuffled with
a fixed seed and split into train (85%) and development (15%). Near-copies (the same words, or
four in five word triples shared) are dropped: within the corpus the later copy, and any test
line that nearly copies a train or development line, so the test part measures generalisation.
"""

from __future__ import annotations

import json
import random
import sys
from collections import defaultdict
from pathlib import Path

from handlers.safety.concerns import Concern
from handlers.safety.normalise import plain

CORPUS = Path(__file__).resolve().parent / "corpus" / "crisis"
INTENTS = Path(__file__).resolve().parent / "corpus" / "intents"
SEED = 23
DEV_SHARE = 0.15
NEAR = 0.8
LABELS = {"crisis", "calm"}
# Names some writers gave their categories, as the brief names them.
SYNONYMS = {
    "idiom": "idioms",
    "negation_recovery": "negated_recovered",
    "help_question": "helping_question",
    "training": "training_talk",
    "media_news": "media",
    "joke": "jokes",
    "wish_to_die": "passive_ideation",
    "abuse_home": "abuse_at_home",
    "overdose_taken": "harm_done",
    "child_risk": "child_at_risk",
    "someone_else": "someone_else_in_danger",
    "colleague_worry": "worried_about_someone",
    "euphemism": "euphemism_humour",
}


def _shingles(text: str) -> frozenset[str]:
    words = plain(text).split()
    if len(words) < 4:
        return frozenset({" ".join(words)})
    return frozenset(" ".join(words[i : i + 3]) for i in range(len(words) - 2))


class _Index:
    """Which kept lines a new line nearly copies (Jaccard of word triples)."""

    def __init__(self) -> None:
        self.sets: list[frozenset[str]] = []
        self.by_shingle: dict[str, list[int]] = defaultdict(list)

    def near(self, shingles: frozenset[str]) -> bool:
        overlap: dict[int, int] = defaultdict(int)
        for s in shingles:
            for i in self.by_shingle.get(s, ()):
                overlap[i] += 1
        return any(n / len(shingles | self.sets[i]) >= NEAR for i, n in overlap.items() if n)

    def add(self, shingles: frozenset[str]) -> None:
        i = len(self.sets)
        self.sets.append(shingles)
        for s in shingles:
            self.by_shingle[s].append(i)


def _valid(record: dict) -> bool:
    messages = record.get("messages")
    return (
        record.get("label") in LABELS
        and isinstance(messages, list)
        and bool(messages)
        and all(isinstance(m, str) and m.strip() for m in messages)
        and (
            (record["label"] == "calm" and record.get("concern") == "none")
            or (record["label"] == "crisis" and record.get("concern") in set(Concern))
        )
        and isinstance(record.get("category"), str)
    )


def _read(path: Path) -> list[dict]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and _valid(record):
            record.setdefault("lang", "en")
            record["category"] = SYNONYMS.get(record["category"], record["category"])
            out.append({k: record[k] for k in ("label", "concern", "category", "lang", "messages")})
    return out


def main(raw: Path) -> None:
    index = _Index()
    parts: dict[str, dict[str, list[dict]]] = {"train": {}, "dev": {}, "test": {}}
    dropped = 0
    blind = sorted(raw.glob("blind_*.jsonl"))
    writers = sorted(p for p in raw.glob("*.jsonl") if p not in blind and p.stem.startswith("w"))
    rng = random.Random(SEED)
    for path in [*writers, *blind]:  # training writers first: a test line never wins a tie
        kept = []
        for record in _read(path):
            shingles = _shingles(" ".join(record["messages"]))
            if index.near(shingles):
                dropped += 1
                continue
            index.add(shingles)
            kept.append(record)
        if path in blind:
            parts["test"][path.stem] = kept
        else:
            rng.shuffle(kept)
            cut = round(len(kept) * DEV_SHARE)
            parts["dev"][path.stem], parts["train"][path.stem] = kept[:cut], kept[cut:]
    for part, files in parts.items():
        folder = CORPUS / part
        folder.mkdir(parents=True, exist_ok=True)
        for stem, records in files.items():
            text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
            (folder / f"{stem}.jsonl").write_text(text, encoding="utf-8")
        print(part, sum(len(r) for r in files.values()))
    print("near-copies dropped", dropped)


def intents(raw: Path) -> None:
    """intents_train.jsonl (train and dev) and intents_blind.jsonl (test), deduplicated."""
    from handlers.intents import Intent

    index = _Index()
    rng = random.Random(SEED)
    parts: dict[str, list[dict]] = {"train": [], "dev": [], "test": []}
    for name in ("intents_train.jsonl", "intents_blind.jsonl"):
        kept = []
        for line in (raw / name).read_text(encoding="utf-8").splitlines():
            try:
                r = json.loads(line)
                record = {
                    "intent": Intent(r["intent"]).value,
                    "lang": str(r.get("lang", "en")),
                    "text": str(r["text"]),
                }
            except (ValueError, KeyError, TypeError):
                continue
            if not record["text"].strip():
                continue
            shingles = _shingles(record["text"])
            if index.near(shingles):
                continue
            index.add(shingles)
            kept.append(record)
        if name.endswith("blind.jsonl"):
            parts["test"] = kept
        else:
            rng.shuffle(kept)
            cut = round(len(kept) * DEV_SHARE)
            parts["dev"], parts["train"] = kept[:cut], kept[cut:]
    INTENTS.mkdir(parents=True, exist_ok=True)
    for part, records in parts.items():
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        (INTENTS / f"{part}.jsonl").write_text(text, encoding="utf-8")
        print(part, len(records))


if __name__ == "__main__":
    if "--intents" in sys.argv:
        intents(Path(sys.argv[1]))
    else:
        main(Path(sys.argv[1]))
