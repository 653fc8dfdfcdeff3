"""Importing KPI values in the background through the API (`POST .../measurements/import`):
a dry run answers at once; an import is a job (202, `Location`) whose report says what was
recorded, or lists the problems with nothing recorded; its progress; its starter alone
reads it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from carte.core.clock import as_of
from carte.core.jobs import watching
from carte.core.models import Job
from carte.core.testing import assert_problem, no_writes, no_writes_but_jobs
from carte.operations.models import KPI, Measurement
from carte.operations.services.measurements import refresh_kpis
from carte.operations.tests.conftest import Ops
from carte.operations.tests.factories import KPIFactory

MOMENT = dt.datetime(2026, 5, 10, 9, tzinfo=dt.UTC)
GOOD = b"service,kpi,period,value\nREP,Status reports on time,2026-01-01,96\n"
BAD = b"service,kpi,period,value\nREP,Status reports on time,2026-01-01,lots\n"


@pytest.fixture
def kpi(ops: Ops) -> KPI:
    found = KPIFactory(service=ops.service, name="Status reports on time", maximum=Decimal(100))
    refresh_kpis([found])
    return found


def post(who: Any, ops: Ops, content: bytes, query: str = "", name: str = "values.csv") -> Any:
    with as_of(MOMENT):
        return who.api.client.post(
            f"/api/v1/orgs/{ops.org.slug}/measurements/import{query}",
            {"file": SimpleUploadedFile(name, content)},
            headers=who.api.headers,
        )


def test_a_dry_run_answers_at_once_and_writes_nothing(ops: Ops, kpi: KPI) -> None:
    with no_writes(kpi):
        response = post(ops.manager, ops, GOOD, "?dry_run=true")
        assert response.status_code == 200, response.content
        assert response.json() == {"dry_run": True, "rows": 1, "recorded": 1, "kpis": 1}
        problem = assert_problem(post(ops.manager, ops, BAD, "?dry_run=true"), 422)
    assert problem["rows"] == [
        {"row": 2, "field": "value", "message": problem["rows"][0]["message"]}
    ]
    assert not Job.objects.exists()


def test_an_import_is_a_job_that_records_every_value(ops: Ops, kpi: KPI) -> None:
    heard: list[str] = []
    with watching(lambda j: heard.append(j.progress_message)):
        response = post(ops.manager, ops, GOOD)
    assert response.status_code == 202, response.content
    job = Job.objects.get()
    assert response["Location"] == f"/api/v1/orgs/acme/jobs/{job.pk}"
    body = response.json()
    assert (body["kind"], body["status"]) == ("operations.import_measurements", "done")
    assert body["label"] == "KPI values import: values.csv"
    assert body["report"] == {
        "dry_run": False,
        "rows": 1,
        "recorded": 1,
        "kpis": 1,
        "total_problems": 0,
        "problems": [],
    }
    assert heard[0] == "Reading the file" and heard[-1] == "Recorded"
    assert "Checking and recording 1 values" in heard
    assert Measurement.objects.get().source == "imported"
    assert (job.progress_done, job.progress_total) == (1, 1)


def test_a_failing_import_lists_its_problems_and_records_nothing(ops: Ops, kpi: KPI) -> None:
    with no_writes_but_jobs(kpi):
        response = post(ops.manager, ops, BAD)
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "failed"
    assert body["error"] == "1 problem in the file: nothing was recorded."
    assert body["report"]["problems"][0]["row"] == 2
    assert body["report"]["problems"][0]["column"] == "value"
    assert not Measurement.objects.exists()
    page = ops.manager.client.get(body["page"]).content.decode()
    assert "1 problem in the file: nothing was recorded." in page
    assert "<td>2</td><td>value</td>" in page
    report = ops.manager.api.get(body["result"]["url"])
    assert report["Content-Type"] == "application/json" and report.json()["total_problems"] == 1


def test_a_file_that_is_not_csv_or_xlsx_starts_no_job(ops: Ops, kpi: KPI) -> None:
    assert_problem(post(ops.manager, ops, GOOD, name="values.pdf"), 422, "file")
    assert not Job.objects.exists()


def test_the_job_is_its_starters_alone(ops: Ops, kpi: KPI) -> None:
    body = post(ops.manager, ops, GOOD).json()
    for who in (ops.owner, ops.director, ops.outsider):
        assert_problem(who.api.get(body["url"]), 404)
        assert_problem(who.api.get(body["result"]["url"]), 404)
        assert who.client.get(body["page"]).status_code == 404
    assert ops.manager.client.get(body["page"]).status_code == 200
    assert_problem(post(ops.outsider, ops, GOOD), 404)
    assert Job.objects.count() == 1
