"""The search in the header (issue 13, "what people expected"): services, KPIs, risks and
issues, change requests, people and PMOs from the words people use, each kind as its own
section, only what the person may open, never another organisation's rows, in a fixed
number of queries; in a browser, from the header's box at desktop and phone widths."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse

from carte.catalogue import services
from carte.catalogue.choices import Stage
from carte.catalogue.models import Service
from carte.catalogue.tests.factories import CategoryFactory, ServiceFactory, move_stage
from carte.conftest import Persona, make_persona, screenshot, watch
from carte.core.testing import assert_constant_queries_each
from carte.core.views_workspace import FOUND_LIMIT
from carte.operations.choices import ChangeState, ItemKind, Level
from carte.operations.tests.factories import ChangeRequestFactory, KPIFactory, RiskIssueFactory
from carte.organisations.actor import Actor
from carte.organisations.choices import OrgRole
from carte.organisations.models import Organisation
from carte.organisations.tests.factories import MembershipFactory, PersonFactory, PMOFactory

pytestmark = pytest.mark.django_db

KINDS = ("services", "kpis", "items", "changes", "people", "pmos")


def published_service(org: Organisation, **card: Any) -> Service:
    """A running service published with this card."""
    actor = Actor.for_system(org)
    service = services.service_create(
        actor=actor, category=CategoryFactory(organisation=org), **card
    )
    move_stage(service, Stage.RUNNING)
    service.refresh_from_db()
    services.service_publish(actor=actor, service=service)
    service.refresh_from_db()
    return service


def records(org: Organisation) -> dict[str, Any]:
    """One of each kind, worded as people would search for them."""
    service = published_service(
        org,
        code="REC-01",
        name="Budget recovery",
        summary="Brings overrunning projects back within their budgets.",
    )
    # A draft's words, not published: customers must not find the service by them.
    services.service_update(
        actor=Actor.for_system(org),
        service=service,
        data={"description": "Codename bluebird: merger clean-up."},
    )
    hidden = ServiceFactory(organisation=org, name="Confidential restructuring", code="SEC-01")
    pmo = PMOFactory(organisation=org, name="Finance transformation PMO")
    return {
        "service": service,
        "hidden": hidden,
        "kpi": KPIFactory(
            service=service,
            name="Tickets resolved on time",
            definition="Share of support tickets closed within the agreed time.",
        ),
        "item": RiskIssueFactory(
            service=service,
            kind=ItemKind.RISK,
            title="Supplier outage",
            description="The hosting supplier may fail during the month-end close.",
            level=Level.DELIVERY,
        ),
        "change": ChangeRequestFactory(
            service=service,
            title="Add a programme dashboard",
            description="Customers asked for a weekly view of their programmes.",
            state=ChangeState.SUBMITTED,
        ),
        "pmo": pmo,
        "person": PersonFactory(
            organisation=org,
            name="Ada Lovelace",
            email="ada.lovelace@acme.example",
            job_title="Portfolio analyst",
            pmo=pmo,
        ),
    }


@pytest.fixture
def world(org: Organisation) -> dict[str, Any]:
    return records(org)


@pytest.fixture
def elsewhere(other_org: Organisation) -> dict[str, Any]:
    """The same records, word for word, in another organisation."""
    return records(other_org)


def search(client: Client, org: Organisation, q: str, **more: str) -> Any:
    return client.get(reverse("search", args=[org.slug]), {"q": q, **more})


def found(response: Any) -> dict[str, list[Any]]:
    """The results of a search page, by kind."""
    assert response.status_code == 200, response.content[:500]
    return {s.finder.key: s.items for s in response.context["sections"]}


def titles(response: Any) -> dict[str, list[str]]:
    return {kind: [f.title for f in items] for kind, items in found(response).items()}


# ---------------------------------------------------------------- what is found


def test_it_finds_each_kind_by_the_words_people_use(
    director: Persona, world: dict[str, Any]
) -> None:
    org = director.organisation
    # A stemmed word of the summary, in another form than written ("overrunning").
    assert titles(search(director.client, org, "overruns"))["services"] == ["Budget recovery"]
    # Words in the other order and forms than the KPI's name.
    kpis = found(search(director.client, org, "resolving tickets"))["kpis"]
    assert [(k.title, k.detail) for k in kpis] == [("Tickets resolved on time", "Budget recovery")]
    # A word of the title and one of the description.
    items = found(search(director.client, org, "outage of hosting"))["items"]
    assert [(i.title, i.detail) for i in items] == [
        ("Supplier outage", "Risk · Budget recovery · Delivery management")
    ]
    changes = found(search(director.client, org, "programmes dashboards"))["changes"]
    number = world["change"].number
    assert [(c.title, c.detail) for c in changes] == [
        (f"CR-{number} Add a programme dashboard", "Submitted · Budget recovery")
    ]
    # By its reference too.
    assert titles(search(director.client, org, f"cr-{number}"))["changes"] == [changes[0].title]
    # A person by job title and PMO, shown with them and never with an e-mail address.
    response = search(director.client, org, "analyst finance")
    people = found(response)["people"]
    assert [(p.title, p.detail) for p in people] == [
        ("Ada Lovelace", "Portfolio analyst · Finance transformation PMO")
    ]
    assert b"ada.lovelace@" not in response.content
    assert titles(search(director.client, org, "transformation"))["pmos"] == [
        "Finance transformation PMO"
    ]
    # Staff find a service that is not published yet, by its live words.
    assert titles(search(director.client, org, "restructuring"))["services"] == [
        "Confidential restructuring"
    ]


def test_kinds_come_in_their_order_and_words_found_nowhere_find_nothing(
    director: Persona, world: dict[str, Any]
) -> None:
    # "budget recovery" is the service's name and the KPI's, risk's and change's service:
    # only what holds the words is found, in the order of the kinds.
    PersonFactory(organisation=director.organisation, name="Bud Getty", job_title="Recovery lead")
    response = search(director.client, director.organisation, "budget")
    assert list(found(response)) == ["services"]
    response = search(director.client, director.organisation, "supplier")
    assert list(found(response)) == ["items"]
    response = search(director.client, director.organisation, "zebra crossing")
    assert found(response) == {}
    assert b"Nothing found for" in response.content


def test_results_link_to_pages_the_searcher_can_open(
    director: Persona, customer: Persona, world: dict[str, Any]
) -> None:
    org = director.organisation
    words = ["overruns", "resolving tickets", "outage", "dashboard", "analyst", "finance"]
    for persona in (director, customer):
        urls = {
            f.url
            for q in words
            for items in found(search(persona.client, org, q)).values()
            for f in items
        }
        assert urls, persona.roles
        for url in urls:
            assert persona.client.get(url).status_code == 200, (persona.roles, url)


def test_a_customer_finds_published_services_by_their_published_words_and_no_staff_record(
    customer: Persona, world: dict[str, Any]
) -> None:
    org = customer.organisation
    assert titles(search(customer.client, org, "overrunning budget"))["services"] == [
        "Budget recovery"
    ]
    # Neither a draft's words nor a service that is not published.
    assert "services" not in found(search(customer.client, org, "bluebird"))
    assert "services" not in found(search(customer.client, org, "restructuring"))
    # None of the staff's records, whatever the words.
    for q in ("resolving tickets", "supplier outage", "programme dashboard", "CR-1"):
        assert found(search(customer.client, org, q)) == {}, q
    # People, by name, without their e-mail address.
    response = search(customer.client, org, "ada")
    assert titles(response)["people"] == ["Ada Lovelace"]
    assert b"@acme.example" not in response.content.replace(customer.user.email.encode(), b"")


def urls_of(mine: dict[str, Any]) -> dict[str, str]:
    """The page of each record, by kind."""
    slug = mine["service"].organisation.slug
    service = mine["service"].pk
    return {
        "services": reverse("service_detail", args=[slug, service]),
        "kpis": reverse("operations:kpi_detail", args=[slug, service, mine["kpi"].pk]),
        "items": reverse("operations:item", args=[slug, service, mine["item"].pk]),
        "changes": reverse("operations:change_detail", args=[slug, service, mine["change"].pk]),
        "people": reverse("person_detail", args=[slug, mine["person"].pk]),
        "pmos": reverse("pmo_detail", args=[slug, mine["pmo"].pk]),
    }


def test_another_organisations_rows_never_appear(
    director: Persona, outsider: Persona, world: dict[str, Any], elsewhere: dict[str, Any]
) -> None:
    searches = {
        "overruns": "services",
        "resolving tickets": "kpis",
        "outage": "items",
        "dashboard": "changes",
        "analyst": "people",
        "transformation": "pmos",
    }
    for persona, mine in ((director, world), (outsider, elsewhere)):
        expected = urls_of(mine)
        for q, kind in searches.items():
            results = {
                key: [f.url for f in items]
                for key, items in found(search(persona.client, persona.organisation, q)).items()
            }
            assert results.get(kind) == [expected[kind]], (persona.roles, q, results)
            assert all(url in expected.values() for urls in results.values() for url in urls), (
                persona.roles,
                q,
                results,
            )
    # Nor by searching on another organisation's page: there is no such page for them.
    response = search(director.client, elsewhere["service"].organisation, "overruns")
    assert response.status_code == 404


# ---------------------------------------------------------------- the page


def test_a_search_with_a_nul_character_is_a_clear_422(director: Persona, world: Any) -> None:
    response = search(director.client, director.organisation, "bud\x00get")
    assert response.status_code == 422
    assert b"NUL character" in response.content
    assert response.context["sections"] == []


@pytest.mark.parametrize("q", ["", " ", "a", " b "])
def test_an_empty_or_one_letter_search_shows_the_hint(
    director: Persona, world: Any, q: str
) -> None:
    response = search(director.client, director.organisation, q)
    assert response.status_code == 200
    assert response.context["sections"] == []
    assert b'data-testid="search-hint"' in response.content
    assert b"Nothing found" not in response.content


def test_a_kind_with_more_matches_than_shown_links_to_all_of_them(
    director: Persona, world: dict[str, Any]
) -> None:
    org = director.organisation
    service = world["service"]
    for n in range(FOUND_LIMIT + 2):
        RiskIssueFactory(service=service, title=f"Outage of site {n:02d}", impact=5)
    response = search(director.client, org, "outage")
    (section,) = response.context["sections"]
    assert (section.count, len(section.items)) == (FOUND_LIMIT + 3, FOUND_LIMIT)
    link = reverse("search", args=[org.slug]) + "?" + urlencode({"q": "outage", "kind": "items"})
    assert section.more == link
    assert f'href="{link.replace("&", "&amp;")}"'.encode() in response.content
    every = director.client.get(link)
    (section,) = every.context["sections"]
    assert len(section.items) == FOUND_LIMIT + 3
    # The title's matches first, then the highest score.
    assert section.items[-1].title == "Supplier outage"
    # Services go to the catalogue, searched for the same words.
    for n in range(FOUND_LIMIT + 1):
        ServiceFactory(organisation=org, name=f"Budget clinic {n}")
    (section,) = search(director.client, org, "budget clinic", kind="services").context["sections"]
    assert section.more == reverse("catalogue", args=[org.slug]) + "?q=budget+clinic"


def test_the_header_holds_the_search_box_and_the_results_page_keeps_the_words(
    director: Persona, world: Any
) -> None:
    org = director.organisation
    home = director.client.get(reverse("org_home", args=[org.slug]))
    action = reverse("search", args=[org.slug])
    assert re.search(rf'<form[^>]*role="search"[^>]*action="{action}"', home.content.decode())
    response = search(director.client, org, "overruns")
    box = re.search(r'<input[^>]*id="header-q"[^>]*>', response.content.decode())
    assert box is not None and 'value="overruns"' in box.group()


def test_the_search_page_runs_as_many_queries_whatever_the_data_size(
    director: Persona, customer: Persona, world: dict[str, Any]
) -> None:
    org = director.organisation
    service = world["service"]
    pmo = world["pmo"]

    grown = [0]

    def grow() -> None:
        grown[0] += 1
        for i in range(FOUND_LIMIT + 5):
            n = f"{grown[0]}-{i}"
            published_service(org, code=f"OUT-{n}", name=f"Outage desk {n}", summary="Outage.")
            KPIFactory(service=service, name=f"Outage minutes {n}")
            RiskIssueFactory(service=service, title=f"Outage {n}")
            ChangeRequestFactory(service=service, title=f"Outage fix {n}")
            PersonFactory(organisation=org, name=f"Outage Officer {n}", pmo=pmo)
            PMOFactory(organisation=org, name=f"Outage PMO {n}")

    grow()  # more matches of every kind than the page shows, fewer than a kind's page
    page = reverse("search", args=[org.slug]) + "?q=outage"
    kinds = [f"{page}&kind={kind}" for kind in KINDS]
    for client in (director.client, customer.client):
        # Every row shown on a kind's page, so a query per row would show.
        assert_constant_queries_each(client.get, [page, *kinds], grow)
    response = search(director.client, org, "outage")
    assert [s.finder.key for s in response.context["sections"]] == list(KINDS)


# ---------------------------------------------------------------- in a browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
AXE = "/static/vendor/axe-core/axe.min.js"


@pytest.fixture
def traveller(org: Organisation, other_org: Organisation) -> Persona:
    """A PMO Director of `org`, with a long name, who is also a member of another
    organisation: the header shows the organisation switcher, the Inbox and the account."""
    org.name = "Northwind Holdings International"
    org.save(update_fields=["name"])
    persona = make_persona(org, [OrgRole.DIRECTOR], "alexandra@acme.example")
    persona.user.full_name = "Alexandra Montgomery-Smith"
    persona.user.save(update_fields=["full_name"])
    MembershipFactory(organisation=other_org, user=persona.user, roles=[OrgRole.VIEWER])
    return persona


def header_rows(page: Any) -> int:
    """How many rows the header's items take (the brand, the menu button, the search box,
    the organisation switcher, the Inbox and the account menu)."""
    rows: int = page.evaluate(
        """() => {
          const header = document.querySelector('header');
          const items = [...header.querySelectorAll(
            '.navbar-brand, .navbar-toggler, .header-search, .header-tools > *')]
            .filter(el => el.getClientRects().length);
          const tops = [];
          for (const el of items) {
            const box = el.getBoundingClientRect();
            if (!tops.some(t => Math.abs(t - box.top) < box.height / 2)) tops.push(box.top);
          }
          return tops.length;
        }"""
    )
    return rows


def test_in_a_browser_the_header_box_searches_at_desktop_and_phone_widths(
    traveller: Persona, page: Any, live_server: Any
) -> None:
    from playwright.sync_api import expect

    from carte.conftest import log_in

    world = records(traveller.organisation)
    slug = traveller.organisation.slug
    problems = watch(page)
    log_in(page, traveller.user.email)
    for width, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.goto(f"/o/{slug}/")
        screenshot(page, f"search-header-{width}.png")
        assert header_rows(page) <= 2, f"the header takes {header_rows(page)} rows at {width}"
        assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth"), width
        box = page.get_by_role("searchbox", name=f"Search {traveller.organisation.name}")
        box.fill("resolving tickets")
        box.press("Enter")
        expect(page).to_have_url(re.compile(rf"/o/{slug}/search/\?q=resolving\+tickets$"))
        expect(page.get_by_role("heading", name="Search", exact=True)).to_be_visible()
        results = page.get_by_role("region", name=re.compile("^KPIs"))
        expect(results.get_by_role("link", name="Tickets resolved on time")).to_be_visible()
        assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth"), width
        screenshot(page, f"search-results-{width}.png")
        # The results open the record.
        results.get_by_role("link", name="Tickets resolved on time").click()
        expect(page).to_have_url(re.compile(rf"/operations/kpis/{world['kpi'].pk}/$"))
    # At phone width the header's menus open within the screen; at a tablet's width the
    # header keeps to two rows too.
    page.set_viewport_size(PHONE)
    for menu in ("details.org-switcher", "details.account-menu"):
        page.locator(f"{menu} > summary").click()
        box = page.locator(f"{menu} > .org-menu").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (menu, box)
        page.locator(f"{menu} > summary").click()
    page.set_viewport_size({"width": 800, "height": 900})
    assert header_rows(page) <= 2
    # axe-core over the results page, every kind found (and the hint), at both widths.
    for width, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        for q in ("finance", "outage", "", "a"):
            page.goto(f"/o/{slug}/search/?" + urlencode({"q": q}))
            page.add_script_tag(url=AXE)
            found_issues = page.evaluate(
                "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
            )
            blocking = [
                f"{v['id']}: {v['help']} -> {[n['target'] for n in v['nodes'][:3]]}"
                for v in found_issues
                if v["impact"] in ("critical", "serious")
            ]
            assert blocking == [], f"{width} {q!r}: {blocking}"
    assert problems == []
