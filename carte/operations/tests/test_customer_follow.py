"""A customer's view (issue 13): whoever suggested a change or gave feedback follows it on
"My requests" and through the API, is told when it is decided, and sees nobody else's
(404), nor the staff's notes to one another; the staff still see everything."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from carte.catalogue.tests.factories import ServiceCustomerFactory
from carte.conftest import Persona, log_in, make_persona, screenshot, watch
from carte.core.testing import assert_constant_queries, assert_problem, no_writes
from carte.operations.models import ChangeRequest, Feedback, Notice
from carte.operations.services import changes as services
from carte.operations.tests.conftest import Ops
from carte.operations.tests.test_changes_services import raise_change
from carte.organisations.choices import OrgRole
from carte.organisations.models import Person
from carte.organisations.tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def main(html: str) -> str:
    """The page's own content, without the header (which shows the viewer's login)."""
    return html[html.index('<main id="main"') : html.index("</main>")]


API = "/api/v1/orgs/acme"


def my_requests(ops: Ops) -> str:
    return reverse("operations:my_requests", args=[ops.org.slug])


def my_request(ops: Ops, change: ChangeRequest) -> str:
    return reverse("operations:my_request", args=[ops.org.slug, change.pk])


def staff_page(ops: Ops, change: ChangeRequest) -> str:
    return reverse("operations:change_detail", args=[ops.org.slug, ops.service.pk, change.pk])


def suggest(ops: Ops, who: Persona | None = None, text: str = "Send the pack earlier.") -> Any:
    """The customer's feedback with a suggestion, as they give it: the feedback form."""
    give = reverse("operations:feedback_give", args=[ops.org.slug, ops.service.pk])
    client = (who or ops.customer).client
    return client.post(give, {"rating": "4", "comment": "Clear packs.", "suggestion": text})


def second_customer(ops: Ops) -> tuple[Persona, Person]:
    other = make_persona(ops.org, [OrgRole.CUSTOMER], "cora@acme.example")
    person: Person = PersonFactory(
        organisation=ops.org, name="Cora Client", user=other.user, customer_group=ops.group
    )
    return other, person


def decide(ops: Ops, change: ChangeRequest, approve: bool = True, note: str = "Agreed.") -> None:
    """The team puts the suggestion before the Owner, with a note of their own, and the
    Owner decides."""
    services.change_request_update(
        actor=ops.manager.actor, change=change, data={"affects": ["handbook"]}
    )
    services.change_request_submit(
        actor=ops.manager.actor, change=change, note="Internal: cheap, do it in May."
    )
    services.change_request_decide(actor=ops.owner.actor, change=change, approve=approve, note=note)


# ---------------------------------------------------------------- the customer's path


def test_a_customer_follows_a_suggestion_from_giving_it_to_the_decision(ops: Ops) -> None:
    response = suggest(ops)
    change = ChangeRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == my_request(ops, change)
    page = ops.customer.client.get(response["Location"])
    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-testid="change-state">Draft<' in text
    assert "Raised on " in text and " by Cass Customer" in text
    assert "Not decided yet" in text

    decide(ops, change, note="Agreed: from next month's cycle.")

    listing = ops.customer.client.get(my_requests(ops)).content.decode()
    assert change.title in listing and "Portfolio reporting" in listing
    assert 'data-testid="change-state">Approved<' in listing
    assert "Agreed: from next month&#x27;s cycle." in listing
    detail = ops.customer.client.get(my_request(ops, change)).content.decode()
    assert "Submitted on " in detail and " by Manu Manager" in detail
    assert "Approved on " in detail and " by Olive Owner" in detail
    assert "Agreed: from next month&#x27;s cycle." in detail
    # The team's note to the Owner, their logins and their controls stay theirs.
    assert "Internal: cheap" not in detail
    assert "@acme.example" not in main(detail)
    for control in ("Record the decision", "Mark implemented", "Archive", ">Edit<"):
        assert control not in detail


def test_feedback_without_a_suggestion_leads_to_my_requests(ops: Ops) -> None:
    give = reverse("operations:feedback_give", args=[ops.org.slug, ops.service.pk])
    response = ops.customer.client.post(give, {"rating": "5", "comment": "Spot on."}, follow=True)
    assert response.redirect_chain[-1][0] == my_requests(ops)
    text = response.content.decode()
    assert "You find it under My requests" in text
    assert "Spot on." in text and "5 out of 5" in text


def test_the_requester_is_told_once_of_the_decision(ops: Ops) -> None:
    suggest(ops)
    change = ChangeRequest.objects.get()
    decide(ops, change, approve=False, note="Not this year.")
    notices = list(Notice.objects.filter(recipient=ops.customer.user))
    assert len(notices) == 1
    notice = notices[0]
    assert notice.title == f"{change.reference} on Portfolio reporting was rejected"
    assert "Not this year." in notice.body
    assert notice.url == my_request(ops, change)
    # Nobody else is told of it: the Owner had only the submission's notice.
    assert Notice.objects.filter(key__startswith="decided:").count() == 1


