"""Writes of symptoms (the business problems customers describe, shared across services)
and artefacts (templates, tools, documents and procedures, owned by a service or shared by
a PMO)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from carte.catalogue.models import Artefact, Service, Symptom
from carte.core.permissions import ADD, CHANGE, require
from carte.core.services import check_same_org, create_object, update_object
from carte.organisations.actor import Actor
from carte.organisations.models import PMO


@transaction.atomic
def symptom_create(*, actor: Actor, statement: str, description: str = "") -> Symptom:
    """Record a business problem customers describe (shared across services)."""
    require(actor, ADD, Symptom)
    return create_object(actor, Symptom(statement=statement.strip(), description=description))


def symptom_get_or_create(*, actor: Actor, statement: str) -> Symptom:
    """The live symptom with this statement (any case), or a new one."""
    found = Symptom.objects.filter(
        organisation=actor.organisation,
        statement__iexact=statement.strip(),
        archived_at__isnull=True,
    ).first()
    return found or symptom_create(actor=actor, statement=statement)


def symptom_update(*, actor: Actor, symptom: Symptom, data: dict[str, Any]) -> Symptom:
    require(actor, CHANGE, symptom)
    return update_object(actor, symptom, data)


def _check_artefact(actor: Actor, owner_service: Service | None, owner_pmo: PMO | None) -> None:
    """A new artefact's owner is a live row of the organisation; owning it from a service
    needs the right to edit that service."""
    check_same_org(actor, live=True, owner_service=owner_service, owner_pmo=owner_pmo)
    if owner_service is not None:
        require(actor, CHANGE, owner_service)


@transaction.atomic
def artefact_create(
    *,
    actor: Actor,
    name: str,
    kind: str,
    owner_service: Service | None = None,
    owner_pmo: PMO | None = None,
    description: str = "",
    url: str = "",
) -> Artefact:
    """Add a template, tool, document or procedure, owned by a service or shared by a PMO."""
    require(actor, ADD, Artefact)
    _check_artefact(actor, owner_service, owner_pmo)
    artefact = Artefact(
        name=name,
        kind=kind,
        owner_service=owner_service,
        owner_pmo=owner_pmo,
        description=description,
        url=url,
    )
    return create_object(actor, artefact)


@transaction.atomic
def artefact_update(*, actor: Actor, artefact: Artefact, data: dict[str, Any]) -> Artefact:
    require(actor, CHANGE, artefact)
    check_same_org(
        actor, live=True, owner_service=data.get("owner_service"), owner_pmo=data.get("owner_pmo")
    )
    for owner in (artefact.owner_service, data.get("owner_service")):
        if owner is not None:
            require(actor, CHANGE, owner)
    return update_object(actor, artefact, data)
