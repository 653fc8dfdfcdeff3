"""Each demo persona's main path, walked in Chromium by clicking as the person would, at
desktop and phone widths (issue 13, "done means"): every page reached answers, has no
critical or serious axe-core violation, does not scroll sideways at 390 px, and is kept
as a screenshot in `test-artifacts/` (`path-<who>-<step>-<width>.png`).

The paths: the PMO Director from what waits for them to a decision, the heat map's worst
services and the header's search; a Service Owner from My work to the change waiting for
their decision and the risk register; a Service Operative from an action on their home
page to the reports they owe; a customer from the catalogue's search to a service and
the status of what they asked for; the auditor (viewer) through the running services.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import global_settings

from carte.conftest import screenshot as keep
from carte.conftest import watch
from carte.organisations.models import Organisation
from carte.tests.pages import describe, log_in, violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}

SIDEWAYS = "() => document.documentElement.scrollWidth > innerWidth + 1"


class Walk:
    """One person's walk at one width: `look()` checks and keeps the page as it is."""

    def __init__(self, page: Any, who: str, width: str, report: list[str]) -> None:
        self.page, self.who, self.width, self.report = page, who, width, report
        self.phone = width == "phone"

    def look(self, step: str) -> None:
        from playwright.sync_api import expect

        where = f"{self.who} {step} ({self.width}) {self.page.url}"
        expect(self.page.locator("h1").first).to_be_visible()
        self.report.extend(describe(where, violations(self.page)))
        if self.phone and self.page.evaluate(SIDEWAYS):
            self.report.append(f"{where}: scrolls sideways")
        keep(self.page, f"path-{self.who}-{step}-{self.width}.png")

    def nav(self, label: str) -> None:
        """Follow a link of the main navigation, unfolding it first on a phone."""
        nav = self.page.get_by_role("navigation", name="Main")
        if self.phone:
            menu = self.page.get_by_role("button", name="Menu")
            menu.click()
            self.page.wait_for_function(
                "() => document.querySelector('#main-nav').classList.contains('show')"
            )
        nav.get_by_role("link", name=label, exact=True).click()

    def search(self, words: str) -> None:
        """Search from the header's box."""
        box = self.page.get_by_role("search").first.get_by_role("searchbox")
        box.fill(words)
        box.press("Enter")
        self.page.wait_for_url(re.compile(r"/search/\?q="))

    def section(self, title: str) -> Any:
        """A card of the page by its heading (a section of My work, a kind of result)."""
        return self.page.locator("section.card").filter(
            has=self.page.get_by_role("heading", name=re.compile("^" + re.escape(title)))
        )


def director(walk: Walk) -> None:
    from playwright.sync_api import expect

    page = walk.page
    expect(page.get_by_role("heading", name="Waiting for you", exact=True)).to_be_visible()
    walk.look("home")
    walk.nav("My work")
    expect(page.get_by_role("heading", name="My work", exact=True)).to_be_visible()
    walk.look("my-work")
    walk.section("Decisions waiting for you").locator("li a").first.click()
    expect(page).to_have_url(re.compile(r"/lifecycle/$"))
    walk.look("decision")
    walk.nav("Operations")
    page.get_by_test_id("services-red").click()
    expect(page).to_have_url(re.compile(r"status=red"))
    walk.look("heatmap-red")
    walk.search("over budget")
    walk.look("search")
    walk.section("Services").locator("li a").first.click()
    expect(page).to_have_url(re.compile(r"/catalogue/services/\d+/$"))
    walk.look("service")


def owner(walk: Walk) -> None:
    from playwright.sync_api import expect

    page = walk.page
    walk.look("home")
    walk.nav("My work")
    walk.section("Change requests to decide").locator("li a").first.click()
    expect(page).to_have_url(re.compile(r"/operations/changes/\d+/$"))
    walk.look("change")
    page.go_back()
    walk.section("Escalated to your level").locator("li a").first.click()
    expect(page).to_have_url(re.compile(r"/operations/risks/\d+/$"))
    walk.look("escalated-risk")
    walk.nav("Operations")
    page.get_by_role("navigation", name="Operations").get_by_role(
        "link", name="Risks and issues"
    ).click()
    expect(page).to_have_url(re.compile(r"/operations/risks/$"))
    expect(page.get_by_role("link", name="Download .xlsx")).to_be_visible()
    walk.look("risk-register")


def operative(walk: Walk) -> None:
    from playwright.sync_api import expect

    page = walk.page
    walk.look("home")
    walk.section("Actions assigned to you").locator("li a").first.click()
    expect(page).to_have_url(re.compile(r"/operations/risks/\d+/$"))
    walk.look("action-risk")
    page.go_back()
    walk.section("Reports due").locator("li a").first.click()
    expect(page).to_have_url(re.compile(r"/operations/kpis/\d+/$"))
    walk.look("report-due")


def customer(walk: Walk) -> None:
    from playwright.sync_api import expect

    page = walk.page
    walk.look("home")
    walk.nav("Catalogue")
    page.get_by_label("Search services, outputs and problems").fill("overrunning budgets")
    page.get_by_label("Search services, outputs and problems").press("Enter")
    expect(page).to_have_url(re.compile(r"q=overrunning"))
    walk.look("catalogue-search")
    page.get_by_role("main").locator("a[href*='/catalogue/services/']").first.click()
    expect(page).to_have_url(re.compile(r"/catalogue/services/\d+/$"))
    walk.look("service")
    walk.nav("My requests")
    walk.look("my-requests")
    page.get_by_role("main").locator("a[href*='/my-requests/']").first.click()
    expect(page).to_have_url(re.compile(r"/my-requests/\d+/$"))
    walk.look("my-request")


def viewer(walk: Walk) -> None:
    from playwright.sync_api import expect

    page = walk.page
    walk.look("home")
    walk.nav("Operations")
    expect(page).to_have_url(re.compile(r"/operations/heatmap/"))
    walk.look("heatmap")
    page.get_by_role("main").locator("a[href*='/operations/']").filter(
        has_not_text=re.compile("report|status|All", re.I)
    ).first.click()
    walk.look("service-operations")


PATHS: dict[str, Callable[[Walk], None]] = {
    "director": director,
    "owner": owner,
    "operative": operative,
    "customer": customer,
    "viewer": viewer,
}


@pytest.fixture
def northwind(demo: dict[str, Organisation], settings: Any) -> Organisation:
    # The demo was loaded (once for the module) with Django's default hasher.
    settings.PASSWORD_HASHERS = [*settings.PASSWORD_HASHERS, *global_settings.PASSWORD_HASHERS]
    return demo["northwind"]


def test_each_persona_walks_their_main_path_at_desktop_and_phone_widths(
    northwind: Organisation, page: Any, live_server: Any
) -> None:
    problems = watch(page)
    report: list[str] = []
    # Without the menu's unfolding animation, which ignores clicks while it runs.
    page.emulate_media(reduced_motion="reduce")
    for width, size in WIDTHS.items():
        page.set_viewport_size(size)
        for who, path in PATHS.items():
            page.context.clear_cookies()
            log_in(page, f"{who}@{northwind.slug}.example")
            page.goto(f"/o/{northwind.slug}/")
            path(Walk(page, who, width, report))
    assert not report, "\n".join(report)
    assert problems == []
