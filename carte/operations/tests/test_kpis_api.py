"""The KPI API: KPIs of a service (CRUD), a KPI's measurements (list with corrections,
record, correct), the bulk push (limit 413, all-or-nothing 422 row by row, other
organisations' KPIs never revealed), the reports due; rights; tenancy on every operation;
the same queries at two sizes."""

from __future__ import annotations

import datetime as dt
import gc
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from carte.conftest import Persona
from carte.core.clock import as_of
from carte.core.testing import assert_constant_queries, assert_problem, no_writes
from carte.operations import importing
from carte.operations.models import KPI, Measurement
from carte.operations.services.measurements import Reading, measurements_record, refresh_kpis
from carte.operations.tests.conftest import Ops
from carte.operations.tests.factories import KPIFactory
from carte.organisations.testing import (
    Operation,
    api_operations,
    outsider_failures,
    outsider_paths,
)

MOMENT = dt.datetime(2026, 5, 10, 9, tzinfo=dt.UTC)
BASE = "/api/v1/orgs/acme"


def kpis_url(ops: Ops, *rest: Any) -> str:
    tail = "".join(f"/{r}" for r in rest)
    return f"{BASE}/services/{ops.service.pk}/kpis{tail}"


def body(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": "Risk register currency",
        "definition": "Days since the portfolio RAID log was last reviewed.",
        "unit": "days",
        "direction": "lower",
        "target": "7",
        "amber": "14",
        "red": "30",
        "frequency": "weekly",
        "reporting_from": "2026-05-04",
    }
    values.update(overrides)
    return values


def kpi_with(ops: Ops, months: int = 3, service: Any = None, **kw: Any) -> KPI:
    kpi = KPIFactory(service=service or ops.service, **kw)
    if months:
        with as_of(MOMENT):
            measurements_record(
                actor=ops.system,
                readings=[
                    Reading(kpi, dt.date(2026, m, 1), "90", row=m) for m in range(1, months + 1)
                ],
            )
    else:
        refresh_kpis([kpi])
    kpi.refresh_from_db()
    return kpi


def test_it_creates_reads_updates_archives_and_restores_a_kpi(ops: Ops) -> None:
    api = ops.manager.api
    with as_of(MOMENT):
        created = api.post(kpis_url(ops), body())
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["next_period"] == "2026-05-04" and data["overdue"] is False
    assert data["minimum"] is None
    pk = data["id"]
    assert api.get(kpis_url(ops, pk)).json()["name"] == "Risk register currency"
    changed = api.patch(kpis_url(ops, pk), {"amber": "10"})
    assert changed.status_code == 200 and Decimal(changed.json()["amber"]) == 10
    assert api.post(kpis_url(ops, pk, "archive")).json()["archived"] is True
    assert api.get(kpis_url(ops)).json()["count"] == 0
    assert api.get(kpis_url(ops), status="archived").json()["count"] == 1
    assert api.post(kpis_url(ops, pk, "restore")).json()["archived"] is False


def test_bad_definitions_are_422_on_the_field(ops: Ops) -> None:
    api = ops.manager.api
    with no_writes(ops.service):
        assert_problem(api.post(kpis_url(ops), body(amber="5")), 422, "amber")
        assert_problem(api.post(kpis_url(ops), body(frequency="daily")), 422, "frequency")
        assert_problem(api.post(kpis_url(ops), body(colour="red")), 422, "colour")
    kpi = kpi_with(ops)
    with no_writes(kpi):
        assert_problem(api.patch(kpis_url(ops, kpi.pk), {"name": None}), 422, "name")
        assert_problem(
            api.patch(kpis_url(ops, kpi.pk), {"frequency": "quarterly"}), 422, "frequency"
        )
    assert KPI.objects.count() == 1


