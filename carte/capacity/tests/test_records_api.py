"""The API of people's capacity records: the same rules as the pages (a person one may
not see is 404 at every path under them, another organisation is 404 everywhere), every
bad input a 422 problem naming the field with nothing written, the audit trail, bounded
queries for every list."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from functools import partial
from typing import Any

import pytest

from carte.capacity.choices import AllocationKind
from carte.capacity.models import Allocation, Assessment, Availability, AvailabilityException
from carte.capacity.tests.factories import (
    AllocationFactory,
    AssessmentFactory,
    AvailabilityExceptionFactory,
    AvailabilityFactory,
    CompetenceFactory,
)
from carte.capacity.tests.records_setup import Cap, build
from carte.catalogue.choices import Stage
from carte.catalogue.tests.factories import ServiceFactory
from carte.conftest import Persona
from carte.core.models import AuditAction
from carte.core.testing import (
    archived,
    assert_constant_queries,
    assert_entry,
    assert_problem,
    last_entry,
    no_writes,
)
from carte.organisations.models import Organisation
from carte.organisations.testing import api_operations, outsider_failures, outsider_paths
from carte.organisations.tests.factories import PersonFactory

API = "/api/v1/orgs"


@pytest.fixture
def cap(org: Organisation, other_org: Organisation, outsider: Persona) -> Cap:
    return build(org, other_org, outsider)


def people(cap: Cap, person_pk: int, rest: str = "") -> str:
    return f"{API}/{cap.org.slug}/people/{person_pk}/{rest}".rstrip("/")


def allocations(cap: Cap, rest: str = "") -> str:
    return f"{API}/{cap.org.slug}/allocations{rest}"


def put(persona: Persona, path: str, data: Any) -> Any:
    return persona.api.client.put(
        path, json.dumps(data), content_type="application/json", headers=persona.api.headers
    )


def ids(response: Any) -> set[int]:
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["items"]}


# ---------------------------------------------------------------- who sees what


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("director", {"alice", "bob"}),
        ("pmo_manager", {"alice", "bob"}),
        ("manager", {"alice"}),
        ("alice", {"alice"}),
        ("bob", {"bob"}),
        ("customer", set()),
        ("viewer", set()),
    ],
)
def test_who_sees_whose_records_through_the_api(cap: Cap, who: str, sees: set[str]) -> None:
    api = cap.personas()[who].api
    for name, person in {"alice": cap.alice_person, "bob": cap.bob_person}.items():
        assessment = AssessmentFactory(person=person, competence=cap.risk)
        status = 200 if name in sees else 404
        for path in (
            people(cap, person.pk, "assessments"),
            people(cap, person.pk, f"assessments/{assessment.pk}"),
            people(cap, person.pk, "availability"),
            people(cap, person.pk, "availability/exceptions"),
        ):
            response = api.get(path)
            assert response.status_code == status, (who, name, path)
            if status == 404:
                assert_problem(response, 404)
    listed = api.get(allocations(cap))
    if sees:
        names = {"alice": cap.alice_on_rep.pk, "bob": cap.bob_on_gov.pk}
        assert ids(listed) == {names[n] for n in sees}
        for name, pk in names.items():
            assert api.get(allocations(cap, f"/{pk}")).status_code == (200 if name in sees else 404)
    else:
        assert_problem(listed, 404)


def test_another_organisation_gets_404_at_every_capacity_record_path(cap: Cap, client: Any) -> None:
    assessment = AssessmentFactory(person=cap.alice_person, competence=cap.risk, self_assessed=True)
    exception = AvailabilityExceptionFactory(person=cap.alice_person)
    rows: dict[str, Any] = {
        "{id}": cap.alice_person,
        "{assessment_id}": assessment,
        "{exception_id}": exception,
    }
    mine = ("/assessments", "/availability", "/allocations")
    operations = api_operations(client, lambda template, op: any(part in template for part in mine))
    assert len(operations) >= 17
    calls = []
    puts = []
    for method, template, _ in operations:
        if method == "put":  # the persona's client has no PUT: asked below
            puts += outsider_paths(template, rows, cap.org.slug, cap.other_org.slug)
            continue
        found: dict[str, Any] = {"{id}": cap.alice_on_rep} if "/allocations" in template else rows
        for path in outsider_paths(template, found, cap.org.slug, cap.other_org.slug):
            calls.append((method, path, {"level": 3, "fte": "0.5"}))
    with no_writes(assessment, exception, cap.alice_on_rep):
        assert outsider_failures(cap.outsider.api, calls) == []
        assert puts
        for path in puts:
            assert_problem(put(cap.outsider, path, {"contracted_fte": 1}), 404)


# ---------------------------------------------------------------- assessments


def test_assessments_are_recorded_confirmed_and_kept_through_the_api(cap: Cap) -> None:
    path = people(cap, cap.alice_person.pk, "assessments")
    response = cap.alice.api.post(
        path, {"competence": cap.risk.pk, "level": 3, "evidence": "Course"}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["self_assessed"] is True and body["counts"] is False
    assert body["assessed_by"] == {"id": cap.alice_person.pk, "name": "Alice Analyst"}
    mine = Assessment.objects.get(pk=body["id"])
    assert_entry(last_entry(mine), cap.alice, AuditAction.CREATE)
    confirm = f"{path}/{mine.pk}/confirm"
    with no_writes(mine):
        assert_problem(cap.alice.api.post(confirm), 403)
    response = cap.pmo_manager.api.post(confirm)
    assert response.status_code == 200, response.content
    assert response.json()["counts"] is True
    assert response.json()["confirmed_by"] == str(cap.pmo_manager.user)
    assert_entry(last_entry(mine), cap.pmo_manager, AuditAction.UPDATE)
    response = cap.pmo_manager.api.patch(f"{path}/{mine.pk}", {"evidence": "Course and practice"})
    assert response.status_code == 200 and response.json()["evidence"] == "Course and practice"
    assert cap.pmo_manager.api.post(f"{path}/{mine.pk}/archive").json()["archived"] is True
    assert cap.pmo_manager.api.post(f"{path}/{mine.pk}/restore").json()["archived"] is False
    listed = cap.manager.api.get(path).json()
    assert [item["id"] for item in listed["items"]] == [mine.pk]


def test_assessment_bad_input_is_a_422_naming_the_field(cap: Cap) -> None:
    path = people(cap, cap.alice_person.pk, "assessments")
    AssessmentFactory(
        person=cap.alice_person, competence=cap.planning, assessed_on=dt.date(2026, 4, 1)
    )
    api = cap.pmo_manager.api
    with no_writes():
        for level in (0, 6, 99):
            body = assert_problem(
                api.post(path, {"competence": cap.planning.pk, "level": level}), 422, "level"
            )
            assert "1 to 5" in body["errors"]["level"][0]
        assert_problem(
            api.post(
                path, {"competence": cap.planning.pk, "level": 3, "assessed_on": "2026-04-01"}
            ),
            422,
            "assessed_on",
        )
        assert_problem(
            api.post(path, {"competence": cap.their_competence.pk, "level": 3}), 422, "competence"
        )
        assert_problem(
            api.post(path, {"competence": cap.planning.pk, "level": 3, "colour": "red"}), 422
        )
        # Someone else's assessment is a keeper's to record: the right before the body.
        assert_problem(
            cap.alice.api.post(people(cap, cap.manager_person.pk, "assessments"), {}), 404
        )
        assert_problem(cap.manager.api.post(path, {"level": 99}), 403)


# ---------------------------------------------------------------- availability


def test_availability_is_read_and_set_through_the_api(cap: Cap) -> None:
    path = people(cap, cap.bob_person.pk, "availability")
    empty = cap.bob.api.get(path).json()
    assert empty["contract"] is None and empty["exceptions"] == []
    assert len(empty["months"]) == 12
    with no_writes():
        assert_problem(put(cap.bob, path, {"contracted_fte": 1}), 403)
        assert_problem(put(cap.customer, path, {"contracted_fte": 1}), 404)
        for value in ("1.5", "-0.2", "x"):
            assert_problem(
                put(cap.pmo_manager, path, {"contracted_fte": value}), 422, "contracted_fte"
            )
        body = {"contracted_fte": 1, "starts_on": "2027-05-01", "leaves_on": "2027-01-01"}
        assert_problem(put(cap.pmo_manager, path, body), 422, "leaves_on")
    response = put(cap.pmo_manager, path, {"contracted_fte": 0.5})
    assert response.status_code == 200, response.content
    assert Decimal(response.json()["contract"]["contracted_fte"]) == Decimal("0.5")
    contract = Availability.objects.get(person=cap.bob_person)
    assert_entry(last_entry(contract), cap.pmo_manager, AuditAction.CREATE)
    response = cap.pmo_manager.api.patch(path, {"leaves_on": "2027-09-30"})
    assert response.status_code == 200, response.content
    assert response.json()["contract"]["leaves_on"] == "2027-09-30"
    assert Decimal(response.json()["contract"]["contracted_fte"]) == Decimal("0.5")
    assert last_entry(contract).changes == {"leaves_on": {"before": None, "after": "2027-09-30"}}
    with no_writes(contract):
        assert_problem(cap.pmo_manager.api.patch(path, {"contracted_fte": None}), 422)
        assert_problem(cap.viewer.api.patch(path, {"bogus": 1}), 404)


def test_exceptions_are_kept_under_the_availability(cap: Cap) -> None:
    path = people(cap, cap.bob_person.pk, "availability/exceptions")
    api = cap.pmo_manager.api
    response = api.post(
        path,
        {"reason": "leave", "starts_on": "2027-07-14", "ends_on": "2027-08", "available_fte": 0},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["starts_on"], body["ends_on"]) == ("2027-07", "2027-08")
    exception = AvailabilityException.objects.get(pk=body["id"])
    assert_entry(last_entry(exception), cap.pmo_manager, AuditAction.CREATE)
    with no_writes(exception):
        assert_problem(api.patch(f"{path}/{exception.pk}", {"ends_on": "2027-06"}), 422, "ends_on")
        assert_problem(
            api.patch(f"{path}/{exception.pk}", {"available_fte": 1.5}), 422, "available_fte"
        )
        assert_problem(cap.bob.api.post(path, {"reason": "leave"}), 403)
    assert api.patch(f"{path}/{exception.pk}", {"available_fte": 0.3}).status_code == 200
    assert api.post(f"{path}/{exception.pk}/archive").json()["archived"] is True
    assert api.post(f"{path}/{exception.pk}/restore").status_code in (404, 405)
    availability = api.get(people(cap, cap.bob_person.pk, "availability")).json()
    assert availability["exceptions"] == []


# ---------------------------------------------------------------- allocations


def _payload(cap: Cap, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "person": cap.bob_person.pk,
        "kind": "service",
        "service": cap.rep.pk,
        "competence": cap.risk.pk,
        "fte": "0.5",
        "starts_on": "2027-01",
        "ends_on": "2027-06",
    }
    data.update(changes)
    return data


def test_allocations_through_the_api(cap: Cap) -> None:
    api = cap.pmo_manager.api
    response = api.post(allocations(cap), _payload(cap))
    assert response.status_code == 201, response.content
    made = Allocation.objects.get(pk=response.json()["id"])
    assert response.json()["service"]["code"] == "REP"
    assert_entry(last_entry(made), cap.pmo_manager, AuditAction.CREATE)
    assert api.patch(allocations(cap, f"/{made.pk}"), {"fte": "0.25"}).json()["fte"] in (
        "0.25",
        0.25,
    )
    assert api.post(allocations(cap, f"/{made.pk}/archive")).json()["archived"] is True
    assert api.post(allocations(cap, f"/{made.pk}/restore")).json()["archived"] is False
    assert ids(api.get(allocations(cap), person=cap.bob_person.pk)) == {made.pk, cap.bob_on_gov.pk}
    assert ids(api.get(allocations(cap), service=cap.rep.pk)) == {made.pk, cap.alice_on_rep.pk}
    assert ids(api.get(allocations(cap), kind="project")) == set()
    assert ids(api.get(allocations(cap), month="2027-07")) == set()
    assert_problem(api.get(allocations(cap), month="July"), 422, "month")


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"fte": "1.5"}, "fte", "above 1"),
        ({"fte": "0"}, "fte", "more than 0"),
        ({"fte": "-1"}, "fte", "below 0"),
        ({"ends_on": "2026-12"}, "ends_on", "before the start"),
        ({"competence": "finance"}, "competence", "it needs Planning, Risk management"),
        ({"competence": "theirs"}, "competence", "No competence"),
        ({"person": "theirs"}, "person", "No person"),
        ({"service": "theirs"}, "service", "No service"),
        ({"person": "archived"}, "person", "archived"),
        ({"service": "closed"}, "service", "takes no allocations"),
        ({"kind": "project", "service": None, "competence": None}, "work", "what the work is"),
    ],
)
def test_allocation_bad_input_is_a_422_naming_the_field(
    cap: Cap, changes: dict[str, Any], field: str, words: str
) -> None:
    values = dict(changes)
    lookups = {
        ("competence", "finance"): cap.finance.pk,
        ("competence", "theirs"): cap.their_competence.pk,
        ("person", "theirs"): cap.their_person.pk,
        ("service", "theirs"): cap.their_service.pk,
    }
    for name, value in changes.items():
        if (name, value) in lookups:
            values[name] = lookups[(name, value)]
    if values.get("person") == "archived":
        values["person"] = archived(PersonFactory(organisation=cap.org)).pk
    if values.get("service") == "closed":
        values["service"] = ServiceFactory(organisation=cap.org, stage=Stage.CLOSED).pk
        values["competence"] = None
    with no_writes(cap.alice_on_rep):
        body = assert_problem(
            cap.pmo_manager.api.post(allocations(cap), _payload(cap, **values)), 422, field
        )
        assert words in " ".join(body["errors"][field]), body


def test_a_service_manager_allocates_to_their_own_service_only_through_the_api(cap: Cap) -> None:
    api = cap.manager.api
    assert api.post(allocations(cap), _payload(cap)).status_code == 201
    with no_writes(cap.bob_on_gov):
        assert_problem(
            api.post(
                allocations(cap), _payload(cap, service=cap.gov.pk, competence=cap.finance.pk)
            ),
            403,
        )
        # Bob is now on their service, so they see him, but not change his time on GOV.
        assert_problem(api.patch(allocations(cap, f"/{cap.bob_on_gov.pk}"), {"fte": "0.1"}), 403)
        assert_problem(cap.alice.api.post(allocations(cap), {}), 403)
        assert_problem(cap.viewer.api.post(allocations(cap), _payload(cap)), 403)


# ---------------------------------------------------------------- bounded queries


def test_the_api_lists_run_a_fixed_number_of_queries(cap: Cap) -> None:
    person = cap.alice_person
    api = cap.manager.api

    def grow() -> None:
        for n in range(3):
            competence = CompetenceFactory(organisation=cap.org)
            AssessmentFactory(
                person=person, competence=competence, assessed_by=cap.pmo_manager_person
            )
            AssessmentFactory(
                person=person,
                competence=competence,
                self_assessed=True,
                assessed_on=dt.date(2026, 3, n + 1),
            )
            AvailabilityExceptionFactory(
                person=person, starts_on=dt.date(2027, n + 1, 1), ends_on=dt.date(2027, n + 1, 1)
            )
            AllocationFactory(
                person=person,
                kind=AllocationKind.SERVICE,
                service=cap.rep,
                work="",
                competence=cap.risk,
                fte=Decimal("0.1"),
            )

    AvailabilityFactory(person=person)
    for path in (
        people(cap, person.pk, "assessments"),
        people(cap, person.pk, "availability"),
        people(cap, person.pk, "availability/exceptions"),
        allocations(cap),
    ):
        assert_constant_queries(partial(api.get, path), grow)
