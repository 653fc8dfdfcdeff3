"""Reads of the service lifecycle: everything a service's Lifecycle panel shows, and the
board of all services by stage. Each takes the actor, and each runs a fixed number of
queries whatever the number of services, events, tasks or criteria.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Window,
)
from django.db.models.expressions import OrderBy
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone

from carte.catalogue import selectors as catalogue_selectors
from carte.catalogue.choices import ArtefactKind, ServiceRoleKind, Stage
from carte.catalogue.models import Artefact, Category, Service, ServiceRole
from carte.catalogue.selectors import Audience
from carte.core.listing import MAX_PAGE, get_for
from carte.core.permissions import ADD, VIEW, Right, can, require
from carte.lifecycle import machine
from carte.lifecycle.choices import CriterionResultKind, TaskPurpose, TaskStatus
from carte.lifecycle.filters import BoardFilter
from carte.lifecycle.models import (
    ArtefactDecision,
    Closure,
    CriterionResult,
    EventAttachment,
    LifecycleEvent,
    PilotIteration,
    ReadinessAnswer,
    ReadinessAssessment,
    SetupDecision,
    SuccessCriterion,
    Task,
    TaskList,
    TemplateTask,
    TransitionPhase,
    TransitionPlan,
)
from carte.lifecycle.permissions import CLOSE, DECIDE, MANAGE, SIGN_OFF
from carte.organisations.actor import Actor
from carte.organisations.choices import PMOKind
from carte.organisations.models import PMO, Person

LIVE = Q(archived_at__isnull=True)

# The stages in the order of a service's life, then the proposals that went no further.
MAIN_PATH: tuple[str, ...] = (
    Stage.PROPOSED,
    Stage.APPROVED_FOR_SETUP,
    Stage.DESIGN,
    Stage.PILOT,
    Stage.SIGNED_OFF,
    Stage.TRANSITION,
    Stage.RUNNING,
    Stage.CLOSING,
    Stage.CLOSED,
)
BOARD_STAGES: tuple[str, ...] = (*MAIN_PATH, Stage.DEFERRED, Stage.REJECTED)
EVENTS_PER_PAGE = 100
# Cards per column: the oldest in their stage first; a column filtered alone shows more.
COLUMN_LIMIT = 20
SINGLE_COLUMN_LIMIT = 1000


def age_label(since: dt.datetime | None, now: dt.datetime) -> str:
    """How long something has been where it is, in days ("today" for less than one)."""
    if since is None:
        return ""
    days = (now - since).days
    if days <= 0:
        return "under a day"
    return "1 day" if days == 1 else f"{days} days"


# ---------------------------------------------------------------- one service


def service_for_lifecycle(*, actor: Actor, pk: int | str, action: Right = VIEW) -> Service:
    """The service whose lifecycle is shown or changed. Staff-side records: a customer gets
    the catalogue's answer for the service (404 unless it is published to them) and then
    403; another organisation's service is a 404. With a lifecycle `action` (MANAGE,
    SIGN_OFF...), a member without that right on the service is refused (403)."""
    return catalogue_selectors.service_for(
        actor=actor,
        pk=pk,
        action=action,
        audience=Audience.STAFF,
        related=("category", "supports", "origin"),
    )


@dataclass
class TaskListView:
    """A task list with its live tasks and how far it has come."""

    task_list: TaskList
    tasks: list[Task]

    @property
    def counted(self) -> list[Task]:
        return [t for t in self.tasks if t.status != TaskStatus.DROPPED]

    @property
    def done(self) -> int:
        return sum(1 for t in self.counted if t.status == TaskStatus.DONE)

    @property
    def total(self) -> int:
        return len(self.counted)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


@dataclass
class PilotView:
    pilot: PilotIteration
    results: list[CriterionResult]


@dataclass
class Timeline:
    """One page of a service's timeline, newest first; pages are counted from the newest.
    One more event than shown is read to know whether older ones exist (no count query)."""

    events: list[LifecycleEvent]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1


def timeline(service: Service, page: Any = 1) -> Timeline:
    try:
        number = min(max(1, int(page or 1)), MAX_PAGE)
    except (TypeError, ValueError):
        number = 1
    start = (number - 1) * EVENTS_PER_PAGE
    events = list(events_of(service)[start : start + EVENTS_PER_PAGE + 1])
    return Timeline(events[:EVENTS_PER_PAGE], number, len(events) > EVENTS_PER_PAGE)


@dataclass
class Rights:
    """Which kinds of lifecycle step this actor may take on the service."""

    decide: bool
    manage: bool
    sign_off: bool
    close: bool
    add_service: bool


@dataclass
class LifecycleState:
    """Everything the Lifecycle panel of one service shows."""

    service: Service
    since: dt.datetime | None
    age: str
    moves: list[machine.NextMove]
    rights: Rights
    owner: ServiceRole | None
    managers: list[ServiceRole]
    decision: SetupDecision | None
    criteria: list[SuccessCriterion]
    pilots: list[PilotView]
    readiness: ReadinessAssessment | None
    plan: TransitionPlan | None
    closure: Closure | None
    decisions: dict[int, ArtefactDecision]
    own_artefacts: list[Artefact]
    task_lists: list[TaskListView]
    supporting: list[Service]
    successors: list[Service]
    due_for_closure: bool
    events: Timeline | None  # None when not asked for (the API reads `…/events` apart)

    @property
    def stage(self) -> str:
        return self.service.stage

    @property
    def current_pilot(self) -> PilotView | None:
        return self.pilots[0] if self.pilots else None

    @property
    def artefact_rows(self) -> list[tuple[Artefact, ArtefactDecision | None]]:
        return [(a, self.decisions.get(a.pk)) for a in self.own_artefacts]

    @property
    def stepper(self) -> list[dict[str, Any]]:
        """The main path as steps: those behind the service, its own, those ahead."""
        stage = self.service.stage
        position = MAIN_PATH.index(stage) if stage in MAIN_PATH else -1
        return [
            {
                "value": value,
                "label": Stage(value).label,
                "state": "done" if i < position else "current" if i == position else "ahead",
            }
            for i, value in enumerate(MAIN_PATH)
        ]


def rights(actor: Actor, service: Service) -> Rights:
    return Rights(
        decide=can(actor, DECIDE, service),
        manage=can(actor, MANAGE, service),
        sign_off=can(actor, SIGN_OFF, service),
        close=can(actor, CLOSE, service),
        add_service=can(actor, ADD, Service),
    )


def events_of(service: Service) -> QuerySet[LifecycleEvent]:
    """The service's timeline, newest first, with the attachments of each event."""
    return (
        LifecycleEvent.objects.filter(
            LIVE, service=service, organisation_id=service.organisation_id
        )
        .prefetch_related(
            Prefetch("attachments", queryset=EventAttachment.objects.filter(LIVE).order_by("id"))
        )
        .order_by("-at", "-id")
    )


