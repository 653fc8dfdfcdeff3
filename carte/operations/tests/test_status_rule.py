"""One rule for red, amber and green (issue 13, defects 6 and 7): a KPI is red, amber or
green by its latest value against its thresholds, and red when that value misses a service
level agreed on it; a service takes the worst status of its KPIs. The same rule on the heat
map (worst first, filtered by status, reasons on hover and as text), on a service's
Operations tab, in the API and in the home page's count, which lists exactly what it
counts."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from itertools import count
from typing import Any

import pytest
from django.urls import reverse

from carte.catalogue.choices import Stage
from carte.catalogue.models import Service
from carte.catalogue.tests.factories import ServiceCustomerFactory, ServiceFactory
from carte.core.clock import as_of
from carte.core.testing import assert_constant_queries
from carte.operations import status
from carte.operations.choices import Direction
from carte.operations.filters import HeatmapFilter
from carte.operations.models import KPI, ServiceLevelTarget
from carte.operations.selectors.heatmap import heatmap, status_counts
from carte.operations.services.measurements import refresh_kpis
from carte.operations.tests.conftest import Ops
from carte.operations.tests.factories import KPIFactory, MeasurementFactory
from carte.organisations.tests.factories import CustomerGroupFactory

pytestmark = pytest.mark.django_db

MOMENT = dt.datetime(2026, 5, 10, 9, tzinfo=dt.UTC)
codes = count()


def html(response: Any) -> str:
    return str(response.content.decode())


def heatmap_url(ops: Ops) -> str:
    return reverse("operations:heatmap", args=[ops.org.slug])


def reported(service: Service, value: str | None, *, comment: str = "", **kwargs: Any) -> KPI:
    """A monthly KPI (higher is better: target 95, amber below 90, red below 80 unless
    given) whose latest value, for April 2026, is `value` (None: not reported)."""
    kpi: KPI = KPIFactory(service=service, **kwargs)
    if value is not None:
        MeasurementFactory(
            kpi=kpi, period=dt.date(2026, 4, 1), value=Decimal(value), comment=comment
        )
    refresh_kpis([kpi])
    kpi.refresh_from_db()
    return kpi


def level(kpi: KPI, target: str, group: Any, **kwargs: Any) -> ServiceLevelTarget:
    """A service level agreed with `group` on `kpi` (written as a fixture: the rule reads it)."""
    found: ServiceLevelTarget = ServiceLevelTarget.objects.create(
        organisation=kpi.organisation,
        service=kpi.service,
        customer_group=group,
        kpi=kpi,
        statement=f"{kpi.name} at {target}",
        target=Decimal(target),
        **kwargs,
    )
    return found


def running(ops: Ops, code: str = "") -> Service:
    service: Service = ServiceFactory(
        organisation=ops.org,
        category=ops.service.category,
        code=code or f"S{next(codes):03d}",
        stage=Stage.RUNNING,
    )
    ServiceCustomerFactory(service=service, customer_group=ops.group)
    return service


def rows_of(page: str) -> list[str]:
    """The services' codes, in the heat map's order."""
    return re.findall(r"<strong>([A-Z0-9]+)</strong>", page)


def cell(page: str, kpi: KPI) -> str:
    start = page.rindex("<td", 0, page.index(f'data-kpi="{kpi.pk}"'))
    return page[start : page.index("</td>", start)]


# ---------------------------------------------------------------- the rule


def test_a_value_missing_a_service_level_is_red_whatever_its_thresholds_say() -> None:
    green = status.kpi_status(
        name="Packs on time",
        own="green",
        value=Decimal("92"),
        unit="%",
        direction=Direction.HIGHER,
        period_label="Apr 2026",
        comment="Two packs were late.",
        targets=[("Finance", Decimal("95")), ("HR", Decimal("90"))],
    )
    assert (green.rag, green.own) == ("red", "green")
    assert green.reason == (
        "Packs on time was 92% in Apr 2026, missing the service level agreed with Finance "
        "(at least 95%). Comment: “Two packs were late.”"
    )
    met = status.kpi_status(
        name="Lead time",
        own="amber",
        value=Decimal("4"),
        unit="days",
        direction=Direction.LOWER,
        period_label="Apr 2026",
        targets=[("Finance", Decimal("5"))],
    )
    assert met.rag == "amber" and met.reason.endswith("amber against its thresholds.")
    service = status.service_status([met, green])
    assert service.rag == "red" and service.reasons == [green.reason]
    assert [k.name for k in service.kpis] == ["Packs on time", "Lead time"]  # worst first
    assert status.service_status([]).rag == ""


def test_the_rule_in_sql_agrees_with_the_rule_in_python(ops: Ops) -> None:
    """Every case of the rule, on its own service: the heat map's rows carry the Python
    status, its order and `?status=` filter come from SQL; they must agree."""
    other_group = CustomerGroupFactory(organisation=ops.org, name="HR programmes")
    cases: dict[str, str] = {}

    def case(expected: str, *values: tuple[str | None, list[str], dict[str, Any]]) -> None:
        service = running(ops)
        for value, targets, extra in values:
            kpi = reported(service, value, **extra)
            for i, target in enumerate(targets):
                level(kpi, target, ops.group if i == 0 else other_group)
        cases[service.code] = expected

    case("green", ("96", ["95"], {}))
    case("red", ("92", ["95"], {}))  # green on its thresholds, misses the level
    case("amber", ("85", ["80"], {}))
    case("red", ("70", [], {}))
    case("", (None, ["95"], {}))
    case("")  # no KPI at all
    lower = {"direction": Direction.LOWER, "target": 5, "amber": 7, "red": 9}
    case("red", ("6", ["5"], lower))  # lower is better: 6 misses "at most 5"
    case("green", ("5", ["5"], lower))
    case("amber", ("96", ["95", "90"], {}), ("88", [], {}), (None, [], {}))
    case("red", ("96", ["95", "97"], {}))  # one group's level missed
    archived = running(ops)
    kpi = reported(archived, "92")
    level(kpi, "95", ops.group, archived_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    dropped = reported(archived, "50")
    KPI.objects.filter(pk=dropped.pk).update(archived_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    cases[archived.code] = "green"  # an archived level or KPI does not count

    actor = ops.director.actor
    with as_of(MOMENT):
        everything = heatmap(actor, page=1, size=200)
        shown = {row.code: row.status.rag for row in everything.rows}
        by_filter = {
            name: {
                row.code
                for row in heatmap(
                    actor, HeatmapFilter.model_validate({"status": name}), 1, 200
                ).rows
            }
            for name in status.FILTERS
        }
    assert {code: shown[code] for code in cases} == cases
    ranks = [status.RANK[row.status.rag] for row in everything.rows]
    assert ranks == sorted(ranks, reverse=True)  # the SQL's order is the Python's
    for name, rank in status.FILTERS.items():
        expected = {code for code, rag in shown.items() if status.RANK[rag] == rank}
        assert by_filter[name] == expected, name
        assert everything.services[name] == len(expected), name
    assert everything.totals["red"] == sum(
        1 for row in everything.rows for c in row.cells if c and c.rag == "red"
    )


# ---------------------------------------------------------------- the heat map


def test_the_heat_map_lists_red_services_worst_first_with_the_reasons(ops: Ops) -> None:
    breached = reported(
        ops.service, "92", name="Packs on time", comment="Two packs late.", position=5
    )
    level(breached, "95", ops.group)
    reported(ops.service, "97", name="Gate reviews on the planned date", position=1)
    reported(ops.other_service, "85", name="Decisions logged")  # amber
    calm = running(ops, "AAA")
    reported(calm, "99", name="Lessons captured")
    client = ops.director.client
    with as_of(MOMENT):
        page = html(client.get(heatmap_url(ops)))
        red = html(client.get(heatmap_url(ops), {"status": "red"}))
        green = html(client.get(heatmap_url(ops), {"status": "green"}))

    assert rows_of(page) == ["REP", "GOV", "AAA"]  # red, amber, green: worst first
    assert rows_of(red) == ["REP"] and rows_of(green) == ["AAA"]
    assert status.RULE in page
    # The counts by status link to exactly the services they count.
    assert re.search(r'href="\?status=red"><span aria-hidden="true">R</span> 1 red<', page)
    assert re.search(r'href="\?status=amber"><span aria-hidden="true">A</span> 1 amber<', page)
    # Cells name their KPI; no column pretends one KPI is in every row.
    assert "KPI 1" not in page
    first = cell(page, breached)
    assert 'data-rag="red"' in first and "Packs on time" in first
    reason = "missing the service level agreed with Finance programmes (at least 95%)"
    title = re.search(r'title="([^"]*)"', first)
    assert title and reason in title.group(1) and "Two packs late." in title.group(1)
    hidden = re.search(r'<span class="visually-hidden">([^<]*)</span>', first)
    assert hidden and reason in hidden.group(1) and "Two packs late." in hidden.group(1)
    # The worst KPI comes first in its row, before the one placed first on the service.
    row = page[page.index(f"heatmap-row-{ops.service.pk}") :]
    assert row.index("Packs on time") < row.index("Gate reviews on the planned date")
    # The service's status and why, in words.
    status_cell = row[row.index('data-testid="status-') : row.index("</td>")]
    assert "Red" in status_cell and reason in status_cell


def test_a_comment_with_markup_is_shown_as_text(ops: Ops) -> None:
    kpi = reported(ops.service, "70", comment='<b onmouseover="x">late</b> & "quoted"')
    with as_of(MOMENT):
        page = html(ops.director.client.get(heatmap_url(ops), {"status": "red"}))
    found = cell(page, kpi)
    assert "<b onmouseover" not in page
    assert "&lt;b onmouseover=&quot;x&quot;&gt;late&lt;/b&gt; &amp; &quot;quoted&quot;" in found


def test_the_heat_map_filtered_by_status_runs_the_same_queries_at_two_sizes(ops: Ops) -> None:
    kpi = reported(ops.service, "92", comment="Late.")
    level(kpi, "95", ops.group)
    reported(ops.other_service, "85")  # amber

    def grow() -> None:
        for i in range(12):
            service = running(ops)
            for value in ("92", "85", "70", None):
                more = reported(service, value, comment=f"Note {i}")
                level(more, "95", ops.group)
            reported(running(ops), "85", comment=f"Amber {i}")

    with as_of(MOMENT):
        for params in ({}, {"status": "red"}, {"attention": "true", "status": "amber"}):
            assert_constant_queries(
                lambda params=params: ops.director.client.get(heatmap_url(ops), params),  # type: ignore[misc]
                grow,
            )


# ---------------------------------------------------------------- the other pages


def test_the_home_count_links_to_exactly_the_services_it_counts(ops: Ops) -> None:
    breached = reported(ops.service, "92")  # green on its thresholds, misses the level
    level(breached, "95", ops.group)
    reported(ops.other_service, "85")  # amber: not red
    for _ in range(2):
        reported(running(ops), "70")  # red on its thresholds
    client = ops.director.client
    with as_of(MOMENT):
        home = html(client.get(f"/o/{ops.org.slug}/"))
        card = re.search(
            r'<a class="card card-link" href="([^"]+)">(?:(?!</a>).)*count-red">(\d+)<', home
        )
        assert card is not None
        listed = html(client.get(card.group(1).replace("&amp;", "&")))
    assert "Services red now" in home
    assert int(card.group(2)) == 3 == len(rows_of(listed))
    assert "GOV" not in rows_of(listed) and "REP" in rows_of(listed)
    assert status_counts(ops.director.actor)["red"] == 3


def test_the_operations_tab_says_the_service_is_red_and_why(ops: Ops) -> None:
    breached = reported(ops.service, "92", name="Packs on time", comment="Two packs late.")
    level(breached, "95", ops.group)
    reported(ops.service, "97", name="Gate reviews")
    url = reverse("operations:service", args=[ops.org.slug, ops.service.pk])
    with as_of(MOMENT):
        page = html(ops.director.client.get(url))
    assert "1 green, 0 amber, 1 red" in page  # the KPIs' counts follow the rule
    found = page[page.index('data-testid="service-status"') :]
    assert 'data-rag="red"' in found[: found.index("</div>")]
    assert "missing the service level agreed with Finance programmes (at least 95%)" in found
    assert status.RULE in page
    kpi_cell = page[page.index(f'data-testid="kpi-status-{breached.pk}"') :]
    kpi_cell = kpi_cell[: kpi_cell.index("</td>")]
    assert 'data-rag="red"' in kpi_cell and "Finance programmes (at least 95%)" in kpi_cell
    assert "Two packs late." in kpi_cell


def test_the_api_gives_each_status_with_its_reason(ops: Ops) -> None:
    breached = reported(ops.service, "92", name="Packs on time")
    level(breached, "95", ops.group)
    reported(ops.other_service, "96")
    api = ops.director.api
    with as_of(MOMENT):
        data = api.get(f"/api/v1/orgs/{ops.org.slug}/heatmap", status="red").json()
        summary = api.get(f"/api/v1/orgs/{ops.org.slug}/services/{ops.service.pk}/operations")
    (row,) = data["items"]
    assert row["code"] == "REP" and row["status"]["rag"] == "red"
    (kpi,) = row["cells"]
    assert (kpi["rag"], kpi["own_rag"]) == ("red", "green")
    assert "Finance programmes (at least 95%)" in kpi["reason"]
    assert data["services"] == {"red": 1, "amber": 0, "green": 1, "none": 0}
    assert summary.json()["status"]["rag"] == "red"
