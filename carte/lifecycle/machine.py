"""The stage machine: which moves exist, who may make each, and what must be true first.

A move's checks read the service's state and say, item by item, what is still missing;
the lifecycle panel shows them as a checklist, the API lists them, and a move with an
unmet check is refused with 409 naming each one. Checks about the move's own payload
(a reason, dates) are validation (422) in `carte.lifecycle.services`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from django.db.models import Q
from django.utils import timezone

from carte.catalogue.choices import ArtefactKind, ServiceRoleKind, Stage
from carte.catalogue.models import Artefact, Service
from carte.core.permissions import Action, can
from carte.lifecycle.choices import TaskPurpose, Verdict
from carte.lifecycle.models import (
    Closure,
    CriterionResult,
    PilotIteration,
    ReadinessAssessment,
    SuccessCriterion,
    TaskList,
    TransitionPlan,
)
from carte.lifecycle.permissions import CLOSE, DECIDE, MANAGE, SIGN_OFF
from carte.organisations.actor import Actor


@dataclass(frozen=True)
class Check:
    """One condition of a move: `code` is stable (for the API and tests), `label` says it
    for people, `hint` what to do about it."""

    code: str
    label: str
    met: bool
    hint: str = ""


class Facts:
    """What the checks read about one service, each read once however many checks ask:
    the checklists of every move out of a stage (the panel, the API) share one."""

    def __init__(self, service: Service) -> None:
        self.service = service

    @cached_property
    def pilot(self) -> PilotIteration | None:
        return latest_pilot(self.service)


@dataclass(frozen=True)
class Move:
    source: str
    target: str
    name: str  # the move's verb, also the CLI's
    label: str  # the button
    done: str  # the timeline's title
    permission: Action
    who: str
    payload: str  # which form (and API payload) the move takes
    checks: Callable[[Service, Facts], list[Check]]

    def evaluate(self, service: Service, facts: Facts | None = None) -> list[Check]:
        """The move's checks on the service as it is now."""
        return self.checks(service, facts or Facts(service))


def _none(service: Service, facts: Facts) -> list[Check]:
    return []


# ---------------------------------------------------------------- facts the checks read


def latest_pilot(service: Service) -> PilotIteration | None:
    return (
        PilotIteration.objects.filter(service=service, archived_at__isnull=True)
        .order_by("-number")
        .first()
    )


def live_criteria(service: Service) -> list[SuccessCriterion]:
    return list(
        SuccessCriterion.objects.filter(service=service, archived_at__isnull=True).prefetch_related(
            "agreed_with_groups", "agreed_with_people"
        )
    )


def latest_plan(service: Service) -> TransitionPlan | None:
    return (
        TransitionPlan.objects.filter(service=service, archived_at__isnull=True)
        .order_by("-created_at", "-id")
        .first()
    )


def open_closure(service: Service) -> Closure | None:
    return (
        Closure.objects.filter(service=service, archived_at__isnull=True, approved_at__isnull=True)
        .order_by("-created_at", "-id")
        .first()
    )


def own_artefacts(service: Service) -> list[Artefact]:
    """The artefacts a closing service must decide on: those it owns (shared ones it only
    uses stay with their owner)."""
    return list(Artefact.objects.filter(owner_service=service, archived_at__isnull=True))


# ---------------------------------------------------------------- the checks


def _proposal(service: Service, facts: Facts) -> list[Check]:
    return [
        Check(
            "outcome",
            "The proposal states the intended outcome for the organisation",
            bool(service.outcome.strip()),
            "Edit the service and describe its intended outcome.",
        ),
        Check(
            "scope",
            "The proposal names its scope",
            bool(service.scopes),
            "Edit the service and choose at least one scope.",
        ),
    ]


