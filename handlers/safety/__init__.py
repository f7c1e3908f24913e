"""Crisis language, by concern and level, and the replies that answer it, by region.

    normalise.py   one canonical spelling of a text
    patterns.py    the English risk-core layer, with its idiom vetoes
    languages.py   language identification and the risk cores of seven other languages
    model.py       the shipped classifier (trained by bench/train_crisis.py)
    stepdown.py    mentions (training, films, lyrics, the past, denial) lower HIGH to QUIET
    memory.py      a decaying per-person score, so a weak cue after distress escalates
    detect.py      the four together: `assess(text) -> Assessment`
    replies.py     what leads a reply for each concern (the only part that needs a Context)

Detection only ever adds resources: it never blocks or hides the normal path. The detection
modules import nothing from the bot, storage or Context (an import-linter contract), so they can
run when everything else fails. docs/crisis-detection.md says what the model was trained on,
what it measures and where it fails.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from handlers.safety.concerns import Concern, Level
from handlers.safety.detect import NOTHING, Assessment, Detector
from handlers.safety.memory import person_key
from handlers.safety.replies import (
    crisis_blocks,
    lead_blocks,
    resource_blocks,
    supporter_blocks,
    supporter_lines,
)

__all__ = [
    "NOTHING",
    "Assessment",
    "Concern",
    "Detector",
    "Level",
    "assess",
    "crisis_blocks",
    "detector",
    "lead_blocks",
    "person_key",
    "resource_blocks",
    "supporter_blocks",
    "supporter_lines",
]


@lru_cache(maxsize=1)
def detector() -> Detector:
    """The process's detector, with its conversation memory (made once, on first use)."""
    return Detector()


def assess(text: str, key: str | None = None, now: datetime | None = None) -> Assessment:
    """How strongly `text` calls for crisis help (see Detector.assess)."""
    return detector().assess(text, key, now)
