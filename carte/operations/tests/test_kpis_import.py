"""Importing KPI values from CSV and .xlsx: all or nothing with a row-by-row report, mixed
date formats and a missing column refused clearly, the dry run, the page and the command."""

from __future__ import annotations

import datetime as dt
import gc
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from carte.core.clock import as_of
from carte.core.models import Job, JobStatus
from carte.core.testing import no_writes, no_writes_but_jobs
from carte.operations import importing
from carte.operations.importing import import_measurements
from carte.operations.models import KPI, Measurement
from carte.operations.services.measurements import measurements_record, refresh_kpis
from carte.operations.tests.conftest import Ops
from carte.operations.tests.factories import KPIFactory

MOMENT = dt.datetime(2026, 5, 10, 9, tzinfo=dt.UTC)


@pytest.fixture
def kpis(ops: Ops) -> tuple[KPI, KPI]:
    first = KPIFactory(service=ops.service, name="Status reports on time", maximum=Decimal(100))
    second = KPIFactory(service=ops.other_service, name="Gate reviews held on plan")
    refresh_kpis([first, second])
    return first, second


def csv_bytes(*lines: str) -> io.BytesIO:
    return io.BytesIO(("\n".join(lines) + "\n").encode())


def run(ops: Ops, source: io.BytesIO, name: str = "values.csv", **kw: Any) -> Any:
    with as_of(MOMENT):
        return import_measurements(actor=ops.manager.actor, source=source, name=name, **kw)


def test_it_imports_a_csv(ops: Ops, kpis: tuple[KPI, KPI], monkeypatch: pytest.MonkeyPatch) -> None:
    first, _ = kpis
    collector: list[bool] = []  # on while the rows are written? (a sixth of an import)
    record = measurements_record

    def watched(**kwargs: Any) -> Any:
        collector.append(gc.isenabled())
        return record(**kwargs)

    monkeypatch.setattr(importing, "measurements_record", watched)
    report = run(
        ops,
        csv_bytes(
            "service,kpi,period,value,comment",
            "REP,Status reports on time,2026-01-01,96,",
            "rep,status reports on time,2026-02-01,88.5,Two packs late",
        ),
    )
    assert report.ok and (report.recorded, report.kpis, report.rows) == (2, 1, 2)
    assert collector == [False] and gc.isenabled()
    stored = Measurement.objects.get(period=dt.date(2026, 2, 1))
    assert (stored.value, stored.rag, stored.source, stored.comment) == (
        Decimal("88.5"),
        "amber",
        "imported",
        "Two packs late",
    )
    first.refresh_from_db()
    assert first.latest_period == dt.date(2026, 2, 1)


def test_it_imports_an_xlsx_with_date_cells(ops: Ops, kpis: tuple[KPI, KPI]) -> None:
    from openpyxl import Workbook  # type: ignore[import-untyped]

    book = Workbook()
    sheet = book.active
    sheet.append(["Comment", "Value", "Period", "KPI", "Service"])
    sheet.append(["", 91, dt.datetime(2026, 3, 1), "Status reports on time", "REP"])
    sheet.append([None, "79.5", "2026-04-01", "Status reports on time", "REP"])
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    report = run(ops, out, "values.xlsx")
    assert report.ok, report.problems
    assert sorted(Measurement.objects.values_list("rag", flat=True)) == ["green", "red"]


def test_it_is_all_or_nothing_with_a_report_row_by_row(ops: Ops, kpis: tuple[KPI, KPI]) -> None:
    first, second = kpis
    with no_writes(first, second):
        report = run(
            ops,
            csv_bytes(
                "service,kpi,period,value",
                "REP,Status reports on time,2026-01-01,96",
                "REP,Status reports on time,2026-02-15,90",
                "NOPE,Status reports on time,2026-01-01,90",
                "REP,Forecast accuracy,2026-01-01,90",
                "REP,Status reports on time,2026-03-01,ninety",
                "REP,Status reports on time,2026-04-01,140",
            ),
        )
    assert [(p.row, p.column) for p in report.problems] == [
        (3, "period"),
        (4, "service"),
        (5, "kpi"),
        (6, "value"),
        (7, "value"),
    ]
    assert "starts on 2026-02-01" in report.problems[0].message
    assert report.total_problems == 5 and report.recorded == 0
    assert not Measurement.objects.exists()


def test_mixed_date_formats_are_refused_clearly(ops: Ops, kpis: tuple[KPI, KPI]) -> None:
    report = run(
        ops,
        csv_bytes(
            "service,kpi,period,value",
            "REP,Status reports on time,2026-01-01,96",
            "REP,Status reports on time,01/02/2026,90",
        ),
    )
    general = [p for p in report.problems if p.row is None]
    assert general and "mixes date formats" in general[0].message
    assert "row 2" in general[0].message and "row 3" in general[0].message
    assert [(p.row, p.column) for p in report.problems if p.row] == [(3, "period")]
    assert not Measurement.objects.exists()


