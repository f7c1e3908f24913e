"""The labelled crisis corpus in bench/corpus/crisis/: train, dev and the blind test part."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "corpus" / "crisis"
PARTS = ("train", "dev", "test")


@dataclass(frozen=True)
class Item:
    label: str  # "crisis" or "calm"
    concern: str  # a Concern value, or "none"
    category: str
    lang: str
    messages: tuple[str, ...]
    writer: str

    @property
    def crisis(self) -> bool:
        return self.label == "crisis"


def files(part: str, root: Path = CORPUS) -> list[Path]:
    return sorted((root / part).glob("*.jsonl"))


def load(part: str, root: Path = CORPUS) -> list[Item]:
    out = []
    for path in files(part, root):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                r = json.loads(line)
                out.append(
                    Item(
                        r["label"],
                        r["concern"],
                        r["category"],
                        r["lang"],
                        tuple(r["messages"]),
                        path.stem,
                    )
                )
    return out
