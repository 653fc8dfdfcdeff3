"""A service's records: the querysets the panel and the API both read them with (live rows
with what they show), and one record fetched to act on. What may be done with a record is
the step's service function's to check (the lifecycle's rights are actions on the
service), so these fetch to view.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from carte.catalogue.models import Service
from carte.core.listing import get_for
from carte.core.permissions import VIEW, require
from carte.lifecycle import machine
from carte.lifecycle.models import (
    LIVE,
    ArtefactDecision,
    CriterionResult,
    PilotIteration,
    ReadinessAnswer,
    ReadinessAssessment,
    SuccessCriterion,
    Task,
    TaskList,
    TransitionPhase,
)
from carte.organisations.actor import Actor


def task_list_rows() -> QuerySet[TaskList]:
    return (
        TaskList.objects.filter(LIVE)
        .select_related("template")
        .prefetch_related(
            Prefetch(
                "tasks",
                queryset=Task.objects.filter(LIVE)
                .select_related("assignee")
                .order_by("position", "id"),
            )
        )
    )


def pilot_rows() -> QuerySet[PilotIteration]:
    return PilotIteration.objects.filter(LIVE).prefetch_related(
        "suppliers",
        "customers",
        "operatives",
        Prefetch(
            "results",
            queryset=CriterionResult.objects.filter(LIVE)
            .select_related("criterion", "waived_by")
            .order_by("criterion__position", "criterion_id"),
        ),
    )


def readiness_rows() -> QuerySet[ReadinessAssessment]:
    return (
        ReadinessAssessment.objects.filter(LIVE)
        .select_related("assessor")
        .prefetch_related(
            Prefetch("answers", queryset=ReadinessAnswer.objects.filter(LIVE).order_by("position"))
        )
        .order_by("-assessed_on", "-id")
    )


def criterion_rows() -> QuerySet[SuccessCriterion]:
    return SuccessCriterion.objects.select_related("service").prefetch_related(
        "agreed_with_groups", "agreed_with_people"
    )


def criteria_of(*, actor: Actor, service: Service) -> QuerySet[SuccessCriterion]:
    """The service's live success criteria, in order."""
    require(actor, VIEW, SuccessCriterion)
    return criterion_rows().filter(LIVE, service=service).order_by("position", "id")


def criterion_get(*, actor: Actor, service: Service, pk: int | str) -> SuccessCriterion:
    return get_for(actor, criterion_rows().filter(service=service), pk)


def current_result(criterion: SuccessCriterion) -> CriterionResult | None:
    """The latest pilot's result for the criterion (what a waiver waives), if any."""
    pilot = machine.latest_pilot(criterion.service)
    if pilot is None:
        return None
    return (
        CriterionResult.objects.filter(LIVE, pilot=pilot, criterion=criterion)
        .select_related("pilot__service", "criterion")
        .first()
    )


def criterion_result_get(*, actor: Actor, pk: int | str) -> CriterionResult:
    return get_for(actor, CriterionResult.objects.select_related("criterion", "waived_by"), pk)


def task_rows() -> QuerySet[Task]:
    return Task.objects.select_related("assignee", "task_list__service")


def task_get(*, actor: Actor, service: Service, pk: int | str) -> Task:
    return get_for(actor, task_rows().filter(task_list__service=service), pk)


def task_list_get(*, actor: Actor, service: Service, pk: int | str) -> TaskList:
    return get_for(actor, task_list_rows().filter(service=service).select_related("service"), pk)


def pilot_get(*, actor: Actor, service: Service, pk: int | str) -> PilotIteration:
    return get_for(actor, pilot_rows().filter(service=service), pk)


def readiness_get(*, actor: Actor, service: Service, pk: int | str) -> ReadinessAssessment:
    return get_for(actor, readiness_rows().filter(service=service), pk)


def phase_get(*, actor: Actor, service: Service, pk: int | str) -> TransitionPhase:
    phases = TransitionPhase.objects.select_related("plan__service").prefetch_related(
        "customer_groups"
    )
    return get_for(actor, phases.filter(plan__service=service), pk)


def artefact_decision_get(*, actor: Actor, service: Service, pk: int | str) -> ArtefactDecision:
    decisions = ArtefactDecision.objects.select_related("artefact")
    return get_for(actor, decisions.filter(closure__service=service), pk)
