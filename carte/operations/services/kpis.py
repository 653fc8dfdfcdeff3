"""Writes of a service's KPIs (M-17): define, change, archive and restore them.

Values are recorded by `carte.operations.services.measurements`. A change to what a
value means (thresholds, direction) restates the stored RAG of every measurement in one
UPDATE per band; a change to when reports fall due (frequency, first period, days to
report) moves the KPI's next due report. Both keep `KPI.latest_*` and `next_*` right.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Max, Min, Q

from carte.catalogue.models import Service
from carte.core.errors import DomainError
from carte.core.permissions import ADD, ARCHIVE, CHANGE, require
from carte.core.services import (
    archive_object,
    check_same_org,
    create_object,
    restore_object,
    update_object,
    validate,
)
from carte.operations import periods
from carte.operations.choices import Direction, Frequency, Rag
from carte.operations.models import KPI, Measurement
from carte.operations.services.measurements import next_report, refresh_kpis
from carte.organisations.actor import Actor

# What a person sets on a KPI; the rest is kept by the measurement services.
KPI_FIELDS = (
    "name",
    "definition",
    "unit",
    "direction",
    "target",
    "amber",
    "red",
    "minimum",
    "maximum",
    "frequency",
    "grace_days",
    "reporter_role",
    "outcome",
    "reporting_from",
    "position",
)
RAG_FIELDS = ("direction", "target", "amber", "red")
DUE_FIELDS = ("frequency", "reporting_from", "grace_days")
PERCENT_RANGE = (Decimal(0), Decimal(100))


def _clean(data: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(data) - set(KPI_FIELDS)
    if unknown:
        name = sorted(unknown)[0]
        raise DomainError.field(name, "This field cannot be set on a KPI.")
    return dict(data)


def _percent_range(kpi: KPI) -> None:
    """A percentage runs from 0 to 100 unless its range was given."""
    if kpi.unit.strip() == "%" and kpi.minimum is None and kpi.maximum is None:
        kpi.minimum, kpi.maximum = PERCENT_RANGE


def rag_bands(kpi: KPI) -> dict[str, Q]:
    """The values of each RAG band as filters on `value` (as `KPI.rag_of` decides)."""
    if kpi.direction == Direction.HIGHER:
        return {
            Rag.GREEN: Q(value__gte=kpi.amber),
            Rag.AMBER: Q(value__lt=kpi.amber, value__gte=kpi.red),
            Rag.RED: Q(value__lt=kpi.red),
        }
    return {
        Rag.GREEN: Q(value__lte=kpi.amber),
        Rag.AMBER: Q(value__gt=kpi.amber, value__lte=kpi.red),
        Rag.RED: Q(value__gt=kpi.red),
    }


def restate_rag(kpi: KPI) -> None:
    """Set the stored RAG of every measurement of `kpi` from its current thresholds: one
    UPDATE per band, touching only the rows whose band changed."""
    for rag, band in rag_bands(kpi).items():
        Measurement.objects.filter(band, kpi=kpi).exclude(rag=rag).update(rag=rag)


def _check_history(kpi: KPI, changed: set[str]) -> None:
    """Refuse a change the recorded values would no longer fit: a range that leaves some
    out, a frequency whose periods they do not start, a first period after some."""
    if not changed & {"minimum", "maximum", "frequency", "reporting_from"}:
        return
    stored = Measurement.objects.filter(kpi=kpi)
    span = stored.aggregate(low=Min("value"), high=Max("value"), first=Min("period"))
    if span["first"] is None:
        return
    if kpi.minimum is not None and span["low"] < kpi.minimum:
        raise DomainError.field(
            "minimum", f"A recorded value ({span['low'].normalize():f}) is below this."
        )
    if kpi.maximum is not None and span["high"] > kpi.maximum:
        raise DomainError.field(
            "maximum", f"A recorded value ({span['high'].normalize():f}) is above this."
        )
    if "frequency" in changed:
        misfit = next(
            (
                p
                for p in stored.values_list("period", flat=True).order_by("period")
                if not periods.is_start(p, kpi.frequency)
            ),
            None,
        )
        if misfit is not None:
            raise DomainError.field(
                "frequency",
                f"The value recorded for {misfit.isoformat()} does not start a "
                f"{Frequency(kpi.frequency).label.lower()} period: values already recorded "
                "keep this KPI's frequency. Archive it and define a new KPI instead.",
            )
    first = periods.start_of(kpi.reporting_from, kpi.frequency)
    if span["first"] < first:
        raise DomainError.field(
            "reporting_from",
            f"Values are recorded from {span['first'].isoformat()}; the first period "
            "cannot start after them.",
        )


@transaction.atomic
def kpi_create(*, actor: Actor, service: Service, data: Mapping[str, Any]) -> KPI:
    """Define a KPI of `service` (its Owner or Manager, or the PMO's leads). A "%" unit
    runs from 0 to 100 unless a range is given; the first report falls due at once."""
    check_same_org(actor, live=True, service=service)
    kpi = KPI(service=service, organisation=actor.organisation, **_clean(data))
    require(actor, ADD, kpi)
    if "position" not in data:
        last = KPI.objects.filter(service=service).aggregate(m=Max("position"))["m"]
        kpi.position = (last or 0) + 10
    _percent_range(kpi)
    kpi.next_period, kpi.next_due = next_report(kpi, None)  # nothing reported yet
    return create_object(actor, kpi)


@transaction.atomic
def kpi_update(*, actor: Actor, kpi: KPI, data: Mapping[str, Any]) -> KPI:
    """Change a KPI's definition. New thresholds or direction restate the RAG of its
    recorded values; a new frequency, first period or days to report move its next due
    report. A change the recorded values no longer fit is refused on its field."""
    require(actor, CHANGE, kpi)
    values = _clean(data)
    before = {name: getattr(kpi, name) for name in (*RAG_FIELDS, *DUE_FIELDS)}
    probe = copy.copy(kpi)  # the change applied, checked before anything is written
    for name, value in values.items():
        setattr(probe, name, value)
    _percent_range(probe)
    values.update(minimum=probe.minimum, maximum=probe.maximum)
    changed = {
        n for n in ("minimum", "maximum", *DUE_FIELDS) if getattr(probe, n) != getattr(kpi, n)
    }
    validate(probe)  # the model's own checks first, so each is reported on its field
    _check_history(probe, changed)
    update_object(actor, kpi, values)
    moved = {n for n, v in before.items() if getattr(kpi, n) != v}
    if moved & set(RAG_FIELDS):
        restate_rag(kpi)
    if moved:
        refresh_kpis([kpi])
    return kpi


@transaction.atomic
def kpi_archive(*, actor: Actor, kpi: KPI) -> KPI:
    """Stop reporting a KPI; it and its values are kept."""
    require(actor, ARCHIVE, kpi)
    return archive_object(actor, kpi)


@transaction.atomic
def kpi_restore(*, actor: Actor, kpi: KPI) -> KPI:
    """Report an archived KPI again (refused if its name has been taken meanwhile)."""
    require(actor, ARCHIVE, kpi)
    return restore_object(actor, kpi)  # its values and due dates did not move meanwhile