def test_only_the_services_leads_define_kpis_and_the_team_reports(ops: Ops) -> None:
    kpi = kpi_with(ops)
    for who in (ops.staff, ops.viewer, ops.operative, ops.customer):
        assert who.api.post(kpis_url(ops), body()).status_code == 403
    assert ops.customer.api.get(kpis_url(ops)).status_code in (403, 404)
    measurement = {"period": "2026-04-01", "value": "91"}
    with as_of(MOMENT):
        for who in (ops.staff, ops.viewer):
            assert_problem(who.api.post(kpis_url(ops, kpi.pk, "measurements"), measurement), 403)
        response = ops.operative.api.post(kpis_url(ops, kpi.pk, "measurements"), measurement)
    assert response.status_code == 201, response.content
    assert response.json()["source"] == "api" and response.json()["label"] == "Apr 2026"


def test_a_measurement_is_recorded_and_corrected_with_its_history(ops: Ops) -> None:
    kpi = kpi_with(ops)
    api = ops.manager.api
    path = kpis_url(ops, kpi.pk, "measurements")
    with as_of(MOMENT):
        duplicate = api.post(path, {"period": "2026-03-01", "value": "70"})
        assert_problem(duplicate, 422, "period", detail="correct it instead")
        fixed = api.post(
            path, {"period": "2026-03-01", "value": "70", "correct": True, "reason": "Recount."}
        )
    assert fixed.status_code == 201
    assert fixed.json()["rag"] == "red"
    assert fixed.json()["corrections"][0]["reason"] == "Recount."
    listed = api.get(path).json()
    assert listed["count"] == 3
    assert [len(m["corrections"]) for m in listed["items"]] == [1, 0, 0]


def test_the_bulk_push_records_every_row(ops: Ops, monkeypatch: pytest.MonkeyPatch) -> None:
    kpi = kpi_with(ops, months=0)
    rows = [
        {"kpi": kpi.pk, "period": f"2026-{m:02d}-01", "value": str(80 + m), "comment": ""}
        for m in range(1, 5)
    ]
    collector: list[bool] = []  # on while the rows are written? (it cost a third of a push)
    record = measurements_record

    def watched(**kwargs: Any) -> Any:
        collector.append(gc.isenabled())
        return record(**kwargs)

    monkeypatch.setattr(importing, "measurements_record", watched)
    with as_of(MOMENT):
        response = ops.manager.api.post(f"{BASE}/measurements", {"rows": rows})
    assert response.status_code == 201, response.content
    assert collector == [False] and gc.isenabled()
    assert response.json() == {"recorded": 4, "kpis": 1}
    assert set(Measurement.objects.values_list("source", flat=True)) == {"api"}
    kpi.refresh_from_db()
    assert kpi.latest_period == dt.date(2026, 4, 1)


def test_the_bulk_push_is_all_or_nothing_row_by_row(ops: Ops, outsider: Persona) -> None:
    kpi = kpi_with(ops, months=0)
    theirs = KPIFactory(service__organisation=outsider.organisation)
    rows = [
        {"kpi": kpi.pk, "period": "2026-01-01", "value": "91"},
        {"kpi": theirs.pk, "period": "2026-01-01", "value": "91"},
        {"kpi": kpi.pk, "period": "2026-02-01", "value": "many"},
        {"kpi": kpi.pk, "period": "2026-01-01", "value": "92"},
        {"kpi": 999_999, "period": "2026-01-01", "value": "92"},
    ]
    with as_of(MOMENT), no_writes(kpi, theirs):
        problem = assert_problem(ops.manager.api.post(f"{BASE}/measurements", {"rows": rows}), 422)
    assert [(r["row"], r["field"]) for r in problem["rows"]] == [
        (2, "kpi"),
        (3, "value"),
        (4, "period"),
        (5, "kpi"),
    ]
    assert problem["rows"][0]["message"] == f"No KPI with id {theirs.pk} here."
    assert problem["problems"] == 4
    assert not Measurement.objects.exists()


def test_the_bulk_push_refuses_more_than_ten_thousand_rows(ops: Ops) -> None:
    kpi = kpi_with(ops, months=0)
    rows = [{"kpi": kpi.pk, "period": "2026-01-01", "value": "1"}] * 10_001
    with as_of(MOMENT), no_writes(kpi):
        assert_problem(
            ops.manager.api.post(f"{BASE}/measurements", {"rows": rows}), 413, detail="10,000"
        )
    assert not Measurement.objects.exists()


