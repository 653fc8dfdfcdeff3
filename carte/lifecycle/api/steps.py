"""The steps recorded between a service's moves, through the API: success criteria,
task lists and tasks, pilots, readiness, phases, supporting services, artefact decisions
and successors.
No `from __future__ import annotations`: django-ninja reads these annotations at runtime.
"""

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from carte.catalogue.api import SERVICE_PARENT
from carte.catalogue.models import Artefact, Category, Service
from carte.core.api import CrudSpec, api_fields, crud_routes, no_nulls, ref, resolve_refs
from carte.core.errors import CONFLICT, DomainError
from carte.core.permissions import ADD, require
from carte.lifecycle import selectors, services
from carte.lifecycle.api.schemas import (
    ArtefactDecisionIn,
    ArtefactDecisionOut,
    CriterionIn,
    CriterionOut,
    CriterionResultOut,
    PhaseOut,
    PhasePatch,
    PilotOut,
    PilotResultIn,
    ReadinessIn,
    ReadinessOut,
    ServiceCreatedOut,
    SuccessorIn,
    SupportingServiceIn,
    TaskIn,
    TaskListIn,
    TaskListOut,
    TaskOut,
    WaiverIn,
)
from carte.lifecycle.api.state import _attachments, _refs, service_at, service_read
from carte.lifecycle.models import (
    SuccessCriterion,
)
from carte.lifecycle.permissions import MANAGE, SIGN_OFF
from carte.organisations.access import api_actor
from carte.organisations.actor import Actor
from carte.organisations.models import PMO, CustomerGroup, Person

router = Router()

SERVICE = "/orgs/{org}/services/{int:id}"
STEPS = "Lifecycle steps"


# ---------------------------------------------------------------- success criteria


