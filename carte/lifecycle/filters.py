"""The lifecycle board's filter, read from the page's query string."""

from __future__ import annotations

from typing import ClassVar

from django.db.models import Exists, OuterRef, Q
from pydantic import Field

from carte.catalogue.choices import ServiceRoleKind, Stage
from carte.catalogue.models import ServiceRole
from carte.core.listing import ListFilter


class BoardFilter(ListFilter):
    """Which services the board shows: by delivering PMO, Owner (a person) and category;
    `stage` narrows the board to one column, shown in full."""

    q: str | None = Field(None, description="Search in code and name.")
    pmo: int | None = Field(None, description="Only services delivered by this PMO (id).")
    owner: int | None = Field(None, description="Only services this person owns (id).")
    category: int | None = Field(None, description="Only this category (id).")
    stage: Stage | None = Field(None, description="Only this stage (one column).")

    # "since": when the service entered its stage; the oldest first, as they wait longest.
    ORDERING: ClassVar[dict[str, str]] = {"since": "since", "code": "code", "name": "name"}

    def filter_q(self, value: str | None) -> Q:
        return Q() if not value else Q(code__icontains=value) | Q(name__icontains=value)

    def filter_pmo(self, value: int | None) -> Q:
        return Q() if value is None else Q(delivering_pmos__id=value)

    def filter_owner(self, value: int | None) -> Q:
        if value is None:
            return Q()
        owned = ServiceRole.objects.filter(
            service=OuterRef("pk"),
            role=ServiceRoleKind.OWNER,
            person_id=value,
            archived_at__isnull=True,
        )
        return Q(Exists(owned))

    def filter_category(self, value: int | None) -> Q:
        return Q() if value is None else Q(category_id=value)
