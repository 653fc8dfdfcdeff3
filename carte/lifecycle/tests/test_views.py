"""The lifecycle's pages: the Lifecycle panel, each move's form, the step forms, the board.

Each page for the roles that may see it, 403/404 for those who may not and for another
organisation; each form's happy path and a refusal shown next to its field with nothing
written; the 409 list of unmet conditions; the stale-form conflict; constant queries.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from carte.catalogue import services as catalogue
from carte.catalogue.choices import Stage
from carte.catalogue.models import Artefact, Service
from carte.catalogue.tests.factories import ArtefactFactory, ServiceFactory
from carte.conftest import Persona
from carte.core.testing import assert_constant_queries, no_writes
from carte.lifecycle import forms, machine, models, services
from carte.lifecycle.choices import READINESS_QUESTIONS, CriterionResultKind
from carte.lifecycle.tests.conftest import World
from carte.organisations.actor import Actor
from carte.organisations.choices import OrgRole
from carte.organisations.tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def url(name: str, world: World, *args: Any, service: Service | None = None) -> str:
    return reverse(f"lifecycle:{name}", args=[world.org.slug, (service or world.service).pk, *args])


def move_url(world: World, move: str) -> str:
    return url("move", world, move)


def board_url(world: World) -> str:
    return reverse("lifecycle:board", args=[world.org.slug])


def html(response: Any) -> str:
    return str(response.content.decode())


def field_error(response: Any, name: str) -> str | None:
    """The error shown next to one form field, or None."""
    match = re.search(
        rf'<div class="invalid-feedback[^"]*" id="id_{re.escape(name)}_error"[^>]*>([^<]*)</div>',
        html(response),
    )
    return match.group(1).strip() if match else None


def assert_refused(response: Any, field: str, text: str = "", status: int = 422) -> None:
    assert response.status_code == status, html(response)[:3000]
    message = field_error(response, field)
    assert message, f"no error shown next to {field!r}"
    assert text in message, message


def stage_of(world: World) -> str:
    return str(Service.objects.values_list("stage", flat=True).get(pk=world.service.pk))


def decision_post(world: World, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "expected_from": "proposed",
        "delivering_pmos": [world.pmo.pk],
        "owner": world.owner_person.pk,
        f"manager_{world.pmo.pk}": world.manager_person.pk,
        "sourcing": "in_house",
        "strategy_fit": "Supports objective 2.",
        "capacity": "Two analysts free from March.",
        "other_services": "Reporting and gate reviews.",
        "stakeholders": "Programme directors asked for it.",
        "scope": "All programmes over 1 M EUR.",
        "note": "Decided at the March board.",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def pilot_post(world: World, **overrides: Any) -> dict[str, Any]:
    today = timezone.localdate()
    data: dict[str, Any] = {
        "expected_from": "design",
        "starts_on": today.isoformat(),
        "ends_on": (today + dt.timedelta(days=30)).isoformat(),
        "customers": [world.group.pk],
        "operatives": [world.operative.pk],
    }
    data.update(overrides)
    return data


def plan_post(world: World, phases: list[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "expected_from": "signed_off",
        "approach": "phased",
        "behavioural_change": "Coaching in the first month.",
        "phases-TOTAL_FORMS": str(max(3, len(phases))),
        "phases-INITIAL_FORMS": "0",
        "phases-MIN_NUM_FORMS": "0",
        "phases-MAX_NUM_FORMS": "20",
    }
    for i, phase in enumerate(phases):
        for key, value in phase.items():
            data[f"phases-{i}-{key}"] = value
    data.update(overrides)
    return data


# ---------------------------------------------------------------- the panel, by role


def test_the_director_sees_the_checklist_and_the_set_up_buttons(world: World) -> None:
    response = world.director.client.get(url("service", world))
    assert response.status_code == 200
    page = html(response)
    assert "Portfolio reporting" in page and "REP" in page
    assert reverse("service_detail", args=[world.org.slug, world.service.pk]) in page
    for move in ("approve", "defer", "reject"):
        assert f'href="{move_url(world, move)}"' in page
    assert "The proposal states the intended outcome" in page
    assert 'aria-current="step">Proposed' in page


def test_the_manager_sees_only_the_buttons_they_may_press(world: World) -> None:
    world.walk(Stage.APPROVED_FOR_SETUP)
    page = html(world.manager.client.get(url("service", world)))
    assert f'href="{move_url(world, "design")}"' in page
    world.walk(Stage.PILOT)
    world.record_pilot()
    page = html(world.manager.client.get(url("service", world)))
    assert f'href="{move_url(world, "iterate")}"' in page
    assert f'href="{move_url(world, "sign_off")}"' not in page
    assert "For the Service Owner" in page
    owner_page = html(world.owner.client.get(url("service", world)))
    assert f'href="{move_url(world, "sign_off")}"' in owner_page


@pytest.mark.parametrize("role", [OrgRole.VIEWER, OrgRole.STAFF])
def test_viewers_and_staff_see_the_panel_without_buttons(
    world: World, persona: Any, role: str
) -> None:
    world.walk(Stage.DESIGN)
    services.note_add(actor=world.manager.actor, service=world.service, note="Kick-off held.")
    reader = world.staff if role == OrgRole.STAFF else persona(role)
    response = reader.client.get(url("service", world))
    assert response.status_code == 200
    page = html(response)
    assert "Kick-off held." in page and "Design started" in page
    assert "/moves/" not in page
    assert 'name="note"' not in page
    assert "Add a success criterion" not in page
    for name in ("approve", "pilot"):
        assert reader.client.get(move_url(world, name)).status_code == 403
    with no_writes():
        response = reader.client.post(url("note", world), {"note": "Sneaky"})
    assert response.status_code == 403


def test_customers_get_404_for_an_unpublished_service_and_403_for_a_published_one(
    world: World,
) -> None:
    client = world.customer.client
    assert client.get(url("service", world)).status_code == 404
    world.walk(Stage.RUNNING)
    assert (
        client.get(reverse("service_detail", args=[world.org.slug, world.service.pk])).status_code
        == 200
    )
    assert client.get(url("service", world)).status_code == 403
    assert client.get(board_url(world)).status_code == 403
    assert client.get(move_url(world, "close")).status_code == 403
    assert b">Lifecycle<" not in client.get(reverse("catalogue", args=[world.org.slug])).content


def test_another_organisation_gets_404_on_every_lifecycle_page(
    world: World, outsider: Persona, other_org: Any
) -> None:
    from carte.lifecycle.urls import urlpatterns

    world.walk(Stage.TRANSITION)
    services.note_add(
        actor=world.manager.actor,
        service=world.service,
        note="Minutes",
        attachments=[services.Attachment(name="Minutes", url="https://example.com/m")],
    )
    criterion = models.SuccessCriterion.objects.get(service=world.service)
    task = models.Task.objects.filter(task_list__service=world.service).first()
    assert task is not None
    values = {
        "pk": world.service.pk,
        "move": "go_live",
        "list_pk": task.task_list_id,
        "item": criterion.pk,
        "template_pk": world.setup_template.pk,
    }
    items = {
        "attachment": models.EventAttachment.objects.get().pk,
        "task_update": task.pk,
        "task_status": task.pk,
        "task_archive": task.pk,
        "template_task_archive": world.setup_template.template_tasks.first().pk,  # type: ignore[union-attr]
        "waive": models.CriterionResult.objects.get().pk,
        "phase_update": models.TransitionPhase.objects.first().pk,  # type: ignore[union-attr]
        "phase_done": models.TransitionPhase.objects.first().pk,  # type: ignore[union-attr]
        "artefact_decide": Artefact.objects.filter(owner_service=world.service).first().pk,  # type: ignore[union-attr]
    }
    assert {p.name for p in urlpatterns} >= {"board", "service", "move", "note"}
    with no_writes(world.service, criterion, task):
        for pattern in urlpatterns:
            kwargs = {k: v for k, v in values.items() if k in pattern.pattern.converters}
            if "item" in kwargs:
                kwargs["item"] = items.get(str(pattern.name), criterion.pk)
            for slug in (world.org.slug, other_org.slug) if kwargs else (world.org.slug,):
                path = reverse(f"lifecycle:{pattern.name}", kwargs={"org": slug, **kwargs})
                assert outsider.client.get(path).status_code == 404, path
                data = {"note": "Hijack", "status": "done", "expected_from": "transition"}
                assert outsider.client.post(path, data).status_code == 404, path


def test_anonymous_visitors_are_sent_to_the_login(world: World) -> None:
    from django.test import Client

    for path in (url("service", world), board_url(world), move_url(world, "approve")):
        response = Client().get(path)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


# ---------------------------------------------------------------- the set-up decision


def test_the_director_approves_set_up_through_the_decision_form(world: World) -> None:
    other = ServiceFactory(organisation=world.org, code="GATE", name="Gate reviews")
    other.delivering_pmos.set([world.pmo])
    response = world.director.client.get(move_url(world, "approve"))
    assert response.status_code == 200
    page = html(response)
    assert "Gate reviews" in page and "Proposed" in page  # the PMO's other services
    assert 'name="expected_from" value="proposed"' in page
    response = world.director.client.post(move_url(world, "approve"), decision_post(world))
    assert response.status_code == 302
    assert response["Location"] == url("service", world)
    assert stage_of(world) == Stage.APPROVED_FOR_SETUP
    decision = models.SetupDecision.objects.get(service=world.service)
    assert decision.owner == world.owner_person
    event = models.LifecycleEvent.objects.get(service=world.service, kind="transition")
    assert event.note == "Decided at the March board."
    page = html(world.director.client.get(url("service", world)))
    assert "Set-up decision" in page and "Supports objective 2." in page


def test_a_decision_without_a_manager_for_its_pmo_is_refused_next_to_the_field(
    world: World,
) -> None:
    with no_writes(world.service):
        response = world.director.client.post(
            move_url(world, "approve"),
            decision_post(world, **{f"manager_{world.pmo.pk}": "", "strategy_fit": ""}),
        )
    assert_refused(response, f"manager_{world.pmo.pk}", "Appoint a Service Manager")
    assert_refused(response, "strategy_fit", "required")
    page = html(response)
    assert "All programmes over 1 M EUR." in page  # what was typed is kept
    assert "Decided at the March board." in page


def test_an_outsourced_decision_without_provider_is_refused_by_the_service(world: World) -> None:
    with no_writes(world.service):
        response = world.director.client.post(
            move_url(world, "approve"), decision_post(world, sourcing="outsource_part")
        )
    assert_refused(response, "provider_name", "Name the provider")


def test_a_move_with_unmet_conditions_answers_409_listing_them(world: World) -> None:
    Service.objects.filter(pk=world.service.pk).update(outcome="", scopes="")
    with no_writes(world.service):
        response = world.director.client.post(move_url(world, "approve"), decision_post(world))
    assert response.status_code == 409
    page = html(response)
    assert "Approve set-up is not possible yet" in page
    assert "Still missing" in page
    edit = reverse("service_update", args=[world.org.slug, world.service.pk])
    assert f'<a href="{edit}">The proposal does not state the intended outcome' in page
    assert "The proposal names no scope yet" in page
    assert "Supports objective 2." in page  # nothing typed is lost


def test_a_stale_form_gets_the_conflict_message(world: World) -> None:
    world.move(Stage.DEFERRED, world.director, note="Budget not there yet.")
    with no_writes(world.service):
        response = world.director.client.post(move_url(world, "approve"), decision_post(world))
    assert response.status_code == 409
    page = html(response)
    assert "has just moved from Proposed to Deferred" in page
    assert "reload to see what changed" in page
    assert "Supports objective 2." in page


def test_a_stale_form_with_errors_still_names_the_conflict(world: World) -> None:
    world.move(Stage.DEFERRED, world.director, note="Budget not there yet.")
    with no_writes(world.service):
        response = world.director.client.post(
            move_url(world, "approve"), decision_post(world, scope="")
        )
    assert response.status_code == 409
    assert "has moved from Proposed to Deferred" in html(response)


def test_a_form_opened_at_another_stage_says_the_move_is_not_available(world: World) -> None:
    response = world.director.client.get(move_url(world, "reintroduce"))
    assert response.status_code == 409
    assert "is not a move from here" in html(response)
    assert world.director.client.get(move_url(world, "fly")).status_code == 404


def test_defer_needs_a_reason(world: World) -> None:
    with no_writes(world.service):
        response = world.director.client.post(
            move_url(world, "defer"), {"expected_from": "proposed", "note": " "}
        )
    assert_refused(response, "note", "required")
    response = world.director.client.post(
        move_url(world, "defer"), {"expected_from": "proposed", "note": "Next year."}
    )
    assert response.status_code == 302
    assert stage_of(world) == Stage.DEFERRED


# ---------------------------------------------------------------- design and pilot


def test_design_starts_with_a_template_task_list(world: World) -> None:
    world.walk(Stage.APPROVED_FOR_SETUP)
    response = world.manager.client.post(
        move_url(world, "design"),
        {"expected_from": "approved_for_setup", "template": world.setup_template.pk},
    )
    assert response.status_code == 302
    assert stage_of(world) == Stage.DESIGN
    assert list(
        models.Task.objects.filter(task_list__service=world.service).values_list("title", flat=True)
    ) == ["Write procedures", "Train operatives", "Brief customers"]


def test_a_template_that_is_not_a_coe_template_is_refused(world: World) -> None:
    world.walk(Stage.APPROVED_FOR_SETUP)
    with no_writes(world.service):
        response = world.manager.client.post(
            move_url(world, "design"),
            {"expected_from": "approved_for_setup", "template": world.owner_person.pk + 9999},
        )
    assert_refused(response, "template", "Select a valid choice")


def test_the_manager_starts_a_pilot_and_bad_dates_are_refused(world: World) -> None:
    world.walk(Stage.DESIGN)
    world.design_ready()
    today = timezone.localdate()
    with no_writes(world.service):
        response = world.manager.client.post(
            move_url(world, "pilot"),
            pilot_post(world, ends_on=(today - dt.timedelta(days=1)).isoformat()),
        )
    assert_refused(response, "ends_on", "cannot end before it starts")
    with no_writes(world.service):
        response = world.manager.client.post(
            move_url(world, "pilot"), pilot_post(world, customers=[])
        )
    assert_refused(response, "customers", "Select the customers")
    response = world.manager.client.post(move_url(world, "pilot"), pilot_post(world))
    assert response.status_code == 302
    pilot = models.PilotIteration.objects.get(service=world.service)
    assert list(pilot.customers.all()) == [world.group]


def test_the_design_checklist_links_to_where_each_gap_is_filled(world: World) -> None:
    world.walk(Stage.DESIGN)
    page = html(world.manager.client.get(url("service", world)))
    detail = reverse("service_detail", args=[world.org.slug, world.service.pk])
    assert f'<a href="{detail}?tab=sipoc">The process is not defined yet' in page
    assert f'<a href="{detail}?tab=artefacts">No procedure is defined yet' in page
    assert f'<a href="{url("service", world)}#criteria">No success criteria are written' in page
    assert f'<a href="{url("service", world)}#tasks">The set-up project has no task list' in page


# ---------------------------------------------------------------- criteria and tasks


def test_criteria_are_added_with_htmx_and_refused_without_who_agreed(world: World) -> None:
    world.walk(Stage.DESIGN)
    client = world.manager.client
    form = client.get(url("criterion_create", world), headers=HTMX)
    assert form.status_code == 200 and b"<html" not in form.content
    with no_writes():
        response = client.post(
            url("criterion_create", world), {"description": "On time"}, headers=HTMX
        )
    assert_refused(response, "agreed_with_groups", "Name the customers")
    assert b"<html" not in response.content  # the form alone, swapped in place
    response = client.post(
        url("criterion_create", world),
        {"description": "On time", "agreed_with_groups": [world.group.pk]},
        headers=HTMX,
    )
    assert response.status_code == 204
    assert response["HX-Redirect"] == url("service", world)
    criterion = models.SuccessCriterion.objects.get(service=world.service)
    response = client.post(
        url("criterion_update", world, criterion.pk),
        {"description": "On time, always", "agreed_with_groups": [world.group.pk]},
    )
    assert response.status_code == 302
    criterion.refresh_from_db()
    assert criterion.description == "On time, always"
    client.post(url("criterion_archive", world, criterion.pk))
    criterion.refresh_from_db()
    assert criterion.archived_at is not None


def test_tasks_are_ticked_done_with_htmx_and_the_progress_follows(world: World) -> None:
    world.walk(Stage.DESIGN)
    task_list = services.task_list_create(
        actor=world.manager.actor,
        service=world.service,
        purpose="setup",
        template=world.setup_template,
    )
    first = task_list.tasks.order_by("position").first()
    assert first is not None
    client = world.manager.client
    assert "0 of 3 done (0%)" in html(client.get(url("service", world)))
    response = client.post(url("task_status", world, first.pk), {"status": "done"}, headers=HTMX)
    assert response.status_code == 200
    fragment = html(response)
    assert fragment.lstrip().startswith(f'<div class="mb-3" id="tasklist-{task_list.pk}"')
    assert "1 of 3 done (33%)" in fragment
    assert "Reopen: Write procedures" in fragment
    first.refresh_from_db()
    assert first.status == "done"
    response = client.post(url("task_status", world, first.pk), {"status": "todo"})
    assert response.status_code == 302
    assert response["Location"].endswith(f"#tasklist-{task_list.pk}")
    with no_writes(first):
        response = client.post(
            url("task_status", world, first.pk), {"status": "bogus"}, headers=HTMX
        )
    assert response.status_code == 422
    assert (
        world.staff.client.post(url("task_status", world, first.pk), {"status": "done"}).status_code
        == 403
    )


def test_a_task_is_added_edited_and_refused_without_title(world: World) -> None:
    world.walk(Stage.DESIGN)
    task_list = services.task_list_create(
        actor=world.manager.actor, service=world.service, purpose="setup", name="Set-up"
    )
    client = world.manager.client
    with no_writes():
        response = client.post(
            url("task_create", world, task_list.pk), {"title": "", "status": "todo"}
        )
    assert_refused(response, "title", "required")
    response = client.post(
        url("task_create", world, task_list.pk),
        {"title": "Book the room", "assignee": world.operative.pk, "status": "todo"},
    )
    assert response.status_code == 302
    task = models.Task.objects.get(task_list=task_list)
    response = client.post(
        url("task_update", world, task.pk), {"title": "Book the big room", "status": "doing"}
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.title, task.status, task.assignee) == ("Book the big room", "doing", None)


def test_a_task_list_is_started_from_the_panel(world: World) -> None:
    world.walk(Stage.DESIGN)
    response = world.manager.client.post(
        url("task_list_create", world),
        {"purpose": "setup", "template": world.setup_template.pk, "name": ""},
    )
    assert response.status_code == 302
    assert models.TaskList.objects.get(service=world.service).tasks.count() == 3
    with no_writes():
        response = world.manager.client.post(url("task_list_create", world), {"purpose": "closure"})
    assert_refused(response, "purpose", "valid choice")


# ---------------------------------------------------------------- pilot results and sign-off


def result_post(world: World, result: str = "met", **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "governance_in_place": "on",
        "resources_confirmed": "on",
        "outcomes_validated": "on",
        "note": "Went well.",
    }
    for criterion in models.SuccessCriterion.objects.filter(
        service=world.service, archived_at=None
    ):
        data[f"result_{criterion.pk}"] = result
        data[f"evidence_{criterion.pk}"] = "Reports on time."
    data.update(overrides)
    return data


def test_a_pilot_result_is_recorded_and_a_missing_result_refused(world: World) -> None:
    world.walk(Stage.PILOT)
    criterion = models.SuccessCriterion.objects.get(service=world.service)
    client = world.manager.client
    assert client.get(url("pilot_result", world)).status_code == 200
    with no_writes():
        response = client.post(
            url("pilot_result", world), result_post(world, **{f"result_{criterion.pk}": ""})
        )
    assert_refused(response, f"result_{criterion.pk}", "Say whether the criterion was met")
    assert "Went well." in html(response)
    response = client.post(url("pilot_result", world), result_post(world))
    assert response.status_code == 302
    result = models.CriterionResult.objects.get()
    assert (result.result, result.evidence) == ("met", "Reports on time.")
    page = html(client.get(url("service", world)))
    assert "Pilot 1 result: 1 of 1 criteria met" in page


def test_the_owner_signs_off_waiving_an_unmet_criterion(world: World) -> None:
    world.walk(Stage.PILOT)
    world.record_pilot(CriterionResultKind.NOT_MET)
    result = models.CriterionResult.objects.get()
    assert world.manager.client.get(move_url(world, "sign_off")).status_code == 403
    client = world.owner.client
    page = html(client.get(url("service", world)))
    assert url("waive", world, result.pk) in page
    form = html(client.get(move_url(world, "sign_off")))
    assert f'name="waive_{result.pk}"' in form
    with no_writes(world.service, result):
        response = client.post(move_url(world, "sign_off"), {"expected_from": "pilot"})
    assert response.status_code == 409
    assert "Criterion not met nor waived yet" in html(response)
    response = client.post(
        move_url(world, "sign_off"),
        {"expected_from": "pilot", f"waive_{result.pk}": "Customers accept a month's delay."},
    )
    assert response.status_code == 302, html(response)[:3000]
    assert stage_of(world) == Stage.SIGNED_OFF
    result.refresh_from_db()
    assert (result.waived, result.waiver_reason) == (True, "Customers accept a month's delay.")


def test_a_refused_waiver_is_shown_next_to_its_criterion_on_the_sign_off_form(
    world: World,
) -> None:
    world.walk(Stage.PILOT)
    world.record_pilot(CriterionResultKind.NOT_MET)
    result = models.CriterionResult.objects.get()
    form = forms.SignOffForm(
        actor=world.owner.actor, service=world.service, move=machine.BY_NAME["sign_off"]
    )
    assert form.field_for(f"waivers.{result.pk}") == f"waive_{result.pk}"
    assert form.field_for("waivers.0") is None


def test_the_owner_waives_from_the_pilot_section(world: World) -> None:
    world.walk(Stage.PILOT)
    world.record_pilot(CriterionResultKind.NOT_MET)
    result = models.CriterionResult.objects.get()
    with no_writes(result):
        response = world.owner.client.post(url("waive", world, result.pk), {"waiver_reason": ""})
    assert_refused(response, "waiver_reason", "required")
    response = world.owner.client.post(url("waive", world, result.pk), {"waiver_reason": "Fine."})
    assert response.status_code == 302
    result.refresh_from_db()
    assert result.waived
    assert world.manager.client.get(url("waive", world, result.pk)).status_code == 403


def test_another_iteration_goes_back_to_design(world: World) -> None:
    world.walk(Stage.PILOT)
    world.record_pilot(CriterionResultKind.NOT_MET)
    response = world.manager.client.post(
        move_url(world, "iterate"), {"expected_from": "pilot", "note": "Criterion missed."}
    )
    assert response.status_code == 302
    assert stage_of(world) == Stage.DESIGN


# ---------------------------------------------------------------- readiness and transition


def readiness_post(world: World, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "assessor": world.manager_person.pk,
        "assessed_on": timezone.localdate().isoformat(),
        "verdict": "ready",
        "note": "All set.",
    }
    for i in range(len(READINESS_QUESTIONS)):
        data[f"answer_{i}"] = "yes"
    data.update(overrides)
    return data


def test_readiness_is_assessed_and_a_no_cannot_be_ready(world: World) -> None:
    world.walk(Stage.SIGNED_OFF)
    client = world.manager.client
    page = html(client.get(url("readiness", world)))
    assert READINESS_QUESTIONS[0] in page
    with no_writes():
        response = client.post(url("readiness", world), readiness_post(world, answer_2="no"))
    assert_refused(response, "verdict", "not ready yet")
    with no_writes():
        response = client.post(url("readiness", world), readiness_post(world, answer_1=""))
    assert_refused(response, "answer_1", "Answer yes, partly or no")
    response = client.post(url("readiness", world), readiness_post(world))
    assert response.status_code == 302
    assert models.ReadinessAssessment.objects.get(service=world.service).answers.count() == len(
        READINESS_QUESTIONS
    )


def test_transition_starts_with_a_phased_plan(world: World) -> None:
    world.walk(Stage.SIGNED_OFF)
    world.assess()
    today = timezone.localdate()
    phases: list[dict[str, Any]] = [
        {
            "name": "Finance",
            "starts_on": today.isoformat(),
            "ends_on": (today + dt.timedelta(days=10)).isoformat(),
            "customer_groups": [world.group.pk],
        },
        {
            "name": "Everyone else",
            "starts_on": (today + dt.timedelta(days=11)).isoformat(),
            "ends_on": (today + dt.timedelta(days=40)).isoformat(),
        },
    ]
    client = world.manager.client
    assert 'name="phases-TOTAL_FORMS"' in html(client.get(move_url(world, "transition")))
    with no_writes(world.service):
        response = client.post(
            move_url(world, "transition"), plan_post(world, phases, approach="big_bang")
        )
    assert response.status_code == 422
    assert "exactly one phase" in (field_error(response, "phases") or "")
    bad = [dict(phases[0], ends_on=(today - dt.timedelta(days=1)).isoformat()), phases[1]]
    with no_writes(world.service):
        response = client.post(move_url(world, "transition"), plan_post(world, bad))
    assert_refused(response, "phases-0-ends_on", "cannot end before it starts")
    response = client.post(move_url(world, "transition"), plan_post(world, phases))
    assert response.status_code == 302, html(response)[:3000]
    plan = models.TransitionPlan.objects.get(service=world.service)
    assert [p.name for p in plan.phases.all()] == ["Finance", "Everyone else"]
    assert list(plan.phases.get(name="Finance").customer_groups.all()) == [world.group]


def test_phases_are_marked_done_then_the_service_goes_live(world: World) -> None:
    world.walk(Stage.TRANSITION)
    client = world.manager.client
    with no_writes(world.service):
        response = client.post(
            move_url(world, "go_live"), {"expected_from": "transition", "publish": "on"}
        )
    assert response.status_code == 409
    assert "Phases of the transition plan are not complete yet" in html(response)
    page = html(client.get(url("service", world)))
    for phase in models.TransitionPhase.objects.filter(plan__service=world.service):
        assert url("phase_done", world, phase.pk) in page
        assert client.post(url("phase_done", world, phase.pk)).status_code == 302
    response = client.post(
        move_url(world, "go_live"), {"expected_from": "transition", "publish": "on"}
    )
    assert response.status_code == 302
    world.service.refresh_from_db()
    assert world.service.stage == Stage.RUNNING and world.service.current_version_id is not None


def test_a_phase_is_edited_and_bad_dates_refused(world: World) -> None:
    world.walk(Stage.TRANSITION)
    phase = models.TransitionPhase.objects.filter(plan__service=world.service).first()
    assert phase is not None
    today = timezone.localdate()
    data = {
        "name": "Finance first",
        "starts_on": today.isoformat(),
        "ends_on": (today - dt.timedelta(days=2)).isoformat(),
    }
    with no_writes(phase):
        response = world.manager.client.post(url("phase_update", world, phase.pk), data)
    assert_refused(response, "ends_on", "cannot end before it starts")
    data["ends_on"] = (today + dt.timedelta(days=2)).isoformat()
    assert world.manager.client.post(url("phase_update", world, phase.pk), data).status_code == 302
    phase.refresh_from_db()
    assert phase.name == "Finance first"


def test_a_temporary_supporting_service_is_added(world: World) -> None:
    world.walk(Stage.SIGNED_OFF)
    client = world.pmo_manager.client
    assert "Add a temporary supporting service" in html(client.get(url("service", world)))
    today = timezone.localdate()
    with no_writes():
        response = client.post(
            url("supporting_create", world),
            {"code": "REP-HELP", "name": "Helpdesk", "end_date": today.isoformat()},
        )
    assert_refused(response, "end_date", "must be in the future")
    response = client.post(
        url("supporting_create", world),
        {
            "code": "REP-HELP",
            "name": "Helpdesk",
            "end_date": (today + dt.timedelta(days=60)).isoformat(),
        },
    )
    assert response.status_code == 302
    helper = Service.objects.get(code="REP-HELP")
    assert helper.supports == world.service and helper.is_temporary
    assert "REP-HELP" in html(client.get(url("service", world)))
    assert "This temporary service supports" in html(
        client.get(url("service", world, service=helper))
    )


# ---------------------------------------------------------------- closure


def test_a_temporary_service_past_its_end_date_is_due_for_closure(world: World) -> None:
    world.walk(Stage.RUNNING)
    Service.objects.filter(pk=world.service.pk).update(
        is_temporary=True, end_date=timezone.localdate() - dt.timedelta(days=3)
    )
    page = html(world.owner.client.get(url("service", world)))
    assert "Due for closure" in page
    assert move_url(world, "close") + "?reason=end_date" in page
    form = html(world.owner.client.get(move_url(world, "close")))
    assert '<option value="end_date" selected>' in form
    board = html(world.director.client.get(board_url(world)))
    assert "1 due for closure" in board


def test_closure_refuses_a_replacement_without_the_replacing_service(world: World) -> None:
    world.walk(Stage.RUNNING)
    data = {"expected_from": "running", "reason": "replaced", "explanation": "A better one."}
    with no_writes(world.service):
        response = world.owner.client.post(move_url(world, "close"), data)
    assert_refused(response, "replacing_service", "Name the service that replaces this one")
    assert "A better one." in html(response)
    data.update(reason="objective_achieved", template=str(world.closure_template.pk))
    assert world.owner.client.post(move_url(world, "close"), data).status_code == 302
    assert stage_of(world) == Stage.CLOSING


def test_artefacts_are_decided_then_the_owner_approves_the_closure(world: World) -> None:
    world.walk(Stage.CLOSING)
    artefact = Artefact.objects.get(owner_service=world.service)
    client = world.manager.client
    page = html(client.get(url("service", world)))
    assert "No decision yet" in page
    assert url("artefact_decide", world, artefact.pk) in page
    with no_writes(world.service):
        response = world.owner.client.post(
            move_url(world, "approve_closure"), {"expected_from": "closing", "approve": "on"}
        )
    assert response.status_code == 409
    assert (
        f'<a href="{url("artefact_decide", world, artefact.pk)}">No decision yet on the artefact'
        in html(response)
    )
    with no_writes():
        response = client.post(
            url("artefact_decide", world, artefact.pk), {"fate": "keep", "note": ""}
        )
    assert_refused(response, "note", "required")
    response = client.post(
        url("artefact_decide", world, artefact.pk), {"fate": "keep", "note": "Reuse it."}
    )
    assert response.status_code == 302
    assert models.ArtefactDecision.objects.get().fate == "keep"
    with no_writes(world.service):
        response = world.owner.client.post(
            move_url(world, "approve_closure"), {"expected_from": "closing"}
        )
    assert_refused(response, "approve", "formal approval")
    response = world.owner.client.post(
        move_url(world, "approve_closure"), {"expected_from": "closing", "approve": "on"}
    )
    assert response.status_code == 302
    assert stage_of(world) == Stage.CLOSED


def test_a_new_service_starts_from_a_closed_one_and_the_old_one_comes_back(
    world: World,
) -> None:
    world.walk(Stage.CLOSED)
    client = world.director.client
    page = html(client.get(url("service", world)))
    assert "Start a new service from this one" in page
    assert f'href="{move_url(world, "reintroduce")}"' in page
    response = client.post(url("start_from", world), {"code": "REP2", "name": "Reporting 2"})
    new = Service.objects.get(code="REP2")
    assert response.status_code == 302 and response["Location"] == url(
        "service", world, service=new
    )
    assert new.origin == world.service
    assert "Started from the kept artefacts of" in html(client.get(response["Location"]))
    with no_writes():
        response = client.post(url("start_from", world), {"code": "REP2", "name": "Again"})
    assert_refused(response, "code", "already exists")
    assert world.manager.client.get(url("start_from", world)).status_code == 403
    response = client.post(
        move_url(world, "reintroduce"), {"expected_from": "closed", "note": "Needed again."}
    )
    assert response.status_code == 302
    assert stage_of(world) == Stage.DESIGN


# ---------------------------------------------------------------- notes and attachments


def test_a_note_with_a_file_and_a_link_reaches_the_timeline(
    world: World, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    world.walk(Stage.DESIGN)
    client = world.manager.client
    upload = SimpleUploadedFile("minutes.txt", b"We agreed.", content_type="text/plain")
    response = client.post(
        url("note", world), {"note": "Steering group met.", "attachment_file": upload}
    )
    assert response.status_code == 302
    response = client.post(
        url("note", world),
        {"note": "Slides", "attachment_url": "https://example.com/s", "attachment_name": "Deck"},
    )
    assert response.status_code == 302
    with no_writes():
        response = client.post(url("note", world), {"note": ""})
    assert_refused(response, "note", "required")
    with no_writes():
        response = client.post(
            url("note", world), {"note": "Slides", "attachment_url": "https://example.com/s"}
        )
    assert_refused(response, "attachment_name", "required")
    page = html(client.get(url("service", world)))
    assert "Steering group met." in page
    assert '<a href="https://example.com/s" rel="noopener noreferrer">Deck</a>' in page
    attached = models.EventAttachment.objects.get(name="minutes.txt")
    download = url("attachment", world, attached.pk)
    assert download in page
    response = world.staff.client.get(download)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"We agreed."  # type: ignore[attr-defined]
    link = models.EventAttachment.objects.get(name="Deck")
    assert client.get(url("attachment", world, link.pk)).status_code == 404
    assert world.customer.client.get(download).status_code == 404


def test_the_timeline_is_newest_first_in_pages(world: World, monkeypatch: Any) -> None:
    from carte.lifecycle import selectors

    world.walk(Stage.APPROVED_FOR_SETUP)
    services.note_add(actor=world.manager.actor, service=world.service, note="Later note")
    page = html(world.director.client.get(url("service", world)))
    assert page.index("Later note") < page.index("Set-up approved")
    assert "Older</a>" not in page
    monkeypatch.setattr(selectors.panel, "EVENTS_PER_PAGE", 1)
    first = html(world.director.client.get(url("service", world)))
    assert "Later note" in first and "Set-up approved" not in first
    assert 'href="?page=2#timeline">Older</a>' in first
    second = html(world.director.client.get(url("service", world), {"page": "2"}))
    assert "Set-up approved" in second and "Later note" not in second
    assert 'href="?page=1#timeline">Newer</a>' in second
    assert world.director.client.get(url("service", world), {"page": "x"}).status_code == 200


# ---------------------------------------------------------------- the board


def test_the_board_shows_every_stage_with_counts_and_filters(world: World) -> None:
    world.walk(Stage.DESIGN)
    other = ServiceFactory(organisation=world.org, code="XTRA", name="Extra service")
    client = world.director.client
    response = client.get(board_url(world))
    assert response.status_code == 200
    page = html(response)
    assert f'href="{url("service", world)}"' in page
    assert f'href="{url("service", world, service=other)}"' in page
    assert re.search(r'data-testid="column-design".*?</span>1</span>', page, re.S)
    assert re.search(r'data-testid="column-proposed".*?</span>1</span>', page, re.S)
    assert "In stage: under a day" in page
    by_owner = html(client.get(board_url(world), {"owner": world.owner_person.pk}))
    assert "REP" in by_owner and "XTRA" not in by_owner
    by_pmo = html(client.get(board_url(world), {"pmo": world.pmo.pk}, headers=HTMX))
    assert "<html" not in by_pmo and "REP" in by_pmo and "XTRA" not in by_pmo
    by_category = html(client.get(board_url(world), {"category": other.category_id}))
    assert "XTRA" in by_category and "Portfolio reporting" not in by_category
    one_column = html(client.get(board_url(world), {"stage": "design"}))
    assert 'data-testid="column-proposed"' not in one_column
    bad = client.get(board_url(world), {"ordering": "nonsense", "pmo": "x"})
    assert bad.status_code == 200


def test_viewers_see_the_board_and_the_nav_links_to_it(world: World, viewer: Persona) -> None:
    page = html(viewer.client.get(board_url(world)))
    assert "Lifecycle board" in page
    assert (
        f'<a class="nav-link" href="{board_url(world)}" aria-current="page">Lifecycle</a>' in page
    )


def test_the_board_ages_a_service_by_its_last_move(world: World) -> None:
    Service.objects.filter(pk=world.service.pk)._move_stage(
        Stage.PROPOSED, timezone.now() - dt.timedelta(days=12)
    )
    assert "In stage: 12 days" in html(world.director.client.get(board_url(world)))


# ---------------------------------------------------------------- query counts


def test_the_board_makes_the_same_queries_at_5_and_40_services(world: World) -> None:
    category = world.service.category
    PersonFactory.create_batch(2, organisation=world.org)

    def add(n: int, start: int) -> None:
        for i in range(start, start + n):
            s = ServiceFactory(
                organisation=world.org, category=category, code=f"S{i:03d}", name=f"Service {i}"
            )
            s.delivering_pmos.set([world.pmo])

    add(5, 0)
    world.walk(Stage.DESIGN)
    assert_constant_queries(lambda: world.director.client.get(board_url(world)), lambda: add(35, 5))
    assert_constant_queries(
        lambda: world.director.client.get(board_url(world), {"pmo": world.pmo.pk}),
        lambda: add(5, 40),
    )


@pytest.mark.parametrize("stage", [Stage.DESIGN, Stage.PILOT, Stage.TRANSITION, Stage.CLOSING])
def test_the_panel_makes_the_same_queries_at_5_and_40_events(world: World, stage: str) -> None:
    world.walk(stage)
    actor = Actor.for_system(world.org)

    def grow(n: int) -> None:
        for i in range(n):
            services.note_add(
                actor=world.manager.actor,
                service=world.service,
                note=f"Note {i}",
                attachments=[services.Attachment(name=f"Link {i}", url="https://example.com")],
            )
            ArtefactFactory(organisation=world.org, owner_service=world.service, name=f"A{i}")
        task_list = models.TaskList.objects.filter(service=world.service).first()
        if task_list is not None:
            for i in range(n):
                services.task_create(actor=actor, task_list=task_list, data={"title": f"T{i}"})
        if stage == Stage.DESIGN:
            for i in range(n):
                services.criterion_create(
                    actor=actor,
                    service=world.service,
                    description=f"Criterion {i}",
                    agreed_with_groups=[world.group],
                )

    grow(5)
    assert_constant_queries(
        lambda: world.manager.client.get(url("service", world)), lambda: grow(35)
    )
    if stage == Stage.CLOSING:
        assert_constant_queries(
            lambda: world.owner.client.get(move_url(world, "approve_closure")), lambda: grow(3)
        )
    catalogue.service_update(actor=actor, service=world.service, data={"summary": "Grown"})


def test_the_service_page_leads_staff_to_the_lifecycle_panel(world: World) -> None:
    page = reverse("service_detail", args=[world.org.slug, world.service.pk])
    panel = url("service", world)
    assert f'href="{panel}"' in html(world.staff.client.get(page))
    world.walk(Stage.RUNNING)  # published at go-live: customers see the service
    assert f'href="{panel}"' not in html(world.customer.client.get(page))
