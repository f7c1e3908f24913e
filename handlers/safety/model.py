"""The shipped classifier: a linear model over words, word pairs and letter groups.

Trained by `python -m bench.train_crisis` on the labelled corpus in bench/corpus/crisis/ and
shipped as crisis_model.json.gz beside this file. At serve time it is plain Python: no network,
no download, no numpy. A text is cut into windows of `window` words; each window's features are
counted, scaled by one over the square root of their number, and scored by two linear heads
over the same features: a logistic one for the chance of danger (crisis against calm), and a
multinomial one, trained on crisis lines only, for the likeliest concern. A long text scores as
its most worrying window, so a risk buried in a long message is not averaged away.

Features: each word, each pair of neighbouring words within a clause, and the letter groups of
three to five letters of each word with its edges marked ("<die>" gives "<di", "die", "ie>",
"<die", "die>", "<die>"), which carry over typos, inflections and other languages.
"""

from __future__ import annotations

import array
import base64
import gzip
import hashlib
import json
import math
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from handlers.safety.concerns import Concern

MODEL_FILE = "crisis_model.json.gz"
_CLAUSE_MARKS = frozenset(".!?,;:~")
_GRAMS = (3, 4, 5)


def tokens(reading: str) -> list[str]:
    """The words of a canonical reading, with None-like "|" marks where a clause ends."""
    out: list[str] = []
    for word in reading.split(" "):
        if not word:
            continue
        if word[0] in _CLAUSE_MARKS:
            if out and out[-1] != "|":
                out.append("|")
        else:
            out.append(word)
    return out


@lru_cache(maxsize=65536)
def letter_groups(word: str) -> tuple[str, ...]:
    """The letter-group features of one word (cached: words repeat)."""
    marked = f"<{word}>"
    return tuple("c" + marked[i : i + n] for n in _GRAMS for i in range(len(marked) - n + 1))


def feature_counts(words: list[str]) -> Counter[str]:
    """The features of a list of words (from `tokens`), counted."""
    counts: Counter[str] = Counter()
    previous = "|"
    for word in words:
        if word == "|":
            previous = "|"
            continue
        counts["w" + word] += 1
        counts.update(letter_groups(word))
        if previous != "|":
            counts[f"b{previous} {word}"] += 1
        previous = word
    return counts


@dataclass(frozen=True)
class Score:
    danger: float  # the chance the text is about danger, 0..1
    concern: Concern  # the likeliest kind of danger (meaningful when danger is high)


