"""The one write path for measurements: checks, all-or-nothing, corrections, refresh."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from carte.core.clock import as_of
from carte.core.errors import DomainError
from carte.core.models import AuditEntry
from carte.operations.models import Measurement, MeasurementCorrection
from carte.operations.selectors.due import reports_due
from carte.operations.services.measurements import Reading, measurement_record, measurements_record
from carte.operations.tests.conftest import Ops
from carte.operations.tests.factories import KPIFactory

MOMENT = dt.datetime(2026, 5, 10, 9, tzinfo=dt.UTC)


def test_it_records_a_value_and_moves_the_kpi_on(ops: Ops) -> None:
    kpi = KPIFactory(service=ops.service)
    with as_of(MOMENT):
        m = measurement_record(
            actor=ops.operative.actor, kpi=kpi, period="2026-04-01", value="87.5"
        )
    assert (m.rag, m.recorded_by, m.recorded_at) == ("amber", ops.operative.user, MOMENT)
    kpi.refresh_from_db()
    assert kpi.latest_period == dt.date(2026, 4, 1)
    assert kpi.latest_value == Decimal("87.5")
    assert kpi.next_period == dt.date(2026, 5, 1)
    assert kpi.next_due == dt.date(2026, 6, 5)  # 31 May + 5 days
    assert AuditEntry.objects.filter(object_id=kpi.pk, object_repr=kpi.name).exists()


@pytest.mark.parametrize(
    ("period", "value", "field", "words"),
    [
        ("2026-04-15", "90", "period", "starts on 2026-04-01"),
        ("2025-12-01", "90", "period", "reported from 2026-01-01"),
        ("2026-06-01", "90", "period", "not started"),
        ("15/04/2026", "90", "period", "YYYY-MM-DD"),
        ("2026-04-01", "ninety", "value", "not a number"),
        ("2026-04-01", "NaN", "value", "finite"),
        ("2026-04-01", "101", "value", "above 100"),
    ],
)
def test_it_refuses_bad_input_naming_the_field(
    ops: Ops, period: str, value: str, field: str, words: str
) -> None:
    kpi = KPIFactory(service=ops.service, minimum=Decimal(0), maximum=Decimal(100))
    with as_of(MOMENT), pytest.raises(DomainError) as caught:
        measurement_record(actor=ops.manager.actor, kpi=kpi, period=period, value=value)
    assert words in caught.value.errors[field][0]
    assert not Measurement.objects.exists()


def test_a_batch_is_all_or_nothing_with_a_report_row_by_row(ops: Ops) -> None:
    kpi = KPIFactory(service=ops.service)
    rows = [
        Reading(kpi, "2026-01-01", "91", row=2),
        Reading(kpi, "2026-02-01", "x", row=3),
        Reading(kpi, "2026-01-01", "92", row=4),
    ]
    with as_of(MOMENT), pytest.raises(DomainError) as caught:
        measurements_record(actor=ops.manager.actor, readings=rows)
    assert [(p["row"], p["field"]) for p in caught.value.extra["rows"]] == [
        (3, "value"),
        (4, "period"),
    ]
    assert not Measurement.objects.exists()


def test_a_duplicate_is_refused_and_a_correction_keeps_the_earlier_value(ops: Ops) -> None:
    kpi = KPIFactory(service=ops.service)
    with as_of(MOMENT):
        measurement_record(actor=ops.manager.actor, kpi=kpi, period="2026-03-01", value="70")
        with pytest.raises(DomainError, match="correct it instead"):
            measurement_record(actor=ops.manager.actor, kpi=kpi, period="2026-03-01", value="96")
        fixed = measurement_record(
            actor=ops.manager.actor,
            kpi=kpi,
            period="2026-03-01",
            value="96",
            correct=True,
            reason="Two reports were missed in the count.",
        )
    assert (fixed.value, fixed.rag) == (Decimal("96"), "green")
    earlier = MeasurementCorrection.objects.get(measurement=fixed)
    assert (earlier.value, earlier.reason) == (
        Decimal("70"),
        "Two reports were missed in the count.",
    )
    kpi.refresh_from_db()
    assert kpi.latest_rag == "green"


def test_only_the_service_team_reports_and_never_across_organisations(ops: Ops) -> None:
    kpi = KPIFactory(service=ops.service)
    for persona in (ops.staff, ops.customer, ops.viewer, ops.outsider):
        with as_of(MOMENT), pytest.raises(DomainError):
            measurement_record(actor=persona.actor, kpi=kpi, period="2026-03-01", value="90")
    assert not Measurement.objects.exists()


def test_reports_due_lists_what_each_user_reports(ops: Ops) -> None:
    by_operative = KPIFactory(service=ops.service, reporter_role="operative")
    by_manager = KPIFactory(service=ops.service, reporter_role="manager")
    other = KPIFactory(service=ops.other_service, reporter_role="manager")
    from carte.operations.services.measurements import refresh_kpis

    refresh_kpis([by_operative, by_manager, other])
    with as_of(MOMENT):
        everyone = set(reports_due(actor=ops.director.actor))
        mine = set(reports_due(actor=ops.operative.actor, user=ops.operative.user))
        managers = set(reports_due(actor=ops.manager.actor, user=ops.manager.user))
    assert everyone == {by_operative, by_manager, other}
    assert mine == {by_operative}
    assert managers == {by_manager}


def test_a_correction_marks_the_row_as_changed(ops: Ops) -> None:
    kpi = KPIFactory(service=ops.service)
    with as_of(MOMENT):
        first = measurement_record(
            actor=ops.manager.actor, kpi=kpi, period="2026-03-01", value="70"
        )
    Measurement.objects.filter(pk=first.pk).update(updated_at=MOMENT)
    with as_of(MOMENT):
        measurement_record(
            actor=ops.manager.actor, kpi=kpi, period="2026-03-01", value="96", correct=True
        )
    assert Measurement.objects.get(pk=first.pk).updated_at > MOMENT
