"""Training grace: an ally whose refresher is overdue by more than allies.training_grace_days
gets no new requests until it is recorded, is told why (once, and when they try to be
available), and the coordinators' roster shows it. SQLite and PostgreSQL.

START is Monday 2 March 2026 10:00. In the demo, Dee (away, topic neurodiversity) was trained on
12 Sep 2024: renewal was due on 12 Sep 2025, so Dee is far past the 30-day grace; Ali was
trained on 20 Jan 2026.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from bot.config import REPO_ROOT, load_app_config
from handlers.yamlfile import ProblemsFound
from storage.models import Offer, Person, SupportRequest
from tests.conftest import ShellDriver

OVERDUE = "Your ally refresher was due on {date} and is now more than 30 days overdue"
STOPPED = "no new requests will reach you"


def offered_to(sh: ShellDriver) -> list[str]:
    with sh.bot.db.session() as session:
        offers = session.exec(select(Offer, Person).join(Person, Person.id == Offer.ally_id))
        return [person.platform_user_id for _, person in offers]


def dms(out: str, who: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith(f"[bot -> {who}, DM]")]


def test_an_ally_past_the_grace_gets_no_offer_and_is_told_why_when_trying(sh):
    out = sh("/as dee", "/allystatus available")
    first = out.splitlines()[1]  # after "[shell] You are now dee."
    assert first.startswith("[bot -> dee, only you] " + OVERDUE.format(date="12 Sep 2025"))
    assert "no new requests will reach you until it is recorded" in first

    out = sh("/as eve", "/findally", "/press Talk to an ally", "/press neurodiversity")
    assert "[bot -> dee" not in out
    assert offered_to(sh) == ["ali"]  # the next in line, without the topic

    out = sh("/as casey", "/allyadmin roster")
    assert (
        "Dee (Engineering) · active · trained 12 Sep 2024, refresher overdue: no new requests · "
        "0 of 1 conversations open"
    ) in out
    assert "Ali (Engineering) · active · trained 20 Jan 2026 ·" in out  # others as before


def test_recording_the_refresher_lifts_it_and_offers_the_waiting_request(sh):
    for ally in ("ali", "bo", "cam", "eli"):  # only Dee is left, and she is overdue
        sh(f"/as {ally}", "/allystatus away")
    sh("/as dee", "/allystatus available")
    out = sh("/as eve", "/findally", "/press Talk to an ally", "/press neurodiversity")
    assert "No ally is free right now" in out and offered_to(sh) == []

    out = sh("/as casey", "/allyadmin trained dee")
    assert "Training on 02 Mar 2026 recorded for Dee." in out
    assert dms(out, "dee")[0].startswith("[bot -> dee, DM] A colleague would like to talk.")
    assert offered_to(sh) == ["dee"]
    assert "[bot -> eve, DM] An ally has become free" in out
    out = sh("/allyadmin roster")
    assert "Dee (Engineering) · active · trained 02 Mar 2026 · 0 of 1" in out


def test_the_ally_is_told_once_on_the_morning_after_the_grace_runs_out(sh):
    # Ali's renewal was due on 1 Feb 2026; the grace runs to 3 March, so 4 March is the first
    # day without new requests.
    sh("/as casey", "/allyadmin trained ali 2025-02-01")
    out = sh("/as eve", "/findally", "/press Talk to an ally", "/press stress")
    assert offered_to(sh) == ["ali"]  # 29 days overdue: still inside the grace
    sh("/press Cancel my request")

    out = sh("/wait 1d")  # Tuesday 3 March 10:00
    assert not [line for line in dms(out, "ali") if STOPPED in line]
    out = sh("/wait 1d")  # Wednesday 4 March 10:00
    told = [line for line in dms(out, "ali") if STOPPED in line]
    assert told == [
        "[bot -> ali, DM] " + OVERDUE.format(date="01 Feb 2026") + ", so no new "
        "requests will reach you until it is recorded. Conversations you already "
        "have stay open. Ask a coordinator about the next session: once they record "
        "it, requests reach you again."
    ]
    out = sh("/as gus", "/findally", "/press Talk to an ally", "/press stress")
    assert offered_to(sh)[-1] == "eli"  # the other stress ally; Ali is not asked

    out = sh("/wait 10d")  # the daily job runs every night: still only once
    assert not [line for line in dms(out, "ali") if STOPPED in line]


def test_dee_past_the_line_from_the_start_is_told_once(sh):
    out = sh("/wait 14d")
    told = [line for line in dms(out, "dee") if STOPPED in line]
    assert len(told) == 1
    assert told[0].startswith("[bot -> dee, DM] " + OVERDUE.format(date="12 Sep 2025"))


def test_a_grace_of_zero_stops_offers_the_day_after_renewal(db):
    from bot.config import Allies
    from tests.conftest import make_bot

    sh = ShellDriver(make_bot(db, allies=Allies(training_grace_days=0)))
    sh("/as casey", "/allyadmin trained ali 2025-03-01")  # renewal due on 1 March 2026
    sh("/as eve", "/findally", "/press Talk to an ally", "/press stress")
    assert "ali" not in offered_to(sh) and offered_to(sh) == ["eli"]
    with sh.bot.db.session() as session:
        assert session.exec(select(SupportRequest)).one().status == "offering"


@pytest.mark.parametrize("value", ["-1", "366", "soon"])
def test_a_bad_grace_setting_is_reported_at_its_line(tmp_path: Path, value):
    text = (REPO_ROOT / "app.yaml").read_text(encoding="utf-8")
    assert "training_grace_days: 30" in text
    bad = text.replace("training_grace_days: 30", f"training_grace_days: {value}")
    path = tmp_path / "app.yaml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(ProblemsFound) as caught:
        load_app_config(path)
    [problem] = caught.value.problems
    line = next(n for n, t in enumerate(bad.splitlines(), 1) if "training_grace_days" in t)
    assert (problem.file, problem.line) == (str(path), line)
    assert problem.message.startswith("allies.training_grace_days:")


def test_the_grace_defaults_to_30_days():
    assert load_app_config(REPO_ROOT / "app.yaml").allies.training_grace_days == 30
