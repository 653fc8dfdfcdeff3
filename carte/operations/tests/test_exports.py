"""Downloads of the registers, the heat map and the breaches as .xlsx and CSV: every row the
page's filters keep (not one page), labels and names people read, typed cells in the
workbook, formulas made harmless, and the staff's only."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from openpyxl import load_workbook  # type: ignore[import-untyped]

from carte.catalogue.choices import Stage
from carte.catalogue.tests.factories import ServiceFactory
from carte.conftest import Persona
from carte.core.clock import as_of, today
from carte.operations.models import Measurement
from carte.operations.selectors import heatmap as heatmap_selectors
from carte.operations.services import items as services
from carte.operations.services.measurements import refresh_kpis
from carte.operations.tests.conftest import Ops
from carte.operations.tests.factories import KPIFactory, MeasurementFactory, RiskIssueFactory
from carte.operations.tests.test_levels_services import MOMENT, kpi_with_values, make_target
from carte.operations.views.levels import BREACH_COLUMNS
from carte.operations.views.overview import HEATMAP_COLUMNS
from carte.operations.views.registers import ACTION_COLUMNS, RISK_COLUMNS
from carte.organisations.models import Organisation

pytestmark = pytest.mark.django_db

FORMULA = '=HYPERLINK("http://evil.example","Click")'
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def url(name: str, slug: str = "acme") -> str:
    return reverse(f"operations:{name}", args=[slug])


def sheet(response: Any) -> list[tuple[Any, ...]]:
    """The workbook's one sheet, header first, as the values openpyxl reads back."""
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == XLSX
    book = load_workbook(io.BytesIO(response.content))
    return list(book.active.iter_rows(values_only=True))


