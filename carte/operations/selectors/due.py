"""Which KPI reports are due, for the whole organisation or for one user: the reports-due
list, the entry page, the dashboards, the calendar feed and the notifications all ask
here, so they agree."""

from __future__ import annotations

import datetime as dt

from django.db.models import F, QuerySet

from carte.catalogue.choices import Stage
from carte.core.clock import today
from carte.operations.models import KPI
from carte.organisations.actor import Actor
from carte.organisations.models import User

REPORTING_STAGES = (Stage.RUNNING, Stage.CLOSING)  # services whose KPIs are reported
SOON = dt.timedelta(days=7)  # "due soon": within a week


def reports_due(
    *, actor: Actor, user: User | None = None, until: dt.date | None = None
) -> QuerySet[KPI]:
    """Live KPIs of live, reporting services whose next report is due by `until` (default:
    within a week), oldest due first; with `user`, only those the user reports: they hold
    the KPI's reporting role on its service."""
    horizon = until or today() + SOON
    kpis = KPI.objects.filter(
        organisation_id=actor.organisation.pk,
        archived_at__isnull=True,
        service__archived_at__isnull=True,
        service__stage__in=REPORTING_STAGES,
        next_due__lte=horizon,
    )
    if user is not None:
        reporters = KPI.objects.filter(
            organisation_id=actor.organisation.pk,
            service__roles__role=F("reporter_role"),
            service__roles__archived_at__isnull=True,
            service__roles__person__user=user,
            service__roles__person__archived_at__isnull=True,
        ).values("pk")
        kpis = kpis.filter(pk__in=reporters)
    return kpis.select_related("service").order_by("next_due", "service__code", "position", "id")


def is_overdue(kpi: KPI, on: dt.date | None = None) -> bool:
    return kpi.next_due is not None and kpi.next_due < (on or today())
