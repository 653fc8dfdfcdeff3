"""API endpoints of the catalogue (`/api/v1/orgs/{org}/...`): categories, services with
their parts (SIPOC, roles, levels, needs, symptoms, artefacts), published versions and
the dependency graph.

No `from __future__ import annotations`: django-ninja reads these annotations at runtime,
including those of the handlers `part_routes` builds from schemas held in local variables.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import Any, Literal, cast

from django.db.models import Model, QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import PageNumberPagination, paginate
from pydantic import ConfigDict

from carte.catalogue import selectors, services, snapshots
from carte.catalogue.choices import (
    ArtefactKind,
    CompetenceLevel,
    DeliveryMode,
    PricingBasis,
    ProviderKind,
    Rationale,
    Scope,
    ServiceRoleKind,
    Stage,
    SupplierKind,
)
from carte.catalogue.filters import CategoryFilter, ServiceFilter
from carte.catalogue.models import (
    Artefact,
    Category,
    Service,
    ServiceArtefact,
    ServiceCustomer,
    ServiceInput,
    ServiceOutput,
    ServiceRole,
    ServiceSymptom,
    ServiceVersion,
    Supplier,
    Symptom,
)
from carte.core.api import (
    CrudSpec,
    Parent,
    Stamped,
    api_fields,
    crud_routes,
    no_nulls,
    ref,
)
from carte.core.errors import DomainError
from carte.core.listing import get_for
from carte.core.permissions import VIEW, Right
from carte.organisations.access import api_actor
from carte.organisations.actor import Actor
from carte.organisations.models import PMO, CustomerGroup, Person

router = Router()

SERVICES = "/orgs/{org}/services"
SERVICE = SERVICES + "/{int:id}"
# Rows under a service (its parts here; KPIs, risks, steps of its life in other apps);
# the staff's records (KPIs, risks...) are refused to a customer who sees the service.
SERVICE_PARENT = Parent(path="services", fetch=selectors.service_for, arg="service")
STAFF_SERVICE_PARENT = Parent(
    path="services",
    fetch=partial(selectors.service_for, audience=selectors.Audience.STAFF),
    arg="service",
)


class Strict(Schema):
    """An input schema that refuses fields it does not know, naming them."""

    model_config = ConfigDict(extra="forbid")


class Named(Schema):
    id: int
    name: str


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


# ---------------------------------------------------------------- parts: schemas


class RoleOut(Stamped):
    role: ServiceRoleKind
    person_id: int
    person_name: str
    pmo_id: int | None
    pmo_name: str | None

    @staticmethod
    def resolve_person_name(obj: ServiceRole) -> str:
        """The person's name (selected with the role)."""
        return obj.person.name

    @staticmethod
    def resolve_pmo_name(obj: ServiceRole) -> str | None:
        """The PMO a Service Manager manages the service for."""
        return obj.pmo.name if obj.pmo_id and obj.pmo else None


class RoleIn(Strict):
    role: ServiceRoleKind
    person_id: int
    pmo_id: int | None = Field(None, description="For a Service Manager: the delivering PMO.")


class RolePatch(Strict):
    role: ServiceRoleKind | None = None
    person_id: int | None = None
    pmo_id: int | None = None


class LevelOut(Stamped):
    name: str
    position: int
    description: str
    effort_hours: Decimal | None
    price: Decimal | None


class LevelIn(Strict):
    name: str
    position: int | None = Field(None, ge=0)
    description: str = ""
    effort_hours: Decimal | None = None
    price: Decimal | None = None


class LevelPatch(Strict):
    name: str | None = None
    position: int | None = Field(None, ge=0)
    description: str | None = None
    effort_hours: Decimal | None = None
    price: Decimal | None = None


class SymptomLinkOut(Stamped):
    symptom_id: int
    statement: str
    weight: int

    @staticmethod
    def resolve_statement(obj: ServiceSymptom) -> str:
        """The symptom's statement (selected with the link)."""
        return obj.symptom.statement


class SymptomLinkIn(Strict):
    symptom_id: int | None = Field(None, description="An existing symptom; or send `statement`.")
    statement: str | None = Field(
        None, description="A symptom by its words: the existing one (any case) or a new one."
    )
    weight: int = Field(3, description="1 (helps a little) to 5 (the main remedy).")


