"""The stage moves only through the lifecycle's transitions: plain writes cannot change it."""

from __future__ import annotations

import pytest

from carte.catalogue.choices import Stage
from carte.catalogue.models import Service, StageLocked
from carte.catalogue.tests.factories import CategoryFactory, ServiceFactory

pytestmark = pytest.mark.django_db


def test_a_plain_save_cannot_change_the_stage() -> None:
    service = ServiceFactory()
    loaded = Service.objects.get(pk=service.pk)
    loaded.stage = Stage.RUNNING
    with pytest.raises(StageLocked):
        loaded.save()
    with pytest.raises(StageLocked):
        loaded.save(update_fields=["stage"])
    assert Service.objects.get(pk=service.pk).stage == Stage.PROPOSED


def test_a_save_of_other_fields_keeps_the_stage() -> None:
    service = ServiceFactory()
    loaded = Service.objects.get(pk=service.pk)
    loaded.name = "Renamed"
    loaded.save()
    loaded.stage = Stage.CLOSED
    loaded.save(update_fields=["name"])  # the stage is not written
    stored = Service.objects.get(pk=service.pk)
    assert (stored.name, stored.stage) == ("Renamed", Stage.PROPOSED)


def test_an_instance_saved_then_changed_is_refused_too() -> None:
    category = CategoryFactory()
    service = Service(organisation=category.organisation, category=category, code="N", name="N")
    service.save()
    service.stage = Stage.DESIGN
    with pytest.raises(StageLocked):
        service.save()


def test_new_services_start_proposed_and_updates_cannot_set_a_stage() -> None:
    category = CategoryFactory()
    with pytest.raises(StageLocked):
        Service.objects.create(
            organisation=category.organisation, category=category, code="X", stage=Stage.RUNNING
        )
    with pytest.raises(StageLocked):
        Service.objects.bulk_create(
            [Service(organisation=category.organisation, category=category, stage="closed")]
        )
    service = ServiceFactory(organisation=category.organisation, category=category)
    with pytest.raises(StageLocked):
        Service.objects.filter(pk=service.pk).update(stage=Stage.RUNNING)
    with pytest.raises(StageLocked):
        Service.objects.bulk_update([service], ["stage"])
    assert Service.objects.get(pk=service.pk).stage == Stage.PROPOSED


def test_refresh_from_db_follows_a_move() -> None:
    service = ServiceFactory()
    stale = Service.objects.get(pk=service.pk)
    Service.objects.filter(pk=service.pk)._move_stage(Stage.APPROVED_FOR_SETUP, service.created_at)
    stale.refresh_from_db()
    stale.name = "After the move"
    stale.save()  # saves without tripping the guard: it knows the stored stage
    assert Service.objects.get(pk=service.pk).stage == Stage.APPROVED_FOR_SETUP
