"""`allybot serve` as a real process, for the fault tests: run through the CLI entry point
(`bot.cli.main(["serve"])`, what the `allybot` script calls) with the environment a deployment
sets (a SQLite file, app.yaml, the Slack Web API pointed at a loopback stand-in), spoken to with
signed Slack requests over HTTP, and killed with SIGKILL.

Importing the bot costs more than starting it, and a fault test restarts it dozens of times, so
the processes are forked from a parent that has done the imports once (as gunicorn's preload
does). Each serve is still a process of its own: its state is what it wrote to the database, and
SIGKILL ends it at whatever line it was on. Its output comes through the parent's; a pidfd says
when it has died.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import sys
import time
from collections.abc import Callable
from contextlib import closing, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import yaml
from cryptography.fernet import Fernet
from sqlalchemy import text

from bot.config import REPO_ROOT
from handlers.allies import import_roster, parse_roster
from storage.db import Database
from tests.conftest import _migrated_sqlite
from tests.slack_harness import SECRET, TOKEN, event_body, sign

READY = re.compile(r"serving slack on port (\d+)")  # what bot/serve.py logs once it listens
FORKED = re.compile(r"^forked (\d+) (\d+)$")
START_TIMEOUT = 30.0  # seconds for a started process to say it is serving (or fail)
# The coordinator the serve tests share, told by DM (a channel is paced at one post a second,
# which would make a test of many alerts a test of the pacing), with no digest.
COORDINATOR_BY_DM = {
    "people": ["slack:UCASEY"],
    "channel": None,
    "notify_by_dm": True,
    "digest": "off",
}
# The parent: every module serve needs imported, then a serve forked for each port it is sent.
# A child gets /dev/null for stdin and the parent's output; the kernel reaps it when it dies,
# and kills it if the parent dies (which it does when the test's end of stdin closes).
FORK_SERVER = """
import ctypes, os, signal, sys, traceback
import bot.cli, bot.serve, bot.scheduler, bot.platforms.slack.adapter
PR_SET_PDEATHSIG = 1
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
print("fork server ready", flush=True)
while line := sys.stdin.readline():
    port = line.strip()
    pid = os.fork()
    if pid == 0:
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.environ["PORT"] = port
        code = 1
        try:
            code = bot.cli.main(["serve"])
        except BaseException:
            traceback.print_exc()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    print(f"forked {port} {pid}", flush=True)
"""


async def until(condition: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    """Wait for a condition on what another process wrote (its database, a file, its log):
    there is no event to wait on across processes, so it is looked at every 20 ms until true,
    failing after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(
    workdir: Path,
    config: dict[str, Any],
    roster: str | None = None,
    database_url: str | None = None,
) -> tuple[str, Path]:
    """A migrated database with the roster's allies in it, and an app.yaml: the repository's
    with `config`'s sections laid over it. The database is `database_url` (migrated and empty:
    a PostgreSQL one for replicas) or else a new SQLite file. Returns the database URL and the
    app.yaml path."""
    url = database_url or ""
    if not url:
        path = workdir / "allybot.db"
        shutil.copyfile(_migrated_sqlite(), path)
        url = f"sqlite:///{path}"
    app = yaml.safe_load((REPO_ROOT / "app.yaml").read_text())
    for section, values in config.items():
        base = app.get(section)
        both = isinstance(base, dict) and isinstance(values, dict)
        app[section] = {**base, **values} if both else values
    config_path = workdir / "app.yaml"
    config_path.write_text(yaml.safe_dump(app))
    if roster:
        allies, errors = parse_roster(roster, 2)
        assert not errors, errors
        db = Database(url)
        with db.session() as session:
            import_roster(session, allies, datetime.now(UTC))
        db.dispose()
    return url, config_path


def rows(database_url: str, sql: str) -> list[tuple[Any, ...]]:
    """Read the database the way an operator would: a SQLite file with the sqlite3 module,
    PostgreSQL with a plain SQLAlchemy connection."""
    if not database_url.startswith("sqlite"):
        db = Database(database_url)
        try:
            with db.engine.connect() as conn:
                return [tuple(row) for row in conn.execute(text(sql))]
        finally:
            db.dispose()
    path = database_url.removeprefix("sqlite:///")
    with closing(sqlite3.connect(path)) as conn:
        return list(conn.execute(sql))


