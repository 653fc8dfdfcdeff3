"""Writes of a service's parts (roles, levels, symptom links, SIPOC rows, needs, artefact
links), one set of functions for every kind (`PARTS`), with the rules that span objects
(`_check_part`)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, cast

from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.db.models import Max

from carte.catalogue import models
from carte.catalogue.choices import ServiceRoleKind
from carte.catalogue.models import Service
from carte.catalogue.services.artefacts import symptom_get_or_create
from carte.core.errors import DomainError, forbidden, not_found
from carte.core.models import TenantModel
from carte.core.permissions import ADD, CHANGE, can, require
from carte.core.services import (
    archive_object,
    check_same_org,
    clean_text,
    create_object,
    restore_object,
    update_object,
)
from carte.organisations.actor import Actor
from carte.organisations.choices import OrgRole
from carte.organisations.models import Competence
from carte.organisations.services import competence_named


def _check_role(
    actor: Actor,
    service: Service,
    data: dict[str, Any],
    delivering: Collection[int] | None = None,
) -> None:
    """`delivering`: the ids of the PMOs delivering the service, when the caller holds them
    (services.bulk checks thousands of roles); otherwise the database is asked."""
    check_same_org(actor, live=True, person=data.get("person"), pmo=data.get("pmo"))
    role = data.get("role")
    pmo = data.get("pmo")
    if role == ServiceRoleKind.OWNER and not (
        actor.system or actor.has_role(OrgRole.DIRECTOR, OrgRole.ADMIN)
    ):
        raise forbidden("Only the PMO Director appoints a Service Owner.")
    if role == ServiceRoleKind.MANAGER:
        if pmo is None:
            raise DomainError.field("pmo", "Choose the PMO this Service Manager manages it for.")
        if not (
            pmo.pk in delivering
            if delivering is not None
            else service.delivering_pmos.filter(pk=pmo.pk).exists()
        ):
            raise DomainError.field("pmo", "This PMO does not deliver the service.")
    elif pmo is not None and role == ServiceRoleKind.OWNER:
        raise DomainError.field("pmo", "Only a Service Manager is tied to a PMO.")


# ---------------------------------------------------------------- parts

# Part kind (as in URLs and exports) -> model. The service is each part's parent.
PARTS: dict[str, type[TenantModel]] = {
    "roles": models.ServiceRole,
    "levels": models.ServiceLevel,
    "symptoms": models.ServiceSymptom,
    "suppliers": models.Supplier,
    "inputs": models.ServiceInput,
    "steps": models.ProcessStep,
    "outputs": models.ServiceOutput,
    "customers": models.ServiceCustomer,
    "competences": models.CompetenceNeed,
    "governance": models.GovernanceNeed,
    "artefacts": models.ServiceArtefact,
}
ORDERED_PARTS = (
    models.ServiceLevel,
    models.Supplier,
    models.ServiceInput,
    models.ProcessStep,
    models.ServiceOutput,
)


def _check_part(
    actor: Actor,
    service: Service,
    model: type[TenantModel],
    data: dict[str, Any],
    delivering: Collection[int] | None = None,
) -> None:
    """Rules that span objects: references stay in the organisation and in the service.
    `delivering` as for `_check_role`."""
    if service.is_archived:
        raise DomainError("This service is archived.", code="conflict")
    refs = {
        k: v
        for k, v in data.items()
        if k
        in (
            "person",
            "pmo",
            "customer_group",
            "symptom",
            "artefact",
            "source_output",
            "supplier",
            "competence",
        )
    }
    check_same_org(actor, live=True, **refs)
    if model is models.ServiceRole:
        _check_role(actor, service, data, delivering)
    supplier = data.get("supplier")
    if supplier is not None and supplier.service_id != service.pk:
        raise DomainError.field("supplier", "Choose one of this service's suppliers.")
    source = data.get("source_output")
    if source is not None and source.service_id == service.pk:
        raise DomainError.field(
            "source_output",
            "An input cannot come from an output of its own service: a step would depend on "
            "itself.",
        )
    for group in data.get("customers") or []:
        check_same_org(actor, live=True, customers=group)


def _symptom_by_statement(actor: Actor, data: dict[str, Any]) -> None:
    """A symptom link may name its symptom by its words: the live symptom with them, or a
    new one, recorded in the link's own transaction (a refused link leaves no symptom)."""
    if "statement" not in data:
        return
    statement = data.pop("statement")
    if data.get("symptom") is not None:
        raise DomainError.field("symptom", "Name the symptom by its words or choose one, not both.")
    text = clean_text("statement", statement)
    data["symptom"] = symptom_get_or_create(actor=actor, statement=text)


