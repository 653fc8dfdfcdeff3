"""Reads of service levels (M-24): a service's targets, their attainment period by period,
and the breaches (a reported value that misses a target) across the organisation.

Attainment: for each target, the last N periods of its KPI that have ended (and the
current one if it is reported already), each met, missed, not reported (its report is
overdue) or pending (ended, report not yet due); the share met counts met periods over
the periods that are met, missed or not reported, since an unreported period is not
evidence that the level was met. Breaches are one joined query (targets x measurements),
newest first; the notifications' sweep reads the same `breach_q` rule (`missed_levels`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from carte.catalogue.models import Service, ServiceCustomer, ServiceLevel
from carte.core.clock import today
from carte.core.listing import get_for
from carte.core.permissions import ADD, VIEW, can, require
from carte.operations import periods
from carte.operations.choices import Direction
from carte.operations.models import KPI, Measurement, ServiceLevelTarget
from carte.operations.selectors.due import REPORTING_STAGES
from carte.operations.selectors.kpis import recent_periods
from carte.operations.status import number
from carte.organisations.actor import Actor
from carte.organisations.models import CustomerGroup, Organisation

MET, MISSED, NO_REPORT, PENDING = "met", "missed", "no_report", "pending"
STATUS_LABELS = {
    MET: "Met",
    MISSED: "Missed",
    NO_REPORT: "No report",
    PENDING: "Report not yet due",
}
DEFAULT_PERIODS = 12
MAX_PERIODS = 60
RECENT_BREACHES = 5  # shown on a service's Operations tab
MISSED_WITHIN = dt.timedelta(days=35)  # levels missed by values recorded this recently


def targets(
    actor: Actor, service: Service, *, status: str = "active"
) -> QuerySet[ServiceLevelTarget]:
    """A service's service-level targets with what they show (group, KPI, level), ordered
    by customer group, then KPI."""
    require(
        actor, VIEW, ServiceLevelTarget(organisation_id=service.organisation_id, service=service)
    )
    qs = ServiceLevelTarget.objects.filter(
        organisation_id=actor.organisation.pk, service=service
    ).select_related("customer_group", "kpi", "level", "service")
    if status == "active":
        qs = qs.filter(archived_at__isnull=True)
    elif status == "archived":
        qs = qs.filter(archived_at__isnull=False)
    return qs.order_by("customer_group__name", "kpi__position", "kpi__name", "id")


def target_get(
    *, actor: Actor, service: Service, pk: int | str, action: str = VIEW
) -> ServiceLevelTarget:
    """One target of the service (404 for another service's or organisation's)."""
    qs = ServiceLevelTarget.objects.filter(service=service).select_related(
        "customer_group", "kpi", "level", "service"
    )
    return get_for(actor, qs, pk, action=action)


@dataclass(frozen=True)
class TargetChoices:
    """What a service level's form offers: the customer groups that use the service (its
    SIPOC customers), its live KPIs and its live levels."""

    groups: list[CustomerGroup]
    kpis: list[KPI]
    levels: list[ServiceLevel]


def target_choices(service: Service, target: ServiceLevelTarget | None = None) -> TargetChoices:
    """The choices of a service level's form, each read in one query. A target's stored
    choices stay on offer even if archived since, so the service (not the form) says what
    is wrong with them."""
    links = (
        ServiceCustomer.objects.filter(
            service=service,
            archived_at__isnull=True,
            customer_group__archived_at__isnull=True,
        )
        .select_related("customer_group")
        .order_by("customer_group__name", "customer_group_id")
    )
    groups = [link.customer_group for link in links]
    kpis = list(
        KPI.objects.filter(service=service, archived_at__isnull=True).order_by(
            "position", "name", "id"
        )
    )
    levels = list(
        ServiceLevel.objects.filter(service=service, archived_at__isnull=True).order_by(
            "position", "id"
        )
    )
    if target is not None:
        if target.customer_group_id not in {g.pk for g in groups}:
            groups.append(target.customer_group)
        if target.kpi_id not in {k.pk for k in kpis}:
            kpis.append(target.kpi)
        if target.level is not None and target.level_id not in {lv.pk for lv in levels}:
            levels.append(target.level)
    return TargetChoices(groups, kpis, levels)


def may_add(actor: Actor, service: Service) -> bool:
    return can(
        actor, ADD, ServiceLevelTarget(organisation_id=service.organisation_id, service=service)
    )


# ---------------------------------------------------------------- attainment


@dataclass(frozen=True)
class PeriodResult:
    period: dt.date
    label: str
    status: str
    value: Decimal | None
    unit: str = ""

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def value_text(self) -> str:
        return number(self.value, self.unit)


@dataclass
class Attainment:
    """One target's record over its last periods."""

    target: ServiceLevelTarget
    periods: list[PeriodResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for p in self.periods if p.status == status)

    @property
    def met(self) -> int:
        return self.count(MET)

    @property
    def missed(self) -> int:
        return self.count(MISSED)

    @property
    def no_report(self) -> int:
        return self.count(NO_REPORT)

    @property
    def counted(self) -> int:
        return self.met + self.missed + self.no_report

    @property
    def share_met(self) -> float | None:
        """Met periods over those met, missed or not reported; None when there are none."""
        return self.met / self.counted if self.counted else None

    @property
    def percent_met(self) -> int | None:
        share = self.share_met
        return None if share is None else round(share * 100)

    @property
    def side(self) -> str:
        return side_of(self.target.kpi)

    @property
    def target_text(self) -> str:
        return f"{self.side} {number(self.target.target, self.target.kpi.unit)}"


