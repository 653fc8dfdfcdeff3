"""Every write of the service lifecycle: the stage moves, and the steps recorded between
them (criteria, task lists, pilot results, waivers, readiness, phases, supporting
services, artefact decisions, notes). Pages, the API, the CLI and the demo loader all
come here.

`transition()` is the one way a stage changes. It locks the service row, so that of two
people pressing the same button at once exactly one succeeds and the other is told what
happened; then it checks the move exists from the current stage (409), the actor's right
(403), the move's conditions (409, each unmet one listed), and the move's payload (422),
before it writes anything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from carte.catalogue import services as catalogue
from carte.catalogue.choices import ServiceRoleKind, Stage
from carte.catalogue.models import Artefact, Category, Service, Supplier
from carte.core import audit

# The clock of lifecycle records (re-exported: callers say `services.as_of(...)`).
from carte.core.clock import as_of as as_of
from carte.core.clock import now as now
from carte.core.clock import today as today
from carte.core.errors import CONFLICT, DomainError, forbidden
from carte.core.models import AuditAction
from carte.core.permissions import ADD, CHANGE, can, require
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
    Answer,
    Approach,
    ArtefactFate,
    ClosureReason,
    CriterionResultKind,
    EventKind,
    PilotOutcome,
    Sourcing,
    TaskPurpose,
    Verdict,
)
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
from carte.lifecycle.selectors import is_task_template
from carte.organisations.actor import Actor
from carte.organisations.models import PMO, CustomerGroup, Person


@dataclass(frozen=True)
class Attachment:
    """A file or link to attach to an event: `file` is an uploaded file, or None."""

    name: str
    url: str = ""
    file: Any = None


def _in_stage(service: Service, *stages: str, doing: str) -> None:
    if service.stage not in stages:
        names = " or ".join(Stage(s).label for s in stages)
        raise DomainError(
            f"You can {doing} only while the service is at {names}; it is at "
            f"{Stage(service.stage).label}.",
            code=CONFLICT,
        )


def _event(
    actor: Actor,
    service: Service,
    title: str,
    *,
    note: str = "",
    kind: str = EventKind.STEP,
    source: str = "",
    target: str = "",
    attachments: Sequence[Attachment] = (),
    at: dt.datetime | None = None,
) -> LifecycleEvent:
    event = LifecycleEvent.objects.create(
        organisation=actor.organisation,
        service=service,
        kind=kind,
        from_stage=source,
        to_stage=target,
        title=title[:200],
        note=note,
        at=at or now(),
        actor=actor.user,
        actor_label=actor.label,
    )
    # The event's attachments, as a prefetch would have them: readers need no query.
    event._prefetched_objects_cache = {  # type: ignore[attr-defined]
        "attachments": [_attach(actor, event, item) for item in attachments]
    }
    return event


def _attach(actor: Actor, event: LifecycleEvent, item: Attachment) -> EventAttachment:
    name = clean_text("attachments", item.name or getattr(item.file, "name", ""), limit=200)
    attachment = EventAttachment(event=event, name=name, url=item.url.strip())
    if item.file is not None:
        attachment.file = item.file
    return create_object(actor, attachment)


def _lock(service: Service) -> Service:
    """The service row, locked until the transaction ends (a no-op lock on SQLite, whose
    write transactions are serialised anyway)."""
    return Service.objects.select_for_update().get(pk=service.pk)


def _touch(actor: Actor, service: Service) -> None:
    if service.organisation_id != actor.organisation.pk:
        raise DomainError("No such service.", code="not_found")


# ---------------------------------------------------------------- transitions


def transition(
    *,
    actor: Actor,
    service: Service,
    to: str,
    expected_from: str | None = None,
    note: str = "",
    attachments: Sequence[Attachment] = (),
    **payload: Any,
) -> LifecycleEvent:
    """Move `service` to the stage `to`, with the payload that move takes; the one way
    a service's stage ever changes."""
    _touch(actor, service)
    with transaction.atomic():
        locked = _lock(service)
        current = locked.stage
        if to not in Stage.values:
            raise DomainError.field("to", f"Unknown stage {to!r}.")
        if expected_from and expected_from != current:
            raise _moved_meanwhile(locked, expected_from)
        if not any(can(actor, right, locked) for right in (DECIDE, MANAGE, SIGN_OFF, CLOSE)):
            raise forbidden("You are not allowed to move this service through its lifecycle.")
        move = machine.BY_STAGES.get((current, to))
        if move is None:
            if current == to:
                raise _moved_meanwhile(locked, None)
            allowed = ", ".join(Stage(m.target).label for m in machine.moves_from(current))
            raise DomainError(
                f"A service at {Stage(current).label} cannot move to {Stage(to).label}"
                + (f"; from here it can move to {allowed}." if allowed else "."),
                code=CONFLICT,
            )
        if not machine.may(actor, move, locked):
            raise forbidden(f"Only {move.who} may {move.label.lower()}.")
        unmet = [c for c in move.evaluate(locked) if not c.met]
        if unmet:
            raise DomainError(
                f"{move.label} is not possible yet: "
                + "; ".join(c.label[0].lower() + c.label[1:] for c in unmet)
                + ".",
                code=CONFLICT,
                extra={
                    "unmet": [{"code": c.code, "label": c.label, "hint": c.hint} for c in unmet]
                },
            )
        note = clean_text("note", note, required=move.payload in ("reason",))
        runner = _RUNNERS_BY_MOVE.get(move.name) or _RUNNERS[move.payload]
        moment = now()
        with as_of(moment):  # every record of the move bears the move's time
            runner(actor, locked, payload)
        Service.objects.filter(pk=locked.pk)._move_stage(move.target, moment)
        locked.stage = locked._stored_stage = move.target
        locked.stage_changed_at = moment
        audit.record(
            actor=actor,
            obj=locked,
            action=AuditAction.UPDATE,
            changes={"stage": {"before": current, "after": move.target}},
        )
        event = _event(
            actor,
            locked,
            move.done,
            note=note,
            kind=EventKind.TRANSITION,
            source=current,
            target=move.target,
            attachments=attachments,
            at=moment,
        )
        if move.payload == "go_live" and payload.get("publish", True):
            _publish_if_changed(actor, locked)
    service.stage = service._stored_stage = move.target
    service.stage_changed_at = moment
    service.current_version_id = locked.current_version_id
    return event