class SymptomLinkPatch(Strict):
    weight: int | None = None


class SupplierOut(Stamped):
    kind: SupplierKind
    name: str
    person_id: int | None
    customer_group_id: int | None
    position: int


class SupplierIn(Strict):
    kind: SupplierKind = SupplierKind.ROLE
    name: str
    person_id: int | None = None
    customer_group_id: int | None = None
    position: int | None = Field(None, ge=0)


class SupplierPatch(Strict):
    kind: SupplierKind | None = None
    name: str | None = None
    person_id: int | None = None
    customer_group_id: int | None = None
    position: int | None = Field(None, ge=0)


class InputOut(Stamped):
    name: str
    quality_criteria: str
    is_trigger: bool
    supplier_id: int | None
    position: int
    source_output_id: int | None = Field(None, description="The output it comes from (M-5).")
    source_output_name: str | None = None
    source_service_id: int | None = None
    source_service_code: str | None = None

    @staticmethod
    def resolve_source_output_name(obj: ServiceInput) -> str | None:
        """The name of the output this input comes from."""
        return obj.source_output.name if obj.source_output_id and obj.source_output else None

    @staticmethod
    def resolve_source_service_id(obj: ServiceInput) -> int | None:
        """The service whose output this input comes from."""
        return obj.source_output.service_id if obj.source_output_id and obj.source_output else None

    @staticmethod
    def resolve_source_service_code(obj: ServiceInput) -> str | None:
        """The code of the service whose output this input comes from."""
        if obj.source_output_id and obj.source_output:
            return obj.source_output.service.code
        return None


class InputIn(Strict):
    name: str
    quality_criteria: str = ""
    is_trigger: bool = False
    supplier_id: int | None = Field(None, description="One of this service's suppliers.")
    source_output_id: int | None = Field(None, description="An output of another service.")
    position: int | None = Field(None, ge=0)


class InputPatch(Strict):
    name: str | None = None
    quality_criteria: str | None = None
    is_trigger: bool | None = None
    supplier_id: int | None = None
    source_output_id: int | None = None
    position: int | None = Field(None, ge=0)


class StepOut(Stamped):
    name: str
    description: str
    performer: str
    position: int


class StepIn(Strict):
    name: str
    description: str = ""
    performer: str = Field(..., description="The role that performs it.")
    position: int | None = Field(None, ge=0)


class StepPatch(Strict):
    name: str | None = None
    description: str | None = None
    performer: str | None = None
    position: int | None = Field(None, ge=0)


class OutputOut(Stamped):
    name: str
    quality_criteria: str
    position: int
    customers: list[Named] = Field(..., description="The customer groups receiving it.")

    @staticmethod
    def resolve_customers(obj: ServiceOutput) -> list[dict[str, Any]]:
        """The receiving customer groups (prefetched)."""
        return [{"id": c.pk, "name": c.name} for c in obj.customers.all()]


class OutputIn(Strict):
    name: str
    quality_criteria: str = ""
    customer_group_ids: list[int] = Field(default_factory=list)
    position: int | None = Field(None, ge=0)


class OutputPatch(Strict):
    name: str | None = None
    quality_criteria: str | None = None
    customer_group_ids: list[int] | None = None
    position: int | None = Field(None, ge=0)


class CustomerOut(Stamped):
    customer_group_id: int
    customer_group_name: str
    note: str

    @staticmethod
    def resolve_customer_group_name(obj: ServiceCustomer) -> str:
        """The customer group's name (selected with the link)."""
        return obj.customer_group.name


class CustomerIn(Strict):
    customer_group_id: int
    note: str = ""


class CustomerPatch(Strict):
    customer_group_id: int | None = None
    note: str | None = None


class CompetenceOut(Stamped):
    competence: str
    level: CompetenceLevel
    fte: Decimal


class CompetenceIn(Strict):
    competence: str
    level: CompetenceLevel = CompetenceLevel.WORKING
    fte: Decimal


class CompetencePatch(Strict):
    competence: str | None = None
    level: CompetenceLevel | None = None
    fte: Decimal | None = None


class GovernanceOut(Stamped):
    item: str
    in_place: bool


class GovernanceIn(Strict):
    item: str
    in_place: bool = False


class GovernancePatch(Strict):
    item: str | None = None
    in_place: bool | None = None