def side_of(kpi: KPI) -> str:
    """How a target on this KPI reads: met at least or at most at the target."""
    return "at least" if kpi.direction == Direction.HIGHER else "at most"


def _status(kpi: KPI, target: Decimal, period: dt.date, value: Decimal | None, on: dt.date) -> str:
    if value is not None:
        return MET if kpi.meets(value, target) else MISSED
    due = periods.due_on(period, kpi.frequency, kpi.grace_days)
    return NO_REPORT if due < on else PENDING


def attainment_of(
    rows: list[ServiceLevelTarget], count: int = DEFAULT_PERIODS, on: dt.date | None = None
) -> list[Attainment]:
    """The attainment of targets already loaded (with their KPIs): one query for all
    their KPIs' values in the periods shown."""
    on = on or today()
    windows = {t.kpi_id: recent_periods(t.kpi, count, on) for t in rows}
    wanted = Q()
    for kpi_id, shown in windows.items():
        if shown:
            wanted |= Q(kpi_id=kpi_id, period__gte=shown[0], period__lte=shown[-1])
    values: dict[tuple[int, dt.date], Decimal] = {}
    if wanted:
        found = Measurement.objects.filter(wanted, archived_at__isnull=True).values_list(
            "kpi_id", "period", "value"
        )
        values = {(k, p): v for k, p, v in found}
    result = []
    for t in rows:
        kpi = t.kpi
        result.append(
            Attainment(
                target=t,
                periods=[
                    PeriodResult(
                        period=p,
                        label=periods.label(p, kpi.frequency),
                        status=_status(kpi, t.target, p, values.get((kpi.pk, p)), on),
                        value=values.get((kpi.pk, p)),
                        unit=kpi.unit,
                    )
                    for p in windows[kpi.pk]
                ],
            )
        )
    return result


def attainment(actor: Actor, service: Service, periods: int = DEFAULT_PERIODS) -> list[Attainment]:
    """Each live target of the service (customer group, statement, KPI) with the last
    `periods` periods of its KPI: met, missed, no report, and the share met."""
    require(actor, VIEW, Measurement)
    count = max(1, min(int(periods), MAX_PERIODS))
    return attainment_of(list(targets(actor, service)), count)


def by_group(rows: list[Attainment]) -> list[tuple[Any, list[Attainment]]]:
    """Attainment grouped by customer group, in the order given."""
    groups: dict[int, tuple[Any, list[Attainment]]] = {}
    for row in rows:
        group = row.target.customer_group
        groups.setdefault(group.pk, (group, []))[1].append(row)
    return list(groups.values())


# ---------------------------------------------------------------- breaches


def breach_q(value: str = "kpi__measurements__value", target: str = "target") -> Q:
    """A value on the wrong side of the target, in the KPI's direction, from a query on
    targets (the default paths) or on measurements (the notifications)."""
    return Q(kpi__direction=Direction.HIGHER, **{f"{value}__lt": F(target)}) | Q(
        kpi__direction=Direction.LOWER, **{f"{value}__gt": F(target)}
    )


def breaches(
    actor: Actor,
    since: dt.date | None = None,
    service: Service | int | None = None,
    customer_group: int | None = None,
) -> QuerySet[ServiceLevelTarget]:
    """Every (target, period, value) where a reported value misses a live target of a
    live KPI and service, newest period first: targets annotated with `breach_period`,
    `breach_value` and `breach_id` (the measurement), in one joined query."""
    require(actor, VIEW, Measurement)
    # One filter() call, so every condition on the measurements applies to the same
    # joined row, and the annotations below reuse that join.
    conditions = Q(
        breach_q(),
        organisation_id=actor.organisation.pk,
        archived_at__isnull=True,
        kpi__archived_at__isnull=True,
        service__archived_at__isnull=True,
        kpi__measurements__archived_at__isnull=True,
    )
    if since is not None:
        conditions &= Q(kpi__measurements__period__gte=since)
    if service is not None:
        conditions &= Q(service_id=service.pk if isinstance(service, Service) else service)
    if customer_group is not None:
        conditions &= Q(customer_group_id=customer_group)
    return (
        ServiceLevelTarget.objects.filter(conditions)
        .annotate(
            breach_period=F("kpi__measurements__period"),
            breach_value=F("kpi__measurements__value"),
            breach_id=F("kpi__measurements__id"),
        )
        .select_related("service", "customer_group", "kpi", "level")
        .order_by("-breach_period", "service__code", "customer_group__name", "id")
    )


