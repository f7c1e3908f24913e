"""The support path asks the database no more at 400 allies than at 20: each event makes as
many calls (statements, and BEGIN, SAVEPOINT, RELEASE and COMMIT; on PostgreSQL each is a
round trip) or fewer, whatever the size of the organisation, and no more than its budget.
Timing is bench/scale_bench.py's job; this guards what the time is made of."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from bench.scale_bench import make_bot, populate, rounds
from tests.conftest import BACKENDS, fresh_database

# The calls each event makes today (docs/performance.md). A change that adds one should say
# why here; one that saves one should lower it.
BUDGET = {
    "talk (preferences)": 6,
    "Any ally -> offer": 16,
    "accept": 12,
    "ally's home": 6,
    "finish": 9,
    # A small organisation may read one more preference group before it finds someone.
    "topic + language -> offer": 21,
    "/findally ack (router)": 5,
    "  its two lookups": 2,
}


def _calls(backend: str, tmp_path: Path, postgres_url: str | None, allies: int) -> dict:
    (tmp_path / str(allies)).mkdir()
    db = fresh_database(backend, tmp_path / str(allies), postgres_url)
    try:
        populate(db, allies, random.Random(allies))
        recorded = rounds(make_bot(db), allies, count=4)
        return {name: max(calls) for name, calls in recorded.calls.items()}
    finally:
        db.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_event_makes_more_calls_at_400_allies_than_at_20(
    backend: str, tmp_path: Path, postgres_url: str | None
):
    small = _calls(backend, tmp_path, postgres_url, 20)
    large = _calls(backend, tmp_path, postgres_url, 400)
    grew = {name: (small[name], calls) for name, calls in large.items() if calls > small[name]}
    assert grew == {}, "calls that grew with the organisation (20, 400 allies): " + repr(grew)
    most = {name: max(small[name], large[name]) for name in BUDGET}
    over = {name: (calls, BUDGET[name]) for name, calls in most.items() if calls > BUDGET[name]}
    assert over == {}, "calls over budget (made, budget): " + repr(over)
