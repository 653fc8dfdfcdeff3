"""The transition plan (M-16): its phases, checked before the plan is written and
changed or marked done while the transition runs, and the temporary services that
support a new one while it is introduced."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from carte.catalogue import services as catalogue
from carte.catalogue.choices import Stage
from carte.catalogue.models import Category, Service
from carte.core.clock import today
from carte.core.errors import CONFLICT, DomainError, forbidden
from carte.core.permissions import ADD, can
from carte.core.services import check_same_org, clean_text, create_object, update_object
from carte.lifecycle import machine
from carte.lifecycle.models import TransitionPhase, TransitionPlan
from carte.lifecycle.services.base import in_stage, record_event, require_manage
from carte.organisations.actor import Actor
from carte.organisations.models import CustomerGroup


@transaction.atomic
def phase_update(*, actor: Actor, phase: TransitionPhase, data: dict[str, Any]) -> TransitionPhase:
    """Change a phase of the transition plan, or mark it done."""
    service = phase.plan.service
    require_manage(actor, service)
    in_stage(service, Stage.TRANSITION, doing="change the transition plan")
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
        record_event(actor, service, f"Transition phase complete: {phase.name}")
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
    require_manage(actor, service)
    if not can(actor, ADD, Service):
        raise forbidden("Only the Director or a PMO Manager may add a service.")
    in_stage(service, Stage.SIGNED_OFF, Stage.TRANSITION, doing="add a supporting service")
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
    record_event(actor, service, f"Temporary supporting service added: {supporting}")
    return supporting


def check_phase(actor: Actor, spec: dict[str, Any], field: str) -> None:
    """Everything about a phase that can be wrong, checked before anything is written."""
    unknown = set(spec) - {"name", "starts_on", "ends_on", "customer_groups"}
    if unknown:
        raise DomainError.field(f"{field}.{sorted(unknown)[0]}", "No such field.")
    clean_text(f"{field}.name", spec.get("name"), limit=200)
    starts_on, ends_on = spec.get("starts_on"), spec.get("ends_on")
    if not isinstance(starts_on, dt.date):
        raise DomainError.field(f"{field}.starts_on", "Give a date.")
    if not isinstance(ends_on, dt.date):
        raise DomainError.field(f"{field}.ends_on", "Give a date.")
    if ends_on < starts_on:
        raise DomainError.field(f"{field}.ends_on", "A phase cannot end before it starts.")
    for group in spec.get("customer_groups") or []:
        try:
            check_same_org(actor, live=True, customer_groups=group)
        except DomainError as exc:
            raise DomainError.field(
                f"{field}.customer_groups", exc.errors["customer_groups"][0]
            ) from exc


def create_phase(
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
