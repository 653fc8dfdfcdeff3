"""A customer's search and filters read each service as last published (issue 12, item 9):
a draft's words, category, customer groups, scope, delivery, price basis or PMOs find
nothing, in the API as on the menu; staff search and filter the live rows."""

from __future__ import annotations

import importlib
from typing import Any
from urllib.parse import urlencode

import pytest
from django.apps import apps as django_apps
from django.urls import reverse

from carte.catalogue import services
from carte.catalogue.choices import ServiceRoleKind, Stage
from carte.catalogue.models import Category, Service, ServiceRole, ServiceVersion
from carte.catalogue.tests.factories import ServiceFactory, move_stage
from carte.core.errors import DomainError
from carte.core.testing import assert_constant_queries
from carte.organisations.actor import Actor
from carte.organisations.models import PMO, CustomerGroup, Organisation
from carte.organisations.tests.factories import (
    CustomerGroupFactory,
    PersonFactory,
    PMOFactory,
)

pytestmark = pytest.mark.django_db

API = "/api/v1/orgs/acme"


def system(org: Organisation) -> Actor:
    return Actor.for_system(org)


def published(org: Organisation, category: Category, group: CustomerGroup, pmo: PMO) -> Service:
    """A running service published with these words and facets, then changed in a draft:
    other words, category, customer group, scope, delivery, price basis and PMO."""
    actor = system(org)
    service = services.service_create(
        actor=actor,
        code="REP-01",
        name="Portfolio reporting",
        category=category,
        summary="A weekly dashboard",
        description="Figures for the board.",
        scopes=["portfolio"],
        delivery_mode="in_house",
        pricing_basis="free",
        delivering_pmos=[pmo],
    )
    services.part_create(actor=actor, service=service, kind="outputs", data={"name": "Scorecard"})
    services.part_create(
        actor=actor, service=service, kind="customers", data={"customer_group": group}
    )
    move_stage(service, Stage.RUNNING)
    service.refresh_from_db()
    services.service_publish(actor=actor, service=service)
    service.refresh_from_db()

    moved = services.category_create(actor=actor, name="Unpublished category")
    other_group = CustomerGroupFactory(organisation=org, name="Draft group")
    other_pmo = PMOFactory(organisation=org, name="Draft PMO")
    services.service_update(
        actor=actor,
        service=service,
        data={
            "code": "SECRET-9",
            "name": "Merger reporting",
            "summary": "Codename bluebird",
            "description": "Only in the draft.",
            "category": moved,
            "scopes": ["project"],
            "delivery_mode": "outsourced",
            "provider_name": "Acme Consulting",
            "pricing_basis": "fixed_fee",
            "price": "10.00",
            "currency": "EUR",
            "delivering_pmos": [other_pmo],
        },
    )
    services.part_create(
        actor=actor, service=service, kind="outputs", data={"name": "Confidential memo"}
    )
    services.part_create(
        actor=actor, service=service, kind="symptoms", data={"statement": "Hidden takeover"}
    )
    services.part_create(
        actor=actor, service=service, kind="customers", data={"customer_group": other_group}
    )
    return service


@pytest.fixture
def world(org: Organisation) -> dict[str, Any]:
    category = services.category_create(actor=system(org), name="Reporting")
    group = CustomerGroupFactory(organisation=org, name="Finance")
    pmo = PMOFactory(organisation=org, name="Central PMO")
    service = published(org, category, group, pmo)
    return {
        "service": service,
        "category": category,
        "group": group,
        "pmo": pmo,
        "draft_category": Category.objects.get(name="Unpublished category"),
        "draft_group": CustomerGroup.objects.get(name="Draft group"),
        "draft_pmo": PMO.objects.get(name="Draft PMO"),
    }


DRAFT_WORDS = ("merger", "bluebird", "Only in the draft", "Confidential memo", "takeover", "SECRET")
PUBLISHED_WORDS = ("Portfolio", "WEEKLY DASHBOARD", "for the board", "scorecard", "rep-01")


def api_codes(persona: Any, **params: Any) -> list[str]:
    response = persona.api.get(f"{API}/services?{urlencode(params)}")
    assert response.status_code == 200, response.content
    return [row["code"] for row in response.json()["items"]]


