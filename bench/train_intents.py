"""Train the shipped direct-message intent model: reproducible from a fixed seed.

    .venv/bin/python -m bench.train_intents      # writes handlers/intents_model.json.gz

A multinomial logistic regression over the crisis model's features (handlers/safety/model.py),
fitted on the train part of bench/corpus/intents/; the threshold below which a message counts
as `other` is chosen on the development part. The blind test part is never read here.
"""

from __future__ import annotations

import array
import base64
import json
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression

from bench.corpus_assemble import INTENTS
from handlers.intents import Classifier, Intent
from handlers.safety import languages
from handlers.safety.detect import reading_for_model
from handlers.safety.model import Linear, corpus_digest, encode, feature_counts, tokens

SEED = 23
C = 8.0
MIN_DF = 2
WINDOW = 48
OUT = Path(__file__).resolve().parent.parent / "handlers" / "intents_model.json.gz"


def load(part: str) -> list[tuple[str, str]]:
    lines = (INTENTS / f"{part}.jsonl").read_text(encoding="utf-8").splitlines()
    return [(r["text"], r["intent"]) for r in map(json.loads, lines) if r]


def _features(text: str) -> Counter[str]:
    return feature_counts(tokens(reading_for_model(text, languages.identify(text)))[:WINDOW])


def main() -> None:
    train, dev = load("train"), load("dev")
    xs = [_features(t) for t, _ in train]
    ys = [i for _, i in train]
    df: Counter[str] = Counter()
    for x in xs:
        df.update(x.keys())
    vectoriser = DictVectorizer()
    vectoriser.fit([dict.fromkeys(sorted(f for f, n in df.items() if n >= MIN_DF), 1)])
    totals = np.array([sum(x.values()) for x in xs], dtype=float)
    matrix = vectoriser.transform(xs).multiply(1 / np.sqrt(np.maximum(totals, 1))[:, None])
    classes = [i.value for i in Intent]
    model = LogisticRegression(C=C, max_iter=3000, random_state=SEED)
    model.fit(matrix.tocsr(), ys)
    order = [list(model.classes_).index(c) for c in classes]
    coef = model.coef_[order].T
    scale = float(np.abs(coef).max()) / 32767
    quantised = np.round(coef / scale).astype(np.int16)
    useful = np.abs(quantised).max(axis=1) > 0
    names = vectoriser.get_feature_names_out()
    data = {
        "classes": classes,
        "features": "\n".join(names[useful]),
        "weights": base64.b64encode(array.array("h", quantised[useful].ravel()).tobytes()).decode(),
        "scale": scale,
        "bias": [float(b) for b in model.intercept_[order]],
        "window": WINDOW,
        "threshold": 0.0,
        "meta": {},
    }
    linear = Linear(data)
    best = (0.0, 0.0)
    for threshold in np.arange(0.2, 0.8, 0.05):
        classifier = Classifier(linear, float(threshold))
        right = sum(classifier.classify(t).value == i for t, i in dev) / len(dev)
        best = max(best, (right, round(float(threshold), 2)))
    data["threshold"] = best[1]
    data["meta"] = {
        "seed": SEED,
        "corpus": corpus_digest([(INTENTS / f"{p}.jsonl").read_bytes() for p in ("train", "dev")]),
        "train_items": len(train),
        "dev_items": len(dev),
        "features": int(useful.sum()),
    }
    OUT.write_bytes(encode(data))
    print(f"{data['meta']['features']} features, threshold {best[1]} (dev accuracy {best[0]:.3f})")


if __name__ == "__main__":
    main()
