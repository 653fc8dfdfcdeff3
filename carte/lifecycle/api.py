"""API endpoints of the service lifecycle (`/api/v1/orgs/{org}/services/{id}/...`): the
lifecycle state (stage, the checklist of each next move, the current records), the
timeline, the transitions, and the steps recorded between moves.

Every write goes through `carte.lifecycle.services`. Ids in a payload are resolved within
the caller's organisation first (`ref()`), so another organisation's id is a 422 naming
the field. Payload fields carry the domain's names (`owner`, `template`, `customers`,
...), so the domain's field errors name what the client sent; the CLI reads the same
payload (`carte lifecycle move ... --payload-json`).

No `from __future__ import annotations`: django-ninja reads these annotations at runtime.
"""

from datetime import date, datetime
from typing import Any, Literal

from django.db.models import Model, Prefetch, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema, Status
from ninja.pagination import PageNumberPagination, paginate

from carte.catalogue import selectors as catalogue_selectors
from carte.catalogue.api import Named, Strict
from carte.catalogue.choices import Stage
from carte.catalogue.models import Artefact, Category, Service, Supplier
from carte.catalogue.selectors import Audience
from carte.core.api import Stamped, api_fields, no_nulls, ref
from carte.core.errors import CONFLICT, DomainError
from carte.core.listing import get_for
from carte.lifecycle import machine, selectors, services
from carte.lifecycle.choices import (
    READINESS_QUESTIONS,
    Answer,
    Approach,
    ArtefactFate,
    ClosureReason,
    CriterionResultKind,
    EventKind,
    PilotOutcome,
    Sourcing,
    TaskPurpose,
    TaskStatus,
    Verdict,
)
from carte.lifecycle.models import (
    ArtefactDecision,
    Closure,
    CriterionResult,
    EventAttachment,
    LifecycleEvent,
    PilotIteration,
    ReadinessAssessment,
    SetupDecision,
    SuccessCriterion,
    Task,
    TaskList,
    TemplateTask,
    TransitionPhase,
    TransitionPlan,
)
from carte.lifecycle.selectors import task_template, task_templates_with_lines
from carte.lifecycle.services import TEMPLATE_TASK_FIELDS
from carte.organisations.access import api_actor
from carte.organisations.actor import Actor
from carte.organisations.models import PMO, CustomerGroup, Person

router = Router()

SERVICE = "/orgs/{org}/services/{int:id}"
TAG = "Lifecycle"
STEPS = "Lifecycle steps"
LIVE = {"archived_at__isnull": True}


# ---------------------------------------------------------------- output schemas


class ServiceBrief(Schema):
    id: int
    code: str
    name: str


class CheckOut(Schema):
    code: str = Field(
        ...,
        description="Stable; `criterion:<id>` and `artefact:<id>` name the row it is about.",
    )
    label: str
    met: bool
    hint: str = Field(..., description="What to do about it while it is not met.")


class MoveOut(Schema):
    name: str = Field(..., description="The move's verb (also accepted by the CLI).")
    target: Stage
    label: str
    who: str = Field(..., description="Who may make this move.")
    payload: str = Field(
        ...,
        description="Which payload the move takes (see POST …/transitions): decision, "
        "reason (a note is required), note, design, pilot, plan, go_live, closure, approval.",
    )
    allowed: bool = Field(..., description="Whether the caller holds the right to make it.")
    ready: bool = Field(..., description="Whether every condition of its checklist is met.")
    checklist: list[CheckOut]


class AttachmentOut(Schema):
    id: int
    name: str
    url: str
    file: str | None = Field(None, description="The address of an uploaded file, if any.")

    @staticmethod
    def resolve_file(obj: EventAttachment) -> str | None:
        """The uploaded file's address."""
        return obj.file.url if obj.file else None


class EventOut(Schema):
    id: int
    kind: EventKind
    from_stage: Stage | Literal[""]
    to_stage: Stage | Literal[""]
    title: str
    note: str
    at: datetime
    actor_id: int | None
    actor: str = Field(..., description="Who did it, as they were known then.")
    attachments: list[AttachmentOut]

    @staticmethod
    def resolve_actor(obj: LifecycleEvent) -> str:
        """The label kept with the event (it outlives the login)."""
        return obj.actor_label

    @staticmethod
    def resolve_attachments(obj: LifecycleEvent) -> list[Any]:
        """Live attachments (prefetched on lists)."""
        return [a for a in obj.attachments.all() if a.archived_at is None]


def _named(rows: Any) -> list[dict[str, Any]]:
    return [{"id": r.pk, "name": str(r)} for r in rows.all()]


class AppointmentOut(Schema):
    pmo: str
    person: str


