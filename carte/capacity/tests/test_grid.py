"""The capacity grid from real rows: demand from the services' needs by stage, supply from
contracts, exceptions and other work, each person counted once; the proposed services
apart; the PMO filter; who sees names; tenancy; bounded queries (page and API)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from carte.capacity.choices import AllocationKind
from carte.capacity.selectors import grid as selectors
from carte.capacity.tests.factories import (
    AllocationFactory,
    AssessmentFactory,
    AvailabilityExceptionFactory,
    AvailabilityFactory,
    CompetenceFactory,
)
from carte.catalogue.choices import Stage
from carte.catalogue.models import Service
from carte.catalogue.tests.factories import CompetenceNeedFactory, ServiceFactory
from carte.conftest import Persona, make_persona
from carte.core.testing import assert_constant_queries
from carte.organisations.actor import Actor
from carte.organisations.choices import OrgRole
from carte.organisations.models import PMO, Competence, Organisation, Person
from carte.organisations.tests.factories import PersonFactory, PMOFactory

JAN, FEB, MAR, APR = (dt.date(2027, m, 1) for m in (1, 2, 3, 4))
RANGE = {"from": "2027-01", "to": "2027-04"}


@dataclass
class World:
    org: Organisation
    group: PMO
    other: PMO
    planning: Competence
    finance: Competence
    run: Service
    proposed: Service
    ann: Person

    @property
    def system(self) -> Actor:
        return Actor.for_system(self.org)


def person(
    org: Organisation,
    name: str,
    pmo: PMO | None,
    levels: dict[Competence, int],
    fte: str | None = "1.00",
) -> Person:
    p: Person = PersonFactory(organisation=org, name=name, pmo=pmo)
    if fte is not None:
        AvailabilityFactory(person=p, contracted_fte=Decimal(fte))
    for competence, level in levels.items():
        AssessmentFactory(person=p, competence=competence, level=level)
    return p


def service(
    org: Organisation, code: str, stage: str, pmo: PMO, needs: list[tuple[Competence, int, str]]
) -> Service:
    s: Service = ServiceFactory(organisation=org, code=code, name=f"Service {code}", stage=stage)
    s.delivering_pmos.add(pmo)
    for competence, level, fte in needs:
        CompetenceNeedFactory(service=s, competence=competence, level=level, fte=Decimal(fte))
    return s


def build(org: Organisation) -> World:
    """Planning needs 1 FTE at level 3 (RUN); Finance 2 FTE at level 2 (RUN 0.5, DES 0.5,
    OTH 1, the last delivered by the other PMO). People: Ann (planning 4, finance 3,
    full time), Ben (planning 3, half time), Cat (finance 2, other PMO, on leave in
    February), Dan (finance 3, a project takes half his time January to March), Eve
    (planning 5, no contract: not counted). A proposed service would add 1 FTE of
    planning; a closed one's need counts for nothing."""
    group = PMOFactory(organisation=org, name="Group PMO")
    other = PMOFactory(organisation=org, name="Regional PMO")
    planning = CompetenceFactory(organisation=org, name="Planning", group="Delivery")
    finance = CompetenceFactory(organisation=org, name="Financial analysis", group="Analysis")
    run = service(org, "RUN", Stage.RUNNING, group, [(planning, 3, "1"), (finance, 2, "0.5")])
    service(org, "DES", Stage.DESIGN, group, [(finance, 2, "0.5")])
    service(org, "OTH", Stage.RUNNING, other, [(finance, 2, "1")])
    service(org, "OLD", Stage.CLOSED, group, [(planning, 2, "3")])
    proposed = service(org, "NEW", Stage.PROPOSED, group, [(planning, 2, "1")])
    ann = person(org, "Ann Archer", group, {planning: 4, finance: 3})
    person(org, "Ben Baker", group, {planning: 3}, fte="0.50")
    cat = person(org, "Cat Cole", other, {finance: 2})
    AvailabilityExceptionFactory(person=cat, starts_on=FEB, ends_on=FEB)
    dan = person(org, "Dan Dale", group, {finance: 3})
    AllocationFactory(
        person=dan, kind=AllocationKind.PROJECT, fte=Decimal("0.5"), starts_on=JAN, ends_on=MAR
    )
    person(org, "Eve Evans", group, {planning: 5}, fte=None)
    return World(org, group, other, planning, finance, run, proposed, ann)


