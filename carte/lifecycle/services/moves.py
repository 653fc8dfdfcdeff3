"""The writers of the lifecycle's moves: what each move records besides the stage (the
set-up decision and its appointments, a pilot, the transition plan, the closure...), and
the fields each kind of payload takes. `transitions.transition` runs them through
`core.workflow.apply_move`, which has checked the move, the right, the checks, the note
and that the payload holds no other field; a writer checks the values before it writes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db.models import Max

from carte.catalogue import services as catalogue
from carte.catalogue.choices import ServiceRoleKind
from carte.catalogue.models import Artefact, Service, Supplier
from carte.core.clock import now
from carte.core.errors import CONFLICT, DomainError
from carte.core.services import (
    archive_object,
    check_same_org,
    clean_text,
    create_object,
    update_object,
)
from carte.lifecycle import machine
from carte.lifecycle.choices import (
    OUTSOURCED,
    Approach,
    ArtefactFate,
    ClosureReason,
    PilotOutcome,
    Sourcing,
    TaskPurpose,
)
from carte.lifecycle.machine import Payload
from carte.lifecycle.models import Closure, PilotIteration, SetupDecision, TransitionPlan
from carte.lifecycle.services.plan import check_phase, create_phase
from carte.lifecycle.services.tasks import make_task_list
from carte.organisations.actor import Actor
from carte.organisations.models import PMO, CustomerGroup, Person

# A move's writer: (actor, the locked service, the payload's fields).
Writer = Callable[[Actor, Service, dict[str, Any]], None]


def _decision(actor: Actor, service: Service, data: dict[str, Any]) -> None:
    """Record the set-up decision (M-14) and make its appointments on the service."""
    pmos: list[PMO] = list(data.get("delivering_pmos") or [])
    if not pmos:
        raise DomainError.field("delivering_pmos", "Choose at least one PMO.")
    for pmo in pmos:
        check_same_org(actor, live=True, delivering_pmos=pmo)
    owner: Person | None = data.get("owner")
    if owner is None:
        raise DomainError.field("owner", "Appoint the Service Owner.")
    check_same_org(actor, live=True, owner=owner)
    if not machine.may_own(owner):
        raise DomainError.field(
            "owner", "The Service Owner is one of our staff, not a customer or a contractor."
        )
    managers: dict[PMO, Person] = dict(data.get("managers") or {})
    pmo_ids = {p.pk for p in pmos}
    for pmo, person in managers.items():
        check_same_org(actor, live=True, managers=person)
        if not machine.may_manage(person):
            raise DomainError.field("managers", f"{person} is a customer: not a Service Manager.")
        if pmo.pk not in pmo_ids:
            raise DomainError.field("managers", f"{pmo} is not one of the delivering PMOs.")
    missing = [p.name for p in pmos if p not in managers]
    if missing:
        raise DomainError.field(
            "managers", "Appoint a Service Manager for " + ", ".join(missing) + "."
        )
    sourcing = data.get("sourcing") or ""
    if sourcing not in Sourcing.values:
        raise DomainError.field("sourcing", "Choose how the service is sourced.")
    provider = clean_text("provider_name", data.get("provider_name"), required=False, limit=200)
    if sourcing in OUTSOURCED and not provider:
        raise DomainError.field("provider_name", "Name the provider it is outsourced to.")
    decision = SetupDecision(
        service=service,
        owner=owner,
        sourcing=sourcing,
        provider_name=provider,
        appointments=[{"pmo": p.name, "person": str(m)} for p, m in managers.items()],
        decided_at=now(),
        **{
            name: clean_text(name, data.get(name))
            for name in ("strategy_fit", "capacity", "other_services", "stakeholders", "scope")
        },
    )
    create_object(actor, decision, extra={"delivering_pmos": [p.name for p in pmos]})
    decision.delivering_pmos.set(pmos)
    # The decision's appointments become the service's roles and delivery.
    card: dict[str, Any] = {
        "delivering_pmos": sorted({*service.delivering_pmos.all(), *pmos}, key=lambda p: p.pk)
    }
    if sourcing in OUTSOURCED:
        card["delivery_mode"] = "outsourced" if sourcing == Sourcing.OUTSOURCE_WHOLE else "hybrid"
        card["provider_name"] = provider
    system = Actor.for_system(actor.organisation, actor.user)
    catalogue.service_update(actor=system, service=service, data=card)
    roles = list(service.roles.filter(archived_at__isnull=True))
    current_owner = next((r for r in roles if r.role == ServiceRoleKind.OWNER), None)
    if current_owner is None or current_owner.person_id != owner.pk:
        if current_owner is not None:
            catalogue.part_archive(actor=system, part=current_owner)
        catalogue.part_create(
            actor=system, service=service, kind="roles", data={"role": "owner", "person": owner}
        )
    for pmo, person in managers.items():
        held = next(
            (r for r in roles if r.role == ServiceRoleKind.MANAGER and r.pmo_id == pmo.pk), None
        )
        if held is not None and held.person_id == person.pk:
            continue
        if held is not None:
            catalogue.part_archive(actor=system, part=held)
        catalogue.part_create(
            actor=system,
            service=service,
            kind="roles",
            data={"role": "manager", "person": person, "pmo": pmo},
        )


def _design(actor: Actor, service: Service, data: dict[str, Any]) -> None:
    template: Artefact | None = data.get("template")
    if template is not None:
        make_task_list(actor, service, TaskPurpose.SETUP, template=template)


def _pilot(actor: Actor, service: Service, data: dict[str, Any]) -> None:
    """Start the next numbered pilot iteration with its participants (M-15)."""
    starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
    if not isinstance(starts_on, dt.date):
        raise DomainError.field("starts_on", "Give the pilot's start date.")
    if not isinstance(ends_on, dt.date):
        raise DomainError.field("ends_on", "Give the pilot's end date.")
    suppliers: list[Supplier] = list(data.get("suppliers") or [])
    customers: list[CustomerGroup] = list(data.get("customers") or [])
    operatives: list[Person] = list(data.get("operatives") or [])
    for supplier in suppliers:
        if supplier.service_id != service.pk or supplier.is_archived:
            raise DomainError.field("suppliers", "Choose among this service's suppliers.")
    if not customers:
        raise DomainError.field("customers", "Select the customers who take part.")
    if not operatives:
        raise DomainError.field("operatives", "Select the operatives who deliver the pilot.")
    for group in customers:
        check_same_org(actor, live=True, customers=group)
    for person in operatives:
        check_same_org(actor, live=True, operatives=person)
    last = PilotIteration.objects.filter(service=service).aggregate(n=Max("number"))["n"] or 0
    pilot = PilotIteration(service=service, number=last + 1, starts_on=starts_on, ends_on=ends_on)
    create_object(
        actor,
        pilot,
        extra={
            "suppliers": [s.name for s in suppliers],
            "customers": [g.name for g in customers],
            "operatives": [str(p) for p in operatives],
        },
    )
    pilot.suppliers.set(suppliers)
    pilot.customers.set(customers)
    pilot.operatives.set(operatives)


def _close_pilot(actor: Actor, service: Service, outcome: str) -> None:
    pilot = machine.latest_pilot(service)
    if pilot is not None and pilot.outcome == PilotOutcome.OPEN:
        update_object(actor, pilot, {"outcome": outcome})


def _iterate(actor: Actor, service: Service, data: dict[str, Any]) -> None:
    _close_pilot(actor, service, PilotOutcome.ITERATE)


def _sign_off(actor: Actor, service: Service, data: dict[str, Any]) -> None:
    _close_pilot(actor, service, PilotOutcome.PASSED)


def _plan(actor: Actor, service: Service, data: dict[str, Any]) -> None:
    """Record the transition plan (M-16): phases reaching customers in turn, or one go-live."""
    approach = data.get("approach") or ""
    if approach not in Approach.values:
        raise DomainError.field("approach", "Choose phased or big bang.")
    phases: list[dict[str, Any]] = list(data.get("phases") or [])
    if not phases:
        raise DomainError.field("phases", "Plan at least one phase (the go-live for big bang).")
    if approach == Approach.BIG_BANG and len(phases) != 1:
        raise DomainError.field("phases", "A big-bang transition has exactly one phase.")
    for position, spec in enumerate(phases, start=1):
        check_phase(actor, spec, f"phases.{position}")
    plan = create_object(
        actor,
        TransitionPlan(
            service=service,
            approach=approach,
            behavioural_change=clean_text(
                "behavioural_change", data.get("behavioural_change"), required=False
            ),
        ),
    )
    for position, spec in enumerate(phases, start=1):
        create_phase(actor, plan, spec, position, field=f"phases.{position}")


def _closure(actor: Actor, service: Service, data: dict[str, Any]) -> None:
    """Open the closure (M-20): one of the eight reasons, explained, and its task list."""
    reason = data.get("reason") or ""
    if reason not in ClosureReason.values:
        raise DomainError.field("reason", "Choose one of the reasons for closing.")
    replacing: Service | None = data.get("replacing_service")
    if reason == ClosureReason.REPLACED and replacing is None:
        raise DomainError.field("replacing_service", "Name the service that replaces this one.")
    if replacing is not None:
        check_same_org(actor, live=True, replacing_service=replacing)
        if replacing.pk == service.pk:
            raise DomainError.field("replacing_service", "A service cannot replace itself.")
    closure = Closure(
        service=service,
        reason=reason,
        explanation=clean_text("explanation", data.get("explanation")),
        replacing_service=replacing,
        change_notes=clean_text("change_notes", data.get("change_notes"), required=False),
    )
    create_object(actor, closure)
    make_task_list(actor, service, TaskPurpose.CLOSURE, template=data.get("template"))


def _approval(actor: Actor, service: Service, data: dict[str, Any]) -> None:
    """The Owner's formal approval closes the service; each artefact meets its fate."""
    if data.get("approve") is not True:
        raise DomainError.field("approve", "Tick to give your formal approval as Service Owner.")
    closure = machine.open_closure(service)
    if closure is None:
        raise DomainError("This service has no open closure.", code=CONFLICT)
    for decision in closure.decisions.filter(archived_at__isnull=True).select_related("artefact"):
        if decision.fate != ArtefactFate.KEEP:
            archive_object(actor, decision.artefact)
    update_object(actor, closure, {"approved_at": now(), "approved_by": actor.user})