@dataclass
class _Life:
    """One serve process: its port, its pid once forked, and whether it listens or has died."""

    port: int
    pid: asyncio.Future[int]
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    exited: asyncio.Event = field(default_factory=asyncio.Event)
    pidfd: int | None = None

    def watch(self, pid: int) -> None:
        """Be told when the process ends: a pidfd becomes readable then (no polling)."""
        try:
            self.pidfd = os.pidfd_open(pid)
        except ProcessLookupError:  # already gone (and reaped)
            self.exited.set()
            return
        asyncio.get_running_loop().add_reader(self.pidfd, self._ended)

    def _ended(self) -> None:
        assert self.pidfd is not None
        asyncio.get_running_loop().remove_reader(self.pidfd)
        os.close(self.pidfd)
        self.pidfd = None
        self.exited.set()


class ServeProcess:
    """One `allybot serve` at a time on the same database; `start` after `kill` restarts it.
    Replicas are several ServeProcess on one PostgreSQL database with one `secret_key` (every
    replica must open what the others sealed)."""

    def __init__(
        self,
        workdir: Path,
        database_url: str,
        config_path: Path,
        api_url: str,
        secret_key: str | None = None,
    ):
        self.workdir = workdir
        self.env = {
            **os.environ,
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": api_url,
            "DATABASE_URL": database_url,
            "ALLYBOT_CONFIG": str(config_path),
            "ALLYBOT_SECRET_KEY": secret_key or Fernet.generate_key().decode(),
            "ALLYBOT_DATA_DIR": str(workdir),
            "LOG_LEVEL": "INFO",
            # Empty, so nothing from a .env file turns on another platform or mode.
            "SLACK_APP_TOKEN": "",
            "MICROSOFT_APP_ID": "",
            "ALLYBOT_TEAMS_NO_AUTH": "",
            "PYTHONUNBUFFERED": "1",
        }
        self.current: _Life | None = None
        self.http: aiohttp.ClientSession | None = None
        self.log: list[str] = []  # every line every process wrote, for a failure's message
        self._server: asyncio.subprocess.Process | None = None
        self._server_ready = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self._lives: dict[int, _Life] = {}

    @property
    def alive(self) -> bool:
        return self.current is not None and not self.current.exited.is_set()

    @property
    def url(self) -> str:
        assert self.current is not None
        return f"http://127.0.0.1:{self.current.port}"

    async def _fork_server(self) -> asyncio.subprocess.Process:
        if self._server is None:
            self._server = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                FORK_SERVER,
                cwd=REPO_ROOT,
                env=self.env,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
            self._reader = asyncio.create_task(self._read(self._server))
        ready = asyncio.create_task(self._server_ready.wait())
        assert self._reader is not None
        await asyncio.wait({ready, self._reader}, return_when=asyncio.FIRST_COMPLETED)
        if not self._server_ready.is_set():
            out = "\n".join(self.log[-40:])
            raise AssertionError(f"the fork server did not start:\n{out}")
        return self._server

    async def _read(self, server: asyncio.subprocess.Process) -> None:
        """File the output of the fork server and of every serve."""
        assert server.stdout is not None
        async for raw in server.stdout:
            line = raw.decode(errors="replace").rstrip()
            if line == "fork server ready":
                self._server_ready.set()
            elif forked := FORKED.match(line):
                self._lives[int(forked[1])].pid.set_result(int(forked[2]))
            else:
                self.log.append(line)
                if (ready := READY.search(line)) and (serving := self._lives.get(int(ready[1]))):
                    serving.ready.set()

    async def start(self) -> None:
        """Run serve until it says it is serving."""
        assert not self.alive, "serve is already running"
        if self.http is None:
            self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        server = await self._fork_server()
        life = _Life(free_port(), asyncio.get_running_loop().create_future())
        self._lives[life.port] = life
        assert server.stdin is not None
        server.stdin.write(f"{life.port}\n".encode())
        await server.stdin.drain()
        life.watch(await asyncio.wait_for(life.pid, START_TIMEOUT))
        self.current = life
        waits = {asyncio.create_task(life.ready.wait()), asyncio.create_task(life.exited.wait())}
        await asyncio.wait(waits, timeout=START_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
        for task in waits:
            task.cancel()
        if not (life.ready.is_set() and self.alive):
            await self.kill()
            out = "\n".join(self.log[-40:])
            raise AssertionError(f"allybot serve did not start:\n{out}")

    async def kill(self) -> None:
        """SIGKILL: no handler runs, nothing is flushed or closed."""
        await self._end(signal.SIGKILL)

    async def stop(self) -> None:
        """SIGTERM, as a deployment stops it (it drains what it is sending); SIGKILL if it has
        not stopped within 15 s."""
        life = self.current
        if life is not None and not life.exited.is_set():
            with suppress(ProcessLookupError):
                os.kill(life.pid.result(), signal.SIGTERM)
            with suppress(TimeoutError):
                await asyncio.wait_for(life.exited.wait(), 15)
        await self.kill()

    async def _end(self, sig: signal.Signals) -> None:
        life, self.current = self.current, None  # dead from this line on
        if life is None:
            return
        if not life.exited.is_set():
            with suppress(ProcessLookupError):
                os.kill(life.pid.result(), sig)
            await life.exited.wait()

    async def close(self) -> None:
        await self.kill()
        if self._server is not None:
            assert self._server.stdin is not None
            self._server.stdin.close()  # the fork server's loop ends
            with suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait(), 10)
            if self._server.returncode is None:
                self._server.kill()
                await self._server.wait()
            if self._reader is not None:
                await self._reader
            self._server = None
        if self.http is not None:
            await self.http.close()
            self.http = None

    # --- Slack's side: signed requests to /slack/events ------------------------------------
    async def post(
        self, body: str, content_type: str, headers: dict[str, str] | None = None
    ) -> tuple[int, str] | None:
        """POST a signed request; None when no answer came (the process died under it)."""
        assert self.http is not None
        if not self.alive:
            return None
        all_headers = {"Content-Type": content_type, **sign(body), **(headers or {})}
        try:
            async with self.http.post(
                f"{self.url}/slack/events", data=body.encode(), headers=all_headers
            ) as resp:
                return resp.status, await resp.text()
        except (aiohttp.ClientConnectionError, TimeoutError):
            return None

    async def command(
        self, user: str, name: str, text: str, response_url: str, trigger: str
    ) -> dict[str, Any] | None:
        """A slash command; its ack's body (an ephemeral reply, or {}), None if none came."""
        body = urlencode(
            {
                "token": "legacy",
                "team_id": "T1",
                # Typed in their own DM with the bot, where most people use it (the stand-in's
                # conversations.open names that DM "D" + their id).
                "channel_id": f"D{user}",
                "user_id": user,
                "command": name,
                "text": text,
                "trigger_id": trigger,
                "response_url": response_url,
            }
        )
        answer = await self.post(body, "application/x-www-form-urlencoded")
        if answer is None or answer[0] != 200:
            return None
        raw = answer[1]
        return json.loads(raw) if raw.startswith("{") else {}

    async def press(
        self,
        user: str,
        button: dict[str, Any],
        *,
        channel: str,
        ts: str,
        ephemeral: bool,
        blocks: list[dict[str, Any]],
        response_url: str,
        trigger: str,
    ) -> bool:
        """A button press (block_actions); True once it was acknowledged."""
        payload = {
            "type": "block_actions",
            "user": {"id": user},
            "team": {"id": "T1"},
            "trigger_id": trigger,
            "response_url": response_url,
            "container": {
                "type": "message",
                "message_ts": ts,
                "channel_id": channel,
                "is_ephemeral": ephemeral,
            },
            "channel": {"id": channel},
            "message": {"ts": ts, "blocks": blocks},
            "actions": [
                # the block id says which message (outbox row) the button was in
                {"block_id": "b", **button, "type": "button", "action_ts": f"{time.time():.6f}"}
            ],
        }
        body = urlencode({"payload": json.dumps(payload)})
        answer = await self.post(body, "application/x-www-form-urlencoded")
        return answer is not None and answer[0] == 200

    async def event(self, event: dict[str, Any], event_id: str, retry: int = 0) -> bool:
        """An Events API callback (retry > 0: Slack's retry of the same event); True once it
        was acknowledged."""
        body = event_body(event, event_id)
        headers = (
            {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_error"} if retry else {}
        )
        answer = await self.post(body, "application/json", headers)
        return answer is not None and answer[0] == 200
