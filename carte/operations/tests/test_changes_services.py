"""Change requests, improvements and feedback through their services: the state machines,
who may do what, and that every refusal writes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import IntegrityError
from django.utils import timezone

from carte.catalogue.choices import Stage
from carte.catalogue.models import ServiceVersion
from carte.catalogue.services import service_update
from carte.catalogue.tests.factories import ServiceFactory
from carte.core.clock import as_of
from carte.core.errors import DomainError
from carte.core.models import AuditEntry
from carte.core.testing import no_writes
from carte.operations.choices import (
    ChangeReason,
    ChangeState,
    ImprovementStatus,
    NoticeKind,
    RaisedAs,
)
from carte.operations.models import ChangeEvent, ChangeRequest, Feedback, Improvement, Notice
from carte.operations.selectors import changes as selectors
from carte.operations.services import changes as services
from carte.operations.tests.conftest import Ops
from carte.operations.tests.factories import ChangeRequestFactory, RiskIssueFactory
from carte.organisations.actor import Actor
from carte.organisations.tests.factories import CustomerGroupFactory, PersonFactory

pytestmark = pytest.mark.django_db


def data(**extra: Any) -> dict[str, Any]:
    return {
        "title": "Add a programme view to the monthly pack",
        "description": "Programme boards ask to see their projects rolled up.",
        "raised_as": RaisedAs.MANAGER,
        "reason": ChangeReason.FEEDBACK,
        "affects": ["handbook"],
        **extra,
    }


def raise_change(ops: Ops, actor: Actor | None = None, **extra: Any) -> ChangeRequest:
    """A draft change request on the service (or `service=`), raised by its Manager unless
    `actor` is given; the other tests of change requests make theirs here too."""
    return services.change_request_create(
        actor=actor or ops.manager.actor,
        service=extra.pop("service", ops.service),
        data=data(**extra),
    )


def submitted(ops: Ops, actor: Actor | None = None, **extra: Any) -> ChangeRequest:
    cr = raise_change(ops, actor, **extra)
    return services.change_request_submit(actor=actor or ops.manager.actor, change=cr)


def busy(ops: Ops, people: list[Any], n: int) -> None:
    """`n` submitted change requests, improvements and pieces of feedback (with a
    suggestion), spread over `people`: what the lists' query counts grow with."""
    for i in range(n):
        person = people[i % len(people)]
        cr = submitted(ops, raised_by=person)
        services.improvement_create(
            actor=ops.manager.actor, service=ops.service, data={"title": f"Idea {cr.pk}"}
        )
        services.feedback_give(
            actor=ops.staff.actor,
            service=ops.service,
            rating=1 + i % 5,
            person=person,
            suggestion=f"Suggestion {i}",
        )


def approved(ops: Ops, **extra: Any) -> ChangeRequest:
    cr = submitted(ops, **extra)
    return services.change_request_decide(
        actor=ops.owner.actor, change=cr, approve=True, note="Agreed at the service review."
    )


def refused(code: str, call: Any, *objs: Any, field: str | None = None) -> DomainError:
    with no_writes(*objs), pytest.raises(DomainError) as caught:
        call()
    assert caught.value.code == code, caught.value.message
    if field:
        assert field in caught.value.errors, caught.value.errors
    return caught.value


# ---------------------------------------------------------------- creating


def test_it_raises_a_numbered_draft_with_its_first_event_and_an_audit_entry(ops: Ops) -> None:
    first = raise_change(ops)
    second = raise_change(ops, title="Publish the pack a day earlier")
    assert (first.number, second.number) == (1, 2)
    assert first.reference == "CR-1"
    assert first.state == ChangeState.DRAFT
    assert first.raised_by == ops.manager_person
    assert first.affects == ["handbook"]
    event = ChangeEvent.objects.get(change=first)
    assert (event.from_state, event.to_state) == ("", ChangeState.DRAFT)
    assert AuditEntry.objects.filter(object_id=first.pk, action="create").exists()


def test_it_numbers_each_organisation_on_its_own(ops: Ops, other_org: Any) -> None:
    raise_change(ops)
    theirs = ServiceFactory(organisation=other_org, code="THEIRS", name="Theirs")
    cr = services.change_request_create(
        actor=Actor.for_system(other_org), service=theirs, data=data()
    )
    assert cr.number == 1


