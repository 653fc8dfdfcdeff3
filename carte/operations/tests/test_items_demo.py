"""The demo's risks and issues: every level, actions overdue and done, a risk that
became an issue, an Owner's decision, and Riverside's own."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from carte.core.clock import today
from carte.operations.models import ItemAction, ItemEvent, RiskIssue
from carte.organisations.models import Organisation

pytestmark = pytest.mark.django_db


def test_the_demo_has_risks_and_issues_at_every_level(demo: dict[str, Organisation]) -> None:
    northwind = RiskIssue.objects.filter(organisation=demo["northwind"])
    assert {i.level for i in northwind.filter(status="open")} == {1, 2, 3}
    assert northwind.filter(kind="issue", became_issue_at__isnull=False).exists()
    assert northwind.filter(decision="mitigate", decided_by__isnull=False).exists()
    assert northwind.filter(status="closed").exists()
    actions = ItemAction.objects.filter(item__organisation=demo["northwind"])
    assert actions.filter(done_at__isnull=False).exists()
    assert actions.filter(done_at__isnull=True, due_date__lt=today()).exists()
    # The story is dated in the past and told by the people of the service.
    events = ItemEvent.objects.filter(organisation=demo["northwind"], kind="escalated")
    assert events.exists() and not events.filter(note="").exists()
    assert events.filter(actor__isnull=False).exists()
    assert not events.filter(at__gte=timezone.now() - dt.timedelta(hours=1)).exists()
    assert RiskIssue.objects.filter(organisation=demo["riverside"]).count() == 2
