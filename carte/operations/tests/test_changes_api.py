"""The API of change requests, improvements and feedback: the state machine over HTTP,
problem+json refusals that write nothing, tenancy on every operation, bounded lists."""

from __future__ import annotations

from typing import Any

import pytest

from carte.catalogue.services import service_update
from carte.core.testing import assert_constant_queries_each, assert_problem, no_writes
from carte.operations.models import ChangeRequest, Feedback, Improvement, Notice
from carte.operations.services import changes as services
from carte.operations.tests.conftest import Ops
from carte.operations.tests.test_changes_services import (
    approved,
    busy,
    raise_change,
    submitted,
)
from carte.organisations.testing import (
    Operation,
    api_operations,
    api_path,
    outsider_failures,
    outsider_paths,
)
from carte.organisations.tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

BASE = "/api/v1/orgs/acme"


def body(**extra: Any) -> dict[str, Any]:
    return {
        "title": "Add a RAID summary to the status pack",
        "description": "Boards want the top five risks on page one.",
        "raised_as": "operative",
        "reason": "feedback",
        "affects": ["catalogue"],
        **extra,
    }


def test_it_walks_a_change_through_the_api_and_publishes_a_version(ops: Ops) -> None:
    response = ops.operative.api.post(f"{BASE}/services/{ops.service.pk}/change-requests", body())
    assert response.status_code == 201, response.content
    created = response.json()
    cr_id = created["id"]
    assert created["reference"] == "CR-1" and created["state"] == "draft"
    assert created["raised_by"]["name"] == "Opal Operative"
    assert [e["to_state"] for e in created["events"]] == ["draft"]
    response = ops.manager.api.post(f"{BASE}/change-requests/{cr_id}/submit", {"note": "Ready."})
    assert response.json()["state"] == "submitted"
    assert Notice.objects.filter(recipient=ops.owner.user).count() == 1
    response = ops.owner.api.post(
        f"{BASE}/change-requests/{cr_id}/decide", {"approve": True, "note": "Agreed."}
    )
    assert response.json()["state"] == "approved"
    response = ops.manager.api.post(f"{BASE}/change-requests/{cr_id}/implement", {})
    problem = assert_problem(response, 409)
    assert "Nothing changed since version 1" in problem["detail"]
    service_update(
        actor=ops.manager.actor, service=ops.service, data={"summary": "Packs with a RAID page."}
    )
    response = ops.manager.api.post(f"{BASE}/change-requests/{cr_id}/implement", {"note": "Live."})
    done = response.json()
    assert done["state"] == "implemented"
    assert done["version_before"]["number"] == 1 and done["version"]["number"] == 2
    assert [e["to_state"] for e in done["events"]] == [
        "draft",
        "submitted",
        "approved",
        "implemented",
    ]


def test_a_decision_by_the_director_is_forbidden_and_writes_nothing(ops: Ops) -> None:
    cr = submitted(ops)
    with no_writes(cr):
        response = ops.director.api.post(
            f"{BASE}/change-requests/{cr.pk}/decide", {"approve": True, "note": "Fine."}
        )
    problem = assert_problem(response, 403)
    assert "Owner" in problem["detail"]


def test_wrong_states_are_409_and_bad_input_422_naming_the_field(ops: Ops) -> None:
    cr = raise_change(ops)
    with no_writes(cr):
        assert_problem(
            ops.owner.api.post(
                f"{BASE}/change-requests/{cr.pk}/decide", {"approve": True, "note": "Early."}
            ),
            409,
        )
        assert_problem(
            ops.manager.api.post(
                f"{BASE}/services/{ops.service.pk}/change-requests", body(title="")
            ),
            422,
            "title",
        )
        assert_problem(
            ops.manager.api.post(
                f"{BASE}/services/{ops.service.pk}/change-requests", body(affects=["budget"])
            ),
            422,
        )
        assert_problem(
            ops.manager.api.post(
                f"{BASE}/services/{ops.service.pk}/change-requests", body(raised_by=999999)
            ),
            422,
            "raised_by",
        )
        assert_problem(
            ops.manager.api.patch(f"{BASE}/change-requests/{cr.pk}", {"title": None}), 422, "title"
        )
    services.change_request_submit(actor=ops.director.actor, change=cr)
    with no_writes(cr):
        assert_problem(
            ops.owner.api.post(
                f"{BASE}/change-requests/{cr.pk}/decide", {"approve": True, "note": ""}
            ),
            422,
            "note",
        )