# The querysets the panel and the API both read a service's records with: live rows
# with what they show.


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


def task_lists_of(service: Service, *, pk: int | None = None) -> list[TaskListView]:
    qs = task_list_rows().filter(service=service)
    if pk is not None:
        qs = qs.filter(pk=pk)
    return [
        TaskListView(t, list(t.tasks.all())) for t in qs.order_by("purpose", "created_at", "id")
    ]


def pilots_of(service: Service) -> list[PilotView]:
    qs = pilot_rows().filter(service=service).order_by("-number")
    return [PilotView(p, list(p.results.all())) for p in qs]


def lifecycle_state(
    actor: Actor, service: Service, *, events_page: Any = 1, with_timeline: bool = True
) -> LifecycleState:
    """Everything the service's Lifecycle panel (and `GET …/lifecycle`) shows, in a fixed
    number of queries; the API reads the timeline apart (`with_timeline=False`)."""
    require(actor, VIEW, LifecycleEvent)
    now = timezone.now()
    roles = list(
        ServiceRole.objects.filter(
            LIVE,
            service=service,
            role__in=(ServiceRoleKind.OWNER, ServiceRoleKind.MANAGER),
        ).select_related("person", "pmo")
    )

    def wanted(record: str) -> bool:
        return machine.shown(service, record)

    decision = (
        SetupDecision.objects.filter(LIVE, service=service)
        .select_related("owner")
        .prefetch_related("delivering_pmos")
        .order_by("-created_at", "-id")
        .first()
        if wanted("decision")
        else None
    )
    readiness = readiness_rows().filter(service=service).first() if wanted("readiness") else None
    plan = (
        TransitionPlan.objects.filter(LIVE, service=service)
        .prefetch_related(
            Prefetch(
                "phases",
                queryset=TransitionPhase.objects.filter(LIVE)
                .prefetch_related("customer_groups")
                .order_by("position", "starts_on", "id"),
            )
        )
        .order_by("-created_at", "-id")
        .first()
        if wanted("plan")
        else None
    )
    # The open closure; once closed, the approved one stays on show with its decisions.
    closure = (
        Closure.objects.filter(LIVE, service=service)
        .select_related("replacing_service", "approved_by")
        .prefetch_related(
            Prefetch(
                "decisions",
                queryset=ArtefactDecision.objects.filter(LIVE).select_related("artefact"),
            )
        )
        .order_by(F("approved_at").desc(nulls_first=True), "-created_at", "-id")
        .first()
        if wanted("closure")
        else None
    )
    decisions: dict[int, ArtefactDecision] = {}
    if closure is not None:
        decisions = {d.artefact_id: d for d in closure.decisions.all()}
    # The artefacts are shown beside the closure that decides on them.
    own_artefacts = (
        list(
            Artefact.objects.filter(owner_service=service).filter(
                Q(archived_at__isnull=True) | Q(pk__in=list(decisions))
            )
        )
        if closure is not None
        else []
    )
    linked = (
        list(
            Service.objects.filter(LIVE)
            .filter(Q(supports=service) | Q(origin=service))
            .order_by("code", "id")
        )
        if wanted("linked")
        else []
    )
    since = service.stage_changed_at or service.created_at
    return LifecycleState(
        service=service,
        since=since,
        age=age_label(since, now),
        moves=machine.next_moves(actor, service),
        rights=rights(actor, service),
        owner=next((r for r in roles if r.role == ServiceRoleKind.OWNER), None),
        managers=[r for r in roles if r.role == ServiceRoleKind.MANAGER],
        decision=decision,
        criteria=machine.live_criteria(service) if wanted("criteria") else [],
        pilots=pilots_of(service) if wanted("pilots") else [],
        readiness=readiness,
        plan=plan,
        closure=closure,
        decisions=decisions,
        own_artefacts=own_artefacts,
        task_lists=task_lists_of(service) if wanted("task_lists") else [],
        supporting=[s for s in linked if s.supports_id == service.pk],
        successors=[s for s in linked if s.origin_id == service.pk],
        due_for_closure=machine.is_due_for_closure(service, timezone.localdate()),
        events=timeline(service, events_page) if with_timeline else None,
    )


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


