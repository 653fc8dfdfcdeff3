"""Malformed and hostile files (`catalogue.tests.hostile`) refused by the import of KPI
values, by the function, the API, the page and the command: a clear refusal, nothing
recorded, and memory bounded by what the file holds, not by what it claims. The reader
and its refusals are the catalogue import's (`core.tabular`)."""

from __future__ import annotations

import datetime as dt
import html
import io
import tracemalloc
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from carte.catalogue.tests.hostile import Hostile, spreadsheet_files, workbook
from carte.core.clock import as_of
from carte.core.models import Job, JobStatus
from carte.core.testing import assert_problem, no_writes, no_writes_but_jobs
from carte.operations.importing import import_measurements
from carte.operations.models import KPI, Measurement
from carte.operations.services.measurements import refresh_kpis
from carte.operations.tests.conftest import Ops
from carte.operations.tests.factories import KPIFactory

MOMENT = dt.datetime(2026, 5, 10, 9, tzinfo=dt.UTC)
PEAK = 50 * 1024 * 1024  # the most any of these files may make an import hold
HEADER = ["service", "kpi", "period", "value"]
ROW = "REP,Status reports on time,2026-01-01,96"
_GOOD_CELLS = "".join(
    f'<c t="inlineStr"><is><t>{v}</t></is></c>'
    for v in ("REP", "Status reports on time", "2026-01-01")
)

FILES: list[Hostile] = [
    *spreadsheet_files("values", HEADER),
    Hostile(
        "value-far-outside-the-columns",
        "outside.xlsx",
        workbook(
            {
                "values": '<row r="1">'
                + "".join(f'<c t="inlineStr"><is><t>{h}</t></is></c>' for h in HEADER)
                + f'</row><row r="2">{_GOOD_CELLS}<c><v>96</v></c><c r="XFD2"><v>1</v></c></row>'
            }
        ),
        "outside the columns",
    ),
    Hostile("csv-not-utf8", "values.csv", b"service,kpi,period,value\n\xff\xfe,x\n", "UTF-8"),
    Hostile(
        "value-column-twice",
        "twice.csv",
        f"service,kpi,period,value,value\n{ROW},97\n".encode(),
        "This column appears twice.",
    ),
    Hostile(
        "unknown-column",
        "unknown.csv",
        f"service,kpi,period,value,notes\n{ROW},late\n".encode(),
        "Unknown column.",
    ),
]


@pytest.fixture
def kpi(ops: Ops) -> KPI:
    found = KPIFactory(service=ops.service, name="Status reports on time", maximum=Decimal(100))
    refresh_kpis([found])
    return found


def refusal(message: str, file: Hostile) -> None:
    assert file.says in message, (file.key, message)


@pytest.mark.parametrize("file", FILES, ids=str)
def test_the_import_refuses_the_file_in_bounded_memory(ops: Ops, kpi: KPI, file: Hostile) -> None:
    tracemalloc.start()
    try:
        with no_writes(kpi), as_of(MOMENT):
            report = import_measurements(
                actor=ops.manager.actor, source=io.BytesIO(file.content), name=file.name
            )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.problems and report.recorded == 0
    refusal(" ".join(p.message for p in report.problems), file)
    assert not Measurement.objects.exists()
    assert peak < PEAK, f"{file.key}: {peak / 1e6:.1f} MB"


def test_the_value_column_twice_and_an_unknown_column_are_named(ops: Ops, kpi: KPI) -> None:
    content = f"Service,KPI,period,value,Value,notes\n{ROW},97,late\n".encode()
    report = import_measurements(
        actor=ops.manager.actor, source=io.BytesIO(content), name="values.csv"
    )
    assert [(p.row, p.column, p.message) for p in report.problems] == [
        (1, "value", "This column appears twice."),
        (1, "notes", "Unknown column."),
    ]


def upload(file: Hostile) -> SimpleUploadedFile:
    return SimpleUploadedFile(file.name, file.content)


@pytest.mark.parametrize("file", FILES, ids=str)
def test_the_api_refuses_the_file(ops: Ops, kpi: KPI, file: Hostile) -> None:
    who = ops.manager
    url = f"/api/v1/orgs/{ops.org.slug}/measurements/import"
    with as_of(MOMENT), no_writes_but_jobs(kpi):
        checked = who.api.client.post(
            url + "?dry_run=true", {"file": upload(file)}, headers=who.api.headers
        )
        started = who.api.client.post(url, {"file": upload(file)}, headers=who.api.headers)
    refusal(str(assert_problem(checked, 422)), file)
    assert started.status_code == 202, started.content
    job = Job.objects.get()
    assert job.status == JobStatus.FAILED and "nothing was recorded" in job.error
    assert job.report is not None
    refusal(" ".join(p["message"] for p in job.report["problems"]), file)
    assert not Measurement.objects.exists()


@pytest.mark.parametrize("file", FILES, ids=str)
def test_the_page_refuses_the_file(ops: Ops, kpi: KPI, file: Hostile) -> None:
    # Importing needs only the right to see KPIs: a viewer is refused the same way.
    with as_of(MOMENT), no_writes(kpi):
        response = ops.viewer.client.post(
            f"/o/{ops.org.slug}/operations/measurements/import/",
            {"file": upload(file), "dry_run": "on"},
        )
    assert response.status_code == 422
    refusal(html.unescape(response.content.decode()), file)


@pytest.mark.parametrize("file", FILES, ids=str)
def test_the_command_refuses_the_file_with_exit_code_2(
    ops: Ops, kpi: KPI, file: Hostile, tmp_path: Path
) -> None:
    path = tmp_path / file.name
    path.write_bytes(file.content)
    err = io.StringIO()
    with as_of(MOMENT), no_writes_but_jobs(kpi), pytest.raises(CommandError) as caught:
        call_command(
            "operations", "import-measurements", str(path), "--org", ops.org.slug, stderr=err
        )
    assert caught.value.returncode == 2
    refusal(str(caught.value) + err.getvalue(), file)
    assert not Measurement.objects.exists()
