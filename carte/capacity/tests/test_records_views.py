"""The pages of people's capacity records: who sees what (404 for a person one may not
see, everywhere), the person's page (levels, history, availability, load chart with its
table, over-allocation in words), the forms and their refusals, the allocations list and
a service's staffing, with bounded queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from carte.capacity.choices import AllocationKind
from carte.capacity.models import Allocation, Assessment, Availability
from carte.capacity.tests.factories import (
    AllocationFactory,
    AssessmentFactory,
    AvailabilityExceptionFactory,
    AvailabilityFactory,
    CompetenceFactory,
)
from carte.capacity.tests.records_setup import JAN, Cap, build
from carte.catalogue.tests.factories import ServiceFactory
from carte.conftest import Persona
from carte.core.models import AuditAction
from carte.core.testing import assert_constant_queries, assert_entry, last_entry, no_writes
from carte.organisations.models import Organisation
from carte.organisations.tests.factories import PersonFactory


@pytest.fixture
def cap(org: Organisation, other_org: Organisation, outsider: Persona) -> Cap:
    return build(org, other_org, outsider)


def url(name: str, slug: str, *args: Any) -> str:
    return reverse(f"capacity:{name}", args=[slug, *args])


def person_urls(cap: Cap, slug: str, person_pk: int) -> list[str]:
    """Every page about one person."""
    assessment = AssessmentFactory(
        person_id=person_pk, organisation=cap.org, competence=cap.planning
    )
    exception = AvailabilityExceptionFactory(person_id=person_pk, organisation=cap.org)
    return [
        url("person", slug, person_pk),
        url("assessment_create", slug, person_pk),
        url("assessment_update", slug, person_pk, assessment.pk),
        url("assessment_confirm", slug, person_pk, assessment.pk),
        url("assessment_archive", slug, person_pk, assessment.pk),
        url("assessment_restore", slug, person_pk, assessment.pk),
        url("availability_set", slug, person_pk),
        url("exception_create", slug, person_pk),
        url("exception_update", slug, person_pk, exception.pk),
        url("exception_archive", slug, person_pk, exception.pk),
        url("allocation_create", slug) + f"?person={person_pk}",
    ]


# ---------------------------------------------------------------- who sees what


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("director", {"alice", "bob"}),
        ("pmo_manager", {"alice", "bob"}),
        ("manager", {"alice"}),  # allocated to the service they manage
        ("alice", {"alice"}),  # their own
        ("bob", {"bob"}),
        ("customer", set()),
        ("viewer", set()),
    ],
)
def test_who_sees_whose_capacity_page(cap: Cap, who: str, sees: set[str]) -> None:
    client = cap.personas()[who].client
    people = {"alice": cap.alice_person, "bob": cap.bob_person}
    for name, person in people.items():
        response = client.get(url("person", cap.org.slug, person.pk))
        assert response.status_code == (200 if name in sees else 404), (who, name)
    own = {"customer": cap.customer_person, "viewer": cap.viewer_person}.get(who)
    if own is not None:  # customers and viewers see only the aggregate grid
        assert client.get(url("person", cap.org.slug, own.pk)).status_code == 404
        assert client.get(url("allocations", cap.org.slug)).status_code == 404


def test_every_page_about_a_hidden_person_is_404_and_writes_nothing(cap: Cap) -> None:
    paths = person_urls(cap, cap.org.slug, cap.bob_person.pk)
    with no_writes(cap.bob_on_gov):
        for path in paths:
            for who in ("manager", "alice", "customer", "viewer"):
                client = cap.personas()[who].client
                assert client.get(path).status_code == 404, (who, path)
                assert client.post(path, {"level": 3}).status_code == 404, (who, path)


def test_another_organisation_gets_404_everywhere(cap: Cap) -> None:
    theirs = cap.outsider.client
    paths = person_urls(cap, cap.org.slug, cap.alice_person.pk)
    paths += [p.replace(f"/o/{cap.org.slug}/", f"/o/{cap.other_org.slug}/") for p in paths]
    for slug in (cap.org.slug, cap.other_org.slug):
        paths += [
            url("allocation_update", slug, cap.alice_on_rep.pk),
            url("allocation_archive", slug, cap.alice_on_rep.pk),
            url("allocation_restore", slug, cap.alice_on_rep.pk),
            url("service_staffing", slug, cap.rep.pk),
        ]
    paths += [url("allocations", cap.org.slug), url("allocation_create", cap.org.slug)]
    with no_writes(cap.alice_on_rep):
        for path in paths:
            assert theirs.get(path).status_code == 404, path
            assert theirs.post(path, {"fte": "0.5"}).status_code == 404, path


# ---------------------------------------------------------------- the person's page


def test_the_person_page_shows_levels_history_availability_and_load(cap: Cap) -> None:
    AvailabilityFactory(person=cap.alice_person, contracted_fte=Decimal("0.6"))
    AvailabilityExceptionFactory(
        person=cap.alice_person, starts_on=dt.date(2027, 2, 1), ends_on=dt.date(2027, 2, 1)
    )
    AssessmentFactory(
        person=cap.alice_person,
        competence=cap.planning,
        level=2,
        assessed_by=cap.pmo_manager_person,
    )
    AssessmentFactory(
        person=cap.alice_person,
        competence=cap.planning,
        level=4,
        assessed_on=dt.date(2026, 9, 1),
        assessed_by=cap.pmo_manager_person,
        evidence="Led the 2026 plan",
    )
    response = cap.director.client.get(
        url("person", cap.org.slug, cap.alice_person.pk), {"from": "2027-01"}
    )
    assert response.status_code == 200
    page = " ".join(response.content.decode().split())
    assert "4. Expert" in page and "2. Working knowledge" in page  # latest and history
    assert "Led the 2026 plan" in page and "Pat PMO" in page
    assert "Contracted 0.6 FTE" in page
    assert "Over-allocated in 1 month: Feb 2027 (by 0.5 FTE)" in page
    assert 'role="img"' in page and "<svg" in page  # the chart
    assert "Over-allocated by 0.5" in page  # its table, in words
    assert "Jan 2027" in page
    content = page.split('class="page-header', 1)[1]
    assert "@acme.example" not in content  # people read names, not addresses


def test_a_person_assesses_themself_and_a_pmo_manager_confirms(cap: Cap) -> None:
    own_page = cap.alice.client.get(url("person", cap.org.slug, cap.alice_person.pk))
    assert b"Assess yourself" in own_page.content
    response = cap.alice.client.post(
        url("assessment_create", cap.org.slug, cap.alice_person.pk),
        {
            "competence": cap.risk.pk,
            "level": "3",
            "assessed_on": "2026-11-02",
            "evidence": "Course",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    mine = Assessment.objects.get(person=cap.alice_person)
    assert mine.self_assessed and mine.confirmed_at is None
    assert_entry(last_entry(mine), cap.alice, AuditAction.CREATE)
    own_page = cap.alice.client.get(url("person", cap.org.slug, cap.alice_person.pk))
    assert b"awaiting confirmation" in own_page.content
    confirm = url("assessment_confirm", cap.org.slug, cap.alice_person.pk, mine.pk)
    assert confirm.encode() not in own_page.content
    with no_writes(mine):
        assert cap.alice.client.post(confirm).status_code == 403
    keeper_page = cap.pmo_manager.client.get(url("person", cap.org.slug, cap.alice_person.pk))
    assert confirm.encode() in keeper_page.content
    assert cap.pmo_manager.client.post(confirm).status_code == 302
    mine.refresh_from_db()
    assert mine.confirmed_by == cap.pmo_manager.user
    assert_entry(last_entry(mine), cap.pmo_manager, AuditAction.UPDATE)
    # Someone else's assessment is a keeper's to record.
    assert (
        cap.alice.client.get(url("assessment_create", cap.org.slug, cap.bob_person.pk)).status_code
        == 404
    )
    assert (
        cap.manager.client.get(
            url("assessment_create", cap.org.slug, cap.alice_person.pk)
        ).status_code
        == 403
    )


def test_forms_refuse_bad_input_next_to_the_field_and_write_nothing(cap: Cap) -> None:
    client = cap.pmo_manager.client
    with no_writes(cap.alice_on_rep):
        response = client.post(
            url("assessment_create", cap.org.slug, cap.alice_person.pk),
            {"competence": cap.planning.pk, "level": "7", "assessed_on": "2026-01-01"},
        )
        assert response.status_code == 422
        response = client.post(
            url("availability_set", cap.org.slug, cap.alice_person.pk), {"contracted_fte": "1.5"}
        )
        assert response.status_code == 422
        assert "above 1" in response.content.decode()
        response = client.post(
            url("exception_create", cap.org.slug, cap.alice_person.pk),
            {"reason": "leave", "starts_on": "2027-05", "ends_on": "2027-03", "available_fte": "0"},
        )
        assert response.status_code == 422
        assert "The end comes before the start." in response.content.decode()
        allocation = {
            "person": cap.bob_person.pk,
            "kind": AllocationKind.SERVICE,
            "service": cap.rep.pk,
            "competence": cap.finance.pk,
            "fte": "0.5",
            "starts_on": "2027-01",
            "ends_on": "2027-03",
        }
        response = client.post(url("allocation_create", cap.org.slug), allocation)
        assert response.status_code == 422
        page = response.content.decode()
        assert "does not need “Financial analysis”: it needs Planning, Risk management" in page
        assert 'id="id_competence_error"' in page
        response = client.post(
            url("allocation_create", cap.org.slug),
            {**allocation, "competence": cap.risk.pk, "fte": "1.2"},
        )
        assert response.status_code == 422
        assert "above 1" in response.content.decode()
        response = client.post(
            url("allocation_update", cap.org.slug, cap.alice_on_rep.pk),
            {
                **allocation,
                "person": cap.alice_person.pk,
                "competence": cap.risk.pk,
                "ends_on": "2026-12",
            },
        )
        assert response.status_code == 422
        assert "The end comes before the start." in response.content.decode()


def test_a_keeper_keeps_availability_and_allocations_through_the_pages(cap: Cap) -> None:
    client = cap.pmo_manager.client
    response = client.post(
        url("availability_set", cap.org.slug, cap.bob_person.pk),
        {"contracted_fte": "0.8", "starts_on": "", "leaves_on": "2027-12-31"},
    )
    assert response.status_code == 302
    contract = Availability.objects.get(person=cap.bob_person)
    assert contract.contracted_fte == Decimal("0.80")
    assert_entry(last_entry(contract), cap.pmo_manager, AuditAction.CREATE)
    response = client.post(
        url("allocation_create", cap.org.slug) + f"?person={cap.bob_person.pk}",
        {
            "person": cap.bob_person.pk,
            "kind": AllocationKind.SERVICE,
            "service": cap.rep.pk,
            "competence": cap.risk.pk,
            "fte": "0.5",
            "starts_on": "2027-01",
            "ends_on": "2027-03",
        },
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"/capacity/people/{cap.bob_person.pk}/#allocations")
    made = Allocation.objects.get(person=cap.bob_person, service=cap.rep)
    assert (made.starts_on, made.ends_on) == (JAN, dt.date(2027, 3, 1))
    response = client.post(url("allocation_archive", cap.org.slug, made.pk))
    assert response.status_code == 302
    made.refresh_from_db()
    assert made.archived_at is not None


# ---------------------------------------------------------------- the allocations list


def test_the_allocations_list_filters_and_lists_the_over_allocated_first(cap: Cap) -> None:
    AvailabilityFactory(person=cap.alice_person, contracted_fte=Decimal("1"))
    AvailabilityFactory(person=cap.bob_person, contracted_fte=Decimal("1"))
    AllocationFactory(
        person=cap.bob_person,
        fte=Decimal("0.75"),
        starts_on=dt.date(2027, 3, 1),
        ends_on=dt.date(2027, 3, 1),
    )
    client = cap.director.client
    page = client.get(url("allocations", cap.org.slug), {"month": "2027-03"}).content.decode()
    over = page.split('data-testid="over-allocated"', 1)[1].split("</section>", 1)[0]
    assert "Bob Builder" in over and "Alice Analyst" not in over
    assert "Mar 2027: 1.25 FTE allocated of 1 available (over by 0.25)" in over
    rows = client.get(url("allocations", cap.org.slug), {"person": cap.alice_person.pk}).content
    assert f'data-testid="allocation-{cap.alice_on_rep.pk}"'.encode() in rows
    assert f'data-testid="allocation-{cap.bob_on_gov.pk}"'.encode() not in rows
    rows = client.get(url("allocations", cap.org.slug), {"service": cap.gov.pk}).content
    assert f'data-testid="allocation-{cap.bob_on_gov.pk}"'.encode() in rows
    assert f'data-testid="allocation-{cap.alice_on_rep.pk}"'.encode() not in rows
    rows = client.get(url("allocations", cap.org.slug), {"kind": "project"}).content
    assert f'data-testid="allocation-{cap.bob_on_gov.pk}"'.encode() not in rows
    rows = client.get(url("allocations", cap.org.slug), {"month": "2027-09"}).content
    assert b"allocation-" not in rows.split(b"</thead>", 2)[-1]
    bad = client.get(url("allocations", cap.org.slug), {"month": "March"})
    assert bad.status_code == 200 and b"YYYY-MM" in bad.content
    # A Service Manager sees the people on their service only.
    mine = cap.manager.client.get(url("allocations", cap.org.slug)).content
    assert f'data-testid="allocation-{cap.alice_on_rep.pk}"'.encode() in mine
    assert b"Bob Builder" not in mine


# ---------------------------------------------------------------- staffing


def test_a_services_staffing_page_shows_needs_against_allocations(cap: Cap) -> None:
    response = cap.manager.client.get(
        url("service_staffing", cap.org.slug, cap.rep.pk), {"from": "2027-01"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Planning" in page and "Risk management" in page
    assert "needs 1 FTE at 3. Practitioner" in page
    assert "Short in 12 months" in page and "short 0.5" in page
    assert "Alice Analyst" in page and "not assessed" in page
    # The service's Manager holds a role on it without an allocation: shown all the same.
    holders = page.split('data-testid="role-holders"', 1)[1].split("</section>", 1)[0]
    assert "Manu Manager" in holders and "No time allocated to it in Jan 2027" in holders
    for who in ("alice", "bob", "customer", "viewer"):
        status = (
            cap.personas()[who]
            .client.get(url("service_staffing", cap.org.slug, cap.rep.pk))
            .status_code
        )
        assert status == 404, who


# ---------------------------------------------------------------- bounded queries


def test_the_person_page_and_the_list_run_a_fixed_number_of_queries(cap: Cap) -> None:
    person = cap.alice_person
    client = cap.manager.client

    def grow() -> None:
        for n in range(4):
            competence = CompetenceFactory(organisation=cap.org)
            AssessmentFactory(
                person=person, competence=competence, assessed_by=cap.pmo_manager_person
            )
            AssessmentFactory(
                person=person,
                competence=competence,
                self_assessed=True,
                assessed_on=dt.date(2026, 2, n + 1),
            )
            AvailabilityExceptionFactory(
                person=person, starts_on=dt.date(2027, n + 1, 1), ends_on=dt.date(2027, n + 1, 1)
            )
            service = ServiceFactory(organisation=cap.org)
            AllocationFactory(
                person=person,
                kind=AllocationKind.SERVICE,
                service=service,
                work="",
                competence=competence,
            )
            other = PersonFactory(organisation=cap.org)
            AllocationFactory(
                person=other,
                kind=AllocationKind.SERVICE,
                service=cap.rep,
                work="",
                fte=Decimal("1"),
            )
            AllocationFactory(person=other, fte=Decimal("0.5"))

    AvailabilityFactory(person=person)
    assert_constant_queries(lambda: client.get(url("person", cap.org.slug, person.pk)), grow)
    assert_constant_queries(lambda: client.get(url("allocations", cap.org.slug)), grow)
    assert_constant_queries(lambda: cap.director.client.get(url("allocations", cap.org.slug)), grow)
    assert_constant_queries(
        lambda: client.get(url("service_staffing", cap.org.slug, cap.rep.pk)), grow
    )
