"""The capacity lists' filters, shared by the pages and the API: each reads from a page's
query string (`FromQuery`) or is declared as the API's query parameters."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from django.db.models import Q
from ninja import Field
from pydantic import field_validator

from carte.capacity.choices import AllocationKind
from carte.capacity.months import parse_month
from carte.core.listing import ListFilter


class AllocationFilter(ListFilter):
    """Allocations: by person, service, kind, the month they cover, words in the person's
    name, the service or the work."""

    q: str | None = Field(None, description="Words in the person's name, the service or the work.")
    person: int | None = Field(None, description="One person (id).")
    service: int | None = Field(None, description="One service (id).")
    kind: AllocationKind | None = Field(None, description="service, project, bau, training, other.")
    month: str | None = Field(None, description="Allocations covering this month, YYYY-MM.")
    ordering: str | None = Field(
        None, description="person (the default), start, fte (prefix '-' for descending)."
    )

    ORDERING: ClassVar[dict[str, str]] = {
        "person": "person__name",
        "start": "starts_on",
        "fte": "fte",
    }

    @field_validator("month")
    @classmethod
    def _a_month(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                if len(value.strip()) != 7:
                    raise ValueError(value)
                parse_month(value)
            except ValueError:
                raise ValueError("Give a month as YYYY-MM, such as 2027-01.") from None
        return value

    def the_month(self) -> dt.date | None:
        return parse_month(self.month) if self.month else None

    def filter_q(self, value: str | None) -> Q:
        if not value:
            return Q()
        return (
            Q(person__name__icontains=value)
            | Q(service__name__icontains=value)
            | Q(service__code__icontains=value)
            | Q(work__icontains=value)
        )

    def filter_person(self, value: int | None) -> Q:
        return Q(person_id=value) if value is not None else Q()

    def filter_service(self, value: int | None) -> Q:
        return Q(service_id=value) if value is not None else Q()

    def filter_month(self, value: str | None) -> Q:
        if not value:
            return Q()
        month = parse_month(value)
        return Q(starts_on__lte=month, ends_on__gte=month)


class AssessmentFilter(ListFilter):
    """A person's assessments, history included: by competence; newest first within each
    competence by default."""

    competence: int | None = Field(None, description="One competence (id).")
    ordering: str | None = Field(
        None, description="competence (the default: then newest first), assessed_on."
    )

    ORDERING: ClassVar[dict[str, str]] = {
        "competence": "competence__name",
        "assessed_on": "assessed_on",
    }

    def filter_competence(self, value: int | None) -> Q:
        return Q(competence_id=value) if value is not None else Q()

    def order_by(self) -> list[str]:
        if self.ordering in (None, "competence"):
            return ["competence__name", "competence_id", "-assessed_on", "-id"]
        return super().order_by()


class ExceptionFilter(ListFilter):
    """A person's availability exceptions, first months first."""

    ordering: str | None = Field(None, description="start (the default).")

    ORDERING: ClassVar[dict[str, str]] = {"start": "starts_on"}
