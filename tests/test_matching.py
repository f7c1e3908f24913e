"""Pure ranking of allies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from handlers.matching import Candidate, Wanted, rank, within_hours

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def ally(pid: int, **kw) -> Candidate:
    base = dict(
        person_id=pid,
        department="Sales",
        topics=(),
        status="active",
        available=True,
        capacity=2,
        open_count=0,
    )
    base.update(kw)
    return Candidate(**base)


def ids(candidates, want=None, now=NOW) -> list[int]:
    return [c.person_id for c in rank(candidates, want or Wanted(requester_id=99), now)]


def test_filters_out_who_cannot_take_a_request():
    pool = [
        ally(1),
        ally(2, available=False),
        ally(3, status="paused"),
        ally(4, open_count=2),
        ally(5, status="onboarding"),
        ally(99),
    ]
    assert ids(pool) == [1]


def test_already_asked_and_same_department_are_skipped():
    pool = [ally(1, department="Sales"), ally(2, department="sales "), ally(3, department="Ops")]
    want = Wanted(
        requester_id=99,
        requester_department="Sales",
        outside_department=True,
        already_asked=frozenset({3}),
    )
    assert ids(pool, want) == []
    assert ids(pool, Wanted(requester_id=99, already_asked=frozenset({1}))) == [2, 3]


def test_topic_first_then_least_recently_asked_then_fewest_open():
    earlier, later = NOW - timedelta(hours=2), NOW - timedelta(hours=1)
    pool = [
        ally(1, last_asked_at=later),
        ally(2, last_asked_at=earlier),
        ally(3, topics=("Grief",), last_asked_at=later),
        ally(4),
        ally(5, open_count=1),
    ]
    assert ids(pool, Wanted(requester_id=99, topic="grief")) == [3, 4, 5, 2, 1]
    assert ids(pool) == [4, 5, 2, 1, 3]


def test_working_hours_in_the_allys_own_time_zone():
    # 10:00 UTC is 05:00 in New York and 21:00 in Sydney (March: daylight time)
    office = ally(1, hours_start="09:00", hours_end="17:00", tz="America/New_York")
    night = ally(2, hours_start="20:00", hours_end="02:00", tz="Australia/Sydney")
    assert not within_hours(office, NOW)
    assert within_hours(office, NOW + timedelta(hours=5))
    assert within_hours(night, NOW)
    assert not within_hours(night, NOW + timedelta(hours=6))
    assert ids([office, night]) == [2]
    assert within_hours(ally(3, hours_start="09:00", hours_end="17:00", tz="Bad/Zone"), NOW)