@pytest.fixture
def world(org: Organisation) -> World:
    return build(org)


def the_grid(world: World, **filters: Any) -> dict[tuple[int, dt.date], selectors.Cell]:
    query = selectors.grid_query(world.system, start="2027-01", end="2027-04", **filters)
    result = selectors.grid(world.system, query)
    return {(c.competence_id, c.month): c for row in result.rows for c in row.cells}


def total(cells: dict[tuple[int, dt.date], selectors.Cell], month: dt.date, what: str) -> float:
    return round(sum(getattr(c, what) for (_, m), c in cells.items() if m == month), 2)


def test_demand_is_the_needs_of_services_taking_people(world: World) -> None:
    cells = the_grid(world)
    # Planning: RUN only (the closed service's need and the proposed one's are not demand).
    assert cells[(world.planning.pk, JAN)].demand == 1
    # Finance: RUN 0.5 + DES (design, at its own needs) 0.5 + OTH 1.
    assert cells[(world.finance.pk, JAN)].demand == 2


def test_a_person_is_counted_once_across_competences(world: World) -> None:
    cells = the_grid(world)
    # January: Ann 1 + Ben 0.5 + Cat 1 + Dan 0.5 = 3 FTE, all needed; Ann's time is not
    # counted in both competences (that would make 4).
    assert total(cells, JAN, "supply") == 3
    assert total(cells, JAN, "covered") == 3
    assert total(cells, JAN, "shortfall") == 0
    # Eve has no contract: her planning 5 adds nothing.
    assert cells[(world.planning.pk, JAN)].supply == 1


def test_leave_reduces_supply(world: World) -> None:
    cells = the_grid(world)
    # Cat's leave in February: 2 FTE for 3 needed.
    assert total(cells, FEB, "supply") == 2
    assert total(cells, FEB, "shortfall") == 1
    assert total(cells, MAR, "shortfall") == 0


def test_other_work_reduces_supply(world: World) -> None:
    cells = the_grid(world)
    # Dan's project takes half his time until March; in April he has it all back.
    assert total(cells, MAR, "supply") == 3
    assert total(cells, APR, "supply") == 3.5
    assert cells[(world.finance.pk, APR)].gap > 0


def test_proposed_services_count_only_if_admitted(world: World) -> None:
    cells = the_grid(world)
    jan = cells[(world.planning.pk, JAN)]
    assert jan.demand == 1
    assert jan.admitted_demand == 2
    assert total(cells, JAN, "admitted_shortfall") == 1  # 4 needed then, 3 available
    assert total(cells, APR, "admitted_shortfall") == 0.5


def test_the_pmo_filter_takes_its_people_and_its_services(world: World) -> None:
    cells = the_grid(world, pmo=world.group.pk)
    # Without OTH (the other PMO's) and without Cat (of the other PMO).
    assert cells[(world.finance.pk, JAN)].demand == 1
    assert total(cells, JAN, "supply") == 2  # Ann 1, Ben 0.5, Dan 0.5
    assert total(cells, FEB, "supply") == 2  # Cat's leave is not theirs


def test_the_competence_filter_shows_one_row(world: World) -> None:
    cells = the_grid(world, competence=world.finance.pk)
    assert {c for c, _ in cells} == {world.finance.pk}


# ---------------------------------------------------------------- pages


def grid_url(org: Organisation, **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in {**RANGE, **params}.items())
    return f"/o/{org.slug}/capacity/?{query}"


def cell_url(org: Organisation, competence: Competence, month: str = "2027-02") -> str:
    return f"/o/{org.slug}/capacity/cell/?competence={competence.pk}&month={month}"


def test_the_grid_page_shows_gaps_in_words_and_a_list(world: World, viewer: Persona) -> None:
    response = viewer.client.get(grid_url(world.org))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Financial analysis" in html and "Feb 2027" in html
    assert 'data-testid="capacity-grid"' in html
    assert 'data-state="short"' in html
    assert "short 1" in html or "short 0.5" in html
    assert 'data-testid="shortfalls"' in html
    assert "if admitted" in html
    assert f"/capacity/cell/?competence={world.finance.pk}&amp;month=2027-02" in html


