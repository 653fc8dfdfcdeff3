"""A real browser through the catalogue's main path: propose a service, add a level inline
(an error shown in place, then the fix), publish it, and find the version and the menu
card, with no console error."""

from __future__ import annotations

import re
from typing import Any

import pytest

from carte.catalogue import services
from carte.conftest import log_in, screenshot, watch
from carte.organisations.actor import Actor
from carte.organisations.choices import OrgRole
from carte.organisations.models import User
from carte.organisations.tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    PMOFactory,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def director(transactional_db: None) -> User:
    """A PMO Director with a category and a PMO to choose, made before the browser starts."""
    org = OrganisationFactory(name="Acme Group", slug="acme")
    membership = MembershipFactory(
        organisation=org, user__email="director@acme.example", roles=[OrgRole.DIRECTOR]
    )
    services.category_create(actor=Actor.for_system(org), name="Reporting and information")
    PMOFactory(organisation=org, name="Enterprise PMO")
    return membership.user


def test_it_proposes_edits_and_publishes_a_service(
    director: User, page: Any, live_server: Any
) -> None:
    from playwright.sync_api import expect

    problems = watch(page, allow_422=True)
    log_in(page, director.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Catalogue").click()
    page.get_by_role("link", name="Propose a service").click()

    page.get_by_label("Code").fill("REP-01")
    page.get_by_label("Name").fill("Portfolio reporting")
    page.get_by_label("Category").select_option(label="Reporting and information")
    page.get_by_label("Summary").fill("A monthly view of every project's health.")
    page.get_by_label("Enterprise PMO").check()
    page.get_by_role("button", name="Propose").click()
    expect(page.get_by_role("heading", name=re.compile("Portfolio reporting"))).to_be_visible()

    # Add a level inline: a refused value is shown in place, then corrected.
    page.get_by_role("link", name="Levels").click()
    page.get_by_role("link", name="Add a level").click()
    editor = page.locator("#editor-levels")
    editor.get_by_label("Name").fill("Standard")
    editor.get_by_label("Price").fill("-5")
    editor.get_by_role("button", name="Save").click()
    expect(editor.get_by_role("alert")).to_contain_text("greater than or equal to 0")
    editor.get_by_label("Price").fill("1500")
    editor.get_by_role("button", name="Save").click()
    expect(page.get_by_role("cell", name="Standard", exact=True)).to_be_visible()

    page.get_by_role("button", name="Publish a new version").click()
    expect(page.get_by_role("status")).to_contain_text("Version 1 published.")
    expect(page.get_by_role("cell", name="1 current")).to_be_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Catalogue").click()
    card = page.get_by_role("article").filter(has_text="Portfolio reporting")
    expect(card).to_contain_text("REP-01 · version 1")

    screenshot(page, "catalogue-menu.png")
    assert problems == []