def _moved_meanwhile(service: Service, expected: str | None) -> DomainError:
    last = (
        LifecycleEvent.objects.filter(service=service, kind=EventKind.TRANSITION)
        .order_by("-at", "-id")
        .first()
    )
    who = f" by {last.actor_label} at {timezone.localtime(last.at):%H:%M}" if last else ""
    was = f" from {Stage(expected).label}" if expected else ""
    return DomainError(
        f"This service has just moved{was} to {Stage(service.stage).label}{who}: "
        "reload to see what changed.",
        code=CONFLICT,
    )


def _no_payload(payload: dict[str, Any]) -> None:
    if payload:
        raise DomainError.field(sorted(payload)[0], "This move takes no such field.")


def _take(payload: dict[str, Any], *allowed: str) -> dict[str, Any]:
    extra = set(payload) - set(allowed)
    if extra:
        raise DomainError.field(sorted(extra)[0], "This move takes no such field.")
    return payload


def _run_nothing(actor: Actor, service: Service, payload: dict[str, Any]) -> None:
    _no_payload(payload)


def _run_decision(actor: Actor, service: Service, payload: dict[str, Any]) -> None:
    """Record the set-up decision (M-14) and make its appointments on the service."""
    data = _take(
        payload,
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
    )
    pmos: list[PMO] = list(data.get("delivering_pmos") or [])
    if not pmos:
        raise DomainError.field("delivering_pmos", "Choose at least one PMO.")
    for pmo in pmos:
        check_same_org(actor, live=True, delivering_pmos=pmo)
    owner: Person | None = data.get("owner")
    if owner is None:
        raise DomainError.field("owner", "Appoint the Service Owner.")
    check_same_org(actor, live=True, owner=owner)
    managers: dict[PMO, Person] = dict(data.get("managers") or {})
    pmo_ids = {p.pk for p in pmos}
    for pmo, person in managers.items():
        check_same_org(actor, live=True, managers=person)
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


def _run_design(actor: Actor, service: Service, payload: dict[str, Any]) -> None:
    data = _take(payload, "template")
    template: Artefact | None = data.get("template")
    if template is not None:
        _task_list(actor, service, TaskPurpose.SETUP, template=template)


def _run_pilot(actor: Actor, service: Service, payload: dict[str, Any]) -> None:
    """Start the next numbered pilot iteration with its participants (M-15)."""
    data = _take(payload, "starts_on", "ends_on", "suppliers", "customers", "operatives")
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


def _run_iterate(actor: Actor, service: Service, payload: dict[str, Any]) -> None:
    _no_payload(payload)
    _close_pilot(actor, service, PilotOutcome.ITERATE)