# What makes an artefact a task-list template: a template artefact shared by a live
# Centre of Excellence. One definition, as lookups: the lists filter on it and
# `is_task_template` checks an artefact in hand against it.
TASK_TEMPLATE: dict[str, Any] = {
    "kind": ArtefactKind.TEMPLATE,
    "owner_pmo__kind": PMOKind.CENTRE_OF_EXCELLENCE,
    "owner_pmo__archived_at": None,
}


def is_task_template(artefact: Artefact) -> bool:
    """Whether the artefact is a task-list template (`TASK_TEMPLATE`)."""
    for path, expected in TASK_TEMPLATE.items():
        value: Any = artefact
        for name in path.split("__"):
            value = getattr(value, name) if value is not None else None
        if value != expected:
            return False
    return True


def task_templates(actor: Actor) -> QuerySet[Artefact]:
    """Task-list templates (`TASK_TEMPLATE`) of the organisation. Those that already hold
    task lines come first (the others are document templates until someone gives them
    lines)."""
    lines = TemplateTask.objects.filter(template=OuterRef("pk"), archived_at__isnull=True)
    return (
        Artefact.objects.filter(
            organisation_id=actor.organisation.pk, archived_at__isnull=True, **TASK_TEMPLATE
        )
        .select_related("owner_pmo")
        .annotate(has_lines=Exists(lines))
        .order_by("-has_lines", "name", "id")
    )


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


# ---------------------------------------------------------------- the board


@dataclass
class BoardColumn:
    stage: str
    label: str
    count: int
    cards: list[dict[str, Any]]

    @property
    def more(self) -> int:
        return self.count - len(self.cards)


@dataclass
class Board:
    columns: list[BoardColumn]
    total: int
    due_for_closure: int
    options: dict[str, list[tuple[int, str]]]


