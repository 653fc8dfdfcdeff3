"""A real browser: an Operative raises a risk on the service's register and escalates it
with a note (the form opens in place with htmx, a field in error drawn as such); the
Service Manager then finds it in the escalations list and in the inbox, whose notice
leads to the item and is then read. No console error on the way (a CSP violation shows
up as one)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from carte.conftest import log_in, log_out, watch
from carte.operations.tests.conftest import Ops

pytestmark = pytest.mark.browser


def test_an_operative_escalates_a_risk_and_the_manager_sees_it(
    ops: Ops, page: Any, live_server: Any
) -> None:
    from playwright.sync_api import expect

    problems = watch(page, allow_422=True)
    log_in(page, "operative@acme.example")
    page.goto(f"/o/acme/catalogue/services/{ops.service.pk}/operations/risks/")
    page.get_by_role("link", name="Raise a risk or issue").click()
    page.get_by_label("Title").fill("Gate reviewers double-booked in June")
    page.get_by_label("Cause").fill("Two programmes booked the same review panel.")
    page.get_by_label("Probability").select_option("4")
    page.get_by_label("Impact").select_option("3")
    page.get_by_role("button", name="Raise it").click()
    expect(page.get_by_role("heading", name="Gate reviewers double-booked in June")).to_be_visible()
    expect(page.get_by_test_id("score")).to_have_text("12")
    expect(page.get_by_test_id("level")).to_contain_text("Service operations")

    page.get_by_role("link", name="Escalate", exact=True).click()
    form = page.get_by_test_id("item-form")
    expect(form).to_be_visible()
    assert "/escalate/" not in page.url  # opened in place
    form.get_by_role("button", name="Escalate").click()
    expect(form.get_by_role("alert")).to_contain_text("required")
    # The field in error is marked by Django (aria-invalid) and the stylesheet draws it so.
    note = form.get_by_label("Note")
    expect(note).to_have_attribute("aria-invalid", "true")
    marked, unmarked = note.evaluate(
        """field => {
            const marked = getComputedStyle(field).borderColor;
            field.removeAttribute("aria-invalid");
            const unmarked = getComputedStyle(field).borderColor;
            field.setAttribute("aria-invalid", "true");
            return [marked, unmarked];
        }"""
    )
    assert marked != unmarked
    form.get_by_label("Note").fill("The June gate for the ERP programme is at risk.")
    form.get_by_role("button", name="Escalate").click()
    expect(page.get_by_test_id("level")).to_contain_text("Delivery management")
    expect(page.get_by_test_id("events")).to_contain_text(
        "The June gate for the ERP programme is at risk."
    )
    log_out(page)

    log_in(page, "manager@acme.example")
    inbox = page.get_by_test_id("inbox-link")
    expect(inbox).to_contain_text("1 unread")
    inbox.click()
    notice = page.get_by_test_id("notice").filter(has_text="Gate reviewers double-booked")
    expect(notice).to_contain_text("The June gate for the ERP programme is at risk.")
    notice.get_by_role("link", name=re.compile("Gate reviewers double-booked")).click()
    expect(page.get_by_test_id("level")).to_contain_text("Delivery management")
    expect(page.get_by_test_id("inbox-link")).not_to_contain_text("unread")

    page.goto("/o/acme/operations/escalations/")
    page.get_by_label("At my level only").check()
    rows = page.get_by_test_id("escalations")
    expect(rows).to_contain_text("Gate reviewers double-booked in June")
    expect(rows).to_contain_text("Delivery management")
    rows.get_by_role("link", name="Gate reviewers double-booked in June").click()
    expect(page.get_by_role("link", name="Escalate", exact=True)).to_be_visible()
    assert problems == []