def test_the_grid_page_reports_bad_months_and_keeps_working(
    world: World, director: Persona
) -> None:
    response = director.client.get(f"/o/{world.org.slug}/capacity/?from=2027-13&to=2027-01")
    assert response.status_code == 200
    assert "Give a month as YYYY-MM" in response.content.decode()


def test_the_cell_names_services_and_people_to_a_keeper(world: World, director: Persona) -> None:
    response = director.client.get(cell_url(world.org, world.planning))
    assert response.status_code == 200
    html = response.content.decode()
    assert "RUN Service RUN" in html
    assert "NEW Service NEW" in html  # if admitted
    assert "OLD" not in html
    assert "Ann Archer" in html and "Ben Baker" in html
    assert "Eve Evans" not in html  # no contract


@pytest.mark.parametrize("role", [OrgRole.CUSTOMER, OrgRole.VIEWER])
def test_customers_and_viewers_see_the_numbers_without_names(
    world: World, persona: Any, role: str
) -> None:
    who = persona(role)
    response = who.client.get(cell_url(world.org, world.planning))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Ann Archer" not in html and "Ben Baker" not in html
    assert "2 people at the level needed or above" in html
    if role == OrgRole.CUSTOMER:
        assert "Service RUN" not in html
        assert "1 service needs it" in html
    grid = who.client.get(grid_url(world.org)).content.decode()
    assert "Ann Archer" not in grid


def test_a_contributor_sees_only_the_people_they_may_see(world: World, staff: Persona) -> None:
    html = staff.client.get(cell_url(world.org, world.planning)).content.decode()
    assert "Ann Archer" not in html
    assert "2 others whose records you do not see" in html


def test_a_bad_cell_is_404(world: World, director: Persona, other_org: Organisation) -> None:
    theirs = CompetenceFactory(organisation=other_org, name="Theirs")
    assert director.client.get(cell_url(world.org, theirs)).status_code == 404
    bad = f"/o/{world.org.slug}/capacity/cell/?competence={world.planning.pk}&month=27-1"
    assert director.client.get(bad).status_code == 404
    assert director.client.get(f"/o/{world.org.slug}/capacity/cell/").status_code == 404


def test_another_organisation_is_404(world: World, outsider: Persona) -> None:
    for path in (
        grid_url(world.org),
        cell_url(world.org, world.planning),
        f"/o/{world.org.slug}/capacity/fit/",
    ):
        assert outsider.client.get(path).status_code == 404
    api = f"/api/v1/orgs/{world.org.slug}/capacity"
    assert outsider.api.get(api, **RANGE).status_code == 404
    assert outsider.api.post(api + "/fit", {"needs": []}).status_code == 404


def test_an_empty_organisation_has_an_empty_grid(director: Persona) -> None:
    page = director.client.get(f"/o/{director.organisation.slug}/capacity/")
    assert page.status_code == 200
    assert "No competence in the framework yet" in page.content.decode()
    api = director.api.get(f"/api/v1/orgs/{director.organisation.slug}/capacity")
    assert api.status_code == 200
    assert api.json()["competences"] == [] and len(api.json()["months"]) == 12


# ---------------------------------------------------------------- API


def test_the_api_answers_the_grid(world: World, customer: Persona) -> None:
    response = customer.api.get(f"/api/v1/orgs/{world.org.slug}/capacity", **RANGE)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["months"] == ["2027-01", "2027-02", "2027-03", "2027-04"]
    assert body["people"] == 4
    assert body["proposed_services"] == 1
    rows = {r["competence"]["name"]: r for r in body["competences"]}
    finance = rows["Financial analysis"]["months"][0]
    assert finance["demand"] == 2 and finance["month"] == "2027-01"
    assert rows["Planning"]["months"][0]["if_admitted"]["demand"] == 2
    feb = sum(r["months"][1]["shortfall"] for r in body["competences"])
    assert feb == pytest.approx(1)
    assert "Ann" not in response.content.decode()


