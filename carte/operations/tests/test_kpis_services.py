"""KPI services: define, change (thresholds restate the RAG, due dates move), archive and
restore; the checks on thresholds, range and history; who may do what; the charts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from carte.core.clock import as_of
from carte.core.errors import DomainError
from carte.core.models import AuditEntry
from carte.core.testing import no_writes
from carte.operations import charts
from carte.operations.models import KPI, Measurement
from carte.operations.services.kpis import kpi_archive, kpi_create, kpi_restore, kpi_update
from carte.operations.services.measurements import Reading, measurements_record
from carte.operations.tests.conftest import Ops
from carte.operations.tests.factories import KPIFactory

MOMENT = dt.datetime(2026, 5, 10, 9, tzinfo=dt.UTC)


def data(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": "Status reports on time",
        "definition": "Share of programme status reports delivered by the monthly cut-off.",
        "unit": "%",
        "direction": "higher",
        "target": Decimal("95"),
        "amber": Decimal("90"),
        "red": Decimal("80"),
        "frequency": "monthly",
        "reporting_from": dt.date(2026, 1, 1),
        "reporter_role": "manager",
        "outcome": "Portfolio decisions rest on current information.",
    }
    values.update(overrides)
    return values


def test_it_defines_a_kpi_with_a_percent_range_and_its_first_due_report(ops: Ops) -> None:
    with as_of(MOMENT):
        kpi = kpi_create(actor=ops.manager.actor, service=ops.service, data=data())
    kpi.refresh_from_db()
    assert (kpi.minimum, kpi.maximum) == (Decimal(0), Decimal(100))
    assert kpi.next_period == dt.date(2026, 1, 1)
    assert kpi.next_due == dt.date(2026, 2, 5)
    assert AuditEntry.objects.filter(object_id=kpi.pk, action="create").exists()


def test_a_given_range_is_kept_for_a_percentage(ops: Ops) -> None:
    kpi = kpi_create(
        actor=ops.owner.actor,
        service=ops.service,
        data=data(minimum=Decimal(50), maximum=Decimal(100)),
    )
    assert kpi.minimum == Decimal(50)


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"amber": Decimal("97")}, "amber", "worse side"),
        ({"direction": "lower"}, "amber", "worse side"),
        ({"minimum": Decimal(100), "maximum": Decimal(10)}, "minimum", "below the highest"),
        ({"name": ""}, "name", "blank"),
        ({"grace_days": 120}, "grace_days", "less than or equal"),
    ],
)
def test_it_refuses_bad_definitions_naming_the_field(
    ops: Ops, overrides: dict[str, Any], field: str, words: str
) -> None:
    with no_writes(ops.service), pytest.raises(DomainError) as caught:
        kpi_create(actor=ops.manager.actor, service=ops.service, data=data(**overrides))
    assert any(words in m for m in caught.value.errors[field]), caught.value.errors
    assert not KPI.objects.exists()


def test_a_duplicate_name_is_refused(ops: Ops) -> None:
    kpi_create(actor=ops.manager.actor, service=ops.service, data=data())
    with pytest.raises(DomainError) as caught:
        kpi_create(
            actor=ops.manager.actor, service=ops.service, data=data(name="status REPORTS on time")
        )
    assert "name" in caught.value.errors
    assert KPI.objects.count() == 1


def test_an_unknown_field_is_refused(ops: Ops) -> None:
    with pytest.raises(DomainError) as caught:
        kpi_create(actor=ops.manager.actor, service=ops.service, data=data(latest_rag="green"))
    assert "latest_rag" in caught.value.errors


@pytest.mark.parametrize("who", ["staff", "customer", "viewer", "operative", "outsider"])
def test_only_the_services_leads_define_kpis(ops: Ops, who: str) -> None:
    with pytest.raises(DomainError) as caught:
        kpi_create(actor=getattr(ops, who).actor, service=ops.service, data=data())
    assert caught.value.code in ("forbidden", "invalid")
    assert not KPI.objects.exists()


def test_a_manager_cannot_define_kpis_of_a_service_they_do_not_manage(ops: Ops) -> None:
    with pytest.raises(DomainError) as caught:
        kpi_create(actor=ops.manager.actor, service=ops.other_service, data=data())
    assert caught.value.code == "forbidden"
    kpi_create(actor=ops.pmo_manager.actor, service=ops.other_service, data=data())


def _with_values(ops: Ops, *values: str) -> KPI:
    kpi = KPIFactory(service=ops.service)
    with as_of(MOMENT):
        measurements_record(
            actor=ops.manager.actor,
            readings=[
                Reading(kpi, dt.date(2026, month, 1), v, row=month)
                for month, v in enumerate(values, start=1)
            ],
        )
    kpi.refresh_from_db()
    return kpi


def test_new_thresholds_restate_the_rag_of_every_value_recorded(ops: Ops) -> None:
    kpi = _with_values(ops, "96", "88", "85", "70")
    assert list(kpi.measurements.order_by("period").values_list("rag", flat=True)) == [
        "green",
        "amber",
        "amber",
        "red",
    ]
    with as_of(MOMENT):
        kpi_update(
            actor=ops.manager.actor,
            kpi=kpi,
            data={"target": Decimal(90), "amber": Decimal(85), "red": Decimal(75)},
        )
    assert list(kpi.measurements.order_by("period").values_list("rag", flat=True)) == [
        "green",
        "green",
        "green",
        "red",
    ]
    kpi.refresh_from_db()
    assert kpi.latest_rag == "red"
    with as_of(MOMENT):
        kpi_update(
            actor=ops.manager.actor,
            kpi=kpi,
            data={
                "direction": "lower",
                "target": Decimal(75),
                "amber": Decimal(85),
                "red": Decimal(95),
            },
        )
    assert list(kpi.measurements.order_by("period").values_list("rag", flat=True)) == [
        "red",
        "amber",
        "green",
        "green",
    ]  # 96 > 95 red; 88 past 85 amber; 85 and 70 green
    kpi.refresh_from_db()
    assert kpi.latest_rag == "green"
    changes = AuditEntry.objects.filter(
        object_id=kpi.pk, object_repr=kpi.name, action="update"
    ).values_list("changes", flat=True)
    assert any("direction" in c for c in changes)


def test_restating_the_rag_takes_one_update_per_band(ops: Ops) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    kpi = _with_values(ops, "96", "88", "85", "70")
    with CaptureQueriesContext(connection) as ctx:
        kpi_update(actor=ops.manager.actor, kpi=kpi, data={"amber": Decimal(86)})
    updates = [
        q["sql"]
        for q in ctx.captured_queries
        if q["sql"].startswith("UPDATE") and "operations_measurement" in q["sql"]
    ]
    assert len(updates) == 3


def test_a_new_frequency_or_grace_moves_the_next_due_report(ops: Ops) -> None:
    kpi = _with_values(ops, "96", "88", "85")
    assert kpi.next_due == dt.date(2026, 5, 5)
    with as_of(MOMENT):
        kpi_update(actor=ops.manager.actor, kpi=kpi, data={"grace_days": 10})
    kpi.refresh_from_db()
    assert kpi.next_due == dt.date(2026, 5, 10)


def test_a_change_the_recorded_values_do_not_fit_is_refused(ops: Ops) -> None:
    kpi = _with_values(ops, "96", "88", "85")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"frequency": "quarterly"}, "frequency"),
        ({"reporting_from": dt.date(2026, 3, 1)}, "reporting_from"),
        ({"minimum": Decimal(90)}, "minimum"),
        ({"amber": Decimal(99)}, "amber"),
    ]
    for change, field in cases:
        with no_writes(kpi), pytest.raises(DomainError) as caught:
            kpi_update(actor=ops.manager.actor, kpi=kpi, data=change)
        assert field in caught.value.errors, (change, caught.value.errors)
    assert list(kpi.measurements.values_list("rag", flat=True).order_by("period")) == [
        "green",
        "amber",
        "amber",
    ]


def test_staff_without_a_role_cannot_change_a_kpi(ops: Ops) -> None:
    kpi = KPIFactory(service=ops.service)
    for who in (ops.staff, ops.operative, ops.viewer):
        with no_writes(kpi), pytest.raises(DomainError):
            kpi_update(actor=who.actor, kpi=kpi, data={"name": "Hijacked"})


def test_it_archives_and_restores_a_kpi(ops: Ops) -> None:
    kpi = kpi_create(actor=ops.manager.actor, service=ops.service, data=data())
    kpi_archive(actor=ops.manager.actor, kpi=kpi)
    assert kpi.archived_at is not None
    again = kpi_create(actor=ops.manager.actor, service=ops.service, data=data())
    with pytest.raises(DomainError) as caught:
        kpi_restore(actor=ops.manager.actor, kpi=kpi)
    assert "name" in caught.value.errors
    kpi_archive(actor=ops.manager.actor, kpi=again)
    kpi_restore(actor=ops.manager.actor, kpi=kpi)
    kpi.refresh_from_db()
    assert kpi.archived_at is None
    with pytest.raises(DomainError):
        kpi_archive(actor=ops.operative.actor, kpi=kpi)


def test_an_operative_reports_but_staff_customers_and_viewers_do_not(ops: Ops) -> None:
    kpi = KPIFactory(service=ops.service)
    with as_of(MOMENT):
        measurements_record(
            actor=ops.operative.actor, readings=[Reading(kpi, "2026-04-01", "93", row=1)]
        )
        for who in (ops.staff, ops.customer, ops.viewer):
            with pytest.raises(DomainError):
                measurements_record(
                    actor=who.actor, readings=[Reading(kpi, "2026-03-01", "93", row=1)]
                )
    assert Measurement.objects.count() == 1


# ---------------------------------------------------------------- charts


def test_a_sparkline_is_a_labelled_image_with_gaps_and_rag_shapes() -> None:
    svg = str(charts.sparkline([90, None, 85, 70], ["green", "", "amber", "red"], label="On time"))
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert "On time: 90, no value, 85, 70" in svg
    assert "<rect" in svg and "<polygon" in svg  # red square, amber diamond
    assert "style=" not in svg and "<script" not in svg
    assert "no values" in str(charts.sparkline([]))


def test_a_trend_chart_draws_target_and_thresholds_and_escapes_text() -> None:
    points = [charts.Point("Jan 2026", Decimal(96), "green"), charts.Point("Feb", None)]
    svg = str(
        charts.trend_chart(
            points, target=95, amber=90, red=80, title="<b>On time</b>", unit="%", chart_id="t"
        )
    )
    for text in ("Target 95%", "Amber 90%", "Red 80%", "&lt;b&gt;On time&lt;/b&gt;", "Jan 2026"):
        assert text in svg, text
    assert 'aria-labelledby="t-title t-desc"' in svg
    assert "<b>" not in svg and "style=" not in svg
