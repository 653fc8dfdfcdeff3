"""Rows nested under a service are fetched within that service: a page of another
service (of another organisation, or of the same one) that names them answers 404 and
writes nothing. The per-part matrices prove the service itself is scoped; this proves
the nested lookups (KPI, target, item, action, change, improvement) are too."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.urls import URLPattern

from carte.catalogue.choices import Stage
from carte.catalogue.tests.factories import ServiceFactory
from carte.core.testing import no_writes
from carte.operations import urls
from carte.operations.choices import ActionPurpose
from carte.operations.models import Improvement, ItemAction, ServiceLevelTarget
from carte.operations.tests.conftest import Ops
from carte.operations.tests.factories import ChangeRequestFactory, KPIFactory, RiskIssueFactory

NESTED = [p for p in urls.urlpatterns if str(p.pattern).count("<") >= 2]


@pytest.fixture
def rows(ops: Ops) -> dict[str, Any]:
    """One row of each nested kind, on the organisation's first service."""
    kpi = KPIFactory(service=ops.service)
    item = RiskIssueFactory(service=ops.service, owner=ops.manager_person)
    return {
        "kpis": kpi,
        "levels": ServiceLevelTarget.objects.create(
            organisation=ops.org,
            service=ops.service,
            customer_group=ops.group,
            kpi=kpi,
            statement="Status pack within five working days",
            target=Decimal(95),
        ),
        "risks": item,
        "actions": ItemAction.objects.create(
            organisation=ops.org,
            item=item,
            purpose=ActionPurpose.MITIGATION,
            description="Book a second review panel",
            owner=ops.manager_person,
            due_date=dt.date(2026, 12, 1),
        ),
        "changes": ChangeRequestFactory(service=ops.service),
        "improvements": Improvement.objects.create(
            organisation=ops.org, service=ops.service, title="Shorter status pack"
        ),
    }


def _path(pattern: URLPattern, slug: str, service_id: int, rows: dict[str, Any]) -> str:
    path = "/o/" + slug + "/" + str(pattern.pattern)
    kind = "actions" if "<id:action>" in path else path.split("/operations/")[1].split("/")[0]
    path = path.replace("<id:pk>", str(service_id))
    for name in ("<id:kpi>", "<id:item>", "<id:action>"):
        path = path.replace(name, str(rows[kind].pk))
    assert "<" not in path, path  # every placeholder filled: the request reaches the view
    return path


@pytest.mark.parametrize("pattern", NESTED, ids=lambda p: p.name)
def test_a_nested_row_is_404_through_another_organisations_service(
    ops: Ops, rows: dict[str, Any], pattern: URLPattern
) -> None:
    theirs = ServiceFactory(organisation=ops.outsider.organisation, stage=Stage.RUNNING)
    path = _path(pattern, ops.outsider.organisation.slug, theirs.pk, rows)
    with no_writes(*rows.values()):
        assert ops.outsider.client.get(path).status_code == 404, path
        assert ops.outsider.client.post(path, {"note": "x"}).status_code == 404, path


@pytest.mark.parametrize("pattern", NESTED, ids=lambda p: p.name)
def test_a_nested_row_is_404_through_another_service_of_the_organisation(
    ops: Ops, rows: dict[str, Any], pattern: URLPattern
) -> None:
    path = _path(pattern, ops.org.slug, ops.other_service.pk, rows)
    with no_writes(*rows.values()):
        assert ops.director.client.get(path).status_code == 404, path
        assert ops.director.client.post(path, {"note": "x"}).status_code == 404, path


def _api_nested() -> list[tuple[str, str]]:
    from carte.urls import api

    return [
        (method, path)
        for path, item in api.get_openapi_schema()["paths"].items()
        for method, op in item.items()
        if op["operationId"].startswith("operations_") and "{id}" in path and path.count("{") >= 3
    ]


@pytest.mark.parametrize(("method", "path"), _api_nested())
def test_a_nested_row_is_404_through_another_service_in_the_api(
    ops: Ops, rows: dict[str, Any], method: str, path: str
) -> None:
    nested = rows["kpis"] if "{kpi_id}" in path else rows["levels"]
    url = (
        path.replace("{org}", ops.org.slug)
        .replace("{id}", str(ops.other_service.pk))
        .replace("{kpi_id}", str(nested.pk))
        .replace("{target_id}", str(nested.pk))
    )
    # A body each endpoint accepts, so the answer is about the rows, not the payload.
    if path.endswith("/measurements"):
        body: dict[str, Any] = {"period": "2026-01-01", "value": "90"}
    elif "{kpi_id}" in path:
        body = {"name": "Renamed"}
    else:
        body = {"statement": "Renamed"}
    with no_writes(*rows.values()):
        response = (
            ops.director.api.get(url)
            if method == "get"
            else getattr(ops.director.api, method)(url, body)
        )
        assert response.status_code == 404, url
