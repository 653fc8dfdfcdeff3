"""The risks and issues API: the register, the story's steps (with problem+json refusals
that write nothing), actions, the escalations list, tenancy on every operation, and
bounded queries."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from carte.conftest import Persona
from carte.core.clock import today
from carte.core.testing import assert_constant_queries, assert_problem, no_writes
from carte.operations.models import ItemAction, Notice, RiskIssue
from carte.operations.services import items as services
from carte.operations.tests.conftest import Ops
from carte.operations.tests.factories import RiskIssueFactory
from carte.organisations.testing import (
    Operation,
    api_operations,
    api_path,
    outsider_failures,
    outsider_paths,
)

pytestmark = pytest.mark.django_db

API = "/api/v1/orgs/acme"


def created(response: Any) -> Any:
    assert response.status_code == 201, response.content[:800]
    return response.json()


def ok(response: Any) -> Any:
    assert response.status_code == 200, response.content[:800]
    return response.json()


def register(ops: Ops) -> str:
    return f"{API}/services/{ops.service.pk}/risks-issues"


def item_path(item: Any, tail: str = "") -> str:
    pk = item["id"] if isinstance(item, dict) else item.pk
    return f"{API}/risks-issues/{pk}{tail}"


def body(ops: Ops, **extra: Any) -> dict[str, Any]:
    return {
        "title": "Gate reviewers double-booked",
        "cause": "Two programmes booked the same panel.",
        "effect": "A gate review slips by a fortnight.",
        "probability": 3,
        "impact": 4,
        "owner": ops.operative_person.pk,
        **extra,
    }


def test_it_raises_escalates_and_decides_through_the_api(ops: Ops) -> None:
    item = created(ops.operative.api.post(register(ops), body(ops)))
    assert (item["kind"], item["level"], item["score"], item["status"]) == ("risk", 1, 12, "open")
    assert item["owner"] == {"id": ops.operative_person.pk, "name": "Opal Operative"}
    assert item["service"]["code"] == "REP"
    step = created(ops.operative.api.post(item_path(item, "/escalate"), {"note": "Panel clash."}))
    assert step["event"]["to_level"] == 2 and step["item"]["level"] == 2
    assert Notice.objects.filter(recipient=ops.manager.user).count() == 1
    created(ops.manager.api.post(item_path(item, "/escalate"), {"note": "Owner please."}))
    top = ok(ops.owner.api.get(item_path(item)))
    assert top["level"] == 3 and top["level_label"] == "Service ownership"
    # Past the top: 409 and nothing written.
    stored = RiskIssue.objects.get(pk=item["id"])
    with no_writes(stored):
        assert_problem(
            ops.owner.api.post(item_path(item, "/escalate"), {"note": "Higher."}),
            409,
            detail="the top level",
        )
    # The Director may not decide in the Owner's place.
    with no_writes(stored):
        assert_problem(
            ops.director.api.post(item_path(item, "/decide"), {"decision": "accept", "note": "Ok"}),
            403,
            detail="Only the Service Owner",
        )
    decided = created(
        ops.owner.api.post(
            item_path(item, "/decide"), {"decision": "accept", "note": "We live with it."}
        )
    )
    assert decided["item"]["decision"] == "accept"
    assert decided["event"]["kind"] == "decided"
    events = ok(ops.owner.api.get(item_path(item, "/events")))
    assert [e["kind"] for e in events["items"]] == ["decided", "escalated", "escalated", "raised"]


def test_it_refuses_bad_input_with_problem_json_naming_the_field(ops: Ops) -> None:
    with no_writes():
        assert_problem(ops.operative.api.post(register(ops), body(ops, probability=9)), 422)
        assert_problem(ops.operative.api.post(register(ops), body(ops, title="")), 422, "title")
        assert_problem(ops.operative.api.post(register(ops), body(ops, owner=999999)), 422, "owner")
        assert_problem(ops.operative.api.post(register(ops), body(ops, colour="red")), 422)
        assert_problem(ops.operative.api.post(register(ops), body(ops, level=3)), 422, "level")
    item = RiskIssueFactory(service=ops.service)
    with no_writes(item):
        assert_problem(
            ops.operative.api.post(item_path(item, "/escalate"), {"note": ""}), 422, "note"
        )
        assert_problem(ops.operative.api.post(item_path(item, "/deescalate"), {"note": "x"}), 409)
        assert_problem(ops.staff.api.post(item_path(item, "/escalate"), {"note": "x"}), 403)
        # A customer may not see risks: the item is hidden, as if it did not exist.
        assert_problem(ops.customer.api.get(item_path(item)), 404)
        assert_problem(ops.operative.api.patch(item_path(item), {"probability": None}), 422)


def test_it_changes_an_item_and_makes_it_an_issue(ops: Ops) -> None:
    item = created(ops.operative.api.post(register(ops), body(ops)))
    changed = ok(ops.operative.api.patch(item_path(item), {"impact": 5, "owner": None}))
    assert (changed["score"], changed["owner"]) == (15, None)
    step = created(
        ops.operative.api.post(item_path(item, "/make-issue"), {"note": "The review slipped."})
    )
    assert step["item"]["kind"] == "issue" and step["item"]["became_issue_at"]
    closed = created(ops.operative.api.post(item_path(item, "/close"), {"note": "Rebooked."}))
    assert closed["item"]["status"] == "closed"
    assert ok(ops.operative.api.get(register(ops)))["count"] == 0  # open ones by default
    assert ok(ops.operative.api.get(register(ops), state="closed"))["count"] == 1
    created(ops.operative.api.post(item_path(item, "/reopen"), {"note": "Slipped again."}))
    archived = ok(ops.manager.api.post(item_path(item, "/archive")))
    assert archived["archived"] is True
    assert ok(ops.manager.api.post(item_path(item, "/restore")))["archived"] is False


def test_it_manages_actions(ops: Ops) -> None:
    item = RiskIssueFactory(service=ops.service)
    action = created(
        ops.operative.api.post(
            item_path(item, "/actions"),
            {
                "description": "Book a second panel",
                "owner": ops.operative_person.pk,
                "due_date": (today() - dt.timedelta(days=1)).isoformat(),
            },
        )
    )
    assert action["purpose"] == "mitigation" and action["overdue"] is True
    path = item_path(item, f"/actions/{action['id']}")
    assert ok(ops.operative.api.get(item_path(item)))["overdue_actions"] == 1
    done = ok(ops.operative.api.post(path + "/done", {"done": True}))
    assert done["done_at"] and done["overdue"] is False
    moved = ok(ops.operative.api.patch(path, {"due_date": "2030-01-31"}))
    assert moved["due_date"] == "2030-01-31"
    assert ok(ops.operative.api.get(item_path(item, "/actions")))["count"] == 1
    ok(ops.operative.api.post(path + "/archive"))
    assert ok(ops.operative.api.get(item_path(item, "/actions")))["count"] == 0
    with no_writes():
        assert_problem(
            ops.operative.api.post(item_path(item, "/actions"), {"description": "x"}), 422
        )


def test_the_escalations_list_filters_mine(ops: Ops) -> None:
    two = RiskIssueFactory(service=ops.service, level=2)
    three = RiskIssueFactory(service=ops.service, level=3, probability=1)
    RiskIssueFactory(service=ops.service, level=1)
    RiskIssueFactory(service=ops.other_service, level=2)
    everything = ok(ops.director.api.get(f"{API}/escalations"))
    assert everything["count"] == 3
    assert everything["items"][0]["id"] == three.pk
    mine = ok(ops.manager.api.get(f"{API}/escalations", mine="true"))
    assert [i["id"] for i in mine["items"]] == [two.pk]
    assert_problem(ops.customer.api.get(f"{API}/escalations"), 403)


# ---------------------------------------------------------------- tenancy


def operations(client: Any) -> list[Operation]:
    def ours(template: str, operation: dict[str, Any]) -> bool:
        name = operation["operationId"]
        return name.startswith(("operations_items", "operations_item_")) or (
            name == "operations_escalations_list"
        )

    return api_operations(client, ours)


def bodies(ops: Ops) -> dict[str, dict[str, Any]]:
    person = ops.operative_person.pk
    return {
        "operations_items_create": body(ops),
        "operations_items_update": {"title": "Hijack"},
        "operations_items_archive": {},
        "operations_items_restore": {},
        "operations_items_escalate": {"note": "Hijack"},
        "operations_items_deescalate": {"note": "Hijack"},
        "operations_items_make_issue": {"note": "Hijack"},
        "operations_items_decide": {"decision": "accept", "note": "Hijack"},
        "operations_items_close": {"note": "Hijack"},
        "operations_items_reopen": {"note": "Hijack"},
        "operations_item_actions_create": {
            "description": "Hijack",
            "owner": person,
            "due_date": "2030-01-01",
        },
        "operations_item_actions_update": {"description": "Hijack"},
        "operations_item_actions_done": {"done": True},
        "operations_item_actions_archive": {},
    }


def path_rows(ops: Ops) -> dict[str, Any]:
    """An escalated risk with an action, and the row each placeholder of a path names."""
    item = RiskIssueFactory(service=ops.service, level=2)
    action = ItemAction.objects.create(
        organisation=ops.org,
        item=item,
        purpose="mitigation",
        description="Book a panel",
        owner=ops.operative_person,
        due_date=today(),
    )
    return {"{id}": ops.service, "{item_id}": item, "{action_id}": action}


def test_it_answers_404_to_an_outsider_on_every_operation(
    client: Any, ops: Ops, outsider: Persona, other_org: Any
) -> None:
    rows = path_rows(ops)
    found = operations(client)
    assert len(found) >= 19
    body_of = bodies(ops)
    calls = []
    for method, template, operation in found:
        assert method == "get" or operation["operationId"] in body_of, operation["operationId"]
        body = body_of.get(operation["operationId"])
        for path in outsider_paths(template, rows, ops.org.slug, other_org.slug):
            calls.append((method, path, body))
    with no_writes(*rows.values()):
        assert outsider_failures(outsider.api, calls) == []


def test_the_bodies_above_pass_validation(ops: Ops) -> None:
    """A member without a role on the service gets past validation to a 403."""
    rows = path_rows(ops)
    body_of = bodies(ops)
    for method, template, operation in operations(ops.staff.api.client):
        if method == "get":
            continue
        path = api_path(template, "acme", rows)
        response = getattr(ops.staff.api, method)(path, body_of[operation["operationId"]])
        assert response.status_code == 403, (path, response.content[:300])


# ---------------------------------------------------------------- queries


def test_the_lists_run_a_bounded_number_of_queries(ops: Ops) -> None:
    def grow(n: int) -> None:
        for i in range(n):
            item = RiskIssueFactory(service=ops.service, level=1 + i % 3, owner=ops.manager_person)
            services.action_create(
                actor=ops.system,
                item=item,
                data={
                    "description": "Chase Finance",
                    "owner": ops.manager_person,
                    "due_date": today(),
                },
            )

    grow(2)
    api = ops.director.api
    first = RiskIssue.objects.first()
    assert first is not None
    assert_constant_queries(lambda: api.get(register(ops)), lambda: grow(12))
    assert_constant_queries(lambda: api.get(f"{API}/escalations"), lambda: grow(12))
    assert_constant_queries(lambda: api.get(item_path(first, "/actions")), lambda: grow(3))
    assert_constant_queries(lambda: api.get(item_path(first, "/events")), lambda: grow(3))