def board(actor: Actor, filters: BoardFilter | None = None) -> Board:
    """All live services by stage (columns with counts), each card with its age in the
    stage; temporary services past their end date flagged. The database counts the
    columns and ranks each column's services (ROW_NUMBER over the stage), so only the
    cards on show are read, whatever the number of services."""
    require(actor, VIEW, LifecycleEvent)
    filters = filters or BoardFilter.model_validate({})
    today = timezone.localdate()
    limit = SINGLE_COLUMN_LIMIT if filters.stage else COLUMN_LIMIT
    stages = (filters.stage,) if filters.stage else BOARD_STAGES
    chosen = filters.filter(
        Service.objects.filter(organisation_id=actor.organisation.pk, stage__in=stages)
    )
    counts = dict(
        chosen.order_by().values_list("stage").annotate(n=Count("id")).values_list("stage", "n")
    )
    due_q = machine.due_for_closure_q(today)
    due = chosen.filter(due_q).count()
    owner = ServiceRole.objects.filter(
        service=OuterRef("pk"), role=ServiceRoleKind.OWNER, archived_at__isnull=True
    ).values("person__name")[:1]
    ranked = (
        chosen.annotate(since=Coalesce("stage_changed_at", "created_at"))
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("stage")],
                order_by=[
                    OrderBy(F(o.lstrip("-")), descending=o.startswith("-"))
                    for o in filters.order_by()
                ],
            )
        )
        .filter(rank__lte=limit)
        .annotate(
            owner_name=Subquery(owner), due=ExpressionWrapper(due_q, output_field=BooleanField())
        )
        .order_by("stage", "rank")
        .values(
            "id",
            "code",
            "name",
            "stage",
            "since",
            "is_temporary",
            "end_date",
            "category__name",
            "owner_name",
            "due",
        )
    )
    now = timezone.now()
    columns = {s: BoardColumn(s, Stage(s).label, counts.get(s, 0), []) for s in stages}
    for row in ranked:
        columns[row["stage"]].cards.append(
            {
                "id": row["id"],
                "code": row["code"],
                "name": row["name"],
                "category": row["category__name"],
                "owner": row["owner_name"] or "",
                "age": age_label(row["since"], now),
                "temporary": row["is_temporary"],
                "end_date": row["end_date"],
                "due": bool(row["due"]),
            }
        )
    return Board(
        columns=list(columns.values()),
        total=sum(c.count for c in columns.values()),
        due_for_closure=due,
        options=board_options(actor),
    )


def board_options(actor: Actor) -> dict[str, list[tuple[int, str]]]:
    """The choices of the board's filters: PMOs, people who own a live service, categories."""
    org = actor.organisation.pk
    owners = (
        Person.objects.filter(
            organisation_id=org,
            service_roles__role=ServiceRoleKind.OWNER,
            service_roles__archived_at__isnull=True,
            service_roles__service__archived_at__isnull=True,
        )
        .distinct()
        .order_by("name", "id")
        .values_list("pk", "name")
    )
    return {
        "pmo": list(
            PMO.objects.filter(organisation_id=org, archived_at__isnull=True)
            .order_by("name", "id")
            .values_list("pk", "name")
        ),
        "owner": list(owners),
        "category": list(
            Category.objects.filter(organisation_id=org, archived_at__isnull=True)
            .order_by("position", "id")
            .values_list("pk", "name")
        ),
    }


# ---------------------------------------------------------------- task-list templates


def task_templates_with_lines(actor: Actor) -> QuerySet[Artefact]:
    """The task-list templates (`task_templates`), each with its live lines in order
    (prefetched). Staff-side: a customer is refused (403)."""
    require(actor, VIEW, TemplateTask)
    return task_templates(actor).prefetch_related(
        Prefetch(
            "template_tasks",
            queryset=TemplateTask.objects.filter(archived_at__isnull=True).order_by(
                "position", "id"
            ),
        )
    )


def task_template(actor: Actor, pk: int | str) -> Artefact:
    """One task-list template of the organisation, with its lines (404 otherwise)."""
    return get_for(actor, task_templates_with_lines(actor), pk)


# ---------------------------------------------------------------- what the forms start from


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


# ---------------------------------------------------------------- one record of a service
# A record fetched to act on: what may be done with it is the step's service function's
# to check (the lifecycle's rights are actions on the service), so these fetch to view.


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


def template_line_get(*, actor: Actor, template: Artefact, pk: int | str) -> TemplateTask:
    """A line of the template, archived or not (the service refuses to change an archived
    one; an archived one is answered as it is)."""
    return get_for(actor, TemplateTask.objects.filter(template=template), pk)