def _run_sign_off(actor: Actor, service: Service, payload: dict[str, Any]) -> None:
    _no_payload(payload)
    _close_pilot(actor, service, PilotOutcome.PASSED)


def _run_plan(actor: Actor, service: Service, payload: dict[str, Any]) -> None:
    """Record the transition plan (M-16): phases reaching customers in turn, or one go-live."""
    data = _take(payload, "approach", "behavioural_change", "phases")
    approach = data.get("approach") or ""
    if approach not in Approach.values:
        raise DomainError.field("approach", "Choose phased or big bang.")
    phases: list[dict[str, Any]] = list(data.get("phases") or [])
    if not phases:
        raise DomainError.field("phases", "Plan at least one phase (the go-live for big bang).")
    if approach == Approach.BIG_BANG and len(phases) != 1:
        raise DomainError.field("phases", "A big-bang transition has exactly one phase.")
    for position, spec in enumerate(phases, start=1):
        _check_phase(actor, spec, f"phases.{position}")
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
        _phase_create(actor, plan, spec, position, field=f"phases.{position}")


def _check_phase(actor: Actor, spec: dict[str, Any], field: str) -> None:
    """Everything about a phase that can be wrong, checked before anything is written."""
    unknown = set(spec) - {"name", "starts_on", "ends_on", "customer_groups"}
    if unknown:
        raise DomainError.field(f"{field}.{sorted(unknown)[0]}", "No such field.")
    clean_text(f"{field}.name", spec.get("name"), limit=200)
    starts_on, ends_on = spec.get("starts_on"), spec.get("ends_on")
    for name, value in (("starts_on", starts_on), ("ends_on", ends_on)):
        if not isinstance(value, dt.date):
            raise DomainError.field(f"{field}.{name}", "Give a date.")
    if ends_on < starts_on:  # type: ignore[operator]
        raise DomainError.field(f"{field}.ends_on", "A phase cannot end before it starts.")
    for group in spec.get("customer_groups") or []:
        try:
            check_same_org(actor, live=True, customer_groups=group)
        except DomainError as exc:
            raise DomainError.field(
                f"{field}.customer_groups", exc.errors["customer_groups"][0]
            ) from exc


def _phase_create(
    actor: Actor, plan: TransitionPlan, spec: dict[str, Any], position: int, *, field: str
) -> TransitionPhase:
    """A phase `_check_phase` has passed."""
    groups: list[CustomerGroup] = list(spec.get("customer_groups") or [])
    phase = TransitionPhase(
        plan=plan,
        name=clean_text(f"{field}.name", spec.get("name"), limit=200),
        starts_on=spec["starts_on"],
        ends_on=spec["ends_on"],
        position=position,
    )
    try:
        create_object(actor, phase, extra={"customer_groups": [g.name for g in groups]})
    except DomainError as exc:
        raise DomainError(
            exc.message, errors={f"{field}.{k}": v for k, v in exc.errors.items()}
        ) from exc
    phase.customer_groups.set(groups)
    return phase


def _run_go_live(actor: Actor, service: Service, payload: dict[str, Any]) -> None:
    _take(payload, "publish")


def _publish_if_changed(actor: Actor, service: Service) -> None:
    """Going live publishes the service (what customers see) unless nothing changed."""
    system = Actor.for_system(actor.organisation, actor.user)
    try:
        catalogue.service_publish(actor=system, service=service, note="Published at go-live.")
    except DomainError as exc:
        if exc.code != CONFLICT:
            raise


def _run_closure(actor: Actor, service: Service, payload: dict[str, Any]) -> None:
    """Open the closure (M-20): one of the eight reasons, explained, and its task list."""
    data = _take(payload, "reason", "explanation", "replacing_service", "change_notes", "template")
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
    _task_list(actor, service, TaskPurpose.CLOSURE, template=data.get("template"))


def _run_approval(actor: Actor, service: Service, payload: dict[str, Any]) -> None:
    """The Owner's formal approval closes the service; each artefact meets its fate."""
    data = _take(payload, "approve")
    if data.get("approve") is not True:
        raise DomainError.field("approve", "Tick to give your formal approval as Service Owner.")
    closure = machine.open_closure(service)
    if closure is None:
        raise DomainError("This service has no open closure.", code=CONFLICT)
    for decision in closure.decisions.filter(archived_at__isnull=True).select_related("artefact"):
        if decision.fate != ArtefactFate.KEEP:
            archive_object(actor, decision.artefact)
    update_object(actor, closure, {"approved_at": now(), "approved_by": actor.user})


