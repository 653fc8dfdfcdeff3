"""Finding services from the words people use (issue 13, defect 3): the search box's own
example ("overrunning budgets"), "over budget" and a whole sentence find the service
whose symptom says budgets overrun; words are stemmed, any of them matches, the best
match comes first, and customers still search only what was published."""

from __future__ import annotations

import re
from functools import partial
from typing import Any
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from carte.catalogue import search, services
from carte.catalogue.choices import Stage
from carte.catalogue.models import Category, Service, ServiceOutput
from carte.catalogue.tests.factories import move_stage
from carte.core.testing import assert_constant_queries
from carte.organisations.actor import Actor
from carte.organisations.models import Organisation

pytestmark = pytest.mark.django_db

API = "/api/v1/orgs/acme"
SENTENCE = "our projects keep running over budget and late"


def running(
    org: Organisation,
    category: Category,
    code: str,
    name: str,
    *,
    summary: str = "",
    outputs: tuple[str, ...] = (),
    symptoms: tuple[str, ...] = (),
) -> Service:
    """A running service, published as made."""
    actor = Actor.for_system(org)
    service = services.service_create(
        actor=actor, code=code, name=name, category=category, summary=summary
    )
    for output in outputs:
        services.part_create(actor=actor, service=service, kind="outputs", data={"name": output})
    for statement in symptoms:
        symptom = services.symptom_get_or_create(actor=actor, statement=statement)
        services.part_create(
            actor=actor, service=service, kind="symptoms", data={"symptom": symptom}
        )
    move_stage(service, Stage.RUNNING)
    service.refresh_from_db()
    services.service_publish(actor=actor, service=service)
    service.refresh_from_db()
    return service


@pytest.fixture
def world(org: Organisation) -> dict[str, Service]:
    """Services worded as in the demo catalogue; finance comes first in the menu."""
    actor = Actor.for_system(org)
    finance = services.category_create(actor=actor, name="Finance")
    governance = services.category_create(actor=actor, name="Governance")
    return {
        "gates": running(
            org,
            governance,
            "GOV-02",
            "Stage-gate reviews",
            summary="Independent reviews at each gate.",
            symptoms=(
                "Projects keep overrunning their budgets",
                "Steering meetings end without clear decisions",
            ),
        ),
        "costs": running(
            org,
            finance,
            "FIN-01",
            "Cost control",
            summary="Track project spend against budget and forecast the cost at completion.",
            outputs=("Monthly cost report",),
        ),
        "planning": running(
            org,
            governance,
            "PLN-01",
            "Schedule planning",
            symptoms=("Projects routinely finish later than promised",),
        ),
        "onboarding": running(org, finance, "HR-01", "Onboarding", summary="Welcome starters."),
    }


def api_codes(persona: Any, **params: Any) -> list[str]:
    response = persona.api.get(f"{API}/services?{urlencode(params)}")
    assert response.status_code == 200, response.content
    return [row["code"] for row in response.json()["items"]]


def menu(persona: Any, org: Organisation, **params: Any) -> str:
    response = persona.client.get(reverse("catalogue", args=[org.slug]), params)
    assert response.status_code == 200
    return str(response.content.decode())


def menu_names(persona: Any, org: Organisation, **params: Any) -> list[str]:
    """The services' names on the menu's cards, in the order shown."""
    return re.findall(
        r'<h3 class="card-title[^"]*"><a href="[^"]+">([^<]+)</a>', menu(persona, org, **params)
    )


# ---------------------------------------------------------------- the words people use


@pytest.mark.parametrize("persona_name", ["director", "customer"])
@pytest.mark.parametrize("query", ["overrunning budgets", "over budget", SENTENCE])
def test_the_words_people_use_find_the_service_whose_symptom_says_budgets_overrun(
    request: pytest.FixtureRequest,
    org: Organisation,
    world: dict[str, Service],
    persona_name: str,
    query: str,
) -> None:
    persona = request.getfixturevalue(persona_name)
    found = api_codes(persona, q=query)
    assert found[0] == "GOV-02", found
    assert "HR-01" not in found  # no word of the query
    names = menu_names(persona, org, q=query)
    assert names[0] == "Stage-gate reviews", names
    assert "Onboarding" not in names


def test_any_word_finds_and_a_service_matching_more_words_comes_first(
    director: Any, world: dict[str, Service]
) -> None:
    # "budgets" alone: both services that speak of budgets, and only them.
    assert set(api_codes(director, q="budgets")) == {"GOV-02", "FIN-01"}
    # Both words beat one: the gates (overrun + budget) before cost control (budget).
    assert api_codes(director, q="overrunning budgets") == ["GOV-02", "FIN-01"]
    # Reversed when the words favour cost control.
    assert api_codes(director, q="budget forecast") == ["FIN-01", "GOV-02"]
    # A word in another form (stemming): "reports" finds the "Monthly cost report".
    assert api_codes(director, q="reports") == ["FIN-01"]
    assert api_codes(director, q="nothing like it") == []


