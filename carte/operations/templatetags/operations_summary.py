"""`{% operations_summary %}`: the organisation's running services at a glance, for the
home page: reports overdue, services red now (the status rule of `operations.status`,
counted as the heat map lists them under `?status=red`), escalations open at levels 2 and
3, changes waiting for the Owner's decision. Four counts, whatever the size; each links
to the list of exactly what it counts."""

from __future__ import annotations

from typing import Any

from django import template

from carte.core.clock import today
from carte.operations.choices import ChangeState, ItemStatus, Level
from carte.operations.models import ChangeRequest, RiskIssue
from carte.operations.selectors.due import reports_due
from carte.operations.selectors.heatmap import status_counts
from carte.organisations.actor import Actor
from carte.organisations.permissions import STAFF_SIDE

register = template.Library()


@register.inclusion_tag("operations/_home_summary.html", takes_context=True)
def operations_summary(context: dict[str, Any]) -> dict[str, Any]:
    actor: Actor | None = context.get("actor")
    if actor is None or not (actor.system or actor.roles & STAFF_SIDE):
        return {"show": False}
    org = actor.organisation
    return {
        "show": True,
        "current_org": org,
        "overdue": reports_due(actor=actor).filter(next_due__lt=today()).count(),
        "red": status_counts(actor)["red"],
        "escalated": RiskIssue.objects.filter(
            organisation=org,
            archived_at__isnull=True,
            status=ItemStatus.OPEN,
            level__gte=Level.DELIVERY,
        ).count(),
        "waiting": ChangeRequest.objects.filter(
            organisation=org, archived_at__isnull=True, state=ChangeState.SUBMITTED
        ).count(),
    }
