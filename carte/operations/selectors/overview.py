"""Reads of the overview pages: a service's Operations tab (its sections come from each
part's selector) and the organisation's heat map of running services x their KPIs.

The heat map reads the KPI rows only: each KPI carries its latest period, value and RAG
and its next due date (kept by the measurement services), so no aggregate over the
measurements is needed. A page is two queries, the page of services (with the total from
a window, `COUNT(*) OVER ()`) and the KPIs of those services as plain rows, plus one
aggregate for the counts at the top.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page
from django.db.models import Avg, Count, Exists, OuterRef, Q, QuerySet
from ninja import Schema
from pydantic import Field

from carte.catalogue import selectors as catalogue_selectors
from carte.catalogue.choices import Stage
from carte.catalogue.models import Service
from carte.core.clock import today
from carte.core.errors import forbidden
from carte.core.listing import FromQuery, get_for, window_page
from carte.core.permissions import VIEW, Actor, can, require
from carte.operations import periods
from carte.operations.choices import (
    ChangeState,
    ImprovementStatus,
    ItemKind,
    ItemStatus,
    Level,
    Rag,
)
from carte.operations.models import (
    KPI,
    ChangeRequest,
    Feedback,
    Improvement,
    RiskIssue,
)

HEATMAP_PAGE = 50
RAG_LETTERS = {Rag.RED: "R", Rag.AMBER: "A", Rag.GREEN: "G", "": "—"}
RAG_LABELS = {Rag.RED: "Red", Rag.AMBER: "Amber", Rag.GREEN: "Green", "": "No report yet"}
ATTENTION = (Rag.RED, Rag.AMBER)


# ---------------------------------------------------------------- the Operations tab


def service_for_operations(*, actor: Actor, pk: int | str) -> Service:
    """The service whose Operations tab is shown. Running a service is the PMO's
    business: a customer gets the catalogue's answer for the service (404 unless it is
    published to them) and then 403; another organisation's service is a 404."""
    if not can(actor, VIEW, KPI):
        catalogue_selectors.service_get(actor=actor, pk=pk)
        raise forbidden("The operations of a service are for the PMO's staff.")
    qs = Service.objects.select_related("category", "current_version").defer(
        "current_version__snapshot"
    )
    return get_for(actor, qs, pk)


@dataclass(frozen=True)
class Section:
    name: str
    template: str
    data: dict[str, Any]


def tab_sections(actor: Actor, service: Service) -> list[Section]:
    """The tab's parts in order, each computed by its own part's selector and drawn by
    its own template (`operations/_section_<name>.html`)."""
    from carte.operations.selectors import changes, items, kpis, levels

    parts: tuple[tuple[str, Callable[[Actor, Service], dict[str, Any]]], ...] = (
        ("kpis", kpis.section),
        ("levels", levels.section),
        ("items", items.section),
        ("changes", changes.section),
    )
    return [
        Section(name, f"operations/_section_{name}.html", make(actor, service))
        for name, make in parts
    ]


def operations_summary(actor: Actor, service: Service) -> dict[str, Any]:
    """The tab in figures, for the API: KPIs by RAG, service levels, open risks and
    issues by escalation level, open changes and improvements, satisfaction."""
    from carte.operations.selectors import levels

    require(actor, VIEW, KPI)
    on = today()
    kpis = KPI.objects.filter(service=service, archived_at__isnull=True).aggregate(
        total=Count("id"),
        red=Count("id", filter=Q(latest_rag=Rag.RED)),
        amber=Count("id", filter=Q(latest_rag=Rag.AMBER)),
        green=Count("id", filter=Q(latest_rag=Rag.GREEN)),
        unreported=Count("id", filter=Q(latest_rag="")),
        overdue=Count("id", filter=Q(next_due__lt=on)),
    )
    rows = levels.attainment(actor, service)
    counted = sum(r.counted for r in rows)
    met = sum(r.met for r in rows)
    items = RiskIssue.objects.filter(
        service=service, archived_at__isnull=True, status=ItemStatus.OPEN
    ).aggregate(
        risks=Count("id", filter=Q(kind=ItemKind.RISK)),
        issues=Count("id", filter=Q(kind=ItemKind.ISSUE)),
        **{f"level_{level.value}": Count("id", filter=Q(level=level.value)) for level in Level},
    )
    changes = ChangeRequest.objects.filter(
        service=service,
        archived_at__isnull=True,
        state__in=(ChangeState.DRAFT, ChangeState.SUBMITTED, ChangeState.APPROVED),
    ).aggregate(
        **{
            state: Count("id", filter=Q(state=state))
            for state in (ChangeState.DRAFT, ChangeState.SUBMITTED, ChangeState.APPROVED)
        }
    )
    improvements = Improvement.objects.filter(
        service=service,
        archived_at__isnull=True,
        status__in=(
            ImprovementStatus.IDEA,
            ImprovementStatus.IN_PROGRESS,
            ImprovementStatus.AWAITING,
        ),
    ).count()
    feedback = Feedback.objects.filter(service=service, archived_at__isnull=True).aggregate(
        count=Count("id"), average=Avg("rating")
    )
    average = feedback["average"]
    return {
        "service": service,
        "kpis": kpis,
        "levels": {
            "targets": len(rows),
            "periods_counted": counted,
            "periods_met": met,
            "share_met": round(met / counted, 4) if counted else None,
            "missed": sum(r.missed for r in rows),
            "no_report": sum(r.no_report for r in rows),
        },
        "items": {
            "open_risks": items["risks"],
            "open_issues": items["issues"],
            "by_level": {str(level.value): items[f"level_{level.value}"] for level in Level},
        },
        "changes": {
            "open": sum(changes.values()),
            "by_state": {str(k): v for k, v in changes.items()},
            "open_improvements": improvements,
        },
        "satisfaction": {
            "responses": feedback["count"],
            "average_rating": round(float(average), 2) if average is not None else None,
        },
    }


