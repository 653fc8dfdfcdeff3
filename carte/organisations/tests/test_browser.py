"""A real browser through the organisations pages: log in, switch organisation, add a
person and find the change in its History tab, with no console error (a Content-Security-
Policy violation shows up as one)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from carte.conftest import screenshot, watch
from carte.organisations.choices import OrgRole
from carte.organisations.models import User
from carte.organisations.tests.factories import (
    PASSWORD,
    MembershipFactory,
    OrganisationFactory,
    PMOFactory,
    UserFactory,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def consultant(transactional_db: None) -> User:
    """A login in two organisations, made before the browser starts.

    While Playwright's event loop runs in this thread, Django keeps connections per async
    context rather than per thread: a query from the test body would open a connection
    that nothing closes (on PostgreSQL, the test database could then not be dropped).
    """
    user = UserFactory(email="ines@consult.example", full_name="Inès Duarte")
    acme = OrganisationFactory(name="Acme Group", slug="acme")
    globex = OrganisationFactory(name="Globex", slug="globex")
    MembershipFactory(organisation=acme, user=user, roles=[OrgRole.STAFF])
    MembershipFactory(organisation=globex, user=user, roles=[OrgRole.PMO_MANAGER])
    PMOFactory(organisation=globex, name="Globex Delivery PMO")
    return user


def test_it_adds_a_person_after_switching_organisation(
    consultant: User, page: Any, live_server: Any
) -> None:
    from playwright.sync_api import expect

    problems = watch(page)

    # Log in; with two organisations and none used yet, the user picks one.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/"))
    page.get_by_label("E-mail").fill(consultant.email.upper())
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Choose an organisation")).to_be_visible()
    page.get_by_role("main").get_by_role("link", name="Acme Group").click()
    expect(page).to_have_url(f"{live_server.url}/o/acme/")
    expect(page.get_by_role("heading", name="Acme Group")).to_be_visible()

    # Switch organisation through the header's switcher.
    switcher = page.locator("details.org-switcher")
    menu = switcher.get_by_role("navigation", name="Organisations")
    expect(menu).to_be_hidden()
    switcher.locator("summary").click()
    expect(menu).to_be_visible()
    expect(menu.get_by_role("link", name="Acme Group")).to_have_attribute("aria-current", "true")
    menu.get_by_role("link", name="Globex").click()
    expect(page).to_have_url(f"{live_server.url}/o/globex/")
    expect(page.get_by_role("heading", name="Globex")).to_be_visible()

    # Add a person through the form.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="People").click()
    page.get_by_role("link", name="Add person").click()
    page.get_by_label("Name").fill("Rosa Parks")
    page.get_by_label("E-mail").fill("Rosa.Parks@Globex.example")
    page.get_by_label("Job title").fill("Programme Manager")
    page.get_by_label("PMO", exact=True).select_option(label="Globex Delivery PMO")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("status")).to_contain_text("Person “Rosa Parks” created.")
    expect(page.get_by_role("heading", name="Rosa Parks")).to_be_visible()

    # It is in the list; open it and read its history.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="People").click()
    row = page.get_by_role("row", name=re.compile("Rosa Parks"))
    expect(row).to_contain_text("rosa.parks@globex.example")
    expect(row).to_contain_text("Globex Delivery PMO")
    row.get_by_role("link", name="Rosa Parks").click()
    page.get_by_role("link", name="History").click()
    history = page.get_by_role("list", name="Change history")
    expect(history).to_contain_text("Created")
    expect(history).to_contain_text("by Inès Duarte")  # a name, never an address
    expect(history.get_by_role("row", name=re.compile("Job title"))).to_contain_text(
        "Programme Manager"
    )

    screenshot(page, "organisations-person-history.png")
    assert problems == []
