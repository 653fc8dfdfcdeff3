"""Every write to the catalogue: categories, services, their parts, symptoms, artefacts,
and publishing versions. Each function checks permission, validates, writes and audits in
one transaction; pages, the API, the CLI, imports and the demo loader all come here.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any, cast

from django.db import transaction
from django.db.models import Max

from carte.catalogue import snapshots
from carte.catalogue.choices import DeliveryMode, PricingBasis, ServiceRoleKind
from carte.catalogue.models import (
    Artefact,
    Category,
    CompetenceNeed,
    GovernanceNeed,
    ProcessStep,
    Service,
    ServiceArtefact,
    ServiceCustomer,
    ServiceInput,
    ServiceLevel,
    ServiceOutput,
    ServiceRole,
    ServiceSymptom,
    ServiceVersion,
    Supplier,
    Symptom,
)
from carte.core import audit, clock
from carte.core.errors import DomainError, forbidden
from carte.core.models import AuditAction, TenantModel
from carte.core.permissions import ADD, ARCHIVE, CHANGE, require
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
from carte.organisations.models import PMO

# ---------------------------------------------------------------- shared checks


# ---------------------------------------------------------------- categories


@transaction.atomic
def category_create(
    *, actor: Actor, name: str, description: str = "", position: int | None = None
) -> Category:
    """Add a heading to the menu; by default it goes last."""
    require(actor, ADD, Category)
    if position is None:
        last = Category.objects.filter(organisation=actor.organisation).aggregate(m=Max("position"))
        position = (last["m"] or 0) + 10
    return create_object(actor, Category(name=name, description=description, position=position))


@transaction.atomic
def category_update(*, actor: Actor, category: Category, data: dict[str, Any]) -> Category:
    require(actor, CHANGE, category)
    return update_object(actor, category, data)


@transaction.atomic
def category_archive(*, actor: Actor, category: Category) -> Category:
    """Archive an empty category (its live services must move first)."""
    require(actor, ARCHIVE, category)
    if category.services.filter(archived_at__isnull=True).exists():
        raise DomainError(
            "This category still has live services: move them first.", code="conflict"
        )
    return archive_object(actor, category)


@transaction.atomic
def category_restore(*, actor: Actor, category: Category) -> Category:
    require(actor, ARCHIVE, category)
    return restore_object(actor, category)


# ---------------------------------------------------------------- services

SERVICE_FIELDS = (
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
    "hours",
    "pricing_basis",
    "price",
    "currency",
    "price_unit",
    "is_temporary",
    "end_date",
    "replaces",
)
# Set by the lifecycle when it creates a service: the service a temporary one supports
# (M-16) and the closed service a new one started from (M-21).
LINK_FIELDS = ("supports", "origin")


def _check_service(actor: Actor, service: Service, data: dict[str, Any]) -> None:
    unknown = set(data) - set(SERVICE_FIELDS) - set(LINK_FIELDS) - {"delivering_pmos"}
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


# ---------------------------------------------------------------- roles (M-10)


def _check_role(
    actor: Actor,
    service: Service,
    data: dict[str, Any],
    delivering: Collection[int] | None = None,
) -> None:
    """`delivering`: the ids of the PMOs delivering the service, when the caller holds them
    (catalogue.bulk checks thousands of roles); otherwise the database is asked."""
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
    "roles": ServiceRole,
    "levels": ServiceLevel,
    "symptoms": ServiceSymptom,
    "suppliers": Supplier,
    "inputs": ServiceInput,
    "steps": ProcessStep,
    "outputs": ServiceOutput,
    "customers": ServiceCustomer,
    "competences": CompetenceNeed,
    "governance": GovernanceNeed,
    "artefacts": ServiceArtefact,
}
ORDERED_PARTS = (ServiceLevel, Supplier, ServiceInput, ProcessStep, ServiceOutput)


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
        in ("person", "pmo", "customer_group", "symptom", "artefact", "source_output", "supplier")
    }
    check_same_org(actor, live=True, **refs)
    if model is ServiceRole:
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
    if model is ServiceSymptom:
        _symptom_by_statement(actor, data)
    part: TenantModel = cast(Any, model)(service=service, **data)
    if model in ORDERED_PARTS and "position" not in data:
        last = model._default_manager.filter(service=service).aggregate(m=Max("position"))
        part.position = (last["m"] or 0) + 1  # type: ignore[attr-defined]
    create_object(actor, part, extra=_part_extra({"customers": customers}))
    if customers is not None:
        part.customers.set(customers)  # type: ignore[attr-defined]
    return part


@transaction.atomic
def part_update(*, actor: Actor, part: TenantModel, data: dict[str, Any]) -> TenantModel:
    """Change one part of a service."""
    service: Service = part.service  # type: ignore[attr-defined]
    require(actor, CHANGE, service)
    data = dict(data)
    if "service" in data:
        raise DomainError.field("service", "A part stays with its service.")
    customers = data.pop("customers", None)
    merged = {f.name: getattr(part, f.name) for f in part._meta.concrete_fields}
    merged.update(data)
    merged.pop("statement", None)
    _check_part(actor, service, type(part), {**merged, "customers": customers})
    if isinstance(part, ServiceSymptom):
        _symptom_by_statement(actor, data)
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
    if isinstance(part, ServiceOutput) and part.consumers.filter(archived_at__isnull=True).exists():
        raise DomainError(
            "Inputs of other services come from this output: unlink them first.", code="conflict"
        )
    return archive_object(actor, part)


@transaction.atomic
def part_restore(*, actor: Actor, part: TenantModel) -> TenantModel:
    """Bring back a removed part; it must meet the rules a new one meets."""
    service: Service = part.service  # type: ignore[attr-defined]
    require(actor, CHANGE, service)
    if part.is_archived:
        current = {f.name: getattr(part, f.name) for f in part._meta.concrete_fields}
        _check_part(actor, service, type(part), {**current, "customers": None})
    return restore_object(actor, part)


# ---------------------------------------------------------------- symptoms and artefacts


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


@transaction.atomic
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


# ---------------------------------------------------------------- versions (M-11, M-19)


@transaction.atomic
def service_publish(*, actor: Actor, service: Service, note: str = "") -> ServiceVersion:
    """Record the next numbered, immutable snapshot of the service and all its parts; the
    published catalogue shows it from now on."""
    require(actor, CHANGE, service)
    locked = Service.objects.select_for_update().get(pk=service.pk)
    if locked.is_archived:
        raise DomainError("An archived service cannot be published.", code="conflict")
    snapshot = snapshots.build(locked)
    latest = locked.versions.order_by("-number").first()
    if latest is not None and latest.snapshot == snapshot:
        raise DomainError(
            f"Nothing changed since version {latest.number}: there is nothing to publish.",
            code="conflict",
        )
    version = ServiceVersion(
        organisation=actor.organisation,
        service=locked,
        number=(latest.number if latest else 0) + 1,
        snapshot=snapshot,
        published_at=clock.now(),  # as of the moment the caller is recording
        published_by=actor.user,
        note=note[:300],
    )
    version.save()
    locked.current_version = version
    locked.save(update_fields=["current_version", "updated_at"])
    service.current_version = version
    audit.record(
        actor=actor,
        obj=locked,
        action=AuditAction.UPDATE,
        changes={
            "published version": {
                "before": latest.number if latest else None,
                "after": version.number,
            }
        },
    )
    return version
