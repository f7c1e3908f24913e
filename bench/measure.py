"""What the side-by-side benchmarks print: percentiles, memory, allybot against a bare app."""

from __future__ import annotations

import argparse
import asyncio
import resource
from collections.abc import Awaitable, Callable


def pct(values: list[float], p: float) -> float:
    """The p-th percentile of durations in seconds, in milliseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000


def summary(name: str, values: list[float]) -> str:
    return (
        f"{name:<34} p50 {pct(values, 50):7.2f} ms  p95 {pct(values, 95):7.2f} ms  "
        f"p99 {pct(values, 99):7.2f} ms"
    )


def peak_memory() -> str:
    return (
        f"{'peak memory (process, so far)':<34} "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MiB"
    )


class Steal:
    """How much of this machine's CPU time the host took for other guests while a run went on
    (Linux's "steal", /proc/stat): on a shared virtual machine the same code measures slower
    when it is high, so a figure is read beside it."""

    def __init__(self) -> None:
        self._start = _cpu_times()

    def line(self) -> str:
        end = _cpu_times()
        if self._start is None or end is None:
            return f"{'CPU taken by the host (steal)':<34} not known here"
        stolen, total = (b - a for a, b in zip(self._start, end, strict=True))
        return f"{'CPU taken by the host (steal)':<34} {100 * stolen / max(total, 1):.1f} %"


def _cpu_times() -> tuple[int, int] | None:
    """(steal, all) clock ticks of every CPU since boot, or None without /proc/stat."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(x) for x in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    # user nice system idle iowait irq softirq steal [guest guest_nice, already in user/nice]
    return (fields[7], sum(fields[:8])) if len(fields) >= 8 else None


def ratios(
    results: dict[tuple[str, int], tuple[list[float], float]],
    bare: str,
    requests: int,
    levels: tuple[int, ...],
) -> list[str]:
    """allybot's p50, p99 and throughput as multiples of the bare app's, per concurrency."""
    lines = []
    for c in levels:
        theirs, ours = results[(bare, c)], results[("allybot", c)]
        lines.append(
            f"concurrency {c:>3}: allybot/bare  p50 {pct(ours[0], 50) / pct(theirs[0], 50):.2f}"
            f"  p99 {pct(ours[0], 99) / pct(theirs[0], 99):.2f}"
            f"  throughput {(requests / ours[1]) / (requests / theirs[1]):.2f}"
        )
    return lines


def main(run: Callable[[int, int], Awaitable[None]], description: str | None) -> None:
    """The benchmarks' command line: --requests per level, and the high --concurrency."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(run(args.requests, args.concurrency))