def _criterion_data(actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    no_nulls(data, ("description", "measure", "agreed_with_groups", "agreed_with_people"))
    for name, model in (("agreed_with_groups", CustomerGroup), ("agreed_with_people", Person)):
        if name in data:
            data[name] = _refs(actor, model, data[name], name)
    return data


crud_routes(
    router,
    CrudSpec(
        path="criteria",
        tag=STEPS,
        noun="success criterion",
        plural="success criteria",
        out=CriterionOut,
        create_in=CriterionIn,
        parent=SERVICE_PARENT,
        list_selector=selectors.criteria_of,
        get_selector=lambda *, actor, service, pk, action=None: selectors.criterion_get(
            actor=actor, service=service, pk=pk
        ),
        create=lambda *, actor, service, data: services.criterion_create(
            actor=actor, service=service, **data
        ),
        update=services.criterion_update,
        archive=services.criterion_archive,
        restore=services.criterion_archive,  # not offered: see verbs
        obj_arg="criterion",
        resolve=_criterion_data,
        operation="lifecycle_criteria",
        paginated=False,
        child="criterion_id",
        parent_right=MANAGE,
        verbs=frozenset({"list", "retrieve", "create", "update", "archive"}),
    ),
)


@router.post(
    SERVICE + "/criteria/{int:criterion_id}/waiver",
    response=CriterionResultOut,
    tags=[STEPS],
    summary="Waive a criterion the current pilot did not meet",
    operation_id="lifecycle_criteria_waive",
)
def criteria_waive(
    request: HttpRequest, org: str, id: int, criterion_id: int, payload: WaiverIn
) -> Any:
    """The Service Owner accepts the unmet criterion for a recorded reason."""
    actor = api_actor(request, org)
    service = service_at(actor, id, SIGN_OFF)
    criterion = selectors.criterion_get(actor=actor, service=service, pk=criterion_id)
    result = selectors.current_result(criterion)
    if result is None:
        raise DomainError("The current pilot has no result for this criterion.", code=CONFLICT)
    try:
        services.criterion_waive(actor=actor, result=result, reason=payload.reason)
    except DomainError as exc:
        raise api_fields(exc, {"waiver_reason": "reason"}) from exc
    return selectors.criterion_result_get(actor=actor, pk=result.pk)


# ---------------------------------------------------------------- task lists and tasks


@router.get(
    SERVICE + "/task-lists",
    response=list[TaskListOut],
    tags=[STEPS],
    summary="List the set-up and closure task lists of a service",
    operation_id="lifecycle_task_lists_list",
)
def task_lists_list(request: HttpRequest, org: str, id: int) -> Any:
    """Each live list with its tasks and progress, oldest first."""
    actor = api_actor(request, org)
    service = service_read(actor, id)
    return selectors.task_list_rows().filter(service=service).order_by("created_at", "id")


@router.post(
    SERVICE + "/task-lists",
    response={201: TaskListOut},
    tags=[STEPS],
    summary="Start a task list, from a template or empty",
    operation_id="lifecycle_task_lists_create",
)
def task_lists_create(request: HttpRequest, org: str, id: int, payload: TaskListIn) -> Any:
    """A set-up list (from approval to transition) or a closure list (while closing); a
    Centre of Excellence template fills it with its tasks."""
    actor = api_actor(request, org)
    service = service_at(actor, id, MANAGE)
    template = ref(actor, Artefact, payload.template, "template")
    task_list = services.task_list_create(
        actor=actor,
        service=service,
        purpose=payload.purpose,
        template=template,
        name=payload.name,
    )
    return Status(201, selectors.task_list_get(actor=actor, service=service, pk=task_list.pk))


def _task_data(actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    no_nulls(data, ("title", "status"))
    if data.get("position", 0) is None:
        del data["position"]
    return resolve_refs(actor, data, {"assignee": Person})


@router.post(
    SERVICE + "/task-lists/{int:task_list_id}/tasks",
    response={201: TaskOut},
    tags=[STEPS],
    summary="Add a task to a task list",
    operation_id="lifecycle_tasks_create",
)
def tasks_create(
    request: HttpRequest, org: str, id: int, task_list_id: int, payload: TaskIn
) -> Any:
    """A task with its assignee, due date and status."""
    actor = api_actor(request, org)
    service = service_at(actor, id, MANAGE)
    task_list = selectors.task_list_get(actor=actor, service=service, pk=task_list_id)
    data = _task_data(actor, payload.model_dump())
    task = services.task_create(actor=actor, task_list=task_list, data=data)
    return Status(201, selectors.task_get(actor=actor, service=service, pk=task.pk))


# A task is made in its list (above); changed and archived under the service.
crud_routes(
    router,
    CrudSpec(
        path="tasks",
        tag=STEPS,
        noun="task",
        out=TaskOut,
        create_in=TaskIn,
        parent=SERVICE_PARENT,
        list_selector=selectors.task_rows,  # not offered: see verbs
        get_selector=lambda *, actor, service, pk, action=None: selectors.task_get(
            actor=actor, service=service, pk=pk
        ),
        create=services.task_create,  # not offered: see verbs
        update=services.task_update,
        archive=services.task_archive,
        restore=services.task_archive,  # not offered: see verbs
        obj_arg="task",
        resolve=_task_data,
        operation="lifecycle_tasks",
        child="task_id",
        parent_right=MANAGE,
        verbs=frozenset({"update", "archive"}),
    ),
)


# ---------------------------------------------------------------- pilots


@router.get(
    SERVICE + "/pilots",
    response=list[PilotOut],
    tags=[STEPS],
    summary="List the pilot iterations of a service",
    operation_id="lifecycle_pilots_list",
)
def pilots_list(request: HttpRequest, org: str, id: int) -> Any:
    """Every iteration, newest first, with its participants and results."""
    actor = api_actor(request, org)
    service = service_read(actor, id)
    return selectors.pilot_rows().filter(service=service).order_by("-number")


@router.post(
    SERVICE + "/pilot-result",
    response={201: PilotOut},
    tags=[STEPS],
    summary="Record the result of the current pilot",
    operation_id="lifecycle_pilot_result_record",
)
def pilot_result(request: HttpRequest, org: str, id: int, payload: PilotResultIn) -> Any:
    """A result for every live success criterion (met or not, with evidence) and the
    confirmations of M-15. Recording again replaces the results."""
    actor = api_actor(request, org)
    service = service_at(actor, id, MANAGE)
    data = payload.model_dump()
    outcomes = [
        services.CriterionOutcome(
            ref(actor, SuccessCriterion, item["criterion"], f"results.{index}"),
            item["result"],
            item["evidence"],
        )
        for index, item in enumerate(data["results"])
    ]
    pilot = services.pilot_result_record(
        actor=actor,
        service=service,
        results=outcomes,
        governance_in_place=payload.governance_in_place,
        resources_confirmed=payload.resources_confirmed,
        outcomes_validated=payload.outcomes_validated,
        note=payload.note,
        attachments=_attachments(data["attachments"]),
    )
    return Status(201, selectors.pilot_get(actor=actor, service=service, pk=pilot.pk))


# ---------------------------------------------------------------- readiness and transition


@router.get(
    SERVICE + "/readiness",
    response=list[ReadinessOut],
    tags=[STEPS],
    summary="List the readiness assessments of a service",
    operation_id="lifecycle_readiness_list",
)
def readiness_list(request: HttpRequest, org: str, id: int) -> Any:
    """Newest first, each with its answers."""
    actor = api_actor(request, org)
    service = service_read(actor, id)
    return selectors.readiness_rows().filter(service=service)


@router.post(
    SERVICE + "/readiness",
    response={201: ReadinessOut},
    tags=[STEPS],
    summary="Record an organisation readiness assessment",
    operation_id="lifecycle_readiness_create",
)
def readiness_create(request: HttpRequest, org: str, id: int, payload: ReadinessIn) -> Any:
    """An answer to each question, the assessor and the verdict (while signed off); a
    question answered 'no' means not ready."""
    actor = api_actor(request, org)
    service = service_at(actor, id, MANAGE)
    data = payload.model_dump()
    assessment = services.readiness_record(
        actor=actor,
        service=service,
        assessor=ref(actor, Person, payload.assessor, "assessor"),
        assessed_on=payload.assessed_on,
        answers=[
            services.ReadinessItem(a["question"], a["answer"], a["note"]) for a in data["answers"]
        ],
        verdict=payload.verdict,
        note=payload.note,
        attachments=_attachments(data["attachments"]),
    )
    return Status(201, selectors.readiness_get(actor=actor, service=service, pk=assessment.pk))


@router.patch(
    SERVICE + "/phases/{int:phase_id}",
    response=PhaseOut,
    tags=[STEPS],
    summary="Change a phase of the transition plan, or mark it done",
    operation_id="lifecycle_phases_update",
)
def phases_update(
    request: HttpRequest, org: str, id: int, phase_id: int, payload: PhasePatch
) -> Any:
    """While in transition; marking a phase done is an event on the timeline."""
    actor = api_actor(request, org)
    service = service_at(actor, id, MANAGE)
    phase = selectors.phase_get(actor=actor, service=service, pk=phase_id)
    data = no_nulls(
        payload.model_dump(exclude_unset=True),
        ("name", "starts_on", "ends_on", "done", "customer_groups"),
    )
    if "customer_groups" in data:
        data["customer_groups"] = _refs(
            actor, CustomerGroup, data["customer_groups"], "customer_groups"
        )
    services.phase_update(actor=actor, phase=phase, data=data)
    return selectors.phase_get(actor=actor, service=service, pk=phase_id)


@router.post(
    SERVICE + "/supporting-services",
    response={201: ServiceCreatedOut},
    tags=[STEPS],
    summary="Create a temporary service supporting this one's introduction",
    operation_id="lifecycle_supporting_services_create",
)
def supporting_create(request: HttpRequest, org: str, id: int, payload: SupportingServiceIn) -> Any:
    """A service of its own (proposed), temporary with an end date, linked to the one it
    supports (while signed off or in transition)."""
    actor = api_actor(request, org)
    service = service_at(actor, id, MANAGE)
    created = services.supporting_service_create(
        actor=actor,
        service=service,
        code=payload.code,
        name=payload.name,
        end_date=payload.end_date,
        category=ref(actor, Category, payload.category, "category"),
        summary=payload.summary,
    )
    return Status(201, created)


# ---------------------------------------------------------------- closure and after


@router.post(
    SERVICE + "/artefact-decisions",
    response={201: ArtefactDecisionOut},
    tags=[STEPS],
    summary="Decide what happens to an artefact of a closing service",
    operation_id="lifecycle_artefact_decisions_create",
)
def artefact_decision(request: HttpRequest, org: str, id: int, payload: ArtefactDecisionIn) -> Any:
    """Keep for reuse, archive or discard, with a note; deciding again replaces the
    earlier decision. Decisions take effect when the Owner approves the closure."""
    actor = api_actor(request, org)
    service = service_at(actor, id, MANAGE)
    decision = services.artefact_decide(
        actor=actor,
        service=service,
        artefact=ref(actor, Artefact, payload.artefact, "artefact"),
        fate=payload.fate,
        note=payload.note,
    )
    return Status(
        201, selectors.artefact_decision_get(actor=actor, service=service, pk=decision.pk)
    )


@router.post(
    SERVICE + "/successors",
    response={201: ServiceCreatedOut},
    tags=[STEPS],
    summary="Start a new service from a closed one's kept artefacts",
    operation_id="lifecycle_successors_create",
)
def successor_create(request: HttpRequest, org: str, id: int, payload: SuccessorIn) -> Any:
    """A proposal that records this closed service as its origin and reuses its kept
    artefacts."""
    actor = api_actor(request, org)
    origin = service_at(actor, id)
    require(actor, ADD, Service)  # a new service: the right first, then the body
    created = services.service_start_from(
        actor=actor,
        origin=origin,
        code=payload.code,
        name=payload.name,
        delivering_pmos=_refs(actor, PMO, payload.delivering_pmos, "delivering_pmos"),
        category=ref(actor, Category, payload.category, "category"),
    )
    return Status(201, created)
