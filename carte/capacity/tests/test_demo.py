"""The demo's capacity tells the issue's story: financial analysis runs short next
quarter (its best analyst is seconded), two people are over-allocated, and the proposal
waiting for a decision (RES-02) does not fit; every person of a PMO has a contract and
assessed competences; one self-assessment waits for confirmation."""

from __future__ import annotations

from typing import Any

import pytest

from carte.capacity.models import Assessment, Availability
from carte.capacity.months import add_months
from carte.capacity.selectors import grid, records
from carte.catalogue.models import Service
from carte.organisations.actor import Actor
from carte.organisations.models import Organisation, Person

pytestmark = pytest.mark.django_db


def test_the_demo_tells_the_capacity_story(demo: dict[str, Any]) -> None:
    org: Organisation = demo["northwind"]
    actor = Actor.for_system(org)
    query = grid.grid_query(actor)
    table = grid.grid(actor, query)
    finance = next(r for r in table.rows if r.name == "Financial analysis")
    now, next_quarter = finance.cells[0], finance.cells[1:4]
    assert all(c.shortfall > now.shortfall for c in next_quarter), "short next quarter"
    assert len(records.over_allocated(actor, query.months)) == 2
    res02 = Service.objects.get(organisation=org, code="RES-02")
    service, needs = grid.service_needs(actor, res02.pk)
    verdict = grid.fit(actor, needs, query, service=service)
    assert not any(m.fits for m in verdict.months[:3])
    pmo_people = Person.objects.filter(organisation=org, pmo__isnull=False)
    assert Availability.objects.filter(person__in=pmo_people).count() == pmo_people.count()
    assert Assessment.objects.filter(organisation=org, self_assessed=True).count() == 1
    assert add_months(query.months[0], 1) == query.months[1]
