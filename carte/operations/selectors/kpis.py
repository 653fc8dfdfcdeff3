"""Reads of KPIs and their measurements (M-17): a service's KPIs for its Operations tab,
one KPI's page (trend, values, corrections), the reports due for the organisation and the
entry page of one user. Each read runs a fixed number of queries whatever the data size.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import F, Prefetch, Q, QuerySet, Window
from django.db.models.functions import RowNumber

from carte.catalogue.models import Service
from carte.catalogue.permissions import managed_service_ids
from carte.core.clock import today
from carte.core.errors import forbidden
from carte.core.listing import get_for
from carte.core.permissions import ADD, CHANGE, VIEW, Right, can
from carte.operations import charts, periods, status
from carte.operations.filters import ReportsDueFilter
from carte.operations.models import KPI, Measurement, MeasurementCorrection
from carte.operations.permissions import REPORT
from carte.operations.selectors.due import REPORTING_STAGES, is_overdue, reports_due
from carte.operations.status import KpiStatus
from carte.organisations.actor import Actor
from carte.organisations.models import PMO, User

SPARK_PERIODS = 12
TREND_PERIODS = 24


def kpis_of(*, actor: Actor, service: Service, status: str = "active") -> QuerySet[KPI]:
    """The service's KPIs in their order: live ones, archived ones, or all."""
    kpis = KPI.objects.filter(organisation_id=actor.organisation.pk, service=service)
    if status == "active":
        kpis = kpis.filter(archived_at__isnull=True)
    elif status == "archived":
        kpis = kpis.filter(archived_at__isnull=False)
    return kpis.select_related("service").order_by("position", "name", "id")


def kpi_get(*, actor: Actor, service: Service, pk: int | str, action: Right = VIEW) -> KPI:
    """One KPI of the service (404 for another service's or organisation's)."""
    return get_for(
        actor, KPI.objects.filter(service=service).select_related("service"), pk, action=action
    )


def recent_periods(kpi: KPI, count: int, on: dt.date | None = None) -> list[dt.date]:
    """The last `count` periods to show for `kpi`, oldest first: up to its latest value
    or the last period that has ended, whichever is later, from its first period on."""
    on = on or today()
    end = periods.preceding(periods.start_of(on, kpi.frequency), kpi.frequency)
    if kpi.latest_period and kpi.latest_period > end:
        end = kpi.latest_period
    first = periods.start_of(kpi.reporting_from, kpi.frequency)
    found: list[dt.date] = []
    start = end
    while start >= first and len(found) < count:
        found.append(start)
        start = periods.preceding(start, kpi.frequency)
    return found[::-1]


def latest_values(kpi_ids: list[int], count: int) -> dict[int, dict[dt.date, tuple[Decimal, str]]]:
    """The last `count` values of each KPI, by period: one query (a row number per KPI)."""
    if not kpi_ids:
        return {}
    # No ordering: the default one ("kpi" in the KPI's own order) joins every KPI of every
    # service, and the values go into a dict.
    rows = (
        Measurement.objects.filter(kpi_id__in=kpi_ids)
        .order_by()
        .annotate(n=Window(RowNumber(), partition_by=[F("kpi_id")], order_by=F("period").desc()))
        .filter(n__lte=count)
        .values_list("kpi_id", "period", "value", "rag")
    )
    found: dict[int, dict[dt.date, tuple[Decimal, str]]] = defaultdict(dict)
    for kpi_id, period, value, rag in rows:
        found[kpi_id][period] = (value, rag)
    return found


@dataclass
class KpiRow:
    """A KPI as the Operations tab shows it."""

    kpi: KPI
    overdue: bool
    sparkline: str
    can_report: bool
    can_change: bool
    status: KpiStatus


def section(actor: Actor, service: Service) -> dict[str, Any]:
    """The KPIs part of a service's Operations tab: each live KPI with its latest value
    and status under the rule (`operations.status`, with the reason), next due report
    (overdue marked) and a sparkline of its last twelve periods, and the service's status;
    three queries (the KPIs, their last values, their service levels and latest comments)
    and the actor's service roles."""
    if not can(actor, VIEW, KPI):
        return {"visible": False, "rows": []}
    kpis = list(kpis_of(actor=actor, service=service))
    values = latest_values([k.pk for k in kpis], SPARK_PERIODS)
    statuses = status.statuses_of(kpis)
    on = today()
    rows = []
    for kpi in kpis:
        slots = recent_periods(kpi, SPARK_PERIODS, on)
        mine = values.get(kpi.pk, {})
        line = charts.sparkline(
            [mine[p][0] if p in mine else None for p in slots],
            [mine[p][1] if p in mine else "" for p in slots],
            label=f"{kpi.name}, last {len(slots)} periods",
        )
        rows.append(
            KpiRow(
                kpi=kpi,
                overdue=service.stage in REPORTING_STAGES and is_overdue(kpi, on),
                sparkline=line,
                can_report=can(actor, REPORT, kpi),
                can_change=can(actor, CHANGE, kpi),
                status=statuses[kpi.pk],
            )
        )
    counts = {
        rag: sum(1 for k in statuses.values() if k.rag == rag) for rag in ("green", "amber", "red")
    }
    return {
        "visible": True,
        "rows": rows,
        "counts": counts,
        "status": status.service_status(statuses.values()),
        "rule": status.RULE,
        "overdue": sum(1 for r in rows if r.overdue),
        "can_add": can(actor, ADD, KPI(service=service, organisation_id=actor.organisation.pk)),
    }