def test_it_takes_the_next_number_when_someone_took_it_meanwhile(
    ops: Ops, monkeypatch: Any
) -> None:
    taken = raise_change(ops)
    calls = iter([taken.number, taken.number + 1])
    monkeypatch.setattr(services, "_next_number", lambda org_id: next(calls))
    cr = raise_change(ops, title="Second")
    assert cr.number == taken.number + 1


def test_the_number_is_unique_in_the_database(ops: Ops) -> None:
    cr = raise_change(ops)
    with pytest.raises(IntegrityError):
        ChangeRequestFactory(service=ops.service, number=cr.number)


def test_it_links_the_risk_behind_a_change_and_a_named_raiser(ops: Ops) -> None:
    risk = RiskIssueFactory(service=ops.service)
    cr = raise_change(ops, item=risk, raised_by=ops.owner_person, raised_as=RaisedAs.STAKEHOLDER)
    assert cr.item == risk and cr.raised_by == ops.owner_person


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"title": "  "}, "title"),
        ({"description": ""}, "description"),
        ({"raised_as": "boss"}, "raised_as"),
        ({"reason": "whim"}, "reason"),
        ({"affects": ["budget"]}, "affects"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_it_refuses_bad_input_naming_the_field_and_writes_nothing(
    ops: Ops, extra: dict[str, Any], field: str
) -> None:
    refused("invalid", lambda: raise_change(ops, **extra), ops.service, field=field)
    assert not ChangeRequest.objects.exists()


def test_it_refuses_a_risk_of_another_service_or_a_person_of_another_organisation(
    ops: Ops, other_org: Any
) -> None:
    risk = RiskIssueFactory(service=ops.other_service)
    refused("invalid", lambda: raise_change(ops, item=risk), field="item")
    stranger = PersonFactory(organisation=other_org)
    refused("invalid", lambda: raise_change(ops, raised_by=stranger), field="raised_by")


def test_viewers_and_outsiders_cannot_raise_changes(ops: Ops) -> None:
    refused("forbidden", lambda: raise_change(ops, actor=ops.viewer.actor))
    with pytest.raises(DomainError):
        raise_change(ops, actor=ops.outsider.actor)
    assert not ChangeRequest.objects.exists()


# ---------------------------------------------------------------- the state machine


def test_it_walks_a_change_from_draft_to_implemented(ops: Ops) -> None:
    cr = raise_change(ops)
    services.change_request_update(
        actor=ops.operative.actor, change=cr, data={"title": "Programme view in the pack"}
    )
    services.change_request_submit(actor=ops.manager.actor, change=cr, note="Ready for a look.")
    assert cr.state == ChangeState.SUBMITTED and cr.submitted_at is not None
    services.change_request_decide(
        actor=ops.owner.actor, change=cr, approve=True, note="Yes, from next quarter."
    )
    assert cr.state == ChangeState.APPROVED
    assert cr.decided_by == ops.owner.user and cr.decision_note == "Yes, from next quarter."
    services.change_request_implement(actor=ops.manager.actor, change=cr, note="Handbook v3.")
    cr.refresh_from_db()
    assert cr.state == ChangeState.IMPLEMENTED and cr.implemented_at is not None
    assert cr.version is None  # the handbook only: no new catalogue version
    moves = list(
        ChangeEvent.objects.filter(change=cr)
        .order_by("at", "id")
        .values_list("from_state", "to_state", "note")
    )
    assert moves == [
        ("", "draft", ""),
        ("draft", "submitted", "Ready for a look."),
        ("submitted", "approved", "Yes, from next quarter."),
        ("approved", "implemented", "Handbook v3."),
    ]
    assert cr.title == "Programme view in the pack"


def test_submitting_tells_the_owner_once_that_a_change_waits_for_their_decision(
    ops: Ops,
) -> None:
    cr = submitted(ops)
    notice = Notice.objects.get()
    assert notice.recipient == ops.owner.user
    assert notice.kind == NoticeKind.DECISION
    assert notice.key.startswith(f"decision:change:{cr.pk}:")
    assert cr.reference in notice.title
    assert f"/changes/{cr.pk}/" in notice.url


def test_a_decision_is_rejected_once_taken_and_a_rejection_is_final(ops: Ops) -> None:
    cr = submitted(ops)
    services.change_request_decide(
        actor=ops.owner.actor, change=cr, approve=False, note="Out of scope this year."
    )
    assert cr.state == ChangeState.REJECTED
    refused(
        "conflict",
        lambda: services.change_request_implement(actor=ops.manager.actor, change=cr),
        cr,
    )
    refused(
        "conflict",
        lambda: services.change_request_decide(
            actor=ops.owner.actor, change=cr, approve=True, note="Changed my mind."
        ),
        cr,
    )


@pytest.mark.parametrize("who", ["director", "pmo_manager", "manager", "operative", "staff"])
def test_only_the_owner_decides_not_even_the_director(ops: Ops, who: str) -> None:
    cr = submitted(ops)
    error = refused(
        "forbidden",
        lambda: services.change_request_decide(
            actor=getattr(ops, who).actor, change=cr, approve=True, note="Fine by me."
        ),
        cr,
    )
    assert "Owner" in error.message
    cr.refresh_from_db()
    assert cr.state == ChangeState.SUBMITTED


def test_the_owner_of_another_service_cannot_decide(ops: Ops) -> None:
    cr = services.change_request_create(
        actor=ops.director.actor, service=ops.other_service, data=data()
    )
    services.change_request_submit(actor=ops.director.actor, change=cr)
    refused(
        "forbidden",
        lambda: services.change_request_decide(
            actor=ops.owner.actor, change=cr, approve=True, note="Mine now."
        ),
        cr,
    )


def test_a_decision_needs_a_note(ops: Ops) -> None:
    cr = submitted(ops)
    refused(
        "invalid",
        lambda: services.change_request_decide(
            actor=ops.owner.actor, change=cr, approve=True, note="   "
        ),
        cr,
        field="note",
    )


def test_moves_from_the_wrong_state_are_conflicts_that_write_nothing(ops: Ops) -> None:
    draft = raise_change(ops)
    refused(
        "conflict",
        lambda: services.change_request_decide(
            actor=ops.owner.actor, change=draft, approve=True, note="Early."
        ),
        draft,
    )
    refused(
        "conflict",
        lambda: services.change_request_implement(actor=ops.manager.actor, change=draft),
        draft,
    )
    sub = submitted(ops)
    refused(
        "conflict", lambda: services.change_request_submit(actor=ops.manager.actor, change=sub), sub
    )
    done = approved(ops)
    refused(
        "conflict",
        lambda: services.change_request_update(
            actor=ops.manager.actor, change=done, data={"title": "Too late"}
        ),
        done,
    )


def test_a_stale_object_is_checked_against_the_stored_state(ops: Ops) -> None:
    cr = submitted(ops)
    stale = ChangeRequest.objects.get(pk=cr.pk)
    services.change_request_decide(actor=ops.owner.actor, change=cr, approve=True, note="Go.")
    refused(
        "conflict",
        lambda: services.change_request_decide(
            actor=ops.owner.actor, change=stale, approve=False, note="No."
        ),
        cr,
    )


def test_a_decision_is_audited_with_who_decided_when_and_why(ops: Ops) -> None:
    cr = submitted(ops)
    services.change_request_decide(actor=ops.owner.actor, change=cr, approve=False, note="No.")
    entry = AuditEntry.objects.filter(object_id=cr.pk, changes__has_key="decided_by").get()
    assert entry.changes["state"] == {"before": "submitted", "after": "rejected"}
    assert entry.changes["decision_note"] == {"before": "", "after": "No."}
    assert entry.changes["decided_by"]["after"] == str(ops.owner.user)


def test_submitting_needs_the_documents_it_affects(ops: Ops) -> None:
    cr = raise_change(ops, affects=[])
    refused(
        "invalid",
        lambda: services.change_request_submit(actor=ops.manager.actor, change=cr),
        cr,
        field="affects",
    )


def test_only_delivery_management_implements(ops: Ops) -> None:
    cr = approved(ops)
    for who in (ops.operative, ops.staff, ops.viewer):
        refused(
            "forbidden",
            lambda who=who: services.change_request_implement(actor=who.actor, change=cr),
            cr,
        )


def test_the_operative_may_edit_a_draft_but_not_archive_it(ops: Ops) -> None:
    cr = raise_change(ops)
    services.change_request_update(
        actor=ops.operative.actor, change=cr, data={"reason": ChangeReason.TOOLS}
    )
    assert cr.reason == ChangeReason.TOOLS
    refused(
        "forbidden",
        lambda: services.change_request_archive(actor=ops.operative.actor, change=cr),
        cr,
    )
    services.change_request_archive(actor=ops.manager.actor, change=cr)
    assert cr.archived_at is not None
    refused(
        "conflict",
        lambda: services.change_request_submit(actor=ops.manager.actor, change=cr),
        cr,
    )


# ---------------------------------------------------------------- implementing in the catalogue


def test_implementing_a_catalogue_change_publishes_a_version_linked_both_ways(ops: Ops) -> None:
    cr = approved(ops, affects=["catalogue", "handbook"])
    v1 = ops.service.current_version
    assert v1 is not None
    error = refused(
        "conflict",
        lambda: services.change_request_implement(actor=ops.manager.actor, change=cr),
        cr,
        ops.service,
    )
    assert "Nothing changed since version 1" in error.message
    service_update(
        actor=ops.manager.actor,
        service=ops.service,
        data={"summary": "Monthly portfolio status packs, with a programme roll-up."},
    )
    services.change_request_implement(actor=ops.manager.actor, change=cr, note="Pack updated.")
    cr.refresh_from_db()
    ops.service.refresh_from_db()
    assert cr.state == ChangeState.IMPLEMENTED
    assert cr.version_before == v1
    assert cr.version is not None and cr.version.number == 2
    assert ops.service.current_version == cr.version
    assert list(cr.version.change_requests.all()) == [cr]
    assert cr.version.note == f"{cr.reference}: {cr.title}"
    # Both versions are kept: before and after.
    before, after = ServiceVersion.objects.get(pk=v1.pk), cr.version
    assert before.snapshot["service"]["summary"] != after.snapshot["service"]["summary"]


# ---------------------------------------------------------------- improvements


def log(ops: Ops, actor: Actor | None = None) -> Improvement:
    return services.improvement_create(
        actor=actor or ops.manager.actor,
        service=ops.service,
        data={
            "title": "Pre-fill the RAID log from last month's pack",
            "expected_benefit": "Half a day saved per project each month.",
        },
    )


def test_the_manager_keeps_the_improvement_log_and_the_owner_agrees(ops: Ops) -> None:
    improvement = log(ops)
    assert improvement.status == ImprovementStatus.IDEA
    assert improvement.raised_by == ops.manager_person
    services.improvement_move(
        actor=ops.manager.actor, improvement=improvement, status=ImprovementStatus.IN_PROGRESS
    )
    services.improvement_request_agreement(
        actor=ops.manager.actor, improvement=improvement, note="Live for two months."
    )
    assert improvement.status == ImprovementStatus.AWAITING
    notice = Notice.objects.get()
    assert notice.recipient == ops.owner.user and notice.kind == NoticeKind.DECISION
    services.improvement_agree(actor=ops.owner.actor, improvement=improvement, agree=True)
    improvement.refresh_from_db()
    assert improvement.status == ImprovementStatus.IMPLEMENTED
    assert improvement.agreed_by == ops.owner.user and improvement.agreed_at is not None


def test_disagreeing_sends_it_back_in_progress_with_the_note(ops: Ops) -> None:
    improvement = log(ops)
    for status in (ImprovementStatus.IN_PROGRESS, ImprovementStatus.AWAITING):
        services.improvement_move(actor=ops.manager.actor, improvement=improvement, status=status)
    refused(
        "invalid",
        lambda: services.improvement_agree(
            actor=ops.owner.actor, improvement=improvement, agree=False
        ),
        improvement,
        field="note",
    )
    services.improvement_agree(
        actor=ops.owner.actor,
        improvement=improvement,
        agree=False,
        note="Two programmes still fill it by hand.",
    )
    assert improvement.status == ImprovementStatus.IN_PROGRESS
    assert improvement.note == "Two programmes still fill it by hand."
    assert improvement.agreed_at is None


def test_only_the_owner_agrees_and_nobody_skips_the_agreement(ops: Ops) -> None:
    improvement = log(ops)
    refused(
        "conflict",
        lambda: services.improvement_move(
            actor=ops.manager.actor,
            improvement=improvement,
            status=ImprovementStatus.IMPLEMENTED,
        ),
        improvement,
    )
    refused(
        "conflict",
        lambda: services.improvement_move(
            actor=ops.manager.actor, improvement=improvement, status=ImprovementStatus.AWAITING
        ),
        improvement,
    )
    refused(
        "conflict",
        lambda: services.improvement_agree(
            actor=ops.owner.actor, improvement=improvement, agree=True
        ),
        improvement,
    )
    for status in (ImprovementStatus.IN_PROGRESS, ImprovementStatus.AWAITING):
        services.improvement_move(actor=ops.manager.actor, improvement=improvement, status=status)
    for who in (ops.director, ops.manager, ops.pmo_manager):
        refused(
            "forbidden",
            lambda who=who: services.improvement_agree(
                actor=who.actor, improvement=improvement, agree=True
            ),
            improvement,
        )


def test_operatives_and_customers_do_not_keep_the_log(ops: Ops) -> None:
    for who in (ops.operative, ops.customer, ops.staff):
        refused("forbidden", lambda who=who: log(ops, who.actor))
    refused(
        "invalid",
        lambda: services.improvement_create(
            actor=ops.manager.actor, service=ops.service, data={"title": ""}
        ),
        field="title",
    )
    assert not Improvement.objects.exists()


def test_an_implemented_improvement_is_kept_as_it_was(ops: Ops) -> None:
    improvement = log(ops)
    for status in (ImprovementStatus.IN_PROGRESS, ImprovementStatus.AWAITING):
        services.improvement_move(actor=ops.manager.actor, improvement=improvement, status=status)
    services.improvement_agree(actor=ops.owner.actor, improvement=improvement, agree=True)
    refused(
        "conflict",
        lambda: services.improvement_update(
            actor=ops.manager.actor, improvement=improvement, data={"title": "Rewrite"}
        ),
        improvement,
    )


# ---------------------------------------------------------------- feedback


def test_a_customer_of_the_service_rates_it(ops: Ops) -> None:
    feedback = services.feedback_give(
        actor=ops.customer.actor, service=ops.service, rating=4, comment="Clear and on time."
    )
    assert feedback.person == ops.customer_person
    assert feedback.customer_group == ops.group
    assert feedback.rating == 4 and feedback.change_request is None


def test_a_suggestion_becomes_a_draft_change_request_from_the_customer(ops: Ops) -> None:
    feedback = services.feedback_give(
        actor=ops.customer.actor,
        service=ops.service,
        rating=3,
        comment="Useful, but late for our board.",
        suggestion="Send the pack two days before the programme board.",
    )
    cr = feedback.change_request
    assert cr is not None
    assert cr.state == ChangeState.DRAFT
    assert (cr.raised_as, cr.reason) == (RaisedAs.CUSTOMER, ChangeReason.FEEDBACK)
    assert cr.raised_by == ops.customer_person
    assert cr.description == "Send the pack two days before the programme board."
    assert cr.title.startswith("Send the pack")


def test_customers_of_other_services_viewers_and_staff_without_a_customer_are_refused(
    ops: Ops,
) -> None:
    refused(
        "forbidden",
        lambda: services.feedback_give(
            actor=ops.customer.actor, service=ops.other_service, rating=5
        ),
    )
    refused(
        "forbidden",
        lambda: services.feedback_give(actor=ops.viewer.actor, service=ops.service, rating=5),
    )
    refused(
        "invalid",
        lambda: services.feedback_give(actor=ops.staff.actor, service=ops.service, rating=5),
        field="person",
    )
    refused(
        "invalid",
        lambda: services.feedback_give(
            actor=ops.staff.actor, service=ops.service, rating=5, person=ops.manager_person
        ),
        field="person",
    )
    assert not Feedback.objects.exists()


def test_staff_record_feedback_for_a_named_customer(ops: Ops) -> None:
    feedback = services.feedback_give(
        actor=ops.staff.actor,
        service=ops.service,
        rating=2,
        comment="Said at the quarterly review.",
        person=ops.customer_person,
    )
    assert feedback.person == ops.customer_person and feedback.customer_group == ops.group


@pytest.mark.parametrize("rating", [0, 6, "five", None, True])
def test_a_rating_runs_from_one_to_five(ops: Ops, rating: Any) -> None:
    refused(
        "invalid",
        lambda: services.feedback_give(
            actor=ops.customer.actor, service=ops.service, rating=rating, suggestion="x"
        ),
        field="rating",
    )
    assert not ChangeRequest.objects.exists()


def test_feedback_is_given_on_a_running_published_service(ops: Ops) -> None:
    proposed = ServiceFactory(organisation=ops.org, code="NEW", stage=Stage.PROPOSED)
    from carte.catalogue.tests.factories import ServiceCustomerFactory

    ServiceCustomerFactory(service=proposed, customer_group=ops.group)
    with pytest.raises(DomainError):
        services.feedback_give(
            actor=ops.staff.actor, service=proposed, rating=4, person=ops.customer_person
        )
    assert not Feedback.objects.exists()


def test_satisfaction_is_the_average_and_count_per_month_in_one_query(
    ops: Ops, django_assert_num_queries: Any
) -> None:
    now = timezone.now()
    this_month = now.replace(day=1, hour=12)
    last_month = (this_month - dt.timedelta(days=5)).replace(day=3)
    other = PersonFactory(organisation=ops.org, customer_group=ops.group)
    for moment, rating, who in (
        (this_month, 5, ops.customer_person),
        (this_month, 4, other),
        (last_month, 2, other),
    ):
        with as_of(moment):
            services.feedback_give(
                actor=ops.staff.actor, service=ops.service, rating=rating, person=who
            )
    with django_assert_num_queries(1):
        monthly = selectors.satisfaction(ops.director.actor, ops.service, 12)
    assert len(monthly) == 12
    assert monthly[-1]["month"] == timezone.localdate(now).replace(day=1)
    assert (str(monthly[-1]["average"]), monthly[-1]["count"]) == ("4.5", 2)
    assert (str(monthly[-2]["average"]), monthly[-2]["count"]) == ("2.0", 1)
    assert monthly[0]["average"] is None and monthly[0]["count"] == 0
    average, count = selectors.overall(monthly)
    assert (str(average), count) == ("3.7", 3)


def test_recording_many_ratings_at_once_checks_and_audits_each(ops: Ops) -> None:
    rows = [
        Feedback(service=ops.service, person=ops.customer_person, rating=r, comment="")
        for r in (3, 4, 5)
    ]
    created = services.feedback_record_many(actor=ops.system, rows=rows)
    assert len(created) == 3
    assert (
        AuditEntry.objects.filter(action="create", object_id__in=[f.pk for f in created]).count()
        == 3
    )
    outsider_group = CustomerGroupFactory(organisation=ops.org, name="Not served")
    stranger = PersonFactory(organisation=ops.org, customer_group=outsider_group)
    refused(
        "invalid",
        lambda: services.feedback_record_many(
            actor=ops.system,
            rows=[Feedback(service=ops.service, person=stranger, rating=4)],
        ),
        field="person",
    )


def test_the_managers_moves_of_an_improvement_are_the_tables() -> None:
    assert services.IMPROVEMENT_MOVES == {
        ImprovementStatus.IDEA: (ImprovementStatus.IN_PROGRESS, ImprovementStatus.DROPPED),
        ImprovementStatus.IN_PROGRESS: (ImprovementStatus.AWAITING, ImprovementStatus.DROPPED),
        ImprovementStatus.AWAITING: (ImprovementStatus.IN_PROGRESS, ImprovementStatus.DROPPED),
        ImprovementStatus.IMPLEMENTED: (),
        ImprovementStatus.DROPPED: (ImprovementStatus.IDEA,),
    }


def test_an_archived_improvement_makes_no_move(ops: Ops) -> None:
    improvement = log(ops)
    services.improvement_archive(actor=ops.manager.actor, improvement=improvement)
    error = refused(
        "conflict",
        lambda: services.improvement_move(
            actor=ops.manager.actor, improvement=improvement, status=ImprovementStatus.DROPPED
        ),
        improvement,
    )
    assert error.message == "This improvement is archived."
