"""The demo's service lives: every stage, and the stories the lifecycle issue names."""

from __future__ import annotations

import pytest
from django.utils import timezone

from carte.catalogue.choices import Stage
from carte.catalogue.models import Artefact, Service, ServiceArtefact
from carte.lifecycle import machine, services
from carte.lifecycle.models import CriterionResult, LifecycleEvent, PilotIteration
from carte.organisations.actor import Actor
from carte.organisations.models import Organisation

pytestmark = pytest.mark.django_db


def nw(code: str) -> Service:
    return Service.objects.get(organisation__slug="northwind", code=code)


def test_northwind_has_a_service_at_every_stage(demo: object) -> None:
    stages = set(
        Service.objects.filter(organisation__slug="northwind").values_list("stage", flat=True)
    )
    assert stages == set(Stage.values)


def test_every_stage_was_reached_by_recorded_transitions(demo: object) -> None:
    for service in Service.objects.filter(organisation__slug="northwind").exclude(
        stage=Stage.PROPOSED
    ):
        last = service.events.filter(kind="transition").order_by("-at", "-id").first()
        assert last is not None and last.to_stage == service.stage, service.code
        assert last.at == service.stage_changed_at


def test_the_second_pilot_iteration_has_one_criterion_unmet(demo: object) -> None:
    service = nw("PLN-04")
    pilots = list(PilotIteration.objects.filter(service=service).order_by("number"))
    assert [(p.number, p.outcome) for p in pilots] == [(1, "iterate"), (2, "open")]
    results = CriterionResult.objects.filter(pilot=pilots[1])
    assert sorted(r.result for r in results) == ["met", "not_met"]


def test_a_phased_transition_with_a_temporary_supporting_service(demo: object) -> None:
    service = nw("RES-01")
    assert service.stage == Stage.TRANSITION
    plan = service.transition_plans.get()
    assert plan.approach == "phased"
    assert [p.done for p in plan.phases.order_by("position")][:2] == [True, False]
    helper = service.supporting_services.get()
    assert helper.is_temporary
    assert helper.end_date is not None and helper.end_date > timezone.localdate()


def test_a_closed_service_with_decisions_and_a_successor(demo: object) -> None:
    closed = nw("CAP-06")
    closure = closed.closures.get()
    assert closure.approved_at is not None
    fates = {d.artefact.name: d.fate for d in closure.decisions.select_related("artefact")}
    assert "archive" in fates.values() and "keep" in fates.values()
    successor = closed.successors.get()
    kept = set(Artefact.objects.filter(owner_service=closed, archived_at=None))
    assert {a.artefact for a in ServiceArtefact.objects.filter(service=successor)} == kept


def test_a_temporary_service_past_its_end_is_due_for_closure(demo: object) -> None:
    org = Organisation.objects.get(slug="northwind")
    due = services.due_for_closure(Actor.for_system(org))
    assert [s.code for s in due] == ["ERP-T"]


def test_the_proposal_awaits_the_directors_decision(demo: object) -> None:
    proposal = nw("RES-02")
    org = proposal.organisation
    moves = machine.next_moves(Actor.for_system(org), proposal)
    approve = next(m for m in moves if m.move.name == "approve")
    assert approve.ready
    assert not LifecycleEvent.objects.filter(service=proposal).exists()


def test_running_services_are_published(demo: object) -> None:
    running = Service.objects.filter(stage=Stage.RUNNING)
    assert running.exists()
    assert not running.filter(current_version__isnull=True).exists()
