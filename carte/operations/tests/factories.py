"""Factories for the operations records: plain rows for test set-up (the services are
what tests exercise)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from carte.catalogue.tests.factories import ServiceFactory
from carte.operations.choices import ChangeReason, Direction, Frequency, ItemKind, RaisedAs
from carte.operations.models import KPI, ChangeRequest, Measurement, RiskIssue

_SAME_ORG = factory.SelfAttribute("..organisation")


class KPIFactory(factory.django.DjangoModelFactory):
    """A monthly 'higher is better' percentage KPI: target 95, amber below 90, red below 80."""

    class Meta:
        model = KPI

    service = factory.SubFactory(ServiceFactory)
    organisation = factory.SelfAttribute("service.organisation")
    name = factory.Sequence(lambda n: f"KPI {n:04d}")
    definition = "Share of reports delivered on time."
    unit = "%"
    direction = Direction.HIGHER
    target = Decimal("95")
    amber = Decimal("90")
    red = Decimal("80")
    frequency = Frequency.MONTHLY
    reporting_from = dt.date(2026, 1, 1)


class MeasurementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Measurement

    kpi = factory.SubFactory(KPIFactory)
    organisation = factory.SelfAttribute("kpi.organisation")
    period = dt.date(2026, 1, 1)
    value = Decimal("96")
    rag = factory.LazyAttribute(lambda m: m.kpi.rag_of(Decimal(m.value)))
    recorded_at = factory.LazyFunction(timezone.now)


class RiskIssueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RiskIssue

    service = factory.SubFactory(ServiceFactory)
    organisation = factory.SelfAttribute("service.organisation")
    kind = ItemKind.RISK
    title = factory.Sequence(lambda n: f"Risk {n:04d}")
    probability = 3
    impact = 4


class ChangeRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChangeRequest

    service = factory.SubFactory(ServiceFactory)
    organisation = factory.SelfAttribute("service.organisation")
    number = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Change {n:04d}")
    description = "Add a programme view to the pack."
    raised_as = RaisedAs.MANAGER
    reason = ChangeReason.FEEDBACK
