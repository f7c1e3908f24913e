"""Replicas and memory (issue 13): one and two real `allybot serve` processes on one PostgreSQL
database, and what a serve process holds in memory as more and more people write to it.

Throughput: signed `/findally` commands from employees who have used the bot before (the steady
state) go over loopback HTTP to ONE serve process, then to TWO on the same database with the
requests split round-robin, at concurrency 1, 10, 50 and 200. The two set-ups take turns round
by round (one, two, one, two...; each level starts with the other one first), so a busy
neighbour on the machine slows both alike. Printed per set-up and level: p50/p95/p99 over all
rounds, requests per second, the median and range of the per-round throughput and p50, and the
ratio two/one.

Memory: a third serve process, fresh; its VmHWM (peak resident) and VmRSS (resident now) from
/proc/<pid>/status at idle, then after --users distinct new people have each sent a `/findally`
(each is looked up with users.info and remembered), then after as many more: the adapters'
caches are LRUs of `platforms.cache_size` entries, so the second figure should match the first.

The processes are `allybot serve` itself (tests/serve_process.py: forked from a parent that has
done the imports, each with its own database pool and event loop), against the loopback Slack
stand-in (tests/slack_standin.py), on a throwaway PostgreSQL server (or
ALLYBOT_TEST_POSTGRES_URL's). The load generator, the stand-in and PostgreSQL run on the same
machine as the serve processes.

    .venv/bin/python -m bench.replica_bench [--requests 60] [--rounds 3] [--users 1500]
        [--cache 500]

--requests: commands per round per set-up (at least twice the concurrency); --rounds: rounds per
set-up at each level; --users: new people per memory step (0 skips the memory part); --cache:
the memory process's `platforms.cache_size`.

Each part takes about a minute on a 2-core machine by default: a new person costs more than an
ack (a users.info lookup and a profile write after it), about 40 a second, so the default
memory run fills a 500-entry cache three times over in each step. `--users 10000 --cache 5000`
is the shipped cache size after 10,000 and 20,000 people (5 to 10 minutes).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

import aiohttp
import yaml
from cryptography.fernet import Fernet

from bench.measure import pct, summary
from bench.slack_bench import command_body, spread
from tests.conftest import fresh_database, postgres_server
from tests.serve_process import ServeProcess, prepare
from tests.slack_harness import sign
from tests.slack_standin import SlackStandIn
from tests.test_slack import _profile

LEVELS = (1, 10, 50, 200)
SETUPS = ("one process", "two processes")
POOL = 200  # employees who have used the bot before
ALLIES = 50
ROSTER = "platform,user,name,department,topics,capacity\n" + "".join(
    f"slack,UA{i:04d},Ally {i},Dept {i % 7},stress,10\n" for i in range(ALLIES)
)
# Alerts by DM and no awareness posts: nothing scheduled competes with the measured acks.
CONFIG = {
    "coordinators": {"people": [], "channel": None, "notify_by_dm": True, "digest": "off"},
    "awareness": {"channels": []},
}
MEMORY_AT_ONCE = 50  # concurrency of the memory part's commands
QUIET = 2.0  # seconds without a Web API call: the background work after the acks is done


async def fire(
    http: aiohttp.ClientSession, urls: list[str], bodies: list[str], concurrency: int
) -> tuple[list[float], float]:
    """POST every body, signed, `concurrency` at a time, the i-th to urls[i % len(urls)] (a
    round-robin load balancer). Returns the latencies and the wall time."""
    latencies: list[float] = []
    work = iter(enumerate(bodies))

    async def worker() -> None:
        for i, body in work:
            headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
            t0 = time.perf_counter()
            async with http.post(urls[i % len(urls)], data=body.encode(), headers=headers) as r:
                await r.read()
                assert r.status == 200, r.status
            latencies.append(time.perf_counter() - t0)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, time.perf_counter() - started


def memory(serve: ServeProcess) -> tuple[float, float]:
    """The serve process's VmHWM and VmRSS, in MiB."""
    assert serve.current is not None
    status = Path(f"/proc/{serve.current.pid.result()}/status").read_text()
    kib = {
        k: float(v.split()[0])
        for k, _, v in (line.partition(":") for line in status.splitlines())
        if k in ("VmHWM", "VmRSS")
    }
    return kib["VmHWM"] / 1024, kib["VmRSS"] / 1024


