"""Crisis detection on each part of the corpus, separately: train, dev and the blind test part.

    .venv/bin/python -m bench.crisis_eval [--part test] [--show]

For crisis items, per category and per language: recall (any crisis help shown: the quiet line
or emergency-first), recall at emergency-first, and the right concern among those raised. For
calm items, per kind: emergency-first alarms and any alarm (the quiet line included). Items of
several messages are fed in order to one person, a minute apart, so the conversation memory
counts. The test part was written by blind writers and is never used to choose anything: its
numbers are the measure; the train numbers are a training score. `--show` lists the misses and
alarms of the parts asked for (do not tune on the test part's).
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bench.crisis_corpus import PARTS, Item, load
from handlers.safety.concerns import Level
from handlers.safety.detect import Assessment, Detector
from handlers.safety.memory import Memory

_START = datetime(2026, 12, 1, 9, tzinfo=UTC)


@dataclass
class Tally:
    total: int = 0
    caught: int = 0  # crisis: any help; calm: any alarm
    loud: int = 0  # emergency-first
    right: int = 0  # crisis: the labelled concern among those raised
    wrong: list[tuple[Item, Assessment]] = field(default_factory=list)

    def add(self, item: Item, found: Assessment) -> None:
        self.total += 1
        self.caught += bool(found)
        self.loud += found.level == Level.HIGH
        self.right += item.concern in found.concerns
        if bool(found) != item.crisis:
            self.wrong.append((item, found))

    def rate(self, n: int) -> float:
        return n / self.total if self.total else 0.0


def run(detector: Detector, item: Item) -> Assessment:
    """The strongest assessment over the item's messages, as one person sends them."""
    key = f"eval-{id(item)}"
    best = Assessment()
    for i, message in enumerate(item.messages):
        found = detector.assess(message, key, _START + timedelta(minutes=i))
        if found.level > best.level:
            best = found
    return best


def evaluate(detector: Detector, items: list[Item]) -> dict[str, dict[str, Tally]]:
    out: dict[str, dict[str, Tally]] = {
        "crisis": defaultdict(Tally),
        "calm": defaultdict(Tally),
        "crisis_lang": defaultdict(Tally),
        "calm_lang": defaultdict(Tally),
    }
    for item in items:
        found = run(detector, item)
        side = "crisis" if item.crisis else "calm"
        out[side][item.category].add(item, found)
        out[side]["ALL"].add(item, found)
        out[f"{side}_lang"][item.lang].add(item, found)
    return out


def report(part: str, tallies: dict[str, dict[str, Tally]], show: bool) -> None:
    print(f"\n== {part} ==")
    for side in ("crisis", "crisis_lang"):
        print(
            f"{'crisis ' + ('category' if side == 'crisis' else 'language'):28} {'n':>5}"
            f" {'recall':>7} {'at high':>8} {'concern':>8}"
        )
        for name, t in sorted(tallies[side].items(), key=lambda kv: (kv[0] == "ALL", kv[0])):
            print(
                f"  {name:26} {t.total:5} {t.rate(t.caught):7.3f} {t.rate(t.loud):8.3f}"
                f" {t.rate(t.right):8.3f}"
            )
    for side in ("calm", "calm_lang"):
        print(
            f"{'calm ' + ('kind' if side == 'calm' else 'language'):28} {'n':>5}"
            f" {'alarm high':>11} {'any alarm':>10}"
        )
        for name, t in sorted(tallies[side].items(), key=lambda kv: (kv[0] == "ALL", kv[0])):
            print(f"  {name:26} {t.total:5} {t.rate(t.loud):11.3f} {t.rate(t.caught):10.3f}")
    if show:
        for side in ("crisis", "calm"):
            for name, t in sorted(tallies[side].items()):
                if name == "ALL":
                    continue
                for item, found in t.wrong:
                    print(
                        f"  [{side} {name} {item.concern} -> {found.level.name}"
                        f" {sorted(found.concerns)} {found.danger:.2f}]"
                        f" {' || '.join(item.messages)[:300]}"
                    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--part", choices=PARTS, action="append")
    parser.add_argument("--show", action="store_true", help="list misses and alarms")
    args = parser.parse_args()
    for part in args.part or PARTS:
        items = load(part)
        started = time.perf_counter()
        tallies = evaluate(Detector(memory=Memory()), items)
        report(part, tallies, args.show)
        print(f"  ({len(items)} items in {time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
