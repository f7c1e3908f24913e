"""Timers are rows claimed by the sweeper; APScheduler runs the sweeper. No sleeps."""

from __future__ import annotations

import asyncio
import io
from datetime import datetime, timedelta

from apscheduler.events import EVENT_JOB_EXECUTED
from sqlmodel import select

from bot.events import Action, Actor
from bot.platforms.shell.console import Shell, ShellPlatform
from bot.scheduler import Calendar, build_scheduler
from storage.models import Offer, Timer
from storage.timers import LEASE, MAX_ATTEMPTS, claim_due


def _start_request(bot) -> None:
    eve = Actor("shell", "eve")
    bot.router.dispatch(Action("findally:start", '{"t":null,"o":0,"a":0}', eve))


def test_sweeper_runs_a_due_timer_once_even_if_two_sweep(bot):
    _start_request(bot)
    assert bot.router.sweep() == []  # not due yet
    bot.clock.advance(timedelta(minutes=15))
    first, second = bot.router.sweep(), bot.router.sweep()
    assert any("time to answer ran out" in o.message.fallback_text() for o in first)
    assert second == []
    with bot.db.session() as session:
        assert session.exec(select(Offer.status).order_by(Offer.id)).all() == ["expired", "pending"]


def test_a_claim_left_by_a_dead_process_is_taken_over_after_the_lease(bot):
    _start_request(bot)
    bot.clock.advance(timedelta(minutes=15))
    with bot.db.session() as session:
        claimed = claim_due(session, bot.clock.now())  # this "process" dies here
    assert len(claimed.due) == 1
    assert bot.router.sweep() == []  # someone else holds the claim
    bot.clock.advance(LEASE + timedelta(seconds=1))
    assert any("time to answer ran out" in o.message.fallback_text() for o in bot.router.sweep())


def test_a_timer_that_keeps_failing_is_given_up(bot):
    with bot.db.session() as session:
        session.add(Timer(kind="no.such.kind", subject_id=1, due_at=bot.clock.now()))
    with bot.db.session() as session:
        timer = session.exec(select(Timer)).one()
        timer.attempts = MAX_ATTEMPTS
        session.add(timer)
    bot.router.sweep()
    with bot.db.session() as session:
        assert session.exec(select(Timer.status)).one() == "failed"


def test_apscheduler_job_sweeps_due_timers_and_delivers(bot):
    _start_request(bot)
    bot.clock.advance(timedelta(minutes=16))
    printed = io.StringIO()

    async def scenario() -> None:
        calendar = Calendar(bot.router, ShellPlatform(Shell(bot, out=printed)))
        scheduler = build_scheduler(calendar, "Europe/London")
        swept = asyncio.Event()
        scheduler.add_listener(lambda event: swept.set(), EVENT_JOB_EXECUTED)
        scheduler.start()
        try:
            job = scheduler.get_job("sweeper")
            job.modify(next_run_time=datetime.now(scheduler.timezone))  # run it now
            await asyncio.wait_for(swept.wait(), timeout=30)
        finally:
            scheduler.shutdown(wait=False)
            calendar.stop()

    asyncio.run(scenario())
    assert "A colleague would like to talk" in printed.getvalue()


def test_processed_event_ids_are_kept_for_the_retention_window_then_forgotten(bot):
    from bot.events import Text
    from storage.models import ProcessedEvent

    eve = Actor("shell", "eve")
    bot.router.plan_calendar()
    assert bot.router.dispatch(Text("hi", eve, event_id="Ev1"))
    assert bot.router.dispatch(Text("hi", eve, event_id="Ev1")) == []  # a retry: ignored
    bot.clock.advance(timedelta(hours=47))  # the daily job ran twice, the id is younger
    bot.router.plan_calendar()
    assert bot.router.dispatch(Text("hi", eve, event_id="Ev1")) == []
    bot.clock.advance(timedelta(hours=24))  # past events_hours (48) at the next daily job
    bot.router.plan_calendar()
    with bot.db.session() as session:
        assert session.exec(select(ProcessedEvent)).all() == []