def cpu_seconds(serves: list[ServeProcess]) -> float:
    """CPU time (user and system) the serve processes have used so far."""
    total = 0
    for serve in serves:
        assert serve.current is not None
        stat = Path(f"/proc/{serve.current.pid.result()}/stat").read_text()
        fields = stat.rpartition(")")[2].split()  # after the name, which may hold spaces
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / os.sysconf("SC_CLK_TCK")


def memory_line(name: str, serve: ServeProcess) -> str:
    hwm, rss = memory(serve)
    return f"{name:<34} VmHWM {hwm:7.1f} MiB  VmRSS {rss:7.1f} MiB"


async def quiet(standin: SlackStandIn) -> None:
    """Wait until no Web API call has come for QUIET seconds: the work the acks started (profile
    lookups) is done."""
    seen = len(standin.calls)
    while True:
        try:
            await standin.wait_for(lambda c: True, seen, timeout=QUIET)
        except TimeoutError:
            return
        seen = len(standin.calls)


async def throughput(
    http: aiohttp.ClientSession,
    standin: SlackStandIn,
    replicas: list[ServeProcess],
    requests: int,
    rounds: int,
) -> None:
    urls = [f"{r.url}/slack/events" for r in replicas]
    pool = [f"UE{i:04d}" for i in range(POOL)]
    # Everyone in the pool has used the bot on both processes: their profiles are known.
    for url in urls:
        await fire(http, [url], [command_body(u, -1, standin) for u in pool], 10)
    await quiet(standin)
    setups = {SETUPS[0]: urls[:1], SETUPS[1]: urls}
    n = 0
    ratios = []
    for c in LEVELS:
        per_round = max(requests, 2 * c)
        lat: dict[str, list[float]] = {s: [] for s in SETUPS}
        wall = dict.fromkeys(SETUPS, 0.0)
        rates: dict[str, list[float]] = {s: [] for s in SETUPS}
        p50s: dict[str, list[float]] = {s: [] for s in SETUPS}
        cpu = dict.fromkeys(SETUPS, 0.0)
        for r in range(rounds):
            for setup in SETUPS if (r + c) % 2 == 0 else SETUPS[::-1]:
                bodies = []
                for i in range(per_round):
                    n += 1
                    bodies.append(command_body(pool[i % POOL], n, standin))
                used = cpu_seconds(replicas)  # both, the idle one too (its sweeper)
                got, took = await fire(http, setups[setup], bodies, c)
                cpu[setup] += cpu_seconds(replicas) - used
                lat[setup] += got
                wall[setup] += took
                rates[setup].append(len(got) / took)
                p50s[setup].append(pct(got, 50))
        for setup in SETUPS:
            print(
                summary(f"{setup}, concurrency {c}", lat[setup]),
                f" {len(lat[setup]) / wall[setup]:7.1f} req/s",
            )
            print(f"{'  req/s per round':<34} {spread(rates[setup])}  over {rounds} rounds")
            print(f"{'  p50 per round (ms)':<34} {spread(p50s[setup])}")
            print(
                f"{'  serve CPU per ack':<34} {cpu[setup] / len(lat[setup]) * 1000:7.2f} ms"
                f"  ({cpu[setup] / wall[setup]:.2f} cores busy on average)"
            )
        one, two = (len(lat[s]) / wall[s] for s in SETUPS)
        per_round_ratio = [b / a for a, b in zip(rates[SETUPS[0]], rates[SETUPS[1]], strict=True)]
        ratios.append(
            f"concurrency {c:>3}: two/one  throughput {two / one:.2f}"
            f" (per round {spread(per_round_ratio).strip()})"
            f"  p50 {pct(lat[SETUPS[1]], 50) / pct(lat[SETUPS[0]], 50):.2f}"
            f"  p99 {pct(lat[SETUPS[1]], 99) / pct(lat[SETUPS[0]], 99):.2f}"
        )
    print()
    print("\n".join(ratios))


