"""API endpoints for PMOs, people, customer groups and members (`/api/v1/orgs/{org}/...`).

No `from __future__ import annotations`: django-ninja reads these annotations at runtime.
"""

from typing import Any, Literal

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from ninja import Field, File, Router, Schema
from ninja.files import UploadedFile
from ninja.params.functions import Query as QueryParam

from carte.core.api import CrudSpec, Stamped, crud_routes, no_nulls, ref
from carte.core.errors import DomainError
from carte.core.jobs import check_file_size
from carte.core.jobs.api import PROBLEM_CONTENT, wants_dry_run
from carte.core.permissions import ADD, CHANGE, require
from carte.organisations import framework, selectors, services
from carte.organisations.access import api_actor
from carte.organisations.actor import Actor
from carte.organisations.choices import OrgRole, PMOKind
from carte.organisations.filters import (
    CompetenceFilter,
    CustomerGroupFilter,
    MembershipFilter,
    PersonFilter,
    PMOFilter,
)
from carte.organisations.models import PMO, Competence, CustomerGroup, Membership, Person

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


# ---------------------------------------------------------------- competence framework

COMPETENCES = "/orgs/{org}/competences"
COMPETENCE_TAG = "Competences"
_LEVEL_HELP = "What this level means for the competence, in words."


class FrameworkCompetenceOut(Stamped):
    name: str
    group: str
    description: str
    level_1: str = Field(..., description="Awareness: " + _LEVEL_HELP)
    level_2: str = Field(..., description="Working knowledge: " + _LEVEL_HELP)
    level_3: str = Field(..., description="Practitioner: " + _LEVEL_HELP)
    level_4: str = Field(..., description="Expert: " + _LEVEL_HELP)
    level_5: str = Field(..., description="Authority: " + _LEVEL_HELP)


class FrameworkCompetenceIn(Schema):
    name: str
    group: str = ""
    description: str = ""
    level_1: str = Field("", description="Awareness: " + _LEVEL_HELP)
    level_2: str = Field("", description="Working knowledge: " + _LEVEL_HELP)
    level_3: str = Field("", description="Practitioner: " + _LEVEL_HELP)
    level_4: str = Field("", description="Expert: " + _LEVEL_HELP)
    level_5: str = Field("", description="Authority: " + _LEVEL_HELP)


# Before the CRUD routes: `export` and `import` are not ids.
_FILE_CONTENT = {
    framework.FORMATS["xlsx"]: {"schema": {"type": "string", "format": "binary"}},
    framework.FORMATS["yaml"]: {
        "schema": {"type": "string", "description": "A list of competences, in YAML."}
    },
}


@router.get(
    COMPETENCES + "/export",
    tags=[COMPETENCE_TAG],
    summary="Export the competence framework",
    operation_id="competences_export",
    openapi_extra={
        "responses": {
            200: {"description": "The framework file.", "content": _FILE_CONTENT},
            403: {
                "description": "Customers may not see the framework.",
                "content": PROBLEM_CONTENT,
            },
        }
    },
)
def competences_export(
    request: HttpRequest,
    org: str,
    fmt: Literal["xlsx", "yaml"] = QueryParam("xlsx", alias="format", description="xlsx or yaml."),
) -> HttpResponseBase:
    """The live framework as a file, one row per competence (name, group, description and
    the five levels), named `<org>-competences-<date>.<ext>`; the import reads it back."""
    return framework.export_response(api_actor(request, org), fmt)


class FrameworkImportOut(Schema):
    """What an import of the framework did, or what a dry run would do."""

    dry_run: bool
    applied: bool = Field(..., description="True when the changes were written.")
    rows: int
    created: list[str] = Field(..., description="The competences added, by name.")
    updated: list[str] = Field(..., description="The competences changed, by name.")
    unchanged: int


@router.post(
    COMPETENCES + "/import",
    response={200: FrameworkImportOut},
    tags=[COMPETENCE_TAG],
    summary="Import the competence framework from an .xlsx or YAML file",
    operation_id="competences_import",
    openapi_extra={
        "responses": {
            413: {"description": "The file is too large.", "content": PROBLEM_CONTENT},
            422: {
                "description": "The file has problems: `problems`, each {row, column, message}; "
                "nothing was written.",
                "content": PROBLEM_CONTENT,
            },
        }
    },
)
def competences_import(
    request: HttpRequest,
    org: str,
    file: File[UploadedFile],
    dry_run: bool = False,
) -> Any:
    """A multipart `file` (.xlsx or .yaml, as the export writes it). Competences are matched
    by name (any case) and updated, the others added; all or nothing. With `dry_run`
    (query or form field): check and report, write nothing. Needs the right to shape the
    framework (Director, PMO Managers, admins)."""
    actor = api_actor(request, org)
    require(actor, ADD, Competence)  # before the file is read
    require(actor, CHANGE, Competence)
    check_file_size(file, framework.MAX_BYTES, framework.TOO_LARGE)
    report = framework.import_framework(
        actor=actor,
        source=file,
        name=file.name or "",
        dry_run=wants_dry_run(request, dry_run),
    )
    if not report.ok:
        raise report.error()
    return report.data()


crud_routes(
    router,
    CrudSpec(
        path="competences",
        model=Competence,
        tag=COMPETENCE_TAG,
        noun="competence",
        out=FrameworkCompetenceOut,
        create_in=FrameworkCompetenceIn,
        filters=CompetenceFilter,
        list_selector=selectors.competence_list,
        get_selector=selectors.competence_get,
        create=services.competence_create,
        update=services.competence_update,
        archive=services.competence_archive,
        restore=services.competence_restore,
        obj_arg="competence",
        resolve=lambda actor, data: no_nulls(data, tuple(services.COMPETENCE_FIELDS)),
    ),
)
