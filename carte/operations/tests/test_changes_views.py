"""The pages of change requests, improvements and feedback: each persona sees and does
what they may, refusals show on the form and write nothing, an outsider gets 404
everywhere, and the lists run a bounded number of queries."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from carte.catalogue.services import service_update
from carte.core.testing import assert_constant_queries_each, no_writes
from carte.operations.choices import ChangeState, ImprovementStatus
from carte.operations.models import ChangeRequest, Feedback, Improvement
from carte.operations.services import changes as services
from carte.operations.tests.conftest import Ops
from carte.operations.tests.test_changes_services import (
    approved,
    busy,
    raise_change,
    submitted,
)
from carte.organisations.tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def url(name: str, ops: Ops, *args: Any) -> str:
    return reverse(f"operations:{name}", args=[ops.org.slug, ops.service.pk, *args])


def test_it_raises_a_change_through_the_page_and_shows_it(ops: Ops) -> None:
    client = ops.manager.client
    assert client.get(url("change_create", ops)).status_code == 200
    response = client.post(
        url("change_create", ops),
        {
            "title": "Quarterly gate-review calendar",
            "description": "Publish the calendar of gate reviews for the quarter.",
            "raised_as": "manager",
            "reason": "policy",
            "affects": ["catalogue", "handbook"],
        },
    )
    cr = ChangeRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("change_detail", ops, cr.pk)
    assert cr.affects == ["catalogue", "handbook"] and cr.raised_by == ops.manager_person
    page = client.get(url("change_detail", ops, cr.pk)).content.decode()
    assert "CR-1 Quarterly gate-review calendar" in page
    assert "Submit for the Owner" in page
    listing = client.get(url("change_list", ops)).content.decode()
    assert "Quarterly gate-review calendar" in listing


def test_a_bad_form_shows_the_error_next_to_the_field_and_writes_nothing(ops: Ops) -> None:
    with no_writes(ops.service):
        response = ops.manager.client.post(
            url("change_create", ops),
            {"title": "", "description": "x", "raised_as": "manager", "reason": "policy"},
        )
    assert response.status_code == 422
    assert b"id_title_error" in response.content


def test_the_owner_decides_on_the_page_and_others_are_refused(ops: Ops) -> None:
    cr = submitted(ops)
    decide = url("change_decide", ops, cr.pk)
    for who in (ops.director, ops.manager, ops.pmo_manager):
        with no_writes(cr):
            assert who.client.post(decide, {"decision": "approve", "note": "OK"}).status_code == 403
        assert b"Your decision" not in who.client.get(url("change_detail", ops, cr.pk)).content
    owner_page = ops.owner.client.get(url("change_detail", ops, cr.pk)).content
    assert b"Your decision" in owner_page
    with no_writes(cr):
        response = ops.owner.client.post(decide, {"decision": "approve", "note": " "})
    assert response.status_code == 422
    assert b"id_note_error" in response.content
    response = ops.owner.client.post(decide, {"decision": "reject", "note": "Not this year."})
    assert response.status_code == 302
    cr.refresh_from_db()
    assert cr.state == ChangeState.REJECTED and cr.decision_note == "Not this year."


def test_a_decision_on_a_change_decided_meanwhile_is_a_conflict_on_the_form(ops: Ops) -> None:
    cr = approved(ops)
    with no_writes(cr):
        response = ops.owner.client.post(
            url("change_decide", ops, cr.pk), {"decision": "reject", "note": "No."}
        )
    assert response.status_code == 409
    assert b"only a submitted change request can be decided" in response.content


def test_htmx_forms_swap_in_place_and_redirect_on_success(ops: Ops) -> None:
    cr = raise_change(ops)
    hx = {"HX-Request": "true"}
    response = ops.manager.client.post(url("change_submit", ops, cr.pk), {"note": ""}, headers=hx)
    assert response.status_code == 204
    assert response["HX-Redirect"] == url("change_detail", ops, cr.pk)
    response = ops.owner.client.post(
        url("change_decide", ops, cr.pk), {"decision": "approve"}, headers=hx
    )
    assert response.status_code == 422
    assert b"<form" in response.content and b"<html" not in response.content


def test_implementing_a_catalogue_change_shows_the_version_and_its_diff(ops: Ops) -> None:
    cr = approved(ops, affects=["catalogue"])
    implement = url("change_implement", ops, cr.pk)
    response = ops.manager.client.post(implement, {"note": ""})
    assert response.status_code == 409
    assert b"Nothing changed since version 1" in response.content
    service_update(
        actor=ops.manager.actor, service=ops.service, data={"summary": "Packs with benefits."}
    )
    assert ops.manager.client.post(implement, {"note": "Done."}).status_code == 302
    page = ops.manager.client.get(url("change_detail", ops, cr.pk)).content.decode()
    assert "Version 2 published" in page
    diff = reverse("version_diff", args=[ops.org.slug, ops.service.pk, 1, 2])
    assert diff in page
    versions = ops.manager.client.get(
        reverse("service_detail", args=[ops.org.slug, ops.service.pk]) + "?tab=versions"
    ).content.decode()
    assert url("change_detail", ops, cr.pk) in versions


def test_the_queue_puts_decisions_first_and_filters_what_waits_for_me(ops: Ops) -> None:
    later = approved(ops, title="Approved one")
    first = submitted(ops, title="Submitted one")
    raise_change(ops, title="Still a draft")
    elsewhere = submitted(
        ops, ops.director.actor, title="Another service's", service=ops.other_service
    )
    queue = reverse("operations:change_queue", args=[ops.org.slug])
    page = ops.director.client.get(queue).content.decode()
    assert "Still a draft" not in page
    assert page.index("Submitted one") < page.index("Approved one")
    assert "Another service&#x27;s" in page
    mine = ops.owner.client.get(queue, {"mine": "true"}).content.decode()
    assert "Submitted one" in mine and "Another service" not in mine
    assert "Approved one" in mine  # the Owner manages the service too
    manager = ops.manager.client.get(queue, {"mine": "true"}).content.decode()
    assert "Approved one" in manager and "Submitted one" not in manager
    results = ops.director.client.get(
        queue, {"state": "draft"}, headers={"HX-Request": "true"}
    ).content.decode()
    assert "Still a draft" in results and "<html" not in results
    assert first.pk and later.pk and elsewhere.pk


def test_improvements_move_on_the_log_and_the_owner_agrees(ops: Ops) -> None:
    client = ops.manager.client
    response = client.post(
        url("improvement_create", ops),
        {"title": "Template for highlight reports", "expected_benefit": "Fewer rewrites."},
    )
    assert response.status_code == 302
    improvement = Improvement.objects.get()
    for status in (ImprovementStatus.IN_PROGRESS, ImprovementStatus.AWAITING):
        client.post(url("improvement_move", ops, improvement.pk), {"status": status})
    improvement.refresh_from_db()
    assert improvement.status == ImprovementStatus.AWAITING
    assert b"Agree or send back" not in client.get(url("improvement_list", ops)).content
    assert b"Agree or send back" in ops.owner.client.get(url("improvement_list", ops)).content
    assert ops.director.client.get(url("improvement_agree", ops, improvement.pk)).status_code == 403
    response = ops.owner.client.post(
        url("improvement_agree", ops, improvement.pk), {"agree": "yes"}
    )
    assert response.status_code == 302
    improvement.refresh_from_db()
    assert improvement.status == ImprovementStatus.IMPLEMENTED


def test_a_refused_move_says_why_and_writes_nothing(ops: Ops) -> None:
    improvement = services.improvement_create(
        actor=ops.manager.actor, service=ops.service, data={"title": "Idea"}
    )
    with no_writes(improvement):
        response = ops.manager.client.post(
            url("improvement_move", ops, improvement.pk), {"status": "implemented"}, follow=True
        )
    assert b"Only the service&#x27;s Owner marks an improvement implemented" in response.content


def test_a_customer_gives_feedback_with_a_suggestion_on_its_own_page(ops: Ops) -> None:
    give = reverse("operations:feedback_give", args=[ops.org.slug, ops.service.pk])
    client = ops.customer.client
    detail = client.get(reverse("service_detail", args=[ops.org.slug, ops.service.pk]))
    assert give.encode() in detail.content
    assert client.get(give).status_code == 200
    assert b"On behalf of" not in client.get(give).content
    response = client.post(
        give,
        {"rating": "4", "comment": "Good packs.", "suggestion": "Add a one-page summary."},
        follow=True,
    )
    assert b"Your suggestion has gone to the service" in response.content
    feedback = Feedback.objects.get()
    assert feedback.person == ops.customer_person and feedback.change_request is not None
    assert client.get(url("change_list", ops)).status_code == 403
    assert client.get(url("feedback_list", ops)).status_code == 403


def test_feedback_is_refused_to_customers_of_other_services(ops: Ops) -> None:
    give = reverse("operations:feedback_give", args=[ops.org.slug, ops.other_service.pk])
    with no_writes():
        response = ops.customer.client.post(give, {"rating": "5"})
    assert response.status_code == 403
    assert ops.viewer.client.get(url("feedback_give", ops)).status_code == 403


def test_a_bad_rating_is_shown_on_the_field(ops: Ops) -> None:
    with no_writes():
        response = ops.customer.client.post(url("feedback_give", ops), {"rating": "9"})
    assert response.status_code == 422
    assert b"id_rating_error" in response.content


def test_staff_record_feedback_for_a_customer_and_see_satisfaction(ops: Ops) -> None:
    response = ops.staff.client.post(
        url("feedback_give", ops),
        {"person": ops.customer_person.pk, "rating": "2", "comment": "Too long."},
    )
    assert response.status_code == 302
    page = ops.staff.client.get(url("feedback_list", ops)).content.decode()
    assert "Too long." in page
    assert 'data-testid="satisfaction-average">2.0' in page
    assert "<svg" in page and 'role="img"' in page


def test_the_operations_tab_shows_changes_improvements_and_satisfaction(ops: Ops) -> None:
    submitted(ops, title="Benefits page")
    services.improvement_create(
        actor=ops.manager.actor, service=ops.service, data={"title": "Shorter pack"}
    )
    services.feedback_give(actor=ops.customer.actor, service=ops.service, rating=5)
    page = ops.manager.client.get(
        reverse("operations:service", args=[ops.org.slug, ops.service.pk])
    ).content.decode()
    assert 'data-testid="section-changes"' in page
    assert "CR-1 Benefits page" in page and "Shorter pack" in page and "5.0/5" in page


def test_an_outsider_gets_404_on_every_page(ops: Ops, other_org: Any) -> None:
    from carte.operations.views.changes import urlpatterns

    cr = submitted(ops)
    improvement = services.improvement_create(
        actor=ops.manager.actor, service=ops.service, data={"title": "Idea"}
    )
    items = {"improvement": improvement.pk, "change": cr.pk}
    names = {p.name for p in urlpatterns}
    assert {"change_queue", "change_detail", "feedback_give", "improvement_agree"} <= names
    with no_writes(cr, improvement, ops.service):
        for pattern in urlpatterns:
            kwargs: dict[str, Any] = {}
            if "pk" in pattern.pattern.converters:
                kwargs["pk"] = ops.service.pk
            if "item" in pattern.pattern.converters:
                kwargs["item"] = items[str(pattern.name).split("_")[0]]
            for slug in (ops.org.slug, other_org.slug) if kwargs else (ops.org.slug,):
                path = reverse(f"operations:{pattern.name}", kwargs={"org": slug, **kwargs})
                assert ops.outsider.client.get(path).status_code == 404, path
                data = {"note": "x", "decision": "approve", "rating": "5", "status": "dropped"}
                assert ops.outsider.client.post(path, data).status_code == 404, path


def test_the_lists_run_a_bounded_number_of_queries(ops: Ops) -> None:
    people = [PersonFactory(organisation=ops.org, customer_group=ops.group) for _ in range(6)]
    paths = [
        url("change_list", ops),
        reverse("operations:change_queue", args=[ops.org.slug]),
        url("improvement_list", ops),
        url("feedback_list", ops),
        reverse("operations:service", args=[ops.org.slug, ops.service.pk]),
    ]
    busy(ops, people, 2)
    # The first request of a session reads more (its session): the first requests warm it.
    assert_constant_queries_each(ops.owner.client.get, paths, lambda: busy(ops, people, 12))


@pytest.mark.parametrize("ordering", ["bogus", "--updated"])
def test_an_unknown_ordering_is_reported_and_the_list_keeps_its_default_order(
    ops: Ops, ordering: str
) -> None:
    raise_change(ops)
    pages = [
        url("change_list", ops),
        url("improvement_list", ops),
        reverse("operations:change_queue", args=[ops.org.slug]),
    ]
    for page in pages:
        response = ops.director.client.get(page, {"ordering": ordering})
        assert response.status_code == 200, page