_RUNNERS = {
    "decision": _run_decision,
    "reason": _run_nothing,
    "design": _run_design,
    "pilot": _run_pilot,
    "plan": _run_plan,
    "go_live": _run_go_live,
    "closure": _run_closure,
    "approval": _run_approval,
}
# Moves with a writer of their own: iterate (it takes a reason) and sign-off (a note)
# close the pilot.
_RUNNERS_BY_MOVE = {
    "iterate": _run_iterate,
    "sign_off": _run_sign_off,
}


# ---------------------------------------------------------------- steps between moves


def _require_manage(actor: Actor, service: Service) -> None:
    _touch(actor, service)
    if not can(actor, MANAGE, service):
        raise forbidden(
            "Only the Owner, a Service Manager, the Director or a PMO Manager may do this."
        )


@transaction.atomic
def note_add(
    *, actor: Actor, service: Service, note: str, attachments: Sequence[Attachment] = ()
) -> LifecycleEvent:
    """A note on the service's timeline (minutes of a meeting, a decision, a link)."""
    _require_manage(actor, service)
    return _event(
        actor,
        service,
        "Note",
        note=clean_text("note", note),
        kind=EventKind.NOTE,
        attachments=attachments,
    )


# -- success criteria


def _criterion_people(
    actor: Actor, groups: Iterable[CustomerGroup], people: Iterable[Person]
) -> tuple[list[CustomerGroup], list[Person]]:
    g, p = list(groups), list(people)
    for group in g:
        check_same_org(actor, live=True, agreed_with_groups=group)
    for person in p:
        check_same_org(actor, live=True, agreed_with_people=person)
    if not g and not p:
        raise DomainError.field(
            "agreed_with_groups", "Name the customers or customer groups who agreed it."
        )
    return g, p


@transaction.atomic
def criterion_create(
    *,
    actor: Actor,
    service: Service,
    description: str,
    measure: str = "",
    agreed_with_groups: Iterable[CustomerGroup] = (),
    agreed_with_people: Iterable[Person] = (),
) -> SuccessCriterion:
    _require_manage(actor, service)
    _in_stage(service, Stage.APPROVED_FOR_SETUP, Stage.DESIGN, doing="change success criteria")
    groups, people = _criterion_people(actor, agreed_with_groups, agreed_with_people)
    last = SuccessCriterion.objects.filter(service=service).aggregate(m=Max("position"))["m"] or 0
    criterion = SuccessCriterion(
        service=service, description=description, measure=measure, position=last + 10
    )
    create_object(
        actor,
        criterion,
        extra={
            "agreed_with_groups": [x.name for x in groups],
            "agreed_with_people": [str(x) for x in people],
        },
    )
    criterion.agreed_with_groups.set(groups)
    criterion.agreed_with_people.set(people)
    return criterion


@transaction.atomic
def criterion_update(
    *, actor: Actor, criterion: SuccessCriterion, data: dict[str, Any]
) -> SuccessCriterion:
    service = criterion.service
    _require_manage(actor, service)
    _in_stage(service, Stage.APPROVED_FOR_SETUP, Stage.DESIGN, doing="change success criteria")
    if criterion.is_archived:
        raise DomainError(
            "This success criterion is archived: it can no longer be changed.", code=CONFLICT
        )
    unknown = set(data) - {"description", "measure", "agreed_with_groups", "agreed_with_people"}
    if unknown:
        raise DomainError.field(sorted(unknown)[0], "Unknown field.")
    groups = data.pop("agreed_with_groups", None)
    people = data.pop("agreed_with_people", None)
    before_groups = [x.name for x in criterion.agreed_with_groups.all()]
    before_people = [str(x) for x in criterion.agreed_with_people.all()]
    new_groups, new_people = _criterion_people(
        actor,
        criterion.agreed_with_groups.all() if groups is None else groups,
        criterion.agreed_with_people.all() if people is None else people,
    )
    update_object(
        actor,
        criterion,
        data,
        extra_before={"agreed_with_groups": before_groups, "agreed_with_people": before_people},
        extra_after={
            "agreed_with_groups": [x.name for x in new_groups],
            "agreed_with_people": [str(x) for x in new_people],
        },
    )
    criterion.agreed_with_groups.set(new_groups)
    criterion.agreed_with_people.set(new_people)
    return criterion


