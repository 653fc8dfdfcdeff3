"""The overview pages: a service's Operations tab (a section from each part: KPIs, service
levels, risks and issues, changes and satisfaction) and the organisation's heat map of
running services x their KPIs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.safestring import SafeString, mark_safe

from carte.catalogue.views import TABS
from carte.core.permissions import CHANGE, Actor, can
from carte.core.views import is_htmx, org_view
from carte.operations.selectors import overview as selectors


@org_view
def service_operations(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    """A service's Operations tab: its KPIs with RAG and sparklines, service-level
    attainment, open risks and issues by escalation level, open changes and
    improvements, and satisfaction."""
    service = selectors.service_for_operations(actor=actor, pk=pk)
    sections = selectors.tab_sections(actor, service)
    context = {
        "service": service,
        "sections": sections,
        "tabs": TABS,
        "can_change": can(actor, CHANGE, service),
        "actor": actor,
    }
    return render(request, "operations/service_tab.html", context)


BADGES = {
    "red": "bg-red text-red-fg",
    "amber": "bg-yellow text-yellow-fg",
    "green": "bg-green text-green-fg",
    "": "bg-secondary-lt",
}
NO_KPI = (
    '<td class="text-secondary text-center"><span aria-hidden="true">·</span>'
    '<span class="visually-hidden">No KPI</span></td>'
)
OVERDUE = ' <span class="text-orange fw-bold" aria-hidden="true">!</span>'
CELL = (
    '<td class="p-1" data-rag="{rag}" data-kpi="{id}"><a class="d-flex align-items-center '
    'gap-2 text-reset text-decoration-none" href="{url}#kpis" title="{title}">'
    '<span class="badge {badge}" aria-hidden="true">{letter}</span>'
    '<span class="small lh-sm"><span class="d-block text-truncate">{name}</span>'
    '<span class="text-secondary">{period}</span>{overdue}</span>'
    '<span class="visually-hidden">: {status}</span></a></td>'
)


@dataclass(frozen=True)
class GridRow:
    id: int
    code: str
    name: str
    category: str
    url: str
    cells: SafeString


def _cell(c: dict[str, Any] | None, url: str) -> str:
    """One cell's HTML; every value that is not a constant of this module is escaped."""
    if c is None:
        return NO_KPI
    status = c["rag_label"] + (", report overdue" if c["overdue"] else "")
    title = f"{c['name']}: {c['rag_label']}"
    if c["period_label"]:
        title += f", {c['period_label']}"
    if c["overdue"]:
        title += ", report overdue"
    return CELL.format(
        rag=escape(c["rag"] or "none"),
        id=int(c["id"]),
        url=escape(url),
        title=escape(title),
        badge=BADGES.get(c["rag"], BADGES[""]),
        letter=escape(c["letter"]),
        name=escape(c["name"]),
        period=escape(c["period_label"] or "no report"),
        overdue=OVERDUE if c["overdue"] else "",
        status=escape(status),
    )


def grid(rows: Sequence[selectors.HeatmapRow], head: str, tail: str) -> list[GridRow]:
    """The heat map's rows with their cells as escaped HTML. A page holds 50 x 5 cells:
    through the template engine (or `format_html`, whose lazy-string checks dominate)
    they took longer than the page's SQL, and the page must stay within twice its SQL
    (issue 5); plain `html.escape` on each value is safe and a fraction of the cost."""
    result = []
    for row in rows:
        url = f"{head}{row.id}{tail}"
        cells = mark_safe("".join(_cell(c, url) for c in row.cells))  # noqa: S308 - escaped above
        result.append(GridRow(row.id, row.code, row.name, row.category, url, cells))
    return result


@org_view
def heatmap(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Running services x their KPIs, each cell the KPI's latest RAG and period."""
    filters, errors = selectors.HeatmapFilter.from_query(request.GET.dict())
    result = selectors.heatmap(actor, filters, page=request.GET.get("page"))
    # One reverse() for the page: the links differ only in the service's id.
    link = reverse("operations:service", args=[actor.organisation.slug, 0])
    head, tail = link.split("/0/", 1)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "heatmap": result,
        "rows": grid(result.rows, head + "/", "/" + tail),
        "columns": range(1, result.width + 1),
        "filters": filters,
        "filter_errors": errors,
        "options": selectors.heatmap_filter_options(actor),
        "selected": {
            "category": str(filters.category or ""),
            "pmo": str(filters.pmo or ""),
        },
        "query": query.urlencode(),
    }
    template = "operations/heatmap_results.html" if is_htmx(request) else "operations/heatmap.html"
    return render(request, template, context)


urlpatterns = [
    path("catalogue/services/<int:pk>/operations/", service_operations, name="service"),
    path("operations/heatmap/", heatmap, name="heatmap"),
]
