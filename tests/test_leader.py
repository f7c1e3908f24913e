"""The leader dies mid-broadcast (issue 13): two real `allybot serve` processes on one
PostgreSQL database; a coordinator sends an awareness post to 30 channels now; the leader (the
one process that sends scheduled posts) is killed with SIGKILL while the post is on its way.

Slack is slow at that moment: of the 30 posts, 10 went through and were answered, 10 reached
Slack but their answers had not come back, and 10 had not reached Slack yet. The other process
takes the lead within `delivery.leader_seconds`, takes over the posts whose claim ran out
(`delivery.lease_seconds`), finds the 10 that reached Slack in their channels' history (their
block ids carry their Delivery row) and posts only the 10 that never arrived. Every channel
gets the post exactly once, and every Delivery row ends "sent".

Runs only where PostgreSQL is (the `postgres_url` fixture, as the other PostgreSQL tests).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from cryptography.fernet import Fernet

from tests.conftest import fresh_database
from tests.serve_process import COORDINATOR_BY_DM, ServeProcess, prepare, rows, until
from tests.slack_harness import text_of
from tests.slack_standin import Call, SlackStandIn, default_channels
from tests.test_slack import _profile

CHANNELS = [f"aware{i:02d}" for i in range(30)]
ANSWERED, UNANSWERED = 10, 10  # posts Slack took and answered, and took without answering
CONFIG = {
    "coordinators": COORDINATOR_BY_DM,
    "awareness": {"channels": CHANNELS},
    "delivery": {
        "sweep_seconds": 0.2,
        # Long enough that the leader, on a busy machine, is killed before its own claims run
        # out (it would take them over itself), short enough to keep the test quick.
        "lease_seconds": 3,
        "leader_seconds": 0.5,
        "retry_seconds": 30,
    },
}
LEADS = "this process now runs the calendar"  # storage/leader.py logs it on taking the lock
TITLE = "Weekly wellbeing tip"
PATIENCE = 20.0  # seconds: a step that has not come by then never will


def _channel_posts(standin: SlackStandIn) -> list[Call]:
    return [
        c
        for c in standin.calls
        if c.method == "chat.postMessage" and str(c.args.get("channel")).startswith("#aware")
    ]


async def _until(database_url: str, sql: str, expected: int) -> None:
    """Wait until `sql` counts `expected` in the database the serve processes write."""
    await until(lambda: rows(database_url, sql) == [(expected,)], PATIENCE, sql)


def _count(status: str) -> str:
    return f"SELECT count(*) FROM delivery WHERE message = 'weekly-tips' AND status = '{status}'"


def test_a_leader_killed_mid_broadcast_posts_each_channel_exactly_once(
    tmp_path: Path, postgres_url: str | None
):
    database = fresh_database("postgresql", tmp_path, postgres_url)  # skips without PostgreSQL
    database.dispose()
    url, config_path = prepare(tmp_path, CONFIG, database_url=postgres_url)
    channels = default_channels()
    channels.update(
        {f"C{n.upper()}": {"id": f"C{n.upper()}", "name": n, "is_private": False} for n in CHANNELS}
    )
    standin = SlackStandIn(
        users={"UCASEY": _profile("Casey", "casey@example.com")}, channels=channels
    )
    key = Fernet.generate_key().decode()
    arrived: list[str] = []  # the channels of the posts that reached the stand-in, in order
    everywhere = asyncio.Event()  # every post of the broadcast has reached Slack (or is held)
    killed = asyncio.Event()

    async def slow_slack(call: Call) -> bool:
        """The first posts get through; the rest wait, and after the kill never get through
        (their sender is gone). Posts made after the kill get through."""
        channel = str(call.args.get("channel"))
        if call.method != "chat.postMessage" or not channel.startswith("#aware"):
            return False
        if killed.is_set():
            return False
        arrived.append(channel)
        if len(arrived) == len(CHANNELS):
            everywhere.set()
        if len(arrived) <= ANSWERED + UNANSWERED:
            return False
        await killed.wait()
        return True

    async def late_answer(call: Call) -> None:
        """Slack has the post (it is in the channel's history) but answers after the kill."""
        if call.method == "chat.postMessage" and call.args.get("channel") in arrived[ANSWERED:]:
            await killed.wait()

    standin.before_call = slow_slack
    standin.before_answer = late_answer

    async def scenario() -> tuple[list[str], list[str]]:
        await standin.start()
        replicas = []
        for n in range(2):
            (tmp_path / f"replica{n}").mkdir()
            replicas.append(
                ServeProcess(tmp_path / f"replica{n}", url, config_path, standin.url, key)
            )
        leader, follower = replicas
        try:
            await leader.start()  # takes the lock at start, before it says it is serving
            await follower.start()
            assert any(LEADS in line for line in leader.log)
            assert not any(LEADS in line for line in follower.log)

            # The coordinator's "send now", through the follower: the leader posts it.
            ack = await follower.command(
                "UCASEY",
                "/allyadmin",
                "awareness send weekly-tips",
                standin.response_url("casey-0"),
                "t0",
            )
            assert ack and "is on its way to #aware00" in text_of(ack.get("blocks") or [])

            await asyncio.wait_for(everywhere.wait(), PATIENCE)
            await _until(url, _count("sent"), ANSWERED)  # the answered ones are marked sent
            await leader.kill()  # mid-broadcast: 20 posts claimed and not marked sent
            killed.set()
            assert await asyncio.to_thread(rows, url, _count("sending")) == [
                (len(CHANNELS) - ANSWERED,)
            ]

            await _until(url, _count("sent"), len(CHANNELS))
            assert any(LEADS in line for line in follower.log)
            await follower.stop()
        finally:
            for r in replicas:
                await r.close()
            await standin.stop()
            said = [line for r in replicas for line in r.log if "aiohttp.access" not in line]
            print("\n".join(said[-60:]))
        return leader.log, follower.log

    _, follower_log = asyncio.run(scenario())

    # Each channel has the post exactly once (the tip, tagged with its own Delivery row).
    posts = _channel_posts(standin)
    assert Counter(c.args["channel"] for c in posts) == {f"#{n}": 1 for n in CHANNELS}
    assert all(TITLE in text_of(c.args["blocks"]) for c in posts)
    ids = dict(rows(url, "SELECT target, id FROM delivery WHERE message = 'weekly-tips'"))
    for post in posts:
        assert post.args["blocks"][0]["block_id"] == f"dl:{ids[post.args['channel']]}:0"

    # The new leader looked in the channels of the 20 unsure posts, and found the 10 that had
    # reached Slack: only the 10 that never arrived were posted again.
    looked = {c.args["channel"] for c in standin.calls if c.method == "conversations.history"}
    unsure = set(arrived[ANSWERED:])
    assert looked == {f"C{c.removeprefix('#').upper()}" for c in unsure}
    assert sum("had been delivered; not sent again" in line for line in follower_log) == UNANSWERED
    assert len(posts) == len(CHANNELS)

    # Every Delivery row ends sent, each claimed once by the dead leader and once more by the
    # new one if it was in flight at the kill.
    done = rows(url, "SELECT status, attempts FROM delivery WHERE message = 'weekly-tips'")
    assert Counter(done) == {("sent", 1): ANSWERED, ("sent", 2): len(CHANNELS) - ANSWERED}
