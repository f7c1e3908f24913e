"""`python -m bot ARGS` as a process of its own, for the command-line tests, without paying for
the imports each time.

Importing the bot takes one to two seconds and the command itself a few milliseconds, and the
suite runs over a hundred commands. So, as tests/serve_process.py does for `allybot serve`, each
command is forked from a parent that has done the imports once (as gunicorn's preload does),
and runs `bot/__main__.py` there with the test's arguments, environment, working directory and
standard streams. It is still a process of its own: it reads its settings from the environment
it was given (nothing in bot/, handlers/ or storage/ reads the environment at import), writes to
its own stdout and stderr, and its exit code is what `sys.exit` or an uncaught exception made it.

What a fork cannot show, a bot that fails to import or `python -m bot` from a fresh interpreter,
is still run for real: tests/test_cli.py's newcomer session and tests/test_apply.py's killed
shell start `python -m bot` with subprocess.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path

from bot.config import REPO_ROOT

# The parent: imports what the commands need, then forks a command for each request that comes
# over the socket (its file number is argv[1]): a JSON {args, env, cwd} with the command's
# stdin, stdout and stderr as three passed file descriptors. It answers {"pid"} at once and
# {"code"} (as subprocess reports it: -N for a signal) when the command has ended. One command at
# a time; it ends when the test process's end of the socket closes, and the kernel ends it if
# the test process dies.
FORK_SERVER = """
import ctypes, json, os, runpy, signal, socket, sys, traceback
import bot.cli, bot.serve, bot.platforms.shell.console, handlers.allies
ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: die with the test process
sys.path[0] = os.getcwd()  # the repository, whatever directory a command is run in
channel = socket.socket(fileno=int(sys.argv[1]))
while True:
    try:
        raw, fds, _, _ = socket.recv_fds(channel, 1 << 20, 3)
    except ConnectionError:
        break
    if not raw:
        break
    request = json.loads(raw)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        channel.close()
        for n, fd in enumerate(fds):
            os.dup2(fd, n)
            os.close(fd)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        sys.argv = ["-m", *request["args"]]
        code = 0
        try:
            runpy.run_module("bot", run_name="__main__", alter_sys=True)
        except SystemExit as done:  # as the interpreter turns sys.exit's argument into a code
            if done.code is None:
                code = 0
            elif isinstance(done.code, int):
                code = done.code
            else:
                print(done.code, file=sys.stderr)
                code = 1
        except BaseException:
            traceback.print_exc()
            code = 1
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                code = code or 120
        os._exit(code)
    for fd in fds:
        os.close(fd)
    channel.send(json.dumps({"pid": pid}).encode())
    _, status = os.waitpid(pid, 0)
    channel.send(json.dumps({"code": os.waitstatus_to_exitcode(status)}).encode())
"""


class _ForkServer:
    def __init__(self) -> None:
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.channel = mine
        self.process = subprocess.Popen(
            [sys.executable, "-c", FORK_SERVER, str(theirs.fileno())],
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            pass_fds=[theirs.fileno()],
        )
        theirs.close()

    def run(
        self,
        args: list[str],
        env: Mapping[str, str],
        cwd: Path,
        stdin: int,
        out: int,
        err: int,
        timeout: float,
    ) -> int:
        request = json.dumps({"args": args, "env": dict(env), "cwd": str(cwd)}).encode()
        self.channel.settimeout(timeout)
        socket.send_fds(self.channel, [request], [stdin, out, err])
        pid = json.loads(self.channel.recv(1 << 16))["pid"]
        try:
            answer = self.channel.recv(1 << 16)
        except TimeoutError:
            os.kill(pid, signal.SIGKILL)
            self.channel.recv(1 << 16)  # its code, now that it is dead
            raise
        return int(json.loads(answer)["code"])

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        """Its loop ends when its end of the socket reads nothing more."""
        self.channel.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


_server: list[_ForkServer] = []
_turn = threading.Lock()  # one command at a time per test process


@atexit.register
def _close() -> None:
    for server in _server:
        server.close()


def run(
    args: list[str],
    *,
    cwd: Path = REPO_ROOT,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    timeout: float = 120,
    check: bool = False,
) -> subprocess.CompletedProcess[str]:
    """`python -m bot *args` with this environment (default: the test process's), in `cwd`, fed
    `input` on stdin (else an empty file); what it printed and its exit code, as subprocess.run with
    `capture_output=True, text=True` returns them."""
    with (
        tempfile.TemporaryFile() as stdin,
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        _turn,
    ):
        stdin.write((input or "").encode())
        stdin.seek(0)
        if not (_server and _server[0].alive):
            _server[:] = [_ForkServer()]
        try:
            code = _server[0].run(
                args,
                os.environ if env is None else env,
                cwd,
                stdin.fileno(),
                out.fileno(),
                err.fileno(),
                timeout,
            )
        except TimeoutError:
            raise subprocess.TimeoutExpired(["python", "-m", "bot", *args], timeout) from None
        out.seek(0)
        err.seek(0)
        result = subprocess.CompletedProcess(
            ["python", "-m", "bot", *args],
            code,
            _text(out.read()),
            _text(err.read()),
        )
    if check:
        result.check_returncode()
    return result


def _text(raw: bytes) -> str:
    """Decoded with universal newlines, as subprocess.run(text=True) does."""
    return raw.decode().replace("\r\n", "\n").replace("\r", "\n")
