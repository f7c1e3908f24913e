"""Calendar benchmark: the cost of a calendar run, and a simulated year in the shell.

Runs on a temporary SQLite database with the demo organisation and the shipped content.
Prints: plan_calendar p50/p99 when nothing is due (what every cron job costs), the time to
catch up a year of posts after an outage, and a year of `/wait` in the shell (every weekly
tip, awareness day, digest, daily job, check-in and reminder on the way).

    .venv/bin/python -m bench.calendar_bench
"""

from __future__ import annotations

import io
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import func, select

from bot.app import build
from bot.clock import Clock
from bot.config import REPO_ROOT, Settings, load_settings
from bot.platforms.shell.console import Shell
from storage.models import Delivery

START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def fresh_bot(folder: Path):  # type: ignore[no-untyped-def]
    settings = load_settings({"ALLYBOT_CONFIG": str(REPO_ROOT / "app.yaml")})
    settings = Settings(
        **{
            **settings.__dict__,
            "database_url": f"sqlite:///{folder / 'bench.db'}",
            "data_dir": folder,
        }
    )
    bot = build(settings, clock=Clock(START))
    bot.seed_demo()
    return bot


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        bot = fresh_bot(Path(tmp))
        router = bot.router
        router.plan_calendar()
        idle = []
        for _ in range(500):
            bot.clock.advance(timedelta(seconds=15))
            t = time.perf_counter()
            router.plan_calendar()
            idle.append((time.perf_counter() - t) * 1000)
        print(f"plan_calendar, nothing due: p50 {pct(idle, 50):.2f} ms, p99 {pct(idle, 99):.2f} ms")

        bot.clock.advance(timedelta(days=365))  # a year's outage: everything is missed
        t = time.perf_counter()
        router.plan_calendar()
        with bot.db.session() as session:
            rows = session.exec(select(func.count()).select_from(Delivery)).one()
        print(f"catch-up after a year down: {(time.perf_counter() - t) * 1000:.0f} ms, {rows} rows")

    with tempfile.TemporaryDirectory() as tmp:
        bot = fresh_bot(Path(tmp))
        out = io.StringIO()
        shell = Shell(bot, out=out)
        bot.router.plan_calendar()
        t = time.perf_counter()
        for _ in range(52):
            shell.handle_line("/wait 7d")
        took = time.perf_counter() - t
        posts = out.getvalue().count("[bot -> #general] Weekly wellbeing tip")
        lines = out.getvalue().count("\n")
        print(f"a year of /wait in the shell: {took:.2f} s, {posts} weekly tips, {lines} lines")


if __name__ == "__main__":
    main()