def test_reports_due_lists_overdue_first_and_mine(ops: Ops) -> None:
    late = kpi_with(ops, months=2)
    on_time = kpi_with(ops, months=3, grace_days=12)  # April, due 12 May
    theirs = kpi_with(ops, months=2, service=ops.other_service)
    with as_of(MOMENT):
        everything = ops.director.api.get(f"{BASE}/reports-due").json()
        mine = ops.manager.api.get(f"{BASE}/reports-due", mine="true").json()
        overdue = ops.director.api.get(f"{BASE}/reports-due", overdue="true").json()
    assert [r["kpi"] for r in everything["items"]][:2] in (
        [late.pk, theirs.pk],
        [theirs.pk, late.pk],
    )
    assert everything["items"][-1]["kpi"] == on_time.pk
    assert {r["kpi"] for r in mine["items"]} == {late.pk, on_time.pk}
    assert {r["kpi"] for r in overdue["items"]} == {late.pk, theirs.pk}
    assert everything["items"][0]["overdue"] is True and everything["items"][0]["label"]


@pytest.mark.parametrize("which", ["kpis", "measurements", "reports"])
def test_the_lists_run_the_same_queries_for_more_rows(ops: Ops, which: str) -> None:
    kpi = kpi_with(ops, months=2)
    paths = {
        "kpis": kpis_url(ops),
        "measurements": kpis_url(ops, kpi.pk, "measurements"),
        "reports": f"{BASE}/reports-due",
    }

    def grow() -> None:
        for _ in range(3):
            kpi_with(ops, months=2)
        with as_of(MOMENT):
            measurements_record(
                actor=ops.system,
                readings=[Reading(kpi, dt.date(2026, m, 1), "90", row=m) for m in (3, 4)],
            )
            measurements_record(
                actor=ops.system,
                readings=[Reading(kpi, dt.date(2026, 3, 1), "91", row=1)],
                correct=True,
            )

    with as_of(MOMENT):
        assert_constant_queries(lambda: ops.director.api.get(paths[which]), grow)


def kpi_operations(client: Any) -> list[Operation]:
    def ours(template: str, operation: dict[str, Any]) -> bool:
        name = operation["operationId"]
        return name.startswith(("operations_kpis", "operations_measurements")) or (
            name == "operations_reports_due_list"
        )

    return api_operations(client, ours)


def test_it_answers_404_to_an_outsider_on_every_kpi_operation(
    ops: Ops, outsider: Persona, other_org: Any
) -> None:
    kpi = kpi_with(ops)
    bodies = {
        "operations_kpis_create": body(),
        "operations_kpis_update": {"name": "Hijack"},
        "operations_measurements_create": {"period": "2026-04-01", "value": "1"},
        "operations_measurements_bulk": {
            "rows": [{"kpi": kpi.pk, "period": "2026-04-01", "value": "1"}]
        },
    }
    ops_list = kpi_operations(outsider.api.client)
    assert len(ops_list) == 11  # with the import of a file of values
    rows = {"{id}": ops.service, "{kpi_id}": kpi}
    calls, imports = [], []
    for method, template, operation in ops_list:
        paths = outsider_paths(template, rows, ops.org.slug, other_org.slug)
        if operation["operationId"] == "operations_measurements_import":
            imports += paths
        else:
            calls += [(method, path, bodies.get(operation["operationId"], {})) for path in paths]
    api = outsider.api
    with as_of(MOMENT), no_writes(kpi, ops.service):
        assert outsider_failures(api, calls) == []
        for path in imports:
            # A file, as a form upload: the import takes no JSON.
            upload = SimpleUploadedFile("values.csv", b"kpi,period,value\n")
            assert_problem(api.client.post(path, {"file": upload}, headers=api.headers), 404)