def trend(kpi: KPI, count: int = TREND_PERIODS, on: dt.date | None = None) -> list[charts.Point]:
    """The KPI's last `count` periods with their values (one query)."""
    slots = recent_periods(kpi, count, on)
    if not slots:
        return []
    stored = dict(
        (p, (v, r))
        for p, v, r in Measurement.objects.filter(
            kpi=kpi, period__gte=slots[0], period__lte=slots[-1]
        ).values_list("period", "value", "rag")
    )
    return [
        charts.Point(
            periods.label(p, kpi.frequency),
            stored[p][0] if p in stored else None,
            stored[p][1] if p in stored else "",
        )
        for p in slots
    ]


def measurements_of(*, actor: Actor, kpi: KPI) -> QuerySet[Measurement]:
    """The KPI's measurements, newest period first, each with its earlier values."""
    return (
        Measurement.objects.filter(organisation_id=actor.organisation.pk, kpi=kpi)
        .select_related("recorded_by")
        .prefetch_related(
            Prefetch(
                "corrections",
                MeasurementCorrection.objects.select_related("recorded_by", "replaced_by").order_by(
                    "-replaced_at", "-id"
                ),
            )
        )
        .order_by("-period", "-id")
    )


def measurement_get(*, actor: Actor, kpi: KPI, pk: int | str) -> Measurement:
    """One measurement of the KPI, with its earlier values, as the list shows it."""
    return get_for(actor, measurements_of(actor=actor, kpi=kpi).select_related("kpi"), pk)


# ---------------------------------------------------------------- reports due


def reports_due_list(*, actor: Actor, filters: ReportsDueFilter) -> QuerySet[KPI]:
    """Every report due within a week or overdue, overdue first (oldest due first)."""
    if not can(actor, VIEW, KPI):
        raise forbidden("Reports due are for the PMO's staff.")
    kpis = reports_due(actor=actor, user=actor.user if filters.mine else None)
    if filters.overdue:
        kpis = kpis.filter(next_due__lt=today())
    if filters.service is not None:
        kpis = kpis.filter(service_id=filters.service)
    if filters.pmo is not None:
        kpis = kpis.filter(
            service__in=Service.objects.filter(delivering_pmos=filters.pmo).values("pk")
        )
    return kpis


def reports_due_choices(actor: Actor) -> dict[str, list[tuple[int, str]]]:
    """The PMOs and reporting services to filter the list by (two queries)."""
    pmos = PMO.objects.filter(organisation_id=actor.organisation.pk, archived_at__isnull=True)
    services = Service.objects.filter(
        organisation_id=actor.organisation.pk,
        archived_at__isnull=True,
        stage__in=REPORTING_STAGES,
        kpis__archived_at__isnull=True,
    ).distinct()
    return {
        "pmos": list(pmos.order_by("name", "id").values_list("pk", "name")),
        "services": [
            (pk, f"{code} {name}")
            for pk, code, name in services.order_by("code", "id").values_list("pk", "code", "name")
        ],
    }


def my_managed(actor: Actor) -> frozenset[int]:
    """The services the actor owns or manages: highlighted in the list."""
    return managed_service_ids(actor)


# ---------------------------------------------------------------- the entry page


@dataclass
class EntryRow:
    """One report the user has to make: the KPI, its next period and what was typed."""

    kpi: KPI
    period: dt.date
    label: str
    overdue: bool
    value: str = ""
    comment: str = ""
    errors: list[str] = field(default_factory=list)


def entry_rows(*, actor: Actor, user: User | None) -> list[EntryRow]:
    """The reports this user has due (or overdue) for a period that has started."""
    if user is None:
        return []
    on = today()
    kpis = reports_due(actor=actor, user=user).filter(
        Q(next_period__lte=on), next_period__isnull=False
    )
    return [
        EntryRow(
            kpi=kpi,
            period=kpi.next_period,  # type: ignore[arg-type]
            label=periods.label(kpi.next_period, kpi.frequency),  # type: ignore[arg-type]
            overdue=is_overdue(kpi, on),
        )
        for kpi in kpis
    ]