def menu_html(persona: Any, org: Organisation, **params: Any) -> str:
    """The menu's results (the htmx partial: without the filters' options)."""
    response = persona.client.get(
        reverse("catalogue", args=[org.slug]), params, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    return str(response.content.decode())


# ---------------------------------------------------------------- words


def test_a_customer_finds_a_service_by_its_published_words_only_in_the_api(customer, world):
    for word in DRAFT_WORDS:
        assert api_codes(customer, q=word) == [], word
    for word in PUBLISHED_WORDS:
        assert api_codes(customer, q=word) == ["REP-01"], word


def test_a_customer_finds_a_service_by_its_published_words_only_on_the_menu(customer, org, world):
    for word in DRAFT_WORDS:
        assert "Portfolio reporting" not in menu_html(customer, org, q=word), word
    for word in PUBLISHED_WORDS:
        assert "Portfolio reporting" in menu_html(customer, org, q=word), word


def test_staff_search_the_live_words(director, org, world):
    for word in DRAFT_WORDS:
        assert api_codes(director, q=word) == ["SECRET-9"], word
        assert "Merger reporting" in menu_html(director, org, q=word), word
    assert api_codes(director, q="dashboard") == []


def test_a_republished_service_is_found_by_its_new_words(customer, org, world):
    services.service_publish(actor=system(org), service=world["service"])
    assert api_codes(customer, q="bluebird") == ["SECRET-9"]
    assert api_codes(customer, q="dashboard") == []


# ---------------------------------------------------------------- facets


def facets(world: dict[str, Any], which: str) -> list[dict[str, Any]]:
    """The filters of the published card (`which="published"`) or of the draft."""
    if which == "published":
        return [
            {"category": world["category"].pk},
            {"customer_group": world["group"].pk},
            {"scope": "portfolio"},
            {"delivery_mode": "in_house"},
            {"pricing_basis": "free"},
            {"pmo": world["pmo"].pk},
        ]
    return [
        {"category": world["draft_category"].pk},
        {"customer_group": world["draft_group"].pk},
        {"scope": "project"},
        {"delivery_mode": "outsourced"},
        {"pricing_basis": "fixed_fee"},
        {"pmo": world["draft_pmo"].pk},
    ]


def test_a_customer_filters_by_the_published_facets(customer, org, world):
    for params in facets(world, "draft"):
        assert api_codes(customer, **params) == [], params
        assert "Portfolio reporting" not in menu_html(customer, org, **params), params
    for params in facets(world, "published"):
        assert api_codes(customer, **params) == ["REP-01"], params
        assert "Portfolio reporting" in menu_html(customer, org, **params), params


def test_staff_filter_by_the_live_facets(director, org, world):
    for params in facets(world, "draft"):
        assert api_codes(director, **params) == ["SECRET-9"], params
    # The link to the published group is still live; the others moved.
    for params in facets(world, "published"):
        expected = ["SECRET-9"] if "customer_group" in params else []
        assert api_codes(director, **params) == expected, params


def test_a_customer_sees_the_code_category_and_pmos_as_published(customer, org, world):
    (row,) = customer.api.get(f"{API}/services").json()["items"]
    assert row["code"] == "REP-01"
    assert (row["category_id"], row["category_name"]) == (world["category"].pk, "Reporting")
    assert [p["name"] for p in row["delivering_pmos"]] == ["Central PMO"]
    html = menu_html(customer, org)
    assert "Reporting" in html and "Unpublished category" not in html
    assert "SECRET-9" not in html
    counts = {
        c["name"]: c["service_count"] for c in customer.api.get(f"{API}/categories").json()["items"]
    }
    assert counts == {"Reporting": 1, "Unpublished category": 0}


def test_a_customer_sorts_by_the_published_card(customer, org, world):
    actor = system(org)
    other = services.service_create(
        actor=actor, code="AAA-01", name="Next", category=world["category"]
    )
    move_stage(other, Stage.RUNNING)
    other.refresh_from_db()
    services.service_publish(actor=actor, service=other)
    # Live, SECRET-9 sorts after AAA-01 and "Merger" before "Next"; as published, not.
    assert api_codes(customer, ordering="code") == ["AAA-01", "REP-01"]
    assert api_codes(customer, ordering="name") == ["AAA-01", "REP-01"]
    assert api_codes(customer, ordering="-name") == ["REP-01", "AAA-01"]


def test_lists_with_filters_keep_their_query_count(customer, org, world):
    params = {"q": "report", "scope": "portfolio", "pmo": world["pmo"].pk, "ordering": "name"}

    def grow() -> None:
        for i in range(3):
            _another(org, world, i)

    path = f"{API}/services?{urlencode(params)}"
    assert_constant_queries(lambda: customer.api.get(path), grow)
    assert api_codes(customer, **params)[:1] == ["REP-01"]
    assert_constant_queries(
        lambda: customer.client.get(reverse("catalogue", args=[org.slug]), params),
        lambda: _another(org, world, 9),
    )


def _another(org: Organisation, world: dict[str, Any], i: int) -> None:
    """One more running service published with the world's facets and a PMO."""
    actor = system(org)
    service = services.service_create(
        actor=actor,
        code=f"REP-{i + 10}",
        name=f"Reporting {i}",
        category=world["category"],
        scopes=["portfolio"],
        delivering_pmos=[world["pmo"]],
    )
    move_stage(service, Stage.RUNNING)
    service.refresh_from_db()
    services.service_publish(actor=actor, service=service)


# ---------------------------------------------------------------- the migration


def test_the_migration_fills_existing_versions_from_their_snapshots(org, world):
    migration = importlib.import_module(
        "carte.catalogue.migrations.0004_serviceversion_published_facets"
    )
    version = ServiceVersion.objects.get(service=world["service"])
    expected = (
        version.search_text,
        version.category_id,
        version.scopes,
        version.delivery_mode,
        version.pricing_basis,
        set(version.customer_groups.all()),
        set(version.delivering_pmos.all()),
    )
    ServiceVersion.objects.filter(pk=version.pk).update(
        search_text="", category=None, scopes=[], delivery_mode="", pricing_basis=""
    )
    version.customer_groups.clear()
    version.delivering_pmos.clear()

    migration.fill_facets(django_apps, None)

    version.refresh_from_db()
    assert "portfolio reporting" in version.search_text and "scorecard" in version.search_text
    assert (
        version.search_text,
        version.category_id,
        version.scopes,
        version.delivery_mode,
        version.pricing_basis,
        set(version.customer_groups.all()),
        set(version.delivering_pmos.all()),
    ) == expected


# ---------------------------------------------------------------- a part's update


def test_a_part_update_checks_the_row_as_stored_not_as_the_caller_read_it(org):
    """A role read as an Operative, made a Service Manager since: moving it to a PMO that
    does not deliver the service is refused, as it would be on a fresh read."""
    actor = system(org)
    delivering = PMOFactory(organisation=org)
    elsewhere = PMOFactory(organisation=org)
    service = ServiceFactory(organisation=org)
    services.service_update(actor=actor, service=service, data={"delivering_pmos": [delivering]})
    person = PersonFactory(organisation=org)
    role = services.part_create(
        actor=actor,
        service=service,
        kind="roles",
        data={"person": person, "role": ServiceRoleKind.OPERATIVE},
    )
    stale = ServiceRole.objects.get(pk=role.pk)
    services.part_update(
        actor=actor,
        part=ServiceRole.objects.get(pk=role.pk),
        data={"role": ServiceRoleKind.MANAGER, "pmo": delivering},
    )
    with pytest.raises(DomainError) as refused:
        services.part_update(actor=actor, part=stale, data={"pmo": elsewhere})
    assert refused.value.errors == {"pmo": ["This PMO does not deliver the service."]}
    assert ServiceRole.objects.get(pk=role.pk).pmo_id == delivering.pk


def test_a_customer_reads_the_service_page_and_its_date_as_published(customer, org, world):
    """The page's title (code, category) and the list's `updated_at` are the published
    version's: a draft's code, category or the time of its last edit are not shown."""
    service = world["service"]
    html = customer.client.get(reverse("service_detail", args=[org.slug, service.pk])).content
    page = html.decode()
    assert "REP-01" in page and "SECRET-9" not in page
    assert "Unpublished category" not in page
    (row,) = customer.api.get(f"{API}/services").json()["items"]
    version = ServiceVersion.objects.get(service=service)
    assert row["code"] == "REP-01"
    assert row["updated_at"][:19] == version.published_at.isoformat()[:19]
    assert service.updated_at > version.published_at