class ArtefactLinkOut(Stamped):
    artefact_id: int
    artefact_name: str
    artefact_kind: ArtefactKind
    url: str
    note: str

    @staticmethod
    def resolve_artefact_name(obj: ServiceArtefact) -> str:
        """The artefact's name (selected with the link)."""
        return obj.artefact.name

    @staticmethod
    def resolve_artefact_kind(obj: ServiceArtefact) -> str:
        """The artefact's kind."""
        return obj.artefact.kind

    @staticmethod
    def resolve_url(obj: ServiceArtefact) -> str:
        """The artefact's link."""
        return obj.artefact.url


class ArtefactLinkIn(Strict):
    artefact_id: int
    note: str = ""


class ArtefactLinkPatch(Strict):
    note: str | None = None


class OwnArtefactOut(Schema):
    id: int
    name: str
    kind: ArtefactKind
    url: str


# ---------------------------------------------------------------- parts: resolving ids


def _resolve_ids(
    actor: Actor, data: dict[str, Any], refs: Mapping[str, tuple[str, type[Model]]]
) -> dict[str, Any]:
    """Replace each `<x>_id` the client sent by the object of the organisation it names."""
    for api_name, (model_field, model) in refs.items():
        if api_name in data:
            data[model_field] = ref(actor, model, data.pop(api_name), api_name)
    return data