async def flat_memory(
    http: aiohttp.ClientSession, standin: SlackStandIn, serve: ServeProcess, users: int
) -> None:
    print(memory_line("memory at idle, after start", serve))
    url = [f"{serve.url}/slack/events"]
    for step in (1, 2):
        new = [f"UN{step}x{i:06d}" for i in range(users)]
        standin.users.update(
            {u: _profile(f"Person {u[2:]}", f"{u.lower()}@example.com") for u in new}
        )
        started = time.perf_counter()
        await fire(
            http, url, [command_body(u, i, standin) for i, u in enumerate(new)], MEMORY_AT_ONCE
        )
        await quiet(standin)
        took = time.perf_counter() - started
        print(memory_line(f"memory after {step * users:,} users", serve), f" ({took:.0f} s)")


async def run(args: argparse.Namespace, url: str, tmp: Path) -> None:
    database = fresh_database("postgresql", tmp, url)  # migrated and empty
    database.dispose()
    url, config_path = prepare(tmp, CONFIG, ROSTER, database_url=url)
    pool = [f"UE{i:04d}" for i in range(POOL)]
    users = {u: _profile(f"Person {u[2:]}", f"{u.lower()}@example.com") for u in pool}
    standin = SlackStandIn(users=users)
    await standin.start()
    key = Fernet.generate_key().decode()  # one key: every replica opens what the others sealed
    serves = []
    for n in range(2):
        (tmp / f"serve{n}").mkdir()
        serves.append(ServeProcess(tmp / f"serve{n}", url, config_path, standin.url, key))
    connector = aiohttp.TCPConnector(limit=0)  # the workers set the concurrency
    http = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60))
    try:
        if args.rounds:
            await asyncio.gather(*(s.start() for s in serves[:2]))
            await throughput(http, standin, serves[:2], args.requests, args.rounds)
            await asyncio.gather(*(s.stop() for s in serves[:2]))
        if args.users:
            print()
            # The memory process's own app.yaml: the same, with the cache size asked for.
            app = yaml.safe_load(config_path.read_text())
            app["platforms"] = {**app.get("platforms", {}), "cache_size": args.cache}
            (tmp / "memory.yaml").write_text(yaml.safe_dump(app))
            (tmp / "serve2").mkdir()
            serves.append(ServeProcess(tmp / "serve2", url, tmp / "memory.yaml", standin.url, key))
            print(f"(memory process: platforms.cache_size {args.cache})")
            await serves[2].start()
            await flat_memory(http, standin, serves[2], args.users)
            await serves[2].stop()
    finally:
        await http.close()
        for s in serves:
            await s.close()
        await standin.stop()
        errors = [line for s in serves for line in s.log if "ERROR" in line or "Traceback" in line]
        if errors:
            print("\n".join(["errors the processes logged:", *errors[:20]]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--users", type=int, default=1500)
    parser.add_argument("--cache", type=int, default=500, help="the memory process's cache_size")
    args = parser.parse_args()
    with postgres_server() as url, tempfile.TemporaryDirectory(prefix="allybot-replicas-") as tmp:
        if url is None:
            print("PostgreSQL: skipped (server programs not installed)")
            return
        started = time.perf_counter()
        asyncio.run(run(args, url, Path(tmp)))
        print(f"\n(took {time.perf_counter() - started:.0f} s; 2 shared cores run everything)")


if __name__ == "__main__":
    main()
