"""The API of service levels and overviews: targets CRUD with problem+json refusals,
attainment, breaches, the heat map and a service's summary; rights, tenancy on every
operation, bounded queries on the lists."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from carte.catalogue.choices import Stage
from carte.catalogue.tests.factories import ServiceFactory
from carte.conftest import Persona
from carte.core.clock import as_of
from carte.core.testing import assert_constant_queries, assert_problem, no_writes
from carte.operations.models import ServiceLevelTarget
from carte.operations.tests.conftest import Ops
from carte.operations.tests.factories import KPIFactory, RiskIssueFactory
from carte.operations.tests.test_levels_services import MOMENT, kpi_with_values, make_target
from carte.operations.tests.test_overview_views import reported
from carte.organisations.testing import (
    Operation,
    api_operations,
    outsider_failures,
    outsider_paths,
)
from carte.organisations.tests.factories import CustomerGroupFactory

pytestmark = pytest.mark.django_db

MINE = (
    "operations_level_",
    "operations_attainment",
    "operations_heatmap",
    "operations_service_summary",
)


def base(ops: Ops, service: Any = None, org: str | None = None) -> str:
    return f"/api/v1/orgs/{org or ops.org.slug}/services/{(service or ops.service).pk}"


def body(ops: Ops, kpi: Any, **overrides: Any) -> dict[str, Any]:
    data = {
        "customer_group": ops.group.pk,
        "kpi": kpi.pk,
        "level": ops.level.pk,
        "statement": "95% of gate reviews held on the planned date",
        "target": "95",
    }
    data.update(overrides)
    return data


def my_operations(client: Any) -> list[Operation]:
    return api_operations(client, lambda _, operation: operation["operationId"].startswith(MINE))


# ---------------------------------------------------------------- targets


def test_it_creates_changes_archives_and_restores_a_target(ops: Ops) -> None:
    kpi = KPIFactory(service=ops.service, name="Gate reviews on the planned date")
    api = ops.manager.api
    created = api.post(f"{base(ops)}/level-targets", body(ops, kpi))
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["customer_group"] == {"id": ops.group.pk, "name": "Finance programmes"}
    assert data["kpi"]["name"] == "Gate reviews on the planned date"
    assert (data["side"], Decimal(data["target"])) == ("at least", Decimal(95))
    path = f"{base(ops)}/level-targets/{data['id']}"
    changed = api.patch(path, {"target": "97.5", "level": None})
    assert changed.status_code == 200
    assert Decimal(changed.json()["target"]) == Decimal("97.5")
    assert changed.json()["level"] is None
    assert api.get(path).json()["statement"] == data["statement"]
    assert api.post(f"{path}/archive").json()["archived"] is True
    assert api.get(f"{base(ops)}/level-targets").json()["count"] == 0
    assert api.get(f"{base(ops)}/level-targets", status="archived").json()["count"] == 1
    assert api.post(f"{path}/restore").json()["archived"] is False


def test_refusals_are_problems_naming_the_field_with_nothing_written(
    ops: Ops, outsider: Persona
) -> None:
    kpi = KPIFactory(service=ops.service, minimum=Decimal(0), maximum=Decimal(100))
    foreign_group = CustomerGroupFactory(organisation=outsider.organisation)
    hr = CustomerGroupFactory(organisation=ops.org, name="HR change")
    other_kpi = KPIFactory(service=ops.other_service)
    url = f"{base(ops)}/level-targets"
    api = ops.manager.api
    cases = [
        (body(ops, kpi, customer_group=hr.pk), "customer_group"),
        (body(ops, kpi, customer_group=foreign_group.pk), "customer_group"),
        (body(ops, other_kpi), "kpi"),
        (body(ops, kpi, target="250"), "target"),
        (body(ops, kpi, target="lots"), "target"),
        (body(ops, kpi, statement=""), "statement"),
        ({**body(ops, kpi), "direction": "lower"}, "direction"),
        ({k: v for k, v in body(ops, kpi).items() if k != "kpi"}, "kpi"),
    ]
    for payload, field in cases:
        assert_problem(api.post(url, payload), 422, field)
    assert not ServiceLevelTarget.objects.exists()
    target = make_target(ops, kpi)
    with no_writes(target):
        assert_problem(api.patch(f"{url}/{target.pk}", {"kpi": None}), 422, "kpi")
        assert_problem(api.patch(f"{url}/{target.pk}", {"target": "-1"}), 422, "target")


def test_only_editors_write_and_customers_read_nothing(ops: Ops) -> None:
    kpi = KPIFactory(service=ops.service)
    target = make_target(ops, kpi)
    url = f"{base(ops)}/level-targets"
    with no_writes(target):
        for persona in (ops.staff, ops.viewer, ops.operative):
            assert persona.api.get(url).status_code == 200
            assert_problem(persona.api.post(url, body(ops, kpi, level=None)), 403)
            assert_problem(persona.api.patch(f"{url}/{target.pk}", {"target": "1"}), 403)
            assert_problem(persona.api.post(f"{url}/{target.pk}/archive"), 403)
        assert_problem(ops.customer.api.get(url), 403)
        assert_problem(ops.customer.api.get(f"{base(ops)}/attainment"), 403)
        assert_problem(ops.customer.api.get(f"/api/v1/orgs/{ops.org.slug}/level-breaches"), 403)
        assert_problem(ops.customer.api.get(f"/api/v1/orgs/{ops.org.slug}/heatmap"), 403)


# ---------------------------------------------------------------- attainment and breaches


def test_attainment_lists_each_period_and_the_share_met(ops: Ops) -> None:
    kpi = kpi_with_values(ops, {"2026-01-01": "96", "2026-02-01": "94", "2026-03-01": "99"})
    target = make_target(ops, kpi)
    with as_of(MOMENT):
        response = ops.staff.api.get(f"{base(ops)}/attainment", periods=3)
    assert response.status_code == 200
    (row,) = response.json()
    assert row["target"]["id"] == target.pk
    assert [(p["label"], p["status"]) for p in row["periods"]] == [
        ("Feb 2026", "missed"),
        ("Mar 2026", "met"),
        ("Apr 2026", "no_report"),
    ]
    assert (row["met"], row["missed"], row["no_report"]) == (1, 1, 1)
    assert row["share_met"] == pytest.approx(1 / 3)
    assert_problem(ops.staff.api.get(f"{base(ops)}/attainment", periods=0), 422, "periods")


def test_breaches_are_listed_newest_first_and_filtered(ops: Ops) -> None:
    kpi = kpi_with_values(ops, {"2026-01-01": "80", "2026-02-01": "96", "2026-03-01": "70"})
    target = make_target(ops, kpi)
    url = f"/api/v1/orgs/{ops.org.slug}/level-breaches"
    data = ops.director.api.get(url).json()
    assert data["count"] == 2
    first = data["items"][0]
    assert (first["period"], first["period_label"], Decimal(first["value"])) == (
        "2026-03-01",
        "Mar 2026",
        Decimal(70),
    )
    assert first["target"]["id"] == target.pk
    assert first["service"] == {"id": ops.service.pk, "name": str(ops.service)}
    assert ops.director.api.get(url, since="2026-02-01").json()["count"] == 1
    assert ops.director.api.get(url, service=ops.other_service.pk).json()["count"] == 0
    assert_problem(ops.director.api.get(url, since="yesterday"), 422, "since")


def test_the_lists_run_the_same_queries_at_two_sizes(ops: Ops) -> None:
    kpi = kpi_with_values(ops, {"2026-01-01": "80"})
    make_target(ops, kpi)
    reported(ops.service, "red")
    made = iter(range(1000))

    def grow() -> None:
        for _ in range(6):
            n = next(made)
            more = kpi_with_values(ops, {"2026-01-01": "70", "2026-02-01": "75"}, name=f"L{n}")
            make_target(ops, more)
            service = ServiceFactory(organisation=ops.org, code=f"H{n:03d}", stage=Stage.RUNNING)
            reported(service, "amber")
            reported(service, "green")

    api = ops.director.api
    org = ops.org.slug
    for path in (
        f"{base(ops)}/level-targets",
        f"{base(ops)}/attainment",
        f"/api/v1/orgs/{org}/level-breaches",
        f"/api/v1/orgs/{org}/heatmap",
        f"{base(ops)}/operations",
    ):
        with as_of(MOMENT):
            assert_constant_queries(lambda path=path: api.get(path), grow)  # type: ignore[misc]


# ---------------------------------------------------------------- overviews


def test_the_heatmap_endpoint_gives_the_pages_rows(ops: Ops) -> None:
    red = reported(ops.service, "red", name="Packs on time")
    reported(ops.other_service, "green")
    url = f"/api/v1/orgs/{ops.org.slug}/heatmap"
    with as_of(MOMENT):
        data = ops.director.api.get(url).json()
    assert data["count"] == 2
    assert data["totals"] == {"red": 1, "amber": 0, "green": 1, "unreported": 0, "overdue": 0}
    assert data["services"] == {"red": 1, "amber": 0, "green": 1, "none": 0}
    assert [r["code"] for r in data["items"]] == ["REP", "GOV"]  # worst first
    assert data["items"][0]["status"]["rag"] == "red"
    cell = data["items"][0]["cells"][0]
    assert (cell["kpi_id"], cell["rag"], cell["period_label"]) == (red.pk, "red", "Apr 2026")
    # Read without the ORM, converted as the ORM would on both databases.
    assert (Decimal(cell["value"]), cell["period"], cell["next_due"]) == (
        Decimal(90),
        "2026-04-01",
        "2026-06-05",
    )
    attention = ops.director.api.get(url, attention="true", page_size=1).json()
    assert [r["code"] for r in attention["items"]] == ["REP"]
    assert ops.director.api.get(url, page=5).json()["items"] == []
    assert_problem(ops.director.api.get(url, page_size=500), 422, "page_size")


def test_the_summary_counts_each_section(ops: Ops) -> None:
    reported(ops.service, "red")
    reported(ops.service, "green")
    kpi = kpi_with_values(ops, {"2026-01-01": "96", "2026-02-01": "80"})
    make_target(ops, kpi)
    RiskIssueFactory(service=ops.service, level=2)
    RiskIssueFactory(service=ops.service, kind="issue", level=3)
    RiskIssueFactory(service=ops.other_service)
    with as_of(dt.datetime(2026, 3, 3, tzinfo=dt.UTC)):
        data = ops.staff.api.get(f"{base(ops)}/operations").json()
    assert data["service"]["id"] == ops.service.pk
    # The KPI at 80 is amber on its thresholds but misses the level of 95: red.
    assert (data["kpis"]["total"], data["kpis"]["red"], data["kpis"]["green"]) == (3, 2, 1)
    assert data["status"]["rag"] == "red" and len(data["status"]["reasons"]) == 2
    assert data["levels"] == {
        "targets": 1,
        "periods_counted": 2,
        "periods_met": 1,
        "share_met": 0.5,
        "missed": 1,
        "no_report": 0,
    }
    assert data["items"] == {
        "open_risks": 1,
        "open_issues": 1,
        "by_level": {"1": 0, "2": 1, "3": 1},
    }
    assert data["changes"]["open"] == 0
    assert data["satisfaction"] == {"responses": 0, "average_rating": None}


# ---------------------------------------------------------------- tenancy


def test_it_answers_404_to_an_outsider_on_every_operation_of_this_part(
    ops: Ops, outsider: Persona, other_org: Any
) -> None:
    kpi = KPIFactory(service=ops.service)
    target = make_target(ops, kpi)
    operations = my_operations(outsider.api.client)
    assert len(operations) == 10
    bodies = {
        "post": body(ops, kpi),
        "patch": {"target": "1"},
    }
    rows = {"{id}": ops.service, "{target_id}": target}
    calls = [
        (method, path, bodies.get(method))
        for method, template, _ in operations
        for path in outsider_paths(template, rows, ops.org.slug, other_org.slug)
    ]
    with no_writes(target):
        assert outsider_failures(outsider.api, calls) == []
