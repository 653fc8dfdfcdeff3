"""Writes of a service's card: create, change, archive and restore. The stage is not set
here: lifecycle transitions move it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from carte.catalogue.choices import DeliveryMode, PricingBasis, ServiceRoleKind
from carte.catalogue.models import Service, ServiceInput
from carte.core import clock
from carte.core.errors import DomainError
from carte.core.permissions import ADD, ARCHIVE, CHANGE, require
from carte.core.services import (
    archive_object,
    check_same_org,
    create_object,
    restore_object,
    update_object,
)
from carte.organisations.actor import Actor
from carte.organisations.models import PMO

# What a service's card lets its editors write, in the order its form shows it: the
# service's own fields and the PMOs that deliver it (a many-to-many, set once the row is
# written).
EDITABLE_FIELDS = (
    "code",
    "name",
    "category",
    "summary",
    "description",
    "outcome",
    "rationale",
    "rationale_note",
    "scopes",
    "delivery_mode",
    "provider_kind",
    "provider_name",
    "delivering_pmos",
    "hours",
    "pricing_basis",
    "price",
    "currency",
    "price_unit",
    "is_temporary",
    "end_date",
    "replaces",
)
# The fields the row itself is written with.
SERVICE_FIELDS = tuple(name for name in EDITABLE_FIELDS if name != "delivering_pmos")
# Set by the lifecycle when it creates a service: the service a temporary one supports
# (M-16) and the closed service a new one started from (M-21).
LINK_FIELDS = ("supports", "origin")


def _check_service(actor: Actor, service: Service, data: dict[str, Any]) -> None:
    unknown = set(data) - set(EDITABLE_FIELDS) - set(LINK_FIELDS)
    if "stage" in unknown:
        raise DomainError.field("stage", "The stage changes only through lifecycle transitions.")
    if unknown:
        raise DomainError.field(sorted(unknown)[0], "Unknown field.")
    check_same_org(actor, live=True, category=data.get("category"))
    check_same_org(actor, supports=data.get("supports"), origin=data.get("origin"))
    replaces = data.get("replaces")
    if replaces is not None:
        if replaces.organisation_id != actor.organisation.pk:
            raise DomainError.field("replaces", "No such record in this organisation.")
        if service.pk is not None and replaces.pk == service.pk:
            raise DomainError.field("replaces", "A service cannot replace itself.")
    for pmo in data.get("delivering_pmos") or []:
        check_same_org(actor, live=True, delivering_pmos=pmo)
    mode = data.get("delivery_mode", service.delivery_mode)
    provider = data.get("provider_name", service.provider_name)
    if mode != DeliveryMode.IN_HOUSE and not provider:
        raise DomainError.field(
            "provider_name", "Name the provider when the service is not delivered in-house."
        )
    basis = data.get("pricing_basis", service.pricing_basis)
    price = data.get("price", service.price)
    if basis == PricingBasis.FREE and price:
        raise DomainError.field("price", "A free service has no price.")
    if basis != PricingBasis.FREE and price is None:
        raise DomainError.field("price", "Give the price for this pricing basis.")


def _pmo_names(pmos: Iterable[PMO]) -> list[str]:
    return sorted(p.name for p in pmos)


@transaction.atomic
def service_create(*, actor: Actor, delivering_pmos: Iterable[PMO] = (), **fields: Any) -> Service:
    """Add a service to the catalogue, at the `proposed` stage."""
    require(actor, ADD, Service)
    pmos = list(delivering_pmos)
    service = Service(
        **{k: v for k, v in fields.items() if k in SERVICE_FIELDS or k in LINK_FIELDS}
    )
    _check_service(actor, service, {**fields, "delivering_pmos": pmos})
    service.stage_changed_at = clock.now()
    create_object(actor, service, extra={"delivering_pmos": _pmo_names(pmos)})
    service.delivering_pmos.set(pmos)
    return service


@transaction.atomic
def service_update(*, actor: Actor, service: Service, data: dict[str, Any]) -> Service:
    """Change a service's card; the stage is not changed here (lifecycle transitions do)."""
    require(actor, CHANGE, service)
    _check_service(actor, service, data)
    pmos = data.get("delivering_pmos")
    data = {k: v for k, v in data.items() if k != "delivering_pmos"}
    before_pmos = _pmo_names(service.delivering_pmos.all())
    after_pmos = before_pmos if pmos is None else _pmo_names(pmos)
    if pmos is not None:
        removed = {p.pk for p in service.delivering_pmos.all()} - {p.pk for p in pmos}
        managed = service.roles.filter(
            role=ServiceRoleKind.MANAGER, pmo_id__in=removed, archived_at__isnull=True
        )
        if managed.exists():
            raise DomainError.field(
                "delivering_pmos",
                "A PMO with a Service Manager cannot stop delivering: remove the manager first.",
            )
    update_object(
        actor,
        service,
        data,
        extra_before={"delivering_pmos": before_pmos},
        extra_after={"delivering_pmos": after_pmos},
    )
    if pmos is not None:
        service.delivering_pmos.set(pmos)
    return service


@transaction.atomic
def service_archive(*, actor: Actor, service: Service) -> Service:
    """Archive a service entered by mistake; services that ran are closed, not archived."""
    require(actor, ARCHIVE, service)
    if (
        ServiceInput.objects.filter(source_output__service=service, archived_at__isnull=True)
        .exclude(service=service)
        .exists()
    ):
        raise DomainError(
            "Other services take inputs from this one: unlink them first.", code="conflict"
        )
    return archive_object(actor, service)


@transaction.atomic
def service_restore(*, actor: Actor, service: Service) -> Service:
    require(actor, ARCHIVE, service)
    return restore_object(actor, service)
