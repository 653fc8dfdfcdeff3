"""A phone-sized layout (issue 13): at 390 px no page of the demo scrolls sideways, the
main navigation folds behind a menu button (and, without JavaScript, simply shows its
links stacked), and a table wider than the screen scrolls inside its own box, which a
keyboard can reach. A screenshot of every page at 390 px is kept in `test-artifacts/`.
"""

from __future__ import annotations

import re
from itertools import pairwise
from typing import Any

import pytest
from django.conf import global_settings

from carte.conftest import Persona, log_in, screenshot, watch
from carte.organisations.models import Organisation
from carte.tests import pages
from carte.tests.pages import Visit, main_pages

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

# The innermost elements sticking out past the right edge of the screen, outside any box
# that scrolls or clips them by itself: what makes the page scroll sideways.
STICKING_OUT = """() => {
  const out = el => el.getBoundingClientRect().right > innerWidth + 1;
  const inBox = el => {
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== 'visible') return true;
    }
    return false;
  };
  const text = el => (el.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 40);
  const all = [...document.body.querySelectorAll('*')]
    .filter(el => el.getClientRects().length && out(el) && !inBox(el));
  return all.filter(el => !all.some(other => other !== el && el.contains(other)))
    .slice(0, 5)
    .map(el => el.tagName.toLowerCase() + [...el.classList].map(c => '.' + c).join('')
      + ' "' + text(el) + '"');
}"""

# The tables wider than their container that do not sit in a box scrolling sideways by
# itself (overflow-x auto) which a keyboard can reach (tabindex="0").
UNBOXED_TABLES = """() => [...document.querySelectorAll('table')]
  .filter(t => t.getClientRects().length)
  .filter(t => t.getBoundingClientRect().width > t.parentElement.clientWidth + 1)
  .map(t => {
    const scrolls = el => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
    let box = t.parentElement;
    while (box !== document.body && !scrolls(box)) box = box.parentElement;
    const cell = t.querySelector('caption, th') || t;
    const name = `table "${cell.textContent.trim().replace(/\\s+/g, ' ').slice(0, 40)}"`;
    if (box === document.body) return `${name} overflows, in no scrolling box`;
    if (box.getAttribute('tabindex') !== '0') return `${name}: its box has no tabindex="0"`;
    if (box.getBoundingClientRect().right > innerWidth + 1) return `${name}: its box sticks out`;
    return '';
  })
  .filter(Boolean)"""


MAIN_LINKS = ("Home", "Catalogue", "Lifecycle", "Operations", "People")


def stacked(links: list[Any]) -> bool:
    """Whether the links show one under the other, in their order."""
    tops = [link.bounding_box()["y"] for link in links]
    return all(a < b for a, b in pairwise(tops))


@pytest.fixture
def visits(demo: dict[str, Organisation], settings: Any) -> list[Visit]:
    """The demo's Director, a customer of Northwind and the consultant on their main pages
    (carte/tests/pages.py)."""
    # The demo was loaded (once for the module) with Django's default hasher.
    settings.PASSWORD_HASHERS = [*settings.PASSWORD_HASHERS, *global_settings.PASSWORD_HASHERS]
    return main_pages(demo["northwind"])


def test_no_page_scrolls_sideways_at_phone_width_and_wide_tables_scroll_in_their_own_box(
    visits: list[Visit], page: Any, live_server: Any
) -> None:
    problems = watch(page)
    report: list[str] = []
    page.set_viewport_size(PHONE)

    def check(name: str, path: str) -> None:
        response = page.goto(path)
        where = f"{name} {path}"
        if not response.ok:
            report.append(f"{where}: answered {response.status}")
        width = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
        if width[0] > width[1]:
            stuck = ", ".join(page.evaluate(STICKING_OUT))
            report.append(f"{where}: scrolls sideways ({width[0]} px wide > {width[1]}): {stuck}")
        report.extend(f"{where}: {t}" for t in page.evaluate(UNBOXED_TABLES))
        screenshot(page, f"phone-{name}.png")

    check("login", "/login/")
    for visit in visits:
        page.context.clear_cookies()
        pages.log_in(page, visit.email)
        who = visit.email.split("@")[0]
        for name, path in visit.pages.items():
            check(f"{who}-{name}", path)

    assert not report, "At 390 px:\n" + "\n".join(report)
    assert problems == []


def test_the_main_navigation_folds_behind_a_menu_button_at_phone_width(
    director: Persona, page: Any
) -> None:
    from playwright.sync_api import expect

    problems = watch(page)
    log_in(page, director.user.email)
    page.goto(f"/o/{director.organisation.slug}/")
    nav = page.get_by_role("navigation", name="Main")
    menu = page.get_by_role("button", name="Menu")
    catalogue = nav.get_by_role("link", name="Catalogue")

    # On a desktop the links show and the button does not.
    expect(catalogue).to_be_visible()
    expect(menu).to_be_hidden()

    # On a phone the links hide behind the button, which says whether it is open.
    page.set_viewport_size(PHONE)
    # Without the menu's unfolding animation, which ignores clicks while it runs.
    page.emulate_media(reduced_motion="reduce")
    expect(menu).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(catalogue).to_be_hidden()
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    links = [nav.get_by_role("link", name=n, exact=True) for n in MAIN_LINKS]
    for link in links:
        expect(link).to_be_visible()
    assert stacked(links), "the links of the open menu are stacked"
    assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth")
    screenshot(page, "phone-menu-open.png")
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(catalogue).to_be_hidden()
    menu.click()
    catalogue.click()
    expect(page).to_have_url(re.compile(r"/catalogue/$"))
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(catalogue).to_be_hidden()
    assert problems == []


def test_without_javascript_the_main_navigation_shows_its_links_stacked(
    director: Persona, page: Any, live_server: Any
) -> None:
    from playwright.sync_api import expect

    context = page.context.browser.new_context(
        base_url=live_server.url, viewport=PHONE, java_script_enabled=False
    )
    bare = context.new_page()
    log_in(bare, director.user.email)
    bare.goto(f"/o/{director.organisation.slug}/")
    nav = bare.get_by_role("navigation", name="Main")
    links = [nav.get_by_role("link", name=n, exact=True) for n in MAIN_LINKS]
    for link in links:
        expect(link).to_be_visible()
    expect(bare.get_by_role("button", name="Menu")).to_be_hidden()
    assert stacked(links), "the links are stacked"
    assert bare.evaluate("() => document.documentElement.scrollWidth <= innerWidth")
    screenshot(bare, "phone-menu-without-javascript.png")
    context.close()
