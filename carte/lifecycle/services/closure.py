"""Closure (M-20, M-21): decisions on a closing service's artefacts, what it kept, new
services started from a closed one, and the temporary services whose closure is due."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from carte.catalogue import services as catalogue
from carte.catalogue.choices import Stage
from carte.catalogue.models import Artefact, Category, Service
from carte.core.clock import today
from carte.core.errors import CONFLICT, DomainError
from carte.core.permissions import ADD, require
from carte.core.services import clean_text, create_object, update_object
from carte.lifecycle import machine
from carte.lifecycle.choices import ArtefactFate
from carte.lifecycle.models import ArtefactDecision
from carte.lifecycle.services.base import check_tenant, in_stage, lock, record_event, require_manage
from carte.organisations.actor import Actor
from carte.organisations.models import PMO


@transaction.atomic
def artefact_decide(
    *, actor: Actor, service: Service, artefact: Artefact, fate: str, note: str
) -> ArtefactDecision:
    """Decide what happens to one of a closing service's artefacts (M-21); deciding again
    replaces the earlier decision. The decision takes effect when closure is approved."""
    require_manage(actor, service)
    locked = lock(service)
    in_stage(locked, Stage.CLOSING, doing="review artefacts")
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
    check_tenant(actor, origin)
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
    record_event(actor, origin, f"New service started from this one's kept artefacts: {new}")
    record_event(actor, new, f"Started from {origin}, reusing its kept artefacts")
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
