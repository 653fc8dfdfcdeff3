"""A real browser: a customer rates a service and suggests a change; the Service Manager
finds the draft it became, says what it affects and submits it; the Owner finds it
waiting for them in the queue and approves it with a note. No console error on the way
(a Content-Security-Policy violation shows up as one)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from carte.conftest import ARTIFACTS
from carte.operations.tests.conftest import Ops
from carte.organisations.tests.factories import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def journey(transactional_db: None, ops: Ops) -> Ops:
    """The running service and its people, made before the browser starts."""
    return ops


def test_a_customer_suggestion_becomes_a_change_the_owner_approves(
    journey: Ops, page: Any, live_server: Any
) -> None:
    from playwright.sync_api import expect

    ops = journey
    problems: list[str] = []

    def on_console(message: Any) -> None:
        if message.type == "error" and "status of 422" not in message.text:
            problems.append(f"console error: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    service = f"/o/acme/catalogue/services/{ops.service.pk}"

    def log_in(email: str) -> None:
        page.goto("/login/")
        page.get_by_label("E-mail").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_test_id("current-user")).to_have_text(email)

    def log_out() -> None:
        page.get_by_role("button", name="Log out").click()
        expect(page).to_have_url(re.compile(r"/login/|/$"))

    # The customer rates the service from its catalogue page and suggests a change.
    log_in(ops.customer.user.email)
    page.goto(f"{service}/")
    page.get_by_role("link", name="Give feedback on this service").click()
    page.get_by_role("button", name="Send the feedback").click()
    expect(page.get_by_text("This field is required.")).to_be_visible()  # no rating yet
    page.get_by_label("4 — good").check()
    page.get_by_label("Comment").fill("The packs are clear; they come late for our board.")
    page.get_by_label("Suggest a change").fill("Send the pack two days before the board.")
    page.get_by_role("button", name="Send the feedback").click()
    expect(page.get_by_text("Your suggestion has gone to the service")).to_be_visible()
    log_out()

    # The Service Manager finds the draft, says what it affects and submits it.
    log_in(ops.manager.user.email)
    page.goto(f"{service}/operations/changes/")
    page.get_by_role("link", name="Send the pack two days before the board.").click()
    expect(page.get_by_test_id("change-state")).to_have_text("Draft")
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Operations Handbook").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("affects")).to_have_text("Operations Handbook")
    page.get_by_role("button", name="Submit", exact=True).click()
    expect(page.get_by_test_id("change-state")).to_have_text("Submitted")
    log_out()

    # The Owner finds it waiting for them and approves it, with a note.
    log_in(ops.owner.user.email)
    page.goto("/o/acme/operations/changes/?mine=true")
    page.get_by_role("link", name="Send the pack two days before the board.").click()
    page.get_by_label("Approve").check()
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_role("alert")).to_contain_text("the decision needs a note")
    page.get_by_label("Approve").check()
    page.get_by_label("Note").fill("Agreed: from next month's cycle.")
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_test_id("change-state")).to_have_text("Approved")
    expect(page.get_by_test_id("decision")).to_contain_text("Agreed: from next month")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "change-approved.png"), full_page=True)
    assert problems == []