class DecisionOut(Schema):
    id: int
    created_at: datetime
    decided_at: datetime | None = Field(
        None, description="When it was decided (differs from created_at for past history)."
    )
    delivering_pmos: list[Named]
    owner: Named
    managers: list[AppointmentOut] = Field(..., description="As appointed by the decision.")
    sourcing: Sourcing
    provider_name: str
    strategy_fit: str
    capacity: str
    other_services: str
    stakeholders: str
    scope: str

    @staticmethod
    def resolve_delivering_pmos(obj: SetupDecision) -> list[dict[str, Any]]:
        """The PMOs chosen to deliver the service (prefetched)."""
        return _named(obj.delivering_pmos)

    @staticmethod
    def resolve_managers(obj: SetupDecision) -> list[Any]:
        """The Service Manager appointed for each PMO, by name."""
        return list(obj.appointments)


class CriterionOut(Stamped):
    description: str
    measure: str
    position: int
    agreed_with_groups: list[Named]
    agreed_with_people: list[Named]

    @staticmethod
    def resolve_agreed_with_groups(obj: SuccessCriterion) -> list[dict[str, Any]]:
        """The customer groups who agreed it (prefetched)."""
        return _named(obj.agreed_with_groups)

    @staticmethod
    def resolve_agreed_with_people(obj: SuccessCriterion) -> list[dict[str, Any]]:
        """The customers who agreed it (prefetched)."""
        return _named(obj.agreed_with_people)


class CriterionResultOut(Schema):
    id: int
    criterion_id: int
    criterion: str
    result: CriterionResultKind
    evidence: str
    waived: bool
    waiver_reason: str
    waived_by: str | None
    passes: bool = Field(..., description="Met, or waived by the Owner.")

    @staticmethod
    def resolve_criterion(obj: CriterionResult) -> str:
        """The criterion's description."""
        return obj.criterion.description

    @staticmethod
    def resolve_waived_by(obj: CriterionResult) -> str | None:
        """The e-mail of the Owner who waived it."""
        return obj.waived_by.email if obj.waived_by_id and obj.waived_by else None


class PilotOut(Schema):
    id: int
    number: int
    starts_on: date
    ends_on: date
    outcome: PilotOutcome
    suppliers: list[Named]
    customers: list[Named]
    operatives: list[Named]
    governance_in_place: bool
    resources_confirmed: bool
    outcomes_validated: bool
    result_note: str
    result_at: datetime | None = Field(None, description="Null until the result is recorded.")
    results: list[CriterionResultOut]

    @staticmethod
    def resolve_suppliers(obj: PilotIteration) -> list[dict[str, Any]]:
        """The selected suppliers (prefetched)."""
        return _named(obj.suppliers)

    @staticmethod
    def resolve_customers(obj: PilotIteration) -> list[dict[str, Any]]:
        """The customer groups taking part (prefetched)."""
        return _named(obj.customers)

    @staticmethod
    def resolve_operatives(obj: PilotIteration) -> list[dict[str, Any]]:
        """The people delivering the pilot (prefetched)."""
        return _named(obj.operatives)

    @staticmethod
    def resolve_results(obj: PilotIteration) -> list[Any]:
        """A result per criterion (prefetched, live only)."""
        return list(obj.results.all())


class ReadinessAnswerOut(Schema):
    question: str
    answer: Answer
    note: str


class ReadinessOut(Schema):
    id: int
    created_at: datetime
    assessor: Named
    assessed_on: date
    verdict: Verdict
    note: str
    answers: list[ReadinessAnswerOut]

    @staticmethod
    def resolve_answers(obj: ReadinessAssessment) -> list[Any]:
        """The answers in order (prefetched)."""
        return list(obj.answers.all())


class PhaseOut(Stamped):
    name: str
    starts_on: date
    ends_on: date
    done: bool
    position: int
    customer_groups: list[Named]

    @staticmethod
    def resolve_customer_groups(obj: TransitionPhase) -> list[dict[str, Any]]:
        """The customers the phase reaches (prefetched)."""
        return _named(obj.customer_groups)


class PlanOut(Schema):
    id: int
    created_at: datetime
    approach: Approach
    behavioural_change: str
    phases: list[PhaseOut]

    @staticmethod
    def resolve_phases(obj: TransitionPlan) -> list[Any]:
        """Live phases in order (prefetched)."""
        return list(obj.phases.all())


class ArtefactDecisionOut(Schema):
    id: int
    artefact_id: int
    artefact: str
    fate: ArtefactFate
    note: str

    @staticmethod
    def resolve_artefact(obj: ArtefactDecision) -> str:
        """The artefact's name."""
        return obj.artefact.name


class ClosureOut(Schema):
    id: int
    created_at: datetime
    reason: ClosureReason
    explanation: str
    replacing_service: ServiceBrief | None
    change_notes: str
    approved_at: datetime | None
    approved_by: str | None
    decisions: list[ArtefactDecisionOut]

    @staticmethod
    def resolve_approved_by(obj: Closure) -> str | None:
        """The e-mail of the Owner who approved it."""
        return obj.approved_by.email if obj.approved_by_id and obj.approved_by else None

    @staticmethod
    def resolve_decisions(obj: Closure) -> list[Any]:
        """A decision per artefact so far (prefetched, live only)."""
        return list(obj.decisions.all())