def _role_data(actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    """Role ids -> person and PMO."""
    no_nulls(data, ("role", "person_id"))
    return _resolve_ids(actor, data, {"person_id": ("person", Person), "pmo_id": ("pmo", PMO)})


def _symptom_data(actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    """A symptom by id or by statement (found in any case, or recorded)."""
    no_nulls(data, ("weight",))
    statement = data.pop("statement", None)
    symptom_id = data.pop("symptom_id", None)
    if symptom_id is not None and statement:
        raise DomainError.field("symptom_id", "Send either symptom_id or statement, not both.")
    if symptom_id is not None:
        data["symptom"] = ref(actor, Symptom, symptom_id, "symptom_id")
    elif statement is not None:
        if not statement.strip():
            raise DomainError.field("statement", "Describe the symptom.")
        data["statement"] = statement  # found or recorded by the service, with the link
    return data


def _symptom_create_data(actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    """As `_symptom_data`, and one of the two is required."""
    if data.get("symptom_id") is None and data.get("statement") is None:
        raise DomainError.field("symptom_id", "Send a symptom_id or a statement.")
    return _symptom_data(actor, data)


def _supplier_data(actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    """Supplier ids -> person and customer group."""
    no_nulls(data, ("kind", "name", "position"))
    return _resolve_ids(
        actor,
        data,
        {
            "person_id": ("person", Person),
            "customer_group_id": ("customer_group", CustomerGroup),
        },
    )


def _input_data(actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    """Input ids -> supplier and the output it comes from."""
    no_nulls(data, ("name", "quality_criteria", "is_trigger", "position"))
    return _resolve_ids(
        actor,
        data,
        {
            "supplier_id": ("supplier", Supplier),
            "source_output_id": ("source_output", ServiceOutput),
        },
    )


def _output_data(actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    """Output customer group ids -> customer groups."""
    no_nulls(data, ("name", "quality_criteria", "customer_group_ids", "position"))
    if "customer_group_ids" in data:
        ids = data.pop("customer_group_ids")
        data["customers"] = [
            ref(actor, CustomerGroup, pk, "customer_group_ids") for pk in dict.fromkeys(ids)
        ]
    return data


def _customer_data(actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    """Customer group id -> customer group."""
    no_nulls(data, ("customer_group_id", "note"))
    return _resolve_ids(actor, data, {"customer_group_id": ("customer_group", CustomerGroup)})


def _artefact_data(actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    """Artefact id -> artefact."""
    no_nulls(data, ("note",))
    return _resolve_ids(actor, data, {"artefact_id": ("artefact", Artefact)})


def _plain(*names: str) -> Callable[[Actor, dict[str, Any]], dict[str, Any]]:
    """A resolver for parts without references: refuse nulls for these fields."""
    return lambda actor, data: no_nulls(data, names)


# Model field -> the API field the client sent, for every part.
PART_ERROR_FIELDS = {
    "person": "person_id",
    "pmo": "pmo_id",
    "customer_group": "customer_group_id",
    "supplier": "supplier_id",
    "source_output": "source_output_id",
    "symptom": "symptom_id",
    "artefact": "artefact_id",
    "customers": "customer_group_ids",
}


@dataclass
class PartSpec:
    """What `part_routes` needs to expose one kind of part of a service."""

    kind: str
    noun: str
    out: type[Schema]
    create_in: type[Schema]
    update_in: type[Schema]
    resolve: Callable[[Actor, dict[str, Any]], dict[str, Any]]
    resolve_create: Callable[[Actor, dict[str, Any]], dict[str, Any]] | None = None
    related: tuple[str, ...] = ()
    prefetch: tuple[str, ...] = ()
    error_fields: Mapping[str, str] = field(default_factory=lambda: PART_ERROR_FIELDS)

    def queryset(self) -> QuerySet[Any]:
        """The parts of this kind with what the Out schema reads loaded."""
        model: Any = services.PARTS[self.kind]
        qs = model._default_manager.all()
        if self.related:
            qs = qs.select_related(*self.related)
        if self.prefetch:
            qs = qs.prefetch_related(*self.prefetch)
        return cast(QuerySet[Any], qs)


PART_SPECS: list[PartSpec] = [
    PartSpec("roles", "role", RoleOut, RoleIn, RolePatch, _role_data, related=("person", "pmo")),
    PartSpec(
        "levels",
        "level",
        LevelOut,
        LevelIn,
        LevelPatch,
        _plain("name", "position", "description"),
    ),
    PartSpec(
        "symptoms",
        "symptom link",
        SymptomLinkOut,
        SymptomLinkIn,
        SymptomLinkPatch,
        _symptom_data,
        resolve_create=_symptom_create_data,
        related=("symptom",),
    ),
    PartSpec("suppliers", "supplier", SupplierOut, SupplierIn, SupplierPatch, _supplier_data),
    PartSpec(
        "inputs",
        "input",
        InputOut,
        InputIn,
        InputPatch,
        _input_data,
        related=("source_output__service",),
    ),
    PartSpec(
        "steps",
        "process step",
        StepOut,
        StepIn,
        StepPatch,
        _plain("name", "description", "performer", "position"),
    ),
    PartSpec(
        "outputs",
        "output",
        OutputOut,
        OutputIn,
        OutputPatch,
        _output_data,
        prefetch=("customers",),
    ),
    PartSpec(
        "customers",
        "customer",
        CustomerOut,
        CustomerIn,
        CustomerPatch,
        _customer_data,
        related=("customer_group",),
    ),
    PartSpec(
        "competences",
        "competence need",
        CompetenceOut,
        CompetenceIn,
        CompetencePatch,
        _plain("competence", "level", "fte"),
    ),
    PartSpec(
        "governance",
        "governance prerequisite",
        GovernanceOut,
        GovernanceIn,
        GovernancePatch,
        _plain("item", "in_place"),
    ),
    PartSpec(
        "artefacts",
        "artefact link",
        ArtefactLinkOut,
        ArtefactLinkIn,
        ArtefactLinkPatch,
        _artefact_data,
        related=("artefact",),
    ),
]
assert {s.kind for s in PART_SPECS} == set(services.PARTS), "a part kind has no routes"


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
    steps: list[StepOut]
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


SERVICE_NOT_NULL = (
    "code",
    "name",
    "category_id",
    "summary",
    "description",
    "outcome",
    "rationale",
    "rationale_note",
    "scopes",
    "delivery_mode",
    "provider_kind",
    "provider_name",
    "delivering_pmo_ids",
    "hours",
    "pricing_basis",
    "currency",
    "price_unit",
    "is_temporary",
)
SERVICE_ERROR_FIELDS = {
    "category": "category_id",
    "replaces": "replaces_id",
    "delivering_pmos": "delivering_pmo_ids",
}


def _service_data(actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    """Service ids -> category, replaced service and delivering PMOs of the organisation."""
    no_nulls(data, SERVICE_NOT_NULL)
    _resolve_ids(
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
@paginate(PageNumberPagination, page_size=25, max_page_size=200)
def services_list(request: HttpRequest, org: str, filters: Query[ServiceFilter]) -> Any:
    """The catalogue. Customers see only running services with a published version, each
    as last published (never unpublished edits)."""
    actor = api_actor(request, org)
    qs = selectors.service_list(actor=actor, filters=filters)
    if selectors.sees_everything(actor):
        return qs
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
    service = selectors.service_get(actor=actor, pk=id)
    data = payload.model_dump(exclude_unset=True)
    try:
        services.service_update(actor=actor, service=service, data=_service_data(actor, data))
    except DomainError as exc:
        raise api_fields(exc, SERVICE_ERROR_FIELDS) from exc
    return _detail(actor, id)


@router.post(
    SERVICE + "/archive",
    response=ServiceDetailOut,
    tags=["Services"],
    summary="Archive a service",
    operation_id="services_archive",
)
def services_archive(request: HttpRequest, org: str, id: int) -> Any:
    """Archive a service entered by mistake."""
    actor = api_actor(request, org)
    services.service_archive(actor=actor, service=selectors.service_get(actor=actor, pk=id))
    return _detail(actor, id)


@router.post(
    SERVICE + "/restore",
    response=ServiceDetailOut,
    tags=["Services"],
    summary="Restore an archived service",
    operation_id="services_restore",
)
def services_restore(request: HttpRequest, org: str, id: int) -> Any:
    """Bring an archived service back."""
    actor = api_actor(request, org)
    services.service_restore(actor=actor, service=selectors.service_get(actor=actor, pk=id))
    return _detail(actor, id)


# ---------------------------------------------------------------- parts: routes


def part_routes(router: Router, spec: PartSpec) -> None:
    """List, create, update, archive and restore one kind of part of a service."""

    def get(*, actor: Actor, service: Service, pk: int, action: Right = VIEW) -> Any:
        return selectors.part_get(
            actor=actor, kind=spec.kind, pk=pk, service=service, action=action, rows=spec.queryset()
        )

    crud_routes(
        router,
        CrudSpec(
            path=spec.kind,
            tag="Service parts",
            noun=spec.noun,
            out=spec.out,
            create_in=spec.create_in,
            update_in=spec.update_in,
            parent=SERVICE_PARENT,
            list_selector=lambda *, actor, service: selectors.parts_of(
                actor=actor, service=service, rows=spec.queryset()
            ),
            get_selector=get,
            create=lambda *, actor, service, data: services.part_create(
                actor=actor, service=service, kind=spec.kind, data=data
            ),
            update=services.part_update,
            archive=services.part_archive,
            restore=services.part_restore,
            obj_arg="part",
            resolve=spec.resolve,
            resolve_create=spec.resolve_create,
            error_fields=spec.error_fields,
            operation=f"service_{spec.kind}",
            child="part_id",
            paginated=False,
        ),
    )


for _spec in PART_SPECS:
    part_routes(router, _spec)


# ---------------------------------------------------------------- versions (M-11, M-19)


class PublishIn(Strict):
    note: str = Field("", max_length=300, description="What changed, for the history.")


class VersionOut(Schema):
    number: int
    published_at: datetime
    published_by: str | None = Field(None, description="The e-mail of who published it.")
    note: str

    @staticmethod
    def resolve_published_by(obj: ServiceVersion) -> str | None:
        """The publisher's e-mail (selected with the version)."""
        return obj.published_by.email if obj.published_by_id and obj.published_by else None


class VersionDetailOut(VersionOut):
    snapshot: dict[str, Any]


class FieldChange(Schema):
    before: Any
    after: Any


class RowChangeOut(Schema):
    key: str
    fields: dict[str, FieldChange]


class PartDiffOut(Schema):
    added: list[dict[str, Any]]
    removed: list[dict[str, Any]]
    changed: list[RowChangeOut]


class DiffOut(Schema):
    fields: dict[str, FieldChange]
    parts: dict[str, PartDiffOut]


@router.post(
    SERVICE + "/publish",
    response={201: VersionOut},
    tags=["Versions"],
    summary="Publish the next version of a service",
    operation_id="services_publish",
)
def services_publish(
    request: HttpRequest, org: str, id: int, payload: PublishIn | None = None
) -> Any:
    """Record a numbered, immutable snapshot; customers see it from now on. The body is
    optional."""
    actor = api_actor(request, org)
    service = selectors.service_get(actor=actor, pk=id)
    note = payload.note if payload is not None else ""
    version = services.service_publish(actor=actor, service=service, note=note)
    return Status(201, selectors.version_get(actor=actor, service=service, number=version.number))


@router.get(
    SERVICE + "/versions",
    response=list[VersionOut],
    tags=["Versions"],
    summary="List the published versions of a service",
    operation_id="services_versions_list",
)
def versions_list(request: HttpRequest, org: str, id: int) -> Any:
    """Newest first."""
    actor = api_actor(request, org)
    service = selectors.service_get(actor=actor, pk=id)
    return selectors.version_list(actor=actor, service=service).defer("snapshot")


@router.get(
    SERVICE + "/versions/{int:number}",
    response=VersionDetailOut,
    tags=["Versions"],
    summary="Retrieve a published version with its snapshot",
    operation_id="services_versions_retrieve",
)
def versions_retrieve(request: HttpRequest, org: str, id: int, number: int) -> Any:
    """One version, with the service and its parts as they were published."""
    actor = api_actor(request, org)
    service = selectors.service_get(actor=actor, pk=id)
    return selectors.version_get(actor=actor, service=service, number=number)


@router.get(
    SERVICE + "/versions/{int:a}/diff/{int:b}",
    response=DiffOut,
    tags=["Versions"],
    summary="Compare two published versions",
    operation_id="services_versions_diff",
)
def versions_diff(request: HttpRequest, org: str, id: int, a: int, b: int) -> Any:
    """What changed from version `a` to version `b`: fields, and rows added, removed, changed."""
    actor = api_actor(request, org)
    service = selectors.service_get(actor=actor, pk=id)
    old = selectors.version_get(actor=actor, service=service, number=a)
    new = selectors.version_get(actor=actor, service=service, number=b)
    return snapshots.compare(old.snapshot, new.snapshot)


# ---------------------------------------------------------------- dependencies (M-5)


class DependencyOut(Schema):
    service_id: int
    service_code: str
    service_name: str
    output: str = Field(..., description="The output of the upstream service.")
    input: str = Field(..., description="The input of the downstream service.")


class DependenciesOut(Schema):
    upstream: list[DependencyOut] = Field(..., description="Services this one takes inputs from.")
    downstream: list[DependencyOut] = Field(..., description="Services this one feeds.")


class GraphNode(Schema):
    id: int
    code: str
    name: str
    category: str
    stage: Stage
    layer: int
    in_cycle: bool


class GraphEdge(Schema):
    source: int
    target: int
    output: str
    input: str


class GraphOut(Schema):
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    cycles: list[list[int]] = Field(..., description="Groups of services depending in a loop.")


def _dependency_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "service_id": row["service"].pk,
            "service_code": row["service"].code,
            "service_name": row["service"].name,
            "output": row["output"],
            "input": row["input"],
        }
        for row in rows
    ]


@router.get(
    SERVICE + "/dependencies",
    response=DependenciesOut,
    tags=["Dependencies"],
    summary="The services a service depends on and feeds",
    operation_id="services_dependencies",
)
def service_dependencies(request: HttpRequest, org: str, id: int) -> Any:
    """Upstream and downstream services, through output-to-input links."""
    actor = api_actor(request, org)
    service = selectors.service_get(actor=actor, pk=id)
    found = selectors.service_dependencies(actor=actor, service=service)
    return {
        "upstream": _dependency_rows(found["upstream"]),
        "downstream": _dependency_rows(found["downstream"]),
    }


@router.get(
    "/orgs/{org}/dependency-graph",
    response=GraphOut,
    tags=["Dependencies"],
    summary="Every visible live service and how they feed each other",
    operation_id="dependency_graph",
)
def dependency_graph(request: HttpRequest, org: str) -> Any:
    """Nodes (with a layer for a left-to-right layout), edges and cycles."""
    return selectors.dependency_graph(actor=api_actor(request, org))


@router.get(
    SERVICE + "/published",
    response=VersionDetailOut,
    tags=["Services"],
    summary="The service as last published (what customers see)",
    operation_id="services_published",
)
def services_published(request: HttpRequest, org: str, id: int) -> Any:
    """The latest published version of the service, with its snapshot; 404 if none."""
    actor = api_actor(request, org)
    service = selectors.service_get(actor=actor, pk=id)
    if service.current_version is None:
        raise DomainError("This service has not been published.", code="not_found")
    return selectors.version_get(
        actor=actor, service=service, number=service.current_version.number
    )
