"""The overview pages: a service's Operations tab (a section from each part: KPIs, service
levels, risks and issues, changes and satisfaction) and the organisation's heat map of
running services x their KPIs."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from html import escape
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.safestring import SafeString, mark_safe

from carte.catalogue.selectors import Audience, service_for
from carte.catalogue.views import TABS
from carte.core.exports import export_format, table_download
from carte.core.permissions import CHANGE, can
from carte.core.views import is_htmx
from carte.operations import status
from carte.operations.filters import HeatmapFilter
from carte.operations.selectors import heatmap as heatmap_selectors
from carte.operations.selectors import overview as selectors
from carte.organisations.access import org_view
from carte.organisations.actor import Actor


@org_view
def service_operations(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    """A service's Operations tab: its KPIs with RAG and sparklines, service-level
    attainment, open risks and issues by escalation level, open changes and
    improvements, and satisfaction."""
    service = service_for(
        actor=actor, pk=pk, audience=Audience.STAFF, related=("category", "current_version")
    )
    sections = selectors.tab_sections(actor, service)
    kpis = next((s.data for s in sections if s.name == "kpis"), {})
    context = {
        "service": service,
        "sections": sections,
        "service_status": kpis.get("status"),
        "rule": status.RULE,
        "tabs": TABS,
        "can_change": can(actor, CHANGE, service),
        "actor": actor,
    }
    return render(request, "operations/service_tab.html", context)


# Each RAG's look in a cell: the data-rag value, the badge's colours, its letter (the
# status is never told by colour alone) and its name. Constants: already HTML.
LOOK = {
    "red": ("red", "bg-red text-red-fg", "R", "Red"),
    "amber": ("amber", "bg-yellow text-yellow-fg", "A", "Amber"),
    "green": ("green", "bg-green text-green-fg", "G", "Green"),
    "": ("none", "bg-secondary-lt", "&mdash;", "No report yet"),
}
NO_KPI = (
    '<td class="text-secondary text-center"><span aria-hidden="true">&middot;</span>'
    '<span class="visually-hidden">No KPI</span></td>'
)
# The same looks for the counts of services by status, as template text (not HTML).
COUNT_LOOK = {
    "red": ("bg-red text-red-fg", "R"),
    "amber": ("bg-yellow text-yellow-fg", "A"),
    "green": ("bg-green text-green-fg", "G"),
    "none": ("bg-secondary-lt", "—"),
}
LATE = " Report overdue."
LATE_MARK = '<b class="hm-late" aria-hidden="true"> !</b>'


def grid(rows: Sequence[heatmap_selectors.HeatmapRow], head: str, tail: str) -> SafeString:
    """The heat map's rows as HTML. A page holds 50 services x their KPIs: through the
    template engine (or `format_html`, whose lazy-string checks dominate) they took longer
    than the page's SQL, and the page must stay within twice its SQL (issue 5).

    Each row: the service, its status with the reasons (visible, and as the badge's
    title), then its KPIs worst first, each cell naming its KPI, with its status's reason
    as the cell's title (on hover) and as text for a screen reader.

    Every text from the database goes through `html.escape` (each distinct one once: KPI
    names and periods repeat from row to row) and is only ever joined to other escaped
    text or to this module's constants. The layout is in `carte.css` (`.hm-*`), so a cell
    carries its content, not a dozen classes."""
    memo: dict[str, str] = {}

    def esc(text: str) -> str:
        found = memo.get(text)
        if found is None:
            found = memo[text] = escape(text)
        return found

    html = []
    for row in rows:
        url = escape(f"{head}{int(row.id)}{tail}")
        cells = []
        for c in row.cells:
            if c is None:
                cells.append(NO_KPI)
                continue
            rag, badge, letter, label = LOOK.get(c.rag, LOOK[""])
            name = esc(c.name)
            period = esc(c.period_label) if c.period_label else ""
            late = LATE if c.overdue else ""
            why = f"{label}. {escape(c.status.reason)}{late}"
            note = c.status.note
            note = f" · {esc(note)}" if note else ""
            cells.append(
                f'<td data-rag="{rag}" data-kpi="{int(c.id)}"><a class="hm-cell" '
                f'href="{url}#kpis" title="{why}"><span class="badge {badge}" '
                f'aria-hidden="true">{letter}</span><span class="hm-kpi"><span>{name}</span>'
                f'<small aria-hidden="true">{period or "no report"}{note}'
                f"{LATE_MARK if late else ''}</small></span>"
                f'<span class="visually-hidden">: {why}</span></a></td>'
            )
        state = row.status
        rag, badge, letter, label = LOOK.get(state.rag, LOOK[""])
        html.append(
            f'<tr data-testid="heatmap-row-{int(row.id)}" data-status="{rag}">'
            f'<th scope="row" class="fw-normal">'
            f'<a href="{url}"><strong>{esc(row.code)}</strong> {esc(row.name)}</a>'
            f'<div class="small text-secondary">{esc(row.category)}</div></th>'
            f'<td data-testid="status-{int(row.id)}"><span class="badge {badge}" '
            f'title="{label}: {escape(state.reason)}"><span aria-hidden="true">{letter}</span> '
            f'{label}</span><div class="small text-secondary text-nowrap">'
            f"{escape(state.summary)}</div></td>{''.join(cells)}</tr>"
        )
    return mark_safe("".join(html))  # noqa: S308 - every value escaped above


HEATMAP_COLUMNS = [
    "Service",
    "Category",
    "Service status",
    "Why",
    "KPI",
    "Latest period",
    "Value",
    "Unit",
    "KPI status",
    "Comment",
    "Report overdue",
]


def heatmap_rows(rows: Iterable[heatmap_selectors.HeatmapRow]) -> Iterator[list[Any]]:
    """The heat map as a table: one row per KPI (worst first within a service), with its
    service's status and reasons; a service without a KPI has one row saying so."""
    for row in rows:
        service = [f"{row.code} {row.name}", row.category, row.status.label, row.status.reason]
        cells = [c for c in row.cells if c is not None]
        if not cells:
            yield [*service, None, None, None, None, None, None, None]
        for c in cells:
            yield [
                *service,
                c.name,
                c.period_label or None,
                c.value.normalize() if c.value is not None else None,
                c.unit or None,
                c.status.label,
                c.status.comment or None,
                c.overdue,
            ]