def test_an_owner_deciding_their_own_request_is_not_told_of_it(ops: Ops) -> None:
    change = raise_change(ops, actor=ops.owner.actor)
    assert change.raised_by_id == ops.owner_person.pk
    services.change_request_submit(actor=ops.owner.actor, change=change)
    services.change_request_decide(actor=ops.owner.actor, change=change, approve=True, note="Yes.")
    assert not Notice.objects.filter(key__startswith="decided:").exists()


def test_the_staff_page_of_their_own_request_sends_the_customer_to_theirs(ops: Ops) -> None:
    suggest(ops)
    change = ChangeRequest.objects.get()
    response = ops.customer.client.get(staff_page(ops, change))
    assert response.status_code == 302 and response["Location"] == my_request(ops, change)


# ---------------------------------------------------------------- nobody else's


def test_another_customers_request_is_not_found_on_pages_and_api(ops: Ops) -> None:
    suggest(ops)
    change = ChangeRequest.objects.get()
    feedback = Feedback.objects.get()
    cora, _ = second_customer(ops)
    with no_writes(change, feedback):
        assert cora.client.get(my_request(ops, change)).status_code == 404
        assert cora.client.get(staff_page(ops, change)).status_code == 404
        assert_problem(cora.api.get(f"{API}/change-requests/{change.pk}"), 404)
        assert_problem(cora.api.patch(f"{API}/change-requests/{change.pk}", {"title": "x"}), 404)
    listing = cora.client.get(my_requests(ops)).content.decode()
    assert change.title not in listing and "Clear packs." not in listing
    assert cora.api.get(f"{API}/my-requests").json() == {"items": [], "count": 0}
    assert cora.api.get(f"{API}/my-feedback").json() == {"items": [], "count": 0}


def test_another_organisation_finds_nothing(ops: Ops, other_org: Any) -> None:
    suggest(ops)
    change = ChangeRequest.objects.get()
    outsider = ops.outsider
    assert outsider.client.get(my_request(ops, change)).status_code == 404
    assert outsider.client.get(my_requests(ops)).status_code == 404
    assert_problem(outsider.api.get(f"{API}/change-requests/{change.pk}"), 404)
    assert_problem(outsider.api.get(f"{API}/my-requests"), 404)
    # In their own organisation, the id is nobody's.
    theirs = reverse("operations:my_request", args=[other_org.slug, change.pk])
    assert outsider.client.get(theirs).status_code == 404
    assert_problem(
        outsider.api.get(f"/api/v1/orgs/{other_org.slug}/change-requests/{change.pk}"), 404
    )


def test_a_staff_members_own_page_is_theirs_alone_too(ops: Ops) -> None:
    """My requests keeps to the viewer's own, whatever their role: the Director opens the
    Manager's request on the service's page, not as theirs."""
    change = raise_change(ops)
    assert ops.manager.client.get(my_request(ops, change)).status_code == 200
    assert ops.director.client.get(my_request(ops, change)).status_code == 404
    assert ops.director.client.get(staff_page(ops, change)).status_code == 200


def test_the_customer_still_cannot_open_the_staffs_lists(ops: Ops) -> None:
    suggest(ops)
    client = ops.customer.client
    changes = reverse("operations:change_list", args=[ops.org.slug, ops.service.pk])
    feedback = reverse("operations:feedback_list", args=[ops.org.slug, ops.service.pk])
    queue = reverse("operations:change_queue", args=[ops.org.slug])
    for path in (changes, feedback, queue, f"{queue}?format=csv"):
        assert client.get(path).status_code == 403, path
    assert_problem(ops.customer.api.get(f"{API}/change-requests"), 403)
    assert_problem(ops.customer.api.get(f"{API}/services/{ops.service.pk}/change-requests"), 403)
    assert_problem(ops.customer.api.get(f"{API}/services/{ops.service.pk}/feedback"), 403)


def test_the_staff_still_see_everything(ops: Ops) -> None:
    suggest(ops)
    change = ChangeRequest.objects.get()
    decide(ops, change)
    assert ops.director.client.get(staff_page(ops, change)).status_code == 200
    detail = ops.director.api.get(f"{API}/change-requests/{change.pk}").json()
    notes = [e["note"] for e in detail["events"]]
    assert "Internal: cheap, do it in May." in notes
    assert ops.manager.api.get(f"{API}/change-requests").json()["count"] == 1
    feedback = ops.staff.api.get(f"{API}/services/{ops.service.pk}/feedback").json()
    assert feedback["count"] == 1


# ---------------------------------------------------------------- the API