def test_the_api_filters_by_pmo_and_competence(world: World, director: Persona) -> None:
    response = director.api.get(
        f"/api/v1/orgs/{world.org.slug}/capacity",
        **RANGE,
        pmo=str(world.group.pk),
        competence=str(world.finance.pk),
    )
    body = response.json()
    assert [r["competence"]["id"] for r in body["competences"]] == [world.finance.pk]
    assert body["competences"][0]["months"][0]["demand"] == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2027-04", "to": "2027-01"}, "to"),
        ({"from": "2027-01", "to": "2030-01"}, "to"),
        ({"from": "2027-1", "to": "2027-04"}, "from"),
        ({"from": "2027-01-01", "to": "2027-04"}, "from"),
        ({"from": "2027-01", "to": "April"}, "to"),
    ],
)
def test_the_api_refuses_bad_months(
    world: World, director: Persona, params: dict[str, str], field: str
) -> None:
    response = director.api.get(f"/api/v1/orgs/{world.org.slug}/capacity", **params)
    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")
    assert field in response.json()["errors"]


def test_the_api_refuses_another_organisations_pmo(
    world: World, director: Persona, other_org: Organisation
) -> None:
    theirs = PMOFactory(organisation=other_org, name="Their PMO")
    response = director.api.get(
        f"/api/v1/orgs/{world.org.slug}/capacity", **RANGE, pmo=str(theirs.pk)
    )
    assert response.status_code == 422
    assert "pmo" in response.json()["errors"]


def test_thirty_six_months_at_most(world: World, director: Persona) -> None:
    ok = director.api.get(
        f"/api/v1/orgs/{world.org.slug}/capacity", **{"from": "2027-01", "to": "2029-12"}
    )
    assert ok.status_code == 200
    assert len(ok.json()["months"]) == 36


# ---------------------------------------------------------------- queries


GROWN = [0]


def grow(world: World, n: int) -> None:
    """More of everything: people with contracts, levels, leave and other work; services
    with needs at every stage that counts."""
    for _ in range(n):
        GROWN[0] += 1
        i = GROWN[0]
        p = person(
            world.org,
            f"Extra {i}",
            world.group if i % 2 else world.other,
            {world.planning: 3, world.finance: 2},
        )
        AvailabilityExceptionFactory(person=p, starts_on=JAN, ends_on=FEB)
        AllocationFactory(
            person=p, kind=AllocationKind.TRAINING, work="Course", starts_on=JAN, ends_on=APR
        )
        AllocationFactory(
            person=p,
            kind=AllocationKind.SERVICE,
            work="",
            service=world.run,
            starts_on=JAN,
            ends_on=APR,
        )
        stage = [Stage.RUNNING, Stage.PILOT, Stage.PROPOSED, Stage.TRANSITION][i % 4]
        service(
            world.org,
            f"X{i:03d}",
            stage,
            world.group,
            [(world.planning, 2, "0.3"), (world.finance, 3, "0.2")],
        )
    CompetenceFactory(organisation=world.org, name=f"Extra skill {GROWN[0]}")


def test_the_grid_page_and_api_make_as_many_queries_at_any_size(
    world: World, director: Persona, customer: Persona
) -> None:
    api = f"/api/v1/orgs/{world.org.slug}/capacity"
    for params in ({}, {"pmo": str(world.group.pk)}):
        assert_constant_queries(
            lambda p=params: director.client.get(grid_url(world.org, **p)),  # type: ignore[misc]
            lambda: grow(world, 3),
        )
        assert_constant_queries(
            lambda p=params: customer.api.get(api, **RANGE, **p),  # type: ignore[misc]
            lambda: grow(world, 3),
        )
    assert_constant_queries(
        lambda: director.client.get(cell_url(world.org, world.planning)),
        lambda: grow(world, 3),
    )
    fit = f"/o/{world.org.slug}/capacity/fit/?service={world.proposed.pk}&from=2027-01&to=2027-04"
    assert_constant_queries(lambda: director.client.get(fit), lambda: grow(world, 3))
    assert_constant_queries(
        lambda: director.api.post(api + "/fit", {**RANGE, "service": world.proposed.pk}),
        lambda: grow(world, 3),
    )


def test_a_persona_is_made_per_test(world: World) -> None:
    # The outsider's organisation's rows never show: build the same world there.
    other = Organisation.objects.create(name="Other", slug="other")
    build(other)
    make_persona(other, [OrgRole.DIRECTOR], "d@other.example")
    cells = the_grid(world)
    assert total(cells, JAN, "supply") == 3
    assert total(cells, JAN, "demand") == 3
