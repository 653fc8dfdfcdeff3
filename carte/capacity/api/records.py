"""API of people's capacity records (`/api/v1/orgs/{org}/...`): a person's assessments
(`people/{id}/assessments`, with `confirm` for a self-assessment), their availability
(`people/{id}/availability`: the contract and the exceptions under it) and the
allocations (`allocations`).

The same rules as the pages: a person the caller may not see is 404 at every path under
them, and every write goes through `carte.capacity.services`. Ids in a payload become rows
of the caller's organisation first (`resolve_refs`): another organisation's id is a 422
naming the field.

No `from __future__ import annotations`: django-ninja reads these annotations at runtime.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from carte.capacity import services
from carte.capacity.choices import AllocationKind, ExceptionReason
from carte.capacity.filters import AllocationFilter, AssessmentFilter, ExceptionFilter
from carte.capacity.models import Allocation, Assessment, Availability, AvailabilityException
from carte.capacity.permissions import CONFIRM
from carte.capacity.selectors import records as selectors
from carte.catalogue.models import Service
from carte.core.api import (
    CrudSpec,
    Parent,
    Stamped,
    Strict,
    crud_routes,
    no_nulls,
    resolve_refs,
    step_routes,
)
from carte.core.permissions import ADD, require
from carte.organisations.access import api_actor
from carte.organisations.actor import Actor
from carte.organisations.models import Competence, Person

router = Router()

TAG = "Capacity records"
PERSON = "/orgs/{org}/people/{int:id}"


# ---------------------------------------------------------------- schemas


class CapacityPersonBrief(Schema):
    id: int
    name: str


class CompetenceBrief(Schema):
    id: int
    name: str


class CapacityServiceBrief(Schema):
    id: int
    code: str
    name: str


def _month(value: date | None) -> str | None:
    return value.strftime("%Y-%m") if value is not None else None


class AssessmentOut(Stamped):
    person: CapacityPersonBrief
    competence: CompetenceBrief
    level: int = Field(..., description="1 to 5, the framework's levels.")
    level_label: str
    assessed_on: date
    assessed_by: CapacityPersonBrief | None
    evidence: str
    self_assessed: bool
    confirmed_by: str | None = Field(None, description="Who confirmed a self-assessment.")
    confirmed_at: datetime | None
    counts: bool = Field(..., description="Whether it sets a level: by someone else, or confirmed.")

    @staticmethod
    def resolve_level_label(obj: Assessment) -> str:
        return str(obj.get_level_display())

    @staticmethod
    def resolve_confirmed_by(obj: Assessment) -> str | None:
        return str(obj.confirmed_by) if obj.confirmed_by_id else None


class AssessmentIn(Strict):
    competence: int = Field(..., description="A competence's id.")
    level: int = Field(..., description="1 to 5.")
    assessed_on: date | None = Field(None, description="Today by default.")
    evidence: str = ""
    assessed_by: int | None = Field(
        None, description="A person's id; by default the caller's own person."
    )


class ContractOut(Stamped):
    contracted_fte: Decimal
    starts_on: date | None
    leaves_on: date | None


class ContractIn(Strict):
    contracted_fte: Decimal = Field(..., description="0 to 1: the share of full time.")
    starts_on: date | None = None
    leaves_on: date | None = None


class ExceptionOut(Stamped):
    person_id: int
    reason: ExceptionReason
    reason_label: str
    starts_on: str = Field(..., description="The first month, YYYY-MM.")
    ends_on: str = Field(..., description="The last month, YYYY-MM.")
    available_fte: Decimal
    note: str

    @staticmethod
    def resolve_reason_label(obj: AvailabilityException) -> str:
        return str(obj.get_reason_display())

    @staticmethod
    def resolve_starts_on(obj: AvailabilityException) -> str:
        return obj.starts_on.strftime("%Y-%m")

    @staticmethod
    def resolve_ends_on(obj: AvailabilityException) -> str:
        return obj.ends_on.strftime("%Y-%m")


class ExceptionIn(Strict):
    reason: ExceptionReason
    starts_on: str = Field(..., description="A month, YYYY-MM (or any day of it).")
    ends_on: str = Field(..., description="A month, YYYY-MM (or any day of it).")
    available_fte: Decimal = Field(..., description="0 to 1 in those months (0: on leave).")
    note: str = ""


class MonthLoadOut(Schema):
    month: str = Field(..., description="YYYY-MM.")
    available: Decimal
    allocated: Decimal
    over_allocated: bool


class AvailabilityOut(Schema):
    person: CapacityPersonBrief
    contract: ContractOut | None = Field(
        None, description="None: no contract recorded (the person gives no capacity)."
    )
    exceptions: list[ExceptionOut]
    months: list[MonthLoadOut] = Field(
        ..., description="The next twelve months: available and allocated FTE."
    )


class AllocationOut(Stamped):
    person: CapacityPersonBrief
    kind: AllocationKind
    kind_label: str
    service: CapacityServiceBrief | None
    work: str
    competence: CompetenceBrief | None
    fte: Decimal
    starts_on: str = Field(..., description="The first month, YYYY-MM.")
    ends_on: str = Field(..., description="The last month, YYYY-MM.")
    note: str

    @staticmethod
    def resolve_kind_label(obj: Allocation) -> str:
        return str(obj.get_kind_display())

    @staticmethod
    def resolve_starts_on(obj: Allocation) -> str:
        return obj.starts_on.strftime("%Y-%m")

    @staticmethod
    def resolve_ends_on(obj: Allocation) -> str:
        return obj.ends_on.strftime("%Y-%m")


class AllocationIn(Strict):
    person: int = Field(..., description="A person's id.")
    kind: AllocationKind = AllocationKind.SERVICE
    service: int | None = Field(None, description="A service's id (for kind service).")
    work: str = Field("", description="The other work (for the other kinds).")
    competence: int | None = Field(
        None, description="A competence's id: on a service, one it needs."
    )
    fte: Decimal = Field(..., description="More than 0, at most 1, each month.")
    starts_on: str = Field(..., description="A month, YYYY-MM (or any day of it).")
    ends_on: str = Field(..., description="A month, YYYY-MM (or any day of it).")
    note: str = ""


# ---------------------------------------------------------------- assessments


def _assessment_refs(actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    return resolve_refs(actor, data, {"competence": Competence, "assessed_by": Person})


crud_routes(
    router,
    CrudSpec(
        path="assessments",
        tag=TAG,
        noun="assessment",
        out=AssessmentOut,
        create_in=AssessmentIn,
        filters=AssessmentFilter,
        list_selector=selectors.assessment_list,
        get_selector=selectors.assessment_get,
        create=services.assessment_create,
        update=services.assessment_update,
        archive=services.assessment_archive,
        restore=services.assessment_restore,
        parent=Parent("people", selectors.person_for, "person"),
        resolve=_assessment_refs,
        obj_arg="assessment",
        child="assessment_id",
        operation="person_assessments",
    ),
)

step = step_routes(
    router,
    PERSON + "/assessments/{int:assessment_id}",
    stem="person_assessments",
    tag=TAG,
    response=AssessmentOut,
)


@step("confirm", "Confirm a self-assessment (a PMO Manager)")
def confirm(request: HttpRequest, org: str, id: int, assessment_id: int) -> Any:
    actor = api_actor(request, org)
    person = selectors.person_for(actor=actor, pk=id)
    assessment = selectors.assessment_get(
        actor=actor, person=person, pk=assessment_id, action=CONFIRM
    )
    services.assessment_confirm(actor=actor, assessment=assessment)
    return selectors.assessment_get(actor=actor, person=person, pk=assessment_id)


# ---------------------------------------------------------------- availability


def _availability(actor: Actor, person: Person) -> dict[str, Any]:
    contract = selectors.contract_of(actor=actor, person=person)
    exceptions = list(selectors.exception_list(actor=actor, person=person))
    load = selectors.person_load(
        actor, person, selectors.next_months(), contract=contract, exceptions=exceptions
    )
    return {
        "person": person,
        "contract": contract,
        "exceptions": exceptions,
        "months": [
            {
                "month": m.month.strftime("%Y-%m"),
                "available": m.available,
                "allocated": m.allocated,
                "over_allocated": m.over,
            }
            for m in load.months
        ],
    }


@router.get(
    PERSON + "/availability",
    response=AvailabilityOut,
    tags=[TAG],
    summary="A person's availability: contract, exceptions, the next months' load",
    operation_id="person_availability_retrieve",
)
def availability_get(request: HttpRequest, org: str, id: int) -> Any:
    actor = api_actor(request, org)
    return _availability(actor, selectors.person_for(actor=actor, pk=id))


@router.put(
    PERSON + "/availability",
    response=AvailabilityOut,
    tags=[TAG],
    summary="Record or change a person's contract",
    operation_id="person_availability_set",
)
def availability_put(request: HttpRequest, org: str, id: int, payload: ContractIn) -> Any:
    actor = api_actor(request, org)
    person = selectors.person_for(actor=actor, pk=id)
    require(actor, ADD, Availability)  # the right first, then the body's errors
    services.availability_set(actor=actor, person=person, data=payload.model_dump())
    return _availability(actor, person)


class ContractPatch(Strict):
    contracted_fte: Decimal | None = Field(None, description="0 to 1: the share of full time.")
    starts_on: date | None = None
    leaves_on: date | None = None


@router.patch(
    PERSON + "/availability",
    response=AvailabilityOut,
    tags=[TAG],
    summary="Change some of a person's contract (the fields sent)",
    operation_id="person_availability_update",
)
def availability_patch(request: HttpRequest, org: str, id: int, payload: ContractPatch) -> Any:
    actor = api_actor(request, org)
    person = selectors.person_for(actor=actor, pk=id)
    require(actor, ADD, Availability)  # the right first, then the body's errors
    data = no_nulls(payload.model_dump(exclude_unset=True), ("contracted_fte",))
    services.availability_set(actor=actor, person=person, data=data)
    return _availability(actor, person)


crud_routes(
    router,
    CrudSpec(
        path="availability/exceptions",
        tag=TAG,
        noun="availability exception",
        out=ExceptionOut,
        create_in=ExceptionIn,
        filters=ExceptionFilter,
        list_selector=selectors.exception_list,
        get_selector=selectors.exception_get,
        create=services.exception_create,
        update=services.exception_update,
        archive=services.exception_archive,
        restore=services.exception_archive,  # not offered (verbs)
        parent=Parent("people", selectors.person_for, "person"),
        model=AvailabilityException,
        obj_arg="exception",
        child="exception_id",
        operation="person_availability_exceptions",
        verbs=frozenset({"list", "retrieve", "create", "update", "archive"}),
    ),
)


# ---------------------------------------------------------------- allocations


def _allocation_refs(actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    return resolve_refs(
        actor, data, {"person": Person, "service": Service, "competence": Competence}
    )


crud_routes(
    router,
    CrudSpec(
        path="allocations",
        tag=TAG,
        noun="allocation",
        out=AllocationOut,
        create_in=AllocationIn,
        filters=AllocationFilter,
        list_selector=selectors.allocation_list,
        get_selector=selectors.allocation_get,
        create=services.allocation_create,
        update=services.allocation_update,
        archive=services.allocation_archive,
        restore=services.allocation_restore,
        model=Allocation,
        resolve=_allocation_refs,
        obj_arg="allocation",
    ),
)