def _roles(service: Service, facts: Facts) -> list[Check]:
    roles = list(service.roles.filter(archived_at__isnull=True).values_list("role", "pmo_id"))
    pmos = set(service.delivering_pmos.values_list("pk", flat=True))
    managed = {pmo for role, pmo in roles if role == ServiceRoleKind.MANAGER}
    return [
        Check(
            "owner",
            "A Service Owner is appointed",
            any(role == ServiceRoleKind.OWNER for role, _ in roles),
            "Appoint the Owner on the Roles tab.",
        ),
        Check(
            "managers",
            "Every delivering PMO has a Service Manager",
            bool(pmos) and pmos <= managed,
            "Appoint a Service Manager for each delivering PMO on the Roles tab.",
        ),
    ]


def _design(service: Service, facts: Facts) -> list[Check]:
    criteria = live_criteria(service)
    counts = {
        name: getattr(service, name).filter(archived_at__isnull=True).exists()
        for name in ("inputs", "steps", "outputs", "customers")
    }
    procedure = (
        Artefact.objects.filter(
            owner_service=service, kind=ArtefactKind.PROCEDURE, archived_at__isnull=True
        ).exists()
        or service.artefact_links.filter(
            archived_at__isnull=True,
            artefact__kind=ArtefactKind.PROCEDURE,
            artefact__archived_at__isnull=True,
        ).exists()
    )
    plan = TaskList.objects.filter(
        service=service, purpose=TaskPurpose.SETUP, archived_at__isnull=True
    ).exists()
    return [
        Check(
            "criteria",
            "Success criteria are written",
            bool(criteria),
            "Add the success criteria the pilot must show.",
        ),
        Check(
            "criteria_agreed",
            "Each success criterion is agreed with named customers or customer groups",
            bool(criteria)
            and all(c.agreed_with_groups.all() or c.agreed_with_people.all() for c in criteria),
            "Name who agreed each criterion.",
        ),
        Check(
            "sipoc",
            "The process is defined: inputs, steps, outputs and customers (SIPOC)",
            all(counts.values()),
            "Complete the SIPOC tab: "
            + ", ".join(name for name, present in counts.items() if not present)
            + " missing."
            if not all(counts.values())
            else "",
        ),
        Check(
            "procedure",
            "At least one procedure is defined",
            procedure,
            "Add a procedure artefact, or reuse one, on the Artefacts tab.",
        ),
        Check(
            "setup_plan",
            "The set-up project has a task list",
            plan,
            "Create the set-up task list, from a Centre of Excellence template if there is one.",
        ),
    ]


def _pilot_result(service: Service, facts: Facts) -> list[Check]:
    pilot = facts.pilot
    return [
        Check(
            "pilot_result",
            "The pilot's result is recorded",
            pilot is not None and pilot.result_at is not None,
            "Record the result of the current pilot iteration.",
        )
    ]


def _sign_off(service: Service, facts: Facts) -> list[Check]:
    pilot = facts.pilot
    checks = _pilot_result(service, facts)
    if pilot is None or pilot.result_at is None:
        return checks
    results = {
        r.criterion_id: r
        for r in CriterionResult.objects.filter(pilot=pilot, archived_at__isnull=True)
    }
    for criterion in live_criteria(service):
        result = results.get(criterion.pk)
        checks.append(
            Check(
                f"criterion:{criterion.pk}",
                f"Criterion met or waived: {criterion.description}",
                result is not None and result.passes,
                "No result recorded for it in this pilot."
                if result is None
                else "Not met: run another iteration, or the Owner waives it with a reason.",
            )
        )
    checks += [
        Check(
            "governance",
            "Governance and critical success factors are in place",
            pilot.governance_in_place,
            "Confirm it in the pilot result.",
        ),
        Check(
            "resources",
            "Resources are confirmed",
            pilot.resources_confirmed,
            "Confirm it in the pilot result.",
        ),
        Check(
            "outcomes",
            "Expected outcomes are validated",
            pilot.outcomes_validated,
            "Confirm it in the pilot result.",
        ),
    ]
    return checks


