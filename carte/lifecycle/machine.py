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

from django.conf import settings
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
from carte.organisations.models import Person


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


def _check(code: str, met: bool, done: str, missing: str, hint: str = "") -> Check:
    """A condition said as it stands: `done` once met, `missing` (in the negative, what is
    still lacking) until then, so a checklist and a refusal ("Sign off is not possible
    yet: expected outcomes are not validated yet.") say what is true. The hint, what to
    do about it, only matters while it is missing."""
    return Check(code, done if met else missing, met, "" if met else hint)


# The hint of a criterion the pilot did not meet: the Owner may waive it in the sign-off
# form itself, so it does not hold the sign-off back (`resolved_in_form`).
WAIVABLE = "Not met: run another iteration, or waive it with a reason when you sign off."


def _proposal(facts: Facts) -> list[Check]:
    service = facts.service
    return [
        _check(
            "outcome",
            bool(service.outcome.strip()),
            "The proposal states the intended outcome for the organisation",
            "The proposal does not state the intended outcome for the organisation yet",
            "Edit the service and describe its intended outcome.",
        ),
        _check(
            "scope",
            bool(service.scopes),
            "The proposal names its scope",
            "The proposal names no scope yet",
            "Edit the service and choose at least one scope.",
        ),
    ]


def _roles(facts: Facts) -> list[Check]:
    service = facts.service
    roles = list(service.roles.filter(archived_at__isnull=True).values_list("role", "pmo_id"))
    pmos = dict(service.delivering_pmos.values_list("pk", "name"))
    managed = {pmo for role, pmo in roles if role == ServiceRoleKind.MANAGER}
    unmanaged = [name for pk, name in pmos.items() if pk not in managed]
    return [
        _check(
            "owner",
            any(role == ServiceRoleKind.OWNER for role, _ in roles),
            "A Service Owner is appointed",
            "No Service Owner is appointed yet",
            "Appoint the Owner on the Roles tab.",
        ),
        _check(
            "managers",
            bool(pmos) and not unmanaged,
            "Every delivering PMO has a Service Manager",
            "No Service Manager yet for " + ", ".join(unmanaged)
            if unmanaged
            else "No delivering PMO is chosen yet",
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
    absent = [name for name, present in counts.items() if not present]
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
    unagreed = [
        c for c in criteria if not (c.agreed_with_groups.all() or c.agreed_with_people.all())
    ]
    return [
        _check(
            "criteria",
            bool(criteria),
            "Success criteria are written",
            "No success criteria are written yet",
            "Add the success criteria the pilot must show.",
        ),
        _check(
            "criteria_agreed",
            bool(criteria) and not unagreed,
            "Each success criterion is agreed with named customers or customer groups",
            f"{len(unagreed)} of {len(criteria)} success criteria are not agreed with any "
            "customer yet"
            if criteria
            else "No success criterion is agreed with a customer yet",
            "Name who agreed each criterion.",
        ),
        _check(
            "sipoc",
            not absent,
            "The process is defined: inputs, steps, outputs and customers (SIPOC)",
            "The process is not defined yet: no " + ", no ".join(absent) + " (SIPOC)",
            "Complete the SIPOC tab.",
        ),
        _check(
            "procedure",
            procedure,
            "At least one procedure is defined",
            "No procedure is defined yet",
            "Add a procedure artefact, or reuse one, on the Artefacts tab.",
        ),
        _check(
            "setup_plan",
            plan,
            "The set-up project has a task list",
            "The set-up project has no task list yet",
            "Create the set-up task list, from a Centre of Excellence template if there is one.",
        ),
    ]


def _pilot_result(facts: Facts) -> list[Check]:
    pilot = facts.pilot
    return [
        _check(
            "pilot_result",
            pilot is not None and pilot.result_at is not None,
            "The pilot's result is recorded",
            "The pilot's result is not recorded yet",
            "Record the result of the current pilot iteration.",
        )
    ]


# The confirmations of M-15 a pilot's result carries, each ticked where it is shown
# (`services.pilot_confirm`): (check code, field of the pilot, met, missing).
CONFIRMATIONS: tuple[tuple[str, str, str, str], ...] = (
    (
        "governance",
        "governance_in_place",
        "Governance and critical success factors are in place",
        "Governance and critical success factors are not confirmed yet",
    ),
    (
        "resources",
        "resources_confirmed",
        "Resources are confirmed",
        "Resources are not confirmed yet",
    ),
    (
        "outcomes",
        "outcomes_validated",
        "Expected outcomes are validated",
        "Expected outcomes are not validated yet",
    ),
)
CONFIRMATION_FIELDS: dict[str, str] = {code: field for code, field, _, _ in CONFIRMATIONS}


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
            _check(
                f"criterion:{criterion.pk}",
                result is not None and result.passes,
                f"Criterion met or waived: {criterion.description}",
                f"No result recorded for the criterion: {criterion.description}"
                if result is None
                else f"Criterion not met nor waived yet: {criterion.description}",
                "Record the pilot's result for it." if result is None else WAIVABLE,
            )
        )
    checks += [
        _check(code, bool(getattr(pilot, field)), met, missing, "Tick it when it is true.")
        for code, field, met, missing in CONFIRMATIONS
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
        _check(
            "readiness",
            latest is not None
            and latest.verdict == Verdict.READY
            # made since the sign-off, not in an earlier life of the service
            and (
                service.stage_changed_at is None
                or latest.assessed_on >= timezone.localdate(service.stage_changed_at)
            ),
            "An organisation readiness assessment says the organisation is ready",
            "No readiness assessment says the organisation is ready yet",
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
        _check(
            "plan_complete",
            bool(phases) and not open_phases,
            "Every phase of the transition plan is complete",
            "Phases of the transition plan are not complete yet: " + ", ".join(open_phases)
            if open_phases
            else "The transition plan has no phase yet",
            "Mark each phase done as it completes.",
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
    return [
        _check(
            f"artefact:{artefact.pk}",
            artefact.pk in decided,
            f"Decided what becomes of the artefact {artefact.name}",
            f"No decision yet on the artefact {artefact.name}",
            "Keep it for reuse, archive it or discard it, with a note.",
        )
        for artefact in own_artefacts(service)
    ]


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


# The stages a service is meant to pass through; one waiting in any of them longer than
# `stuck_days()` is flagged on the board. Running, closed, deferred and rejected are
# where a service may rightly stay.
PASSING_STAGES: frozenset[str] = frozenset(
    {
        S.PROPOSED,
        S.APPROVED_FOR_SETUP,
        S.DESIGN,
        S.PILOT,
        S.SIGNED_OFF,
        S.TRANSITION,
        S.CLOSING,
    }
)


def stuck_days() -> int:
    """Days in a passing stage after which a service is flagged (`CARTE_STUCK_DAYS`)."""
    return int(settings.CARTE_STUCK_DAYS)


def is_due_for_closure(service: Service, today: dt.date) -> bool:
    """`due_for_closure_q` for a service in hand."""
    return bool(
        service.is_temporary
        and service.end_date is not None
        and service.end_date < today
        and service.stage == S.RUNNING
    )


# Whom the set-up decision may appoint (M-14): the Service Owner is one of the
# organisation's own staff, neither a customer nor a provider's contractor; a Service
# Manager is not a customer. The form offers only them; `services.moves` refuses others.
OWNER_PEOPLE = Q(customer_group__isnull=True, provider="")
MANAGER_PEOPLE = Q(customer_group__isnull=True)


def may_own(person: Person) -> bool:
    """`OWNER_PEOPLE` for a person in hand."""
    return person.customer_group_id is None and not person.provider


def may_manage(person: Person) -> bool:
    """`MANAGER_PEOPLE` for a person in hand."""
    return person.customer_group_id is None


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

    @property
    def blocking(self) -> list[Check]:
        """The unmet checks that hold the move back: those its own form cannot settle."""
        return [c for c in self.unmet if not resolved_in_form(self.move, c)]


def resolved_in_form(move: Move, check: Check) -> bool:
    """Whether the move's form itself can settle an unmet check: a criterion the pilot
    did not meet is waived, with its reason, in the sign-off form."""
    return (
        move.name == "sign_off" and check.code.startswith("criterion:") and check.hint == WAIVABLE
    )


def blocking(move: Move, checks: Sequence[Check]) -> list[Check]:
    """`NextMove.blocking` for checks in hand (the move's form page)."""
    return [c for c in checks if not c.met and not resolved_in_form(move, c)]


def next_moves(actor: Actor, service: Service) -> list[NextMove]:
    """The moves out of the service's stage, each with its checklist and whether this
    actor may make it."""
    facts = Facts(service)
    return [
        NextMove(m, may(actor, m, service), m.evaluate(service, facts))
        for m in moves_from(service.stage)
    ]
