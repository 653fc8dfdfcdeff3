"""A real browser: the Director opens the heat map, sees red, amber and green cells (each
with its letter), narrows it to the red services with htmx, and follows a red cell (its
reason on hover) to the service's Operations tab, where its service levels show. No console error
on the way (a Content-Security-Policy violation shows up as one)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from carte.catalogue.tests.factories import ServiceCustomerFactory
from carte.conftest import log_in, screenshot, watch
from carte.operations.tests.conftest import Ops
from carte.operations.tests.test_levels_services import kpi_with_values, make_target
from carte.operations.tests.test_overview_views import reported

pytestmark = pytest.mark.browser


@pytest.fixture
def running(transactional_db: None, ops: Ops) -> Ops:
    """KPIs at each status on the two running services and a service level, made before
    the browser starts (a query from the test body while Playwright's loop runs would
    open a connection nothing closes)."""
    kpi = kpi_with_values(
        ops,
        {"2026-01-01": "96", "2026-02-01": "88", "2026-03-01": "70"},
        name="Status packs on time",
    )
    make_target(ops, kpi, statement="Status pack within 5 working days of month end")
    reported(ops.service, "green", name="Gate reviews held on the planned date", position=2)
    reported(ops.other_service, "green", name="Decisions logged within a day")
    ServiceCustomerFactory(service=ops.other_service, customer_group=ops.group)
    return ops


def test_the_director_follows_a_red_cell_to_the_operations_tab(
    running: Ops, page: Any, live_server: Any
) -> None:
    from playwright.sync_api import expect

    ops = running
    problems = watch(page)
    log_in(page, ops.director.user.email)

    page.goto(f"/o/{ops.org.slug}/operations/heatmap/")
    heatmap = page.get_by_test_id("heatmap")
    expect(heatmap.locator('td[data-rag="red"]')).to_have_count(1)  # 70, below 80
    screenshot(page, "operations-heatmap.png")
    expect(heatmap.locator('td[data-rag="green"]')).to_have_count(2)
    expect(heatmap.locator('td[data-rag="red"]')).to_contain_text("R")
    expect(page.get_by_test_id("kpi-totals")).to_contain_text("2 green")
    expect(page.get_by_test_id("services-red")).to_have_text("R 1 red")

    # Only the red services, in place; the worst KPI first, with its reason on hover.
    page.get_by_label("Status", exact=True).select_option("red")
    expect(page).to_have_url(re.compile(r"status=red"))
    expect(heatmap.locator("tbody tr")).to_have_count(1)
    expect(heatmap).not_to_contain_text("GOV")

    cell = heatmap.locator("td[data-rag]").first
    expect(cell).to_contain_text("Status packs on time")
    expect(cell.get_by_role("link")).to_have_attribute("title", re.compile("missing the service"))
    cell.get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"/catalogue/services/{ops.service.pk}/operations/"))
    expect(page.get_by_role("heading", name=re.compile("Portfolio reporting"))).to_be_visible()
    tabs = page.get_by_role("navigation", name="Service sections")
    expect(tabs.get_by_role("link", name="Operations")).to_have_attribute("aria-current", "page")
    levels = page.locator("#levels")
    expect(levels).to_contain_text("Status pack within 5 working days of month end")
    screenshot(page, "operations-tab.png")
    assert problems == []
