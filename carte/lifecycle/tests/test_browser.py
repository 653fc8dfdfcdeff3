"""A real browser takes a service from proposed to running through the lifecycle pages,
each step by the person whose step it is: the Director approves the set-up, the Service
Manager designs (a criterion added and a task ticked in place with htmx) and pilots, the
Owner signs off, the Manager assesses readiness, plans the transition and goes live. No
console error on the way (a Content-Security-Policy violation shows up as one)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from carte.catalogue.choices import ArtefactKind, SupplierKind
from carte.catalogue.tests.factories import (
    ArtefactFactory,
    ProcessStepFactory,
    ServiceCustomerFactory,
    ServiceInputFactory,
    ServiceOutputFactory,
    SupplierFactory,
)
from carte.conftest import log_in, log_out, screenshot, watch
from carte.lifecycle.choices import READINESS_QUESTIONS
from carte.lifecycle.tests.conftest import World

pytestmark = pytest.mark.browser


@pytest.fixture
def proposal(transactional_db: None, world: World) -> World:
    """The proposed service with its SIPOC and a procedure (catalogue pages, tested there),
    made before the browser starts: a query from the test body while Playwright's loop
    runs would open a connection nothing closes."""
    service = world.service
    supplier = SupplierFactory(service=service, kind=SupplierKind.ROLE, name="PM")
    ServiceInputFactory(service=service, supplier=supplier)
    ProcessStepFactory(service=service)
    ServiceOutputFactory(service=service)
    ServiceCustomerFactory(service=service, customer_group=world.group)
    ArtefactFactory(organisation=world.org, owner_service=service, kind=ArtefactKind.PROCEDURE)
    return world


def test_a_service_goes_from_proposed_to_running_through_the_pages(
    proposal: World, page: Any, live_server: Any
) -> None:
    from playwright.sync_api import expect

    world = proposal
    problems = watch(page, allow_422=True)
    lifecycle = f"/o/acme/catalogue/services/{world.service.pk}/lifecycle/"
    today = dt.date.today()

    def stage_is(label: str) -> None:
        expect(page.get_by_test_id("stage")).to_have_text(label)

    # The Director finds the proposal on the board and approves its set-up.
    log_in(page, world.director.user.email)
    page.goto("/o/acme/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Lifecycle").click()
    proposed = page.get_by_test_id("column-proposed")
    expect(proposed.get_by_test_id("count")).to_contain_text("1")
    proposed.get_by_role("link", name=re.compile("REP")).click()
    stage_is("Proposed")
    page.get_by_role("link", name="Approve set-up").click()
    form = page.get_by_test_id("move-form")
    form.get_by_label("Group PMO", exact=True).check()
    form.get_by_label("Service Owner").select_option(label="Olive Owner")
    form.get_by_label("Service Manager for Group PMO").select_option(label="Manu Manager")
    form.get_by_label("Sourcing").select_option("in_house")
    for label in (
        "Fit with the service strategy",
        "Competence and capacity available",
        "The chosen PMO's other services",
        "Customers and stakeholders",
        "Scope",
    ):
        form.get_by_label(label, exact=True).fill(f"{label}: agreed at the March board.")
    form.get_by_role("button", name="Approve set-up").click()
    stage_is("Approved for set-up")
    expect(page.get_by_role("heading", name="Set-up decision")).to_be_visible()
    log_out(page)

    # The Service Manager starts the design from the Centre of Excellence's template.
    log_in(page, world.manager.user.email)
    page.goto(lifecycle)
    page.get_by_role("link", name="Start design").click()
    page.get_by_label("Set-up task list from a template").select_option(label="Service set-up plan")
    page.get_by_test_id("move-form").get_by_role("button", name="Start design").click()
    stage_is("Design")

    # A success criterion, added in place; a refusal first, shown next to its field.
    page.get_by_role("link", name="Add a success criterion").click()
    editor = page.locator("#editor-criteria")
    editor.get_by_label("Description").fill("Status reports on time for 4 of 5 programmes")
    editor.get_by_role("button", name="Save").click()
    expect(editor.get_by_role("alert")).to_contain_text("Name the customers")
    editor.get_by_label("Finance programmes").check()
    editor.get_by_role("button", name="Save").click()
    # Its Remove button asks first, in place.
    expect(
        page.locator("summary", has_text="Remove Status reports on time for 4 of 5 programmes")
    ).to_be_visible()

    # A task ticked done in place: the list and its progress are redrawn.
    tasks = page.get_by_test_id("tasklist")
    expect(tasks.get_by_test_id("progress")).to_have_text("0 of 3 done (0%)")
    tasks.get_by_role("button", name="Mark done: Write procedures").click()
    expect(tasks.get_by_test_id("progress")).to_have_text("1 of 3 done (33%)")
    expect(tasks.get_by_role("button", name="Reopen: Write procedures")).to_be_visible()

    # The pilot, and its result.
    page.get_by_role("link", name="Start a pilot").click()
    form = page.get_by_test_id("move-form")
    form.get_by_label("Starts on").fill(today.isoformat())
    form.get_by_label("Ends on").fill((today + dt.timedelta(days=30)).isoformat())
    form.get_by_label("Finance programmes").check()
    form.get_by_label("Operatives delivering the pilot").select_option(label="Opal Operative")
    form.get_by_role("button", name="Start a pilot").click()
    stage_is("Pilot")
    page.get_by_role("link", name="Record the result of pilot 1").click()
    page.get_by_label("Status reports on time for 4 of 5 programmes", exact=True).select_option(
        "met"
    )
    page.get_by_label("Evidence: Status reports on time for 4 of 5 programmes").fill(
        "All five programmes reported on time."
    )
    page.get_by_label("Governance and critical success factors are in place").check()
    page.get_by_label("Resources are confirmed").check()
    page.get_by_label("Expected outcomes are validated").check()
    page.get_by_role("button", name="Record the result").click()
    expect(page.get_by_text("Pilot 1 result: 1 of 1 criteria met")).to_be_visible()
    expect(page.get_by_test_id("move-sign_off")).to_contain_text("For the Service Owner")
    log_out(page)

    # Only the Owner signs off.
    log_in(page, world.owner.user.email)
    page.goto(lifecycle)
    page.get_by_role("link", name="Sign off").click()
    page.get_by_test_id("move-form").get_by_role("button", name="Sign off").click()
    stage_is("Signed off")
    log_out(page)

    # The Manager assesses readiness, plans a big-bang transition and goes live.
    log_in(page, world.manager.user.email)
    page.goto(lifecycle)
    page.get_by_role("link", name="Assess readiness").click()
    page.get_by_label("Assessor").select_option(label="Manu Manager")
    for question in READINESS_QUESTIONS:
        page.get_by_label(question, exact=True).select_option("yes")
    page.get_by_label("Overall verdict").select_option("ready")
    page.get_by_role("button", name="Record the assessment").click()
    expect(page.get_by_text("Readiness assessed by Manu Manager: ready")).to_be_visible()
    page.get_by_role("link", name="Start transition").click()
    form = page.get_by_test_id("move-form")
    form.get_by_label("Approach").select_option("big_bang")
    form.locator('[name="phases-0-name"]').fill("Go-live for everyone")
    form.locator('[name="phases-0-starts_on"]').fill(today.isoformat())
    form.locator('[name="phases-0-ends_on"]').fill((today + dt.timedelta(days=7)).isoformat())
    form.get_by_role("button", name="Start transition").click()
    stage_is("Transition")
    page.get_by_role("button", name="Mark done: Go-live for everyone").click()
    expect(page.get_by_test_id("move-go_live").get_by_text("✓")).to_be_visible()
    page.get_by_role("link", name="Go live").click()
    expect(page.get_by_label("Publish the service, so customers see it")).to_be_checked()
    page.get_by_test_id("move-form").get_by_role("button", name="Go live").click()
    stage_is("Running")
    expect(page.get_by_test_id("timeline")).to_contain_text("Running")

    screenshot(page, "lifecycle-panel.png")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Lifecycle").click()
    expect(page.get_by_test_id("column-running").get_by_test_id("count")).to_contain_text("1")
    screenshot(page, "lifecycle-board.png")
    assert problems == []
