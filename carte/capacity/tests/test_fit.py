"""Can we take this on? Needs typed or a proposed service's, month by month, beside what
runs now (the world of `test_grid`: 3 FTE of people, all needed until April, when Dan
has half a person to spare)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from carte.capacity.selectors import grid as selectors
from carte.capacity.tests.factories import CompetenceFactory
from carte.capacity.tests.test_grid import APR, JAN, RANGE, World, build
from carte.catalogue.choices import Stage
from carte.catalogue.tests.factories import ServiceFactory
from carte.conftest import Persona
from carte.core.errors import DomainError
from carte.organisations.choices import OrgRole
from carte.organisations.models import Organisation


@pytest.fixture
def world(org: Organisation) -> World:
    return build(org)


def try_needs(world: World, *needs: selectors.FitNeed) -> selectors.Fit:
    query = selectors.grid_query(world.system, start="2027-01", end="2027-04")
    return selectors.fit(world.system, list(needs), query)


def test_needs_fit_only_where_people_have_time_left(world: World) -> None:
    result = try_needs(world, selectors.FitNeed(world.finance.pk, 2, Decimal("0.5")))
    verdict = {m.month: m for m in result.months}
    assert not result.fits
    assert not verdict[JAN].fits and verdict[JAN].short == 0.5
    assert verdict[APR].fits and verdict[APR].short == 0
    # January: Finance (or what its people leave) is short by the half FTE asked.
    assert sum(s.short for s in verdict[JAN].shortages) == pytest.approx(0.5)


def test_a_need_over_some_months_only(world: World) -> None:
    result = try_needs(world, selectors.FitNeed(world.finance.pk, 3, Decimal("0.5"), APR, APR))
    assert result.fits
    assert [m.asked for m in result.months] == [0, 0, 0, 0.5]


def test_a_level_nobody_has_does_not_fit(world: World) -> None:
    result = try_needs(world, selectors.FitNeed(world.finance.pk, 5, Decimal("0.1"), APR, APR))
    april = result.months[-1]
    assert not april.fits and april.short == 0.1
    finance = next(s for s in april.shortages if s.competence_id == world.finance.pk)
    assert finance.people_count == 0  # nobody at level 5 with time left


def test_who_has_time_is_named_to_keepers_only(
    world: World, director: Persona, viewer: Persona
) -> None:
    # April: 1 FTE of finance at level 2 when half a person is left: 0.5 short, and the
    # people with time left and finance are counted for all, named to the Director.
    params = {
        "from": "2027-04",
        "to": "2027-04",
        "competence_0": str(world.finance.pk),
        "level_0": "2",
        "fte_0": "1",
    }
    url = f"/o/{world.org.slug}/capacity/fit/"
    as_director = director.client.get(url, params)
    assert as_director.status_code == 200
    html = as_director.content.decode()
    assert "It does not fit in 1 month unless something else gives way." in html
    assert "0.50 FTE short" in html
    named = [n for n in ("Ann Archer", "Cat Cole", "Dan Dale") if n in html]
    assert named
    as_viewer = viewer.client.get(url, params).content.decode()
    assert "0.50 FTE short" in as_viewer
    assert not any(n in as_viewer for n in ("Ann Archer", "Cat Cole", "Dan Dale"))
    assert "time left with it" in as_viewer


def test_a_proposed_service_is_tried_on_the_page(world: World, director: Persona) -> None:
    url = f"/o/{world.org.slug}/capacity/fit/"
    page = director.client.get(url)
    assert page.status_code == 200
    assert "NEW Service NEW" in page.content.decode()  # offered
    response = director.client.get(url, {"service": str(world.proposed.pk), **RANGE})
    html = response.content.decode()
    assert "NEW Service NEW: It does not fit in 4 months" in html


def test_bad_needs_are_refused_on_their_fields(world: World, director: Persona) -> None:
    url = f"/o/{world.org.slug}/capacity/fit/"
    response = director.client.get(url, {"competence_0": str(world.finance.pk), "fte_0": "0"})
    assert response.status_code == 422
    assert "Ensure this value is greater than or equal to 0.01." in response.content.decode()
    response = director.client.get(
        url, {"competence_0": str(world.finance.pk), "fte_0": "1", "from_0": "2027-13"}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "Give this too, or leave the whole need empty." in html  # the level
    assert "Give a month as YYYY-MM" in html
    assert 'data-testid="fit-result"' not in html


def test_a_competence_of_another_organisation_is_refused(
    world: World, other_org: Organisation
) -> None:
    theirs = CompetenceFactory(organisation=other_org, name="Theirs")
    with pytest.raises(DomainError) as caught:
        selectors.check_needs(world.system, [selectors.FitNeed(theirs.pk, 2, Decimal(1))])
    assert "needs.0.competence" in caught.value.errors


# ---------------------------------------------------------------- API


def fit_url(world: World) -> str:
    return f"/api/v1/orgs/{world.org.slug}/capacity/fit"


def test_the_api_answers_month_by_month(world: World, director: Persona) -> None:
    response = director.api.post(
        fit_url(world),
        {
            **RANGE,
            "needs": [{"competence": world.finance.pk, "level": 2, "fte": "1", "from": "2027-04"}],
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["fits"] is False
    assert [m["month"] for m in body["months"]] == ["2027-01", "2027-02", "2027-03", "2027-04"]
    april = body["months"][-1]
    assert (april["asked"], april["covered"], april["short"], april["fits"]) == (1, 0.5, 0.5, False)
    assert body["months"][0]["asked"] == 0 and body["months"][0]["fits"] is True
    shortage = april["shortages"][0]
    assert shortage["people_with_time"] == len(shortage["people"]) >= 1


def test_the_api_tries_a_service(world: World, director: Persona, customer: Persona) -> None:
    response = director.api.post(fit_url(world), {**RANGE, "service": world.proposed.pk})
    assert response.status_code == 200
    body = response.json()
    assert body["service"]["code"] == "NEW"
    assert all(not m["fits"] for m in body["months"])
    # A customer does not see the organisation's unpublished services.
    refused = customer.api.post(fit_url(world), {**RANGE, "service": world.proposed.pk})
    assert refused.status_code == 422
    assert "service" in refused.json()["errors"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"needs": []}, "needs"),
        ({"needs": [{"competence": 0, "level": 2, "fte": "1"}]}, "needs.0.competence"),
        ({"needs": [{"competence": "F", "level": 9, "fte": "1"}]}, "needs.0.level"),
        ({"needs": [{"competence": "F", "level": 2, "fte": "-1"}]}, "needs.0.fte"),
        (
            {
                "needs": [
                    {"competence": "F", "level": 2, "fte": "1", "from": "2027-05", "to": "2027-02"}
                ]
            },
            "needs.0.to",
        ),
        ({"from": "2027-5", "needs": [{"competence": "F", "level": 2, "fte": "1"}]}, "from"),
        (
            {
                "from": "2027-05",
                "to": "2027-01",
                "needs": [{"competence": "F", "level": 2, "fte": "1"}],
            },
            "to",
        ),
    ],
)
def test_the_api_refuses_bad_input(
    world: World, director: Persona, body: dict[str, Any], field: str
) -> None:
    for need in body.get("needs", []):
        if need["competence"] == "F":
            need["competence"] = world.finance.pk
    response = director.api.post(fit_url(world), body)
    assert response.status_code == 422, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    assert field in response.json()["errors"]


def test_another_organisations_service_is_refused(
    world: World, director: Persona, other_org: Organisation
) -> None:
    theirs = ServiceFactory(organisation=other_org, code="GLX", stage=Stage.PROPOSED)
    response = director.api.post(fit_url(world), {"service": theirs.pk})
    assert response.status_code == 422
    assert "service" in response.json()["errors"]


def test_every_member_may_ask(world: World, persona: Any) -> None:
    for role in (OrgRole.CUSTOMER, OrgRole.VIEWER, OrgRole.STAFF):
        who = persona(role)
        response = who.api.post(
            fit_url(world), {"needs": [{"competence": world.planning.pk, "level": 1, "fte": "0.1"}]}
        )
        assert response.status_code == 200
        assert "Ann" not in response.content.decode()
