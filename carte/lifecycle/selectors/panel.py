"""One service's Lifecycle panel: its stage on the main path, the rights of the actor, the
records that matter at its stage (`machine.SHOWN`) and a page of its timeline, in a fixed
number of queries whatever the number of events, tasks or criteria. The service itself is
the catalogue's `service_for(..., audience=Audience.STAFF)`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Prefetch, Q, QuerySet
from django.utils import timezone

from carte.catalogue.choices import ServiceRoleKind, Stage
from carte.catalogue.models import Artefact, Service, ServiceRole
from carte.core.listing import MAX_PAGE
from carte.core.permissions import ADD, VIEW, can, require
from carte.lifecycle import machine
from carte.lifecycle.choices import TaskStatus
from carte.lifecycle.models import (
    LIVE,
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
    TransitionPhase,
    TransitionPlan,
)
from carte.lifecycle.permissions import CLOSE, DECIDE, MANAGE, SIGN_OFF
from carte.lifecycle.selectors.records import pilot_rows, readiness_rows, task_list_rows
from carte.organisations.actor import Actor

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
EVENTS_PER_PAGE = 100


def age_label(since: dt.datetime | None, now: dt.datetime) -> str:
    """How long something has been where it is, in days ("today" for less than one)."""
    if since is None:
        return ""
    days = (now - since).days
    if days <= 0:
        return "under a day"
    return "1 day" if days == 1 else f"{days} days"


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
    actor: Actor, service: Service, *, events_page: Any = 1, panel: bool = True
) -> LifecycleState:
    """Everything the service's Lifecycle panel (and `GET …/lifecycle`) shows, in a fixed
    number of queries. The API (`panel=False`) reads the stage, the moves and the records
    alone: what only the panel shows beside them (the Owner and Managers, the linked
    services, the service's own artefacts, the timeline) is left unread, and the API
    serves the timeline apart (`…/events`)."""
    require(actor, VIEW, LifecycleEvent)
    now = timezone.now()
    roles = (
        list(
            ServiceRole.objects.filter(
                LIVE,
                service=service,
                role__in=(ServiceRoleKind.OWNER, ServiceRoleKind.MANAGER),
            ).select_related("person", "pmo")
        )
        if panel
        else []
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
        if closure is not None and panel
        else []
    )
    linked = (
        list(
            Service.objects.filter(LIVE)
            .filter(Q(supports=service) | Q(origin=service))
            .order_by("code", "id")
        )
        if wanted("linked") and panel
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
        events=timeline(service, events_page) if panel else None,
    )
