"""Categories and services through the API.
No `from __future__ import annotations`: django-ninja reads these annotations at runtime.
"""

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Status

from carte.catalogue import selectors, services
from carte.catalogue.api.common import SERVICE, SERVICES
from carte.catalogue.api.parts import (
    ArtefactLinkOut,
    CompetenceOut,
    CustomerOut,
    GovernanceOut,
    InputOut,
    LevelOut,
    OutputOut,
    OwnArtefactOut,
    ProcessStepOut,
    RoleOut,
    SupplierOut,
    SymptomLinkOut,
    resolve_ids,
)
from carte.catalogue.choices import (
    DeliveryMode,
    PricingBasis,
    ProviderKind,
    Rationale,
    Scope,
    Stage,
)
from carte.catalogue.filters import CategoryFilter, ServiceFilter
from carte.catalogue.models import (
    Category,
    Service,
)
from carte.catalogue.search import Ranked
from carte.core.api import (
    CrudSpec,
    Named,
    Stamped,
    Strict,
    api_fields,
    crud_routes,
    no_nulls,
    paged,
    ref,
    step_routes,
)
from carte.core.errors import DomainError
from carte.core.listing import get_for
from carte.core.permissions import ADD, CHANGE, VIEW, require
from carte.organisations.access import api_actor
from carte.organisations.actor import Actor
from carte.organisations.models import PMO

router = Router()


# ---------------------------------------------------------------- categories


class CategoryOut(Stamped):
    name: str
    description: str
    position: int
    service_count: int | None = Field(None, description="Live services the caller may see.")

    @staticmethod
    def resolve_service_count(obj: Category) -> int | None:
        """The annotation of `category_list`, when present."""
        return getattr(obj, "service_count", None)


class CategoryIn(Strict):
    name: str
    description: str = ""
    position: int | None = Field(None, ge=0, description="Order in the menu; last by default.")


def category_get(*, actor: Actor, pk: int, action: str = VIEW) -> Category:
    """One category of the organisation, with its service count, archived or not."""
    everything = CategoryFilter.model_validate({"status": "all"})
    return get_for(
        actor, selectors.category_list(actor=actor, filters=everything), pk, action=action
    )


