"""The writes of people's capacity records (assessments, availability, allocations) and
the reads that sum them up (levels, load, over-allocation, staffing): rights, every bad
input refused with a message naming the field and nothing written, the audit trail."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from carte.capacity import services
from carte.capacity.choices import AllocationKind, ExceptionReason
from carte.capacity.models import Allocation, Assessment, Availability, AvailabilityException
from carte.capacity.selectors import records as selectors
from carte.capacity.tests.factories import (
    AllocationFactory,
    AssessmentFactory,
    AvailabilityExceptionFactory,
    AvailabilityFactory,
)
from carte.capacity.tests.records_setup import JAN, Cap, build
from carte.catalogue.choices import Stage
from carte.catalogue.tests.factories import ServiceFactory, move_stage
from carte.conftest import Persona
from carte.core.errors import DomainError
from carte.core.models import AuditAction
from carte.core.testing import archived, assert_entry, last_entry, no_writes
from carte.organisations.models import Organisation
from carte.organisations.tests.factories import PersonFactory


@pytest.fixture
def cap(org: Organisation, other_org: Organisation, outsider: Persona) -> Cap:
    return build(org, other_org, outsider)


def refused(field: str, words: str, call: Any, *objs: Any) -> DomainError:
    """`call()` is refused on `field`, with `words` in the message, writing nothing."""
    with no_writes(*objs), pytest.raises(DomainError) as caught:
        call()
    assert field in caught.value.errors, caught.value.errors
    assert words in " ".join(caught.value.errors[field]), caught.value.errors
    return caught.value


# ---------------------------------------------------------------- assessments


def test_it_records_an_assessment_by_a_keeper_with_who_assessed_and_audits_it(cap: Cap) -> None:
    actor = cap.pmo_manager.actor
    a = services.assessment_create(
        actor=actor,
        person=cap.alice_person,
        data={"competence": cap.planning, "level": 4, "evidence": "Ran the 2026 plan."},
    )
    assert a.self_assessed is False and a.counts
    assert a.assessed_by == cap.pmo_manager_person
    assert_entry(last_entry(a), cap.pmo_manager, AuditAction.CREATE)
    assert last_entry(a).changes["level"] == {"before": None, "after": 4}
    assert selectors.latest_levels(actor, [cap.alice_person.pk]) == {
        cap.alice_person.pk: {cap.planning.pk: 4}
    }


def test_it_keeps_history_and_the_latest_assessment_counts(cap: Cap) -> None:
    old = AssessmentFactory(person=cap.alice_person, competence=cap.planning, level=2)
    services.assessment_create(
        actor=cap.director.actor,
        person=cap.alice_person,
        data={"competence": cap.planning, "level": 3, "assessed_on": dt.date(2026, 6, 1)},
    )
    AssessmentFactory(
        person=cap.alice_person, competence=cap.planning, level=5, assessed_on=dt.date(2025, 1, 1)
    )
    assert Assessment.objects.filter(pk=old.pk).exists()
    levels = selectors.latest_levels(cap.director.actor, None)
    assert levels[cap.alice_person.pk][cap.planning.pk] == 3


def test_a_self_assessment_counts_once_a_pmo_manager_confirms_it(cap: Cap) -> None:
    mine = services.assessment_create(
        actor=cap.alice.actor, person=cap.alice_person, data={"competence": cap.risk, "level": 4}
    )
    assert mine.self_assessed and mine.assessed_by == cap.alice_person and not mine.counts
    assert selectors.latest_levels(cap.alice.actor, [cap.alice_person.pk]) == {}
    with pytest.raises(DomainError) as caught:
        services.assessment_confirm(actor=cap.alice.actor, assessment=mine)
    assert caught.value.code == "forbidden"
    services.assessment_confirm(actor=cap.pmo_manager.actor, assessment=mine)
    mine.refresh_from_db()
    assert mine.confirmed_by == cap.pmo_manager.user and mine.confirmed_at is not None
    assert_entry(last_entry(mine), cap.pmo_manager, AuditAction.UPDATE)
    assert selectors.latest_levels(cap.director.actor, [cap.alice_person.pk]) == {
        cap.alice_person.pk: {cap.risk.pk: 4}
    }
    # The person changes a confirmed level: it needs confirming again.
    services.assessment_update(actor=cap.alice.actor, assessment=mine, data={"level": 5})
    mine.refresh_from_db()
    assert mine.confirmed_at is None and mine.level == 5


def test_a_pmo_manager_does_not_confirm_their_own_self_assessment(cap: Cap) -> None:
    own = services.assessment_create(
        actor=cap.pmo_manager.actor,
        person=cap.pmo_manager_person,
        data={"competence": cap.risk, "level": 4},
    )
    assert own.self_assessed
    with no_writes(own), pytest.raises(DomainError) as caught:
        services.assessment_confirm(actor=cap.pmo_manager.actor, assessment=own)
    assert caught.value.code == "forbidden"
    services.assessment_confirm(actor=cap.director.actor, assessment=own)


@pytest.mark.parametrize("who", ["alice", "manager", "customer", "viewer"])
def test_only_keepers_assess_someone_else(cap: Cap, who: str) -> None:
    actor = cap.personas()[who].actor
    with no_writes(), pytest.raises(DomainError) as caught:
        services.assessment_create(
            actor=actor, person=cap.bob_person, data={"competence": cap.risk, "level": 3}
        )
    assert caught.value.code == "forbidden"


@pytest.mark.parametrize("level", [0, 6, -1, "x", "", None, 2.5])
def test_it_refuses_a_level_outside_the_framework(cap: Cap, level: Any) -> None:
    refused(
        "level",
        "1 to 5",
        lambda: services.assessment_create(
            actor=cap.director.actor,
            person=cap.alice_person,
            data={"competence": cap.planning, "level": level},
        ),
    )


def test_it_refuses_a_second_assessment_of_the_same_day(cap: Cap) -> None:
    first = AssessmentFactory(
        person=cap.alice_person, competence=cap.planning, assessed_on=dt.date(2026, 3, 2)
    )
    refused(
        "assessed_on",
        "already has an assessment",
        lambda: services.assessment_create(
            actor=cap.director.actor,
            person=cap.alice_person,
            data={"competence": cap.planning, "level": 4, "assessed_on": dt.date(2026, 3, 2)},
        ),
        first,
    )


def test_it_refuses_a_competence_or_person_of_another_organisation(cap: Cap) -> None:
    actor = cap.director.actor
    refused(
        "competence",
        "No such record",
        lambda: services.assessment_create(
            actor=actor,
            person=cap.alice_person,
            data={"competence": cap.their_competence, "level": 3},
        ),
    )
    with no_writes(), pytest.raises(DomainError) as caught:
        services.assessment_create(
            actor=actor, person=cap.their_person, data={"competence": cap.planning, "level": 3}
        )
    assert "person" in caught.value.errors


def test_it_records_nothing_more_for_an_archived_person(cap: Cap) -> None:
    gone: Any = archived(PersonFactory(organisation=cap.org, name="Gone"))
    refused(
        "person",
        "archived",
        lambda: services.assessment_create(
            actor=cap.director.actor, person=gone, data={"competence": cap.planning, "level": 3}
        ),
    )


def test_assessments_archive_and_restore_and_the_level_falls_back(cap: Cap) -> None:
    AssessmentFactory(person=cap.bob_person, competence=cap.finance, level=2)
    newer = AssessmentFactory(
        person=cap.bob_person, competence=cap.finance, level=4, assessed_on=dt.date(2026, 5, 1)
    )
    services.assessment_archive(actor=cap.pmo_manager.actor, assessment=newer)
    assert selectors.latest_levels(cap.director.actor, [cap.bob_person.pk])[cap.bob_person.pk] == {
        cap.finance.pk: 2
    }
    assert_entry(last_entry(newer), cap.pmo_manager, AuditAction.ARCHIVE)
    services.assessment_restore(actor=cap.pmo_manager.actor, assessment=newer)
    assert_entry(last_entry(newer), cap.pmo_manager, AuditAction.RESTORE)


# ---------------------------------------------------------------- availability


def test_availability_set_creates_then_changes_the_contract(cap: Cap) -> None:
    actor = cap.pmo_manager.actor
    contract = services.availability_set(
        actor=actor, person=cap.alice_person, data={"contracted_fte": Decimal("0.8")}
    )
    assert_entry(last_entry(contract), cap.pmo_manager, AuditAction.CREATE)
    again = services.availability_set(
        actor=actor,
        person=cap.alice_person,
        data={"contracted_fte": "0.6", "leaves_on": dt.date(2027, 6, 15)},
    )
    assert again.pk == contract.pk
    assert Availability.objects.filter(person=cap.alice_person).count() == 1
    entry = last_entry(contract)
    assert_entry(entry, cap.pmo_manager, AuditAction.UPDATE)
    assert entry.changes["contracted_fte"] == {"before": "0.80", "after": "0.60"}


@pytest.mark.parametrize(
    ("value", "words"), [("-0.1", "below 0"), ("1.5", "above 1"), ("abc", "number")]
)
def test_it_refuses_a_contracted_fte_outside_0_to_1(cap: Cap, value: str, words: str) -> None:
    current = AvailabilityFactory(person=cap.alice_person, contracted_fte=Decimal("0.5"))
    refused(
        "contracted_fte",
        words,
        lambda: services.availability_set(
            actor=cap.director.actor, person=cap.alice_person, data={"contracted_fte": value}
        ),
        current,
    )


def test_it_refuses_a_contract_ending_before_it_starts(cap: Cap) -> None:
    refused(
        "leaves_on",
        "before the start",
        lambda: services.availability_set(
            actor=cap.director.actor,
            person=cap.alice_person,
            data={
                "contracted_fte": 1,
                "starts_on": dt.date(2027, 3, 1),
                "leaves_on": dt.date(2027, 2, 1),
            },
        ),
    )


@pytest.mark.parametrize("who", ["alice", "manager", "viewer"])
def test_only_keepers_record_availability(cap: Cap, who: str) -> None:
    actor = cap.personas()[who].actor
    with no_writes(), pytest.raises(DomainError) as caught:
        services.availability_set(actor=actor, person=cap.alice_person, data={"contracted_fte": 1})
    assert caught.value.code == "forbidden"
    with no_writes(), pytest.raises(DomainError):
        services.exception_create(
            actor=actor,
            person=cap.alice_person,
            data={"reason": "leave", "starts_on": JAN, "ends_on": JAN, "available_fte": 0},
        )


def test_exceptions_run_from_month_to_month(cap: Cap) -> None:
    actor = cap.pmo_manager.actor
    leave = services.exception_create(
        actor=actor,
        person=cap.alice_person,
        data={
            "reason": ExceptionReason.LEAVE,
            "starts_on": "2027-03-15",
            "ends_on": "2027-04",
            "available_fte": "0",
            "note": "Parental leave",
        },
    )
    assert (leave.starts_on, leave.ends_on) == (dt.date(2027, 3, 1), dt.date(2027, 4, 1))
    assert_entry(last_entry(leave), cap.pmo_manager, AuditAction.CREATE)
    services.exception_update(actor=actor, exception=leave, data={"available_fte": "0.2"})
    assert last_entry(leave).changes["available_fte"] == {"before": "0.00", "after": "0.20"}
    refused(
        "ends_on",
        "before the start",
        lambda: services.exception_update(
            actor=actor, exception=leave, data={"ends_on": "2027-02"}
        ),
        leave,
    )
    refused(
        "available_fte",
        "above 1",
        lambda: services.exception_update(actor=actor, exception=leave, data={"available_fte": 2}),
        leave,
    )
    services.exception_archive(actor=actor, exception=leave)
    assert_entry(last_entry(leave), cap.pmo_manager, AuditAction.ARCHIVE)


# ---------------------------------------------------------------- allocations


def _allocation(cap: Cap, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "person": cap.bob_person,
        "kind": AllocationKind.SERVICE,
        "service": cap.rep,
        "competence": cap.risk,
        "fte": Decimal("0.25"),
        "starts_on": dt.date(2027, 2, 10),
        "ends_on": dt.date(2027, 8, 31),
    }
    data.update(changes)
    return data


def test_a_keeper_allocates_a_person_to_a_service_by_month(cap: Cap) -> None:
    a = services.allocation_create(actor=cap.pmo_manager.actor, data=_allocation(cap))
    assert (a.starts_on, a.ends_on) == (dt.date(2027, 2, 1), dt.date(2027, 8, 1))
    entry = last_entry(a)
    assert_entry(entry, cap.pmo_manager, AuditAction.CREATE)
    assert entry.changes["service"]["after"] == str(cap.rep)
    services.allocation_update(actor=cap.pmo_manager.actor, allocation=a, data={"fte": "0.5"})
    assert last_entry(a).changes["fte"] == {"before": "0.25", "after": "0.50"}
    services.allocation_archive(actor=cap.pmo_manager.actor, allocation=a)
    services.allocation_restore(actor=cap.pmo_manager.actor, allocation=a)
    assert_entry(last_entry(a), cap.pmo_manager, AuditAction.RESTORE)


def test_other_work_takes_a_description_and_no_service(cap: Cap) -> None:
    actor = cap.director.actor
    a = services.allocation_create(
        actor=actor,
        data=_allocation(
            cap, kind=AllocationKind.TRAINING, service=None, competence=None, work="PRINCE2"
        ),
    )
    assert a.work == "PRINCE2" and a.service is None
    refused(
        "work",
        "what the work is",
        lambda: services.allocation_create(
            actor=actor,
            data=_allocation(cap, kind=AllocationKind.BAU, service=None, competence=None),
        ),
    )
    refused(
        "service",
        "names no service",
        lambda: services.allocation_create(
            actor=actor, data=_allocation(cap, kind=AllocationKind.PROJECT, work="Atlas")
        ),
    )


@pytest.mark.parametrize(
    ("value", "words"),
    [("1.01", "above 1"), ("2", "above 1"), ("0", "more than 0"), ("-0.5", "below 0")],
)
def test_one_allocation_is_more_than_0_and_at_most_1_fte(cap: Cap, value: str, words: str) -> None:
    refused(
        "fte",
        words,
        lambda: services.allocation_create(
            actor=cap.director.actor, data=_allocation(cap, fte=value)
        ),
    )
    refused(
        "fte",
        words,
        lambda: services.allocation_update(
            actor=cap.director.actor, allocation=cap.alice_on_rep, data={"fte": value}
        ),
        cap.alice_on_rep,
    )


def test_it_refuses_an_allocation_ending_before_it_starts(cap: Cap) -> None:
    refused(
        "ends_on",
        "before the start",
        lambda: services.allocation_create(
            actor=cap.director.actor, data=_allocation(cap, ends_on=dt.date(2027, 1, 31))
        ),
    )


def test_it_refuses_a_competence_the_service_does_not_need_naming_those_it_does(cap: Cap) -> None:
    error = refused(
        "competence",
        "does not need “Financial analysis”",
        lambda: services.allocation_create(
            actor=cap.director.actor, data=_allocation(cap, competence=cap.finance)
        ),
    )
    assert "Planning, Risk management" in error.errors["competence"][0]
    refused(
        "competence",
        "Planning, Risk management",
        lambda: services.allocation_create(
            actor=cap.director.actor, data=_allocation(cap, competence=None)
        ),
    )


@pytest.mark.parametrize("field", ["person", "service", "competence"])
def test_it_refuses_a_reference_of_another_organisation(cap: Cap, field: str) -> None:
    theirs = {
        "person": cap.their_person,
        "service": cap.their_service,
        "competence": cap.their_competence,
    }[field]
    refused(
        field,
        "No such record",
        lambda: services.allocation_create(
            actor=cap.director.actor, data=_allocation(cap, **{field: theirs})
        ),
    )


def test_it_refuses_an_archived_person(cap: Cap) -> None:
    gone = archived(PersonFactory(organisation=cap.org, name="Gone"))
    refused(
        "person",
        "archived",
        lambda: services.allocation_create(
            actor=cap.director.actor, data=_allocation(cap, person=gone)
        ),
    )


@pytest.mark.parametrize("stage", [Stage.CLOSED, Stage.REJECTED, "archived"])
def test_it_refuses_a_closed_rejected_or_archived_service(cap: Cap, stage: str) -> None:
    service = ServiceFactory(organisation=cap.org, code="OLD", name="Old service")
    if stage == "archived":
        archived(service)
        words = "archived"
    else:
        move_stage(service, stage)
        words = "takes no allocations"
    refused(
        "service",
        words,
        lambda: services.allocation_create(
            actor=cap.director.actor, data=_allocation(cap, service=service, competence=None)
        ),
    )


def test_over_allocation_across_rows_is_recorded_and_flagged(cap: Cap) -> None:
    AvailabilityFactory(person=cap.alice_person, contracted_fte=Decimal("0.8"))
    AvailabilityFactory(person=cap.bob_person, contracted_fte=Decimal("1"))
    services.allocation_create(
        actor=cap.director.actor,
        data=_allocation(
            cap,
            person=cap.alice_person,
            service=cap.gov,
            competence=cap.finance,
            fte="0.5",
            starts_on=dt.date(2027, 3, 1),
            ends_on=dt.date(2027, 4, 1),
        ),
    )
    months = selectors.next_months(12, JAN)
    over = selectors.over_allocated(cap.director.actor, months)
    assert [o.person for o in over] == [cap.alice_person]
    assert [m.label for m in over[0].months] == ["Mar 2027", "Apr 2027"]
    assert over[0].worst.excess == Decimal("0.20")
    load = selectors.person_load(cap.director.actor, cap.alice_person, months)
    assert [m.label for m in load.over_months] == ["Mar 2027", "Apr 2027"]


def test_a_service_manager_allocates_to_their_own_service_only(cap: Cap) -> None:
    actor = cap.manager.actor
    mine = services.allocation_create(actor=actor, data=_allocation(cap))
    assert mine.service == cap.rep
    with no_writes(), pytest.raises(DomainError) as caught:
        services.allocation_create(
            actor=actor, data=_allocation(cap, service=cap.gov, competence=cap.finance)
        )
    assert caught.value.code == "forbidden"
    with no_writes(mine), pytest.raises(DomainError) as caught:
        services.allocation_update(
            actor=actor, allocation=mine, data={"service": cap.gov, "competence": cap.finance}
        )
    assert caught.value.code == "forbidden"
    for who in ("alice", "viewer", "customer"):
        with no_writes(), pytest.raises(DomainError):
            services.allocation_create(actor=cap.personas()[who].actor, data=_allocation(cap))


# ---------------------------------------------------------------- reads


def test_who_sees_whose_records(cap: Cap) -> None:
    everyone = None
    assert selectors.visible_person_ids(cap.director.actor) is everyone
    assert selectors.visible_person_ids(cap.pmo_manager.actor) is everyone
    seen: dict[str, Any] = {
        who: selectors.visible_person_ids(cap.personas()[who].actor)
        for who in ("manager", "alice", "bob")
    }
    assert seen == {
        "manager": {cap.manager_person.pk, cap.alice_person.pk},
        "alice": {cap.alice_person.pk},
        "bob": {cap.bob_person.pk},
    }
    assert selectors.visible_person_ids(cap.customer.actor) == frozenset()
    assert selectors.visible_person_ids(cap.viewer.actor) == frozenset()
    rows = selectors.allocation_list(actor=cap.manager.actor)
    assert list(rows) == [cap.alice_on_rep]
    for who in ("viewer", "customer"):
        with pytest.raises(DomainError) as caught:
            selectors.allocation_list(actor=cap.personas()[who].actor)
        assert caught.value.code == "not_found"


def test_a_persons_load_counts_contract_exceptions_and_dates(cap: Cap) -> None:
    AvailabilityFactory(
        person=cap.bob_person, contracted_fte=Decimal("0.8"), leaves_on=dt.date(2027, 6, 15)
    )
    AvailabilityExceptionFactory(
        person=cap.bob_person, starts_on=dt.date(2027, 2, 1), ends_on=dt.date(2027, 2, 1)
    )
    AvailabilityExceptionFactory(
        person=cap.bob_person,
        reason=ExceptionReason.PART_TIME,
        starts_on=dt.date(2027, 3, 1),
        ends_on=dt.date(2027, 4, 1),
        available_fte=Decimal("0.4"),
    )
    AllocationFactory(person=cap.bob_person, fte=Decimal("0.3"), starts_on=JAN, ends_on=JAN)
    months = selectors.next_months(8, JAN)
    load = selectors.person_load(cap.director.actor, cap.bob_person, months)
    available = [m.available for m in load.months]
    allocated = [m.allocated for m in load.months]
    assert available == [Decimal(v) for v in ("0.8", "0", "0.4", "0.4", "0.8", "0.4", "0", "0")]
    assert allocated == [Decimal(v) for v in ("0.8", "0.5", "0.5", "0.5", "0.5", "0.5", "0", "0")]
    assert [m.label for m in load.over_months] == ["Feb 2027", "Mar 2027", "Apr 2027", "Jun 2027"]


def test_without_a_contract_a_person_gives_no_time_and_an_allocation_shows_over(
    cap: Cap,
) -> None:
    # Anyone the PMO works with is a person; only a recorded contract gives capacity.
    load = selectors.person_load(cap.director.actor, cap.alice_person, [JAN])
    assert load.months[0].available == Decimal(0)
    assert load.months[0].allocated == Decimal("0.5")
    assert [m.label for m in load.over_months] == ["Jan 2027"]


def test_a_services_staffing_sets_needs_against_allocations(cap: Cap) -> None:
    AssessmentFactory(person=cap.alice_person, competence=cap.planning, level=2)
    staffing = selectors.service_staffing(cap.manager.actor, cap.rep, selectors.next_months(7, JAN))
    planning, risk = staffing.rows
    assert planning.name == "Planning" and planning.fte == Decimal("1.00")
    assert [c.allocated for c in planning.cells] == [Decimal("0.5")] * 6 + [Decimal(0)]
    assert len(planning.short_months) == 7
    assert planning.people == [(cap.alice_on_rep, 2)]
    assert risk.people == [] and len(risk.short_months) == 7
    for who in ("alice", "bob", "viewer", "customer"):
        with pytest.raises(DomainError) as caught:
            selectors.service_staffing(cap.personas()[who].actor, cap.rep)
        assert caught.value.code == "not_found"
    assert Allocation.objects.count() == 2
    assert AvailabilityException.objects.count() == 0