def test_it_edits_and_archives_a_change_request(ops: Ops) -> None:
    cr = raise_change(ops)
    response = ops.manager.api.patch(
        f"{BASE}/change-requests/{cr.pk}", {"title": "Clearer", "affects": ["strategy"]}
    )
    assert response.status_code == 200
    assert response.json()["title"] == "Clearer" and response.json()["affects"] == ["strategy"]
    assert_problem(ops.operative.api.post(f"{BASE}/change-requests/{cr.pk}/archive"), 403)
    response = ops.manager.api.post(f"{BASE}/change-requests/{cr.pk}/archive")
    assert response.json()["archived"] is True


def test_the_queue_lists_what_waits_oldest_decision_first(ops: Ops) -> None:
    approved(ops, title="Approved")
    submitted(ops, title="First submitted")
    raise_change(ops, title="Draft")
    items = ops.director.api.get(f"{BASE}/change-requests").json()["items"]
    assert [i["title"] for i in items] == ["First submitted", "Approved"]
    mine = ops.owner.api.get(f"{BASE}/change-requests", mine="true").json()["items"]
    assert [i["title"] for i in mine] == ["First submitted", "Approved"]
    mine = ops.operative.api.get(f"{BASE}/change-requests", mine="true").json()["items"]
    assert mine == []
    drafts = ops.director.api.get(f"{BASE}/change-requests", state="draft").json()["items"]
    assert [i["title"] for i in drafts] == ["Draft"]
    assert_problem(ops.customer.api.get(f"{BASE}/change-requests"), 403)


def test_improvements_through_the_api_need_the_owners_agreement(ops: Ops) -> None:
    path = f"{BASE}/services/{ops.service.pk}/improvements"
    response = ops.manager.api.post(path, {"title": "Automate the RAID roll-up"})
    assert response.status_code == 201
    imp = response.json()["id"]
    base = f"{BASE}/improvements/{imp}"
    assert ops.manager.api.post(f"{base}/status", {"status": "in_progress"}).status_code == 200
    assert_problem(ops.manager.api.post(f"{base}/status", {"status": "implemented"}), 409)
    response = ops.manager.api.post(f"{base}/request-agreement", {"note": "Running since May."})
    assert response.json()["status"] == "awaiting"
    assert_problem(ops.director.api.post(f"{base}/agree", {"agree": True}), 403)
    assert_problem(ops.owner.api.post(f"{base}/agree", {"agree": False}), 422, "note")
    assert ops.owner.api.post(f"{base}/agree", {"agree": True}).json()["status"] == "implemented"
    assert ops.manager.api.patch(base, {"title": "x"}).status_code == 409
    assert [i["id"] for i in ops.manager.api.get(path).json()["items"]] == [imp]


def test_customers_give_feedback_and_staff_read_it_with_satisfaction(ops: Ops) -> None:
    path = f"{BASE}/services/{ops.service.pk}/feedback"
    response = ops.customer.api.post(
        path, {"rating": 5, "comment": "Great.", "suggestion": "Add a benefits page."}
    )
    assert response.status_code == 201, response.content
    assert response.json()["change_request_id"] is not None
    cr = ChangeRequest.objects.get()
    assert cr.raised_as == "customer" and cr.reason == "feedback" and cr.state == "draft"
    with no_writes():
        assert_problem(ops.customer.api.post(path, {"rating": 7}), 422, "rating")
        assert_problem(
            ops.customer.api.post(
                f"{BASE}/services/{ops.other_service.pk}/feedback", {"rating": 4}
            ),
            403,
        )
        assert_problem(ops.viewer.api.post(path, {"rating": 4}), 403)
        assert_problem(ops.staff.api.post(path, {"rating": 4}), 422, "person")
    response = ops.staff.api.post(path, {"rating": 3, "person": ops.customer_person.pk})
    assert response.status_code == 201
    assert_problem(ops.customer.api.get(path), 403)
    listed = ops.staff.api.get(path).json()
    assert listed["count"] == 2
    sat = ops.staff.api.get(f"{BASE}/services/{ops.service.pk}/satisfaction").json()
    assert sat["count"] == 2 and float(sat["average"]) == 4.0
    assert len(sat["months"]) == 12 and sat["months"][-1]["count"] == 2
    assert_problem(ops.customer.api.get(f"{BASE}/services/{ops.service.pk}/satisfaction"), 403)
    assert Feedback.objects.count() == 2