def test_a_customer_reads_their_own_through_the_api(ops: Ops) -> None:
    suggest(ops)
    change = ChangeRequest.objects.get()
    decide(ops, change, note="Agreed.")
    response = ops.customer.api.get(f"{API}/change-requests/{change.pk}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "approved" and body["decision_note"] == "Agreed."
    assert body["item_id"] is None
    assert [(e["to_state"], e["note"]) for e in body["events"]] == [
        ("draft", ""),
        ("submitted", ""),  # the team's note to the Owner stays theirs
        ("approved", "Agreed."),
    ]
    assert [e["actor"] for e in body["events"]] == ["Cass Customer", "Manu Manager", "Olive Owner"]
    mine = ops.customer.api.get(f"{API}/my-requests").json()
    assert mine["count"] == 1 and mine["items"][0]["reference"] == change.reference
    assert mine["items"][0]["state"] == "approved"
    assert set(mine["items"][0]) >= {"service", "title", "decided_at", "decision_note"}
    given = ops.customer.api.get(f"{API}/my-feedback").json()
    assert given["count"] == 1 and given["items"][0]["change_request_id"] == change.pk
    # Seen, not theirs to change.
    with no_writes(change):
        assert_problem(ops.customer.api.patch(f"{API}/change-requests/{change.pk}", {}), 403)
        assert_problem(ops.customer.api.post(f"{API}/change-requests/{change.pk}/archive"), 403)


def test_a_customer_raises_through_the_api_in_their_own_name_only(ops: Ops) -> None:
    path = f"{API}/services/{ops.service.pk}/change-requests"
    body = {
        "title": "A glossary page",
        "description": "Explain the acronyms.",
        "raised_as": "customer",
        "reason": "feedback",
    }
    with no_writes():
        assert_problem(
            ops.customer.api.post(path, {**body, "raised_by": ops.manager_person.pk}), 403
        )
        assert_problem(ops.customer.api.post(path, {**body, "item": 999}), 422, "item")
    response = ops.customer.api.post(path, body)
    assert response.status_code == 201, response.content
    assert response.json()["raised_by"]["name"] == "Cass Customer"
    assert ops.customer.api.get(f"{API}/my-requests").json()["count"] == 1


# ---------------------------------------------------------------- bounded


def test_my_requests_runs_a_bounded_number_of_queries(ops: Ops) -> None:
    other_service = ops.other_service
    ServiceCustomerFactory(service=other_service, customer_group=ops.group)

    def grow() -> None:
        for i in range(3):
            for service in (ops.service, other_service):
                services.feedback_give(
                    actor=ops.customer.actor,
                    service=service,
                    rating=3,
                    suggestion=f"Idea {i} for {service.code}",
                )

    grow()
    assert_constant_queries(lambda: ops.customer.client.get(my_requests(ops)), grow)
    page = ops.customer.client.get(my_requests(ops)).content.decode()
    assert page.count("Stage-gate reviews") >= 2 * 6  # each change and each feedback
    for path in (f"{API}/my-requests", f"{API}/my-feedback"):
        assert_constant_queries(lambda p=path: ops.customer.api.get(p), grow)  # type: ignore[misc]


# ---------------------------------------------------------------- in a browser

PHONE = {"width": 390, "height": 844}


@pytest.mark.browser
def test_on_a_phone_the_customer_suggests_then_follows_it(
    ops: Ops, page: Any, live_server: Any, settings: Any
) -> None:
    """Suggesting, landing on the suggestion's status, then My requests: at 390 px no
    sideways scroll, no console error, and axe-core finds nothing critical or serious."""
    from playwright.sync_api import expect

    problems = watch(page)
    page.set_viewport_size(PHONE)
    log_in(page, ops.customer.user.email)
    page.goto(reverse("operations:feedback_give", args=[ops.org.slug, ops.service.pk]))
    page.get_by_label("4 — good").check()
    page.get_by_label("Suggest a change").fill("Send the pack two days before the board.")
    page.get_by_role("button", name="Send the feedback").click()
    expect(page.get_by_test_id("change-state")).to_have_text("Draft")
    expect(page.get_by_test_id("my-change-story")).to_contain_text("Raised on ")
    pages = {"status": page.url}
    page.get_by_role("link", name="My requests").first.click()
    expect(page.get_by_test_id("my-changes")).to_contain_text("Send the pack two days")
    pages["list"] = page.url
    for name, address in pages.items():
        page.goto(address)
        assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth"), name
        page.add_script_tag(url=settings.STATIC_URL + "vendor/axe-core/axe.min.js")
        found = page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        )
        serious = [v["id"] for v in found if v["impact"] in ("critical", "serious")]
        assert serious == [], (name, serious)
        screenshot(page, f"my-requests-{name}-390.png")
    assert problems == []
