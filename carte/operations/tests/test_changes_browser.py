"""A real browser: a customer rates a service and suggests a change; the Service Manager
finds the draft it became, says what it affects and submits it; the Owner finds it
waiting for them in the queue and approves it with a note. No console error on the way
(a Content-Security-Policy violation shows up as one)."""

from __future__ import annotations

from typing import Any

import pytest

from carte.conftest import log_in, log_out, screenshot, watch
from carte.operations.tests.conftest import Ops

pytestmark = pytest.mark.browser


def test_a_customer_suggestion_becomes_a_change_the_owner_approves(
    ops: Ops, page: Any, live_server: Any
) -> None:
    from playwright.sync_api import expect

    problems = watch(page, allow_422=True)
    service = f"/o/acme/catalogue/services/{ops.service.pk}"

    # The customer rates the service from its catalogue page and suggests a change.
    log_in(page, ops.customer.user.email)
    page.goto(f"{service}/")
    page.get_by_role("link", name="Give feedback on this service").click()
    page.get_by_role("button", name="Send the feedback").click()
    expect(page.get_by_text("This field is required.")).to_be_visible()  # no rating yet
    page.get_by_label("4 — good").check()
    page.get_by_label("Comment").fill("The packs are clear; they come late for our board.")
    page.get_by_label("Suggest a change").fill("Send the pack two days before the board.")
    page.get_by_role("button", name="Send the feedback").click()
    expect(page.get_by_text("Your suggestion has gone to the service")).to_be_visible()
    log_out(page)

    # The Service Manager finds the draft, says what it affects and submits it.
    log_in(page, ops.manager.user.email)
    page.goto(f"{service}/operations/changes/")
    page.get_by_role("link", name="Send the pack two days before the board.").click()
    expect(page.get_by_test_id("change-state")).to_have_text("Draft")
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Operations Handbook").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("affects")).to_have_text("Operations Handbook")
    page.get_by_role("button", name="Submit", exact=True).click()
    expect(page.get_by_test_id("change-state")).to_have_text("Submitted")
    log_out(page)

    # The Owner finds it waiting for them and approves it, with a note.
    log_in(page, ops.owner.user.email)
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
    screenshot(page, "change-approved.png")
    assert problems == []
