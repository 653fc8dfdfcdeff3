"""Reads of a service's Operations tab: its sections come from each part's selector, and
the API's summary counts each of them. The organisation's heat map is in `heatmap`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Avg, Count, Q

from carte.catalogue.models import Service
from carte.core.clock import today
from carte.core.permissions import VIEW, require
from carte.operations import status
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
from carte.organisations.actor import Actor

# ---------------------------------------------------------------- the Operations tab


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
    """The tab in figures, for the API: the service's status under the rule
    (`operations.status`) with its reasons, KPIs by status, service levels, open risks
    and issues by escalation level, open changes and improvements, satisfaction."""
    from carte.operations.selectors import levels

    require(actor, VIEW, KPI)
    on = today()
    live = list(KPI.objects.filter(service=service, archived_at__isnull=True))
    statuses = status.statuses_of(live)
    rags = [statuses[k.pk].rag for k in live]
    kpis = {
        "total": len(live),
        "red": rags.count(Rag.RED),
        "amber": rags.count(Rag.AMBER),
        "green": rags.count(Rag.GREEN),
        "unreported": rags.count(""),
        "overdue": sum(1 for k in live if k.next_due is not None and k.next_due < on),
    }
    overall = status.service_status(statuses.values())
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
        "status": {"rag": overall.rag or None, "label": overall.label, "reasons": overall.reasons},
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
