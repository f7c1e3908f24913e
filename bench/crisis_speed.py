"""How fast crisis detection reads, and how much memory it adds: numbers, not a test.

    .venv/bin/python -m bench.crisis_speed

Prints the time to assess short messages (the development part of the corpus, p50 and p99,
and the model alone), a 40 KB and a 1 MB message (ordinary work text with a crisis sentence at
the end), and the memory the detector adds once loaded (the model, langdetect's profiles, the
patterns), measured with tracemalloc in a fresh process.
"""

from __future__ import annotations

import statistics
import time
import tracemalloc


def _memory() -> float:
    """What loading the detector adds to a bot that is already running: the rest of the bot
    (the Context, the content, pydantic, SQLAlchemy) is imported before counting starts."""
    import handlers.context  # noqa: F401

    tracemalloc.start()
    from handlers.safety.detect import Detector

    detector = Detector()
    detector.assess("warm up: the first read loads the language profiles")
    current, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return current / 2**20


def main() -> None:
    added = _memory()
    from bench.crisis_corpus import load
    from handlers.safety.detect import Detector, reading_for_model

    detector = Detector()
    lines = [m for item in load("dev") for m in item.messages if len(m) < 280]
    times, model_times = [], []
    for line in lines:
        started = time.perf_counter()
        detector.assess(line)
        times.append(time.perf_counter() - started)
        reading = reading_for_model(line, "en")
        started = time.perf_counter()
        detector.model.score(reading)
        model_times.append(time.perf_counter() - started)
    times.sort()
    print(
        f"short messages ({len(lines)}): p50 {statistics.median(times) * 1000:.2f} ms, "
        f"p99 {times[int(len(times) * 0.99)] * 1000:.2f} ms; the model alone p50 "
        f"{statistics.median(model_times) * 1000:.2f} ms"
    )
    work = (
        "The migration ran overnight; replica lag is back under a second and the "
        "billing export finished at 04:10. Next step is the index rebuild on Thursday. "
    )
    for size in (40_000, 1_000_000):
        text = (work * (size // len(work) + 1))[:size] + " honestly i want to end my life"
        started = time.perf_counter()
        found = detector.assess(text)
        print(f"{size // 1000} KB: {time.perf_counter() - started:.3f} s, level {found.level.name}")
    print(f"memory added by the detector: {added:.1f} MB; model: {detector.model.size} features")


if __name__ == "__main__":
    main()
