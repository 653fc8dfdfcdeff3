"""List filters for the organisations app, shared by pages and the API."""

from __future__ import annotations

from typing import Annotated, ClassVar

from django.db.models import Q
from ninja import FilterLookup
from pydantic import Field

from carte.core.listing import ListFilter
from carte.organisations.choices import OrgRole, PMOKind


class PMOFilter(ListFilter):
    q: Annotated[str | None, FilterLookup(["name__icontains", "description__icontains"])] = Field(
        None, description="Search in name and description."
    )
    kind: PMOKind | None = None
    parent: int | None = Field(None, description="Only PMOs under this parent PMO (id).")

    ORDERING: ClassVar[dict[str, str]] = {
        "name": "name",
        "kind": "kind",
        "parent": "parent__name",
        "people": "people_count",
        "updated": "updated_at",
    }


class PersonFilter(ListFilter):
    q: Annotated[
        str | None, FilterLookup(["name__icontains", "email__icontains", "job_title__icontains"])
    ] = Field(None, description="Search in name, e-mail and job title.")
    pmo: int | None = Field(None, description="Only people of this PMO (id).")
    customer_group: int | None = Field(None, description="Only people of this customer group (id).")
    provider: Annotated[str | None, FilterLookup("provider__icontains")] = Field(
        None, description="External provider name contains."
    )
    has_login: bool | None = None

    ORDERING: ClassVar[dict[str, str]] = {
        "name": "name",
        "email": "email",
        "job_title": "job_title",
        "pmo": "pmo__name",
        "provider": "provider",
        "updated": "updated_at",
    }

    def filter_has_login(self, value: bool | None) -> Q:
        return Q() if value is None else Q(user__isnull=not value)


class CustomerGroupFilter(ListFilter):
    q: Annotated[str | None, FilterLookup(["name__icontains", "description__icontains"])] = Field(
        None, description="Search in name and description."
    )

    ORDERING: ClassVar[dict[str, str]] = {
        "name": "name",
        "people": "people_count",
        "updated": "updated_at",
    }


class CompetenceFilter(ListFilter):
    """The competence framework's list: words in its name, group or description, and one
    group (whatever its case)."""

    q: Annotated[
        str | None,
        FilterLookup(["name__icontains", "group__icontains", "description__icontains"]),
    ] = Field(None, description="Search in name, group and description.")
    group: Annotated[str | None, FilterLookup("group__iexact")] = Field(
        None, description="Only competences of this group (its name, any case)."
    )

    ORDERING: ClassVar[dict[str, str]] = {
        "group": "group",
        "name": "name",
        "updated": "updated_at",
    }

    def order_by(self) -> list[str]:
        # By group, then name within it: the framework reads as its families.
        ordering = super().order_by()
        if not self.ordering or self.ordering.removeprefix("-") == "group":
            sign = "-" if (self.ordering or "").startswith("-") else ""
            return [ordering[0], f"{sign}name", f"{sign}id"]
        return ordering


class MembershipFilter(ListFilter):
    q: Annotated[
        str | None, FilterLookup(["user__email__icontains", "user__full_name__icontains"])
    ] = Field(None, description="Search in e-mail and name.")
    role: OrgRole | None = Field(None, description="Only members holding this role.")

    ORDERING: ClassVar[dict[str, str]] = {
        "email": "user__email",
        "name": "user__full_name",
        "joined": "created_at",
    }

    def filter_role(self, value: str | None) -> Q:
        return Q() if value is None else Q(roles__role=value)


class AuditFilter(ListFilter):
    """Filters of the organisation's activity page."""

    q: Annotated[str | None, FilterLookup(["object_repr__icontains", "actor_label__icontains"])] = (
        Field(None, description="Search in object names and actors.")
    )
    action: str | None = None
    model: str | None = Field(None, description="Only this kind of object, e.g. 'person'.")
    actor: Annotated[str | None, FilterLookup("actor_label__icontains")] = None

    ORDERING: ClassVar[dict[str, str]] = {"-at": "-at"}

    def filter_status(self, value: str) -> Q:
        return Q()  # audit entries are never archived

    def filter_model(self, value: str | None) -> Q:
        return Q() if not value else Q(content_type__model=value)

    def order_by(self) -> list[str]:
        return ["-at", "-id"]
