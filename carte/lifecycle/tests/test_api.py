"""The lifecycle API: every endpoint (success, 403, 404 for another organisation, 422
naming fields, 409 listing unmet conditions), a whole life through the API only, and
bounded queries."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from carte.catalogue.choices import ArtefactKind, Stage
from carte.catalogue.models import Artefact, Service, ServiceRole
from carte.catalogue.tests.factories import ArtefactFactory, ServiceFactory, SupplierFactory
from carte.conftest import Persona
from carte.core.testing import assert_constant_queries, assert_problem, no_writes
from carte.lifecycle import services
from carte.lifecycle.choices import READINESS_QUESTIONS
from carte.lifecycle.models import (
    ArtefactDecision,
    CriterionResult,
    EventAttachment,
    LifecycleEvent,
    PilotIteration,
    ReadinessAnswer,
    SetupDecision,
    SuccessCriterion,
    Task,
    TaskList,
    TransitionPhase,
)
from carte.lifecycle.tests.conftest import World
from carte.organisations.choices import OrgRole
from carte.organisations.testing import (
    Operation,
    api_operations,
    api_path,
    outsider_failures,
    outsider_paths,
)
from carte.organisations.tests.factories import CustomerGroupFactory, PersonFactory, PMOFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/orgs/acme"


def url(world: World, tail: str = "lifecycle", service: Service | None = None) -> str:
    return f"{API}/services/{(service or world.service).pk}/{tail}"


def today(days: int = 0) -> str:
    return (timezone.localdate() + dt.timedelta(days=days)).isoformat()


def decision_body(world: World, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "to": "approved_for_setup",
        "delivering_pmos": [world.pmo.pk],
        "owner": world.owner_person.pk,
        "managers": [{"pmo": world.pmo.pk, "person": world.manager_person.pk}],
        "sourcing": "in_house",
        "strategy_fit": "Supports objective 2 of the service strategy.",
        "capacity": "Two analysts free from March.",
        "other_services": "The PMO also runs reporting and gate reviews.",
        "stakeholders": "Programme directors asked for it.",
        "scope": "All programmes over 1 M EUR.",
    }
    body.update(overrides)
    return body


def pilot_body(world: World) -> dict[str, Any]:
    return {
        "to": "pilot",
        "starts_on": today(),
        "ends_on": today(30),
        "suppliers": [world.supplier.pk] if world.supplier else [],
        "customers": [world.group.pk],
        "operatives": [world.operative.pk],
    }


def plan_body(world: World) -> dict[str, Any]:
    return {
        "to": "transition",
        "approach": "phased",
        "behavioural_change": "Coaching for programme managers in the first month.",
        "phases": [
            {
                "name": "Finance programmes",
                "starts_on": today(),
                "ends_on": today(14),
                "customer_groups": [world.group.pk],
            },
            {"name": "Everyone else", "starts_on": today(15), "ends_on": today(45)},
        ],
    }


def results_body(world: World, result: str = "met") -> dict[str, Any]:
    return {
        "results": [
            {"criterion": c.pk, "result": result, "evidence": "Seen in the pilot's reports"}
            for c in SuccessCriterion.objects.filter(service=world.service, archived_at=None)
        ],
        "governance_in_place": True,
        "resources_confirmed": True,
        "outcomes_validated": True,
        "note": "Pilot went as planned.",
    }


def readiness_body(world: World, verdict: str = "ready") -> dict[str, Any]:
    return {
        "assessor": world.manager_person.pk,
        "assessed_on": today(),
        "answers": [{"question": q, "answer": "yes"} for q in READINESS_QUESTIONS],
        "verdict": verdict,
    }


def created(response: Any) -> Any:
    assert response.status_code == 201, response.content[:800]
    return response.json()


def ok(response: Any) -> Any:
    assert response.status_code == 200, response.content[:800]
    return response.json()


def stage_of(world: World) -> str:
    world.service.refresh_from_db()
    return world.service.stage


# ---------------------------------------------------------------- GET …/lifecycle


def test_it_shows_the_stage_the_checklists_and_the_callers_moves(world: World) -> None:
    body = ok(world.director.api.get(url(world)))
    assert (body["stage"], body["stage_label"]) == ("proposed", "Proposed")
    assert body["service"] == {"id": world.service.pk, "code": "REP", "name": world.service.name}
    assert body["age_days"] == 0 and body["since"]
    approve, defer, reject = body["next_moves"]
    assert (approve["name"], approve["target"], approve["payload"]) == (
        "approve",
        "approved_for_setup",
        "decision",
    )
    assert approve["who"] == "the PMO Director"
    assert (approve["allowed"], approve["ready"]) == (True, True)
    assert [c["code"] for c in approve["checklist"]] == ["outcome", "scope"]
    assert all(c["met"] for c in approve["checklist"])
    assert (defer["target"], reject["target"]) == ("deferred", "rejected")
    assert body["transitions"] == ["approved_for_setup", "deferred", "rejected"]
    assert (body["decision"], body["pilot"], body["plan"], body["closure"]) == (None,) * 4
    assert (body["criteria"], body["task_lists"], body["due_for_closure"]) == ([], [], None)

    staff = ok(world.staff.api.get(url(world)))
    assert [m["allowed"] for m in staff["next_moves"]] == [False, False, False]
    assert staff["transitions"] == []


def test_the_checklist_says_what_is_missing_and_no_move_is_offered(world: World) -> None:
    world.walk(Stage.DESIGN)
    body = ok(world.manager.api.get(url(world)))
    (pilot,) = body["next_moves"]
    assert (pilot["allowed"], pilot["ready"]) == (True, False)
    unmet = {c["code"]: c["hint"] for c in pilot["checklist"] if not c["met"]}
    assert set(unmet) == {"criteria", "criteria_agreed", "sipoc", "procedure", "setup_plan"}
    assert all(unmet.values())
    assert body["transitions"] == []


def test_it_shows_the_current_records(world: World) -> None:
    world.walk(Stage.SIGNED_OFF)
    body = ok(world.manager.api.get(url(world)))
    assert body["decision"]["owner"] == {"id": world.owner_person.pk, "name": "Olive Owner"}
    assert body["decision"]["managers"] == [{"pmo": "Group PMO", "person": "Manu Manager"}]
    assert body["decision"]["delivering_pmos"] == [{"id": world.pmo.pk, "name": "Group PMO"}]
    (criterion,) = body["criteria"]
    assert criterion["agreed_with_groups"] == [{"id": world.group.pk, "name": "Finance programmes"}]
    assert body["pilot"]["number"] == 1 and body["pilot"]["outcome"] == "passed"
    assert [r["result"] for r in body["pilot"]["results"]] == ["met"]
    world.walk(Stage.TRANSITION)
    body = ok(world.manager.api.get(url(world)))
    # Set-up records are behind the service now: on the timeline and the step endpoints.
    assert (body["criteria"], body["pilot"]) == ([], None)
    assert body["readiness"]["verdict"] == "ready"
    assert len(body["readiness"]["answers"]) == len(READINESS_QUESTIONS)
    assert [p["name"] for p in body["plan"]["phases"]] == ["Finance programmes", "Everyone else"]
    (setup,) = body["task_lists"]
    assert setup["purpose"] == "setup" and setup["template"]["name"] == "Service set-up plan"
    assert setup["progress"] == {"done": 0, "total": 3, "percent": 0}
    (go_live,) = body["next_moves"]
    assert [c["code"] for c in go_live["checklist"]] == ["plan_complete"]


def test_a_temporary_service_past_its_end_date_is_due_for_closure(world: World) -> None:
    world.walk(Stage.RUNNING)
    Service.objects.filter(pk=world.service.pk).update(
        is_temporary=True, end_date=timezone.localdate() - dt.timedelta(days=1)
    )
    body = ok(world.owner.api.get(url(world)))
    assert body["due_for_closure"] == {
        "end_date": today(-1),
        "proposed_reason": "end_date",
    }


def test_customers_do_not_read_the_lifecycle(world: World) -> None:
    world.walk(Stage.RUNNING)  # published: the customer sees the service itself
    assert world.customer.api.get(f"{API}/services/{world.service.pk}/published").status_code == 200
    for tail in ("lifecycle", "events", "criteria", "task-lists", "pilots", "readiness"):
        assert_problem(world.customer.api.get(url(world, tail)), 403)


def test_a_customer_does_not_learn_an_unpublished_service_exists(world: World) -> None:
    assert_problem(world.customer.api.get(url(world)), 404)


# ---------------------------------------------------------------- POST …/transitions


def test_the_director_approves_set_up_through_the_api(world: World) -> None:
    body = created(world.director.api.post(url(world, "transitions"), decision_body(world)))
    event = body["event"]
    assert (event["kind"], event["from_stage"], event["to_stage"]) == (
        "transition",
        "proposed",
        "approved_for_setup",
    )
    assert (event["title"], event["actor"]) == ("Set-up approved", world.director.user.email)
    assert body["lifecycle"]["stage"] == "approved_for_setup"
    assert body["lifecycle"]["decision"]["sourcing"] == "in_house"
    assert body["lifecycle"]["transitions"] == ["design"]
    assert stage_of(world) == "approved_for_setup"
    assert ServiceRole.objects.filter(service=world.service, role="owner").get().person == (
        world.owner_person
    )


def test_a_move_with_an_unmet_condition_is_409_listing_each(world: World) -> None:
    Service.objects.filter(pk=world.service.pk).update(outcome="", scopes=[])
    with no_writes(world.service):
        response = world.director.api.post(url(world, "transitions"), decision_body(world))
    body = assert_problem(response, 409)
    assert [u["code"] for u in body["unmet"]] == ["outcome", "scope"]
    assert all(u["label"] and u["hint"] for u in body["unmet"])


def test_a_move_without_the_right_is_403(world: World) -> None:
    for who in (world.pmo_manager, world.staff, world.owner):
        with no_writes(world.service):
            response = who.api.post(url(world, "transitions"), decision_body(world))
        assert_problem(response, 403)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"delivering_pmos": []}, "delivering_pmos"),
        ({"owner": None}, "owner"),
        ({"managers": []}, "managers"),
        ({"sourcing": "by magic"}, "sourcing"),
        ({"strategy_fit": " "}, "strategy_fit"),
        ({"colour": "red"}, "colour"),
        ({"to": "nowhere"}, "to"),
        ({"template": 1}, "template"),  # not a field of this move (or not here at all)
    ],
)
def test_a_bad_payload_is_422_naming_the_field(
    world: World, overrides: dict[str, Any], field: str
) -> None:
    with no_writes(world.service):
        response = world.director.api.post(
            url(world, "transitions"), decision_body(world, **overrides)
        )
    assert_problem(response, 422, field)


def test_ids_of_another_organisation_are_422_naming_the_field(world: World, other_org: Any) -> None:
    their_pmo = PMOFactory(organisation=other_org)
    their_person = PersonFactory(organisation=other_org)
    cases = [
        ({"delivering_pmos": [their_pmo.pk]}, "delivering_pmos"),
        ({"owner": their_person.pk}, "owner"),
        ({"managers": [{"pmo": world.pmo.pk, "person": their_person.pk}]}, "managers"),
        ({"managers": [{"pmo": their_pmo.pk, "person": world.manager_person.pk}]}, "managers"),
    ]
    for overrides, field in cases:
        with no_writes(world.service):
            response = world.director.api.post(
                url(world, "transitions"), decision_body(world, **overrides)
            )
        body = assert_problem(response, 422, field)
        assert "here" in body["errors"][field][0], overrides


def test_two_managers_for_one_pmo_are_refused(world: World) -> None:
    managers = [
        {"pmo": world.pmo.pk, "person": world.manager_person.pk},
        {"pmo": world.pmo.pk, "person": world.owner_person.pk},
    ]
    with no_writes(world.service):
        response = world.director.api.post(
            url(world, "transitions"), decision_body(world, managers=managers)
        )
    assert_problem(response, 422, "managers")


def test_an_illegal_move_is_409_naming_the_way_on(world: World) -> None:
    with no_writes(world.service):
        response = world.director.api.post(url(world, "transitions"), {"to": "running"})
    assert_problem(response, 409, detail="Approved for set-up")


def test_a_stale_expected_stage_is_409_just_moved(world: World) -> None:
    world.walk(Stage.APPROVED_FOR_SETUP)
    body = decision_body(world, expected_from="proposed")
    with no_writes(world.service):
        response = world.director.api.post(url(world, "transitions"), body)
    assert_problem(response, 409, detail="just moved")


def test_a_reason_move_needs_a_note_and_keeps_attachments(world: World) -> None:
    with no_writes(world.service):
        response = world.director.api.post(url(world, "transitions"), {"to": "deferred"})
    assert_problem(response, 422, "note")
    body = created(
        world.director.api.post(
            url(world, "transitions"),
            {
                "to": "deferred",
                "note": "Wait for next year's budget.",
                "attachments": [{"name": "Minutes", "url": "https://example.org/minutes"}],
            },
        )
    )
    assert body["event"]["note"] == "Wait for next year's budget."
    assert [(a["name"], a["url"], a["file"]) for a in body["event"]["attachments"]] == [
        ("Minutes", "https://example.org/minutes", None)
    ]
    assert body["lifecycle"]["transitions"] == ["proposed"]


def test_design_from_a_template_and_a_pilot_through_the_api(world: World) -> None:
    world.walk(Stage.APPROVED_FOR_SETUP)
    body = created(
        world.manager.api.post(
            url(world, "transitions"), {"to": "design", "template": world.setup_template.pk}
        )
    )
    assert [t["title"] for t in body["lifecycle"]["task_lists"][0]["tasks"]] == [
        "Write procedures",
        "Train operatives",
        "Brief customers",
    ]
    world.design_ready()
    payload = pilot_body(world)
    bad = payload | {"ends_on": today(-1)}
    with no_writes(world.service):
        assert_problem(world.manager.api.post(url(world, "transitions"), bad), 422, "ends_on")
    other_service = ServiceFactory(organisation=world.org)
    bad = payload | {"suppliers": [SupplierFactory(service=other_service).pk]}
    with no_writes(world.service):
        assert_problem(world.manager.api.post(url(world, "transitions"), bad), 422, "suppliers")
    body = created(world.manager.api.post(url(world, "transitions"), payload))
    pilot = body["lifecycle"]["pilot"]
    assert (pilot["number"], pilot["outcome"], pilot["result_at"]) == (1, "open", None)
    assert pilot["operatives"] == [{"id": world.operative.pk, "name": "Opal Operative"}]


# ---------------------------------------------------------------- the timeline


def test_the_timeline_is_paginated_newest_first_with_attachments(
    world: World, viewer: Persona
) -> None:
    world.walk(Stage.DESIGN)
    services.note_add(
        actor=world.manager.actor,
        service=world.service,
        note="Kick-off held.",
        attachments=[services.Attachment(name="Slides", url="https://example.org/slides")],
    )
    body = ok(viewer.api.get(url(world, "events")))
    titles = [e["title"] for e in body["items"]]
    assert body["count"] == len(titles) == 3
    assert titles == ["Note", "Design started", "Set-up approved"]
    assert body["items"][0]["attachments"][0]["name"] == "Slides"
    page = ok(viewer.api.get(url(world, "events"), page_size=1, page=2))
    assert [e["title"] for e in page["items"]] == ["Design started"]
    moves = ok(viewer.api.get(url(world, "events"), kind="transition"))
    assert [e["to_stage"] for e in moves["items"]] == ["design", "approved_for_setup"]
    assert_problem(viewer.api.get(url(world, "events"), kind="nonsense"), 422, "kind")


def test_notes(world: World) -> None:
    world.walk(Stage.APPROVED_FOR_SETUP)
    body = created(world.manager.api.post(url(world, "notes"), {"note": "Steering group met."}))
    assert (body["kind"], body["note"]) == ("note", "Steering group met.")
    with no_writes():
        assert_problem(world.manager.api.post(url(world, "notes"), {"note": "  "}), 422, "note")
        assert_problem(world.staff.api.post(url(world, "notes"), {"note": "Hello"}), 403)
        assert_problem(world.manager.api.post(url(world, "notes"), {}), 422, "note")


# ---------------------------------------------------------------- success criteria


def test_success_criteria_are_listed_added_changed_and_archived(world: World) -> None:
    world.walk(Stage.DESIGN)
    body = created(
        world.manager.api.post(
            url(world, "criteria"),
            {
                "description": "Reports on time",
                "measure": "4 of 5 programmes",
                "agreed_with_groups": [world.group.pk],
            },
        )
    )
    assert body["agreed_with_groups"] == [{"id": world.group.pk, "name": "Finance programmes"}]
    pk = body["id"]
    changed = ok(
        world.manager.api.patch(
            url(world, f"criteria/{pk}"),
            {"measure": "5 of 5", "agreed_with_people": [world.owner_person.pk]},
        )
    )
    assert changed["measure"] == "5 of 5"
    assert changed["agreed_with_people"] == [{"id": world.owner_person.pk, "name": "Olive Owner"}]
    assert [c["id"] for c in ok(world.staff.api.get(url(world, "criteria")))] == [pk]
    assert ok(world.manager.api.post(url(world, f"criteria/{pk}/archive")))["archived"] is True
    assert ok(world.manager.api.get(url(world, "criteria"))) == []


def test_criteria_refusals(world: World, other_org: Any) -> None:
    world.walk(Stage.DESIGN)
    criterion = services.criterion_create(
        actor=world.manager.actor,
        service=world.service,
        description="Reports on time",
        agreed_with_groups=[world.group],
    )
    theirs = CustomerGroupFactory(organisation=other_org)
    other = ServiceFactory(organisation=world.org)
    good = {"description": "Faster", "agreed_with_groups": [world.group.pk]}
    with no_writes(criterion):
        assert_problem(world.staff.api.post(url(world, "criteria"), good), 403)
        assert_problem(world.staff.api.patch(url(world, f"criteria/{criterion.pk}"), {}), 403)
        assert_problem(world.staff.api.post(url(world, f"criteria/{criterion.pk}/archive")), 403)
        bad = good | {"agreed_with_groups": [theirs.pk]}
        assert_problem(
            world.manager.api.post(url(world, "criteria"), bad), 422, "agreed_with_groups"
        )
        nobody = {"description": "Faster"}
        assert_problem(
            world.manager.api.post(url(world, "criteria"), nobody), 422, "agreed_with_groups"
        )
        assert_problem(
            world.manager.api.patch(url(world, f"criteria/{criterion.pk}"), {"description": None}),
            422,
            "description",
        )
        long = good | {"description": "x" * 301}
        assert_problem(world.manager.api.post(url(world, "criteria"), long), 422, "description")
        assert_problem(
            world.manager.api.patch(url(world, f"criteria/{criterion.pk}", other), {}), 404
        )
    world.walk(Stage.PILOT)
    with no_writes(criterion):
        assert_problem(world.manager.api.post(url(world, "criteria"), good), 409)


# ---------------------------------------------------------------- task lists and tasks


def test_task_lists_from_templates_and_tasks_with_progress(world: World) -> None:
    world.walk(Stage.APPROVED_FOR_SETUP)
    body = created(
        world.manager.api.post(
            url(world, "task-lists"), {"purpose": "setup", "template": world.setup_template.pk}
        )
    )
    assert (body["name"], body["progress"]) == (
        "Set-up of Portfolio reporting",
        {"done": 0, "total": 3, "percent": 0},
    )
    first = body["tasks"][0]
    done = ok(
        world.manager.api.patch(
            url(world, f"tasks/{first['id']}"),
            {"status": "done", "assignee": world.operative.pk},
        )
    )
    assert done["assignee"] == {"id": world.operative.pk, "name": "Opal Operative"}
    added = created(
        world.manager.api.post(
            url(world, f"task-lists/{body['id']}/tasks"),
            {"title": "Book the room", "due_on": today(3)},
        )
    )
    assert (added["status"], added["due_on"]) == ("todo", today(3))
    ok(world.manager.api.post(url(world, f"tasks/{added['id']}/archive")))
    (listed,) = ok(world.staff.api.get(url(world, "task-lists")))
    assert listed["progress"] == {"done": 1, "total": 3, "percent": 33}
    assert len(listed["tasks"]) == 3


def test_task_refusals(world: World, other_org: Any) -> None:
    world.walk(Stage.APPROVED_FOR_SETUP)
    task_list = services.task_list_create(
        actor=world.manager.actor,
        service=world.service,
        purpose="setup",
        template=world.setup_template,
    )
    task = task_list.tasks.first()
    assert task is not None
    theirs = PersonFactory(organisation=other_org)
    other = ServiceFactory(organisation=world.org)
    own = ArtefactFactory(organisation=world.org, owner_service=world.service)
    with no_writes(task_list, task):
        assert_problem(world.staff.api.post(url(world, "task-lists"), {"purpose": "setup"}), 403)
        assert_problem(world.staff.api.patch(url(world, f"tasks/{task.pk}"), {}), 403)
        assert_problem(
            world.staff.api.post(url(world, f"task-lists/{task_list.pk}/tasks"), {"title": "x"}),
            403,
        )
        assert_problem(world.staff.api.post(url(world, f"tasks/{task.pk}/archive")), 403)
        assert_problem(
            world.manager.api.patch(url(world, f"tasks/{task.pk}"), {"assignee": theirs.pk}),
            422,
            "assignee",
        )
        assert_problem(
            world.manager.api.patch(url(world, f"tasks/{task.pk}"), {"status": "someday"}),
            422,
            "status",
        )
        assert_problem(
            world.manager.api.post(
                url(world, "task-lists"), {"purpose": "setup", "template": world.pmo.pk + 10**6}
            ),
            422,
            "template",
        )
        assert_problem(
            world.manager.api.post(
                url(world, "task-lists"), {"purpose": "setup", "template": own.pk}
            ),
            422,
            "template",
        )
        assert_problem(
            world.manager.api.post(url(world, "task-lists"), {"purpose": "closure"}), 409
        )
        assert_problem(world.manager.api.patch(url(world, f"tasks/{task.pk}", other), {}), 404)


# ---------------------------------------------------------------- pilots and waivers


def test_a_pilot_result_is_recorded_and_listed(world: World) -> None:
    world.walk(Stage.PILOT)
    body = created(world.manager.api.post(url(world, "pilot-result"), results_body(world)))
    assert body["result_at"] and body["governance_in_place"] is True
    assert [(r["result"], r["passes"]) for r in body["results"]] == [("met", True)]
    (listed,) = ok(world.staff.api.get(url(world, "pilots")))
    assert listed["id"] == body["id"]
    lifecycle = ok(world.owner.api.get(url(world)))
    assert "signed_off" in lifecycle["transitions"]


def test_pilot_result_refusals(world: World) -> None:
    world.walk(Stage.PILOT)
    pilot = PilotIteration.objects.get(service=world.service)
    stranger = SuccessCriterion.objects.create(
        organisation=world.org,
        service=ServiceFactory(organisation=world.org),
        description="Elsewhere",
    )
    with no_writes(pilot):
        assert_problem(world.staff.api.post(url(world, "pilot-result"), results_body(world)), 403)
        assert_problem(
            world.manager.api.post(
                url(world, "pilot-result"), results_body(world) | {"results": []}
            ),
            422,
            "results",
        )
        body = results_body(world)
        body["results"].append({"criterion": stranger.pk, "result": "met"})
        assert_problem(world.manager.api.post(url(world, "pilot-result"), body), 422, "results.1")
        body = results_body(world)
        del body["governance_in_place"]
        assert_problem(
            world.manager.api.post(url(world, "pilot-result"), body), 422, "governance_in_place"
        )


def test_the_owner_waives_an_unmet_criterion(world: World) -> None:
    world.walk(Stage.PILOT)
    criterion = SuccessCriterion.objects.get(service=world.service)
    waiver = url(world, f"criteria/{criterion.pk}/waiver")
    with no_writes(criterion):
        assert_problem(world.owner.api.post(waiver, {"reason": "Fine"}), 409)  # no result yet
    created(world.manager.api.post(url(world, "pilot-result"), results_body(world, "not_met")))
    body = assert_problem(
        world.owner.api.post(url(world, "transitions"), {"to": "signed_off"}), 409
    )
    assert [u["code"] for u in body["unmet"]] == [f"criterion:{criterion.pk}"]
    result = CriterionResult.objects.get(criterion=criterion)
    with no_writes(result):
        assert_problem(world.director.api.post(waiver, {"reason": "Close enough"}), 403)
        assert_problem(world.owner.api.post(waiver, {"reason": "  "}), 422, "reason")
        assert_problem(world.owner.api.post(waiver, {}), 422, "reason")
    body = ok(world.owner.api.post(waiver, {"reason": "Four of five is fine this year."}))
    assert (body["waived"], body["waived_by"], body["passes"]) == (
        True,
        world.owner.user.email,
        True,
    )
    created(world.owner.api.post(url(world, "transitions"), {"to": "signed_off"}))


# ---------------------------------------------------------------- readiness and transition


def test_readiness_is_recorded_and_listed(world: World, other_org: Any) -> None:
    world.walk(Stage.SIGNED_OFF)
    body = created(world.manager.api.post(url(world, "readiness"), readiness_body(world)))
    assert body["assessor"] == {"id": world.manager_person.pk, "name": "Manu Manager"}
    assert [a["answer"] for a in body["answers"]] == ["yes"] * len(READINESS_QUESTIONS)
    assert [r["id"] for r in ok(world.staff.api.get(url(world, "readiness")))] == [body["id"]]
    no = readiness_body(world)
    no["answers"][0]["answer"] = "no"
    theirs = PersonFactory(organisation=other_org)
    with no_writes():
        assert_problem(world.staff.api.post(url(world, "readiness"), readiness_body(world)), 403)
        assert_problem(world.manager.api.post(url(world, "readiness"), no), 422, "verdict")
        assert_problem(
            world.manager.api.post(
                url(world, "readiness"), readiness_body(world) | {"assessor": theirs.pk}
            ),
            422,
            "assessor",
        )
        assert_problem(
            world.manager.api.post(
                url(world, "readiness"), readiness_body(world) | {"assessed_on": today(2)}
            ),
            422,
            "assessed_on",
        )


def test_transition_needs_readiness_then_phases_are_marked_done(world: World) -> None:
    world.walk(Stage.SIGNED_OFF)
    with no_writes(world.service):
        body = assert_problem(
            world.manager.api.post(url(world, "transitions"), plan_body(world)), 409
        )
    assert [u["code"] for u in body["unmet"]] == ["readiness"]
    created(world.manager.api.post(url(world, "readiness"), readiness_body(world)))
    bad = plan_body(world) | {"approach": "big_bang"}
    with no_writes(world.service):
        assert_problem(world.manager.api.post(url(world, "transitions"), bad), 422, "phases")
    bad = plan_body(world)
    bad["phases"][0]["customer_groups"] = [10**6]
    with no_writes(world.service):
        assert_problem(
            world.manager.api.post(url(world, "transitions"), bad),
            422,
            "phases.1.customer_groups",
        )
    body = created(world.manager.api.post(url(world, "transitions"), plan_body(world)))
    first, second = body["lifecycle"]["plan"]["phases"]
    phase = TransitionPhase.objects.get(pk=first["id"])
    with no_writes(phase):
        assert_problem(world.staff.api.patch(url(world, f"phases/{phase.pk}"), {"done": True}), 403)
        assert_problem(
            world.manager.api.patch(url(world, f"phases/{phase.pk}"), {"ends_on": today(-30)}),
            422,
            "ends_on",
        )
        assert_problem(
            world.manager.api.patch(url(world, f"phases/{phase.pk}"), {"done": None}), 422, "done"
        )
    assert ok(world.manager.api.patch(url(world, f"phases/{phase.pk}"), {"done": True}))["done"]
    lifecycle = ok(world.manager.api.get(url(world)))
    assert lifecycle["transitions"] == []
    ok(world.manager.api.patch(url(world, f"phases/{second['id']}"), {"done": True}))
    assert ok(world.manager.api.get(url(world)))["transitions"] == ["running"]


def test_a_phase_of_an_earlier_plan_is_a_conflict(world: World) -> None:
    world.walk(Stage.CLOSED)
    earlier = TransitionPhase.objects.filter(plan__service=world.service).order_by("id").first()
    assert earlier is not None
    world.transition_again()
    with no_writes(earlier):
        assert_problem(
            world.manager.api.patch(url(world, f"phases/{earlier.pk}"), {"name": "Renamed"}), 409
        )


def test_archived_criteria_and_tasks_are_conflicts(world: World) -> None:
    world.walk(Stage.APPROVED_FOR_SETUP)
    world.move(Stage.DESIGN, template=world.setup_template)
    criterion = services.criterion_create(
        actor=world.manager.actor,
        service=world.service,
        description="Reports on time",
        agreed_with_groups=[world.group],
    )
    services.criterion_archive(actor=world.manager.actor, criterion=criterion)
    task = Task.objects.filter(task_list__service=world.service).order_by("position").first()
    assert task is not None
    services.task_archive(actor=world.manager.actor, task=task)
    with no_writes(criterion, task):
        assert_problem(
            world.manager.api.patch(url(world, f"criteria/{criterion.pk}"), {"measure": "5"}), 409
        )
        assert_problem(
            world.manager.api.patch(url(world, f"tasks/{task.pk}"), {"status": "done"}), 409
        )


def test_a_temporary_supporting_service(world: World) -> None:
    world.walk(Stage.SIGNED_OFF)
    body = {"code": "REP-HELP", "name": "Reporting help desk", "end_date": today(90)}
    with no_writes():
        assert_problem(world.manager.api.post(url(world, "supporting-services"), body), 403)
        assert_problem(
            world.pmo_manager.api.post(
                url(world, "supporting-services"), body | {"end_date": today(-1)}
            ),
            422,
            "end_date",
        )
        assert_problem(
            world.pmo_manager.api.post(url(world, "supporting-services"), body | {"category": 0}),
            422,
            "category",
        )
    made = created(world.pmo_manager.api.post(url(world, "supporting-services"), body))
    assert (made["is_temporary"], made["supports_id"], made["stage"]) == (
        True,
        world.service.pk,
        "proposed",
    )


# ---------------------------------------------------------------- closure and after


def test_closure_with_artefact_decisions_then_a_successor(world: World) -> None:
    world.walk(Stage.RUNNING)
    body = {"to": "closing", "reason": "replaced", "explanation": "A dashboard does it."}
    with no_writes(world.service):
        assert_problem(
            world.owner.api.post(url(world, "transitions"), body), 422, "replacing_service"
        )
        assert_problem(
            world.manager.api.post(url(world, "transitions"), body | {"reason": "end_date"}), 403
        )
    created(
        world.owner.api.post(
            url(world, "transitions"),
            body | {"reason": "objective_achieved", "template": world.closure_template.pk},
        )
    )
    own = list(Artefact.objects.filter(owner_service=world.service, archived_at=None))
    assert own
    lifecycle = ok(world.owner.api.get(url(world)))
    (approve,) = lifecycle["next_moves"]
    assert {c["code"] for c in approve["checklist"] if not c["met"]} == {
        f"artefact:{a.pk}" for a in own
    }
    assert lifecycle["closure"]["reason"] == "objective_achieved"
    elsewhere = ArtefactFactory(organisation=world.org)
    decide = url(world, "artefact-decisions")
    with no_writes():
        assert_problem(
            world.staff.api.post(decide, {"artefact": own[0].pk, "fate": "keep", "note": "x"}),
            403,
        )
        assert_problem(
            world.manager.api.post(decide, {"artefact": elsewhere.pk, "fate": "keep", "note": "x"}),
            422,
            "artefact",
        )
        assert_problem(
            world.manager.api.post(decide, {"artefact": own[0].pk, "fate": "burn", "note": "x"}),
            422,
            "fate",
        )
        assert_problem(
            world.manager.api.post(decide, {"artefact": own[0].pk, "fate": "keep", "note": " "}),
            422,
            "note",
        )
    for artefact in own:
        made = created(
            world.manager.api.post(
                decide, {"artefact": artefact.pk, "fate": "keep", "note": "Reuse"}
            )
        )
        assert (made["artefact"], made["fate"]) == (artefact.name, "keep")
    assert ArtefactDecision.objects.filter(closure__service=world.service).count() == len(own)
    successor = {"code": "REP-NEW", "name": "Reporting again"}
    with no_writes():
        assert_problem(world.pmo_manager.api.post(url(world, "successors"), successor), 409)
    with no_writes(world.service):
        assert_problem(
            world.owner.api.post(url(world, "transitions"), {"to": "closed"}), 422, "approve"
        )
    created(world.owner.api.post(url(world, "transitions"), {"to": "closed", "approve": True}))
    with no_writes():
        assert_problem(world.staff.api.post(url(world, "successors"), successor), 403)
        assert_problem(
            world.pmo_manager.api.post(
                url(world, "successors"), successor | {"delivering_pmos": [10**6]}
            ),
            422,
            "delivering_pmos",
        )
    made = created(
        world.pmo_manager.api.post(
            url(world, "successors"), successor | {"delivering_pmos": [world.pmo.pk]}
        )
    )
    assert (made["origin_id"], made["stage"]) == (world.service.pk, "proposed")


# ---------------------------------------------------------------- tenancy


def bodies(world: World) -> dict[str, dict[str, Any]]:
    """A body each operation would accept (ids of acme's rows), so only tenancy or rights
    can refuse it."""
    group, person = world.group.pk, world.manager_person.pk
    artefact = Artefact.objects.filter(owner_service=world.service).values_list("pk", flat=True)
    return {
        "lifecycle_transition": {"to": "deferred", "note": "Hijack"},
        "lifecycle_notes_create": {"note": "Hijack"},
        "lifecycle_criteria_create": {"description": "Hijack", "agreed_with_groups": [group]},
        "lifecycle_criteria_update": {"description": "Hijack"},
        "lifecycle_criteria_archive": {},
        "lifecycle_criteria_waive": {"reason": "Hijack"},
        "lifecycle_task_lists_create": {"purpose": "setup"},
        "lifecycle_tasks_create": {"title": "Hijack"},
        "lifecycle_tasks_update": {"status": "done"},
        "lifecycle_tasks_archive": {},
        "lifecycle_pilot_result_record": {
            "results": [],
            "governance_in_place": True,
            "resources_confirmed": True,
            "outcomes_validated": True,
        },
        "lifecycle_readiness_create": {
            "assessor": person,
            "assessed_on": "2026-01-01",
            "answers": [],
            "verdict": "ready",
        },
        "lifecycle_phases_update": {"done": True},
        "lifecycle_supporting_services_create": {
            "code": "HIJACK",
            "name": "Hijack",
            "end_date": "2099-01-01",
        },
        "lifecycle_artefact_decisions_create": {
            "artefact": artefact.first(),
            "fate": "keep",
            "note": "Hijack",
        },
        "lifecycle_successors_create": {"code": "HIJACK", "name": "Hijack"},
        "lifecycle_template_tasks_create": {"title": "Hijack"},
        "lifecycle_template_tasks_update": {"title": "Hijack"},
        "lifecycle_template_tasks_archive": {},
    }


def path_rows(world: World) -> dict[str, Any]:
    """The service taken to transition, and the row each placeholder of a lifecycle path
    names."""
    world.walk(Stage.TRANSITION)
    task_list = TaskList.objects.get(service=world.service)
    rows = {
        "{id}": world.service,
        "{criterion_id}": SuccessCriterion.objects.get(service=world.service),
        "{task_list_id}": task_list,
        "{task_id}": task_list.tasks.first(),
        "{phase_id}": TransitionPhase.objects.filter(plan__service=world.service).first(),
        "{template_id}": world.setup_template,
        "{template_task_id}": world.setup_template.template_tasks.first(),
    }
    assert None not in rows.values()
    return rows


def lifecycle_operations(client: Any) -> list[Operation]:
    return api_operations(client, lambda _, op: op["operationId"].startswith("lifecycle_"))


def test_it_answers_404_to_an_outsider_on_every_lifecycle_operation(
    client: Any, world: World, outsider: Persona, other_org: Any
) -> None:
    rows = path_rows(world)
    ops = lifecycle_operations(client)
    assert len(ops) >= 22
    body_of = bodies(world)
    calls = []
    for method, template, operation in ops:
        body = body_of.get(operation["operationId"], {})
        assert method == "get" or operation["operationId"] in body_of, operation["operationId"]
        # A path without an id lists the outsider's own rows in their organisation
        # (test_templates checks them).
        for path in outsider_paths(template, rows, world.org.slug, other_org.slug):
            assert "{" not in path, path
            calls.append((method, path, body))
    with no_writes(*rows.values()):
        assert outsider_failures(outsider.api, calls) == []


def test_the_bodies_above_pass_validation(world: World, persona: Any) -> None:
    """The tenancy matrix means something only if its bodies would be accepted: a member
    of acme without rights gets past validation to a 403 or 409 (never 422)."""
    rows = path_rows(world)
    staff = world.staff
    # PMO staff may change templates (catalogue artefacts); a viewer may not.
    viewer = persona(OrgRole.VIEWER)
    body_of = bodies(world)
    for method, template, operation in lifecycle_operations(world.staff.api.client):
        if method == "get":
            continue
        path = api_path(template, "acme", rows)
        rightless = viewer if "{template_id}" in template else staff
        response = getattr(rightless.api, method)(path, body_of[operation["operationId"]])
        assert response.status_code in (403, 409), (path, response.content[:300])


def test_another_organisations_service_is_404_to_a_member(world: World, other_org: Any) -> None:
    theirs = ServiceFactory(organisation=other_org)
    assert_problem(world.director.api.get(url(world, "lifecycle", theirs)), 404)
    with no_writes(theirs):
        assert_problem(
            world.director.api.post(
                url(world, "transitions", theirs), {"to": "deferred", "note": "x"}
            ),
            404,
        )


# ---------------------------------------------------------------- a whole life, API only


def test_a_whole_life_through_the_api_only(world: World) -> None:
    """From proposal to closure and reintroduction, every step a request of the persona
    who takes it. The service's procedure document exists beforehand: the catalogue's API
    links artefacts but does not create them."""
    director, owner, manager, pmo_manager = (
        world.director.api,
        world.owner.api,
        world.manager.api,
        world.pmo_manager.api,
    )
    procedure = ArtefactFactory(
        organisation=world.org,
        owner_service=world.service,
        kind=ArtefactKind.PROCEDURE,
        name="Reporting procedure",
    )
    service = f"{API}/services/{world.service.pk}"

    def move(api: Any, to: str, **payload: Any) -> dict[str, Any]:
        lifecycle = ok(api.get(url(world)))
        assert to in lifecycle["transitions"], (to, lifecycle["next_moves"])
        body = {"to": to, "expected_from": lifecycle["stage"], **payload}
        state = created(api.post(url(world, "transitions"), body))["lifecycle"]
        assert state["stage"] == to
        return state

    # Proposed -> approved for set-up -> design, with a set-up plan from the template.
    move(
        director,
        "approved_for_setup",
        **{k: v for k, v in decision_body(world).items() if k != "to"},
    )
    state = move(manager, "design", template=world.setup_template.pk)
    assert state["task_lists"][0]["progress"]["total"] == 3

    # Design: the SIPOC and procedure through the catalogue's API, a criterion here.
    supplier = created(manager.post(f"{service}/suppliers", {"name": "PM", "kind": "role"}))
    created(manager.post(f"{service}/inputs", {"name": "Status", "supplier_id": supplier["id"]}))
    created(manager.post(f"{service}/steps", {"name": "Compile", "performer": "Analyst"}))
    created(
        manager.post(
            f"{service}/outputs", {"name": "Report", "customer_group_ids": [world.group.pk]}
        )
    )
    created(manager.post(f"{service}/customers", {"customer_group_id": world.group.pk}))
    criterion = created(
        manager.post(
            url(world, "criteria"),
            {"description": "Reports on time", "agreed_with_groups": [world.group.pk]},
        )
    )
    pilot = pilot_body(world) | {"suppliers": [supplier["id"]]}
    del pilot["to"]

    # Two pilot iterations: the first misses its criterion, the second is waived.
    move(manager, "pilot", **pilot)
    results = results_body(world, "not_met")
    created(manager.post(url(world, "pilot-result"), results))
    move(manager, "design", note="Change the reporting calendar and try again.")
    move(manager, "pilot", **pilot)
    created(manager.post(url(world, "pilot-result"), results))
    ok(owner.post(url(world, f"criteria/{criterion['id']}/waiver"), {"reason": "Good enough."}))
    state = move(owner, "signed_off", note="Signed at the steering group.")
    assert state["pilot"]["number"] == 2 and state["pilot"]["outcome"] == "passed"

    # Readiness, a phased transition with a temporary helper, go-live.
    created(manager.post(url(world, "readiness"), readiness_body(world)))
    helper = created(
        pmo_manager.post(
            url(world, "supporting-services"),
            {"code": "REP-HELP", "name": "Reporting help desk", "end_date": today(60)},
        )
    )
    plan = plan_body(world)
    del plan["to"]
    state = move(manager, "transition", **plan)
    for phase in state["plan"]["phases"]:
        ok(manager.patch(url(world, f"phases/{phase['id']}"), {"done": True}))
    state = move(manager, "running")
    assert ok(world.customer.api.get(f"{service}/published"))["number"] == 1

    # Closure: reason and task list, a decision on the artefact, the Owner's approval.
    state = move(
        owner,
        "closing",
        reason="objective_achieved",
        explanation="Every programme now reports on its own.",
        template=world.closure_template.pk,
    )
    closure_list = next(t for t in state["task_lists"] if t["purpose"] == "closure")
    for task in closure_list["tasks"]:
        ok(manager.patch(url(world, f"tasks/{task['id']}"), {"status": "done"}))
    created(
        manager.post(
            url(world, "artefact-decisions"),
            {"artefact": procedure.pk, "fate": "keep", "note": "Reusable."},
        )
    )
    state = move(owner, "closed", approve=True)
    assert state["closure"]["approved_by"] == world.owner.user.email
    assert state["closure"]["decisions"][0]["fate"] == "keep"

    # Another PMO starts a successor; the service itself is reintroduced.
    successor = created(
        pmo_manager.post(url(world, "successors"), {"code": "REP-NEW", "name": "Reporting 2"})
    )
    assert successor["origin_id"] == world.service.pk
    move(owner, "design", note="Demand is back.")

    events = ok(director.get(url(world, "events"), kind="transition", page_size=50))["items"]
    assert [(e["from_stage"], e["to_stage"]) for e in reversed(events)] == [
        ("proposed", "approved_for_setup"),
        ("approved_for_setup", "design"),
        ("design", "pilot"),
        ("pilot", "design"),
        ("design", "pilot"),
        ("pilot", "signed_off"),
        ("signed_off", "transition"),
        ("transition", "running"),
        ("running", "closing"),
        ("closing", "closed"),
        ("closed", "design"),
    ]
    assert [p.number for p in PilotIteration.objects.filter(service=world.service)] == [2, 1]
    assert Service.objects.get(pk=helper["id"]).supports_id == world.service.pk
    assert SetupDecision.objects.filter(service=world.service).count() == 1


# ---------------------------------------------------------------- bounded queries


def _grow(world: World) -> None:
    """More of every record the lifecycle GET shows, each with its relations."""
    service, org = world.service, world.org
    pilot = PilotIteration.objects.filter(service=service).order_by("-number").first()
    plan = service.transition_plans.first()
    readiness = service.readiness_assessments.first()
    closure = service.closures.first()
    decision = SetupDecision.objects.filter(service=service).first()
    for i in range(3):
        group = CustomerGroupFactory(organisation=org)
        person = PersonFactory(organisation=org)
        criterion = SuccessCriterion.objects.create(
            organisation=org, service=service, description=f"More {i}", position=100 + i
        )
        criterion.agreed_with_groups.add(group)
        criterion.agreed_with_people.add(person)
        if pilot is not None:
            CriterionResult.objects.create(
                organisation=org, pilot=pilot, criterion=criterion, result="met"
            )
            pilot.customers.add(group)
            pilot.operatives.add(person)
        if plan is not None:
            phase = TransitionPhase.objects.create(
                organisation=org,
                plan=plan,
                name=f"Phase {i}",
                starts_on=timezone.localdate(),
                ends_on=timezone.localdate(),
                position=10 + i,
            )
            phase.customer_groups.add(group)
        if readiness is not None:
            ReadinessAnswer.objects.create(
                organisation=org, assessment=readiness, question=f"Q{i}", answer="yes"
            )
        if decision is not None:
            decision.delivering_pmos.add(PMOFactory(organisation=org))
        task_list = TaskList.objects.create(
            organisation=org, service=service, purpose="setup", name=f"List {i}"
        )
        Task.objects.create(organisation=org, task_list=task_list, title="T", assignee=person)
        artefact = ArtefactFactory(organisation=org, owner_service=service)
        if closure is not None:
            ArtefactDecision.objects.create(
                organisation=org, closure=closure, artefact=artefact, fate="keep", note="n"
            )


@pytest.mark.parametrize("stage", [Stage.PILOT, Stage.TRANSITION, Stage.CLOSING])
def test_the_lifecycle_makes_the_same_queries_at_any_size(world: World, stage: str) -> None:
    world.walk(stage)
    if stage == Stage.PILOT:
        world.record_pilot()
    assert_constant_queries(lambda: world.manager.api.get(url(world)), lambda: _grow(world))


def test_the_timeline_makes_the_same_queries_at_any_size(world: World) -> None:
    world.walk(Stage.DESIGN)

    def grow() -> None:
        for i in range(5):
            event = LifecycleEvent.objects.create(
                organisation=world.org,
                service=world.service,
                kind="note",
                title=f"Note {i}",
                at=timezone.now(),
                actor=world.manager.user,
                actor_label="m",
            )
            for j in range(2):
                EventAttachment.objects.create(
                    organisation=world.org, event=event, name=f"A{j}", url="https://example.org/"
                )

    assert_constant_queries(lambda: world.manager.api.get(url(world, "events")), grow)
