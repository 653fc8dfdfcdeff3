"""The lifecycle API's schemas: what it answers and what it takes.
No `from __future__ import annotations`: django-ninja reads these annotations at runtime.
It reads a related manager as the list of its rows (the selectors prefetch them), so a
resolver is written only where a field is shown otherwise than the row holds it.
"""

from datetime import date, datetime
from typing import Any, Literal

from ninja import Field, Schema

from carte.catalogue.choices import Stage
from carte.core.api import Named, Stamped, Strict
from carte.lifecycle import choices, selectors
from carte.lifecycle.models import (
    ArtefactDecision,
    Closure,
    CriterionResult,
    EventAttachment,
    LifecycleEvent,
    PilotIteration,
    SetupDecision,
    SuccessCriterion,
    TaskList,
    TransitionPhase,
)

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


class LifecycleEventOut(Schema):
    id: int
    kind: choices.EventKind
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
    sourcing: choices.Sourcing
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
    result: choices.CriterionResultKind
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
    outcome: choices.PilotOutcome
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


class ReadinessAnswerOut(Schema):
    question: str
    answer: choices.Answer
    note: str


class ReadinessOut(Schema):
    id: int
    created_at: datetime
    assessor: Named
    assessed_on: date
    verdict: choices.Verdict
    note: str
    answers: list[ReadinessAnswerOut]


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
    approach: choices.Approach
    behavioural_change: str
    phases: list[PhaseOut]


class ArtefactDecisionOut(Schema):
    id: int
    artefact_id: int
    artefact: str
    fate: choices.ArtefactFate
    note: str

    @staticmethod
    def resolve_artefact(obj: ArtefactDecision) -> str:
        """The artefact's name."""
        return obj.artefact.name


class ClosureOut(Schema):
    id: int
    created_at: datetime
    reason: choices.ClosureReason
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


class TaskOut(Stamped):
    title: str
    assignee: Named | None
    due_on: date | None
    status: choices.TaskStatus
    position: int


class TaskProgressOut(Schema):
    done: int
    total: int = Field(..., description="Live tasks that are not dropped.")
    percent: int


class TaskListOut(Stamped):
    purpose: choices.TaskPurpose
    name: str
    template: Named | None = Field(None, description="The template it was made from.")
    progress: TaskProgressOut
    tasks: list[TaskOut]

    @staticmethod
    def resolve_progress(obj: TaskList) -> dict[str, int]:
        """Done tasks out of those not dropped, as the Lifecycle panel counts them."""
        view = selectors.TaskListView(obj, list(obj.tasks.all()))
        return {"done": view.done, "total": view.total, "percent": view.percent}


class ClosureDueOut(Schema):
    end_date: date
    proposed_reason: choices.ClosureReason = Field(..., description="Always `end_date`.")


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
    due_for_closure: ClosureDueOut | None = Field(
        None, description="Set when a temporary service runs past its agreed end date."
    )


class TransitionOut(Schema):
    event: LifecycleEventOut
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
    sourcing: choices.Sourcing | None = Field(None, description="decision.")
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
    approach: choices.Approach | None = Field(None, description="plan.")
    behavioural_change: str | None = Field(None, description="plan.")
    phases: list[PhaseIn] | None = Field(None, description="plan: one for big bang.")
    # go_live
    publish: bool | None = Field(None, description="go_live: publish the service (default).")
    # closure (running -> closing)
    reason: choices.ClosureReason | None = Field(None, description="closure.")
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


class WaiverIn(Strict):
    reason: str = Field(..., description="Why the unmet criterion is accepted.")


class TaskListIn(Strict):
    purpose: choices.TaskPurpose
    template: int | None = Field(None, description="Id of a Centre of Excellence template.")
    name: str = Field("", description="Defaults to '<purpose> of <service>'.")


class TaskIn(Strict):
    title: str
    assignee: int | None = Field(None, description="Person id.")
    due_on: date | None = None
    status: choices.TaskStatus = choices.TaskStatus.TODO
    position: int | None = Field(None, ge=0, description="Order in the list; last by default.")


class CriterionResultIn(Strict):
    criterion: int = Field(..., description="Id of a live success criterion of the service.")
    result: choices.CriterionResultKind
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
    answer: choices.Answer
    note: str = Field("", max_length=300)


class ReadinessIn(Strict):
    assessor: int = Field(..., description="Person id.")
    assessed_on: date
    answers: list[ReadinessAnswerIn] = Field(
        ...,
        description="The standard questions are: " + " ".join(choices.READINESS_QUESTIONS),
    )
    verdict: choices.Verdict
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
    fate: choices.ArtefactFate
    note: str = Field(..., max_length=300)


class SuccessorIn(Strict):
    code: str
    name: str
    delivering_pmos: list[int] = Field(default_factory=list, description="PMO ids.")
    category: int | None = Field(None, description="Category id; the closed one's by default.")


class MoveNoteIn(Strict):
    note: str
    attachments: list[AttachmentIn] = Field(default_factory=list)