class TaskOut(Stamped):
    title: str
    assignee: Named | None
    due_on: date | None
    status: TaskStatus
    position: int


class ProgressOut(Schema):
    done: int
    total: int = Field(..., description="Live tasks that are not dropped.")
    percent: int


class TaskListOut(Stamped):
    purpose: TaskPurpose
    name: str
    template: Named | None = Field(None, description="The template it was made from.")
    progress: ProgressOut
    tasks: list[TaskOut]

    @staticmethod
    def resolve_tasks(obj: TaskList) -> list[Any]:
        """Live tasks in order (prefetched)."""
        return list(obj.tasks.all())

    @staticmethod
    def resolve_progress(obj: TaskList) -> dict[str, int]:
        """Done tasks out of those not dropped, as the Lifecycle panel counts them."""
        view = selectors.TaskListView(obj, list(obj.tasks.all()))
        return {"done": view.done, "total": view.total, "percent": view.percent}


class DueOut(Schema):
    end_date: date
    proposed_reason: ClosureReason = Field(..., description="Always `end_date`.")


class LifecycleOut(Schema):
    """The stage, the next moves with their checklists, and the records of the service's
    life that matter at this stage (the others are on the timeline, `…/events`, and at
    the step endpoints): criteria, pilot and task lists during set-up, readiness and the
    plan around transition, the closure while closing or closed."""

    service: ServiceBrief
    stage: Stage
    stage_label: str
    since: datetime = Field(..., description="When the service reached this stage.")
    age_days: int = Field(..., description="Whole days at this stage.")
    next_moves: list[MoveOut] = Field(..., description="Every move out of this stage.")
    transitions: list[Stage] = Field(
        ..., description="The stages the caller may move the service to now."
    )
    decision: DecisionOut | None = Field(None, description="The latest set-up decision.")
    criteria: list[CriterionOut] = Field(..., description="Live success criteria.")
    pilot: PilotOut | None = Field(None, description="The latest pilot iteration.")
    readiness: ReadinessOut | None = Field(None, description="The latest readiness assessment.")
    plan: PlanOut | None = Field(None, description="The latest transition plan.")
    closure: ClosureOut | None = Field(
        None, description="While closing or closed: the latest closure and its decisions."
    )
    task_lists: list[TaskListOut]
    due_for_closure: DueOut | None = Field(
        None, description="Set when a temporary service runs past its agreed end date."
    )


class TransitionOut(Schema):
    event: EventOut
    lifecycle: LifecycleOut


class ServiceCreatedOut(Schema):
    id: int
    code: str
    name: str
    stage: Stage
    is_temporary: bool
    end_date: date | None
    supports_id: int | None
    origin_id: int | None


# ---------------------------------------------------------------- input schemas


class AttachmentIn(Strict):
    name: str = Field(..., max_length=200)
    url: str = Field(..., description="A link; files are attached on the pages.")


class ManagerIn(Strict):
    pmo: int = Field(..., description="Id of a delivering PMO.")
    person: int = Field(..., description="Id of the person appointed Service Manager for it.")


class PhaseIn(Strict):
    name: str
    starts_on: date
    ends_on: date
    customer_groups: list[int] = Field(
        default_factory=list, description="Ids of the customer groups this phase reaches."
    )


class TransitionIn(Strict):
    """A move to `to`, with the fields its payload takes (see `next_moves[].payload` of
    GET …/lifecycle); a field the move does not take is refused."""

    to: Stage = Field(..., description="The target stage.")
    expected_from: Stage | None = Field(
        None, description="The stage the client saw; if the service has moved since: 409."
    )
    note: str = Field("", description="Required by the moves whose payload is `reason`.")
    attachments: list[AttachmentIn] = Field(default_factory=list)
    # decision (proposed -> approved_for_setup)
    delivering_pmos: list[int] | None = Field(None, description="decision: PMO ids.")
    owner: int | None = Field(None, description="decision: id of the Owner (a person).")
    managers: list[ManagerIn] | None = Field(
        None, description="decision: a Service Manager for each delivering PMO."
    )
    sourcing: Sourcing | None = Field(None, description="decision.")
    provider_name: str | None = Field(None, description="decision: required when outsourced.")
    strategy_fit: str | None = Field(None, description="decision.")
    capacity: str | None = Field(None, description="decision.")
    other_services: str | None = Field(None, description="decision.")
    stakeholders: str | None = Field(None, description="decision.")
    scope: str | None = Field(None, description="decision.")
    # design and closure
    template: int | None = Field(
        None, description="design, closure: id of a Centre of Excellence task-list template."
    )
    # pilot
    starts_on: date | None = Field(None, description="pilot.")
    ends_on: date | None = Field(None, description="pilot.")
    suppliers: list[int] | None = Field(None, description="pilot: ids of the service's suppliers.")
    customers: list[int] | None = Field(None, description="pilot: customer group ids.")
    operatives: list[int] | None = Field(None, description="pilot: person ids.")
    # plan (signed_off -> transition)
    approach: Approach | None = Field(None, description="plan.")
    behavioural_change: str | None = Field(None, description="plan.")
    phases: list[PhaseIn] | None = Field(None, description="plan: one for big bang.")
    # go_live
    publish: bool | None = Field(None, description="go_live: publish the service (default).")
    # closure (running -> closing)
    reason: ClosureReason | None = Field(None, description="closure.")
    explanation: str | None = Field(None, description="closure.")
    replacing_service: int | None = Field(
        None, description="closure: id of the replacing service; required when replaced."
    )
    change_notes: str | None = Field(None, description="closure.")
    # approval (closing -> closed)
    approve: bool | None = Field(None, description="approval: the Owner's formal approval.")


