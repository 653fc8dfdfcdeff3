"""The overview pages: a service's Operations tab (a section from each part: KPIs, service
levels, risks and issues, changes and satisfaction) and the organisation's heat map of
running services x their KPIs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.safestring import SafeString, mark_safe

from carte.catalogue.views import TABS
from carte.core.permissions import CHANGE, Actor, can
from carte.core.views import is_htmx, org_view
from carte.operations.selectors import heatmap as heatmap_selectors
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


ROW = (
    '<tr data-testid="heatmap-row-{id}"><th scope="row" class="fw-normal"><a href="{url}">'
    '<strong>{code}</strong> {name}</a><div class="small text-secondary">{category}</div>'
    "</th>{cells}</tr>"
)


def _cell(c: heatmap_selectors.Cell | None, url: str, esc: Callable[[str], str]) -> str:
    """One cell's HTML; every value that is not a constant of this module is escaped
    (`url` already is)."""
    if c is None:
        return NO_KPI
    label = heatmap_selectors.RAG_LABELS.get(c.rag, c.rag)
    status = label + (", report overdue" if c.overdue else "")
    title = f"{c.name}: {label}"
    if c.period_label:
        title += f", {c.period_label}"
    if c.overdue:
        title += ", report overdue"
    return CELL.format(
        rag=esc(c.rag or "none"),
        id=int(c.id),
        url=url,
        title=esc(title),
        badge=BADGES.get(c.rag, BADGES[""]),
        letter=esc(heatmap_selectors.RAG_LETTERS.get(c.rag, "—")),
        name=esc(c.name),
        period=esc(c.period_label or "no report"),
        overdue=OVERDUE if c.overdue else "",
        status=esc(status),
    )


def grid(rows: Sequence[heatmap_selectors.HeatmapRow], head: str, tail: str) -> SafeString:
    """The heat map's rows as escaped HTML. A page holds 50 services x their KPIs:
    through the template engine (or `format_html`, whose lazy-string checks dominate)
    they took longer than the page's SQL, and the page must stay within twice its SQL
    (issue 5). Plain `html.escape` on each value is safe; KPI names, periods and
    statuses repeat from row to row, so each distinct text is escaped once."""
    memo: dict[str, str] = {}

    def esc(text: str) -> str:
        found = memo.get(text)
        if found is None:
            found = memo[text] = escape(text)
        return found

    html = []
    for row in rows:
        url = escape(f"{head}{row.id}{tail}")
        html.append(
            ROW.format(
                id=int(row.id),
                url=url,
                code=esc(row.code),
                name=esc(row.name),
                category=esc(row.category or ""),
                cells="".join(_cell(c, url, esc) for c in row.cells),
            )
        )
    return mark_safe("".join(html))  # noqa: S308 - every value escaped above


@org_view
def heatmap(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Running services x their KPIs, each cell the KPI's latest RAG and period."""
    filters, errors = heatmap_selectors.HeatmapFilter.from_query(request.GET.dict())
    result = heatmap_selectors.heatmap(actor, filters, page=request.GET.get("page"))
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
        "options": heatmap_selectors.heatmap_filter_options(actor),
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
