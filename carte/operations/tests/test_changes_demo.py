"""The demo's change requests, improvements and feedback tell the story the pages show."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import Count

from carte.core.clock import today
from carte.operations.choices import ChangeState, ImprovementStatus
from carte.operations.models import ChangeRequest, Feedback, Improvement
from carte.operations.selectors import changes as selectors
from carte.organisations.actor import Actor

pytestmark = pytest.mark.django_db


def test_it_has_change_requests_in_every_state_and_a_published_change(demo: Any) -> None:
    org = demo["northwind"]
    changes = ChangeRequest.objects.filter(organisation=org)
    states = set(changes.values_list("state", flat=True))
    assert states >= set(ChangeState.values)
    done = changes.get(state=ChangeState.IMPLEMENTED, affects__contains="catalogue")
    assert done.version is not None and done.version_before is not None
    assert done.version.number == done.version_before.number + 1
    assert done.version.service.current_version_id == done.version.pk
    assert done.events.count() == 4
    rejected = changes.get(state=ChangeState.REJECTED)
    assert rejected.decision_note and rejected.decided_by is not None


def test_it_has_an_improvement_log_with_one_awaiting_the_owner(demo: Any) -> None:
    statuses = set(
        Improvement.objects.filter(organisation=demo["northwind"]).values_list("status", flat=True)
    )
    assert statuses == set(ImprovementStatus.values)


def test_it_has_a_year_of_feedback_and_a_suggestion_turned_into_a_draft(demo: Any) -> None:
    org = demo["northwind"]
    feedback = Feedback.objects.filter(organisation=org)
    suggested = feedback.exclude(change_request=None).get()
    assert suggested.change_request.state == ChangeState.DRAFT  # type: ignore[union-attr]
    assert suggested.change_request.raised_as == "customer"  # type: ignore[union-attr]
    service = suggested.service
    monthly = selectors.satisfaction(Actor.for_system(org), service, 12)
    assert sum(1 for m in monthly if m["count"]) >= 10
    ratings = dict(feedback.values_list("rating").annotate(n=Count("id")))
    assert ratings.get(4, 0) + ratings.get(5, 0) > ratings.get(1, 0) + ratings.get(2, 0) > 0
    assert feedback.filter(rating__lte=2).exclude(comment="").exists()
    assert Feedback.objects.filter(organisation=demo["riverside"]).exists()
    assert max(feedback.values_list("given_at", flat=True)).date() <= today()