MOVE_FIELDS = ("to", "expected_from", "note", "attachments")


class CriterionIn(Strict):
    description: str
    measure: str = Field("", description="How it is verified.")
    agreed_with_groups: list[int] = Field(default_factory=list, description="Customer group ids.")
    agreed_with_people: list[int] = Field(default_factory=list, description="Person ids.")


class CriterionPatch(Strict):
    description: str | None = None
    measure: str | None = None
    agreed_with_groups: list[int] | None = None
    agreed_with_people: list[int] | None = None


class WaiverIn(Strict):
    reason: str = Field(..., description="Why the unmet criterion is accepted.")


class TaskListIn(Strict):
    purpose: TaskPurpose
    template: int | None = Field(None, description="Id of a Centre of Excellence template.")
    name: str = Field("", description="Defaults to '<purpose> of <service>'.")


class TaskIn(Strict):
    title: str
    assignee: int | None = Field(None, description="Person id.")
    due_on: date | None = None
    status: TaskStatus = TaskStatus.TODO
    position: int | None = Field(None, ge=0, description="Order in the list; last by default.")


class TaskPatch(Strict):
    title: str | None = None
    assignee: int | None = Field(None, description="Person id; null unassigns.")
    due_on: date | None = None
    status: TaskStatus | None = None
    position: int | None = Field(None, ge=0)


class CriterionResultIn(Strict):
    criterion: int = Field(..., description="Id of a live success criterion of the service.")
    result: CriterionResultKind
    evidence: str = ""


class PilotResultIn(Strict):
    results: list[CriterionResultIn] = Field(..., description="One per live success criterion.")
    governance_in_place: bool
    resources_confirmed: bool
    outcomes_validated: bool
    note: str = ""
    attachments: list[AttachmentIn] = Field(default_factory=list)


class ReadinessAnswerIn(Strict):
    question: str = Field(..., max_length=300)
    answer: Answer
    note: str = Field("", max_length=300)


class ReadinessIn(Strict):
    assessor: int = Field(..., description="Person id.")
    assessed_on: date
    answers: list[ReadinessAnswerIn] = Field(
        ...,
        description="The standard questions are: " + " ".join(READINESS_QUESTIONS),
    )
    verdict: Verdict
    note: str = ""
    attachments: list[AttachmentIn] = Field(default_factory=list)


class PhasePatch(Strict):
    name: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    done: bool | None = None
    customer_groups: list[int] | None = Field(None, description="Customer group ids.")


class SupportingServiceIn(Strict):
    code: str
    name: str
    end_date: date = Field(..., description="When the temporary service is agreed to end.")
    category: int | None = Field(None, description="Category id; the supported one's by default.")
    summary: str = ""


class ArtefactDecisionIn(Strict):
    artefact: int = Field(..., description="Id of an artefact the closing service owns.")
    fate: ArtefactFate
    note: str = Field(..., max_length=300)


class SuccessorIn(Strict):
    code: str
    name: str
    delivering_pmos: list[int] = Field(default_factory=list, description="PMO ids.")
    category: int | None = Field(None, description="Category id; the closed one's by default.")


class NoteIn(Strict):
    note: str
    attachments: list[AttachmentIn] = Field(default_factory=list)


# ---------------------------------------------------------------- reads


def _criteria() -> QuerySet[SuccessCriterion]:
    return SuccessCriterion.objects.prefetch_related("agreed_with_groups", "agreed_with_people")


def _phases() -> QuerySet[TransitionPhase]:
    return TransitionPhase.objects.prefetch_related("customer_groups")


def _tasks() -> QuerySet[Task]:
    return Task.objects.select_related("assignee", "task_list__service")


def _events() -> QuerySet[LifecycleEvent]:
    return LifecycleEvent.objects.prefetch_related("attachments")


def _service(actor: Actor, pk: int) -> Service:
    """The service (404 if not the organisation's, or hidden from the caller). The PMO's
    side reads the row alone: the published snapshot is not needed here."""
    return catalogue_selectors.service_for(actor=actor, pk=pk)


