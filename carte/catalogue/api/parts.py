"""A service's parts through the API: roles, levels, symptoms, the SIPOC, needs and
artefact links, each kind through `crud_routes` under its service.
No `from __future__ import annotations`: django-ninja reads these annotations at runtime.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

from django.db.models import Model, QuerySet
from ninja import Field, Router, Schema

from carte.catalogue import selectors, services
from carte.catalogue.api.common import STAFF_SERVICE_PARENT
from carte.catalogue.choices import (
    ArtefactKind,
    CompetenceLevel,
    ServiceRoleKind,
    SupplierKind,
)
from carte.catalogue.models import (
    Artefact,
    CompetenceNeed,
    Service,
    ServiceArtefact,
    ServiceCustomer,
    ServiceInput,
    ServiceOutput,
    ServiceRole,
    ServiceSymptom,
    Supplier,
    Symptom,
)
from carte.core.api import (
    CrudSpec,
    Named,
    Stamped,
    Strict,
    crud_routes,
    no_nulls,
    ref,
)
from carte.core.errors import DomainError
from carte.core.permissions import VIEW, Right
from carte.organisations.actor import Actor
from carte.organisations.models import PMO, Competence, CustomerGroup, Person

router = Router()


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


class ProcessStepOut(Stamped):
    name: str
    description: str
    performer: str
    position: int


class ProcessStepIn(Strict):
    name: str
    description: str = ""
    performer: str = Field(..., description="The role that performs it.")
    position: int | None = Field(None, ge=0)


class ProcessStepPatch(Strict):
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
    competence_id: int = Field(..., description="The competence of the framework needed.")
    competence: str = Field(..., description="Its name.")
    level: CompetenceLevel
    fte: Decimal

    @staticmethod
    def resolve_competence(obj: CompetenceNeed) -> str:
        """The competence's name (selected with the need)."""
        return obj.competence.name


_COMPETENCE_NAME = (
    "A competence of the framework by its name, in any case; or send `competence_id`. A "
    "name the framework lacks is added to it when you may add competences, refused "
    "otherwise."
)


class CompetenceIn(Strict):
    competence_id: int | None = Field(None, description="A competence of the framework.")
    competence: str | None = Field(None, description=_COMPETENCE_NAME)
    level: CompetenceLevel = CompetenceLevel.WORKING
    fte: Decimal


class CompetencePatch(Strict):
    competence_id: int | None = None
    competence: str | None = Field(None, description=_COMPETENCE_NAME)
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


def resolve_ids(
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
    return resolve_ids(actor, data, {"person_id": ("person", Person), "pmo_id": ("pmo", PMO)})


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


def _competence_data(actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    """A competence need's competence by id (of the organisation's framework) or by name
    (found, or recorded by the service with the need: `_competence_by_name`, which also
    refuses an empty one, so that its error names `competence` on every route)."""
    no_nulls(data, ("competence_id", "level", "fte"))
    competence_id = data.pop("competence_id", None)
    if competence_id is not None and "competence" in data:
        raise DomainError.field(
            "competence_id", "Send either competence_id or competence, not both."
        )
    if competence_id is not None:
        data["competence"] = ref(actor, Competence, competence_id, "competence_id")
    elif "competence" in data:
        data["competence_name"] = data.pop("competence")
    return data


def _competence_create_data(actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    """As `_competence_data`, and one of the two is required."""
    if "competence_id" not in data and "competence" not in data:
        raise DomainError.field("competence_id", "Send a competence_id or a competence (its name).")
    return _competence_data(actor, data)


def _symptom_create_data(actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    """As `_symptom_data`, and one of the two is required."""
    if data.get("symptom_id") is None and data.get("statement") is None:
        raise DomainError.field("symptom_id", "Send a symptom_id or a statement.")
    return _symptom_data(actor, data)


def _supplier_data(actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    """Supplier ids -> person and customer group."""
    no_nulls(data, ("kind", "name", "position"))
    return resolve_ids(
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
    return resolve_ids(
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
    return resolve_ids(actor, data, {"customer_group_id": ("customer_group", CustomerGroup)})


def _artefact_data(actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    """Artefact id -> artefact."""
    no_nulls(data, ("note",))
    return resolve_ids(actor, data, {"artefact_id": ("artefact", Artefact)})


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
        ProcessStepOut,
        ProcessStepIn,
        ProcessStepPatch,
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
        _competence_data,
        resolve_create=_competence_create_data,
        related=("competence",),
        # The service names the competence's field as the model does (`competence`) and a
        # name it was given as `competence_name`: the client sent them as these.
        error_fields={
            **PART_ERROR_FIELDS,
            "competence": "competence_id",
            "competence_name": "competence",
        },
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
            parent=STAFF_SERVICE_PARENT,
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
