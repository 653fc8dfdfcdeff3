"""`carte capacity import FILE --org SLUG [--dry-run]` and `carte capacity show --org SLUG
...`, run in-process through `carte.cli.main` against the test database: a workbook of
the four kinds written through the services (audited, recorded as a job), all or
nothing with a report by sheet, row and column; the grid in the terminal; one clear line
and exit code 2 on bad input."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import connections
from django.template.loader import render_to_string
from openpyxl import Workbook  # type: ignore[import-untyped]

from carte.capacity.choices import AllocationKind, ExceptionReason
from carte.capacity.models import Allocation, Assessment, Availability, AvailabilityException
from carte.capacity.tests.factories import (
    AssessmentFactory,
    AvailabilityFactory,
    CompetenceFactory,
)
from carte.catalogue.choices import Stage
from carte.catalogue.models import Service
from carte.catalogue.tests.factories import CompetenceNeedFactory, ServiceFactory
from carte.cli import main
from carte.core.models import AuditEntry, Job, JobStatus
from carte.organisations.models import Competence, Organisation, Person
from carte.organisations.tests.factories import PersonFactory

HEADERS = {
    "Assessments": ["person", "competence", "level", "assessed on", "assessed by", "evidence"],
    "Availability": ["person", "contracted FTE", "from", "until"],
    "Exceptions": ["person", "reason", "from month", "to month", "FTE available", "note"],
    "Allocations": [
        "person",
        "service",
        "work",
        "kind",
        "competence",
        "FTE",
        "from month",
        "to month",
        "note",
    ],
}


@pytest.fixture(autouse=True)
def _keep_test_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    # A command run from the command line closes every connection when it ends;
    # in-process that would close the test's transaction on PostgreSQL.
    monkeypatch.setattr(connections, "close_all", lambda: None)


def carte(*argv: str) -> int:
    """Run `carte ARGV...` in-process; the exit status, as the shell would see it."""
    try:
        return main(list(argv))
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1


def workbook(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        sheet.append(HEADERS[title])
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


class World:
    def __init__(self, org: Organisation) -> None:
        self.org = org
        self.finance: Competence = CompetenceFactory(organisation=org, name="Financial analysis")
        self.planning: Competence = CompetenceFactory(organisation=org, name="Planning")
        self.ann: Person = PersonFactory(organisation=org, name="Ann Lee", email="ann@acme.test")
        self.bob: Person = PersonFactory(organisation=org, name="Bob Stone", email="bob@acme.test")
        self.run: Service = ServiceFactory(
            organisation=org, code="RUN", name="Month-end reporting", stage=Stage.RUNNING
        )
        CompetenceNeedFactory(
            service=self.run, competence=self.finance, level=2, fte=Decimal("1.50")
        )


@pytest.fixture
def world(org: Organisation) -> World:
    return World(org)


def good_sheets() -> dict[str, list[list[Any]]]:
    return {
        "Assessments": [
            [
                "ann@acme.test",
                "Financial analysis",
                "Expert",
                dt.datetime(2026, 11, 2),
                "bob@acme.test",
                "Ran the budget review",
            ],
            ["Bob Stone", "planning", 3, "2026-10-01", None, None],
        ],
        "Availability": [
            ["ann@acme.test", 0.8, dt.datetime(2026, 1, 1), None],
            ["BOB@acme.test", 1, None, "2027-12-31"],
        ],
        "Exceptions": [
            ["ann@acme.test", "Leave", "2027-02", dt.datetime(2027, 3, 15), 0, "Holiday"],
        ],
        "Allocations": [
            [
                "ann@acme.test",
                "RUN",
                None,
                "Service",
                "Financial analysis",
                0.5,
                "2027-01",
                "2027-06",
                "Month-end",
            ],
            [
                "bob@acme.test",
                None,
                "Project Atlas",
                "Project",
                None,
                0.2,
                "2027-01",
                "2027-03",
                None,
            ],
        ],
    }


def counts(org: Organisation) -> tuple[int, int, int, int]:
    return tuple(  # type: ignore[return-value]
        model.objects.filter(organisation=org).count()
        for model in (Assessment, Availability, AvailabilityException, Allocation)
    )


# ---------------------------------------------------------------- import


def test_it_imports_the_four_kinds_through_the_services(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = workbook(tmp_path / "capacity.xlsx", good_sheets())
    assert carte("capacity", "import", str(path), "--org", "acme") == 0
    out = capsys.readouterr().out
    assert "Assessments: 2 rows read, recorded 2." in out
    assert "Allocations: 2 rows read, recorded 2." in out
    assert "Imported." in out
    assert counts(world.org) == (2, 2, 1, 2)

    ann_finance = Assessment.objects.get(person=world.ann)
    assert ann_finance.competence == world.finance
    assert ann_finance.level == 4  # "Expert"
    assert ann_finance.assessed_on == dt.date(2026, 11, 2)
    assert ann_finance.assessed_by == world.bob
    assert ann_finance.evidence == "Ran the budget review"
    bob_planning = Assessment.objects.get(person=world.bob)  # named by name
    assert (bob_planning.competence, bob_planning.level) == (world.planning, 3)
    contract = Availability.objects.get(person=world.ann)
    assert contract.contracted_fte == Decimal("0.80")
    assert contract.starts_on == dt.date(2026, 1, 1)
    assert Availability.objects.get(person=world.bob).leaves_on == dt.date(2027, 12, 31)
    leave = AvailabilityException.objects.get(person=world.ann)
    assert leave.reason == ExceptionReason.LEAVE
    assert (leave.starts_on, leave.ends_on) == (dt.date(2027, 2, 1), dt.date(2027, 3, 1))
    assert leave.available_fte == Decimal("0.00")
    on_run = Allocation.objects.get(person=world.ann)
    assert (on_run.service, on_run.competence, on_run.fte) == (
        world.run,
        world.finance,
        Decimal("0.50"),
    )
    assert (on_run.starts_on, on_run.ends_on) == (dt.date(2027, 1, 1), dt.date(2027, 6, 1))
    project = Allocation.objects.get(person=world.bob)
    assert (project.kind, project.work, project.service) == (
        AllocationKind.PROJECT,
        "Project Atlas",
        None,
    )
    # Every row audited, as the system of the organisation; the import is a job.
    for model in (Assessment, Availability, AvailabilityException, Allocation):
        for row in model.objects.filter(organisation=world.org):
            assert AuditEntry.objects.filter(
                organisation=world.org,
                object_id=row.pk,
                content_type__model=model._meta.model_name,
            ).exists()
    job = Job.objects.get(organisation=world.org, kind="capacity.import")
    assert job.status == JobStatus.DONE
    assert job.report is not None and job.report["written"]["Exceptions"] == 1
    # The job page shows the report with the kind's template.
    shown = render_to_string("capacity/_import_job_report.html", {"report": job.report})
    assert "Exceptions: 1 row read, 1 recorded" in shown


def test_a_bad_row_in_each_sheet_writes_nothing_and_says_where(
    world: World, other_org: Organisation, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    PersonFactory(organisation=other_org, name="Gil Globex", email="gil@globex.test")
    sheets = good_sheets()
    sheets["Assessments"].append(["ann@acme.test", "Planning", 7, "2026-10-01", None, None])
    sheets["Availability"][1][1] = 1.5  # Bob, row 3
    sheets["Exceptions"].append(["bob@acme.test", "Leave", "2027-05", "2027-04", 0, None])
    sheets["Allocations"].append(
        ["gil@globex.test", None, "Globex work", "Project", None, 0.5, "2027-01", "2027-02", None]
    )
    path = workbook(tmp_path / "bad.xlsx", sheets)

    assert carte("capacity", "import", str(path), "--org", "acme") == 2
    err = capsys.readouterr().err
    assert "Assessments, row 4, level: Choose a level of the framework, 1 to 5" in err
    assert "Availability, row 3, contracted FTE: FTE cannot be above 1" in err
    assert "Exceptions, row 3, to month: The end comes before the start." in err
    # Another organisation's person is not found here: a problem of its row.
    assert "Allocations, row 4, person: No person 'gil@globex.test' in this organisation." in err
    assert "Import refused: 4 problem(s); nothing was recorded." in err
    assert counts(world.org) == (0, 0, 0, 0)
    assert counts(other_org) == (0, 0, 0, 0)
    job = Job.objects.get(organisation=world.org, kind="capacity.import")
    assert job.status == JobStatus.FAILED
    assert job.report is not None and job.report["total_problems"] == 4
    shown = render_to_string("capacity/_import_job_report.html", {"report": job.report})
    assert "4 problems: nothing was recorded" in shown and "contracted FTE" in shown


def test_a_duplicate_within_the_file_is_refused_as_one_in_the_database(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    row = ["ann@acme.test", "Planning", 3, "2026-10-01", None, None]
    path = workbook(tmp_path / "twice.xlsx", {"Assessments": [row, list(row)]})
    assert carte("capacity", "import", str(path), "--org", "acme") == 2
    err = capsys.readouterr().err
    assert "Assessments, row 3, assessed on: This person already has an assessment" in err
    assert Assessment.objects.count() == 0


def test_a_dry_run_checks_and_writes_nothing(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = workbook(tmp_path / "capacity.xlsx", good_sheets())
    assert carte("capacity", "import", str(path), "--org", "acme", "--dry-run") == 0
    out = capsys.readouterr().out
    assert "Availability: 2 rows read, would record 2." in out
    assert "Dry run: nothing was written." in out
    assert counts(world.org) == (0, 0, 0, 0)
    assert not AuditEntry.objects.filter(
        organisation=world.org, content_type__app_label="capacity"
    ).exists()


def test_import_refuses_a_bad_organisation_or_file_in_one_line(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = workbook(tmp_path / "capacity.xlsx", good_sheets())
    for argv, message in (
        ([str(path), "--org", "nowhere"], "No organisation 'nowhere'."),
        ([str(tmp_path / "missing.xlsx"), "--org", "acme"], "No file"),
    ):
        assert carte("capacity", "import", *argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0]
    assert counts(world.org) == (0, 0, 0, 0)


def test_import_names_an_unknown_sheet_and_a_wrong_header(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = Workbook()
    book.active.title = "Assesments"
    book.active.append(HEADERS["Assessments"])
    sheet = book.create_sheet("Allocations")
    sheet.append(["person", "FTE", "from month"])
    path = tmp_path / "wrong.xlsx"
    book.save(path)
    assert carte("capacity", "import", str(path), "--org", "acme") == 2
    err = capsys.readouterr().err
    assert "Assesments: Unknown sheet" in err
    assert "Allocations, row 1, to month: This column is missing." in err


# ---------------------------------------------------------------- show


@pytest.fixture
def staffed(world: World) -> World:
    """Financial analysis: 1.5 FTE needed at level 2 by RUN; Ann (level 3, full time) is
    the only one able: 0.5 short every month."""
    AvailabilityFactory(person=world.ann, contracted_fte=Decimal("1.00"))
    AssessmentFactory(person=world.ann, competence=world.finance, level=3)
    return world


def test_show_prints_the_grid_with_its_shortfall(
    staffed: World, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["capacity", "show", "--org", "acme", "--from", "2027-01", "--to", "2027-03"]
    assert carte(*argv) == 0
    out = capsys.readouterr().out
    assert "Jan 2027" in out and "Mar 2027" in out and "Apr 2027" not in out
    finance = next(line for line in out.splitlines() if "Financial analysis" in line)
    assert finance.count("short 0.5") == 3
    planning = next(line for line in out.splitlines() if "Planning" in line)
    assert "short" not in planning

    assert carte(*argv, "--competence", "financial analysis", "--detail") == 0
    out = capsys.readouterr().out
    assert "Planning" not in out
    assert "1.5 / 1" in out  # needed / available, under each cell


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--from", "2027-13"], "Give a month as YYYY-MM, such as 2027-01."),
        (["--from", "2027-05", "--to", "2027-01"], "The last month comes before the first."),
        (["--competence", "Juggling"], "No competence 'Juggling' in Acme Group."),
        (["--pmo", "Nowhere"], "No PMO 'Nowhere' in Acme Group."),
    ],
)
def test_show_refuses_bad_arguments_in_one_line(
    staffed: World, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    assert carte("capacity", "show", "--org", "acme", *extra) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_show_refuses_an_unknown_organisation(
    staffed: World, capsys: pytest.CaptureFixture[str]
) -> None:
    assert carte("capacity", "show", "--org", "globex") == 2
    assert "No organisation 'globex'." in capsys.readouterr().err


def test_a_formula_and_a_refused_row_are_reported_together(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheets = good_sheets()
    sheets["Exceptions"][0][4] = "=1-1"
    sheets["Assessments"][1][2] = "Wizard"
    path = workbook(tmp_path / "formula.xlsx", sheets)
    assert carte("capacity", "import", str(path), "--org", "acme", "--dry-run") == 2
    err = capsys.readouterr().err
    assert "Exceptions, row 2, FTE available: A formula is not accepted" in err
    assert "Assessments, row 3, level: Choose a level of the framework" in err
    assert counts(world.org) == (0, 0, 0, 0)
