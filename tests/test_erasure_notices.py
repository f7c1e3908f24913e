"""What the coordinators hear when someone erases their data (/allyprivacy delete): an ally
leaving the rota, by the name they knew, once; an open application withdrawn, in the same words
as /allyapply withdraw; and about anyone else, nothing. Shell on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlmodel import select

from storage.models import Application, Person
from tests.test_ally_lifecycle import apply_as

ERASE = ("/allyprivacy delete", "/press Yes, delete everything")
ERASED = "allybot no longer holds anything about you"
ALI_LEFT = (
    "Ali has left the ally rota and asked for their data to be erased, so allybot no longer "
    "holds their profile. You may want to update any list of allies you keep elsewhere."
)
WITHDRAWN = "An application to become an ally has been withdrawn by the applicant."


def to_coordinators(out: str) -> list[str]:
    """What the coordinators were shown: their channel and Casey's DMs."""
    return [
        line
        for line in out.splitlines()
        if line.startswith(("[bot -> #coordinators] ", "[bot -> casey, "))
    ]


def test_an_ally_erasing_their_data_is_told_to_the_coordinators_once_by_name(sh):
    """Ali holds an offer for Eve's request. Erasing: the offer goes on to the next ally, and
    the coordinators hear that Ali left the rota, by name, with no word about requests."""
    sh("/as eve", "/findally", "/press Talk to an ally", "/press Any ally")
    out = sh("/as ali", *ERASE)
    assert ERASED in out
    assert to_coordinators(out) == [
        f"[bot -> #coordinators] {ALI_LEFT}",
        f"[bot -> casey, DM] {ALI_LEFT}",
    ]
    for line in to_coordinators(out):
        assert "request" not in line.lower() and "Eve" not in line
    # The name was told, not kept: no one by that name is left to tell about again.
    with sh.bot.db.session() as session:
        assert not session.exec(select(Person).where(Person.display_name == "Ali")).all()
    assert to_coordinators(sh("/as ali", *ERASE)) == []  # a second time, a new nobody


def test_someone_who_is_not_an_ally_erasing_tells_nobody(sh):
    """Eve has a request waiting; Bo stepped down before (the coordinators heard then)."""
    sh("/as eve", "/findally", "/press Talk to an ally", "/press Any ally")
    out = sh(*ERASE)
    assert ERASED in out and to_coordinators(out) == []
    told = sh("/as bo", "/allystepdown", "/press Yes, step down")
    assert any("Bo has stepped down as an ally." in line for line in to_coordinators(told))
    out = sh(*ERASE)
    assert ERASED in out and to_coordinators(out) == []


def test_a_pending_application_erased_is_withdrawn_as_the_applicant_would(sh):
    """The coordinators hear the very words a withdrawal gives, and nothing of the erasure."""
    apply_as(sh)
    out = sh("/as finn", *ERASE)
    assert ERASED in out
    assert to_coordinators(out) == [
        f"[bot -> #coordinators] {WITHDRAWN}",
        f"[bot -> casey, DM] {WITHDRAWN}",
    ]
    with sh.bot.db.session() as session:
        assert session.exec(select(Application)).all() == []
    # The same as /allyapply withdraw says it (another applicant, for comparison).
    apply_as(sh, "gus")
    assert to_coordinators(sh("/as gus", "/allyapply withdraw")) == to_coordinators(out)