@transaction.atomic
def criterion_archive(*, actor: Actor, criterion: SuccessCriterion) -> SuccessCriterion:
    _require_manage(actor, criterion.service)
    _in_stage(
        criterion.service, Stage.APPROVED_FOR_SETUP, Stage.DESIGN, doing="change success criteria"
    )
    return archive_object(actor, criterion)


# -- task lists


def _task_list(
    actor: Actor,
    service: Service,
    purpose: str,
    *,
    template: Artefact | None = None,
    name: str = "",
) -> TaskList:
    if template is not None:
        check_same_org(actor, live=True, template=template)
        if not is_task_template(template):
            raise DomainError.field(
                "template", "Choose a task-list template of a Centre of Excellence."
            )
    label = TaskPurpose(purpose).label
    task_list = create_object(
        actor,
        TaskList(
            service=service,
            purpose=purpose,
            name=clean_text("name", name, required=False, limit=200)
            or f"{label} of {service.name}"[:200],
            template=template,
        ),
    )
    if template is not None:
        start = today()
        for item in TemplateTask.objects.filter(template=template, archived_at__isnull=True):
            create_object(
                actor,
                Task(
                    task_list=task_list,
                    title=item.title,
                    due_on=start + dt.timedelta(days=item.due_after_days),
                    position=item.position,
                ),
            )
    _event(
        actor,
        service,
        f"{label} task list created" + (f" from {template.name}" if template else ""),
    )
    return task_list


@transaction.atomic
def task_list_create(
    *,
    actor: Actor,
    service: Service,
    purpose: str,
    template: Artefact | None = None,
    name: str = "",
) -> TaskList:
    _require_manage(actor, service)
    if purpose not in TaskPurpose.values:
        raise DomainError.field("purpose", "Choose set-up or closure.")
    stages = (
        (Stage.APPROVED_FOR_SETUP, Stage.DESIGN, Stage.PILOT, Stage.SIGNED_OFF, Stage.TRANSITION)
        if purpose == TaskPurpose.SETUP
        else (Stage.CLOSING,)
    )
    _in_stage(service, *stages, doing=f"start a {TaskPurpose(purpose).label.lower()} task list")
    return _task_list(actor, service, purpose, template=template, name=name)


TASK_FIELDS = ("title", "assignee", "due_on", "status", "position")


def _check_task(actor: Actor, data: dict[str, Any]) -> None:
    unknown = set(data) - set(TASK_FIELDS)
    if unknown:
        raise DomainError.field(sorted(unknown)[0], "Unknown field.")
    check_same_org(actor, live=True, assignee=data.get("assignee"))


@transaction.atomic
def task_create(*, actor: Actor, task_list: TaskList, data: dict[str, Any]) -> Task:
    _require_manage(actor, task_list.service)
    _check_task(actor, data)
    data = dict(data)
    if data.get("position") is None:
        last = Task.objects.filter(task_list=task_list).aggregate(m=Max("position"))["m"] or 0
        data["position"] = last + 10
    return create_object(actor, Task(task_list=task_list, **data))


@transaction.atomic
def task_update(*, actor: Actor, task: Task, data: dict[str, Any]) -> Task:
    _require_manage(actor, task.task_list.service)
    if task.is_archived:
        raise DomainError("This task is archived: it can no longer be changed.", code=CONFLICT)
    _check_task(actor, data)
    return update_object(actor, task, data)


@transaction.atomic
def task_archive(*, actor: Actor, task: Task) -> Task:
    _require_manage(actor, task.task_list.service)
    return archive_object(actor, task)


@transaction.atomic
def template_task_create(*, actor: Actor, template: Artefact, data: dict[str, Any]) -> TemplateTask:
    """Add a line to a Centre of Excellence's task-list template."""
    require(actor, CHANGE, template)
    if not is_task_template(template):
        raise DomainError.field("template", "Only a Centre of Excellence's template holds tasks.")
    unknown = set(data) - {"title", "due_after_days", "position"}
    if unknown:
        raise DomainError.field(sorted(unknown)[0], "Unknown field.")
    data = dict(data)
    if data.get("position") is None:
        last = TemplateTask.objects.filter(template=template).aggregate(m=Max("position"))["m"]
        data["position"] = (last or 0) + 10
    return create_object(actor, TemplateTask(template=template, **data))


# -- pilots


@dataclass(frozen=True)
class CriterionOutcome:
    criterion: SuccessCriterion
    result: str  # CriterionResultKind
    evidence: str = ""