# ---------------------------------------------------------------- tenancy


def operations(client: Any) -> list[Operation]:
    from carte.operations.api.changes import router

    ours = {op.operation_id for view in router.path_operations.values() for op in view.operations}
    return api_operations(client, lambda _, operation: operation["operationId"] in ours)


BODIES: dict[str, dict[str, Any]] = {
    "operations_change_requests_create": body(),
    "operations_change_requests_update": {"title": "Hijack"},
    "operations_change_requests_submit": {"note": "Hijack"},
    "operations_change_requests_decide": {"approve": True, "note": "Hijack"},
    "operations_change_requests_implement": {"note": "Hijack"},
    "operations_change_requests_archive": {},
    "operations_improvements_create": {"title": "Hijack"},
    "operations_improvements_update": {"title": "Hijack"},
    "operations_improvements_status": {"status": "dropped"},
    "operations_improvements_request_agreement": {"note": "Hijack"},
    "operations_improvements_agree": {"agree": True, "note": "Hijack"},
    "operations_improvements_archive": {},
    "operations_feedback_create": {"rating": 5},
}


def test_it_answers_404_to_an_outsider_on_every_operation(
    client: Any, ops: Ops, other_org: Any
) -> None:
    cr = raise_change(ops)
    improvement = services.improvement_create(
        actor=ops.manager.actor, service=ops.service, data={"title": "Idea"}
    )
    rows = {"{id}": ops.service, "{cr_id}": cr, "{improvement_id}": improvement}
    ops_list = operations(client)
    assert len(ops_list) == 22  # with my-requests and my-feedback (issue 13)
    assert all(o["operationId"].startswith("operations_") for _, _, o in ops_list)
    calls = []
    for method, template, operation in ops_list:
        assert method == "get" or operation["operationId"] in BODIES, operation["operationId"]
        payload = BODIES.get(operation["operationId"], {})
        for path in outsider_paths(template, rows, ops.org.slug, other_org.slug):
            calls.append((method, path, payload))
    with no_writes(cr, improvement, ops.service):
        assert outsider_failures(ops.outsider.api, calls) == []


def test_the_bodies_above_pass_validation(ops: Ops) -> None:
    """A member without rights gets past validation to a 403 (never a 422)."""
    cr = raise_change(ops)
    improvement = services.improvement_create(
        actor=ops.manager.actor, service=ops.service, data={"title": "Idea"}
    )
    from django.test import Client

    rows = {"{id}": ops.service, "{cr_id}": cr, "{improvement_id}": improvement}
    for method, template, operation in operations(Client()):
        if method == "get" or operation["operationId"] == "operations_change_requests_create":
            continue
        path = api_path(template, ops.org.slug, rows)
        response = getattr(ops.viewer.api, method)(path, BODIES[operation["operationId"]])
        assert response.status_code == 403, (path, response.content)


def test_the_api_lists_run_a_bounded_number_of_queries(ops: Ops) -> None:
    people = [PersonFactory(organisation=ops.org, customer_group=ops.group) for _ in range(4)]
    s = f"{BASE}/services/{ops.service.pk}"
    paths = [
        f"{s}/change-requests",
        f"{BASE}/change-requests",
        f"{s}/improvements",
        f"{s}/feedback",
        f"{s}/satisfaction",
    ]
    busy(ops, people, 2)
    # The token's first use of the day is recorded once: the first requests warm it.
    assert_constant_queries_each(ops.owner.api.get, paths, lambda: busy(ops, people, 10))
    assert Improvement.objects.count() == 12
