"""Crisis detection against the labelled evaluation set in tests/crisis/.

Prints, for every group of phrasings, how many raise the concern they are labelled with (recall)
or, for ordinary sentences, how many raise any concern (false alarms); then every miss and false
alarm, so a change to handlers/safety.py can be judged at a glance.

    .venv/bin/python -m bench.crisis_eval
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from handlers.safety import Concern, assess

SET_DIR = Path(__file__).resolve().parent.parent / "tests" / "crisis"
ORDINARY = "none"
HELD_OUT = "heldout.yaml"  # written before the patterns were tuned; reported on its own


@dataclass(frozen=True)
class Example:
    text: str
    concern: str  # a Concern value, or "none" for an ordinary sentence
    group: str  # the Columbia category, or the kind of ordinary sentence
    file: str


@dataclass
class Tally:
    total: int = 0
    wrong: list[tuple[Example, frozenset[Concern]]] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return 1 - len(self.wrong) / self.total if self.total else 1.0


def load(folder: Path = SET_DIR) -> list[Example]:
    """Every labelled phrasing in folder/*.yaml: each YAML document (a file may hold several,
    separated by `---`) has a `concern:` and `groups:` of lists."""
    examples = []
    for path in sorted(folder.glob("*.yaml")):
        for data in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            concern = data["concern"]
            if concern != ORDINARY:
                Concern(concern)  # a typo in a label fails loudly
            for group, texts in data["groups"].items():
                examples += [Example(str(t), concern, group, path.name) for t in texts]
    return examples


def evaluate(examples: list[Example]) -> dict[tuple[str, str], Tally]:
    """Tallies by (concern, group): a crisis phrasing is wrong when it does not raise its
    concern; an ordinary sentence is wrong when it raises any concern."""
    tallies: dict[tuple[str, str], Tally] = {}
    for ex in examples:
        raised = assess(ex.text)
        tally = tallies.setdefault((ex.concern, ex.group), Tally())
        tally.total += 1
        ok = not raised if ex.concern == ORDINARY else Concern(ex.concern) in raised
        if not ok:
            tally.wrong.append((ex, raised))
    return tallies


def combined(tallies: dict[tuple[str, str], Tally], concern: str | None = None) -> Tally:
    """One tally for a concern (or every crisis concern when None; ordinary is never mixed in)."""
    out = Tally()
    for (c, _group), t in tallies.items():
        if c == concern or (concern is None and c != ORDINARY):
            out.total += t.total
            out.wrong += t.wrong
    return out


def report(tallies: dict[tuple[str, str], Tally]) -> str:
    rows = [f"{'concern':<8} {'group':<34} {'n':>4}  {'recall':>7}  {'false alarms':>12}"]
    for (concern, group), t in sorted(tallies.items(), key=lambda kv: kv[0][0] == ORDINARY):
        if concern == ORDINARY:
            rows.append(f"{'-':<8} {group:<34} {t.total:>4}  {'':>7}  {1 - t.rate:>12.1%}")
        else:
            rows.append(f"{concern:<8} {group:<34} {t.total:>4}  {t.rate:>7.1%}")
    rows.append("")
    for concern in Concern:
        t = combined(tallies, concern.value)
        rows.append(f"{concern.value:<8} {'(all groups)':<34} {t.total:>4}  {t.rate:>7.1%}")
    crisis, ordinary = combined(tallies), combined(tallies, ORDINARY)
    rows.append(f"{'overall':<8} {'crisis phrasings':<34} {crisis.total:>4}  {crisis.rate:>7.1%}")
    rows.append(
        f"{'overall':<8} {'ordinary sentences':<34} {ordinary.total:>4}  {'':>7}"
        f"  {1 - ordinary.rate:>12.1%}"
    )
    misses = [(ex, raised) for t in tallies.values() for ex, raised in t.wrong]
    rows += ["", f"misses and false alarms: {len(misses)}"]
    for ex, raised in misses:
        got = ", ".join(sorted(raised)) or "nothing"
        rows.append(f"  [{ex.concern}/{ex.group}] {ex.text!r} -> {got}")
    return "\n".join(rows)


def summary(tallies: dict[tuple[str, str], Tally]) -> str:
    """One line: recall over the crisis phrasings, false alarms over the ordinary sentences."""
    crisis, ordinary = combined(tallies), combined(tallies, ORDINARY)
    return (
        f"recall {crisis.total - len(crisis.wrong)}/{crisis.total} ({crisis.rate:.1%}), "
        f"false alarms {len(ordinary.wrong)}/{ordinary.total} ({1 - ordinary.rate:.1%})"
    )


def main() -> int:
    examples = load()
    started = time.perf_counter()
    tallies = evaluate(examples)
    took = time.perf_counter() - started
    print(report(tallies))
    print(f"\n{len(examples)} phrasings assessed in {took * 1000:.0f} ms")
    print("")
    for name in sorted({ex.file for ex in examples}):
        print(f"{name:<16} {summary(evaluate([ex for ex in examples if ex.file == name]))}")
    held = [ex for ex in examples if ex.file == HELD_OUT]
    if held:
        rest = evaluate([ex for ex in examples if ex.file != HELD_OUT])
        print(f"{'held-out':<16} {summary(evaluate(held))}")
        print(f"{'tuning set':<16} {summary(rest)}")
    print(f"{'all files':<16} {summary(tallies)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