@transaction.atomic
def pilot_result_record(
    *,
    actor: Actor,
    service: Service,
    results: Sequence[CriterionOutcome],
    governance_in_place: bool,
    resources_confirmed: bool,
    outcomes_validated: bool,
    note: str = "",
    attachments: Sequence[Attachment] = (),
) -> PilotIteration:
    """Record how the current pilot did: a result for every success criterion (met or not,
    with evidence) and the confirmations of M-15. Recording again replaces the results
    (the audit trail keeps the earlier ones)."""
    _require_manage(actor, service)
    locked = _lock(service)
    _in_stage(locked, Stage.PILOT, doing="record a pilot result")
    pilot = machine.latest_pilot(locked)
    if pilot is None:
        raise DomainError("This service has no pilot under way.", code=CONFLICT)
    criteria = {c.pk: c for c in machine.live_criteria(locked)}
    given: dict[int, CriterionOutcome] = {}
    for index, outcome in enumerate(results):
        field = f"results.{index}"
        if outcome.criterion.pk not in criteria:
            raise DomainError.field(field, "Not one of this service's success criteria.")
        if outcome.criterion.pk in given:
            raise DomainError.field(field, "This criterion has two results.")
        if outcome.result not in CriterionResultKind.values:
            raise DomainError.field(field, "Say whether the criterion was met.")
        given[outcome.criterion.pk] = outcome
    missing = [c.description for pk, c in criteria.items() if pk not in given]
    if missing:
        raise DomainError.field("results", "Give a result for: " + "; ".join(missing) + ".")
    existing = {
        r.criterion_id: r
        for r in CriterionResult.objects.filter(pilot=pilot, archived_at__isnull=True)
    }
    for pk, outcome in given.items():
        evidence = (outcome.evidence or "").strip()
        row = existing.get(pk)
        if row is None:
            create_object(
                actor,
                CriterionResult(
                    pilot=pilot,
                    criterion=outcome.criterion,
                    result=outcome.result,
                    evidence=evidence,
                ),
            )
        else:
            update_object(
                actor,
                row,
                {
                    "result": outcome.result,
                    "evidence": evidence,
                    # A new result starts over: an earlier waiver does not carry over.
                    "waived": False,
                    "waiver_reason": "",
                    "waived_by": None,
                },
            )
    update_object(
        actor,
        pilot,
        {
            "governance_in_place": bool(governance_in_place),
            "resources_confirmed": bool(resources_confirmed),
            "outcomes_validated": bool(outcomes_validated),
            "result_note": note.strip(),
            "result_at": now(),
        },
    )
    met = sum(1 for o in given.values() if o.result == CriterionResultKind.MET)
    _event(
        actor,
        locked,
        f"Pilot {pilot.number} result: {met} of {len(given)} criteria met",
        note=note.strip(),
        attachments=attachments,
    )
    return pilot


@transaction.atomic
def criterion_waive(*, actor: Actor, result: CriterionResult, reason: str) -> CriterionResult:
    """The Owner accepts a criterion the pilot did not meet, for a recorded reason."""
    service = result.pilot.service
    _touch(actor, service)
    if not can(actor, SIGN_OFF, service):
        raise forbidden("Only the Service Owner may waive a success criterion.")
    locked = _lock(service)
    _in_stage(locked, Stage.PILOT, doing="waive a criterion")
    if result.pilot_id != getattr(machine.latest_pilot(locked), "pk", None):
        raise DomainError("Only a result of the current pilot can be waived.", code=CONFLICT)
    if result.result == CriterionResultKind.MET:
        raise DomainError("This criterion was met: there is nothing to waive.", code=CONFLICT)
    reason = clean_text("waiver_reason", reason)
    update_object(actor, result, {"waived": True, "waiver_reason": reason, "waived_by": actor.user})
    _event(actor, locked, f"Criterion waived: {result.criterion.description}", note=reason)
    return result


@transaction.atomic
def sign_off(
    *,
    actor: Actor,
    service: Service,
    waivers: Mapping[CriterionResult, str],
    expected_from: str | None = None,
    note: str = "",
    attachments: Sequence[Attachment] = (),
) -> LifecycleEvent:
    """The Owner signs the pilot off (M-15), first waiving the unmet criteria given with a
    reason each: all of it or nothing. A refused waiver names the field
    `waivers.<result id>`. A stale `expected_from` goes straight to the move, which names
    the conflict."""
    if not expected_from or expected_from == service.stage:
        for result, reason in waivers.items():
            try:
                criterion_waive(actor=actor, result=result, reason=reason)
            except DomainError as exc:
                messages = [m for ms in exc.errors.values() for m in ms]
                errors = {f"waivers.{result.pk}": messages} if messages else None
                raise DomainError(exc.message, code=exc.code, errors=errors) from exc
    return transition(
        actor=actor,
        service=service,
        to=Stage.SIGNED_OFF,
        expected_from=expected_from,
        note=note,
        attachments=attachments,
    )


