"""The stage machine: which moves exist, who may make each, and what must be true first.

The table (`MOVES`) is the lifecycle's `core.workflow` table: `carte.lifecycle.services`
makes each move through `core.workflow.apply_move`. A move's checks read the service's
state and say, item by item, what is still missing; the lifecycle panel shows them as a
checklist, the API lists them, and a move with an unmet check is refused with 409 naming
each one. Checks about the move's own payload (a reason, dates) are validation (422) in
`carte.lifecycle.services`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import cached_property

from django.db.models import Q
from django.utils import timezone

from carte.catalogue.choices import ArtefactKind, ServiceRoleKind, Stage
from carte.catalogue.models import Artefact, Service
from carte.core import workflow
from carte.core.permissions import Action, can
from carte.core.workflow import Check as Check
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
from carte.lifecycle.permissions import CLOSE, DECIDE, MANAGE, SIGN_OFF, WHO
from carte.organisations.actor import Actor


class Payload(StrEnum):
    """Which form (and API payload) a move takes; the fields of each: `services.moves.TAKES`."""

    DECISION = "decision"  # the set-up decision and its appointments
    REASON = "reason"  # only a note, which is required
    NOTE = "note"  # only a note, which may be empty
    DESIGN = "design"
    PILOT = "pilot"
    PLAN = "plan"
    GO_LIVE = "go_live"
    CLOSURE = "closure"
    APPROVAL = "approval"


class Facts:
    """What the checks read about one service, each read once however many checks ask:
    the checklists of every move out of a stage (the panel, the API) share one."""

    def __init__(self, service: Service) -> None:
        self.service = service

    @cached_property
    def pilot(self) -> PilotIteration | None:
        return latest_pilot(self.service)


@dataclass(frozen=True, kw_only=True)
class Move(workflow.Move[Facts, str, Payload]):
    """A lifecycle move: a `core.workflow.Move` with the timeline's title and, in words,
    who may make it (its right's refusal says it: "Only <who> may <label>.")."""

    done: str  # the timeline's title
    who: str

    def evaluate(self, service: Service, facts: Facts | None = None) -> list[Check]:
        """The move's checks on the service as it is now."""
        return list(self.checks(facts or Facts(service)))


def _move(
    *,
    source: str,
    target: str,
    name: str,
    label: str,
    done: str,
    right: Action,
    payload: Payload,
    checks: Callable[[Facts], Sequence[Check]] = workflow.no_checks,
) -> Move:
    """A row of the table: who may make it is the right's holder (`permissions.WHO`), whom
    its refusal names, and a move that takes a reason requires its note."""
    who = WHO[right.name]
    return Move(
        source=source,
        target=target,
        name=name,
        label=label,
        done=done,
        right=replace(right, refusal=f"Only {who} may {label.lower()}."),
        who=who,
        payload=payload,
        checks=checks,
        note="This field is required." if payload is Payload.REASON else "",
    )


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


def _proposal(facts: Facts) -> list[Check]:
    service = facts.service
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


def _roles(facts: Facts) -> list[Check]:
    service = facts.service
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


def _design(facts: Facts) -> list[Check]:
    service = facts.service
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


def _pilot_result(facts: Facts) -> list[Check]:
    pilot = facts.pilot
    return [
        Check(
            "pilot_result",
            "The pilot's result is recorded",
            pilot is not None and pilot.result_at is not None,
            "Record the result of the current pilot iteration.",
        )
    ]


def _sign_off(facts: Facts) -> list[Check]:
    service = facts.service
    pilot = facts.pilot
    checks = _pilot_result(facts)
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


def _readiness(facts: Facts) -> list[Check]:
    service = facts.service
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


def _plan_complete(facts: Facts) -> list[Check]:
    service = facts.service
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


def _closure(facts: Facts) -> list[Check]:
    service = facts.service
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
P = Payload
MOVES: tuple[Move, ...] = (
    _move(
        source=S.PROPOSED,
        target=S.APPROVED_FOR_SETUP,
        name="approve",
        label="Approve set-up",
        done="Set-up approved",
        right=DECIDE,
        payload=P.DECISION,
        checks=_proposal,
    ),
    _move(
        source=S.PROPOSED,
        target=S.DEFERRED,
        name="defer",
        label="Defer",
        done="Proposal deferred",
        right=DECIDE,
        payload=P.REASON,
    ),
    _move(
        source=S.PROPOSED,
        target=S.REJECTED,
        name="reject",
        label="Reject",
        done="Proposal rejected",
        right=DECIDE,
        payload=P.REASON,
    ),
    _move(
        source=S.DEFERRED,
        target=S.PROPOSED,
        name="repropose",
        label="Propose again",
        done="Proposed again",
        right=DECIDE,
        payload=P.REASON,
    ),
    _move(
        source=S.APPROVED_FOR_SETUP,
        target=S.DESIGN,
        name="design",
        label="Start design",
        done="Design started",
        right=MANAGE,
        payload=P.DESIGN,
        checks=_roles,
    ),
    _move(
        source=S.DESIGN,
        target=S.PILOT,
        name="pilot",
        label="Start a pilot",
        done="Pilot started",
        right=MANAGE,
        payload=P.PILOT,
        checks=_design,
    ),
    _move(
        source=S.PILOT,
        target=S.DESIGN,
        name="iterate",
        label="Back to design for another iteration",
        done="Another pilot iteration needed",
        right=MANAGE,
        payload=P.REASON,
        checks=_pilot_result,
    ),
    _move(
        source=S.PILOT,
        target=S.SIGNED_OFF,
        name="sign_off",
        label="Sign off",
        done="Signed off by the Service Owner",
        right=SIGN_OFF,
        payload=P.NOTE,
        checks=_sign_off,
    ),
    _move(
        source=S.SIGNED_OFF,
        target=S.TRANSITION,
        name="transition",
        label="Start transition",
        done="Transition started",
        right=MANAGE,
        payload=P.PLAN,
        checks=_readiness,
    ),
    _move(
        source=S.TRANSITION,
        target=S.RUNNING,
        name="go_live",
        label="Go live",
        done="Running",
        right=MANAGE,
        payload=P.GO_LIVE,
        checks=_plan_complete,
    ),
    _move(
        source=S.RUNNING,
        target=S.CLOSING,
        name="close",
        label="Start closure",
        done="Closure started",
        right=CLOSE,
        payload=P.CLOSURE,
    ),
    _move(
        source=S.CLOSING,
        target=S.CLOSED,
        name="approve_closure",
        label="Approve closure",
        done="Closed with the Owner's approval",
        right=SIGN_OFF,
        payload=P.APPROVAL,
        checks=_closure,
    ),
    _move(
        source=S.CLOSED,
        target=S.DESIGN,
        name="reintroduce",
        label="Reintroduce",
        done="Reintroduced: back to design",
        right=CLOSE,
        payload=P.REASON,
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
    return can(actor, move.right, service)


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
