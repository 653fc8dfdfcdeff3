"""The lifecycle's domain functions: every legal move, every guard, a whole life."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from carte.catalogue.choices import Stage
from carte.catalogue.models import Artefact, Service, ServiceArtefact, ServiceRole
from carte.catalogue.tests.factories import ArtefactFactory, ServiceFactory
from carte.conftest import Persona
from carte.core.errors import DomainError
from carte.core.models import AuditEntry
from carte.core.testing import archived, no_writes
from carte.lifecycle import machine, selectors, services
from carte.lifecycle.choices import CriterionResultKind, PilotOutcome
from carte.lifecycle.models import (
    CriterionResult,
    LifecycleEvent,
    PilotIteration,
    SetupDecision,
    Task,
    TaskList,
    TransitionPhase,
)
from carte.lifecycle.tests.conftest import World
from carte.organisations.actor import Actor

pytestmark = pytest.mark.django_db


def refused(expected: str, fn: object, *args: object, **kwargs: object) -> DomainError:
    """Call `fn`, expect a DomainError of the `expected` code, and no write at all."""
    with no_writes(), pytest.raises(DomainError) as info:
        fn(*args, **kwargs)  # type: ignore[operator]
    assert info.value.code == expected, info.value.message
    return info.value


# ---------------------------------------------------------------- the set-up decision


def test_the_director_approves_set_up_and_the_decision_appoints(world: World) -> None:
    event = world.move(Stage.APPROVED_FOR_SETUP, world.director, **world.decision())
    world.service.refresh_from_db()
    assert world.service.stage == Stage.APPROVED_FOR_SETUP
    assert (event.from_stage, event.to_stage, event.actor) == (
        "proposed",
        "approved_for_setup",
        world.director.user,
    )
    decision = SetupDecision.objects.get(service=world.service)
    assert decision.owner == world.owner_person
    assert decision.decided_at == event.at
    assert decision.appointments == [{"pmo": "Group PMO", "person": "Manu Manager"}]
    roles = {
        (r.role, r.person_id, r.pmo_id) for r in ServiceRole.objects.filter(service=world.service)
    }
    assert roles == {
        ("owner", world.owner_person.pk, None),
        ("manager", world.manager_person.pk, world.pmo.pk),
    }
    assert list(world.service.delivering_pmos.all()) == [world.pmo]
    stage_audit = AuditEntry.objects.filter(object_id=world.service.pk, changes__has_key="stage")
    assert stage_audit.get().changes["stage"] == {
        "before": "proposed",
        "after": "approved_for_setup",
    }


def test_outsourcing_names_the_provider_and_sets_the_delivery_mode(world: World) -> None:
    error = refused(
        "invalid",
        world.move,
        Stage.APPROVED_FOR_SETUP,
        world.director,
        **world.decision(sourcing="outsource_part"),
    )
    assert "provider_name" in error.errors
    world.move(
        Stage.APPROVED_FOR_SETUP,
        world.director,
        **world.decision(sourcing="outsource_part", provider_name="Acme Consulting"),
    )
    world.service.refresh_from_db()
    assert (world.service.delivery_mode, world.service.provider_name) == (
        "hybrid",
        "Acme Consulting",
    )


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"delivering_pmos": []}, "delivering_pmos"),
        ({"owner": None}, "owner"),
        ({"managers": {}}, "managers"),
        ({"sourcing": "by magic"}, "sourcing"),
        ({"strategy_fit": "  "}, "strategy_fit"),
        ({"scope": ""}, "scope"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_decision_with_a_gap_is_refused_and_changes_nothing(
    world: World, override: dict[str, object], field: str
) -> None:
    error = refused(
        "invalid",
        world.move,
        Stage.APPROVED_FOR_SETUP,
        world.director,
        **world.decision(**override),
    )
    assert field in error.errors
    world.service.refresh_from_db()
    assert world.service.stage == Stage.PROPOSED


def test_only_the_director_decides(world: World) -> None:
    for who in (world.pmo_manager, world.owner, world.staff, world.customer):
        refused("forbidden", world.move, Stage.APPROVED_FOR_SETUP, who, **world.decision())


def test_a_proposal_without_outcome_or_scope_cannot_be_approved(world: World) -> None:
    Service.objects.filter(pk=world.service.pk).update(outcome="", scopes=[])
    world.service.refresh_from_db()
    error = refused(
        "conflict", world.move, Stage.APPROVED_FOR_SETUP, world.director, **world.decision()
    )
    assert [u["code"] for u in error.extra["unmet"]] == ["outcome", "scope"]


def test_defer_needs_a_reason_and_a_deferred_proposal_comes_back(world: World) -> None:
    error = refused("invalid", world.move, Stage.DEFERRED, world.director)
    assert "note" in error.errors
    world.move(Stage.DEFERRED, world.director, note="Wait for next year's budget.")
    world.move(Stage.PROPOSED, world.director, note="Budget agreed.")
    world.move(Stage.REJECTED, world.director, note="Another unit already does this.")
    titles = list(
        LifecycleEvent.objects.filter(service=world.service)
        .order_by("at", "id")
        .values_list("title", "note")
    )
    assert titles == [
        ("Proposal deferred", "Wait for next year's budget."),
        ("Proposed again", "Budget agreed."),
        ("Proposal rejected", "Another unit already does this."),
    ]
    refused("conflict", world.move, Stage.PROPOSED, world.director, note="Try again")


# ---------------------------------------------------------------- design and pilot


def test_design_needs_the_owner_and_managers_appointed(world: World) -> None:
    world.walk(Stage.APPROVED_FOR_SETUP)
    ServiceRole.objects.filter(service=world.service, role="owner").update(
        archived_at=timezone.now()
    )
    error = refused("conflict", world.move, Stage.DESIGN, world.pmo_manager)
    assert [u["code"] for u in error.extra["unmet"]] == ["owner"]


def test_a_design_template_creates_the_set_up_tasks(world: World) -> None:
    world.walk(Stage.APPROVED_FOR_SETUP)
    world.move(Stage.DESIGN, template=world.setup_template)
    task_list = TaskList.objects.get(service=world.service)
    assert (task_list.purpose, task_list.template) == ("setup", world.setup_template)
    tasks = list(Task.objects.filter(task_list=task_list).values_list("title", "due_on"))
    today = timezone.localdate()
    assert tasks == [
        ("Write procedures", today + dt.timedelta(days=7)),
        ("Train operatives", today + dt.timedelta(days=14)),
        ("Brief customers", today + dt.timedelta(days=21)),
    ]


def test_a_template_must_be_a_centre_of_excellence_template(world: World) -> None:
    world.walk(Stage.APPROVED_FOR_SETUP)
    own = ArtefactFactory(organisation=world.org, owner_service=world.service, kind="template")
    error = refused("invalid", world.move, Stage.DESIGN, template=own)
    assert "template" in error.errors


def test_a_template_of_an_archived_centre_of_excellence_is_refused(world: World) -> None:
    world.walk(Stage.APPROVED_FOR_SETUP)
    archived(world.coe)
    template = Artefact.objects.get(pk=world.setup_template.pk)
    assert template not in selectors.task_templates(world.manager.actor)
    error = refused(
        "invalid",
        services.task_list_create,
        actor=world.manager.actor,
        service=world.service,
        purpose="setup",
        template=template,
    )
    assert "template" in error.errors


def test_an_archived_criterion_cannot_be_changed(world: World) -> None:
    world.walk(Stage.DESIGN)
    criterion = services.criterion_create(
        actor=world.manager.actor,
        service=world.service,
        description="Reports on time",
        agreed_with_groups=[world.group],
    )
    services.criterion_archive(actor=world.manager.actor, criterion=criterion)
    with no_writes(criterion):
        error = refused(
            "conflict",
            services.criterion_update,
            actor=world.manager.actor,
            criterion=criterion,
            data={"measure": "5 of 5", "agreed_with_people": [world.owner_person]},
        )
    assert "archived" in error.message
    assert list(criterion.agreed_with_people.all()) == []


def test_an_archived_task_cannot_be_changed(world: World) -> None:
    world.walk(Stage.APPROVED_FOR_SETUP)
    world.move(Stage.DESIGN, template=world.setup_template)
    task = Task.objects.filter(task_list__service=world.service).order_by("position").first()
    assert task is not None
    services.task_archive(actor=world.manager.actor, task=task)
    with no_writes(task):
        error = refused(
            "conflict",
            services.task_update,
            actor=world.manager.actor,
            task=task,
            data={"status": "done"},
        )
    assert "archived" in error.message


def test_a_pilot_needs_everything_the_design_stage_produces(world: World) -> None:
    world.walk(Stage.DESIGN)
    error = refused("conflict", world.move, Stage.PILOT, **world.pilot_payload())
    assert {u["code"] for u in error.extra["unmet"]} == {
        "criteria",
        "criteria_agreed",
        "sipoc",
        "procedure",
        "setup_plan",
    }
    world.design_ready()
    checks = machine.next_moves(world.manager.actor, world.service)[0].checks
    assert all(c.met for c in checks)


def test_pilot_iterations_are_numbered_and_kept(world: World) -> None:
    world.walk(Stage.PILOT)
    refused("conflict", world.move, Stage.DESIGN, note="Reports were late")  # no result yet
    world.record_pilot(CriterionResultKind.NOT_MET)
    world.move(Stage.DESIGN, note="Change the reporting calendar and try again.")
    world.move(Stage.PILOT, **world.pilot_payload())
    pilots = list(PilotIteration.objects.filter(service=world.service).order_by("number"))
    assert [(p.number, p.outcome) for p in pilots] == [(1, "iterate"), (2, "open")]
    assert [p.operatives.get() for p in pilots] == [world.operative, world.operative]


def test_a_pilot_payload_is_validated(world: World) -> None:
    world.walk(Stage.DESIGN)
    world.design_ready()
    payload = world.pilot_payload()
    payload["ends_on"] = payload["starts_on"] - dt.timedelta(days=1)
    assert "ends_on" in refused("invalid", world.move, Stage.PILOT, **payload).errors
    payload = world.pilot_payload() | {"customers": []}
    assert "customers" in refused("invalid", world.move, Stage.PILOT, **payload).errors
    other = ServiceFactory(organisation=world.org)
    from carte.catalogue.tests.factories import SupplierFactory

    payload = world.pilot_payload() | {"suppliers": [SupplierFactory(service=other)]}
    assert "suppliers" in refused("invalid", world.move, Stage.PILOT, **payload).errors


def test_a_pilot_result_needs_every_criterion(world: World) -> None:
    world.walk(Stage.PILOT)
    error = refused(
        "invalid",
        services.pilot_result_record,
        actor=world.manager.actor,
        service=world.service,
        results=[],
        governance_in_place=True,
        resources_confirmed=True,
        outcomes_validated=True,
    )
    assert "results" in error.errors


# ---------------------------------------------------------------- sign-off


def test_only_the_owner_signs_off_and_only_after_a_met_pilot(world: World) -> None:
    world.walk(Stage.PILOT)
    error = refused("conflict", world.move, Stage.SIGNED_OFF, world.owner)
    assert [u["code"] for u in error.extra["unmet"]] == ["pilot_result"]
    world.record_pilot(CriterionResultKind.NOT_MET, resources=False)
    for who in (world.director, world.manager, world.pmo_manager):
        refused("forbidden", world.move, Stage.SIGNED_OFF, who)
    error = refused("conflict", world.move, Stage.SIGNED_OFF, world.owner)
    unmet = [u["code"] for u in error.extra["unmet"]]
    assert unmet[0].startswith("criterion:") and unmet[1:] == ["resources"]


def test_the_owner_may_waive_an_unmet_criterion_with_a_reason(world: World) -> None:
    world.walk(Stage.PILOT)
    world.record_pilot(CriterionResultKind.NOT_MET)
    result = CriterionResult.objects.get(pilot__service=world.service)
    refused(
        "forbidden",
        services.criterion_waive,
        actor=world.director.actor,
        result=result,
        reason="Close enough",
    )
    error = refused(
        "invalid", services.criterion_waive, actor=world.owner.actor, result=result, reason=" "
    )
    assert "waiver_reason" in error.errors
    services.criterion_waive(
        actor=world.owner.actor, result=result, reason="Four of five on time is fine this year."
    )
    world.move(Stage.SIGNED_OFF, world.owner, note="Signed at the steering group.")
    result.refresh_from_db()
    assert (result.waived, result.waived_by) == (True, world.owner.user)
    assert PilotIteration.objects.get(service=world.service).outcome == PilotOutcome.PASSED


def test_sign_off_waives_and_signs_together_or_not_at_all(world: World) -> None:
    world.walk(Stage.PILOT)
    world.record_pilot(CriterionResultKind.NOT_MET, resources=False)
    result = CriterionResult.objects.get(pilot__service=world.service)
    sign: dict[str, Any] = {
        "actor": world.owner.actor,
        "service": world.service,
        "expected_from": Stage.PILOT,
    }
    error = refused("invalid", services.sign_off, **sign, waivers={result: " "})
    assert list(error.errors) == [f"waivers.{result.pk}"]
    # The waiver is fine but the move is refused (resources unconfirmed): no waiver stays.
    audit = AuditEntry.objects.count()
    with pytest.raises(DomainError) as info:
        services.sign_off(**sign, waivers={result: "Four of five is fine this year."})
    assert [u["code"] for u in info.value.extra["unmet"]] == ["resources"]
    result.refresh_from_db()
    assert not result.waived
    assert AuditEntry.objects.count() == audit
    world.record_pilot(CriterionResultKind.NOT_MET)
    result = CriterionResult.objects.get(pilot__service=world.service, archived_at=None)
    event = services.sign_off(**sign, waivers={result: "Fine this year."}, note="Signed.")
    assert (event.to_stage, event.note) == (Stage.SIGNED_OFF, "Signed.")
    result.refresh_from_db()
    assert (result.waived, result.waiver_reason) == (True, "Fine this year.")


# ---------------------------------------------------------------- readiness and transition


def test_transition_needs_a_ready_assessment(world: World) -> None:
    world.walk(Stage.SIGNED_OFF)
    error = refused("conflict", world.move, Stage.TRANSITION, **world.plan_payload())
    assert [u["code"] for u in error.extra["unmet"]] == ["readiness"]
    world.assess("not_ready")
    refused("conflict", world.move, Stage.TRANSITION, **world.plan_payload())
    world.assess("ready")
    world.move(Stage.TRANSITION, **world.plan_payload())
    plan = world.service.transition_plans.get()
    assert [p.name for p in plan.phases.all()] == ["Finance programmes", "Everyone else"]


def test_a_no_answer_cannot_be_ready(world: World) -> None:
    world.walk(Stage.SIGNED_OFF)
    error = refused(
        "invalid",
        services.readiness_record,
        actor=world.manager.actor,
        service=world.service,
        assessor=world.manager_person,
        assessed_on=timezone.localdate(),
        answers=[services.ReadinessItem("Customers know", "no")],
        verdict="ready",
    )
    assert "verdict" in error.errors


def test_a_big_bang_has_one_phase_and_phases_need_dates(world: World) -> None:
    world.walk(Stage.SIGNED_OFF)
    world.assess()
    plan = world.plan_payload()
    error = refused("invalid", world.move, Stage.TRANSITION, **plan | {"approach": "big_bang"})
    assert "phases" in error.errors
    plan["phases"][1]["ends_on"] = plan["phases"][1]["starts_on"] - dt.timedelta(days=1)
    error = refused("invalid", world.move, Stage.TRANSITION, **plan)
    assert "phases.2.ends_on" in error.errors


def test_only_the_current_plans_phases_change(world: World) -> None:
    world.walk(Stage.CLOSED)
    earlier = TransitionPhase.objects.filter(plan__service=world.service).order_by("id").first()
    assert earlier is not None
    world.transition_again()
    with no_writes(earlier):
        error = refused(
            "conflict",
            services.phase_update,
            actor=world.manager.actor,
            phase=earlier,
            data={"name": "Renamed", "done": False},
        )
    assert "earlier transition plan" in error.message
    plan = machine.latest_plan(world.service)
    assert plan is not None and plan.pk != earlier.plan_id
    current = plan.phases.order_by("position").first()
    assert current is not None
    services.phase_update(actor=world.manager.actor, phase=current, data={"done": True})
    current.refresh_from_db()
    assert current.done


def test_a_temporary_supporting_service_runs_alongside(world: World) -> None:
    world.walk(Stage.TRANSITION)
    end = timezone.localdate() + dt.timedelta(days=90)
    helper = services.supporting_service_create(
        actor=world.pmo_manager.actor,
        service=world.service,
        code="REP-HELP",
        name="Reporting help desk",
        end_date=end,
    )
    assert (helper.is_temporary, helper.end_date, helper.supports, helper.stage) == (
        True,
        end,
        world.service,
        "proposed",
    )
    error = refused(
        "invalid",
        services.supporting_service_create,
        actor=world.pmo_manager.actor,
        service=world.service,
        code="REP-HELP2",
        name="No end",
        end_date=None,
    )
    assert "end_date" in error.errors


def test_go_live_needs_the_plan_complete_and_publishes(world: World) -> None:
    world.walk(Stage.TRANSITION)
    error = refused("conflict", world.move, Stage.RUNNING)
    assert [u["code"] for u in error.extra["unmet"]] == ["plan_complete"]
    world.walk(Stage.RUNNING)
    world.service.refresh_from_db()
    assert world.service.current_version is not None
    assert world.service.current_version.snapshot["service"]["code"] == "REP"


# ---------------------------------------------------------------- closure


def test_closure_needs_a_reason_and_a_replacement_when_replaced(world: World) -> None:
    world.walk(Stage.RUNNING)
    error = refused("invalid", world.move, Stage.CLOSING, world.owner, explanation="x")
    assert "reason" in error.errors
    error = refused(
        "invalid", world.move, Stage.CLOSING, world.owner, reason="replaced", explanation="x"
    )
    assert "replacing_service" in error.errors
    refused(
        "forbidden",
        world.move,
        Stage.CLOSING,
        world.manager,
        reason="objective_achieved",
        explanation="Done.",
    )
    successor = ServiceFactory(organisation=world.org, code="REP2")
    world.move(
        Stage.CLOSING,
        world.director,
        reason="replaced",
        explanation="The new dashboard service does this better.",
        replacing_service=successor,
        template=world.closure_template,
    )
    closure = world.service.closures.get()
    assert closure.replacing_service == successor
    assert TaskList.objects.get(service=world.service, purpose="closure").tasks.count() == 2


def test_closing_needs_a_decision_on_every_artefact_and_the_owners_approval(world: World) -> None:
    world.walk(Stage.RUNNING)
    world.walk(Stage.CLOSING)
    artefacts = list(Artefact.objects.filter(owner_service=world.service))
    extra = ArtefactFactory(organisation=world.org, owner_service=world.service, name="Old deck")
    error = refused("conflict", world.move, Stage.CLOSED, world.owner, approve=True)
    assert len(error.extra["unmet"]) == len(artefacts) + 1
    for artefact in artefacts:
        services.artefact_decide(
            actor=world.manager.actor,
            service=world.service,
            artefact=artefact,
            fate="keep",
            note="Reusable",
        )
    services.artefact_decide(
        actor=world.manager.actor,
        service=world.service,
        artefact=extra,
        fate="discard",
        note="Stale",
    )
    refused("forbidden", world.move, Stage.CLOSED, world.director, approve=True)
    assert "approve" in refused("invalid", world.move, Stage.CLOSED, world.owner).errors
    world.move(Stage.CLOSED, world.owner, approve=True)
    extra.refresh_from_db()
    assert extra.is_archived
    assert all(not a.is_archived for a in Artefact.objects.filter(pk__in=[a.pk for a in artefacts]))
    closure = world.service.closures.get()
    assert (closure.approved_by, closure.approved_at is not None) == (world.owner.user, True)


def test_a_closed_service_is_reintroduced_or_restarted_elsewhere(world: World) -> None:
    world.walk(Stage.CLOSED)
    kept = set(Artefact.objects.filter(owner_service=world.service, archived_at=None))
    assert kept
    new = services.service_start_from(
        actor=world.pmo_manager.actor, origin=world.service, code="REP-NEW", name="Reporting again"
    )
    assert (new.origin, new.stage) == (world.service, "proposed")
    assert {link.artefact for link in ServiceArtefact.objects.filter(service=new)} == kept
    world.move(Stage.DESIGN, world.owner, note="Demand is back.")
    world.service.refresh_from_db()
    assert world.service.stage == Stage.DESIGN


# ---------------------------------------------------------------- the whole life and others


def test_a_whole_life_leaves_a_complete_timeline(world: World) -> None:
    world.walk(Stage.CLOSED)
    moves = list(
        LifecycleEvent.objects.filter(service=world.service, kind="transition")
        .order_by("at", "id")
        .values_list("from_stage", "to_stage")
    )
    assert moves == list(
        zip(
            [
                "proposed",
                "approved_for_setup",
                "design",
                "pilot",
                "signed_off",
                "transition",
                "running",
                "closing",
            ],
            [
                "approved_for_setup",
                "design",
                "pilot",
                "signed_off",
                "transition",
                "running",
                "closing",
                "closed",
            ],
            strict=True,
        )
    )
    steps = set(
        LifecycleEvent.objects.filter(service=world.service, kind="step").values_list(
            "title", flat=True
        )
    )
    assert "Pilot 1 result: 1 of 1 criteria met" in steps


def test_illegal_moves_are_conflicts_naming_the_way_on(world: World) -> None:
    error = refused("conflict", world.move, Stage.RUNNING, world.director)
    assert "Approved for set-up" in error.message
    assert refused("invalid", world.move, "nowhere", world.director).code == "invalid"


def test_a_move_without_its_right_names_who_may_make_it(world: World) -> None:
    """The table's rights: the Director decides set-up; a Manager is refused in the words
    of the move, and the payload's fields are checked against the move's kind."""
    error = refused("forbidden", world.move, Stage.DEFERRED, world.pmo_manager, note="Not yet.")
    assert error.message == "Only the PMO Director may defer."
    error = refused("invalid", world.move, Stage.DEFERRED, world.director, note="x", owner=None)
    assert error.errors == {"owner": ["This move takes no such field."]}
    assert {m.payload for m in machine.MOVES} <= set(machine.Payload)


def test_a_stale_expected_stage_is_a_conflict(world: World) -> None:
    world.walk(Stage.APPROVED_FOR_SETUP)
    error = refused(
        "conflict",
        world.move,
        Stage.APPROVED_FOR_SETUP,
        world.director,
        expected_from="proposed",
        **world.decision(),
    )
    assert "just moved" in error.message


def test_another_organisation_cannot_move_the_service(world: World, outsider: Persona) -> None:
    actor: Actor = outsider.actor
    refused(
        "not_found",
        services.transition,
        actor=actor,
        service=world.service,
        to="deferred",
        note="x",
    )


def test_customers_and_viewers_cannot_touch_the_lifecycle(world: World) -> None:
    refused("forbidden", world.move, Stage.DEFERRED, world.customer, note="no")
    refused(
        "forbidden", services.note_add, actor=world.customer.actor, service=world.service, note="Hi"
    )


def test_due_for_closure_lists_running_temporary_services_past_their_end(world: World) -> None:
    world.walk(Stage.RUNNING)
    Service.objects.filter(pk=world.service.pk).update(
        is_temporary=True, end_date=timezone.localdate() - dt.timedelta(days=1)
    )
    assert services.due_for_closure(world.director.actor) == [world.service]
    Service.objects.filter(pk=world.service.pk).update(end_date=timezone.localdate())
    assert services.due_for_closure(world.director.actor) == []


def test_history_entered_as_of_a_past_moment_keeps_its_dates(world: World) -> None:
    moment = timezone.now() - dt.timedelta(days=200)
    with services.as_of(moment):
        event = world.move(Stage.APPROVED_FOR_SETUP, world.director, **world.decision())
    world.service.refresh_from_db()
    decision = SetupDecision.objects.get(service=world.service)
    assert event.at == world.service.stage_changed_at == decision.decided_at == moment
    assert decision.created_at > moment  # the row says when it was written