def test_a_missing_column_is_refused_clearly(ops: Ops, kpis: tuple[KPI, KPI]) -> None:
    report = run(ops, csv_bytes("service,kpi,value", "REP,Status reports on time,96"))
    (problem,) = report.problems
    assert (problem.row, problem.column) == (1, "period")
    assert problem.message == "This column is missing."
    assert not Measurement.objects.exists()


def test_a_dry_run_checks_and_writes_nothing(ops: Ops, kpis: tuple[KPI, KPI]) -> None:
    first, second = kpis
    with no_writes(first, second):
        report = run(
            ops,
            csv_bytes("service,kpi,period,value", "REP,Status reports on time,2026-01-01,96"),
            dry_run=True,
        )
    assert report.ok and report.dry_run and report.recorded == 1


def test_a_kpi_the_user_does_not_report_is_refused(ops: Ops, kpis: tuple[KPI, KPI]) -> None:
    report = run(
        ops, csv_bytes("service,kpi,period,value", "GOV,Gate reviews held on plan,2026-01-01,96")
    )
    assert report.problems and "not allowed" in report.problems[0].message
    assert not Measurement.objects.exists()


def test_the_page_checks_at_once_and_imports_in_the_background(
    ops: Ops, kpis: tuple[KPI, KPI]
) -> None:
    path = reverse("operations:measurements_import", args=[ops.org.slug])
    assert ops.manager.client.get(path).status_code == 200
    bad = b"service,kpi,period,value\nREP,Status reports on time,2026-01-15,96\n"
    good = b"service,kpi,period,value\nREP,Status reports on time,2026-01-01,96\n"
    # A dry run answers here, with its report.
    with as_of(MOMENT):
        response = ops.manager.client.post(
            path, {"file": SimpleUploadedFile("values.csv", bad), "dry_run": "on"}
        )
    page = response.content.decode()
    assert response.status_code == 422
    assert 'data-testid="problems"' in page and "starts on 2026-01-01" in page
    assert not Job.objects.exists()
    # An import is a job: a bad file fails it, listing the problems, and records nothing.
    with as_of(MOMENT), no_writes_but_jobs(*kpis):
        response = ops.manager.client.post(path, {"file": SimpleUploadedFile("values.csv", bad)})
    failed = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/o/acme/jobs/{failed.pk}/"
    assert failed.status == JobStatus.FAILED
    assert failed.error == "1 problem in the file: nothing was recorded."
    page = ops.manager.client.get(response["Location"]).content.decode()
    assert 'data-testid="job-error"' in page and "starts on 2026-01-01" in page
    assert not Measurement.objects.exists()
    with as_of(MOMENT):
        response = ops.manager.client.post(
            path, {"file": SimpleUploadedFile("values.csv", good)}, headers={"HX-Request": "true"}
        )
    done = Job.objects.exclude(pk=failed.pk).get()
    assert response.status_code == 204 and response["HX-Redirect"] == f"/o/acme/jobs/{done.pk}/"
    assert done.status == JobStatus.DONE and done.report is not None
    assert (done.report["recorded"], done.report["kpis"]) == (1, 1)
    page = ops.manager.client.get(f"/o/acme/jobs/{done.pk}/").content.decode()
    assert "Imported: 1 value of 1 KPI recorded." in page
    assert Measurement.objects.get().source == "imported"
    assert ops.customer.client.get(path).status_code == 403
    assert (
        ops.customer.client.post(path, {"file": SimpleUploadedFile("v.csv", good)}).status_code
        == 403
    )


def test_the_command_imports_and_refuses_with_exit_code_2(
    ops: Ops, kpis: tuple[KPI, KPI], tmp_path: Path
) -> None:
    good = tmp_path / "good.csv"
    good.write_text("service,kpi,period,value\nREP,Status reports on time,2026-01-01,96\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("service,kpi,period,value\nREP,Status reports on time,2026-01-01,lots\n")
    out, err = io.StringIO(), io.StringIO()
    with as_of(MOMENT):
        call_command(
            "operations",
            "import-measurements",
            str(good),
            "--org",
            "acme",
            "--dry-run",
            stdout=out,
            stderr=err,
        )
        assert not Measurement.objects.exists()
        call_command(
            "operations", "import-measurements", str(good), "--org", "acme", stdout=out, stderr=err
        )
        assert Measurement.objects.count() == 1
        with pytest.raises(CommandError) as caught:
            call_command(
                "operations",
                "import-measurements",
                str(bad),
                "--org",
                "acme",
                stdout=out,
                stderr=err,
            )
    assert caught.value.returncode == 2
    assert "row 2, value" in err.getvalue()
    with pytest.raises(CommandError):
        call_command("operations", "import-measurements", str(good), "--org", "nowhere")