def _readiness(service: Service, facts: Facts) -> list[Check]:
    latest = (
        ReadinessAssessment.objects.filter(service=service, archived_at__isnull=True)
        .order_by("-assessed_on", "-id")
        .first()
    )
    return [
        Check(
            "readiness",
            "An organisation readiness assessment says the organisation is ready",
            latest is not None
            and latest.verdict == Verdict.READY
            # made since the sign-off, not in an earlier life of the service
            and (
                service.stage_changed_at is None
                or latest.assessed_on >= timezone.localdate(service.stage_changed_at)
            ),
            "Record a readiness assessment."
            if latest is None
            else "The latest assessment says not ready: assess again when it is.",
        )
    ]


def _plan_complete(service: Service, facts: Facts) -> list[Check]:
    plan = latest_plan(service)
    phases = list(plan.phases.filter(archived_at__isnull=True)) if plan else []
    open_phases = [p.name for p in phases if not p.done]
    return [
        Check(
            "plan_complete",
            "Every phase of the transition plan is complete",
            bool(phases) and not open_phases,
            "Mark each phase done as it completes: " + ", ".join(open_phases) + "."
            if open_phases
            else "",
        )
    ]


def _closure(service: Service, facts: Facts) -> list[Check]:
    closure = open_closure(service)
    decided = (
        set(
            closure.decisions.filter(archived_at__isnull=True).values_list("artefact_id", flat=True)
        )
        if closure
        else set()
    )
    checks = []
    for artefact in own_artefacts(service):
        checks.append(
            Check(
                f"artefact:{artefact.pk}",
                f"Decision on the artefact {artefact.name}",
                artefact.pk in decided,
                "Keep it for reuse, archive it or discard it, with a note.",
            )
        )
    return checks


# ---------------------------------------------------------------- the moves

S = Stage
MOVES: tuple[Move, ...] = (
    Move(
        S.PROPOSED,
        S.APPROVED_FOR_SETUP,
        "approve",
        "Approve set-up",
        "Set-up approved",
        DECIDE,
        "the PMO Director",
        "decision",
        _proposal,
    ),
    Move(
        S.PROPOSED,
        S.DEFERRED,
        "defer",
        "Defer",
        "Proposal deferred",
        DECIDE,
        "the PMO Director",
        "reason",
        _none,
    ),
    Move(
        S.PROPOSED,
        S.REJECTED,
        "reject",
        "Reject",
        "Proposal rejected",
        DECIDE,
        "the PMO Director",
        "reason",
        _none,
    ),
    Move(
        S.DEFERRED,
        S.PROPOSED,
        "repropose",
        "Propose again",
        "Proposed again",
        DECIDE,
        "the PMO Director",
        "reason",
        _none,
    ),
    Move(
        S.APPROVED_FOR_SETUP,
        S.DESIGN,
        "design",
        "Start design",
        "Design started",
        MANAGE,
        "the Owner, a Service Manager, the Director or a PMO Manager",
        "design",
        _roles,
    ),
    Move(
        S.DESIGN,
        S.PILOT,
        "pilot",
        "Start a pilot",
        "Pilot started",
        MANAGE,
        "the Owner, a Service Manager, the Director or a PMO Manager",
        "pilot",
        _design,
    ),
    Move(
        S.PILOT,
        S.DESIGN,
        "iterate",
        "Back to design for another iteration",
        "Another pilot iteration needed",
        MANAGE,
        "the Owner, a Service Manager, the Director or a PMO Manager",
        "reason",
        _pilot_result,
    ),
    Move(
        S.PILOT,
        S.SIGNED_OFF,
        "sign_off",
        "Sign off",
        "Signed off by the Service Owner",
        SIGN_OFF,
        "the Service Owner",
        "note",
        _sign_off,
    ),
    Move(
        S.SIGNED_OFF,
        S.TRANSITION,
        "transition",
        "Start transition",
        "Transition started",
        MANAGE,
        "the Owner, a Service Manager, the Director or a PMO Manager",
        "plan",
        _readiness,
    ),
    Move(
        S.TRANSITION,
        S.RUNNING,
        "go_live",
        "Go live",
        "Running",
        MANAGE,
        "the Owner, a Service Manager, the Director or a PMO Manager",
        "go_live",
        _plan_complete,
    ),
    Move(
        S.RUNNING,
        S.CLOSING,
        "close",
        "Start closure",
        "Closure started",
        CLOSE,
        "the Service Owner or the PMO Director",
        "closure",
        _none,
    ),
    Move(
        S.CLOSING,
        S.CLOSED,
        "approve_closure",
        "Approve closure",
        "Closed with the Owner's approval",
        SIGN_OFF,
        "the Service Owner",
        "approval",
        _closure,
    ),
    Move(
        S.CLOSED,
        S.DESIGN,
        "reintroduce",
        "Reintroduce",
        "Reintroduced: back to design",
        CLOSE,
        "the Service Owner or the PMO Director",
        "reason",
        _none,
    ),
)