def _competence_by_name(actor: Actor, data: dict[str, Any]) -> None:
    """A need may name its competence (`competence_name`): the live competence of the
    framework with that name, whatever its case and spaces. A name the framework lacks is
    recorded there, in the need's own transaction (a refused need leaves no competence),
    when the actor may add competences; otherwise it is refused on `competence_name`.
    A competence found by name is live and the organisation's own, so it needs no check."""
    if "competence_name" not in data:
        return
    name = data.pop("competence_name")
    if data.get("competence") is not None:
        raise DomainError.field("competence_name", "Name the competence or choose one, not both.")
    text = clean_text("competence_name", name, limit=200)
    try:
        data["competence"] = competence_named(
            actor=actor, name=text, create=can(actor, ADD, Competence)
        )
    except DomainError as exc:
        if exc.code != "invalid":
            raise
        messages = [m for field in exc.errors.values() for m in field] or [exc.message]
        raise DomainError.field("competence_name", " ".join(messages)) from exc


def _part_extra(data: dict[str, Any]) -> dict[str, Any]:
    customers = data.get("customers")
    return {} if customers is None else {"customers": sorted(str(c) for c in customers)}


@transaction.atomic
def part_create(*, actor: Actor, service: Service, kind: str, data: dict[str, Any]) -> TenantModel:
    """Add a part (role, level, SIPOC row, need, symptom or artefact link) to a service."""
    model = PARTS.get(kind)
    if model is None:
        raise DomainError.field("kind", f"Unknown part {kind!r}.")
    require(actor, CHANGE, service)
    data = dict(data)
    customers = data.pop("customers", None)
    _check_part(actor, service, model, {**data, "customers": customers})
    if model is models.ServiceSymptom:
        _symptom_by_statement(actor, data)
    if model is models.CompetenceNeed:
        _competence_by_name(actor, data)
    part: TenantModel = cast(Any, model)(service=service, **data)
    if model in ORDERED_PARTS and "position" not in data:
        last = model._default_manager.filter(service=service).aggregate(m=Max("position"))
        part.position = (last["m"] or 0) + 1  # type: ignore[attr-defined]
    create_object(actor, part, extra=_part_extra({"customers": customers}))
    if customers is not None:
        part.customers.set(customers)  # type: ignore[attr-defined]
    return part


def _lock(part: TenantModel) -> None:
    """Lock the part's row and bring `part` up to what is stored: the caller read it before
    the lock, and someone may have changed it since. The rules are then checked on the row
    as it will be written, and the audit's "before" (its customers too) is what was stored.
    """
    names = [f.attname for f in part._meta.concrete_fields]
    try:
        stored = (
            type(part)._default_manager.select_for_update().filter(pk=part.pk).values(*names).get()
        )
    except ObjectDoesNotExist as exc:  # deleted since it was read
        raise not_found(str(part._meta.verbose_name)) from exc
    for attname, value in stored.items():
        if getattr(part, attname) != value:
            setattr(part, attname, value)  # a changed foreign key id drops its cached row
    vars(part).pop("_prefetched_objects_cache", None)  # its customers, read again under the lock


@transaction.atomic
def part_update(*, actor: Actor, part: TenantModel, data: dict[str, Any]) -> TenantModel:
    """Change one part of a service."""
    service: Service = part.service  # type: ignore[attr-defined]
    require(actor, CHANGE, service)  # before anything is locked or read
    data = dict(data)
    if "service" in data:
        raise DomainError.field("service", "A part stays with its service.")
    _lock(part)
    customers = data.pop("customers", None)
    merged = {f.name: getattr(part, f.name) for f in part._meta.concrete_fields}
    merged.update(data)
    merged.pop("statement", None)
    if "competence_name" in merged:
        merged.pop("competence_name")
        if "competence" not in data:
            merged.pop("competence")  # the one named replaces the stored one
    _check_part(actor, service, type(part), {**merged, "customers": customers})
    if isinstance(part, models.ServiceSymptom):
        _symptom_by_statement(actor, data)
    if isinstance(part, models.CompetenceNeed):
        _competence_by_name(actor, data)
    extra_before = extra_after = {}
    if customers is not None:
        extra_before = _part_extra({"customers": list(part.customers.all())})  # type: ignore[attr-defined]
        extra_after = _part_extra({"customers": customers})
    update_object(actor, part, data, extra_before=extra_before, extra_after=extra_after)
    if customers is not None:
        part.customers.set(customers)  # type: ignore[attr-defined]
    return part


@transaction.atomic
def part_archive(*, actor: Actor, part: TenantModel) -> TenantModel:
    """Remove a part from a service (kept in the history, can be restored)."""
    require(actor, CHANGE, part.service)  # type: ignore[attr-defined]
    _lock(part)  # archived once, audited once, however many ask at the same time
    if (
        isinstance(part, models.ServiceOutput)
        and part.consumers.filter(archived_at__isnull=True).exists()
    ):
        raise DomainError(
            "Inputs of other services come from this output: unlink them first.", code="conflict"
        )
    return archive_object(actor, part)


@transaction.atomic
def part_restore(*, actor: Actor, part: TenantModel) -> TenantModel:
    """Bring back a removed part; it must meet the rules a new one meets."""
    service: Service = part.service  # type: ignore[attr-defined]
    require(actor, CHANGE, service)
    _lock(part)
    if part.is_archived:
        current = {f.name: getattr(part, f.name) for f in part._meta.concrete_fields}
        _check_part(actor, service, type(part), {**current, "customers": None})
    return restore_object(actor, part)
