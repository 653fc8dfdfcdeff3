"""The lifecycle decisions waiting for someone: proposals for the Director's decision,
pilots ready for their Owner's sign-off, closures for their Owner's approval. The
notifications sweep (operations) and My work (`lifecycle.work`) both read them here, so
they agree. Each is one query for the whole organisation."""

from __future__ import annotations

from carte.catalogue.choices import Stage
from carte.catalogue.models import Service
from carte.lifecycle.choices import PilotOutcome
from carte.lifecycle.models import PilotIteration
from carte.organisations.models import Organisation


def proposals_waiting(organisation: Organisation) -> list[Service]:
    """Live services proposed and waiting for the Director's decision to set them up."""
    return list(
        Service.objects.filter(
            organisation_id=organisation.pk, stage=Stage.PROPOSED, archived_at__isnull=True
        ).order_by("pk")
    )


def sign_offs_waiting(organisation: Organisation) -> list[PilotIteration]:
    """The latest pilot of each live service in pilot whose result says it is ready for
    the Owner's sign-off (with its service), in one query."""
    pilots = (
        PilotIteration.objects.filter(
            organisation_id=organisation.pk,
            archived_at__isnull=True,
            service__stage=Stage.PILOT,
            service__archived_at__isnull=True,
        )
        .select_related("service")
        .order_by("service_id", "-number")
    )
    latest: dict[int, PilotIteration] = {}
    for pilot in pilots:
        latest.setdefault(pilot.service_id, pilot)
    return [
        p for p in latest.values() if p.outcome == PilotOutcome.PASSED and p.result_at is not None
    ]


def closures_waiting(organisation: Organisation) -> list[Service]:
    """Live services closing: each waits for its Owner to approve the closure (once its
    artefacts are decided, the Lifecycle tab's checklist says)."""
    return list(
        Service.objects.filter(
            organisation_id=organisation.pk, stage=Stage.CLOSING, archived_at__isnull=True
        ).order_by("stage_changed_at", "pk")
    )