def test_a_word_being_typed_finds_the_words_it_begins(director: Any, world: Any) -> None:
    assert set(api_codes(director, q="budg")) == {"GOV-02", "FIN-01"}
    assert api_codes(director, q="overr") == ["GOV-02"]


def test_an_ordering_asked_for_wins_over_relevance(director: Any, world: Any) -> None:
    assert api_codes(director, q="overrunning budgets", ordering="code") == ["FIN-01", "GOV-02"]
    assert api_codes(director, q="overrunning budgets", ordering="-code") == ["GOV-02", "FIN-01"]


def test_ranked_results_page_through_the_api(customer: Any, world: Any) -> None:
    everything = api_codes(customer, q=SENTENCE)
    assert len(everything) >= 3
    pages = [
        customer.api.get(f"{API}/services?{urlencode({'q': SENTENCE, 'page_size': 1, 'page': n})}")
        for n in range(1, len(everything) + 2)
    ]
    assert [r.json()["count"] for r in pages] == [len(everything)] * len(pages)
    assert [
        code for r in pages for code in (row["code"] for row in r.json()["items"])
    ] == everything


# ---------------------------------------------------------------- the menu


def test_the_menu_says_its_search_results_come_best_match_first(
    director: Any, org: Organisation, world: Any
) -> None:
    # Without a search, menu order: Finance's services first.
    assert menu_names(director, org)[0] == "Cost control"
    assert "best match first" not in menu(director, org)
    page = menu(director, org, q="overrunning budgets")
    assert "2 services · best match first" in page
    assert menu_names(director, org, q="overrunning budgets") == [
        "Stage-gate reviews",
        "Cost control",
    ]
    assert "best match first" not in menu(director, org, q="bluebird")


def test_the_menu_pages_through_ranked_results(
    director: Any, org: Organisation, world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("carte.catalogue.views.MENU_PAGE", 1)
    first = menu(director, org, q="overrunning budgets")
    assert "page 1 of 2" in first and "Stage-gate reviews" in first
    assert menu_names(director, org, q="overrunning budgets", page=2) == ["Cost control"]
    assert menu_names(director, org, q="overrunning budgets", page=99) == ["Cost control"]


# ---------------------------------------------------------------- what is searched


def test_customers_never_match_a_drafts_words_and_staff_match_the_live_ones(
    director: Any, customer: Any, world: dict[str, Service]
) -> None:
    actor = Actor.for_system(world["onboarding"].organisation)
    services.service_update(
        actor=actor,
        service=world["onboarding"],
        data={"description": "Stops projects overrunning their budgets."},
    )
    assert "HR-01" in api_codes(director, q="overrunning budgets")
    assert "HR-01" not in api_codes(customer, q="overrunning budgets")
    services.service_publish(actor=actor, service=world["onboarding"])
    assert "HR-01" in api_codes(customer, q="overrunning budgets")


def test_a_search_sees_every_edit_at_once(director: Any, world: dict[str, Service]) -> None:
    """Nothing searched before hides an edit: a new word is found, a removed one is not."""
    actor = Actor.for_system(world["costs"].organisation)
    assert api_codes(director, q="scorecard") == []
    output = services.part_create(
        actor=actor, service=world["planning"], kind="outputs", data={"name": "Scorecard"}
    )
    assert api_codes(director, q="scorecard") == ["PLN-01"]
    services.part_archive(actor=actor, part=ServiceOutput.objects.get(pk=output.pk))
    assert api_codes(director, q="scorecard") == []


def test_rank_keeps_the_order_given_for_equal_matches_and_leaves_out_the_rest() -> None:
    documents = [(1, "budget plan"), (2, "nothing here"), (3, "budget plan"), (4, "")]
    assert search.rank("budgets", documents) == [1, 3]
    assert search.rank("the and of", documents) == []  # stop words only: no word to find
    assert search.rank("budget", [(1, ""), (2, "")]) == []


def test_searches_keep_their_query_count(
    director: Any, customer: Any, org: Organisation, world: dict[str, Service]
) -> None:
    category = world["gates"].category
    count = iter(range(100))

    def grow() -> None:
        for _ in range(3):
            n = next(count)
            running(
                org,
                category,
                f"GRW-{n}",
                f"Budget review {n}",
                outputs=(f"Budget report {n}",),
                symptoms=(f"Projects overrun budgets {n}",),
            )

    params = urlencode({"q": "overrunning budgets", "page_size": 2})
    menu_path = reverse("catalogue", args=[org.slug])
    for persona in (director, customer):
        api, client = persona.api, persona.client
        assert_constant_queries(partial(api.get, f"{API}/services?{params}"), grow)
        assert_constant_queries(partial(client.get, menu_path, {"q": "overrunning budgets"}), grow)