def _category_data(actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    """Refuse a null name or description; a null position means "last" (or "unchanged")."""
    if data.get("position", 0) is None:
        del data["position"]
    return no_nulls(data, ("name", "description"))


crud_routes(
    router,
    CrudSpec(
        path="categories",
        model=Category,
        tag="Categories",
        noun="category",
        out=CategoryOut,
        create_in=CategoryIn,
        filters=CategoryFilter,
        list_selector=selectors.category_list,
        get_selector=category_get,
        create=lambda *, actor, data: services.category_create(actor=actor, **data),
        update=services.category_update,
        archive=services.category_archive,
        restore=services.category_restore,
        obj_arg="category",
        resolve=_category_data,
    ),
)


# ---------------------------------------------------------------- services


class ServiceOut(Stamped):
    code: str
    name: str
    category_id: int
    category_name: str
    summary: str
    description: str
    outcome: str
    rationale: list[Rationale]
    rationale_note: str
    scopes: list[Scope]
    delivery_mode: DeliveryMode
    provider_kind: ProviderKind | Literal[""]
    provider_name: str
    delivering_pmos: list[Named]
    hours: str
    pricing_basis: PricingBasis
    price: Decimal | None = Field(None, description="A decimal string, with `currency`.")
    currency: str
    price_unit: str
    stage: Stage
    stage_changed_at: datetime | None
    is_temporary: bool
    end_date: date | None
    replaces_id: int | None
    current_version: int | None = Field(
        None, description="The number of the latest published version, if any."
    )

    @staticmethod
    def resolve_category_name(obj: Service) -> str:
        """The category's name (selected with the service)."""
        return obj.category.name

    @staticmethod
    def resolve_delivering_pmos(obj: Service) -> list[dict[str, Any]]:
        """The PMOs delivering the service (prefetched)."""
        return [{"id": p.pk, "name": p.name} for p in obj.delivering_pmos.all()]

    @staticmethod
    def resolve_current_version(obj: Service) -> int | None:
        """The number of the current version: annotated on lists (`version_number`),
        selected with the service otherwise."""
        if hasattr(obj, "version_number"):
            number: int | None = obj.version_number
            return number
        return obj.current_version.number if obj.current_version_id else None  # type: ignore[union-attr]


class ServiceDetailOut(ServiceOut):
    """A service with its SIPOC (suppliers, inputs, steps, outputs, customers), roles,
    levels, needs, symptoms and artefacts: every live part."""

    replaces_code: str | None
    roles: list[RoleOut]
    levels: list[LevelOut]
    symptoms: list[SymptomLinkOut]
    suppliers: list[SupplierOut]
    inputs: list[InputOut]
    steps: list[ProcessStepOut]
    outputs: list[OutputOut]
    customers: list[CustomerOut]
    competences: list[CompetenceOut]
    governance: list[GovernanceOut]
    artefacts: list[ArtefactLinkOut]
    own_artefacts: list[OwnArtefactOut]

    @staticmethod
    def resolve_replaces_code(obj: Service) -> str | None:
        """The code of the service this one replaces."""
        return obj.replaces.code if obj.replaces_id and obj.replaces else None

    @staticmethod
    def resolve_roles(obj: Service) -> list[Any]:
        """Live roles (prefetched by `service_detail`)."""
        return list(obj.roles.all())

    @staticmethod
    def resolve_levels(obj: Service) -> list[Any]:
        """Live levels."""
        return list(obj.levels.all())

    @staticmethod
    def resolve_symptoms(obj: Service) -> list[Any]:
        """Live symptom links."""
        return list(obj.symptom_links.all())

    @staticmethod
    def resolve_suppliers(obj: Service) -> list[Any]:
        """Live suppliers."""
        return list(obj.suppliers.all())

    @staticmethod
    def resolve_inputs(obj: Service) -> list[Any]:
        """Live inputs."""
        return list(obj.inputs.all())

    @staticmethod
    def resolve_steps(obj: Service) -> list[Any]:
        """Live process steps."""
        return list(obj.steps.all())

    @staticmethod
    def resolve_outputs(obj: Service) -> list[Any]:
        """Live outputs."""
        return list(obj.outputs.all())

    @staticmethod
    def resolve_customers(obj: Service) -> list[Any]:
        """Live customers."""
        return list(obj.customers.all())

    @staticmethod
    def resolve_competences(obj: Service) -> list[Any]:
        """Live competence needs."""
        return list(obj.competences.all())

    @staticmethod
    def resolve_governance(obj: Service) -> list[Any]:
        """Live governance prerequisites."""
        return list(obj.governance.all())

    @staticmethod
    def resolve_artefacts(obj: Service) -> list[Any]:
        """Live uses of artefacts owned elsewhere."""
        return list(obj.artefact_links.all())

    @staticmethod
    def resolve_own_artefacts(obj: Service) -> list[Any]:
        """Live artefacts the service owns."""
        return list(obj.own_artefacts.all())


class ServiceIn(Strict):
    code: str
    name: str
    category_id: int
    summary: str = ""
    description: str = ""
    outcome: str = ""
    rationale: list[Rationale] = Field(default_factory=list)
    rationale_note: str = ""
    scopes: list[Scope] = Field(default_factory=list)
    delivery_mode: DeliveryMode = DeliveryMode.IN_HOUSE
    provider_kind: ProviderKind | Literal[""] = ""
    provider_name: str = ""
    delivering_pmo_ids: list[int] = Field(default_factory=list)
    hours: str = ""
    pricing_basis: PricingBasis = PricingBasis.FREE
    price: Decimal | None = None
    currency: str = ""
    price_unit: str = ""
    is_temporary: bool = False
    end_date: date | None = None
    replaces_id: int | None = None


class ServicePatch(Strict):
    code: str | None = None
    name: str | None = None
    category_id: int | None = None
    summary: str | None = None
    description: str | None = None
    outcome: str | None = None
    rationale: list[Rationale] | None = None
    rationale_note: str | None = None
    scopes: list[Scope] | None = None
    delivery_mode: DeliveryMode | None = None
    provider_kind: ProviderKind | Literal[""] | None = None
    provider_name: str | None = None
    delivering_pmo_ids: list[int] | None = None
    hours: str | None = None
    pricing_basis: PricingBasis | None = None
    price: Decimal | None = None
    currency: str | None = None
    price_unit: str | None = None
    is_temporary: bool | None = None
    end_date: date | None = None
    replaces_id: int | None = None
    stage: Stage | None = Field(
        None, description="Not writable here: the stage changes only through lifecycle steps."
    )


SERVICE_ERROR_FIELDS = {
    "category": "category_id",
    "replaces": "replaces_id",
    "delivering_pmos": "delivering_pmo_ids",
}
# The API's names of the card's fields that cannot be empty: a PATCH may not null them.
SERVICE_NOT_NULL = tuple(
    SERVICE_ERROR_FIELDS.get(name, name)
    for name in services.EDITABLE_FIELDS
    if name not in ("price", "end_date", "replaces")
)


def _service_data(actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    """Service ids -> category, replaced service and delivering PMOs of the organisation."""
    no_nulls(data, SERVICE_NOT_NULL)
    resolve_ids(
        actor,
        data,
        {"category_id": ("category", Category), "replaces_id": ("replaces", Service)},
    )
    if "delivering_pmo_ids" in data:
        ids = data.pop("delivering_pmo_ids")
        data["delivering_pmos"] = [
            ref(actor, PMO, pk, "delivering_pmo_ids") for pk in dict.fromkeys(ids)
        ]
    return data


def _detail(actor: Actor, pk: int) -> Service:
    return selectors.service_detail(actor=actor, pk=pk)


@router.get(
    SERVICES,
    response=list[ServiceOut],
    tags=["Services"],
    summary="List services",
    operation_id="services_list",
)
@paged
def services_list(request: HttpRequest, org: str, filters: Query[ServiceFilter]) -> Any:
    """The catalogue. Customers see only running services with a published version, each
    as last published (never unpublished edits). Searched (`q`), the services matching
    any of the words, best match first unless an `ordering` is given."""
    actor = api_actor(request, org)
    qs = selectors.service_list(actor=actor, filters=filters)
    if selectors.sees_everything(actor):
        return qs
    if isinstance(qs, Ranked):  # searched: the page's services only are read
        return qs.map(selectors.as_published)
    return [selectors.as_published(s) for s in qs]


@router.get(
    SERVICE,
    response=ServiceDetailOut,
    tags=["Services"],
    summary="Retrieve a service with every part",
    operation_id="services_retrieve",
)
def services_retrieve(request: HttpRequest, org: str, id: int) -> Any:
    """One service with its SIPOC, roles, levels, needs, symptoms and artefacts, as it is
    now: PMO staff only. Customers read `/services/{id}/published`."""
    actor = api_actor(request, org)
    service = _detail(actor, id)
    if not selectors.sees_everything(actor):
        raise DomainError(
            f"Customers read a service as published: GET …/services/{id}/published.",
            code="forbidden",
        )
    return service


@router.post(
    SERVICES,
    response={201: ServiceDetailOut},
    tags=["Services"],
    summary="Create a service",
    operation_id="services_create",
)
def services_create(request: HttpRequest, org: str, payload: ServiceIn) -> Any:
    """Add a service to the catalogue, at the `proposed` stage."""
    actor = api_actor(request, org)
    require(actor, ADD, Service)  # before the body is read: 403, not 422, without the right
    try:
        service = services.service_create(actor=actor, **_service_data(actor, payload.model_dump()))
    except DomainError as exc:
        raise api_fields(exc, SERVICE_ERROR_FIELDS) from exc
    return Status(201, _detail(actor, service.pk))


@router.patch(
    SERVICE,
    response=ServiceDetailOut,
    tags=["Services"],
    summary="Update a service",
    operation_id="services_update",
)
def services_update(request: HttpRequest, org: str, id: int, payload: ServicePatch) -> Any:
    """Change what the payload names; the stage is refused (lifecycle steps move it)."""
    actor = api_actor(request, org)
    service = selectors.service_get(actor=actor, pk=id, action=CHANGE)  # before the body
    data = payload.model_dump(exclude_unset=True)
    try:
        services.service_update(actor=actor, service=service, data=_service_data(actor, data))
    except DomainError as exc:
        raise api_fields(exc, SERVICE_ERROR_FIELDS) from exc
    return _detail(actor, id)


service_step = step_routes(
    router, SERVICE, stem="services", tag="Services", response=ServiceDetailOut
)


def _stepped(request: HttpRequest, org: str, id: int, step: Callable[..., Service]) -> Any:
    """Take `step` (`service_archive`, `service_restore`) on the service; the answer is
    the service as it is now."""
    actor = api_actor(request, org)
    step(actor=actor, service=selectors.service_get(actor=actor, pk=id))
    return _detail(actor, id)


@service_step("archive", "Archive a service")
def services_archive(request: HttpRequest, org: str, id: int) -> Any:
    """Archive a service entered by mistake."""
    return _stepped(request, org, id, services.service_archive)


@service_step("restore", "Restore an archived service")
def services_restore(request: HttpRequest, org: str, id: int) -> Any:
    """Bring an archived service back."""
    return _stepped(request, org, id, services.service_restore)