BY_STAGES: dict[tuple[str, str], Move] = {(m.source, m.target): m for m in MOVES}
BY_NAME: dict[str, Move] = {m.name: m for m in MOVES}


# The records of a service's life that its lifecycle views load at each stage: what the
# next moves need and what just led here. Older records stay on the timeline (and in the
# step endpoints), so a running service's page does not reload its whole set-up.
_SETUP = {"decision", "criteria", "task_lists"}
SHOWN: dict[str, frozenset[str]] = {
    S.PROPOSED: frozenset(),
    S.DEFERRED: frozenset(),
    S.REJECTED: frozenset(),
    S.APPROVED_FOR_SETUP: frozenset(_SETUP),
    S.DESIGN: frozenset(_SETUP | {"pilots"}),
    S.PILOT: frozenset(_SETUP | {"pilots"}),
    S.SIGNED_OFF: frozenset(_SETUP | {"pilots", "readiness", "linked"}),
    S.TRANSITION: frozenset({"decision", "readiness", "plan", "task_lists", "linked"}),
    S.RUNNING: frozenset({"decision", "linked"}),
    S.CLOSING: frozenset({"closure", "task_lists", "linked"}),
    S.CLOSED: frozenset({"closure", "task_lists", "linked"}),
}


def shown(service: Service, record: str) -> bool:
    return record in SHOWN.get(service.stage, frozenset())


def moves_from(stage: str) -> list[Move]:
    return [m for m in MOVES if m.source == stage]


def due_for_closure_q(today: dt.date) -> Q:
    """Services whose closure is due: temporary, still running, past their agreed end date
    (closing them proposes the reason "agreed end date")."""
    return Q(is_temporary=True, end_date__lt=today, stage=S.RUNNING)


def is_due_for_closure(service: Service, today: dt.date) -> bool:
    """`due_for_closure_q` for a service in hand."""
    return bool(
        service.is_temporary
        and service.end_date is not None
        and service.end_date < today
        and service.stage == S.RUNNING
    )


def may(actor: Actor, move: Move, service: Service) -> bool:
    return can(actor, move.permission, service)


@dataclass(frozen=True)
class NextMove:
    move: Move
    allowed: bool
    checks: list[Check]

    @property
    def unmet(self) -> list[Check]:
        return [c for c in self.checks if not c.met]

    @property
    def ready(self) -> bool:
        return not self.unmet


def next_moves(actor: Actor, service: Service) -> list[NextMove]:
    """The moves out of the service's stage, each with its checklist and whether this
    actor may make it."""
    facts = Facts(service)
    return [
        NextMove(m, may(actor, m, service), m.evaluate(service, facts))
        for m in moves_from(service.stage)
    ]
