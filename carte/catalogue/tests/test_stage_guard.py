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


# Ways round the guard that once let a changed stage through: each leaves the in-memory
# stage changed while the stage the guard compares with must stay the stored one.


def test_a_save_that_did_not_write_the_stage_does_not_count_it_as_stored() -> None:
    service = ServiceFactory()
    loaded = Service.objects.get(pk=service.pk)
    loaded.stage = Stage.RUNNING
    loaded.save(update_fields=["name"])
    with pytest.raises(StageLocked):
        loaded.save()
    assert Service.objects.get(pk=service.pk).stage == Stage.PROPOSED


def test_a_refresh_of_other_fields_keeps_the_stored_stage() -> None:
    service = ServiceFactory()
    loaded = Service.objects.get(pk=service.pk)
    loaded.stage = Stage.RUNNING
    loaded.refresh_from_db(fields=["name"])
    with pytest.raises(StageLocked):
        loaded.save()
    assert Service.objects.get(pk=service.pk).stage == Stage.PROPOSED


def test_loading_a_deferred_field_keeps_the_stored_stage() -> None:
    service = ServiceFactory(summary="One line")
    loaded = Service.objects.defer("summary").get(pk=service.pk)
    loaded.stage = Stage.RUNNING
    assert loaded.summary == "One line"  # loads the field: refresh_from_db(fields=[...])
    with pytest.raises(StageLocked):
        loaded.save()
    assert Service.objects.get(pk=service.pk).stage == Stage.PROPOSED


def test_a_stage_never_loaded_is_read_before_it_is_written() -> None:
    service = ServiceFactory()
    partial = Service.objects.only("id", "name").get(pk=service.pk)
    partial.stage = Stage.RUNNING
    with pytest.raises(StageLocked):
        partial.save()
    assert Service.objects.get(pk=service.pk).stage == Stage.PROPOSED
    # The stored stage, set again, saves; so does a save that leaves the stage deferred.
    partial = Service.objects.only("id", "name").get(pk=service.pk)
    partial.stage = Stage.PROPOSED
    partial.name = "Renamed"
    partial.save()
    untouched = Service.objects.only("id", "name").get(pk=service.pk)
    untouched.name = "Renamed again"
    untouched.save()
    stored = Service.objects.get(pk=service.pk)
    assert (stored.name, stored.stage) == ("Renamed again", Stage.PROPOSED)


def test_a_stage_loaded_on_access_is_the_stored_one() -> None:
    service = ServiceFactory()
    Service.objects.filter(pk=service.pk)._move_stage(Stage.APPROVED_FOR_SETUP, service.created_at)
    partial = Service.objects.only("id", "name").get(pk=service.pk)
    assert partial.stage == Stage.APPROVED_FOR_SETUP  # a deferred load of the stage itself
    partial.name = "After the move"
    partial.save()
    partial.stage = Stage.RUNNING
    with pytest.raises(StageLocked):
        partial.save()


def test_an_upsert_cannot_write_the_stage() -> None:
    service = ServiceFactory()
    Service.objects.filter(pk=service.pk)._move_stage(Stage.RUNNING, service.created_at)
    again = Service.objects.get(pk=service.pk)
    again.stage = Stage.PROPOSED  # what bulk_create lets through: a new service's stage
    with pytest.raises(StageLocked):
        Service.objects.bulk_create(
            [again], update_conflicts=True, unique_fields=["id"], update_fields=["name", "stage"]
        )
    assert Service.objects.get(pk=service.pk).stage == Stage.RUNNING
