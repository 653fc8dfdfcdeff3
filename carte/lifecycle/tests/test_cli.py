"""`carte lifecycle show|move|board`, run in-process against the test database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.db import connections

from carte.catalogue.choices import Stage
from carte.catalogue.models import Service
from carte.cli import main
from carte.conftest import Persona
from carte.core.testing import no_writes
from carte.lifecycle.models import LifecycleEvent, SetupDecision
from carte.lifecycle.tests.conftest import World
from carte.organisations.tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _keep_test_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    # A management command run from the command line closes every connection when it
    # ends; in-process that would close the test's transaction on PostgreSQL.
    monkeypatch.setattr(connections, "close_all", lambda: None)


def carte(*argv: str) -> int:
    """Run `carte ARGV...` in-process; the exit status, as the shell would see it."""
    try:
        return main(list(argv))
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, f"expected one line, got {lines!r}"
    return lines[0]


def decision(world: World) -> dict[str, Any]:
    return {
        "delivering_pmos": [world.pmo.pk],
        "owner": world.owner_person.pk,
        "managers": [{"pmo": world.pmo.pk, "person": world.manager_person.pk}],
        "sourcing": "in_house",
        "strategy_fit": "Fits objective 2.",
        "capacity": "Two analysts.",
        "other_services": "Reporting, gate reviews.",
        "stakeholders": "Programme directors.",
        "scope": "Programmes over 1 M EUR.",
    }


def stage_of(world: World) -> str:
    world.service.refresh_from_db()
    return world.service.stage


def test_show_prints_the_stage_the_checklist_and_the_timeline(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.walk(Stage.DESIGN)
    assert carte("lifecycle", "show", "rep", "--org", "acme", "--as", world.staff.user.email) == 0
    out = capsys.readouterr().out
    assert "REP  Portfolio reporting" in out
    assert "Stage: Design since" in out
    assert "Start a pilot -> Pilot (pilot; " in out and "5 missing)  [not you]" in out
    assert "  [ ] No success criteria are written yet\n      Add the success criteria" in out
    assert "Timeline (newest first):" in out
    assert out.index("Design started") < out.index("Set-up approved")


def test_move_acts_as_the_member_with_the_api_payload(
    world: World, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    director = world.director.user.email
    status = carte(
        "lifecycle",
        "move",
        "REP",
        "approve",
        "--org",
        "acme",
        "--as",
        director,
        "--note",
        "Agreed at the board.",
        "--payload-json",
        json.dumps(decision(world)),
    )
    assert status == 0, capsys.readouterr().err
    assert capsys.readouterr().out.strip() == (
        "REP: Proposed -> Approved for set-up (Set-up approved)."
    )
    assert stage_of(world) == Stage.APPROVED_FOR_SETUP
    event = LifecycleEvent.objects.get(service=world.service, kind="transition")
    assert (event.actor, event.note) == (world.director.user, "Agreed at the board.")
    assert SetupDecision.objects.get(service=world.service).owner == world.owner_person

    payload = tmp_path / "design.json"
    payload.write_text(json.dumps({"template": world.setup_template.pk}), encoding="utf-8")
    manager = world.manager.user.email
    assert carte(
        "lifecycle", "move", "REP", "design", "--org", "acme", "--as", manager,
        "--payload-json", str(payload), "--expected-from", "approved_for_setup",
    ) == 0  # fmt: skip
    assert stage_of(world) == Stage.DESIGN
    assert world.service.task_lists.get().tasks.count() == 3


def test_board_lists_services_by_stage(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.walk(Stage.PILOT)
    assert carte("lifecycle", "board", "--org", "acme") == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "Proposed (0)"
    pilot = lines.index("Pilot (1)")
    assert lines[pilot + 1].split() == ["REP", "Portfolio", "reporting", "0", "d"]
    assert "Rejected (0)" in lines


def refused(capsys: pytest.CaptureFixture[str], world: World, *argv: str) -> str:
    with no_writes(world.service):
        assert carte("lifecycle", *argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    return one_line(captured.err)


def test_a_refused_move_exits_2_with_one_line_and_writes_nothing(
    world: World, capsys: pytest.CaptureFixture[str], other_org: Any, outsider: Persona
) -> None:
    staff, director = world.staff.user.email, world.director.user.email
    base = ("move", "REP")
    org = ("--org", "acme")
    line = refused(capsys, world, *base, "defer", *org, "--as", staff, "--note", "No.")
    assert "not allowed" in line
    line = refused(capsys, world, *base, "defer", *org, "--as", director)
    assert "note" in line  # a deferral needs a reason
    Service.objects.filter(pk=world.service.pk).update(outcome="")
    payload = json.dumps(decision(world))
    line = refused(
        capsys, world, *base, "approve", *org, "--as", director, "--payload-json", payload
    )
    assert "not possible yet: the proposal does not state the intended outcome" in line
    Service.objects.filter(pk=world.service.pk).update(outcome="Leaders see status.")
    theirs = PersonFactory(organisation=other_org)
    bad = json.dumps(decision(world) | {"owner": theirs.pk})
    line = refused(capsys, world, *base, "approve", *org, "--as", director, "--payload-json", bad)
    assert "owner" in line
    assert "sourcing" in refused(
        capsys, world, *base, "approve", *org, "--as", director,
        "--payload-json", json.dumps(decision(world) | {"sourcing": 3}),
    )  # fmt: skip
    assert "JSON" in refused(
        capsys, world, *base, "approve", *org, "--as", director, "--payload-json", "{nope"
    )
    assert "Cannot read" in refused(
        capsys, world, *base, "approve", *org, "--as", director, "--payload-json", "/no/such"
    )
    assert "Unknown stage or move 'launch'" in refused(
        capsys, world, *base, "launch", *org, "--as", director
    )
    assert "cannot move to Running" in refused(
        capsys, world, *base, "running", *org, "--as", director
    )
    assert "No service 'NOPE'" in refused(
        capsys, world, "move", "NOPE", "defer", *org, "--as", director
    )
    assert "not a member of acme" in refused(
        capsys, world, *base, "defer", *org, "--as", outsider.user.email
    )
    assert "No active login" in refused(
        capsys, world, *base, "defer", *org, "--as", "nobody@acme.example"
    )
    assert "No organisation" in refused(
        capsys, world, *base, "defer", "--org", "nowhere", "--as", director
    )
    assert stage_of(world) == Stage.PROPOSED
    assert not LifecycleEvent.objects.filter(service=world.service).exists()


def test_the_usage_names_the_lifecycle_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert carte("--help") == 0
    assert "lifecycle move SERVICE TO" in capsys.readouterr().out