@dataclass(frozen=True)
class Breach:
    """A period in which a reported value missed a target."""

    target: ServiceLevelTarget
    period: dt.date
    value: Decimal

    @property
    def period_label(self) -> str:
        return periods.label(self.period, self.target.kpi.frequency)

    @property
    def value_text(self) -> str:
        return number(self.value, self.target.kpi.unit)

    @property
    def target_text(self) -> str:
        kpi = self.target.kpi
        return f"{side_of(kpi)} {number(self.target.target, kpi.unit)}"


def as_breaches(rows: Iterable[ServiceLevelTarget]) -> list[Breach]:
    """Rows of `breaches()` as (target, period, value)."""
    return [Breach(r, r.breach_period, r.breach_value) for r in rows]  # type: ignore[attr-defined]


def breach_filter_options(actor: Actor) -> dict[str, list[tuple[int, str]]]:
    """Services and customer groups that have live targets, for the list's filters."""
    rows = ServiceLevelTarget.objects.filter(
        organisation_id=actor.organisation.pk, archived_at__isnull=True
    ).values_list(
        "service_id", "service__code", "service__name", "customer_group_id", "customer_group__name"
    )
    services: dict[int, str] = {}
    groups: dict[int, str] = {}
    for sid, code, name, gid, gname in rows:
        services[sid] = f"{code} {name}"
        groups[gid] = gname
    return {
        "services": sorted(services.items(), key=lambda i: i[1]),
        "groups": sorted(groups.items(), key=lambda i: i[1]),
    }


def missed_levels(organisation: Organisation, on: dt.date) -> list[dict[str, Any]]:
    """Values recorded within 35 days before the end of `on` that miss a live
    service-level target of a reporting service, one row per (target, period), joined
    with what the notice says (one query). Only current reports count: the KPI's latest
    period, or one whose report fell due within those 35 days; a history loaded in one go
    (an import, the demo) or a correction of an old period does not alert anyone."""
    end = timezone.make_aware(dt.datetime.combine(on + dt.timedelta(days=1), dt.time.min))
    target = "kpi__level_targets__"
    misses = breach_q(value="value", target=f"{target}target")
    rows: QuerySet[Measurement, dict[str, Any]] = (
        Measurement.objects.filter(
            misses,
            organisation_id=organisation.pk,
            recorded_at__gte=end - MISSED_WITHIN,
            recorded_at__lt=end,
            kpi__archived_at__isnull=True,
            kpi__service__archived_at__isnull=True,
            kpi__service__stage__in=REPORTING_STAGES,
            **{f"{target}archived_at__isnull": True},
        )
        .order_by("kpi_id", "period", f"{target}id")
        .values(
            "period",
            "value",
            "kpi_id",
            "kpi__name",
            "kpi__unit",
            "kpi__frequency",
            "kpi__grace_days",
            "kpi__latest_period",
            "kpi__service_id",
            "kpi__service__code",
            f"{target}id",
            f"{target}statement",
            f"{target}target",
            f"{target}customer_group__name",
        )
    )
    since = on - MISSED_WITHIN
    return [
        row
        for row in rows
        if row["period"] == row["kpi__latest_period"]
        or periods.due_on(row["period"], row["kpi__frequency"], row["kpi__grace_days"]) >= since
    ]


# ---------------------------------------------------------------- the Operations tab


def section(actor: Actor, service: Service) -> dict[str, Any]:
    """What the Operations tab shows of service levels: each target's attainment grouped
    by customer group, the service's latest breaches, and whether the user may edit."""
    rows = attainment(actor, service)
    recent = as_breaches(breaches(actor, service=service)[:RECENT_BREACHES]) if rows else []
    totals: dict[str, int] = defaultdict(int)
    for row in rows:
        for status in (MET, MISSED, NO_REPORT):
            totals[status] += row.count(status)
    return {
        "rows": rows,
        "groups": by_group(rows),
        "breaches": recent,
        "totals": dict(totals),
        "can_change": may_add(actor, service),
        "status_labels": STATUS_LABELS,
    }