def _readable(actor: Actor, pk: int) -> Service:
    """The service, for reading its lifecycle: the PMO's working papers, not for customers."""
    return catalogue_selectors.service_for(actor=actor, pk=pk, audience=Audience.STAFF)


def lifecycle_state(actor: Actor, service: Service) -> dict[str, Any]:
    """Everything GET …/lifecycle answers, in a bounded number of queries."""
    moves = machine.next_moves(actor, service)
    since = service.stage_changed_at or service.created_at
    live_service = {"service": service, **LIVE}

    def wanted(record: str) -> bool:
        return machine.shown(service, record)

    closure = None
    if wanted("closure"):
        closure = (
            Closure.objects.filter(**live_service)
            .select_related("replacing_service", "approved_by")
            .prefetch_related(
                Prefetch(
                    "decisions",
                    queryset=ArtefactDecision.objects.filter(**LIVE).select_related("artefact"),
                )
            )
            .order_by("-created_at", "-id")
            .first()
        )
    today = timezone.localdate()
    due = (
        {"end_date": service.end_date, "proposed_reason": ClosureReason.END_DATE}
        if machine.is_due_for_closure(service, today)
        else None
    )
    return {
        "service": service,
        "stage": service.stage,
        "stage_label": Stage(service.stage).label,
        "since": since,
        "age_days": max((timezone.now() - since).days, 0),
        "next_moves": [
            {
                "name": m.move.name,
                "target": m.move.target,
                "label": m.move.label,
                "who": m.move.who,
                "payload": m.move.payload,
                "allowed": m.allowed,
                "ready": m.ready,
                "checklist": m.checks,
            }
            for m in moves
        ],
        "transitions": [m.move.target for m in moves if m.allowed and m.ready],
        "decision": SetupDecision.objects.filter(**live_service)
        .select_related("owner")
        .prefetch_related("delivering_pmos")
        .order_by("-created_at", "-id")
        .first()
        if wanted("decision")
        else None,
        "criteria": list(_criteria().filter(**live_service)) if wanted("criteria") else [],
        "pilot": selectors.pilot_rows().filter(service=service).order_by("-number").first()
        if wanted("pilots")
        else None,
        "readiness": selectors.readiness_rows().filter(service=service).first()
        if wanted("readiness")
        else None,
        "plan": TransitionPlan.objects.filter(**live_service)
        .prefetch_related(Prefetch("phases", queryset=_phases().filter(**LIVE)))
        .order_by("-created_at", "-id")
        .first()
        if wanted("plan")
        else None,
        "closure": closure,
        "task_lists": list(
            selectors.task_list_rows().filter(service=service).order_by("created_at", "id")
        )
        if wanted("task_lists")
        else [],
        "due_for_closure": due,
    }


# ---------------------------------------------------------------- resolving ids


def _refs(actor: Actor, model: type[Model], ids: list[int] | None, field: str) -> list[Any]:
    """Each id (once) as a row of the caller's organisation, or a 422 naming `field`."""
    return [ref(actor, model, pk, field) for pk in dict.fromkeys(ids or [])]


