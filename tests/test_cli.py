"""The command line as a newcomer uses it: a scripted shell session on the demo organisation."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from alembic.script import ScriptDirectory

from storage.db import Database
from tests import cli_process

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = """\
/who
/findally I could use someone to talk to
/press Talk to an ally
/press Any ally
/as ali
/press Accept
/as nobody
/wait 5d
"""


def run(
    args: list[str], tmp_path: Path, stdin: str = "", fresh: bool = False
) -> subprocess.CompletedProcess:
    """`python -m bot *args`, forked from preloaded imports (tests/cli_process.py); `fresh`: in a
    new interpreter, as a newcomer starts it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_"))}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.db'}"
    env["ALLYBOT_DATA_DIR"] = str(tmp_path / "data")
    env.pop("ALLYBOT_CONFIG", None)
    if not fresh:
        return cli_process.run(args, cwd=ROOT, env=env, input=stdin)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        text=True,
        capture_output=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )


def test_scripted_demo_shell_session(tmp_path):
    result = run(["shell", "--demo"], tmp_path, SCRIPT, fresh=True)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("[shell] allybot shell for Example Co. You are eve.")
    assert "[shell] * eve      Engineering  employee" in out
    assert "[shell]   casey    People       coordinator" in out
    assert "[shell]   dee      Engineering  ally, away, 0/1 open" in out
    assert "[bot -> ali, DM] A colleague would like to talk." in out
    assert "[bot -> eve+ali, group DM] Eve, meet Ali." in out
    assert "[shell] No persona called 'nobody'. /who lists them." in out
    assert "[shell] 5d later:" in out
    assert "Traceback" not in result.stderr
    assert (tmp_path / "data" / "demo.db").exists()  # --demo never touches DATABASE_URL
    assert not (tmp_path / "cli.db").exists()


def test_db_upgrade_and_demo_seed_any_database(tmp_path):
    result = run(["db", "upgrade"], tmp_path)
    head = ScriptDirectory.from_config(Database("sqlite://").alembic_config()).get_current_head()
    assert result.returncode == 0 and f"database at revision {head}" in result.stdout
    result = run(["demo"], tmp_path)
    assert result.returncode == 0 and "demo organisation seeded: 10 people" in result.stdout
    result = run(["shell"], tmp_path, "/as hana\n/resources\n")
    assert "[bot -> hana, only you] Support for you (United States)" in result.stdout


def test_shell_on_an_empty_database_explains_how_to_get_personas(tmp_path):
    result = run(["shell"], tmp_path, "/findally\n")
    assert result.returncode == 0
    assert "No personas yet" in result.stdout
    assert "There is nobody to act as" in result.stdout


def test_a_wrong_key_stops_everything_and_rotate_key_moves_to_a_new_one(tmp_path):
    from cryptography.fernet import Fernet

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()

    def with_key(key: str, args: list[str], stdin: str = "") -> subprocess.CompletedProcess:
        os.environ["ALLYBOT_SECRET_KEY"] = key
        try:
            return run(args, tmp_path, stdin)
        finally:
            del os.environ["ALLYBOT_SECRET_KEY"]

    assert with_key(old, ["demo"]).returncode == 0  # the demo organisation, in cli.db
    started = with_key(old, ["shell"], "apply\n/press I understand, let's start\nEve Example\n")
    assert started.returncode == 0, started.stderr
    assert "What is your job title?" in started.stdout  # her name is saved, sealed

    for args in (["check"], ["shell"], ["serve"]):  # the wrong key: nothing starts
        wrong = with_key(new, args, "apply\n")
        assert wrong.returncode != 0
        assert "ALLYBOT_SECRET_KEY cannot open what this database holds" in wrong.stderr
        assert "rotate-key" in wrong.stderr and "Traceback" not in wrong.stderr

    refused = with_key(new, ["rotate-key"])
    assert refused.returncode == 1 and "new,old" in refused.stderr
    rotated = with_key(f"{new},{old}", ["rotate-key"])
    assert rotated.returncode == 0, rotated.stderr
    assert "re-sealed under the first key: 1 conversation" in rotated.stdout

    assert with_key(new, ["check"]).returncode == 0  # the new key alone now fits
    resumed = with_key(new, ["shell"], "status\n")
    assert "You are on question 2 of 8 (Job title)" in resumed.stdout  # nothing was lost


def test_allybot_audit_lists_who_did_what_by_id_and_never_who_asked(tmp_path):
    script = (
        "/findally I am struggling\n/press Talk to an ally\n/press Any ally\n"
        "/as casey\n/allyadmin applications\n"
    )
    assert run(["demo"], tmp_path).returncode == 0
    assert run(["shell"], tmp_path, script).returncode == 0
    result = run(["audit", "--days", "7"], tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    viewing = [line for line in lines if "allyadmin" in line]
    assert viewing and "person " in viewing[-1] and viewing[-1].endswith("ok")
    support = [line for line in lines if "findally" in line]
    assert support and all("nobody named" in line for line in support)
    assert "struggling" not in result.stdout and "Eve" not in result.stdout
    assert run(["audit", "--days", "0"], tmp_path).returncode == 1
