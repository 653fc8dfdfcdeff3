"""Factories for capacity: competences of the framework, assessments, contracts, their
exceptions and allocations. They set up test data directly (no permission checks, no
audit); the behaviour under test always goes through the services. A record takes its
organisation from its person."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory

from carte.capacity.choices import AllocationKind, ExceptionReason
from carte.capacity.models import Allocation, Assessment, Availability, AvailabilityException
from carte.organisations.models import Competence
from carte.organisations.tests.factories import OrganisationFactory, PersonFactory

_SAME_ORG = factory.SelfAttribute("..organisation")


class CompetenceFactory(factory.django.DjangoModelFactory):
    """A competence of an organisation's framework."""

    class Meta:
        model = Competence

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Skill {n:04d}")
    group = "Delivery"


class _PersonRecord(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True

    person = factory.SubFactory(PersonFactory)
    organisation = factory.LazyAttribute(lambda o: o.person.organisation)


class AssessmentFactory(_PersonRecord):
    """An assessment by someone else (it counts), level 3, dated 1 Jan 2026."""

    class Meta:
        model = Assessment

    competence = factory.SubFactory(CompetenceFactory, organisation=_SAME_ORG)
    level = 3
    assessed_on = dt.date(2026, 1, 1)


class AvailabilityFactory(_PersonRecord):
    """A full-time contract without dates."""

    class Meta:
        model = Availability

    contracted_fte = Decimal("1.00")


class AvailabilityExceptionFactory(_PersonRecord):
    """A month of leave."""

    class Meta:
        model = AvailabilityException

    reason = ExceptionReason.LEAVE
    starts_on = dt.date(2027, 1, 1)
    ends_on = dt.date(2027, 1, 1)
    available_fte = Decimal("0.00")


class AllocationFactory(_PersonRecord):
    """Other work (a project) at half time for 2027; pass `service=` (with `kind`
    service) for time on a service."""

    class Meta:
        model = Allocation

    kind = AllocationKind.PROJECT
    work = "Project Atlas"
    fte = Decimal("0.50")
    starts_on = dt.date(2027, 1, 1)
    ends_on = dt.date(2027, 12, 1)
