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
_CACHED_WORDS = 20_000


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


@lru_cache(maxsize=4096)
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
    window: str  # the words of the window scored (the whole of a short text)


class Linear:
    """Linear heads over the features of a text, read from a model file's data; safe to call
    from many threads (the word cache is a plain dict: a race only computes a word twice).

    The weights stay one flat array of floats, found through a dict of row numbers: about a
    tenth of the memory of a tuple per feature."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.meta: dict[str, Any] = data["meta"]
        self.classes: list[str] = data["classes"]
        self.window: int = int(data["window"])
        self.width = width = len(self.classes)
        quantised = array.array("h")
        quantised.frombytes(base64.b64decode(data["weights"]))
        names = data["features"].split("\n")
        if len(quantised) != len(names) * width:
            raise ValueError("the model's weights do not match its features")
        scale = float(data["scale"])
        self._weights = array.array("d", (w * scale for w in quantised))
        self._rows: dict[str, int] = {name: i * width for i, name in enumerate(names)}
        self._bias: tuple[float, ...] = tuple(data["bias"])
        self._cache: dict[str, tuple[tuple[float, ...], int]] = {}

    @property
    def size(self) -> int:
        return len(self._rows)

    def _row(self, name: str) -> tuple[float, ...] | None:
        at = self._rows.get(name)
        return None if at is None else tuple(self._weights[at : at + self.width])

    def _word(self, word: str) -> tuple[tuple[float, ...], int]:
        """The summed weights of a word's own features (the word and its letter groups), and
        how many features it has. Cached, bounded: words repeat."""
        found = self._cache.get(word)
        if found is None:
            sums = [0.0] * self.width
            groups = letter_groups(word)
            weights, rows, width = self._weights, self._rows, self.width
            for name in ("w" + word, *groups):
                at = rows.get(name)
                if at is not None:
                    for k in range(width):
                        sums[k] += weights[at + k]
            if len(self._cache) > _CACHED_WORDS:
                self._cache.clear()
            found = self._cache[word] = (tuple(sums), 1 + len(groups))
        return found

    def _logits(self, sums: list[float] | tuple[float, ...], total: int) -> list[float]:
        norm = 1 / math.sqrt(total) if total else 0.0
        return [b + s * norm for b, s in zip(self._bias, sums, strict=True)]

    def _full(self, words: list[str]) -> list[float]:
        """The logits of every class for one window of words."""
        sums = [0.0] * self.width
        total = 0
        previous = "|"
        for word in words:
            if word == "|":
                previous = "|"
                continue
            own, n = self._word(word)
            sums = [s + o for s, o in zip(sums, own, strict=True)]
            total += n
            if previous != "|":
                total += 1
                pair = self._row(f"b{previous} {word}")
                if pair is not None:
                    sums = [s + p for s, p in zip(sums, pair, strict=True)]
            previous = word
        return self._logits(sums, total)

    def first(self, reading: str) -> list[float]:
        """The logits of the first window of a canonical reading (the whole of a short one)."""
        return self._full(tokens(reading)[: self.window])

    def most(self, reading: str, column: int = 0) -> tuple[list[float], list[str]]:
        """The logits of the window of `window` words (windows overlap by half) whose `column`
        is highest, and its words.

        The search follows that one column only, with running sums (features are linear, so
        a window is a difference of two): a megabyte costs one pass of additions, and only
        the window found is scored in full."""
        words = tokens(reading)
        if len(words) <= self.window:
            return self._full(words), words
        at = [i for i, w in enumerate(words) if w != "|"]  # the positions of real words
        running = [0.0]
        counts = [0]
        value, total = 0.0, 0
        previous = "|"
        bias = self._bias[column]
        weights, rows = self._weights, self._rows
        pairs = []  # each word's pair weight in `column`, counted with its second word
        for word in words:
            if word == "|":
                previous = "|"
                continue
            own, n = self._word(word)
            value += own[column]
            total += n
            pair = 0.0
            if previous != "|":
                total += 1
                row = rows.get(f"b{previous} {word}")
                if row is not None:
                    pair = weights[row + column]
                    value += pair
            pairs.append((pair, previous != "|"))
            running.append(value)
            counts.append(total)
            previous = word
        size, step = self.window, self.window // 2
        best, best_start = -math.inf, 0
        for start in range(0, len(at) - step, step):
            end = min(start + size, len(at))
            pair, joined = pairs[start]  # the first word's pair reaches outside the window
            sums = running[end] - running[start] - pair
            count = counts[end] - counts[start] - (1 if joined else 0)
            score = bias + sums / math.sqrt(count) if count else bias
            if score > best:
                best, best_start = score, start
        window = words[at[best_start] : at[min(best_start + size, len(at)) - 1] + 1]
        return self._full(window), window


class Model(Linear):
    """The crisis model: column 0 is the danger head, the others the concerns."""

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__(data)
        self.thresholds: dict[str, float] = data["thresholds"]
        self._concerns = [Concern(c) for c in self.classes[1:]]

    def score(self, reading: str) -> Score:
        """The most worrying window of a canonical reading (the whole of a short one)."""
        logits, words = self.most(reading)
        danger = 1 / (1 + math.exp(-max(min(logits[0], 60.0), -60.0)))
        best = max(range(1, len(logits)), key=logits.__getitem__)
        return Score(danger, self._concerns[best - 1], " ".join(words))


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