@org_view
def heatmap(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Running services worst first, each with its status and the reasons, and its KPIs'
    statuses worst first, each cell naming its KPI."""
    filters, errors = HeatmapFilter.from_query(request.GET.dict())
    fmt = export_format(request)
    if fmt:
        return table_download(
            fmt=fmt,
            filename="heat-map",
            title="Heat map",
            columns=HEATMAP_COLUMNS,
            rows=heatmap_rows(heatmap_selectors.every_row(actor, filters)),
        )
    result = heatmap_selectors.heatmap(actor, filters, page=request.GET.get("page"))
    # One reverse() for the page: the links differ only in the service's id.
    link = reverse("operations:service", args=[actor.organisation.slug, 0])
    head, tail = link.split("/0/", 1)
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    # The counts by status link to the services they count: the other filters kept.
    others = query.copy()
    for name in ("status", "attention"):
        others.pop(name, None)
    counts = [
        (value, label, result.services[value], *COUNT_LOOK[value])
        for value, label in status.FILTER_LABELS
    ]
    context = {
        "heatmap": result,
        "rows": grid(result.rows, head + "/", "/" + tail),
        "filters": filters,
        "filter_errors": errors,
        "options": heatmap_selectors.heatmap_filter_options(actor),
        "statuses": status.FILTER_LABELS,
        "selected": {
            "category": str(filters.category or ""),
            "pmo": str(filters.pmo or ""),
            "status": filters.status or "",
        },
        "query": query.urlencode(),
        "others": others.urlencode(),
        "counts": counts,
        "rule": status.RULE,
    }
    template = "operations/heatmap_results.html" if is_htmx(request) else "operations/heatmap.html"
    return render(request, template, context)


urlpatterns = [
    path("catalogue/services/<id:pk>/operations/", service_operations, name="service"),
    path("operations/heatmap/", heatmap, name="heatmap"),
]
