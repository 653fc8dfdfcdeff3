"""API of service levels and the overviews under /api/v1/orgs/{org}/...: a service's
service-level targets (list, create, retrieve, change, archive, restore), their
attainment, the organisation's breaches, the heat map of running services x KPIs, and a
service's Operations tab in figures.

Every write goes through `carte.operations.services.levels`. Ids in a payload are
resolved within the caller's organisation first (`ref()`), so another organisation's id
is a 422 naming the field.

No `from __future__ import annotations`: django-ninja reads these annotations at runtime.
"""

from datetime import date
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from carte.catalogue.api import STAFF_SERVICE_PARENT
from carte.catalogue.models import ServiceLevel
from carte.catalogue.selectors import Audience, service_for
from carte.core.api import (
    CrudSpec,
    Stamped,
    StatusFilter,
    Strict,
    crud_routes,
    no_nulls,
    paged,
    resolve_refs,
)
from carte.operations.choices import Direction, Frequency, Rag
from carte.operations.filters import BreachFilter, HeatmapFilter
from carte.operations.models import KPI, ServiceLevelTarget
from carte.operations.selectors import heatmap as heatmap_selectors
from carte.operations.selectors import levels as selectors
from carte.operations.selectors import overview
from carte.operations.services import levels as services
from carte.operations.status import RULE
from carte.organisations.access import api_actor
from carte.organisations.actor import Actor
from carte.organisations.models import CustomerGroup

router = Router()

SERVICE = "/orgs/{org}/services/{int:id}"
TARGETS = SERVICE + "/level-targets"
TARGET = TARGETS + "/{int:target_id}"
TAG = "Service levels"
OVERVIEW = "Operations overview"


# ---------------------------------------------------------------- schemas


class Ref(Schema):
    id: int
    name: str


class KPIRef(Schema):
    id: int
    name: str
    unit: str
    direction: Direction
    frequency: Frequency


class LevelTargetOut(Stamped):
    service_id: int
    customer_group: Ref
    level: Ref | None
    kpi: KPIRef
    statement: str
    target: Decimal
    side: str = Field(..., description="'at least' or 'at most': the KPI's direction.")

    @staticmethod
    def resolve_side(obj: ServiceLevelTarget) -> str:
        return selectors.side_of(obj.kpi)


class LevelTargetIn(Strict):
    customer_group: int = Field(..., description="A customer group that uses the service.")
    kpi: int = Field(..., description="One of the service's live KPIs.")
    level: int | None = Field(None, description="One of the service's levels, or none.")
    statement: str = Field(..., description="The level as agreed, in words.")
    target: Decimal = Field(..., description="Met at least or at most, as the KPI's direction.")


class PeriodOut(Schema):
    period: date
    label: str
    status: str = Field(..., description="met, missed, no_report (overdue) or pending.")
    value: Decimal | None


class AttainmentOut(Schema):
    target: LevelTargetOut
    periods: list[PeriodOut] = Field(..., description="Oldest first.")
    met: int
    missed: int
    no_report: int
    share_met: float | None = Field(
        ..., description="Met over met, missed and not reported; null with none of those."
    )


class BreachOut(Schema):
    target: LevelTargetOut
    service: Ref
    period: date
    period_label: str
    value: Decimal

    @staticmethod
    def resolve_target(obj: ServiceLevelTarget) -> ServiceLevelTarget:
        return obj

    @staticmethod
    def resolve_service(obj: ServiceLevelTarget) -> Any:
        return {"id": obj.service_id, "name": str(obj.service)}

    @staticmethod
    def resolve_period(obj: ServiceLevelTarget) -> date:
        return obj.breach_period  # type: ignore[attr-defined,no-any-return]

    @staticmethod
    def resolve_period_label(obj: ServiceLevelTarget) -> str:
        return selectors.as_breaches([obj])[0].period_label

    @staticmethod
    def resolve_value(obj: ServiceLevelTarget) -> Decimal:
        return obj.breach_value  # type: ignore[attr-defined,no-any-return]


class StatusOut(Schema):
    rag: Rag | None = Field(..., description=f"Null: no KPI reported yet. {RULE}")
    label: str
    reasons: list[str] = Field(..., description="Why: the KPIs that set the status.")


class CellOut(Schema):
    kpi_id: int
    name: str
    unit: str
    rag: Rag | None = Field(..., description=f"The KPI's status. {RULE}")
    own_rag: Rag | None = Field(..., description="Its latest value against its thresholds.")
    reason: str
    value: Decimal | None
    period: date | None
    period_label: str
    next_due: date | None
    overdue: bool


class HeatmapRowOut(Schema):
    id: int
    code: str
    name: str
    category: str
    status: StatusOut
    cells: list[CellOut] = Field(..., description="Worst status first.")


class HeatmapTotals(Schema):
    red: int
    amber: int
    green: int
    unreported: int
    overdue: int


class ServiceCounts(Schema):
    red: int
    amber: int
    green: int
    none: int = Field(..., description="No KPI reported yet.")


class HeatmapOut(Schema):
    items: list[HeatmapRowOut] = Field(..., description="Worst status first, then by code.")
    count: int = Field(..., description="Services in all pages.")
    totals: HeatmapTotals = Field(
        ..., description="KPIs of the services in all pages, by status, and overdue."
    )
    services: ServiceCounts = Field(
        ..., description="Services kept by every filter but the status, by status."
    )


class KPICounts(Schema):
    total: int
    red: int
    amber: int
    green: int
    unreported: int
    overdue: int


class LevelCounts(Schema):
    targets: int
    periods_counted: int
    periods_met: int
    share_met: float | None
    missed: int
    no_report: int