class Linear:
    """Linear heads over the features of a text, read from a model file's data; safe to call
    from many threads (the word cache is a plain dict: a race only computes a word twice)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.meta: dict[str, Any] = data["meta"]
        self.classes: list[str] = data["classes"]
        self.window: int = int(data["window"])
        scale = float(data["scale"])
        width = len(self.classes)
        weights = array.array("h")
        weights.frombytes(base64.b64decode(data["weights"]))
        names = data["features"].split("\n")
        if len(weights) != len(names) * width:
            raise ValueError("the model's weights do not match its features")
        # One tuple of floats per feature: a dict lookup and a short loop per feature at serve time.
        self._weights: dict[str, tuple[float, ...]] = {
            name: tuple(weights[i * width + k] * scale for k in range(width))
            for i, name in enumerate(names)
        }
        self._bias: tuple[float, ...] = tuple(data["bias"])
        self._cache: dict[str, tuple[tuple[float, ...], int]] = {}
        self._zero = (0.0,) * width

    @property
    def size(self) -> int:
        return len(self._weights)

    def _word(self, word: str) -> tuple[tuple[float, ...], int]:
        """The summed weights of a word's own features (the word and its letter groups), and
        how many features it has. Cached, bounded: words repeat."""
        found = self._cache.get(word)
        if found is None:
            sums = [0.0] * len(self.classes)
            groups = letter_groups(word)
            for name in ("w" + word, *groups):
                w = self._weights.get(name)
                if w is not None:
                    for k, value in enumerate(w):
                        sums[k] += value
            if len(self._cache) > 100_000:
                self._cache.clear()
            found = self._cache[word] = (tuple(sums), 1 + len(groups))
        return found

    def _positions(
        self, words: list[str]
    ) -> list[tuple[tuple[float, ...], int, tuple[float, ...] | None]]:
        """For each word: its own weights and feature count, and the weights of the pair it makes
        with the word before it (None at the start of a clause)."""
        out: list[tuple[tuple[float, ...], int, tuple[float, ...] | None]] = []
        previous = "|"
        for word in words:
            if word == "|":
                previous = "|"
                continue
            own, n = self._word(word)
            pair = self._weights.get(f"b{previous} {word}", self._zero) if previous != "|" else None
            out.append((own, n, pair))
            previous = word
        return out

    def _logits(self, sums: list[float], total: int) -> list[float]:
        norm = 1 / math.sqrt(total) if total else 0.0
        return [b + s * norm for b, s in zip(self._bias, sums, strict=True)]

    def windows(self, reading: str) -> list[list[float]]:
        """The logits of each window of `window` words (half overlapping) of a canonical
        reading; one for a short reading.

        Features are linear, so a window's sums are differences of running sums over the
        positions: a megabyte costs one pass, not one pass per window."""
        positions = self._positions(tokens(reading))
        width = len(self.classes)
        size = self.window
        # running[i]: sums and feature counts of positions[:i]; a pair counts with its second word.
        running: list[tuple[list[float], int]] = [([0.0] * width, 0)]
        sums, total = [0.0] * width, 0
        for own, n, pair in positions:
            sums = [s + o for s, o in zip(sums, own, strict=True)]
            total += n
            if pair is not None:
                sums = [s + p for s, p in zip(sums, pair, strict=True)]
                total += 1
            running.append((sums, total))
        if len(positions) <= size:
            return [self._logits(sums, total)]
        out = []
        step = size // 2
        for start in range(0, len(positions) - step, step):
            end = min(start + size, len(positions))
            (a, na), (b, nb) = running[start], running[end]
            window = [y - x for x, y in zip(a, b, strict=True)]
            count = nb - na
            pair = positions[start][2]
            if pair is not None:  # the first word's pair reaches outside the window
                window = [w - p for w, p in zip(window, pair, strict=True)]
                count -= 1
            out.append(self._logits(window, count))
        return out


class Model(Linear):
    """The crisis model: column 0 is the danger head, the others the concerns."""

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__(data)
        self.thresholds: dict[str, float] = data["thresholds"]
        self._concerns = [Concern(c) for c in self.classes[1:]]

    def score(self, reading: str) -> Score:
        """The most worrying window of a canonical reading (the whole of a short one)."""
        logits = max(self.windows(reading), key=lambda w: w[0])
        danger = 1 / (1 + math.exp(-max(min(logits[0], 60.0), -60.0)))
        best = max(range(1, len(logits)), key=logits.__getitem__)
        return Score(danger, self._concerns[best - 1])


def corpus_digest(texts: list[bytes]) -> str:
    """The digest a model records of the corpus files it was trained on (in their order)."""
    digest = hashlib.sha256()
    for text in texts:
        digest.update(hashlib.sha256(text).digest())
    return digest.hexdigest()


def encode(data: dict[str, Any]) -> bytes:
    """A model as its file's bytes (gzip of JSON, with no timestamp, so training reproduces it)."""
    return gzip.compress(json.dumps(data, sort_keys=True).encode(), mtime=0)


def read(package: str, name: str) -> dict[str, Any]:
    """A model file's data, shipped as package data."""
    return json.loads(gzip.decompress(resources.files(package).joinpath(name).read_bytes()))


@lru_cache(maxsize=1)
def shipped() -> Model:
    """The crisis model that ships beside this module, read once."""
    return Model(read("handlers.safety", MODEL_FILE))