# ---------------------------------------------------------------- the heat map


class HeatmapFilter(FromQuery, Schema):
    """Filters of the heat map (page and API)."""

    category: int | None = Field(
        default=None, description="Only services of this category (its id)."
    )
    pmo: int | None = Field(default=None, description="Only services this PMO delivers (its id).")
    attention: bool = Field(
        default=False, description="Only services with at least one red or amber KPI."
    )


@dataclass
class HeatmapRow:
    id: int
    code: str
    name: str
    category: str
    cells: list[dict[str, Any] | None] = field(default_factory=list)


@dataclass
class Heatmap:
    page: Page[Any]
    rows: list[HeatmapRow]
    width: int
    totals: dict[str, int]

    @property
    def count(self) -> int:
        return int(self.page.paginator.count)


def heatmap_services(actor: Actor, filters: HeatmapFilter) -> QuerySet[Service]:
    """The running, live services the heat map shows, filtered."""
    require(actor, VIEW, KPI)
    qs = Service.objects.filter(
        organisation_id=actor.organisation.pk, stage=Stage.RUNNING, archived_at__isnull=True
    )
    if filters.category is not None:
        qs = qs.filter(category_id=filters.category)
    if filters.pmo is not None:
        qs = qs.filter(delivering_pmos=filters.pmo)
    if filters.attention:
        flagged = KPI.objects.filter(
            service_id=OuterRef("pk"), archived_at__isnull=True, latest_rag__in=ATTENTION
        )
        qs = qs.filter(Exists(flagged))
    return qs


def heatmap(
    actor: Actor,
    filters: HeatmapFilter | None = None,
    page: str | int | None = None,
    size: int = HEATMAP_PAGE,
) -> Heatmap:
    """A page of running services (by code) with their live KPIs' latest RAG, period
    and overdue mark, and the counts of red, amber, green, unreported and overdue KPIs
    over every service the filters keep."""
    filters = filters or HeatmapFilter()
    services = heatmap_services(actor, filters)
    rows = services.order_by("code", "id").values("id", "code", "name", "category__name")
    found = window_page(rows, page, size)
    on = today()
    ids = [r["id"] for r in found.object_list]
    cells: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    if ids:
        kpis = (
            KPI.objects.filter(service_id__in=ids, archived_at__isnull=True)
            .order_by("service_id", "position", "name", "id")
            .values(
                "id",
                "service_id",
                "name",
                "unit",
                "frequency",
                "latest_rag",
                "latest_value",
                "latest_period",
                "next_due",
            )
        )
        for k in kpis:
            cells[k["service_id"]].append(_cell(k, on))
    width = max((len(c) for c in cells.values()), default=0)
    result = [
        HeatmapRow(
            id=r["id"],
            code=r["code"],
            name=r["name"],
            category=r["category__name"],
            cells=[*cells[r["id"]], *([None] * (width - len(cells[r["id"]])))],
        )
        for r in found.object_list
    ]
    totals = KPI.objects.filter(
        service__in=services.values("pk"), archived_at__isnull=True
    ).aggregate(
        red=Count("id", filter=Q(latest_rag=Rag.RED)),
        amber=Count("id", filter=Q(latest_rag=Rag.AMBER)),
        green=Count("id", filter=Q(latest_rag=Rag.GREEN)),
        unreported=Count("id", filter=Q(latest_rag="")),
        overdue=Count("id", filter=Q(next_due__lt=on)),
    )
    return Heatmap(page=found, rows=result, width=width, totals=totals)


def _cell(k: Any, on: dt.date) -> dict[str, Any]:
    rag = k["latest_rag"] or ""
    period = k["latest_period"]
    return {
        "id": k["id"],
        "name": k["name"],
        "unit": k["unit"],
        "rag": rag,
        "letter": RAG_LETTERS.get(rag, "—"),
        "rag_label": RAG_LABELS.get(rag, rag),
        "value": k["latest_value"],
        "period": period,
        "period_label": periods.label(period, k["frequency"]) if period else "",
        "next_due": k["next_due"],
        "overdue": k["next_due"] is not None and k["next_due"] < on,
    }


def heatmap_filter_options(actor: Actor) -> dict[str, list[tuple[int, str]]]:
    """The categories and PMOs of running services, for the heat map's filters."""
    from carte.catalogue.models import Category
    from carte.organisations.models import PMO

    running = Q(organisation_id=actor.organisation.pk, archived_at__isnull=True)
    categories = Category.objects.filter(running).order_by("position", "name", "id")
    pmos = PMO.objects.filter(running).order_by("name", "id")
    return {
        "categories": list(categories.values_list("id", "name")),
        "pmos": list(pmos.values_list("id", "name")),
    }
