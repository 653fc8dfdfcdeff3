"""What the lifecycle's forms start from and offer: the set-up decision's initial values
and the PMOs' services beside it, the kinds of task list a service can start, the pilot's
results so far and those the Owner may waive."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from carte.catalogue.choices import ServiceRoleKind, Stage
from carte.catalogue.models import Service
from carte.lifecycle import machine
from carte.lifecycle.choices import CriterionResultKind, TaskPurpose
from carte.lifecycle.models import LIVE, CriterionResult, PilotIteration, SuccessCriterion
from carte.organisations import selectors as org_selectors
from carte.organisations.actor import Actor
from carte.organisations.models import Person


def appointable(actor: Actor) -> tuple[list[Person], list[Person]]:
    """Whom the set-up decision may appoint (`machine.OWNER_PEOPLE`, `MANAGER_PEOPLE`):
    the Owners, then the Service Managers, read in one query."""
    rows = list(org_selectors.person_choices(actor=actor).filter(machine.MANAGER_PEOPLE))
    return [p for p in rows if machine.may_own(p)], rows


def pmo_services(actor: Actor) -> list[dict[str, Any]]:
    """Each PMO with the live services it delivers and their stages, for the decider of a
    set-up (M-14): one query for all PMOs."""
    rows = (
        Service.delivering_pmos.through.objects.filter(
            pmo__organisation_id=actor.organisation.pk,
            pmo__archived_at__isnull=True,
            service__archived_at__isnull=True,
        )
        .order_by("pmo__name", "pmo_id", "service__code")
        .values("pmo_id", "pmo__name", "service__code", "service__name", "service__stage")
    )
    by_pmo: dict[int, dict[str, Any]] = {}
    for row in rows:
        entry = by_pmo.setdefault(
            row["pmo_id"], {"pk": row["pmo_id"], "name": row["pmo__name"], "services": []}
        )
        entry["services"].append(
            {
                "code": row["service__code"],
                "name": row["service__name"],
                "stage": Stage(row["service__stage"]).label,
            }
        )
    return list(by_pmo.values())


def task_list_purposes(service: Service) -> list[tuple[str, str]]:
    """Which kinds of task list the service can start now (services.task_list_create)."""
    if service.stage == Stage.CLOSING:
        return [(TaskPurpose.CLOSURE, TaskPurpose.CLOSURE.label)]
    if service.stage in (
        Stage.APPROVED_FOR_SETUP,
        Stage.DESIGN,
        Stage.PILOT,
        Stage.SIGNED_OFF,
        Stage.TRANSITION,
    ):
        return [(TaskPurpose.SETUP, TaskPurpose.SETUP.label)]
    return []


def decision_initial(service: Service) -> dict[str, Any]:
    """The set-up decision's form starts from what the service already has: its PMOs, its
    Owner and its Managers (as the form's values: keys as text)."""
    initial: dict[str, Any] = {
        "delivering_pmos": [str(pk) for pk in service.delivering_pmos.values_list("pk", flat=True)]
    }
    for role, person_id, pmo_id in service.roles.filter(
        archived_at__isnull=True, role__in=(ServiceRoleKind.OWNER, ServiceRoleKind.MANAGER)
    ).values_list("role", "person_id", "pmo_id"):
        if role == ServiceRoleKind.OWNER:
            initial["owner"] = str(person_id)
        elif pmo_id is not None:
            initial[f"manager_{pmo_id}"] = str(person_id)
    return initial


def unmet_results(service: Service) -> list[CriterionResult]:
    """The current pilot's results that missed their criterion and are not waived: what the
    Owner may waive when signing off."""
    pilot = machine.latest_pilot(service)
    if pilot is None:
        return []
    return list(
        CriterionResult.objects.filter(LIVE, pilot=pilot, waived=False)
        .exclude(result=CriterionResultKind.MET)
        .select_related("criterion")
    )


@dataclass(frozen=True)
class PilotResults:
    """What the pilot-result form starts from: the live criteria, the current pilot, and
    the result it already has for each criterion (by the criterion's id)."""

    criteria: list[SuccessCriterion]
    pilot: PilotIteration | None
    given: dict[int, CriterionResult]


def pilot_results(service: Service) -> PilotResults:
    criteria = machine.live_criteria(service)
    pilot = machine.latest_pilot(service)
    given = (
        {r.criterion_id: r for r in CriterionResult.objects.filter(LIVE, pilot=pilot)}
        if pilot is not None
        else {}
    )
    return PilotResults(criteria, pilot, given)
