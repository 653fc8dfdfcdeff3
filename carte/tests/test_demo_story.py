"""The demo tells one story, told the same in every view: the History tab (the audit
trail), the lifecycle timeline, pilots, versions and the running of services agree on
when things happened, nothing that has a result lies in the future, and every audit entry
the loader wrote says it is demo data."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from carte.catalogue.choices import Stage
from carte.catalogue.models import Service, ServiceVersion
from carte.core import audit, clock
from carte.core.models import AuditAction, AuditEntry
from carte.demo import MARK
from carte.lifecycle.models import LifecycleEvent, PilotIteration
from carte.operations import periods
from carte.operations.models import KPI, Feedback, Measurement
from carte.organisations.actor import Actor
from carte.organisations.models import Organisation

pytestmark = pytest.mark.django_db

Demo = dict[str, Organisation]


def _services(demo: Demo) -> list[Service]:
    return list(Service.objects.filter(organisation__in=demo.values()).order_by("id"))


def _went_live(service: Service) -> dt.datetime:
    event = (
        LifecycleEvent.objects.filter(service=service, kind="transition", to_stage=Stage.RUNNING)
        .order_by("at", "id")
        .first()
    )
    assert event is not None, service.code
    return event.at


def test_every_audit_entry_of_the_demo_is_marked_and_none_is_in_the_future(demo: Demo) -> None:
    entries = AuditEntry.objects.filter(organisation__in=demo.values())
    assert entries.exists()
    assert not entries.exclude(actor_label__endswith=f"({MARK})").exists()
    assert not entries.filter(at__gt=timezone.now()).exists()
    # The story's dates, not the moment it was loaded: spread over about two years.
    first = entries.order_by("at").first()
    last = entries.order_by("-at").first()
    assert first is not None and last is not None
    assert last.at - first.at > dt.timedelta(days=700)


def test_the_history_of_stage_moves_is_the_timeline_of_moves(demo: Demo) -> None:
    stage_type = ContentType.objects.get_for_model(Service)
    spread: list[dt.datetime] = []
    for service in _services(demo):
        actor = Actor.for_system(service.organisation)
        history = reversed(list(audit.history(actor=actor, obj=service)))  # oldest first
        moves = [
            (e.at, e.changes["stage"]["before"], e.changes["stage"]["after"])
            for e in history
            if e.action == AuditAction.UPDATE and "stage" in e.changes
        ]
        timeline = [
            (e.at, e.from_stage, e.to_stage)
            for e in LifecycleEvent.objects.filter(service=service, kind="transition").order_by(
                "at", "id"
            )
        ]
        assert moves == timeline, service.code
        assert [at for at, _, _ in moves] == sorted(at for at, _, _ in moves), service.code
        created = AuditEntry.objects.get(
            content_type=stage_type, object_id=service.pk, action=AuditAction.CREATE
        )
        assert all(created.at <= at for at, _, _ in moves), service.code
        if service.stage == Stage.RUNNING and service.code.startswith(("GOV", "TGV")):
            # Weeks apart: a walk from proposal to running takes months.
            assert moves[-1][0] - moves[0][0] > dt.timedelta(days=60), service.code
        spread += [at for at, _, _ in moves]
    assert max(spread) - min(spread) > dt.timedelta(days=600)


def test_no_pilot_with_results_starts_or_ends_in_the_future(demo: Demo) -> None:
    today = timezone.localdate()
    pilots = PilotIteration.objects.filter(organisation__in=demo.values()).select_related("service")
    with_results = [p for p in pilots if p.result_at is not None or p.results.exists()]
    assert with_results
    for pilot in with_results:
        assert pilot.result_at is not None, pilot.service.code
        assert pilot.starts_on <= today and pilot.ends_on <= today, pilot.service.code
        # The result is recorded once the pilot has run, never in the future.
        assert pilot.ends_on <= timezone.localdate(pilot.result_at), pilot.service.code
        assert pilot.result_at <= timezone.now(), pilot.service.code
    for pilot in pilots:
        started = (
            LifecycleEvent.objects.filter(
                service=pilot.service, to_stage=Stage.PILOT, at__date__lte=pilot.starts_on
            )
            .order_by("-at")
            .first()
        )
        assert started is not None, pilot.service.code  # the move comes before the pilot


def test_versions_are_published_in_number_order_in_the_past(demo: Demo) -> None:
    versions = ServiceVersion.objects.filter(organisation__in=demo.values())
    assert versions.filter(number__gt=1).exists()
    by_service: dict[int, list[ServiceVersion]] = {}
    for version in versions.order_by("number"):
        by_service.setdefault(version.service_id, []).append(version)
    for listed in by_service.values():
        moments = [v.published_at for v in listed]
        assert moments == sorted(moments)
        assert moments[-1] < timezone.now() - dt.timedelta(days=1)  # not all "today"
        assert moments[0] >= _went_live(listed[0].service)


def test_a_running_service_is_measured_and_rated_only_once_it_runs(demo: Demo) -> None:
    measured = 0
    kpi_type = ContentType.objects.get_for_model(KPI)
    for service in _services(demo):
        kpis = list(KPI.objects.filter(service=service))
        if not kpis:
            continue
        live = _went_live(service)
        for kpi in kpis:
            made = AuditEntry.objects.get(
                content_type=kpi_type, object_id=kpi.pk, action=AuditAction.CREATE
            )
            assert made.at >= live, (service.code, kpi.name)
        for m in Measurement.objects.filter(kpi__in=kpis).select_related("kpi"):
            assert periods.end_of(m.period, m.kpi.frequency) >= live.date(), service.code
            assert live <= m.recorded_at <= timezone.now(), service.code
            measured += 1
        assert not Feedback.objects.filter(service=service, given_at__lt=live).exists()
    assert measured


def test_only_a_loaded_story_dates_its_audit_entries(demo: Demo) -> None:
    service = _services(demo)[0]
    actor = Actor.for_system(service.organisation)
    past = timezone.now() - dt.timedelta(days=100)

    def write() -> AuditEntry:
        return audit.record(actor=actor, obj=service, action=AuditAction.UPDATE, changes={})

    with clock.as_of(past):  # entering history for real: the trail says when it was written
        real = write()
    assert real.at > past + dt.timedelta(days=99) and real.actor_label == actor.label
    with clock.loading(MARK), clock.as_of(past):
        loaded = write()
    assert loaded.at == past and loaded.actor_label == f"{actor.label} ({MARK})"
    with clock.loading(MARK), clock.as_of(timezone.now() + dt.timedelta(days=5)):
        assert write().at <= timezone.now()  # a story never writes the future
