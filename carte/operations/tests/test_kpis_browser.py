"""A real browser: the Service Manager opens "My reports due", enters the overdue value of
a KPI, and finds it on the KPI's page with its RAG status and trend. No console error on
the way (a Content-Security-Policy violation shows up as one)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest

from carte.conftest import log_in, watch
from carte.core.clock import today
from carte.operations import periods
from carte.operations.models import KPI
from carte.operations.services.measurements import Reading, measurements_record
from carte.operations.tests.conftest import Ops
from carte.operations.tests.factories import KPIFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def overdue(transactional_db: None, ops: Ops) -> tuple[Ops, KPI]:
    """A monthly KPI reported up to three months ago, so last month's report is late;
    made before the browser starts (see the lifecycle's browser test)."""
    this_month = periods.start_of(today(), "monthly")
    first = this_month
    for _ in range(4):
        first = periods.start_of(first - dt.timedelta(days=1), "monthly")
    kpi = KPIFactory(
        service=ops.service,
        name="Status reports on time",
        reporting_from=first,
        grace_days=0,
        minimum=Decimal(0),
        maximum=Decimal(100),
    )
    measurements_record(
        actor=ops.system,
        readings=[
            Reading(kpi, first, "84", row=1),
            Reading(kpi, periods.following(first, "monthly"), "88", row=2),
        ],
    )
    kpi.refresh_from_db()
    return ops, kpi


def test_a_manager_enters_a_value_and_sees_its_rag(
    overdue: tuple[Ops, KPI], page: Any, live_server: Any
) -> None:
    from playwright.sync_api import expect

    ops, kpi = overdue
    problems = watch(page, allow_422=True)
    log_in(page, ops.manager.user.email)

    page.goto("/o/acme/operations/reports/enter/")
    row = page.get_by_test_id(f"entry-{kpi.pk}")
    expect(row).to_contain_text("overdue")
    # A value out of range first: refused on its row, what was typed kept.
    row.get_by_label(re.compile("Value of Status reports on time")).fill("140")
    row.get_by_label(re.compile("Comment on")).fill("All packs in by the cut-off.")
    page.get_by_role("button", name="Record the values").click()
    expect(page.get_by_test_id("entry-error")).to_contain_text("nothing was recorded")
    row = page.get_by_test_id(f"entry-{kpi.pk}")
    expect(row).to_contain_text("above 100")
    expect(row.get_by_label(re.compile("Comment on"))).to_have_value("All packs in by the cut-off.")
    row.get_by_label(re.compile("Value of Status reports on time")).fill("97")
    page.get_by_role("button", name="Record the values").click()
    expect(page.get_by_text("1 value recorded.")).to_be_visible()

    page.goto(f"/o/acme/catalogue/services/{ops.service.pk}/operations/kpis/{kpi.pk}/")
    expect(page.get_by_test_id("kpi-rag")).to_have_text(re.compile("Green"))
    expect(page.get_by_test_id("kpi-latest")).to_have_text("97 %")
    chart = page.get_by_role("img", name=re.compile("Status reports on time: trend"))
    expect(chart).to_be_visible()
    expect(page.get_by_test_id("measurements")).to_contain_text("All packs in by the cut-off.")
    assert problems == []
