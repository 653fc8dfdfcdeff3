"""List filters of the catalogue, shared by the menu page and the API."""

from __future__ import annotations

from typing import ClassVar

from django.db.models import Exists, OuterRef, Q
from pydantic import Field

from carte.catalogue.choices import DeliveryMode, PricingBasis, Scope, Stage
from carte.catalogue.models import ServiceCustomer, ServiceVersion
from carte.core.fields import has_choice
from carte.core.listing import ListFilter


class CategoryFilter(ListFilter):
    q: str | None = Field(None, description="Search in name and description.")

    ORDERING: ClassVar[dict[str, str]] = {"position": "position", "name": "name"}

    def filter_q(self, value: str | None) -> Q:
        return Q() if not value else Q(name__icontains=value) | Q(description__icontains=value)


class ServiceFilter(ListFilter):
    q: str | None = Field(
        None,
        description=(
            "Words to search for in code, name, summary, description, outputs and symptoms:"
            " services matching any of them (in any form: 'overrunning' finds 'overruns'),"
            " best match first unless an ordering is given."
        ),
    )
    category: int | None = Field(None, description="Only this category (id).")
    customer_group: int | None = Field(None, description="Only services for this customer group.")
    scope: Scope | None = None
    stage: Stage | None = None
    delivery_mode: DeliveryMode | None = None
    pmo: int | None = Field(None, description="Only services delivered by this PMO (id).")
    pricing_basis: PricingBasis | None = None

    ORDERING: ClassVar[dict[str, str]] = {
        "code": "code",
        "name": "name",
        "category": "category__position",
        "stage": "stage",
        "updated": "updated_at",
    }

    def filter_q(self, value: str | None) -> Q:
        # The words are not matched in SQL: the selectors rank the services the other
        # filters let through on their text (`catalogue.search`), for staff the live
        # rows', for customers the published versions' (`PublishedServiceFilter`).
        return Q()

    def filter_customer_group(self, value: int | None) -> Q:
        if value is None:
            return Q()
        links = ServiceCustomer.objects.filter(
            service=OuterRef("pk"), customer_group_id=value, archived_at__isnull=True
        )
        return Q(Exists(links))

    def filter_scope(self, value: str | None) -> Q:
        return Q() if value is None else has_choice("scopes", value)

    def filter_pmo(self, value: int | None) -> Q:
        return Q() if value is None else Q(delivering_pmos__id=value)


class PublishedServiceFilter(ServiceFilter):
    """The services filter for a customer, who sees each service as last published: every
    filter and sort key reads the current version, never the live row, so a draft's words
    or facets cannot be probed (the words are searched in the version's `search_text`, see
    `catalogue.search.published_texts`). Made from the filter the caller gave (`published()`).
    """

    ORDERING: ClassVar[dict[str, str]] = {
        "code": "current_version__snapshot__service__code",
        "name": "current_version__snapshot__service__name",
        "category": "current_version__category__position",
        "stage": "stage",
        "updated": "current_version__published_at",
    }

    @classmethod
    def published(cls, filters: ServiceFilter) -> PublishedServiceFilter:
        return cls.model_validate(filters.model_dump())

    def filter_category(self, value: int | None) -> Q:
        return Q() if value is None else Q(current_version__category_id=value)

    def filter_customer_group(self, value: int | None) -> Q:
        if value is None:
            return Q()
        links = ServiceVersion.customer_groups.through.objects.filter(
            serviceversion_id=OuterRef("current_version_id"), customergroup_id=value
        )
        return Q(Exists(links))

    def filter_scope(self, value: str | None) -> Q:
        return Q() if value is None else has_choice("current_version__scopes", value)

    def filter_delivery_mode(self, value: str | None) -> Q:
        return Q() if value is None else Q(current_version__delivery_mode=value)

    def filter_pricing_basis(self, value: str | None) -> Q:
        return Q() if value is None else Q(current_version__pricing_basis=value)

    def filter_pmo(self, value: int | None) -> Q:
        if value is None:
            return Q()
        links = ServiceVersion.delivering_pmos.through.objects.filter(
            serviceversion_id=OuterRef("current_version_id"), pmo_id=value
        )
        return Q(Exists(links))
