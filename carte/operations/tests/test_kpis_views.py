"""KPI pages: the Operations tab's KPI section, a KPI's page (trend, values, corrections),
its forms, "My reports due", the organisation's reports-due list. Refusals shown next to
the field with nothing written and what was typed kept; rights; another organisation's
404 on every page; the same number of queries at two data sizes."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from carte.catalogue.tests.factories import ServiceFactory
from carte.conftest import Persona
from carte.core.clock import as_of
from carte.core.models import Job
from carte.core.testing import assert_constant_queries, no_writes
from carte.operations import tasks
from carte.operations.models import KPI, Measurement, MeasurementCorrection
from carte.operations.selectors.kpis import latest_values, section
from carte.operations.services.measurements import Reading, measurements_record, refresh_kpis
from carte.operations.tests.conftest import Ops
from carte.operations.tests.factories import KPIFactory
from carte.operations.views import kpis as kpi_views

MOMENT = dt.datetime(2026, 5, 10, 9, tzinfo=dt.UTC)


def html(response: Any) -> str:
    return str(response.content.decode())


def field_error(response: Any, name: str) -> str | None:
    match = re.search(
        rf'<div class="invalid-feedback[^"]*" id="id_{re.escape(name)}_error"[^>]*>([^<]*)</div>',
        html(response),
    )
    return match.group(1).strip() if match else None


def url(name: str, ops: Ops, *args: Any) -> str:
    return reverse(f"operations:{name}", args=[ops.org.slug, ops.service.pk, *args])


def org_url(name: str, ops: Ops) -> str:
    return reverse(f"operations:{name}", args=[ops.org.slug])


def kpi_with_history(ops: Ops, service: Any = None, months: int = 4, **kw: Any) -> KPI:
    kpi = KPIFactory(service=service or ops.service, **kw)
    if months:
        with as_of(MOMENT):
            measurements_record(
                actor=ops.system,
                readings=[
                    Reading(kpi, dt.date(2026, m, 1), str(70 + 7 * m), "", row=m)
                    for m in range(1, months + 1)
                ],
            )
    else:
        refresh_kpis([kpi])
    kpi.refresh_from_db()
    return kpi


def kpi_post(**overrides: Any) -> dict[str, Any]:
    values = {
        "name": "Gate reviews held on the planned date",
        "definition": "Stage-gate reviews held within two working days of the plan.",
        "outcome": "Investment decisions are taken on time.",
        "unit": "%",
        "direction": "higher",
        "target": "90",
        "amber": "80",
        "red": "70",
        "minimum": "",
        "maximum": "",
        "frequency": "monthly",
        "reporting_from": "2026-01-01",
        "grace_days": "5",
        "reporter_role": "manager",
    }
    values.update(overrides)
    return values


# ---------------------------------------------------------------- the section


def test_the_section_lists_kpis_with_rag_sparkline_and_overdue(ops: Ops) -> None:
    kpi = kpi_with_history(ops)
    with as_of(MOMENT):
        data = section(ops.manager.actor, ops.service)
        page = render_to_string(
            "operations/_section_kpis.html",
            {"section": data, "service": ops.service, "current_org": ops.org},
        )
    assert data["can_add"] is True
    row = data["rows"][0]
    assert row.kpi == kpi and row.can_report and not row.overdue
    assert "<svg" in page and kpi.name in page and "Define a KPI" in page
    assert "98" in page and "Green" in page  # April: 70 + 28
    with as_of(dt.datetime(2026, 7, 1, tzinfo=dt.UTC)):
        late = section(ops.manager.actor, ops.service)
    assert late["rows"][0].overdue and late["overdue"] == 1


def test_the_section_is_hidden_from_customers_and_read_only_for_viewers(ops: Ops) -> None:
    kpi_with_history(ops)
    assert section(ops.customer.actor, ops.service)["visible"] is False
    viewer = section(ops.viewer.actor, ops.service)
    assert viewer["visible"] and not viewer["can_add"]
    assert not viewer["rows"][0].can_report and not viewer["rows"][0].can_change


def test_the_section_runs_the_same_queries_for_more_kpis_and_values(ops: Ops) -> None:
    kpi_with_history(ops)

    def count() -> int:
        actor = ops.manager.actor  # a fresh actor: its memo of service roles is empty
        with as_of(MOMENT), CaptureQueriesContext(connection) as ctx:
            render_to_string(
                "operations/_section_kpis.html",
                {
                    "section": section(actor, ops.service),
                    "service": ops.service,
                    "current_org": ops.org,
                },
            )
        return len(ctx.captured_queries)

    small = count()
    for _ in range(4):
        kpi_with_history(ops)
    assert count() == small <= 4


def test_the_sparklines_read_the_values_alone(ops: Ops) -> None:
    """The last values are read from the measurements' own index: a join to the KPI table
    (for the measurements' default order) read every KPI of the organisation."""
    kpi = kpi_with_history(ops)
    with as_of(MOMENT), CaptureQueriesContext(connection) as ctx:
        values = latest_values([kpi.pk], 3)
    assert len(values[kpi.pk]) == 3
    (sql,) = [q["sql"] for q in ctx.captured_queries]
    assert "operations_measurement" in sql and "operations_kpi" not in sql


# ---------------------------------------------------------------- define and change


def test_a_manager_defines_a_kpi_through_the_form(ops: Ops) -> None:
    response = ops.manager.client.post(url("kpi_create", ops), kpi_post())
    kpi = KPI.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("kpi_detail", ops, kpi.pk)
    assert (kpi.minimum, kpi.maximum) == (Decimal(0), Decimal(100))
    assert kpi.next_period == dt.date(2026, 1, 1)


def test_thresholds_on_the_wrong_side_are_shown_on_amber_and_nothing_is_written(
    ops: Ops,
) -> None:
    with no_writes(ops.service):
        response = ops.manager.client.post(url("kpi_create", ops), kpi_post(amber="95"))
    assert response.status_code == 422
    assert "worse side" in (field_error(response, "amber") or "")
    assert 'value="Gate reviews held on the planned date"' in html(response)
    assert not KPI.objects.exists()


def test_the_edit_form_restates_the_rag(ops: Ops) -> None:
    kpi = kpi_with_history(ops)  # 77, 84, 91, 98 against 95/90/80
    assert kpi.latest_rag == "green"
    response = ops.manager.client.post(
        url("kpi_update", ops, kpi.pk),
        kpi_post(name=kpi.name, target="99.5", amber="99", red="95", minimum="0", maximum="100"),
    )
    assert response.status_code == 302, html(response)[:2000]
    kpi.refresh_from_db()
    assert kpi.latest_rag == "amber"
    assert set(kpi.measurements.values_list("rag", flat=True)) == {"red", "amber"}


def test_who_may_open_the_forms(ops: Ops) -> None:
    kpi = kpi_with_history(ops)
    for who in (ops.staff, ops.viewer, ops.operative):
        assert who.client.get(url("kpi_create", ops)).status_code == 403
        assert who.client.get(url("kpi_update", ops, kpi.pk)).status_code == 403
        assert who.client.post(url("kpi_archive", ops, kpi.pk)).status_code == 403
    assert ops.customer.client.get(url("kpi_detail", ops, kpi.pk)).status_code in (403, 404)
    assert ops.viewer.client.get(url("kpi_detail", ops, kpi.pk)).status_code == 200
    assert ops.owner.client.get(url("kpi_create", ops)).status_code == 200


def test_archive_and_restore_from_the_kpi_page(ops: Ops) -> None:
    kpi = kpi_with_history(ops, months=0)
    assert ops.manager.client.get(url("kpi_archive", ops, kpi.pk)).status_code == 405
    assert ops.manager.client.post(url("kpi_archive", ops, kpi.pk)).status_code == 302
    kpi.refresh_from_db()
    assert kpi.archived_at is not None
    assert ops.manager.client.post(url("kpi_restore", ops, kpi.pk)).status_code == 302
    kpi.refresh_from_db()
    assert kpi.archived_at is None


# ---------------------------------------------------------------- the KPI page


def test_the_kpi_page_shows_the_trend_values_and_corrections(ops: Ops) -> None:
    kpi = kpi_with_history(ops)
    with as_of(MOMENT):
        response = ops.operative.client.post(
            url("measurement_correct", ops, kpi.pk),
            {"period": "2026-02-01", "value": "93", "reason": "Late reports recounted."},
        )
        assert response.status_code == 302
        page = html(ops.operative.client.get(url("kpi_detail", ops, kpi.pk)))
    assert 'class="trend-chart"' in page and "Target 95%" in page and "Red 80%" in page
    assert 'data-testid="trend-table"' in page
    correction = MeasurementCorrection.objects.get()
    assert correction.value == Decimal(84) and correction.reason == "Late reports recounted."
    assert "Late reports recounted." in page
    assert Measurement.objects.get(kpi=kpi, period=dt.date(2026, 2, 1)).value == Decimal(93)


def test_a_bad_correction_is_shown_on_its_field_and_nothing_is_written(ops: Ops) -> None:
    kpi = kpi_with_history(ops)
    stored = Measurement.objects.get(kpi=kpi, period=dt.date(2026, 2, 1))
    with as_of(MOMENT), no_writes(stored):
        response = ops.manager.client.post(
            url("measurement_correct", ops, kpi.pk),
            {"period": "2026-02-01", "value": "lots", "reason": "Typo."},
        )
    assert response.status_code == 422
    assert "not a number" in (field_error(response, "value") or "")
    assert 'value="lots"' in html(response)


def test_a_value_entered_for_one_kpi(ops: Ops) -> None:
    kpi = kpi_with_history(ops)
    with as_of(MOMENT):
        form = ops.operative.client.get(url("measurement_create", ops, kpi.pk))
        assert 'value="2026-05-01"' in html(form)
        bad = ops.operative.client.post(
            url("measurement_create", ops, kpi.pk), {"period": "2026-04-15", "value": "90"}
        )
        assert bad.status_code == 422
        assert "starts on 2026-04-01" in (field_error(bad, "period") or "")
        ok = ops.operative.client.post(
            url("measurement_create", ops, kpi.pk), {"period": "2026-05-01", "value": "85"}
        )
    assert ok.status_code == 302
    assert Measurement.objects.get(kpi=kpi, period=dt.date(2026, 5, 1)).rag == "amber"
    assert ops.staff.client.get(url("measurement_create", ops, kpi.pk)).status_code == 403


def test_the_kpi_page_runs_the_same_queries_with_more_values(ops: Ops) -> None:
    kpi = kpi_with_history(ops, months=2)

    def grow() -> None:
        with as_of(MOMENT):
            measurements_record(
                actor=ops.system,
                readings=[Reading(kpi, dt.date(2026, m, 1), "90", row=m) for m in (3, 4, 5)],
            )
            measurements_record(
                actor=ops.system,
                readings=[Reading(kpi, dt.date(2026, 3, 1), "91", row=1)],
                correct=True,
                reason="Recount.",
            )

    with as_of(MOMENT):
        assert_constant_queries(
            lambda: ops.manager.client.get(url("kpi_detail", ops, kpi.pk)), grow
        )


def test_the_kpi_page_pages_its_values_newest_first(ops: Ops, monkeypatch: Any) -> None:
    monkeypatch.setattr(kpi_views, "MEASUREMENTS_PAGE", 3)
    kpi = kpi_with_history(ops, months=4)
    with as_of(MOMENT):
        first = html(ops.manager.client.get(url("kpi_detail", ops, kpi.pk)))
        second = html(ops.manager.client.get(url("kpi_detail", ops, kpi.pk) + "?page=2"))
    assert (
        '<nav class="card-footer d-flex gap-2 align-items-center" aria-label="Pages of values">'
        in first
    )
    assert 'href="?page=2#measurements">Older</a>' in first and "Newer</a>" not in first
    assert 'href="?page=1#measurements">Newer</a>' in second and "Older</a>" not in second
    assert "Page 2 of 2" in second


# ---------------------------------------------------------------- my reports due


def test_the_entry_page_records_what_is_filled_in(ops: Ops) -> None:
    first = kpi_with_history(ops, months=3)  # next: April, due 5 May
    second = kpi_with_history(ops, months=3, reporter_role="operative")
    with as_of(MOMENT):
        page = html(ops.manager.client.get(org_url("reports_enter", ops)))
        assert f"value-{first.pk}" in page and f"value-{second.pk}" not in page
        response = ops.manager.client.post(
            org_url("reports_enter", ops),
            {f"value-{first.pk}": "91.5", f"comment-{first.pk}": "Two packs late."},
        )
    assert response.status_code == 302
    stored = Measurement.objects.get(kpi=first, period=dt.date(2026, 4, 1))
    assert (stored.value, stored.comment, stored.source) == (
        Decimal("91.5"),
        "Two packs late.",
        "entered",
    )


def test_the_entry_page_keeps_what_was_typed_and_writes_nothing_on_error(ops: Ops) -> None:
    first = kpi_with_history(ops, months=3)
    second = kpi_with_history(ops, months=3, maximum=Decimal(100), minimum=Decimal(0))
    with as_of(MOMENT), no_writes(first, second):
        response = ops.manager.client.post(
            org_url("reports_enter", ops),
            {
                f"value-{first.pk}": "92",
                f"comment-{first.pk}": "On track.",
                f"value-{second.pk}": "180",
            },
        )
    assert response.status_code == 422
    page = html(response)
    assert 'value="92"' in page and 'value="On track."' in page and 'value="180"' in page
    assert re.search(rf'id="error-{second.pk}"[^>]*>[^<]*above 100', page)
    assert f'id="error-{first.pk}"' not in page
    assert not Measurement.objects.filter(period=dt.date(2026, 4, 1)).exists()


def test_an_empty_entry_is_refused(ops: Ops) -> None:
    kpi_with_history(ops, months=3)
    with as_of(MOMENT):
        response = ops.manager.client.post(org_url("reports_enter", ops), {})
    assert response.status_code == 422
    assert "at least one value" in html(response)


# ---------------------------------------------------------------- reports due


def test_the_reports_due_list_puts_overdue_first_and_highlights_mine(ops: Ops) -> None:
    late = kpi_with_history(ops, months=2)  # March due 5 April: overdue on 10 May
    other = kpi_with_history(ops, service=ops.other_service, months=3)  # April, due 5 May
    with as_of(MOMENT):
        page = html(ops.manager.client.get(org_url("reports_due", ops)))
        overdue_only = html(ops.manager.client.get(org_url("reports_due", ops) + "?overdue=1"))
        by_service = html(
            ops.manager.client.get(org_url("reports_due", ops) + f"?service={other.service_id}")
        )
    assert page.index(f'data-testid="due-{late.pk}"') < page.index(f'data-testid="due-{other.pk}"')
    assert re.search(rf'data-testid="due-{late.pk}" class="table-active" data-mine="true"', page)
    assert f'data-testid="due-{other.pk}" class' not in page
    assert f"due-{late.pk}" in overdue_only
    assert f"due-{late.pk}" not in by_service and f"due-{other.pk}" in by_service
    assert ops.customer.client.get(org_url("reports_due", ops)).status_code == 403


def test_the_reports_due_list_leaves_out_a_value_that_is_not_one(ops: Ops) -> None:
    """A service or PMO id past 64 bits, or a word for a flag, is left out: the list is
    as without it (it was a 500 for the id)."""
    late = kpi_with_history(ops, months=2)
    with as_of(MOMENT):
        for query in ("?service=" + "9" * 30, "?pmo=" + "9" * 30, "?overdue=maybe"):
            response = ops.manager.client.get(org_url("reports_due", ops) + query)
            assert response.status_code == 200, query
            assert f"due-{late.pk}" in html(response), query


def test_the_reports_due_list_pages_keeping_its_filters(ops: Ops, settings: Any) -> None:
    settings.CARTE_PAGE_SIZE = 1  # two reports a page
    for _ in range(3):
        kpi_with_history(ops, months=2)
    with as_of(MOMENT):
        first = html(ops.manager.client.get(org_url("reports_due", ops) + "?overdue=1"))
        last = html(ops.manager.client.get(org_url("reports_due", ops) + "?overdue=1&page=2"))
    assert 'aria-label="Pages of reports"' in first
    assert 'href="?overdue=1&amp;page=2">Next</a>' in first and "Previous</a>" not in first
    assert 'href="?overdue=1&amp;page=1">Previous</a>' in last and "Next</a>" not in last


def test_the_reports_due_list_runs_the_same_queries_for_more_reports(ops: Ops) -> None:
    kpi_with_history(ops, months=2)

    def grow() -> None:
        for _ in range(3):
            kpi_with_history(ops, service=ServiceFactory(organisation=ops.org, stage="running"))

    with as_of(MOMENT):
        assert_constant_queries(lambda: ops.director.client.get(org_url("reports_due", ops)), grow)


# ---------------------------------------------------------------- import


def test_the_import_page_refuses_a_file_too_large_on_its_field(ops: Ops, monkeypatch: Any) -> None:
    monkeypatch.setattr(kpi_views, "MAX_BYTES", 10)
    path = org_url("measurements_import", ops)
    form = html(ops.manager.client.get(path))
    assert 'type="file" name="file" class="form-control"' in form
    assert 'type="checkbox" name="dry_run" class="form-check-input"' in form
    for dry_run in ({"dry_run": "on"}, {}):
        upload = SimpleUploadedFile("values.csv", b"service,kpi,period,value\n")
        response = ops.manager.client.post(path, {"file": upload, **dry_run})
        assert response.status_code == 422
        assert field_error(response, "file") == tasks.TOO_LARGE_MESSAGE
    assert not Job.objects.exists()


# ---------------------------------------------------------------- tenancy


def test_another_organisation_gets_404_on_every_kpi_page(
    ops: Ops, outsider: Persona, other_org: Any
) -> None:
    from carte.operations.views.kpis import urlpatterns

    kpi = kpi_with_history(ops)
    names = {str(p.name) for p in urlpatterns}
    assert names >= {"kpi_detail", "reports_due", "reports_enter", "measurements_import"}
    with as_of(MOMENT), no_writes(kpi, ops.service):
        for pattern in urlpatterns:
            converters = pattern.pattern.converters
            kwargs: dict[str, Any] = {}
            if "pk" in converters:
                kwargs["pk"] = ops.service.pk
            if "kpi" in converters:
                kwargs["kpi"] = kpi.pk
            for slug in (ops.org.slug, other_org.slug) if kwargs else (ops.org.slug,):
                path = reverse(f"operations:{pattern.name}", kwargs={"org": slug, **kwargs})
                assert outsider.client.get(path).status_code == 404, path
                body = {"value": "1", "period": "2026-04-01", "name": "Hijack"}
                assert outsider.client.post(path, body).status_code == 404, path


def test_a_kpis_page_and_the_reports_due_show_the_status_of_the_heat_map(ops: Ops) -> None:
    from carte.operations.tests.test_levels_services import kpi_with_values, make_target

    # 92 is green on the KPI's thresholds (95 / 90 / 80) but misses the 95 agreed with a
    # customer group: red, as the heat map and the inbox say; its report is overdue.
    kpi = kpi_with_values(ops, {"2026-01-01": "92"})
    make_target(ops, kpi, "95")
    assert kpi.latest_rag == "green"
    with as_of(MOMENT):
        page = html(ops.manager.client.get(url("kpi_detail", ops, kpi.pk)))
        due = html(ops.manager.client.get(org_url("reports_due", ops)))
    badge = re.search(r'data-testid="kpi-rag"[^>]*>\s*<span[^>]*data-rag="(\w*)"', page)
    assert badge is not None and badge.group(1) == "red"
    assert f"agreed with {ops.group.name} (at least 95%)" in page
    cell = re.search(rf'data-testid="due-status-{kpi.pk}"[^>]*>.*?data-rag="(\w*)"', due, re.S)
    assert cell is not None and cell.group(1) == "red"