def table(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def by(rows: list[Any], column: str, columns: list[str]) -> list[Any]:
    """One column of the data rows."""
    i = columns.index(column)
    return [r[i] for r in rows[1:]]


def cells(rows: list[Any]) -> list[str]:
    return [str(v) for row in rows for v in row if v is not None]


# ---------------------------------------------------------------- the registers


@pytest.fixture
def risks(ops: Ops, other_org: Organisation) -> list[Any]:
    """Thirty risks on REP owned by the Manager (scores 1 to 25 cycling), one whose title is
    a formula, an issue on GOV, and another organisation's risk."""
    made = [
        RiskIssueFactory(
            service=ops.service,
            title=f"Risk {i:02d}",
            probability=1 + i % 5,
            impact=1 + (i // 5) % 5,
            owner=ops.manager_person,
        )
        for i in range(30)
    ]
    made.append(RiskIssueFactory(service=ops.service, title=FORMULA, probability=5, impact=5))
    RiskIssueFactory(service=ops.other_service, kind="issue", title="Gate panel double-booked")
    RiskIssueFactory(
        service=ServiceFactory(organisation=other_org, stage=Stage.RUNNING), title="Globex risk"
    )
    return made


def test_the_risk_register_downloads_every_filtered_row_as_a_workbook(
    ops: Ops, risks: list[Any]
) -> None:
    services.action_create(
        actor=ops.system,
        item=risks[0],
        data={"description": "Chase", "owner": ops.operative_person, "due_date": today()},
    )
    # Another page asked for, a page size of 5: the file still holds every row.
    params = {"kind": "risk", "page": "2", "page_size": "5", "format": "xlsx"}
    response = ops.director.client.get(url("risk_register"), params)
    rows = sheet(response)
    stamp = today().isoformat()
    assert f'filename="risks-and-issues-{stamp}.xlsx"' in response["Content-Disposition"]
    assert list(rows[0]) == RISK_COLUMNS
    assert len(rows) == 1 + 31
    titles = by(rows, "Title", RISK_COLUMNS)
    assert "Gate panel double-booked" not in titles and "Globex risk" not in cells(rows)
    scores = by(rows, "Score", RISK_COLUMNS)
    assert scores == sorted(scores, reverse=True) and scores[0] == 25  # worst first
    # The formula is kept as text, made harmless: never a formula cell.
    assert f"'{FORMULA}" in titles
    book = load_workbook(io.BytesIO(response.content))
    assert all(c.data_type != "f" for row in book.active.iter_rows() for c in row)
    # Labels and names people read, not codes or e-mail addresses; dates typed.
    first = dict(zip(RISK_COLUMNS, rows[titles.index("Risk 00") + 1], strict=True))
    assert (first["Kind"], first["Level"], first["Status"]) == (
        "Risk",
        "Service operations",
        "Open",
    )
    assert first["Owner"] == "Manu Manager" and first["Service"] == "REP Portfolio reporting"
    assert first["Next action due"] == dt.datetime.combine(today(), dt.time())
    assert not any("@" in v or v in ("risk", "open") for v in cells(rows))


def test_the_risk_register_downloads_as_csv(ops: Ops, risks: list[Any]) -> None:
    response = ops.viewer.client.get(
        url("risk_register"), {"q": "Risk 0", "ordering": "-raised", "format": "csv"}
    )
    rows = table(response)
    assert rows[0] == RISK_COLUMNS
    assert by(rows, "Title", RISK_COLUMNS) == [f"Risk {i:02d}" for i in range(9, -1, -1)]
    row = dict(zip(RISK_COLUMNS, rows[1], strict=True))
    assert row["Level"] == "Service operations" and row["Owner"] == "Manu Manager"
    assert row["Raised"] == today().isoformat() and row["Next action due"] == ""
    everything = table(ops.viewer.client.get(url("risk_register"), {"format": "csv"}))
    assert f"'{FORMULA}" in by(everything, "Title", RISK_COLUMNS)
    assert len(everything) == 1 + 32 and "Globex risk" not in cells(everything)


def test_the_action_register_downloads_with_overdue_said_in_words(
    ops: Ops, risks: list[Any]
) -> None:
    late = services.action_create(
        actor=ops.system,
        item=risks[3],
        data={
            "description": "=1+1 chase Finance",
            "owner": ops.operative_person,
            "due_date": today() - dt.timedelta(days=3),
        },
    )
    done = services.action_create(
        actor=ops.system,
        item=risks[4],
        data={"description": "Agree a cut-off", "owner": ops.manager_person, "due_date": today()},
    )
    services.action_done(actor=ops.system, action=done, done=True)
    rows = sheet(ops.staff.client.get(url("action_register"), {"state": "all", "format": "xlsx"}))
    assert list(rows[0]) == ACTION_COLUMNS and len(rows) == 3
    first = dict(zip(ACTION_COLUMNS, rows[1], strict=True))
    assert first["Action"] == "'=1+1 chase Finance" and first["Overdue"] == "Yes"
    assert first["Owner"] == "Opal Operative" and first["Risk or issue"] == late.item.title
    assert first["Purpose"] == "Mitigation" and first["Done"] == "No"
    assert first["Due"] == dt.datetime.combine(late.due_date, dt.time())
    second = dict(zip(ACTION_COLUMNS, rows[2], strict=True))
    assert (second["Done"], second["Overdue"], second["Owner"]) == ("Yes", "No", "Manu Manager")
    overdue = table(
        ops.staff.client.get(url("action_register"), {"overdue": "true", "format": "csv"})
    )
    assert len(overdue) == 2 and overdue[1][0] == "'=1+1 chase Finance"
    assert overdue[1][ACTION_COLUMNS.index("Due")] == late.due_date.isoformat()


# ---------------------------------------------------------------- the heat map


def test_the_heat_map_downloads_one_row_per_kpi_with_the_reasons(ops: Ops) -> None:
    packs = kpi_with_values(ops, {"2026-03-01": "96", "2026-04-01": "70"}, name="Packs on time")
    Measurement.objects.filter(kpi=packs, period=dt.date(2026, 4, 1)).update(
        comment="=Finance feed late"
    )
    make_target(ops, packs)
    kpi_with_values(ops, {"2026-04-01": "96"}, name="Data quality")
    green = KPIFactory(service=ops.other_service, name="Gates on the planned date")
    MeasurementFactory(kpi=green, period=dt.date(2026, 4, 1), value=Decimal("99"))
    refresh_kpis([green])
    with as_of(MOMENT):
        rows = sheet(ops.director.client.get(url("heatmap"), {"format": "xlsx"}))
        red_only = table(
            ops.director.client.get(url("heatmap"), {"status": "red", "format": "csv"})
        )
    assert list(rows[0]) == HEATMAP_COLUMNS
    assert by(rows, "KPI", HEATMAP_COLUMNS) == [
        "Packs on time",
        "Data quality",
        "Gates on the planned date",
    ]
    first = dict(zip(HEATMAP_COLUMNS, rows[1], strict=True))
    assert first["Service"] == "REP Portfolio reporting" and first["Service status"] == "Red"
    assert "missing the service level agreed with Finance programmes" in first["Why"]
    assert (first["Latest period"], first["Value"], first["Unit"]) == ("Apr 2026", 70, "%")
    assert first["KPI status"] == "Red" and first["Comment"] == "'=Finance feed late"
    assert first["Report overdue"] == "No"
    assert by(rows, "Service status", HEATMAP_COLUMNS)[2] == "Green"
    # The page's filters apply: only the red service's KPIs.
    assert by(red_only, "KPI", HEATMAP_COLUMNS) == ["Packs on time", "Data quality"]
    assert red_only[2][HEATMAP_COLUMNS.index("KPI status")] == "Green"


def test_the_heat_map_download_holds_every_service_not_one_page(
    ops: Ops, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(heatmap_selectors, "EXPORT_PAGE", 4)  # read in several rounds
    for i in range(58):  # past the page's 50, with the two of the fixture
        KPIFactory(
            service=ServiceFactory(organisation=ops.org, code=f"X{i:02d}", stage=Stage.RUNNING)
        )
    rows = table(ops.director.client.get(url("heatmap"), {"page": "2", "format": "csv"}))
    services_listed = by(rows, "Service", HEATMAP_COLUMNS)
    assert len(services_listed) == 60 and len(set(services_listed)) == 60
    no_kpi = dict(
        zip(
            HEATMAP_COLUMNS, rows[services_listed.index("REP Portfolio reporting") + 1], strict=True
        )
    )
    assert no_kpi["KPI"] == "" and no_kpi["Why"] == "No KPI defined yet."
    page = ops.director.client.get(url("heatmap"), {"status": "red"}).content.decode()
    assert "?status=red&amp;format=xlsx" in page and "?status=red&amp;format=csv" in page


# ---------------------------------------------------------------- the breaches


def test_the_breaches_download_with_the_page_filters(ops: Ops) -> None:
    kpi = kpi_with_values(ops, {"2026-01-01": "80", "2026-02-01": "96", "2026-03-01": "70"})
    make_target(ops, kpi, statement="=Packs on time for finance")
    rows = sheet(ops.director.client.get(url("level_breaches"), {"format": "xlsx", "page": "3"}))
    assert list(rows[0]) == BREACH_COLUMNS
    assert by(rows, "Period", BREACH_COLUMNS) == ["Mar 2026", "Jan 2026"]  # newest first
    first = dict(zip(BREACH_COLUMNS, rows[1], strict=True))
    assert first["Service"] == "REP Portfolio reporting"
    assert first["Customer group"] == "Finance programmes"
    assert first["Service level"] == "'=Packs on time for finance"
    assert (first["Value"], first["Target"]) == ("70%", "at least 95%")
    assert first["Period start"] == dt.datetime(2026, 3, 1)
    since = table(
        ops.director.client.get(url("level_breaches"), {"since": "2026-02-01", "format": "csv"})
    )
    assert by(since, "Period", BREACH_COLUMNS) == ["Mar 2026"]
    assert since[1][BREACH_COLUMNS.index("Period start")] == "2026-03-01"
    page = ops.director.client.get(url("level_breaches"), {"since": "2026-02-01"}).content.decode()
    assert "?since=2026-02-01&amp;format=csv" in page


def test_the_downloads_are_the_staffs_only(ops: Ops, outsider: Persona) -> None:
    for name in ("heatmap", "level_breaches", "risk_register", "action_register"):
        for fmt in ("xlsx", "csv"):
            assert ops.customer.client.get(url(name), {"format": fmt}).status_code == 403
            assert outsider.client.get(url(name), {"format": fmt}).status_code == 404
        # Any other format is the page itself.
        response = ops.viewer.client.get(url(name), {"format": "pdf"})
        assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