# The fields each kind of payload may hold (a move's note is not one of them).
TAKES: dict[Payload, frozenset[str]] = {
    Payload.DECISION: frozenset(
        {
            "delivering_pmos",
            "owner",
            "managers",
            "sourcing",
            "provider_name",
            "strategy_fit",
            "capacity",
            "other_services",
            "stakeholders",
            "scope",
        }
    ),
    Payload.REASON: frozenset(),
    Payload.NOTE: frozenset(),
    Payload.DESIGN: frozenset({"template"}),
    Payload.PILOT: frozenset({"starts_on", "ends_on", "suppliers", "customers", "operatives"}),
    Payload.PLAN: frozenset({"approach", "behavioural_change", "phases"}),
    Payload.GO_LIVE: frozenset({"publish"}),  # read by `transition` once the service runs
    Payload.CLOSURE: frozenset(
        {"reason", "explanation", "replacing_service", "change_notes", "template"}
    ),
    Payload.APPROVAL: frozenset({"approve"}),
}

# Move name -> its writer; a move without one (defer, reject, propose again, go live,
# reintroduce) records only its stage, audit entry and event.
WRITERS: dict[str, Writer] = {
    "approve": _decision,
    "design": _design,
    "pilot": _pilot,
    "iterate": _iterate,
    "sign_off": _sign_off,
    "transition": _plan,
    "close": _closure,
    "approve_closure": _approval,
}