def transition_payload(actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    """A transition's payload with every id replaced by the row of the organisation it
    names; the fields the client did not send stay out (the move refuses what it does not
    take)."""
    out = dict(data)
    singles: dict[str, type[Model]] = {
        "owner": Person,
        "template": Artefact,
        "replacing_service": Service,
    }
    for name, model in singles.items():
        if name in out:
            out[name] = ref(actor, model, out[name], name)
    lists: dict[str, type[Model]] = {
        "delivering_pmos": PMO,
        "suppliers": Supplier,
        "customers": CustomerGroup,
        "operatives": Person,
    }
    for name, model in lists.items():
        if name in out:
            out[name] = _refs(actor, model, out[name], name)
    if "managers" in out:
        managers: dict[PMO, Person] = {}
        for item in out["managers"] or []:
            pmo = ref(actor, PMO, item["pmo"], "managers")
            if pmo in managers:
                raise DomainError.field("managers", f"Appoint one Service Manager for {pmo}.")
            managers[pmo] = ref(actor, Person, item["person"], "managers")
        out["managers"] = managers
    if "phases" in out:
        out["phases"] = [
            {
                **phase,
                "customer_groups": _refs(
                    actor,
                    CustomerGroup,
                    phase.get("customer_groups"),
                    f"phases.{position}.customer_groups",
                ),
            }
            for position, phase in enumerate(out["phases"] or [], start=1)
        ]
    return out


def _attachments(items: list[dict[str, Any]] | None) -> list[services.Attachment]:
    return [services.Attachment(name=i["name"], url=i["url"]) for i in items or []]


# ---------------------------------------------------------------- lifecycle and timeline


@router.get(
    SERVICE + "/lifecycle",
    response=LifecycleOut,
    tags=[TAG],
    summary="The lifecycle of a service: stage, next moves with checklists, current records",
    operation_id="lifecycle_retrieve",
)
def lifecycle_retrieve(request: HttpRequest, org: str, id: int) -> Any:
    """The stage and how long the service has been there; each move out of it with who
    may make it, whether the caller may, and its checklist; the stages the caller may move
    it to now; and the records of its life so far."""
    actor = api_actor(request, org)
    return lifecycle_state(actor, _readable(actor, id))


@router.get(
    SERVICE + "/events",
    response=list[EventOut],
    tags=[TAG],
    summary="The timeline of a service",
    operation_id="lifecycle_events_list",
)
@paginate(PageNumberPagination, page_size=25, max_page_size=200)
def lifecycle_events(request: HttpRequest, org: str, id: int, kind: EventKind | None = None) -> Any:
    """Every stage change, recorded step and note, newest first, with attachments."""
    actor = api_actor(request, org)
    service = _readable(actor, id)
    qs = _events().filter(service=service, **LIVE)
    if kind is not None:
        qs = qs.filter(kind=kind)
    return qs.order_by("-at", "-id")


@router.post(
    SERVICE + "/transitions",
    response={201: TransitionOut},
    tags=[TAG],
    summary="Move a service to another stage",
    operation_id="lifecycle_transition",
)
def lifecycle_transition(request: HttpRequest, org: str, id: int, payload: TransitionIn) -> Any:
    """Make one move with its payload. Refusals: 409 when the move does not exist from
    the current stage, the service moved meanwhile (`expected_from`), or a condition is
    unmet (each listed in `unmet`: code, label, hint); 403 without the right; 422 for a
    payload that is wrong, naming each field."""
    actor = api_actor(request, org)
    service = _service(actor, id)
    data = payload.model_dump(exclude_unset=True)
    moving = {name: data.pop(name, None) for name in MOVE_FIELDS}
    event = services.transition(
        actor=actor,
        service=service,
        to=payload.to,
        expected_from=payload.expected_from,
        note=payload.note,
        attachments=_attachments(moving["attachments"]),
        **transition_payload(actor, data),
    )
    # `transition()` has brought `service` up to date (stage, since, published version);
    # the actor's memo of service roles is dropped, as the move may have appointed some.
    fresh = Actor(actor.user, actor.organisation, actor.roles)
    return Status(201, {"event": event, "lifecycle": lifecycle_state(fresh, service)})


@router.post(
    SERVICE + "/notes",
    response={201: EventOut},
    tags=[TAG],
    summary="Add a note to the timeline of a service",
    operation_id="lifecycle_notes_create",
)
def lifecycle_note(request: HttpRequest, org: str, id: int, payload: NoteIn) -> Any:
    """Minutes of a meeting, a decision, a link: an event of its own."""
    actor = api_actor(request, org)
    event = services.note_add(
        actor=actor,
        service=_service(actor, id),
        note=payload.note,
        attachments=_attachments(payload.model_dump()["attachments"]),
    )
    # The event carries its attachments as a prefetch would (services._event).
    return Status(201, event)


# ---------------------------------------------------------------- success criteria


def _criterion(actor: Actor, service: Service, pk: int) -> SuccessCriterion:
    return get_for(actor, _criteria().filter(service=service).select_related("service"), pk)


def _criterion_data(actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    no_nulls(data, ("description", "measure", "agreed_with_groups", "agreed_with_people"))
    for name, model in (("agreed_with_groups", CustomerGroup), ("agreed_with_people", Person)):
        if name in data:
            data[name] = _refs(actor, model, data[name], name)
    return data


@router.get(
    SERVICE + "/criteria",
    response=list[CriterionOut],
    tags=[STEPS],
    summary="List the success criteria of a service",
    operation_id="lifecycle_criteria_list",
)
def criteria_list(request: HttpRequest, org: str, id: int) -> Any:
    """Live criteria in order."""
    actor = api_actor(request, org)
    service = _readable(actor, id)
    return _criteria().filter(service=service, **LIVE)


@router.post(
    SERVICE + "/criteria",
    response={201: CriterionOut},
    tags=[STEPS],
    summary="Add a success criterion",
    operation_id="lifecycle_criteria_create",
)
def criteria_create(request: HttpRequest, org: str, id: int, payload: CriterionIn) -> Any:
    """What the pilot must show, agreed with named customers or customer groups (while
    approved for set-up or in design)."""
    actor = api_actor(request, org)
    service = _service(actor, id)
    data = _criterion_data(actor, payload.model_dump())
    criterion = services.criterion_create(actor=actor, service=service, **data)
    return Status(201, _criteria().get(pk=criterion.pk))


@router.patch(
    SERVICE + "/criteria/{int:criterion_id}",
    response=CriterionOut,
    tags=[STEPS],
    summary="Change a success criterion",
    operation_id="lifecycle_criteria_update",
)
def criteria_update(
    request: HttpRequest, org: str, id: int, criterion_id: int, payload: CriterionPatch
) -> Any:
    """Change what the payload names (while approved for set-up or in design)."""
    actor = api_actor(request, org)
    criterion = _criterion(actor, _service(actor, id), criterion_id)
    data = _criterion_data(actor, payload.model_dump(exclude_unset=True))
    services.criterion_update(actor=actor, criterion=criterion, data=data)
    return _criteria().get(pk=criterion_id)


@router.post(
    SERVICE + "/criteria/{int:criterion_id}/archive",
    response=CriterionOut,
    tags=[STEPS],
    summary="Archive a success criterion",
    operation_id="lifecycle_criteria_archive",
)
def criteria_archive(request: HttpRequest, org: str, id: int, criterion_id: int) -> Any:
    """Drop a criterion (while approved for set-up or in design); it is kept, archived."""
    actor = api_actor(request, org)
    criterion = _criterion(actor, _service(actor, id), criterion_id)
    services.criterion_archive(actor=actor, criterion=criterion)
    return _criteria().get(pk=criterion_id)


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
    service = _service(actor, id)
    criterion = _criterion(actor, service, criterion_id)
    pilot = machine.latest_pilot(service)
    result = (
        CriterionResult.objects.filter(pilot=pilot, criterion=criterion, **LIVE)
        .select_related("pilot__service", "criterion")
        .first()
        if pilot is not None
        else None
    )
    if result is None:
        raise DomainError("The current pilot has no result for this criterion.", code=CONFLICT)
    try:
        services.criterion_waive(actor=actor, result=result, reason=payload.reason)
    except DomainError as exc:
        raise api_fields(exc, {"waiver_reason": "reason"}) from exc
    return CriterionResult.objects.select_related("criterion", "waived_by").get(pk=result.pk)


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
    service = _readable(actor, id)
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
    service = _service(actor, id)
    template = ref(actor, Artefact, payload.template, "template")
    task_list = services.task_list_create(
        actor=actor,
        service=service,
        purpose=payload.purpose,
        template=template,
        name=payload.name,
    )
    return Status(201, selectors.task_list_rows().get(pk=task_list.pk))


def _task_data(actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    no_nulls(data, ("title", "status"))
    if data.get("position", 0) is None:
        del data["position"]
    if "assignee" in data:
        data["assignee"] = ref(actor, Person, data["assignee"], "assignee")
    return data


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
    service = _service(actor, id)
    task_list = get_for(
        actor, TaskList.objects.filter(service=service).select_related("service"), task_list_id
    )
    data = _task_data(actor, payload.model_dump())
    task = services.task_create(actor=actor, task_list=task_list, data=data)
    return Status(201, _tasks().get(pk=task.pk))


def _task(actor: Actor, service: Service, pk: int) -> Task:
    return get_for(actor, _tasks().filter(task_list__service=service), pk)


@router.patch(
    SERVICE + "/tasks/{int:task_id}",
    response=TaskOut,
    tags=[STEPS],
    summary="Change a task (its status, assignee, due date...)",
    operation_id="lifecycle_tasks_update",
)
def tasks_update(request: HttpRequest, org: str, id: int, task_id: int, payload: TaskPatch) -> Any:
    """Change what the payload names."""
    actor = api_actor(request, org)
    task = _task(actor, _service(actor, id), task_id)
    data = _task_data(actor, payload.model_dump(exclude_unset=True))
    services.task_update(actor=actor, task=task, data=data)
    return _tasks().get(pk=task_id)


@router.post(
    SERVICE + "/tasks/{int:task_id}/archive",
    response=TaskOut,
    tags=[STEPS],
    summary="Archive a task",
    operation_id="lifecycle_tasks_archive",
)
def tasks_archive(request: HttpRequest, org: str, id: int, task_id: int) -> Any:
    """Remove a task entered by mistake (it is kept, archived)."""
    actor = api_actor(request, org)
    task = _task(actor, _service(actor, id), task_id)
    services.task_archive(actor=actor, task=task)
    return _tasks().get(pk=task_id)


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
    service = _readable(actor, id)
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
    service = _service(actor, id)
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
    return Status(201, selectors.pilot_rows().get(pk=pilot.pk))


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
    service = _readable(actor, id)
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
    service = _service(actor, id)
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
    return Status(201, selectors.readiness_rows().get(pk=assessment.pk))


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
    service = _service(actor, id)
    phase = get_for(
        actor,
        TransitionPhase.objects.filter(plan__service=service).select_related("plan__service"),
        phase_id,
    )
    data = no_nulls(
        payload.model_dump(exclude_unset=True),
        ("name", "starts_on", "ends_on", "done", "customer_groups"),
    )
    if "customer_groups" in data:
        data["customer_groups"] = _refs(
            actor, CustomerGroup, data["customer_groups"], "customer_groups"
        )
    services.phase_update(actor=actor, phase=phase, data=data)
    return _phases().get(pk=phase_id)


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
    service = _service(actor, id)
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
    service = _service(actor, id)
    decision = services.artefact_decide(
        actor=actor,
        service=service,
        artefact=ref(actor, Artefact, payload.artefact, "artefact"),
        fate=payload.fate,
        note=payload.note,
    )
    return Status(201, ArtefactDecision.objects.select_related("artefact").get(pk=decision.pk))


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
    origin = _service(actor, id)
    created = services.service_start_from(
        actor=actor,
        origin=origin,
        code=payload.code,
        name=payload.name,
        delivering_pmos=_refs(actor, PMO, payload.delivering_pmos, "delivering_pmos"),
        category=ref(actor, Category, payload.category, "category"),
    )
    return Status(201, created)


# ---------------------------------------------------------------- task-list templates

TEMPLATES = "/orgs/{org}/task-templates"
TEMPLATE_TAG = "Task-list templates"


class TemplateTaskOut(Stamped):
    title: str
    due_after_days: int = Field(..., description="Days after the list is created.")
    position: int


class TaskTemplateOut(Schema):
    id: int = Field(..., description="The template artefact's id.")
    name: str
    owner_pmo: Named = Field(..., description="The Centre of Excellence that owns it.")
    tasks: list[TemplateTaskOut]

    @staticmethod
    def resolve_owner_pmo(obj: Artefact) -> dict[str, Any]:
        """The Centre of Excellence (selected with the template)."""
        pmo = obj.owner_pmo
        assert pmo is not None
        return {"id": pmo.pk, "name": pmo.name}

    @staticmethod
    def resolve_tasks(obj: Artefact) -> list[Any]:
        """Live lines in order (prefetched)."""
        return list(obj.template_tasks.all())


class TemplateTaskIn(Strict):
    title: str
    due_after_days: int = Field(0, ge=0, description="Days after the list is created.")
    position: int | None = Field(None, ge=0, description="Order in the template; last by default.")


class TemplateTaskPatch(Strict):
    title: str | None = None
    due_after_days: int | None = Field(None, ge=0)
    position: int | None = Field(None, ge=0)


def _template_line(actor: Actor, template_id: int, pk: int) -> TemplateTask:
    template = task_template(actor, template_id)
    return get_for(actor, TemplateTask.objects.filter(template=template, **LIVE), pk)


@router.get(
    TEMPLATES,
    response=list[TaskTemplateOut],
    tags=[TEMPLATE_TAG],
    summary="List the task-list templates with their lines",
    operation_id="lifecycle_task_templates_list",
)
def task_templates_list(request: HttpRequest, org: str) -> Any:
    """The live template artefacts of the Centres of Excellence, by name, each with its
    live lines in order."""
    actor = api_actor(request, org)
    return task_templates_with_lines(actor)


@router.post(
    TEMPLATES + "/{int:template_id}/tasks",
    response={201: TemplateTaskOut},
    tags=[TEMPLATE_TAG],
    summary="Add a line to a task-list template",
    operation_id="lifecycle_template_tasks_create",
)
def template_tasks_create(
    request: HttpRequest, org: str, template_id: int, payload: TemplateTaskIn
) -> Any:
    """A line with its title and how many days after the list's creation it is due."""
    actor = api_actor(request, org)
    template = task_template(actor, template_id)
    data = payload.model_dump()
    if data.get("position") is None:
        del data["position"]
    line = services.template_task_create(actor=actor, template=template, data=data)
    return Status(201, line)


@router.patch(
    TEMPLATES + "/{int:template_id}/tasks/{int:template_task_id}",
    response=TemplateTaskOut,
    tags=[TEMPLATE_TAG],
    summary="Change a line of a task-list template",
    operation_id="lifecycle_template_tasks_update",
)
def template_tasks_update(
    request: HttpRequest,
    org: str,
    template_id: int,
    template_task_id: int,
    payload: TemplateTaskPatch,
) -> Any:
    """Change what the payload names."""
    actor = api_actor(request, org)
    line = _template_line(actor, template_id, template_task_id)
    data = no_nulls(payload.model_dump(exclude_unset=True), TEMPLATE_TASK_FIELDS)
    return services.template_task_update(actor=actor, item=line, data=data)


@router.post(
    TEMPLATES + "/{int:template_id}/tasks/{int:template_task_id}/archive",
    response=TemplateTaskOut,
    tags=[TEMPLATE_TAG],
    summary="Archive a line of a task-list template",
    operation_id="lifecycle_template_tasks_archive",
)
def template_tasks_archive(
    request: HttpRequest, org: str, template_id: int, template_task_id: int
) -> Any:
    """Remove a line (it is kept, archived); lists made earlier keep their tasks."""
    actor = api_actor(request, org)
    line = _template_line(actor, template_id, template_task_id)
    return services.template_task_archive(actor=actor, item=line)