class ItemCounts(Schema):
    open_risks: int
    open_issues: int
    by_level: dict[str, int] = Field(..., description="Open items by escalation level (1-3).")


class ChangeCounts(Schema):
    open: int
    by_state: dict[str, int]
    open_improvements: int


class Satisfaction(Schema):
    responses: int
    average_rating: float | None


class OperationsOut(Schema):
    service: Ref
    status: StatusOut
    kpis: KPICounts = Field(..., description="Live KPIs by status, and overdue.")
    levels: LevelCounts
    items: ItemCounts
    changes: ChangeCounts
    satisfaction: Satisfaction

    @staticmethod
    def resolve_service(obj: dict[str, Any]) -> Any:
        service = obj["service"]
        return {"id": service.pk, "name": str(service)}


# ---------------------------------------------------------------- helpers


def _resolve(actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    no_nulls(data, ("customer_group", "kpi", "statement", "target"))
    return resolve_refs(
        actor, data, {"customer_group": CustomerGroup, "kpi": KPI, "level": ServiceLevel}
    )


# ---------------------------------------------------------------- targets


crud_routes(
    router,
    CrudSpec(
        path="level-targets",
        tag=TAG,
        noun="service-level target",
        out=LevelTargetOut,
        create_in=LevelTargetIn,
        filters=StatusFilter,
        parent=STAFF_SERVICE_PARENT,
        list_selector=lambda *, actor, service, filters: selectors.targets(
            actor, service, status=filters.status
        ),
        get_selector=selectors.target_get,
        create=services.level_target_create,
        update=services.level_target_update,
        archive=services.level_target_archive,
        restore=services.level_target_restore,
        obj_arg="target",
        resolve=_resolve,
        operation="operations_level_targets",
        child="target_id",
    ),
)


# ---------------------------------------------------------------- attainment and breaches


@router.get(
    SERVICE + "/attainment",
    response=list[AttainmentOut],
    tags=[TAG],
    summary="How each service level of a service was met, period by period",
    operation_id="operations_attainment",
)
def attainment(
    request: HttpRequest,
    org: str,
    id: int,
    periods: int = Query(selectors.DEFAULT_PERIODS, ge=1, le=selectors.MAX_PERIODS),  # type: ignore[type-arg]
) -> Any:
    """Each live target with the last `periods` periods of its KPI: met, missed, no
    report (its report is overdue) or pending (not yet due), and the share met."""
    actor = api_actor(request, org)
    service = service_for(actor=actor, pk=id, audience=Audience.STAFF)
    rows = selectors.attainment(actor, service, periods)
    return [
        {
            "target": row.target,
            "periods": row.periods,
            "met": row.met,
            "missed": row.missed,
            "no_report": row.no_report,
            "share_met": row.share_met,
        }
        for row in rows
    ]


@router.get(
    "/orgs/{org}/level-breaches",
    response=list[BreachOut],
    tags=[TAG],
    summary="Reported values that missed a service level, newest first",
    operation_id="operations_level_breaches_list",
)
@paged
def level_breaches(request: HttpRequest, org: str, filters: Query[BreachFilter]) -> Any:
    actor = api_actor(request, org)
    return selectors.breaches(
        actor,
        since=filters.since,
        service=filters.service,
        customer_group=filters.customer_group,
    )


# ---------------------------------------------------------------- overviews


@router.get(
    "/orgs/{org}/heatmap",
    response=HeatmapOut,
    tags=[OVERVIEW],
    summary="Running services, worst first, with their status and their KPIs' statuses",
    operation_id="operations_heatmap",
)
def heatmap(
    request: HttpRequest,
    org: str,
    filters: Query[HeatmapFilter],
    page: int = Query(1, ge=1),  # type: ignore[type-arg]
    page_size: int = Query(heatmap_selectors.HEATMAP_PAGE, ge=1, le=200),  # type: ignore[type-arg]
) -> Any:
    """The heat map page's rows: services worst status first, then by code, each with its
    status and reasons and its live KPIs, worst first."""
    actor = api_actor(request, org)
    result = heatmap_selectors.heatmap(actor, filters, page=page, size=page_size)
    return {
        "items": [
            {
                "id": row.id,
                "code": row.code,
                "name": row.name,
                "category": row.category,
                "status": {
                    "rag": row.status.rag or None,
                    "label": row.status.label,
                    "reasons": row.status.reasons,
                },
                "cells": [
                    {
                        "kpi_id": c.id,
                        "name": c.name,
                        "unit": c.unit,
                        "rag": c.rag or None,
                        "own_rag": c.status.own or None,
                        "reason": c.status.reason,
                        "value": c.value,
                        "period": c.period,
                        "period_label": c.period_label,
                        "next_due": c.next_due,
                        "overdue": c.overdue,
                    }
                    for c in row.cells
                    if c is not None
                ],
            }
            for row in result.rows
        ]
        if result.page.number == page
        else [],
        "count": result.count,
        "totals": result.totals,
        "services": result.services,
    }


@router.get(
    SERVICE + "/operations",
    response=OperationsOut,
    tags=[OVERVIEW],
    summary="A service's Operations tab in figures",
    operation_id="operations_service_summary",
)
def operations_summary(request: HttpRequest, org: str, id: int) -> Any:
    """KPIs by RAG, service-level attainment, open risks and issues by level, open
    changes and improvements, and satisfaction."""
    actor = api_actor(request, org)
    service = service_for(actor=actor, pk=id, audience=Audience.STAFF)
    return overview.operations_summary(actor, service)
