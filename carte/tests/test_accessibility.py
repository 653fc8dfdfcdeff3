"""axe-core over the main pages, as the demo's people see them, at desktop and phone
widths: no critical or serious violation anywhere (defect 16 of issue 13), and no badge
cut off (a stage badge on a catalogue card showed "pproved for set-u", defect 5).

axe-core is vendored under `static/vendor/axe-core/` and injected here only, from the
site's own origin (so the Content-Security-Policy, which allows our own scripts and no
inline one, lets it run); no page of Carte loads it. A screenshot of every page visited
is kept in `test-artifacts/` for a person to look at.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import global_settings

from carte.conftest import screenshot, watch
from carte.organisations.models import Organisation
from carte.tests.pages import Visit, describe, log_in, main_pages, violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def visits(demo: dict[str, Organisation], settings: Any) -> list[Visit]:
    """The demo's Director, a customer of Northwind and the consultant on their main pages
    (carte/tests/pages.py)."""
    # The demo was loaded (once for the module) with Django's default hasher.
    settings.PASSWORD_HASHERS = [*settings.PASSWORD_HASHERS, *global_settings.PASSWORD_HASHERS]
    return main_pages(demo["northwind"])


def clipped_badges(page: Any) -> list[str]:
    """The badges on the page whose text is cut off (wider than the badge shows)."""
    found: list[str] = page.evaluate(
        """() => [...document.querySelectorAll('.badge')]
            .filter(b => b.getClientRects().length && b.scrollWidth > b.clientWidth + 1)
            .map(b => b.textContent.trim())"""
    )
    return found


def test_the_main_pages_have_no_critical_or_serious_accessibility_violation(
    visits: list[Visit], page: Any, live_server: Any
) -> None:
    problems = watch(page)
    report: list[str] = []

    def check(name: str, path: str) -> None:
        response = page.goto(path)
        if not response.ok:
            report.append(f"{name} {path}: answered {response.status}")
        found = violations(page)
        report.extend(describe(f"{name} {path}", found))
        report.extend(f"{name} {path}: badge cut off: {text!r}" for text in clipped_badges(page))
        screenshot(page, f"a11y-{name}.png")

    for width, size in WIDTHS.items():
        page.set_viewport_size(size)
        page.context.clear_cookies()
        check(f"login-{width}", "/login/")
        for visit in visits:
            page.context.clear_cookies()
            log_in(page, visit.email)
            who = visit.email.split("@")[0]
            for name, path in visit.pages.items():
                check(f"{who}-{name}-{width}", path)

    assert not report, "Violations and cut badges:\n" + "\n".join(report)
    assert problems == []
