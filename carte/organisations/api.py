"""API endpoints for PMOs, people, customer groups and members (`/api/v1/orgs/{org}/...`).

No `from __future__ import annotations`: django-ninja reads these annotations at runtime.
"""

from typing import Any

from ninja import Field, Router, Schema

from carte.core.api import CrudSpec, Stamped, crud_routes, no_nulls, ref
from carte.core.errors import DomainError
from carte.organisations import selectors, services
from carte.organisations.actor import Actor
from carte.organisations.choices import OrgRole, PMOKind
from carte.organisations.filters import (
    CustomerGroupFilter,
    MembershipFilter,
    PersonFilter,
    PMOFilter,
)
from carte.organisations.models import PMO, CustomerGroup, Membership, Person

router = Router()


# ---------------------------------------------------------------- PMOs


class PMOOut(Stamped):
    name: str
    kind: PMOKind
    parent_id: int | None
    parent_name: str | None
    description: str
    people_count: int | None = Field(None, description="Live people attached to the PMO.")

    @staticmethod
    def resolve_parent_name(obj: PMO) -> str | None:
        return obj.parent.name if obj.parent_id and obj.parent else None

    @staticmethod
    def resolve_people_count(obj: PMO) -> int | None:
        return getattr(obj, "people_count", None)


class PMOIn(Schema):
    name: str
    kind: PMOKind = PMOKind.DEPARTMENTAL
    parent_id: int | None = None
    description: str = ""


def _resolve_pmo(actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    if "parent_id" in data:
        data["parent"] = ref(actor, PMO, data.pop("parent_id"), "parent_id")
    return no_nulls(data, ("name", "kind", "description"))


crud_routes(
    router,
    CrudSpec(
        path="pmos",
        model=PMO,
        tag="PMOs",
        noun="PMO",
        out=PMOOut,
        create_in=PMOIn,
        filters=PMOFilter,
        list_selector=selectors.pmo_list,
        get_selector=selectors.pmo_get,
        create=lambda *, actor, data: services.pmo_create(actor=actor, **data),
        update=services.pmo_update,
        archive=services.pmo_archive,
        restore=services.pmo_restore,
        obj_arg="pmo",
        resolve=_resolve_pmo,
        error_fields={"parent": "parent_id"},
    ),
)


# ---------------------------------------------------------------- customer groups


class CustomerGroupOut(Stamped):
    name: str
    description: str
    people_count: int | None = None

    @staticmethod
    def resolve_people_count(obj: CustomerGroup) -> int | None:
        return getattr(obj, "people_count", None)


class CustomerGroupIn(Schema):
    name: str
    description: str = ""


crud_routes(
    router,
    CrudSpec(
        path="customer-groups",
        model=CustomerGroup,
        tag="Customer groups",
        noun="customer group",
        out=CustomerGroupOut,
        create_in=CustomerGroupIn,
        filters=CustomerGroupFilter,
        list_selector=selectors.customer_group_list,
        get_selector=selectors.customer_group_get,
        create=lambda *, actor, data: services.customer_group_create(actor=actor, **data),
        update=services.customer_group_update,
        archive=services.customer_group_archive,
        restore=services.customer_group_restore,
        obj_arg="customer_group",
        resolve=lambda actor, data: no_nulls(data, ("name", "description")),
    ),
)


# ---------------------------------------------------------------- people


class PersonOut(Stamped):
    name: str
    email: str
    job_title: str
    pmo_id: int | None
    pmo_name: str | None
    provider: str
    customer_group_id: int | None
    customer_group_name: str | None
    user_email: str | None = Field(None, description="The login linked to this person, if any.")

    @staticmethod
    def resolve_pmo_name(obj: Person) -> str | None:
        return obj.pmo.name if obj.pmo_id and obj.pmo else None

    @staticmethod
    def resolve_customer_group_name(obj: Person) -> str | None:
        return obj.customer_group.name if obj.customer_group_id and obj.customer_group else None

    @staticmethod
    def resolve_user_email(obj: Person) -> str | None:
        return obj.user.email if obj.user_id and obj.user else None


class PersonIn(Schema):
    name: str
    email: str
    job_title: str = ""
    pmo_id: int | None = None
    provider: str = ""
    customer_group_id: int | None = None
    user_email: str | None = Field(None, description="Link to the login of a member.")


def _resolve_person(actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    if "pmo_id" in data:
        data["pmo"] = ref(actor, PMO, data.pop("pmo_id"), "pmo_id")
    if "customer_group_id" in data:
        data["customer_group"] = ref(
            actor, CustomerGroup, data.pop("customer_group_id"), "customer_group_id"
        )
    if "user_email" in data:
        email = data.pop("user_email")
        user = None
        if email:
            user = selectors.member_user_choices(actor=actor).filter(email__iexact=email).first()
            if user is None:
                raise DomainError.field(
                    "user_email", "No member of this organisation has that e-mail."
                )
        data["user"] = user
    return no_nulls(data, ("name", "email", "job_title", "provider"))


crud_routes(
    router,
    CrudSpec(
        path="people",
        model=Person,
        tag="People",
        noun="person",
        plural="people",
        out=PersonOut,
        create_in=PersonIn,
        filters=PersonFilter,
        list_selector=selectors.person_list,
        get_selector=selectors.person_get,
        create=lambda *, actor, data: services.person_create(actor=actor, **data),
        update=services.person_update,
        archive=services.person_archive,
        restore=services.person_restore,
        obj_arg="person",
        resolve=_resolve_person,
        error_fields={"pmo": "pmo_id", "customer_group": "customer_group_id", "user": "user_email"},
    ),
)


# ---------------------------------------------------------------- members


class MemberOut(Stamped):
    email: str
    full_name: str
    roles: list[OrgRole]

    @staticmethod
    def resolve_email(obj: Membership) -> str:
        return obj.user.email

    @staticmethod
    def resolve_full_name(obj: Membership) -> str:
        return obj.user.full_name

    @staticmethod
    def resolve_roles(obj: Membership) -> list[str]:
        return obj.role_list


class MemberIn(Schema):
    email: str
    full_name: str = ""
    roles: list[OrgRole]


class MemberPatch(Schema):
    roles: list[OrgRole]


crud_routes(
    router,
    CrudSpec(
        path="members",
        model=Membership,
        tag="Members",
        noun="member",
        out=MemberOut,
        create_in=MemberIn,
        update_in=MemberPatch,
        filters=MembershipFilter,
        list_selector=selectors.membership_list,
        get_selector=selectors.membership_get,
        create=lambda *, actor, data: services.membership_create(actor=actor, **data),
        update=lambda *, actor, membership, data: services.membership_update(
            actor=actor, membership=membership, roles=data["roles"]
        ),
        archive=services.membership_archive,
        restore=services.membership_restore,
        obj_arg="membership",
    ),
)
