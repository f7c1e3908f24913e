"""Direct-message intents on each part of bench/corpus/intents/: train, dev and blind test.

    .venv/bin/python -m bench.intent_eval [--show]

Per intent: how many of its messages were read as it (recall), and how many messages read as
it really were (precision); per language, accuracy. The test part was written by a blind
writer and is never used to choose anything.
"""

from __future__ import annotations

import argparse
from collections import Counter

from bench.train_intents import load
from handlers.intents import Intent, shipped
from handlers.safety import languages


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--show", action="store_true", help="list the misreadings (train/dev)")
    args = parser.parse_args()
    classifier = shipped()
    for part in ("train", "dev", "test"):
        items = load(part)
        said = [(t, i, classifier.classify(t).value) for t, i in items]
        print(
            f"\n== {part} ({len(items)}) accuracy {sum(i == g for _, i, g in said) / len(said):.3f}"
        )
        print(f"  {'intent':20} {'n':>4} {'recall':>7} {'precision':>10}")
        for intent in Intent:
            n = sum(i == intent for _, i, _ in said)
            hit = sum(i == g == intent for _, i, g in said)
            got = sum(g == intent for _, _, g in said)
            print(
                f"  {intent.value:20} {n:4} {hit / n if n else 0:7.3f}"
                f" {hit / got if got else 0:10.3f}"
            )
        by_lang: Counter[str] = Counter()
        right: Counter[str] = Counter()
        for t, i, g in said:
            lang = languages.identify(t)
            by_lang[lang] += 1
            right[lang] += i == g
        print(
            "  by language (identified): "
            + ", ".join(f"{k} {right[k] / n:.2f} ({n})" for k, n in sorted(by_lang.items()))
        )
        if args.show and part != "test":
            for t, i, g in said:
                if i != g:
                    print(f"    [{i} -> {g}] {t[:120]}")


if __name__ == "__main__":
    main()
