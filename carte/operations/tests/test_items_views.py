"""The risks and issues pages: the register with its filters, raising and editing, the
item page with the steps each persona may take, escalation with a note, the Owner's
decision form, actions ticked in place with htmx, the escalations list, the Operations
tab's section, tenancy on every page, and bounded queries."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from carte.catalogue.choices import Stage
from carte.conftest import Persona
from carte.core.clock import today
from carte.core.testing import assert_constant_queries, no_writes
from carte.operations.models import ItemAction, Notice, RiskIssue
from carte.operations.selectors import items as selectors
from carte.operations.services import items as services
from carte.operations.tests.conftest import Ops
from carte.operations.tests.factories import RiskIssueFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def url(name: str, ops: Ops, *args: Any) -> str:
    return reverse(f"operations:{name}", args=["acme", ops.service.pk, *args])


def an_item(ops: Ops, **extra: Any) -> RiskIssue:
    values = {"title": "Finance data feed late for month-end pack", **extra}
    item: RiskIssue = RiskIssueFactory(service=ops.service, **values)
    return item


def an_action(ops: Ops, item: RiskIssue, **extra: Any) -> ItemAction:
    return services.action_create(
        actor=ops.system,
        item=item,
        data={
            "description": "Ask Finance for a flash extract",
            "owner": ops.operative_person,
            "due_date": today(),
            **extra,
        },
    )


def test_it_lists_a_services_register_with_filters(ops: Ops) -> None:
    risk = an_item(ops, probability=5, impact=5)
    issue = RiskIssueFactory(service=ops.service, kind="issue", title="Pack sent late", level=2)
    RiskIssueFactory(service=ops.other_service, title="Not this service")
    page = ops.staff.client.get(url("items", ops))
    assert page.status_code == 200
    html = page.content.decode()
    assert risk.title in html and issue.title in html and "Not this service" not in html
    assert html.index(risk.title) < html.index(issue.title)  # highest score first
    only_issues = ops.staff.client.get(url("items", ops), {"kind": "issue"}, headers=HTMX)
    assert (
        b"Pack sent late" in only_issues.content and risk.title.encode() not in only_issues.content
    )
    assert b"<html" not in only_issues.content  # the results partial
    level_two = ops.staff.client.get(url("items", ops), {"level": "2"}).content
    assert b"Pack sent late" in level_two and risk.title.encode() not in level_two
    bad = ops.staff.client.get(url("items", ops), {"level": "9"})
    assert bad.status_code == 200 and b"level" in bad.content


def test_customers_do_not_see_risks_and_issues(ops: Ops) -> None:
    item = an_item(ops)
    assert ops.customer.client.get(url("items", ops)).status_code == 403
    assert ops.customer.client.get(url("item", ops, item.pk)).status_code == 403
    escalations = reverse("operations:escalations", args=["acme"])
    assert ops.customer.client.get(escalations).status_code == 403


def test_an_operative_raises_a_risk_and_bad_input_keeps_what_was_typed(ops: Ops) -> None:
    client = ops.operative.client
    form = client.get(url("item_create", ops))
    assert form.status_code == 200 and b'name="probability"' in form.content
    data = {
        "kind": "risk",
        "title": "Key analyst leaving in Q3",
        "cause": "Promotion into the programme office.",
        "probability": "4",
        "impact": "9",
        "owner": str(ops.operative_person.pk),
        "level": "1",
    }
    with no_writes():
        refused = client.post(url("item_create", ops), data)
    assert refused.status_code == 422
    assert b"Key analyst leaving in Q3" in refused.content
    assert re.search(r'<select name="impact"[^>]*aria-invalid="true"', refused.content.decode())
    assert not re.search(r'<input[^>]*name="title"[^>]*aria-invalid', refused.content.decode())
    with no_writes():
        above = client.post(url("item_create", ops), {**data, "impact": "4", "level": "3"})
    assert above.status_code == 422 and b"above service operations" in above.content
    response = client.post(url("item_create", ops), {**data, "impact": "4"})
    item = RiskIssue.objects.get(title="Key analyst leaving in Q3")
    assert response.status_code == 302 and response["Location"] == url("item", ops, item.pk)
    assert (item.score, item.level, item.owner) == (16, 1, ops.operative_person)
    edited = client.post(
        url("item_update", ops, item.pk),
        {**data, "impact": "2", "title": "Key analyst leaving in Q4"},
    )
    assert edited.status_code == 302
    item.refresh_from_db()
    assert (item.title, item.score) == ("Key analyst leaving in Q4", 8)


def test_the_item_page_offers_each_persona_the_steps_they_may_take(ops: Ops) -> None:
    item = an_item(ops)
    an_action(ops, item, due_date=today() - dt.timedelta(days=2))
    services.item_escalate(actor=ops.system, item=item, note="Month-end in three days.")

    def steps(persona: Persona) -> str:
        page = persona.client.get(url("item", ops, item.pk))
        assert page.status_code == 200
        html: str = page.content.decode()
        return html.split('data-testid="steps"', 1)[1].split('id="step-form"', 1)[0]

    page = ops.staff.client.get(url("item", ops, item.pk)).content.decode()
    assert "Month-end in three days." in page and "overdue" in page
    assert "Probability and impact grid" in page and "score of 12 of 25" in page
    assert "Escalate" not in steps(ops.staff) and "Edit" not in steps(ops.staff)
    operative = steps(ops.operative)
    assert "Make it an issue" in operative and "Close" not in operative
    assert "Escalate" not in operative.replace("De-escalate", "")  # 2 -> 3 is not theirs
    manager = steps(ops.manager)
    assert "Escalate" in manager and "De-escalate" in manager and "Decide" not in manager
    services.item_escalate(actor=ops.system, item=item, note="To the Owner.")
    assert "Decide" in steps(ops.owner)
    assert "Decide" not in steps(ops.director)


def test_escalating_needs_a_note_and_tells_the_next_level(ops: Ops) -> None:
    item = an_item(ops)
    client = ops.operative.client
    form = client.get(url("item_escalate", ops, item.pk), headers=HTMX)
    assert form.status_code == 200 and b"<html" not in form.content
    with no_writes(item):
        refused = client.post(url("item_escalate", ops, item.pk), {"note": ""}, headers=HTMX)
    assert refused.status_code == 422 and b"This field is required." in refused.content
    with no_writes(item):
        blank = client.post(url("item_escalate", ops, item.pk), {"note": "   "}, headers=HTMX)
    assert blank.status_code == 422 and b'id="id_note_error"' in blank.content
    done = client.post(
        url("item_escalate", ops, item.pk), {"note": "Finance will miss the cut."}, headers=HTMX
    )
    assert done.status_code == 204 and done["HX-Redirect"] == url("item", ops, item.pk)
    item.refresh_from_db()
    assert item.level == 2
    notice = Notice.objects.get(recipient=ops.manager.user)
    assert notice.body == "Finance will miss the cut." and notice.url == url("item", ops, item.pk)
    with no_writes(item):
        assert client.post(url("item_escalate", ops, item.pk), {"note": "Up"}).status_code == 403


def test_the_owners_decision_form(ops: Ops) -> None:
    item = an_item(ops, level=3)
    with no_writes(item):
        assert (
            ops.director.client.post(
                url("item_decide", ops, item.pk), {"decision": "accept", "note": "Ok"}
            ).status_code
            == 403
        )
    form = ops.owner.client.get(url("item_decide", ops, item.pk))
    assert form.status_code == 200 and b"Close the service" in form.content
    with no_writes(item, ops.service):
        refused = ops.owner.client.post(
            url("item_decide", ops, item.pk), {"decision": "close_service", "note": "Stop."}
        )
    assert refused.status_code == 422 and b"reasons for closing" in refused.content
    with no_writes(item):
        mitigate = ops.owner.client.post(
            url("item_decide", ops, item.pk), {"decision": "mitigate", "note": "Go."}
        )
    assert mitigate.status_code == 422 and b"no open action" in mitigate.content
    done = ops.owner.client.post(
        url("item_decide", ops, item.pk),
        {
            "decision": "close_service",
            "note": "Reporting moves into the ERP suite.",
            "closure_reason": "not_best_provider",
        },
    )
    assert done.status_code == 302
    ops.service.refresh_from_db()
    assert ops.service.stage == Stage.CLOSING
    below = an_item(ops, level=2)
    with no_writes(below):
        conflict = ops.owner.client.post(
            url("item_decide", ops, below.pk), {"decision": "accept", "note": "Ok"}
        )
    assert conflict.status_code == 409 and b"service ownership" in conflict.content


def test_actions_are_added_and_ticked_in_place(ops: Ops) -> None:
    item = an_item(ops)
    client = ops.operative.client
    added = client.post(
        url("item_action_create", ops, item.pk),
        {
            "description": "Book a second gate panel",
            "owner": str(ops.operative_person.pk),
            "due_date": "2030-05-01",
        },
    )
    assert added.status_code == 302
    action = ItemAction.objects.get(item=item)
    ticked = client.post(url("item_action_done", ops, action.pk), {"done": "true"}, headers=HTMX)
    assert ticked.status_code == 200 and b'aria-pressed="true"' in ticked.content
    assert b"<html" not in ticked.content
    action.refresh_from_db()
    assert action.done_at is not None
    with no_writes(action):
        refused = ops.staff.client.post(url("item_action_done", ops, action.pk), {"done": "false"})
    assert refused.status_code == 403
    assert client.get(url("item_action_done", ops, action.pk)).status_code == 405
    client.post(url("item_action_archive", ops, action.pk))
    action.refresh_from_db()
    assert action.archived_at is not None


def test_the_escalations_list_shows_levels_two_and_three_and_mine(ops: Ops) -> None:
    two = an_item(ops, level=2, title="Gate reviewers double-booked")
    three = an_item(ops, level=3, title="Key analyst leaving in Q3")
    an_item(ops, level=1, title="Level one only")
    escalations = reverse("operations:escalations", args=["acme"])
    html = ops.director.client.get(escalations).content.decode()
    assert two.title in html and three.title in html and "Level one only" not in html
    assert html.index(three.title) < html.index(two.title)
    mine = ops.manager.client.get(escalations, {"mine": "true"}, headers=HTMX).content.decode()
    assert two.title in mine and three.title not in mine


def test_the_section_renders_open_items_by_level(ops: Ops) -> None:
    an_item(ops, level=3, title="Key analyst leaving in Q3")
    an_item(ops, level=1, title="Gate reviewers double-booked")
    html = render_to_string(
        "operations/_section_items.html",
        {
            "section": selectors.section(ops.manager.actor, ops.service),
            "service": ops.service,
            "current_org": ops.org,
        },
    )
    level3 = html.split('data-testid="section-level-3"', 1)[1].split("section-level-2")[0]
    assert "Key analyst leaving in Q3" in level3
    assert "2 open: 2 risks, 0 issues" in html


def test_another_organisation_gets_404_on_every_page(
    ops: Ops, outsider: Persona, other_org: Any
) -> None:
    from carte.operations.views.items import urlpatterns

    item = an_item(ops, level=2)
    action = an_action(ops, item)
    values = {"pk": ops.service.pk, "item": item.pk, "action": action.pk}
    assert len(urlpatterns) >= 15
    with no_writes(item, action, ops.service):
        for pattern in urlpatterns:
            kwargs = {k: v for k, v in values.items() if k in pattern.pattern.converters}
            for slug in (ops.org.slug, other_org.slug) if kwargs else (ops.org.slug,):
                path = reverse(f"operations:{pattern.name}", kwargs={"org": slug, **kwargs})
                assert outsider.client.get(path).status_code == 404, path
                data = {"note": "Hijack", "done": "true", "decision": "accept", "title": "x"}
                assert outsider.client.post(path, data).status_code == 404, path


def test_the_pages_run_a_bounded_number_of_queries(ops: Ops) -> None:
    item = an_item(ops, level=2)

    def grow(n: int) -> None:
        for i in range(n):
            other = RiskIssueFactory(service=ops.service, level=1 + i % 3, owner=ops.manager_person)
            an_action(ops, other, due_date=today() - dt.timedelta(days=1))
            an_action(ops, item)
            if other.level < 3:
                services.item_escalate(actor=ops.system, item=other, note="Up.")

    grow(2)
    client = ops.manager.client
    assert_constant_queries(lambda: client.get(url("items", ops)), lambda: grow(10))
    escalations = reverse("operations:escalations", args=["acme"])
    assert_constant_queries(lambda: client.get(escalations), lambda: grow(10))
    assert_constant_queries(lambda: client.get(url("item", ops, item.pk)), lambda: grow(5))
