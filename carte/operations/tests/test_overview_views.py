"""The overview pages: a service's Operations tab (staff only, a section per part) and the
heat map of running services x their KPIs (cells, counts, filters, pages, bounded
queries, tenancy)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from carte.catalogue.choices import Stage
from carte.catalogue.tests.factories import CategoryFactory, ServiceFactory
from carte.conftest import Persona
from carte.core.clock import as_of
from carte.core.testing import assert_constant_queries
from carte.operations.models import KPI
from carte.operations.tests.conftest import Ops
from carte.operations.tests.factories import KPIFactory
from carte.operations.tests.test_levels_services import MOMENT, kpi_with_values, make_target

pytestmark = pytest.mark.django_db


def tab_url(ops: Ops, service: Any = None) -> str:
    return reverse("operations:service", args=[ops.org.slug, (service or ops.service).pk])


def heatmap_url(ops: Ops) -> str:
    return reverse("operations:heatmap", args=[ops.org.slug])


def html(response: Any) -> str:
    return str(response.content.decode())


def reported(service: Any, rag: str, *, period: str = "2026-04-01", **kwargs: Any) -> KPI:
    """A KPI whose latest report (kept by the measurement services) is `rag`."""
    kpi: KPI = KPIFactory(
        service=service,
        latest_rag=rag,
        latest_period=dt.date.fromisoformat(period) if rag else None,
        latest_value=Decimal(90) if rag else None,
        next_due=dt.date(2026, 6, 5),
        **kwargs,
    )
    return kpi


def cells(page: str) -> dict[str, str]:
    """KPI id -> the RAG of its cell on the heat map."""
    return dict(
        (kpi, rag) for rag, kpi in re.findall(r'data-rag="([a-z]+)" data-kpi="(\d+)"', page)
    )


# ---------------------------------------------------------------- the Operations tab


def test_the_tab_looks_like_the_other_service_pages(ops: Ops) -> None:
    response = ops.director.client.get(tab_url(ops))
    page = html(response)
    assert response.status_code == 200
    assert "Portfolio reporting" in page and "REP" in page
    assert 'aria-current="page">Operations</a>' in page
    assert reverse("lifecycle:service", args=[ops.org.slug, ops.service.pk]) in page
    assert reverse("service_detail", args=[ops.org.slug, ops.service.pk]) + "?tab=sipoc" in page
    assert 'data-section="levels"' in page


def test_every_staff_member_sees_the_tab_but_customers_do_not(ops: Ops) -> None:
    for persona in (ops.director, ops.pmo_manager, ops.owner, ops.operative, ops.staff, ops.viewer):
        assert persona.client.get(tab_url(ops)).status_code == 200
    assert ops.customer.client.get(tab_url(ops)).status_code == 403
    detail = reverse("service_detail", args=[ops.org.slug, ops.service.pk])
    assert tab_url(ops) not in html(ops.customer.client.get(detail))


def test_the_tab_runs_the_same_queries_at_two_sizes(ops: Ops) -> None:
    kpi = kpi_with_values(ops, {"2026-01-01": "96", "2026-02-01": "90"})
    make_target(ops, kpi)

    def grow() -> None:
        for i in range(6):
            more = kpi_with_values(
                ops, {"2026-01-01": "80", "2026-02-01": "99", "2026-03-01": "70"}, name=f"G{i}"
            )
            make_target(ops, more)

    with as_of(MOMENT):
        assert_constant_queries(lambda: ops.manager.client.get(tab_url(ops)), grow)


# ---------------------------------------------------------------- the heat map


def test_the_heat_map_shows_each_running_service_with_its_kpis(ops: Ops) -> None:
    red = reported(ops.service, "red", name="Packs on time", position=1)
    amber = reported(ops.service, "amber", name="Data quality", position=2)
    green = reported(ops.other_service, "green", name="Gates on the planned date")
    unreported = reported(ops.other_service, "", name="Lessons captured", position=5)
    late = reported(ops.other_service, "amber", name="Decisions logged", position=3)
    KPI.objects.filter(pk=late.pk).update(next_due=dt.date(2026, 5, 1))
    proposed = ServiceFactory(organisation=ops.org, code="NEW", stage=Stage.DESIGN)
    reported(proposed, "red", name="Not running")
    with as_of(MOMENT):
        response = ops.director.client.get(heatmap_url(ops))
    page = html(response)
    assert response.status_code == 200
    assert cells(page) == {
        str(red.pk): "red",
        str(amber.pk): "amber",
        str(green.pk): "green",
        str(late.pk): "amber",
        str(unreported.pk): "none",
    }
    assert page.index("REP") < page.index("GOV")  # worst first: REP red, GOV amber
    assert "Not running" not in page
    assert "1 red, 2 amber, 1 green, 1 not reported yet" in page
    assert "1 report overdue" in page
    assert "Apr 2026" in page and "Report overdue" in page
    assert ">KPIs, worst first</th>" in page and "KPI 1" not in page
    assert tab_url(ops) + "#kpis" in page


def test_the_heat_map_filters_by_category_pmo_and_attention(ops: Ops) -> None:
    reported(ops.service, "green")
    reported(ops.other_service, "red")
    elsewhere = ServiceFactory(
        organisation=ops.org,
        code="BEN",
        name="Benefits tracking",
        stage=Stage.RUNNING,
        category=CategoryFactory(organisation=ops.org, name="Value"),
    )
    reported(elsewhere, "amber")
    client = ops.director.client

    def codes(**params: Any) -> list[str]:
        page = html(client.get(heatmap_url(ops), params, headers={"HX-Request": "true"}))
        return re.findall(r"<strong>([A-Z]+)</strong>", page)

    assert codes() == ["GOV", "BEN", "REP"]  # red, amber, green
    assert codes(category=ops.service.category_id) == ["GOV", "REP"]
    assert codes(pmo=ops.pmo.pk) == ["REP"]
    assert codes(attention="true") == ["GOV", "BEN"]
    assert codes(status="amber") == ["BEN"]
    assert codes(category="x") == ["GOV", "BEN", "REP"]  # a bad filter is left out


def test_the_heat_map_pages_services_in_a_stable_order(ops: Ops) -> None:
    category = ops.service.category
    for i in range(52):
        ServiceFactory(
            organisation=ops.org, code=f"S{i:03d}", category=category, stage=Stage.RUNNING
        )
    first = html(ops.director.client.get(heatmap_url(ops)))
    second = html(ops.director.client.get(heatmap_url(ops), {"page": 2}))
    beyond = html(ops.director.client.get(heatmap_url(ops), {"page": 9}))
    codes = re.findall(r"<strong>([A-Z0-9]+)</strong>", first)
    assert len(codes) == 50 and codes[0] == "GOV"
    assert re.findall(r"<strong>([A-Z0-9]+)</strong>", second) == ["S048", "S049", "S050", "S051"]
    assert "Page 2 of 2" in second and "Page 2 of 2" in beyond
    assert "54 running services" in first


def test_the_heat_map_takes_any_page_number_and_says_when_nothing_matches(ops: Ops) -> None:
    reported(ops.service, "red")  # REP has a KPI, GOV none
    client = ops.director.client

    def rows(**params: Any) -> list[str]:
        page = html(client.get(heatmap_url(ops), params, headers={"HX-Request": "true"}))
        return re.findall(r"<strong>([A-Z]+)</strong>", page)

    for number in ("abc", "0", "-1", "99999999999"):  # the first page, or the last
        assert rows(page=number) == ["REP", "GOV"], number  # red, then no report yet
    gov = html(client.get(heatmap_url(ops), headers={"HX-Request": "true"}))
    start = gov.index(f"heatmap-row-{ops.other_service.pk}")
    gov_row = gov[start : gov.index("</tr>", start)]
    assert "No KPI" in gov_row and "data-kpi" not in gov_row
    empty = html(client.get(heatmap_url(ops), {"category": 0}, headers={"HX-Request": "true"}))
    assert "No running service matches." in empty
    assert "0 red, 0 amber" in empty and "0 running services" in empty


def test_the_heat_map_runs_the_same_queries_at_two_sizes(ops: Ops) -> None:
    reported(ops.service, "red")
    made = iter(range(1000))

    def grow() -> None:
        for _ in range(30):
            code = f"X{next(made):03d}"
            service = ServiceFactory(organisation=ops.org, code=code, stage=Stage.RUNNING)
            for rag in ("red", "amber", "green", ""):
                reported(service, rag)

    assert_constant_queries(lambda: ops.director.client.get(heatmap_url(ops)), grow)
    narrowed = {"attention": "true", "category": str(ops.service.category_id)}
    assert_constant_queries(lambda: ops.director.client.get(heatmap_url(ops), narrowed), grow)


def test_customers_do_not_see_the_heat_map(ops: Ops) -> None:
    assert ops.customer.client.get(heatmap_url(ops)).status_code == 403
    assert ops.viewer.client.get(heatmap_url(ops)).status_code == 200


def test_another_organisation_gets_404_on_every_overview_page(
    ops: Ops, outsider: Persona, other_org: Any
) -> None:
    from carte.operations.views.overview import urlpatterns

    reported(ops.service, "red", name="Hidden KPI")
    for pattern in urlpatterns:
        kwargs = {"pk": ops.service.pk} if "pk" in pattern.pattern.converters else {}
        for slug in (ops.org.slug, other_org.slug) if kwargs else (ops.org.slug,):
            path = reverse(f"operations:{pattern.name}", kwargs={"org": slug, **kwargs})
            assert outsider.client.get(path).status_code == 404, path
    # In their own organisation the outsider sees their own services only: not in the
    # grid, the counts, the filters' choices or the API.
    theirs = ServiceFactory(organisation=other_org, code="OWN", stage=Stage.RUNNING)
    reported(theirs, "green", name="Their KPI")
    response = outsider.client.get(reverse("operations:heatmap", args=[other_org.slug]))
    own = html(response)
    assert response.status_code == 200 and "Their KPI" in own
    assert "Hidden KPI" not in own and "REP" not in own
    assert "0 red, 0 amber, 1 green" in own and "1 running service" in own
    assert ops.pmo.name not in own and ops.service.category.name not in own
    api = outsider.api.get(f"/api/v1/orgs/{other_org.slug}/heatmap").json()
    assert [r["code"] for r in api["items"]] == ["OWN"]
    assert (api["count"], api["totals"]["red"], api["totals"]["green"]) == (1, 0, 1)


def test_the_home_page_counts_what_needs_attention_for_staff_only(ops: Ops) -> None:
    from carte.operations.choices import ChangeState, Level
    from carte.operations.services.measurements import refresh_kpis
    from carte.operations.tests.factories import ChangeRequestFactory, RiskIssueFactory

    late = KPIFactory(service=ops.service, reporting_from=dt.date(2025, 1, 1))
    refresh_kpis([late])  # nothing reported since January 2025: overdue
    RiskIssueFactory(service=ops.service, level=Level.OWNERSHIP)
    RiskIssueFactory(service=ops.service)  # level 1: not counted
    ChangeRequestFactory(service=ops.service, state=ChangeState.SUBMITTED)
    home = f"/o/{ops.org.slug}/"
    page = ops.director.client.get(home).content.decode()
    for name, count in (("overdue", 1), ("red", 0), ("escalated", 1), ("waiting", 1)):
        assert f'data-testid="count-{name}">{count}<' in page, name
    assert 'data-testid="count-overdue"' not in ops.customer.client.get(home).content.decode()