# -- readiness


@dataclass(frozen=True)
class ReadinessItem:
    question: str
    answer: str  # Answer
    note: str = ""


@transaction.atomic
def readiness_record(
    *,
    actor: Actor,
    service: Service,
    assessor: Person,
    assessed_on: dt.date,
    answers: Sequence[ReadinessItem],
    verdict: str,
    note: str = "",
    attachments: Sequence[Attachment] = (),
) -> ReadinessAssessment:
    """Record an organisation readiness assessment (M-16): an answer to each question,
    who assessed, and the overall verdict."""
    _require_manage(actor, service)
    locked = _lock(service)
    _in_stage(locked, Stage.SIGNED_OFF, doing="assess readiness")
    check_same_org(actor, live=True, assessor=assessor)
    if not answers:
        raise DomainError.field("answers", "Answer the readiness questions.")
    for index, item in enumerate(answers):
        if item.answer not in Answer.values:
            raise DomainError.field(f"answers.{index}", "Answer yes, partly or no.")
        clean_text(f"answers.{index}", item.question, limit=300)
    if verdict not in Verdict.values:
        raise DomainError.field("verdict", "Say whether the organisation is ready.")
    if verdict == Verdict.READY and any(i.answer == Answer.NO for i in answers):
        raise DomainError.field(
            "verdict", "A question answered 'no' means the organisation is not ready yet."
        )
    if not isinstance(assessed_on, dt.date):
        raise DomainError.field("assessed_on", "Give the date of the assessment.")
    if assessed_on > today():
        raise DomainError.field("assessed_on", "An assessment cannot be dated in the future.")
    assessment = create_object(
        actor,
        ReadinessAssessment(
            service=locked, assessor=assessor, assessed_on=assessed_on, verdict=verdict, note=note
        ),
    )
    for position, item in enumerate(answers, start=1):
        create_object(
            actor,
            ReadinessAnswer(
                assessment=assessment,
                question=item.question.strip(),
                answer=item.answer,
                note=item.note.strip()[:300],
                position=position,
            ),
        )
    _event(
        actor,
        locked,
        f"Readiness assessed by {assessor}: {Verdict(verdict).label.lower()}",
        note=note,
        attachments=attachments,
    )
    return assessment


# -- transition


@transaction.atomic
def phase_update(*, actor: Actor, phase: TransitionPhase, data: dict[str, Any]) -> TransitionPhase:
    """Change a phase of the transition plan, or mark it done."""
    service = phase.plan.service
    _require_manage(actor, service)
    _in_stage(service, Stage.TRANSITION, doing="change the transition plan")
    if phase.plan_id != getattr(machine.latest_plan(service), "pk", None):
        raise DomainError(
            "This phase belongs to an earlier transition plan: only the current plan's "
            "phases can change.",
            code=CONFLICT,
        )
    unknown = set(data) - {"name", "starts_on", "ends_on", "done", "customer_groups"}
    if unknown:
        raise DomainError.field(sorted(unknown)[0], "Unknown field.")
    groups = data.pop("customer_groups", None)
    before = [g.name for g in phase.customer_groups.all()]
    after = before
    if groups is not None:
        for group in groups:
            check_same_org(actor, live=True, customer_groups=group)
        after = [g.name for g in groups]
    was_done = phase.done
    update_object(
        actor,
        phase,
        data,
        extra_before={"customer_groups": before},
        extra_after={"customer_groups": after},
    )
    if groups is not None:
        phase.customer_groups.set(groups)
    if phase.done and not was_done:
        _event(actor, service, f"Transition phase complete: {phase.name}")
    return phase


@transaction.atomic
def supporting_service_create(
    *,
    actor: Actor,
    service: Service,
    code: str,
    name: str,
    end_date: dt.date | None,
    category: Category | None = None,
    summary: str = "",
) -> Service:
    """A temporary service that runs alongside the new one during its transition (M-16):
    a service of its own, marked temporary with an end date and linked to the one it
    supports."""
    _require_manage(actor, service)
    if not can(actor, ADD, Service):
        raise forbidden("Only the Director or a PMO Manager may add a service.")
    _in_stage(service, Stage.SIGNED_OFF, Stage.TRANSITION, doing="add a supporting service")
    if end_date is None:
        raise DomainError.field("end_date", "A temporary service needs an end date.")
    if end_date <= today():
        raise DomainError.field("end_date", "The end date must be in the future.")
    supporting = catalogue.service_create(
        actor=actor,
        code=code,
        name=name,
        category=category or service.category,
        summary=summary or f"Temporary support while {service.name} is introduced.",
        outcome=f"Customers of {service.name} are supported while it is introduced.",
        scopes=list(service.scopes),
        is_temporary=True,
        end_date=end_date,
        supports=service,
        delivering_pmos=list(service.delivering_pmos.all()),
    )
    _event(actor, service, f"Temporary supporting service added: {supporting}")
    return supporting


# -- closure


@transaction.atomic
def artefact_decide(
    *, actor: Actor, service: Service, artefact: Artefact, fate: str, note: str
) -> ArtefactDecision:
    """Decide what happens to one of a closing service's artefacts (M-21); deciding again
    replaces the earlier decision. The decision takes effect when closure is approved."""
    _require_manage(actor, service)
    locked = _lock(service)
    _in_stage(locked, Stage.CLOSING, doing="review artefacts")
    closure = machine.open_closure(locked)
    if closure is None:
        raise DomainError("This service has no open closure.", code=CONFLICT)
    if artefact.organisation_id != actor.organisation.pk or artefact.owner_service_id != locked.pk:
        raise DomainError.field("artefact", "Not an artefact of this service.")
    if fate not in ArtefactFate.values:
        raise DomainError.field("fate", "Choose keep, archive or discard.")
    note = clean_text("note", note, limit=300)
    existing = closure.decisions.filter(artefact=artefact, archived_at__isnull=True).first()
    if existing is not None:
        return update_object(actor, existing, {"fate": fate, "note": note})
    return create_object(
        actor, ArtefactDecision(closure=closure, artefact=artefact, fate=fate, note=note)
    )


def kept_artefacts(service: Service) -> list[Artefact]:
    """What a closed service kept for reuse (M-21): the artefacts it still owns, once
    closure has archived the others."""
    return machine.own_artefacts(service)


@transaction.atomic
def service_start_from(
    *,
    actor: Actor,
    origin: Service,
    code: str,
    name: str,
    delivering_pmos: Iterable[PMO] = (),
    category: Category | None = None,
) -> Service:
    """Another PMO starts a new service from a closed one: a proposal that records its
    origin and reuses the closed service's kept artefacts by reference."""
    _touch(actor, origin)
    require(actor, ADD, Service)
    if origin.stage != Stage.CLOSED:
        raise DomainError(
            "A new service can start only from a closed one's kept artefacts.", code=CONFLICT
        )
    new = catalogue.service_create(
        actor=actor,
        code=code,
        name=name,
        category=category or origin.category,
        summary=origin.summary,
        description=origin.description,
        outcome=origin.outcome,
        scopes=list(origin.scopes),
        rationale=list(origin.rationale),
        origin=origin,
        delivering_pmos=list(delivering_pmos),
    )
    for artefact in kept_artefacts(origin):
        catalogue.part_create(
            actor=actor,
            service=new,
            kind="artefacts",
            data={"artefact": artefact, "note": f"Kept from {origin.code} at its closure"},
        )
    _event(actor, origin, f"New service started from this one's kept artefacts: {new}")
    _event(actor, new, f"Started from {origin}, reusing its kept artefacts")
    return new


def due_for_closure(actor: Actor) -> list[Service]:
    """Temporary services past their agreed end date that are still running: closure is
    due, with the reason "agreed end date" proposed."""
    return list(
        Service.objects.filter(
            machine.due_for_closure_q(today()),
            organisation=actor.organisation,
            archived_at__isnull=True,
        ).order_by("end_date", "code")
    )


TEMPLATE_TASK_FIELDS = ("title", "due_after_days", "position")


@transaction.atomic
def template_task_update(*, actor: Actor, item: TemplateTask, data: dict[str, Any]) -> TemplateTask:
    """Change a line of a Centre of Excellence's task-list template."""
    require(actor, CHANGE, item.template)
    unknown = set(data) - set(TEMPLATE_TASK_FIELDS)
    if unknown:
        raise DomainError.field(sorted(unknown)[0], "Unknown field.")
    return update_object(actor, item, data)


@transaction.atomic
def template_task_archive(*, actor: Actor, item: TemplateTask) -> TemplateTask:
    """Remove a line from a task-list template (it is kept, archived)."""
    require(actor, CHANGE, item.template)
    return archive_object(actor, item)
